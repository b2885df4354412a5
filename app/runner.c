#include "runner.h"
#include "runner_providers.h"

#include "cost_pixel.h"
#include "mb_clock.h"
#include "mb_err.h"
#include "sim_oracle.h"

#include <stdlib.h>
#include <string.h>

struct app_runner {
  app_runner_config cfg;               /* as created (run paths owned below) */
  char *dynamics_run;                  /* owned copy */
  char *distance_run;                  /* owned copy */
  sim_model *model;                    /* the scene (owned) */
  sim_world *world;                    /* the true environment (owned) */
  sim_renderer *renderer;              /* agent view of the true environment (owned) */
  int state_size;                      /* doubles per full state */
  app_dyn_provider dyn;                /* what predicts frames */
  app_cost_provider cost;              /* what scores them */
  cem_state *cem;                      /* planner state (warm start, plan) */
  int actions_per_plan;                /* executed per replan */
  uint8_t goal_image[SIM_IMAGE_BYTES]; /* the goal */
  bool have_goal_pos;                  /* goal_pos is known */
  sim_positions goal_pos;              /* true goal positions */
  int target;                          /* object the goal is about (-1: any / reach) */
  int step;                            /* actions executed */
  int plan_used;                       /* actions of the current plan executed */
  bool have_plan;                      /* a replan happened since the last start */
  uint8_t *frames;                     /* (episode_steps + 1) x 64 x 64 x 3 */
  float *ee;                           /* (episode_steps + 1) x 3 */
  app_step_record *records;            /* episode_steps */
  double plan_seconds;                 /* total replanning time */
  int replans;                         /* replans this episode */
  cem_dynamics to_end;  /* dyn, scoring the frame at the episode's end when that comes first */
  float *short_actions; /* (samples x horizon x act_dim) scratch for to_end */
};

/* Near the end of the episode a plan's last actions would never be executed: the frame that
 * matters is the one after the episode's last action. This wrapper predicts only the actions that
 * will still run and returns that frame as the "final" frame, so the last replans optimise the
 * episode's outcome. (Frames for display, all_frames, are still predicted over the whole horizon.)
 */
static bool predict_to_episode_end(void *user, const float *actions, int n, int horizon,
                                   uint8_t *final_frames, uint8_t *all_frames, char *err,
                                   size_t err_sz) {
  app_runner *r = user;
  int left = r->cfg.episode_steps - r->step;
  if (!r->cfg.score_at_episode_end || all_frames || left >= horizon || left < 1)
    return r->dyn.dyn.predict(r->dyn.dyn.user, actions, n, horizon, final_frames, all_frames, err,
                              err_sz);
  int a = r->cem->p.act_dim;
  for (int i = 0; i < n; i++)
    memcpy(r->short_actions + (size_t)i * left * a, actions + (size_t)i * horizon * a,
           sizeof(float) * (size_t)left * a);
  return r->dyn.dyn.predict(r->dyn.dyn.user, r->short_actions, n, left, final_frames, NULL, err,
                            err_sz);
}

bool app_dynamics_parse(const char *s, app_dynamics_kind *out) {
  if (!s) return false;
  if (!strcmp(s, "oracle"))
    *out = APP_DYNAMICS_ORACLE;
  else if (!strcmp(s, "learned"))
    *out = APP_DYNAMICS_LEARNED;
  else
    return false;
  return true;
}

bool app_cost_parse(const char *s, app_cost_kind *out) {
  if (!s) return false;
  if (!strcmp(s, "pixel"))
    *out = APP_COST_PIXEL;
  else if (!strcmp(s, "q"))
    *out = APP_COST_Q;
  else if (!strcmp(s, "regression"))
    *out = APP_COST_REGRESSION;
  else
    return false;
  return true;
}

const char *app_cost_name(app_cost_kind k) {
  switch (k) {
    case APP_COST_PIXEL:
      return "pixel";
    case APP_COST_Q:
      return "q";
    case APP_COST_REGRESSION:
      return "regression";
  }
  return "?";
}

const char *app_dynamics_name(app_dynamics_kind k) {
  return k == APP_DYNAMICS_ORACLE ? "oracle" : "learned";
}

