/* Terminal progress for long work: a redrawn bar with rate and ETA on a terminal, a plain line
 * every few seconds otherwise (logs, CI). Implements mb_job_hooks.progress. */
#ifndef APP_PROGRESS_H
#define APP_PROGRESS_H

#include "mb_job.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct app_progress {
  const char *label; /* e.g. "collect push1" */
  const char *unit;  /* e.g. "episodes" */
  double t_start;    /* when started */
  double t_last;     /* when last printed */
  int64_t done0;     /* units already done at start (resume): excluded from the rate */
  bool tty;          /* stderr is a terminal */
  bool json;         /* MBOLD_PROGRESS=json: one JSON object per line for a supervising program */
  bool printed;      /* a bar is on screen (needs a newline at the end) */
} app_progress;

void app_progress_init(app_progress *p, const char *label, const char *unit);
/* The mb_job_hooks.progress callback; user is an app_progress*. Thread-safe enough for one worker.
 */
void app_progress_cb(void *user, int64_t done, int64_t total, const char *detail);
/* The mb_job_hooks.log callback: in JSON mode, forwards the trainer's log line as
 * {"log": {...}} on stderr (the workbench draws loss curves from it); otherwise silent. */
void app_progress_log_cb(void *user, const char *json_line);
/* Ends the bar with a newline. */
void app_progress_finish(app_progress *p);
/* Formats seconds as "1h02m", "3m05s" or "12.3s". */
void app_format_duration(double seconds, char *out, size_t out_sz);

#endif
