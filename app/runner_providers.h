/* The runner's pluggable parts: what predicts frames (oracle simulator or learned model) and what
 * scores them (pixel l2, Q distance, regression). Each provider wraps one implementation behind
 * the cem_dynamics / cem_cost interfaces with the little extra the episode needs (the context of a
 * replan, the goal). */
#ifndef APP_RUNNER_PROVIDERS_H
#define APP_RUNNER_PROVIDERS_H

#include "runner.h"

/* What a replan starts from. */
typedef struct app_dyn_context {
  const double *state;   /* full simulator state (oracle) */
  int state_size;        /* its length */
  const uint8_t *frames; /* observed frames 0..step, 64x64x3 each (learned models use the last) */
  int step;              /* index of the current frame in frames */
} app_dyn_context;

typedef struct app_dyn_provider {
  cem_dynamics dyn; /* what CEM calls */
  bool (*begin)(void *self, const app_dyn_context *ctx, char *err, size_t err_sz);
  /* True end-effector paths (n x (horizon + 1) x 3) of action sequences from the replan's start;
   * NULL when the dynamics cannot tell (learned models predict pixels only). */
  bool (*ee_paths)(void *self, const float *actions, int n, int horizon, float *paths, char *err,
                   size_t err_sz);
  void (*destroy)(void *self); /* frees self */
  void *self;                  /* implementation state */
} app_dyn_provider;

typedef struct app_cost_provider {
  cem_cost cost; /* what CEM calls */
  bool (*set_goal)(void *self, const uint8_t *goal, char *err, size_t err_sz);
  void (*destroy)(void *self); /* frees self */
  void *self;                  /* implementation state */
} app_cost_provider;

bool app_dyn_provider_make(app_dyn_provider *p, const app_runner_config *cfg, const sim_model *m,
                           char *err, size_t err_sz);
bool app_cost_provider_make(app_cost_provider *p, const app_runner_config *cfg, char *err,
                            size_t err_sz);

#endif