app_runner_config app_runner_default_config(sim_task task, const char *assets_dir) {
  app_runner_config c;
  memset(&c, 0, sizeof c);
  c.task = task;
  c.assets_dir = assets_dir;
  c.dynamics = APP_DYNAMICS_ORACLE;
  c.cost = APP_COST_PIXEL;
  c.backend = CMP_BACKEND_AUTO;
  const sim_task_info *info = sim_task_get(task);
  c.cem = cem_default_params(info ? info->policy_std : (const float[4]){0.6f, 0.6f, 0.3f, 0.3f},
                             SIM_ACTION_DIM);
  c.actions_per_plan = 6;
  c.episode_steps = SIM_EPISODE_STEPS;
  c.oracle_threads = 2;
  c.seed = 1;
  c.score_at_episode_end = true;
  return c;
}

void app_runner_free(app_runner *r) {
  if (!r) return;
  if (r->dyn.destroy) r->dyn.destroy(r->dyn.self);
  if (r->cost.destroy) r->cost.destroy(r->cost.self);
  cem_state_destroy(r->cem);
  sim_renderer_free(r->renderer);
  sim_world_free(r->world);
  sim_model_free(r->model);
  free(r->frames);
  free(r->ee);
  free(r->records);
  free(r->short_actions);
  free(r->dynamics_run);
  free(r->distance_run);
  free(r);
}

app_runner *app_runner_create(const app_runner_config *cfg, char *err, size_t err_sz) {
  if (cfg->episode_steps < 1 || cfg->episode_steps > 1000)
    return mb_fail_null(err, err_sz, "episode length %d out of range 1..1000", cfg->episode_steps);
  if (cfg->actions_per_plan < 1 || cfg->actions_per_plan > cfg->cem.horizon)
    return mb_fail_null(err, err_sz, "actions per plan must be in 1..horizon (got %d, horizon %d)",
                        cfg->actions_per_plan, cfg->cem.horizon);
  if (!cem_params_check(&cfg->cem, err, err_sz)) return NULL;
  app_runner *r = calloc(1, sizeof *r);
  if (!r) return mb_fail_null(err, err_sz, "out of memory");
  r->cfg = *cfg;
  r->dynamics_run = cfg->dynamics_run ? strdup(cfg->dynamics_run) : NULL;
  r->distance_run = cfg->distance_run ? strdup(cfg->distance_run) : NULL;
  r->cfg.dynamics_run = r->dynamics_run;
  r->cfg.distance_run = r->distance_run;
  r->actions_per_plan = cfg->actions_per_plan;
  r->target = -1;
  r->model = sim_model_load(cfg->task, cfg->assets_dir, err, err_sz);
  if (!r->model) goto fail;
  r->world = sim_world_create(r->model, err, err_sz);
  if (!r->world) goto fail;
  r->renderer = sim_renderer_create(r->model, SIM_IMAGE_SIZE, SIM_IMAGE_SIZE, 1, SIM_QUALITY_AGENT,
                                    err, err_sz);
  if (!r->renderer) goto fail;
  r->state_size = sim_model_state_size(r->model);
  r->cem = cem_state_create(&cfg->cem);
  r->frames = malloc((size_t)(cfg->episode_steps + 1) * SIM_IMAGE_BYTES);
  r->ee = calloc((size_t)(cfg->episode_steps + 1) * 3, sizeof(float));
  r->records = calloc((size_t)cfg->episode_steps, sizeof(app_step_record));
  r->short_actions =
      malloc(sizeof(float) * (size_t)cfg->cem.samples * cfg->cem.horizon * cfg->cem.act_dim);
  if (!r->cem || !r->frames || !r->ee || !r->records || !r->short_actions) {
    mb_fail(err, err_sz, "out of memory for the planner");
    goto fail;
  }
  if (!app_dyn_provider_make(&r->dyn, &r->cfg, r->model, err, err_sz)) goto fail;
  r->to_end.predict = predict_to_episode_end;
  r->to_end.user = r;
  if (!app_cost_provider_make(&r->cost, &r->cfg, err, err_sz)) goto fail;
  return r;
fail:
  app_runner_free(r);
  return NULL;
}

