/* What every trainer (distance, dynamics) shares: the run folder, the log, checkpoints, resume, the
 * NaN guard and cancellation. The trainer supplies a step function and a checkpoint writer; this
 * file owns the loop around them.
 *
 * Run folder layout:
 *   config.json                 every hyperparameter and the dataset's identity (written once)
 *   log.jsonl                   one JSON object per logged step:
 * {"step":..,"<loss>":..,"steps_per_s":..} checkpoint-00001234.safetensors   the full training
 * state at step 1234 (latest only) state.json                  {"step": 1234, "checkpoint":
 * "checkpoint-00001234.safetensors"} Every file is written atomically; state.json is replaced only
 * after its checkpoint is on disk, and the previous checkpoint is deleted only after that, so a
 * crash at any moment leaves a run that resumes from the last complete checkpoint. On resume, log
 * lines after that checkpoint's step are dropped so that the log of a resumed run equals an
 * uninterrupted one. */
#ifndef TRAIN_RUN_H
#define TRAIN_RUN_H

#include "mb_job.h"
#include "mb_json.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct train_run {
  char *dir;        /* run folder (owned) */
  FILE *log;        /* log.jsonl, open for appending */
  int64_t step;     /* steps completed at the last checkpoint (0 for a new run) */
  char *checkpoint; /* full path of the last checkpoint, NULL if none yet (owned) */
} train_run;

/* Starts a new run: creates the folder, writes config.json (the caller's JSON text) and an empty
 * log. Refuses a folder that already holds a run ("use --resume or another --out"). */
bool train_run_create(train_run *r, const char *dir, const char *config_json, char *err,
                      size_t err_sz);
/* Reopens a run for resuming: reads state.json (a run without a checkpoint resumes from step 0) and
 * trims the log to the checkpoint's step. The caller compares the run's config (train_run_config)
 * with what it was asked to do before going on. */
bool train_run_resume(train_run *r, const char *dir, char *err, size_t err_sz);
void train_run_close(train_run *r);

/* The parsed config.json of a run folder (caller frees with mb_json_free), or NULL with err. */
mb_json *train_run_config(const char *dir, char *err, size_t err_sz);
/* The full path of a run folder's latest checkpoint (caller frees), or NULL with err naming what is
 * missing ("no run in FOLDER", "run has no checkpoint yet"). */
char *train_run_latest_checkpoint(const char *dir, int64_t *step, char *err, size_t err_sz);

/* Appends one line to log.jsonl. */
bool train_run_log(train_run *r, const char *json_line, char *err, size_t err_sz);

/* Writes the checkpoint of `step` through write(user, path) (which must write `path` completely or
 * fail), then records it in state.json and deletes the previous one. */
typedef bool (*train_write_fn)(void *user, const char *path, char *err, size_t err_sz);
bool train_run_checkpoint(train_run *r, int64_t step, train_write_fn write, void *user, char *err,
                          size_t err_sz);

/* ---- the loop -------------------------------------------------------------------------------- */

#define TRAIN_MAX_LOSSES 8

typedef struct train_loop {
  int64_t total_steps;  /* train until this step count */
  int log_every;        /* a log line every this many steps (>= 1) */
  int checkpoint_every; /* a checkpoint every this many steps (>= 1); always one at the end */
  int eval_every;       /* call evaluate every this many steps (0 = never) */
  int n_losses;         /* scalars the step reports */
  const char *loss_names[TRAIN_MAX_LOSSES]; /* their names in the log, e.g. "bellman" */
  /* One optimisation step number `step` (1-based); fills losses[0 .. n_losses). The step must be a
   * pure function of (the state, step), e.g. random numbers keyed by the step, so that resuming
   * reproduces an uninterrupted run. */
  bool (*step)(void *user, int64_t step, float *losses, char *err, size_t err_sz);
  /* Optional: adds validation metrics as key/values into the open log object. */
  bool (*evaluate)(void *user, int64_t step, mb_jw *w, char *err, size_t err_sz);
  train_write_fn save; /* writes the full training state */
  void *user;          /* passed to the callbacks */
} train_loop;

typedef enum train_result {
  TRAIN_DONE,      /* reached total_steps; checkpoint written */
  TRAIN_CANCELLED, /* hooks->cancel was set; checkpoint of the last completed step written */
  TRAIN_DIVERGED,  /* a loss became NaN/Inf; nothing saved after the last good checkpoint */
  TRAIN_FAILED,    /* an error (I/O, the step failed); err says what */
} train_result;

/* Runs steps r->step + 1 .. total_steps with progress (in steps, with the latest losses as detail)
 * and log lines to hooks. Returns how it ended; err describes anything but TRAIN_DONE. */
train_result train_loop_run(train_run *r, const train_loop *loop, const mb_job_hooks *hooks,
                            char *err, size_t err_sz);

#endif
