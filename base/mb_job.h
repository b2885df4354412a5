/* How long-running work (collection, training, evaluation, heatmaps) reports progress and is
 * cancelled, without knowing whether a terminal progress bar (app/progress.c) or a GUI job panel is
 * listening. The worker calls the hooks from its own thread; listeners must be thread-safe. */
#ifndef MB_JOB_H
#define MB_JOB_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct mb_job_hooks {
  /* Called now and then with work done of total (units chosen by the worker: episodes, steps),
   * and a short detail such as "loss 0.031". May be NULL. */
  void (*progress)(void *user, int64_t done, int64_t total, const char *detail);
  /* Called with one JSON object per logged step (the same line that goes to log.jsonl). May be
   * NULL. */
  void (*log)(void *user, const char *json_line);
  void *user;               /* passed to the callbacks */
  const atomic_int *cancel; /* may be NULL; when it reads non-zero the worker saves and returns */
  const atomic_int *pause;  /* may be NULL; while non-zero the worker sleeps between units */
} mb_job_hooks;

static inline int mb_job_cancelled(const mb_job_hooks *h) {
  return h && h->cancel && atomic_load(h->cancel);
}

static inline void mb_job_progress(const mb_job_hooks *h, int64_t done, int64_t total,
                                   const char *detail) {
  if (h && h->progress) h->progress(h->user, done, total, detail);
}

static inline void mb_job_log(const mb_job_hooks *h, const char *json_line) {
  if (h && h->log) h->log(h->user, json_line);
}

/* Sleeps while paused (polling cancel). Returns non-zero if cancelled. */
int mb_job_wait_if_paused(const mb_job_hooks *h);

#endif