static bool observe(app_runner *r, int step, char *err, size_t err_sz) {
  if (!sim_render_agent(r->renderer, r->world, r->frames + (size_t)step * SIM_IMAGE_BYTES, err,
                        err_sz))
    return false;
  sim_obs o;
  sim_world_observe(r->world, &o);
  memcpy(r->ee + 3 * step, o.ee_pos, sizeof o.ee_pos);
  return true;
}

bool app_runner_start(app_runner *r, const double *state, int state_size, const uint8_t *goal_image,
                      const sim_positions *goal_pos, int target, char *err, size_t err_sz) {
  if (!sim_world_set_state(r->world, state, state_size, err, err_sz)) return false;
  memcpy(r->goal_image, goal_image, SIM_IMAGE_BYTES);
  r->have_goal_pos = goal_pos != NULL;
  if (goal_pos) r->goal_pos = *goal_pos;
  r->target = target;
  r->step = 0;
  r->plan_used = 0;
  r->have_plan = false;
  r->plan_seconds = 0;
  r->replans = 0;
  cem_state_reset(r->cem);
  if (!r->cost.set_goal(r->cost.self, r->goal_image, err, err_sz)) return false;
  return observe(r, 0, err, err_sz);
}

bool app_runner_set_params(app_runner *r, const cem_params *p, int actions_per_plan, char *err,
                           size_t err_sz) {
  if (!cem_params_check(p, err, err_sz)) return false;
  if (actions_per_plan < 1 || actions_per_plan > p->horizon)
    return mb_fail(err, err_sz, "actions per plan must be in 1..horizon (got %d, horizon %d)",
                   actions_per_plan, p->horizon);
  cem_state *s = cem_state_create(p);
  float *scratch = malloc(sizeof(float) * (size_t)p->samples * p->horizon * p->act_dim);
  if (!s || !scratch) {
    cem_state_destroy(s);
    free(scratch);
    return mb_fail(err, err_sz, "out of memory for the planner");
  }
  free(r->short_actions);
  r->short_actions = scratch;
  /* Keep the warm start when the sequence shape is unchanged. */
  if (p->horizon == r->cem->p.horizon && p->act_dim == r->cem->p.act_dim) {
    size_t seq = (size_t)p->horizon * (size_t)p->act_dim * sizeof(float);
    memcpy(s->mean, r->cem->mean, seq);
    memcpy(s->plan, r->cem->plan, seq);
    s->plan_cost = r->cem->plan_cost;
    s->replans = r->cem->replans;
  } else {
    r->have_plan = false;
  }
  cem_state_destroy(r->cem);
  r->cem = s;
  r->cfg.cem = *p;
  r->actions_per_plan = actions_per_plan;
  return true;
}

void app_runner_set_seed(app_runner *r, uint64_t seed) {
  r->cfg.seed = seed;
}

bool app_runner_replan(app_runner *r, const cem_observer *obs, const atomic_int *cancel, char *err,
                       size_t err_sz) {
  double state[r->state_size];
  sim_world_get_state(r->world, state);
  app_dyn_context ctx = {
      .state = state,
      .state_size = r->state_size,
      .frames = r->frames,
      .step = r->step,
  };
  if (!r->dyn.begin(r->dyn.self, &ctx, err, err_sz)) return false;
  double t0 = mb_now();
  /* The planner's random numbers depend on the seed and the replan index only. */
  bool ok = cem_replan(r->cem, &r->to_end, &r->cost.cost, obs, r->cfg.seed, cancel, err, err_sz);
  r->plan_seconds += mb_now() - t0;
  if (!ok) return false;
  r->replans++;
  r->have_plan = true;
  r->plan_used = 0;
  return true;
}

bool app_runner_candidate_paths(app_runner *r, const float *actions, int n, int horizon,
                                float *paths, char *err, size_t err_sz) {
  if (!r->dyn.ee_paths)
    return mb_fail(err, err_sz, "%s dynamics predicts pixels, not paths",
                   app_dynamics_name(r->cfg.dynamics));
  return r->dyn.ee_paths(r->dyn.self, actions, n, horizon, paths, err, err_sz);
}

