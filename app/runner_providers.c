#include "runner_providers.h"

#include "cost_pixel.h"
#include "dist_cost.h"
#include "dyn_plan.h"
#include "mb_err.h"
#include "sim_oracle.h"

#include <stdlib.h>
#include <string.h>

/* ---- oracle dynamics: roll out in copies of the true simulator ---------------------------------
 */

typedef struct oracle_dyn {
  sim_oracle *oracle; /* thread pool with worlds and renderers */
  double *state;      /* start state of the current replan */
  int state_size;     /* its length */
} oracle_dyn;

static bool oracle_predict(void *user, const float *actions, int n, int horizon,
                           uint8_t *final_frames, uint8_t *all_frames, char *err, size_t err_sz) {
  oracle_dyn *o = user;
  sim_oracle_request req = {
      .start_state = o->state,
      .state_size = o->state_size,
      .actions = actions,
      .n = n,
      .horizon = horizon,
      .final_frames = final_frames,
      .all_frames = all_frames,
  };
  return sim_oracle_rollout(o->oracle, &req, err, err_sz);
}

static bool oracle_ee_paths(void *self, const float *actions, int n, int horizon, float *paths,
                            char *err, size_t err_sz) {
  oracle_dyn *o = self;
  sim_oracle_request req = {
      .start_state = o->state,
      .state_size = o->state_size,
      .actions = actions,
      .n = n,
      .horizon = horizon,
      .ee_paths = paths,
  };
  return sim_oracle_rollout(o->oracle, &req, err, err_sz);
}

static bool oracle_begin(void *self, const app_dyn_context *ctx, char *err, size_t err_sz) {
  oracle_dyn *o = self;
  if (ctx->state_size != o->state_size)
    return mb_fail(err, err_sz, "oracle: state of %d values, expected %d", ctx->state_size,
                   o->state_size);
  memcpy(o->state, ctx->state, sizeof(double) * (size_t)o->state_size);
  return true;
}

static void oracle_destroy(void *self) {
  oracle_dyn *o = self;
  if (!o) return;
  sim_oracle_free(o->oracle);
  free(o->state);
  free(o);
}

static bool make_oracle(app_dyn_provider *p, const app_runner_config *cfg, const sim_model *m,
                        char *err, size_t err_sz) {
  oracle_dyn *o = calloc(1, sizeof *o);
  if (!o) return mb_fail(err, err_sz, "out of memory");
  o->state_size = sim_model_state_size(m);
  o->state = calloc((size_t)o->state_size, sizeof(double));
  o->oracle = sim_oracle_create(m, cfg->oracle_threads > 0 ? cfg->oracle_threads : 1, err, err_sz);
  if (!o->state || !o->oracle) {
    oracle_destroy(o);
    return false;
  }
  p->dyn.predict = oracle_predict;
  p->dyn.user = o;
  p->begin = oracle_begin;
  p->ee_paths = oracle_ee_paths;
  p->destroy = oracle_destroy;
  p->self = o;
  return true;
}

/* ---- learned dynamics: the video model of a dynamics run (compute/dyn_plan.h) ------------------
 */

typedef struct learned_dyn {
  cmp_ctx *ctx;         /* backend of the model (owned) */
  dyn_planner *planner; /* model and activations for one CEM iteration (owned) */
} learned_dyn;

static bool learned_begin(void *self, const app_dyn_context *ctx, char *err, size_t err_sz) {
  learned_dyn *l = self;
  (void)err, (void)err_sz;
  /* The current frame, and the one before it for a two-frame model (none at the start). */
  const uint8_t *cur = ctx->frames + (size_t)ctx->step * SIM_IMAGE_BYTES;
  dyn_planner_set_context(l->planner, cur, ctx->step > 0 ? cur - SIM_IMAGE_BYTES : NULL);
  return true;
}

static void learned_destroy(void *self) {
  learned_dyn *l = self;
  if (!l) return;
  dyn_planner_destroy(l->planner);
  cmp_destroy(l->ctx);
  free(l);
}

