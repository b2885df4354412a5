/* The video model as the planner's dynamics (cem.h's cem_dynamics): the context is encoded once per
 * replan (dyn_planner_set_context), then every predict call rolls all candidates out in one batched
 * pass and decodes only the final frames (and, when the planner asks, every frame of the few
 * sequences it publishes). */
#ifndef DYN_PLAN_H
#define DYN_PLAN_H

#include "cem.h"
#include "dyn_model.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct dyn_planner {
  dyn_model *model;  /* weights (owned when loaded from a run) */
  bool owns_model;   /* destroy the model with the planner */
  dyn_data *data;    /* activations for max_samples rollouts (owned) */
  int max_samples;   /* rollouts per batched pass; more are done in passes of this size */
  int horizon;       /* longest action sequence allocated for (grows on demand) */
  bool has_context;  /* a context has been encoded */
  float *actions_tm; /* (horizon x max_samples x 4) time-major staging (owned) */
  uint8_t context[DYN_MAX_CONTEXT * DYN_FRAME_BYTES]; /* the context frames, oldest first */
  uint8_t *frames;      /* (max_samples x 64 x 64 x 3) staging (owned) */
  char checkpoint[512]; /* the checkpoint loaded, "" when built from a model */
  int64_t step;         /* its training step */
} dyn_planner;

/* The model of a training run folder's latest checkpoint, without gradients, on ctx (caller
 * destroys it). step and checkpoint (may be NULL) receive its training step and path. NULL with err
 * naming the folder or file and what is wrong (no run, no checkpoint yet, not a dynamics run, a
 * damaged checkpoint). */
dyn_model *dyn_model_load_run(cmp_ctx *ctx, const char *run_dir, int64_t *step, char *checkpoint,
                              size_t checkpoint_sz, char *err, size_t err_sz);

/* A planner over a model the caller keeps (not owned; must outlive the planner). */
dyn_planner *dyn_planner_create(dyn_model *model, int max_samples, int horizon);
/* Loads the latest checkpoint of a training run folder (`mbold train dynamics --out RUN`) onto
 * ctx. NULL with err naming the folder or file and what is wrong (no run, no checkpoint yet, not a
 * dynamics run, a damaged checkpoint). */
dyn_planner *dyn_planner_load(cmp_ctx *ctx, const char *run_dir, int max_samples, int horizon,
                              char *err, size_t err_sz);
void dyn_planner_destroy(dyn_planner *p); /* NULL is fine */

/* The observation to plan from: the current frame and, for a two-frame model, the previous one
 * (NULL at the start of an episode: the current frame is used twice). uint8 64 x 64 x 3 each,
 * copied. Encodes at once. */
void dyn_planner_set_context(dyn_planner *p, const uint8_t *current, const uint8_t *previous);

/* The cem_dynamics over this planner (p must outlive it). predict fails (err) without a context; a
 * horizon longer than the planner's makes it reallocate its activations once (a settings change).
 */
cem_dynamics dyn_planner_dynamics(dyn_planner *p);

/* The same as calling the cem_dynamics: n action sequences (n x horizon x 4, row-major) ->
 * final_frames (n x 64 x 64 x 3) and, when all_frames is non-NULL, frames 1..horizon of each
 * (n x horizon x 64 x 64 x 3). */
bool dyn_planner_predict(dyn_planner *p, const float *actions, int n, int horizon,
                         uint8_t *final_frames, uint8_t *all_frames, char *err, size_t err_sz);

/* ---- timing (mbold bench plan's learned-dynamics line) ----------------------------------------
 */

typedef struct dyn_bench_result {
  int samples, horizon; /* what was timed: samples x horizon steps, final frames decoded */
  int reps;             /* timed repetitions */
  double ms_best;       /* fastest predict call */
  double ms_median;     /* median predict call */
  double ms_context;    /* encoding the context (once per replan), best */
  double cpu_ms_median; /* process CPU time of the median call (all threads): on a shared
                           machine, this over the thread count is what an idle one would take */
  double gflop;         /* work of one predict call (dyn_model_flops) */
  char model[600];      /* "untrained, latent 32" or the checkpoint path */
} dyn_bench_result;

/* Times dyn_planner_predict for `samples` candidates of `horizon` random actions from one random
 * context, final frames only: the model of run_dir's latest checkpoint, or (run_dir NULL) an
 * untrained model of the default architecture, which costs the same. reps >= 1 timed calls after a
 * warm-up. */
bool dyn_bench_rollout(cmp_ctx *ctx, const char *run_dir, int samples, int horizon, int reps,
                       dyn_bench_result *out, char *err, size_t err_sz);

#endif
