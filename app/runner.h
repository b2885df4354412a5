/* The MPC episode runner: the one place that joins the simulator (the true environment, oracle
 * dynamics) and the compute core (CEM, learned dynamics, learned distances). `mbold eval`, the
 * heatmap and the workbench's planner thread all drive episodes through it.
 *
 * An episode: start from a full simulator state and a goal image; every `actions_per_plan` steps
 * replan with CEM from the current observation (warm-started from the unexecuted tail of the last
 * plan) and execute the first actions of the best sequence; 30 steps in all. A runner belongs to
 * one thread. */
#ifndef APP_RUNNER_H
#define APP_RUNNER_H

#include "cem.h"
#include "cmp.h"
#include "sim_render.h"
#include "sim_world.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum app_dynamics_kind {
  APP_DYNAMICS_ORACLE,  /* roll candidates out in copies of the true simulator */
  APP_DYNAMICS_LEARNED, /* the video prediction model of a dynamics run */
} app_dynamics_kind;

typedef enum app_cost_kind {
  APP_COST_PIXEL,      /* l2 to the goal image (Visual Foresight) */
  APP_COST_Q,          /* the learned Q-function distance in steps (MBOLD) */
  APP_COST_REGRESSION, /* the temporal-distance regression baseline */
} app_cost_kind;

bool app_dynamics_parse(const char *s, app_dynamics_kind *out); /* "oracle" | "learned" */
bool app_cost_parse(const char *s, app_cost_kind *out);         /* "pixel" | "q" | "regression" */
const char *app_cost_name(app_cost_kind k);
const char *app_dynamics_name(app_dynamics_kind k);

typedef struct app_runner_config {
  sim_task task;              /* scene and task */
  const char *assets_dir;     /* where scenes are */
  app_dynamics_kind dynamics; /* oracle or learned */
  const char *dynamics_run;   /* run folder of the dynamics model (learned only) */
  app_cost_kind cost;         /* how predicted final frames are scored */
  const char *distance_run;   /* run folder of the distance (q or regression cost) */
  cmp_backend_choice backend; /* for the networks */
  cem_params cem;             /* planner parameters (cem_default_params for the task) */
  int actions_per_plan;       /* executed per replan (6) */
  int episode_steps;          /* actions per episode (30) */
  int oracle_threads;         /* threads for oracle rollouts (>= 1) */
  uint64_t seed;              /* planner randomness */
  bool score_at_episode_end;  /* when fewer than `horizon` steps are left, score the frame after
                                 the episode's last action instead of the horizon's (default) */
} app_runner_config;

/* The paper's settings for a task: oracle dynamics, pixel cost, CEM 200/3/10/13, 6 per plan, 30
 * steps, auto backend, 2 oracle threads. */
app_runner_config app_runner_default_config(sim_task task, const char *assets_dir);

/* One executed step of the current episode. */
typedef struct app_step_record {
  float action[4];      /* the action executed */
  double goal_distance; /* relevant object (or end effector) to its goal after the action (m) */
  bool success;         /* sim_goal_distance's success after the action */
  float predicted_cost; /* cost of the plan this action came from (its replan's best) */
  int replan;           /* which replan chose it */
} app_step_record;

typedef struct app_runner app_runner;

/* Loads the scene, the renderer, the oracle or the dynamics model, and the cost's networks. NULL +
 * one line naming the run folder, file or argument at fault. */
app_runner *app_runner_create(const app_runner_config *cfg, char *err, size_t err_sz);
void app_runner_free(app_runner *r);

/* Starts an episode from a full state (state_size doubles) towards a goal image (64x64x3). goal_pos
 * (may be NULL when unknown, e.g. a goal loaded from a PNG) gives the true goal positions for the
 * distance and success readouts; target is the object the goal is about (-1: reach / unknown). */
bool app_runner_start(app_runner *r, const double *state, int state_size, const uint8_t *goal_image,
                      const sim_positions *goal_pos, int target, char *err, size_t err_sz);
/* Changes the planner parameters (takes effect at the next replan; the warm start is dropped when
 * the horizon or action count changes). */
bool app_runner_set_params(app_runner *r, const cem_params *p, int actions_per_plan, char *err,
                           size_t err_sz);

/* The planner's random seed for the next episodes (a replan depends on seed and replan index). */
void app_runner_set_seed(app_runner *r, uint64_t seed);

/* One CEM replan from the current observation; obs (may be NULL) sees every iteration. */
bool app_runner_replan(app_runner *r, const cem_observer *obs, const atomic_int *cancel, char *err,
                       size_t err_sz);
/* True end-effector paths (n x (horizon + 1) x 3) of action sequences from the last replan's start
 * state, for drawing candidates in the scene; false (err set) when the dynamics is learned. */
bool app_runner_candidate_paths(app_runner *r, const float *actions, int n, int horizon,
                                float *paths, char *err, size_t err_sz);

/* Executes up to `count` actions of the current plan in the true simulator (fewer at the end of the
 * episode) and shifts the warm start. Returns the number executed. */
int app_runner_execute(app_runner *r, int count);
/* replan + execute actions_per_plan; false at the end of the episode or on error (err set then). */
bool app_runner_advance(app_runner *r, const cem_observer *obs, const atomic_int *cancel, char *err,
                        size_t err_sz);
/* Runs the episode to its end. */
bool app_runner_run_episode(app_runner *r, const cem_observer *obs, const atomic_int *cancel,
                            char *err, size_t err_sz);

/* ---- what the episode looks like --------------------------------------------------------------
 */

int app_runner_step(const app_runner *r);  /* actions executed so far */
bool app_runner_done(const app_runner *r); /* all episode_steps executed */
const app_step_record *app_runner_record(const app_runner *r, int step); /* 0 .. step-1 */
/* Agent frame after `step` actions (0 = start), 64x64x3; valid until the next start. */
const uint8_t *app_runner_frame(const app_runner *r, int step);
/* End-effector position after `step` actions. */
const float *app_runner_ee(const app_runner *r, int step);
const uint8_t *app_runner_goal_image(const app_runner *r);
/* Distance and success of the current state w.r.t. the goal positions (0 / false if unknown). */
double app_runner_goal_distance(const app_runner *r, bool *success);
/* Renders the agent view of the true state now (64x64x3) and its positions (either may be NULL). */
bool app_runner_observe_now(app_runner *r, uint8_t *rgb, sim_positions *pos, char *err,
                            size_t err_sz);
/* Cost of a frame against the goal under the runner's cost (steps for q). */
bool app_runner_frame_cost(app_runner *r, const uint8_t *frame, float *cost, char *err,
                           size_t err_sz);
double app_runner_plan_seconds(const app_runner *r); /* total replanning wall time */
int app_runner_replans(const app_runner *r);
const cem_state *app_runner_cem(const app_runner *r); /* the plan and its cost */
sim_world *app_runner_world(app_runner *r);           /* the true environment */
const sim_model *app_runner_model(const app_runner *r);
const app_runner_config *app_runner_get_config(const app_runner *r);

#endif