int app_runner_execute(app_runner *r, int count) {
  if (!r->have_plan) return 0;
  int a = r->cem->p.act_dim, done = 0;
  while (done < count && r->step < r->cfg.episode_steps && r->plan_used < r->cem->p.horizon) {
    const float *act = r->cem->plan + (size_t)r->plan_used * a;
    float action[SIM_ACTION_DIM] = {0};
    memcpy(action, act, sizeof(float) * (a < SIM_ACTION_DIM ? a : SIM_ACTION_DIM));
    sim_world_step(r->world, action);
    app_step_record *rec = &r->records[r->step];
    memcpy(rec->action, action, sizeof action);
    rec->predicted_cost = r->cem->plan_cost;
    rec->replan = r->replans - 1;
    r->step++;
    r->plan_used++;
    char err[256];
    if (!observe(r, r->step, err, sizeof err)) /* the renderer worked a moment ago: keep the last */
      memcpy(r->frames + (size_t)r->step * SIM_IMAGE_BYTES,
             r->frames + (size_t)(r->step - 1) * SIM_IMAGE_BYTES, SIM_IMAGE_BYTES);
    rec->goal_distance = app_runner_goal_distance(r, &rec->success);
    done++;
  }
  cem_shift(r->cem, r->plan_used);
  /* The shifted mean is the warm start; the executed part of this plan is gone. */
  memmove(r->cem->plan, r->cem->plan + (size_t)r->plan_used * a,
          sizeof(float) * (size_t)(r->cem->p.horizon - r->plan_used) * a);
  memset(r->cem->plan + (size_t)(r->cem->p.horizon - r->plan_used) * a, 0,
         sizeof(float) * (size_t)r->plan_used * a);
  r->plan_used = 0;
  return done;
}

bool app_runner_advance(app_runner *r, const cem_observer *obs, const atomic_int *cancel, char *err,
                        size_t err_sz) {
  if (app_runner_done(r)) return mb_fail(err, err_sz, "the episode is over");
  if (!app_runner_replan(r, obs, cancel, err, err_sz)) return false;
  app_runner_execute(r, r->actions_per_plan);
  return true;
}

bool app_runner_run_episode(app_runner *r, const cem_observer *obs, const atomic_int *cancel,
                            char *err, size_t err_sz) {
  while (!app_runner_done(r))
    if (!app_runner_advance(r, obs, cancel, err, err_sz)) return false;
  return true;
}

int app_runner_step(const app_runner *r) {
  return r->step;
}
bool app_runner_done(const app_runner *r) {
  return r->step >= r->cfg.episode_steps;
}

const app_step_record *app_runner_record(const app_runner *r, int step) {
  return step >= 0 && step < r->step ? &r->records[step] : NULL;
}

const uint8_t *app_runner_frame(const app_runner *r, int step) {
  if (step < 0 || step > r->step) return NULL;
  return r->frames + (size_t)step * SIM_IMAGE_BYTES;
}

const float *app_runner_ee(const app_runner *r, int step) {
  if (step < 0 || step > r->step) return NULL;
  return r->ee + 3 * step;
}

const uint8_t *app_runner_goal_image(const app_runner *r) {
  return r->goal_image;
}

double app_runner_goal_distance(const app_runner *r, bool *success) {
  if (success) *success = false;
  if (!r->have_goal_pos) return 0;
  sim_positions cur;
  sim_world_positions(r->world, &cur);
  return sim_goal_distance(r->cfg.task, &cur, &r->goal_pos, r->target, success);
}

bool app_runner_observe_now(app_runner *r, uint8_t *rgb, sim_positions *pos, char *err,
                            size_t err_sz) {
  if (pos) sim_world_positions(r->world, pos);
  return !rgb || sim_render_agent(r->renderer, r->world, rgb, err, err_sz);
}

bool app_runner_frame_cost(app_runner *r, const uint8_t *frame, float *cost, char *err,
                           size_t err_sz) {
  return r->cost.cost.score(r->cost.cost.user, frame, 1, cost, err, err_sz);
}

double app_runner_plan_seconds(const app_runner *r) {
  return r->plan_seconds;
}
int app_runner_replans(const app_runner *r) {
  return r->replans;
}
const cem_state *app_runner_cem(const app_runner *r) {
  return r->cem;
}
sim_world *app_runner_world(app_runner *r) {
  return r->world;
}
const sim_model *app_runner_model(const app_runner *r) {
  return r->model;
}
const app_runner_config *app_runner_get_config(const app_runner *r) {
  return &r->cfg;
}