static bool make_learned(app_dyn_provider *p, const app_runner_config *cfg, char *err,
                         size_t err_sz) {
  if (!cfg->dynamics_run) return mb_fail(err, err_sz, "learned dynamics: no --dynamics run given");
  learned_dyn *l = calloc(1, sizeof *l);
  if (!l) return mb_fail(err, err_sz, "out of memory");
  if (!(l->ctx = cmp_create(cfg->backend, NULL, NULL, 0, err, err_sz)) ||
      !(l->planner = dyn_planner_load(l->ctx, cfg->dynamics_run, cfg->cem.samples, cfg->cem.horizon,
                                      err, err_sz))) {
    learned_destroy(l);
    return false;
  }
  p->dyn = dyn_planner_dynamics(l->planner);
  p->begin = learned_begin;
  p->ee_paths = NULL;
  p->destroy = learned_destroy;
  p->self = l;
  return true;
}

bool app_dyn_provider_make(app_dyn_provider *p, const app_runner_config *cfg, const sim_model *m,
                           char *err, size_t err_sz) {
  memset(p, 0, sizeof *p);
  switch (cfg->dynamics) {
    case APP_DYNAMICS_ORACLE:
      return make_oracle(p, cfg, m, err, err_sz);
    case APP_DYNAMICS_LEARNED:
      return make_learned(p, cfg, err, err_sz);
  }
  return mb_fail(err, err_sz, "unknown dynamics");
}

/* ---- pixel cost -------------------------------------------------------------------------------
 */

typedef struct pixel_cost {
  uint8_t goal[SIM_IMAGE_BYTES]; /* the goal image */
} pixel_cost;

static bool pixel_set_goal(void *self, const uint8_t *goal, char *err, size_t err_sz) {
  (void)err, (void)err_sz;
  memcpy(((pixel_cost *)self)->goal, goal, SIM_IMAGE_BYTES);
  return true;
}

static bool make_pixel(app_cost_provider *p, char *err, size_t err_sz) {
  pixel_cost *c = calloc(1, sizeof *c);
  if (!c) return mb_fail(err, err_sz, "out of memory");
  p->cost = cost_pixel_make(c->goal);
  p->set_goal = pixel_set_goal;
  p->destroy = free;
  p->self = c;
  return true;
}

/* ---- learned distances: Q-function (MBOLD) and temporal regression (compute/dist_cost.h) ------
 */

typedef struct learned_cost {
  cmp_ctx *ctx;    /* backend of the networks (owned) */
  dist_cost *dist; /* the networks of the run's latest checkpoint (owned) */
} learned_cost;

static bool learned_set_goal(void *self, const uint8_t *goal, char *err, size_t err_sz) {
  (void)err, (void)err_sz;
  dist_cost_set_goal(((learned_cost *)self)->dist, goal);
  return true;
}

static void learned_cost_destroy(void *self) {
  learned_cost *l = self;
  if (!l) return;
  dist_cost_destroy(l->dist);
  cmp_destroy(l->ctx);
  free(l);
}

static bool make_learned_cost(app_cost_provider *p, const app_runner_config *cfg, char *err,
                              size_t err_sz) {
  if (!cfg->distance_run)
    return mb_fail(err, err_sz, "%s cost: no distance run given (--distance RUN)",
                   app_cost_name(cfg->cost));
  learned_cost *l = calloc(1, sizeof *l);
  if (!l) return mb_fail(err, err_sz, "out of memory");
  int method = cfg->cost == APP_COST_Q ? DIST_METHOD_Q : DIST_METHOD_REGRESSION;
  if (!(l->ctx = cmp_create(cfg->backend, NULL, NULL, 0, err, err_sz)) ||
      !(l->dist =
            dist_cost_load(l->ctx, cfg->distance_run, method, cfg->cem.samples, err, err_sz))) {
    learned_cost_destroy(l);
    return false;
  }
  p->cost = dist_cost_cem(l->dist);
  p->set_goal = learned_set_goal;
  p->destroy = learned_cost_destroy;
  p->self = l;
  return true;
}

bool app_cost_provider_make(app_cost_provider *p, const app_runner_config *cfg, char *err,
                            size_t err_sz) {
  memset(p, 0, sizeof *p);
  switch (cfg->cost) {
    case APP_COST_PIXEL:
      return make_pixel(p, err, err_sz);
    case APP_COST_Q:
    case APP_COST_REGRESSION:
      return make_learned_cost(p, cfg, err, err_sz);
  }
  return mb_fail(err, err_sz, "unknown cost");
}
