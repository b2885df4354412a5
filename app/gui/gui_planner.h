/* The planner thread of the workbench: owns the episode runner (true simulator, oracle or learned
 * dynamics, cost), takes commands from the GTK main thread through a queue, and publishes what the
 * GUI shows as immutable snapshots: the latest state and readouts, and per replan the CEM traces
 * with the elites' frames (and, for oracle dynamics, their true end-effector paths). The main
 * thread polls gui_planner_snapshot() on its frame clock; nothing here blocks it. */
#ifndef GUI_PLANNER_H
#define GUI_PLANNER_H

#include "runner.h"

#include <stdbool.h>
#include <stdint.h>

#define GUI_MAX_STEPS   64 /* longest episode shown */
#define GUI_MAX_REPLANS 64 /* replans kept per episode */
#define GUI_MAX_ITER    8  /* CEM iterations kept per replan */
#define GUI_MAX_STATE   256

/* What one replan looked like: its traces (referenced) and the elites' true paths. */
typedef struct gui_replan {
  atomic_int refs;                  /* shared between snapshots */
  int index;                        /* replan number in the episode */
  int step;                         /* episode step it planned from */
  int iterations;                   /* traces below */
  cem_trace *traces[GUI_MAX_ITER];  /* one per CEM iteration (refs held) */
  float *elite_paths[GUI_MAX_ITER]; /* (elites x (horizon + 1) x 3) or NULL (learned dynamics) */
} gui_replan;

gui_replan *gui_replan_ref(gui_replan *r);
void gui_replan_unref(gui_replan *r);

/* The planner's published state. Immutable once published; reference counted. */
typedef struct gui_snapshot {
  atomic_int refs;                                    /* owners */
  uint64_t seq;                                       /* increases with every publication */
  sim_task task;                                      /* scene of the state */
  int state_size;                                     /* doubles in state */
  double state[GUI_MAX_STATE];                        /* true simulator state now */
  bool ready;                                         /* a runner exists and an episode started */
  bool running;                                       /* auto-advancing */
  bool planning;                                      /* a replan is in flight */
  int step, episode_steps;                            /* actions executed, per episode */
  uint8_t frames[GUI_MAX_STEPS + 1][SIM_IMAGE_BYTES]; /* agent frames 0..step */
  float ee[GUI_MAX_STEPS + 1][3];                     /* end effector 0..step */
  app_step_record records[GUI_MAX_STEPS];             /* 0..step-1 */
  int step_replan[GUI_MAX_STEPS + 1];  /* replan whose candidates were current at a step */
  bool have_now;                       /* now / now_pos are valid */
  uint8_t now[SIM_IMAGE_BYTES];        /* agent view of the true state now */
  sim_positions now_pos;               /* true positions now */
  uint8_t goal[SIM_IMAGE_BYTES];       /* goal image */
  bool have_goal_pos;                  /* the goal's true positions are known */
  sim_positions goal_pos;              /* they */
  int target;                          /* the goal's object (-1: hand) */
  double goal_distance;                /* true distance now (m), if have_goal_pos */
  bool success;                        /* within the task's threshold */
  float cost_now;                      /* cost of the current frame vs the goal */
  double last_plan_seconds;            /* wall time of the last replan */
  int replans;                         /* in this episode */
  gui_replan *replan[GUI_MAX_REPLANS]; /* their traces (refs) */
  app_cost_kind cost;                  /* what cost_now measures */
  app_dynamics_kind dynamics;          /* oracle or learned */
  char status[256];                    /* one line for the status bar */
  char error[512];                     /* last error, empty if none */
  uint64_t error_seq;                  /* increases with every new error */
  uint64_t episode_id;                 /* increases with every reset / new goal */
} gui_snapshot;

gui_snapshot *gui_snapshot_ref(gui_snapshot *s);
void gui_snapshot_unref(gui_snapshot *s);

typedef struct gui_planner gui_planner;

/* Starts the thread; nothing is loaded until gui_planner_configure. */
gui_planner *gui_planner_new(void);
void gui_planner_free(gui_planner *p); /* cancels what runs and joins */

/* Rebuilds the runner for a new task / dynamics / cost / run folders (the current goal and episode
 * are dropped when the task changes). Errors arrive in the snapshot. cfg's strings are copied. */
void gui_planner_configure(gui_planner *p, const app_runner_config *cfg);
/* New CEM parameters, applied at the next replan. */
void gui_planner_set_params(gui_planner *p, const cem_params *cem, int actions_per_plan);
/* A goal: its image, optionally its true positions and target, optionally the state to start from
 * (NULL: keep the current state). Starts a new episode. */
void gui_planner_set_goal(gui_planner *p, const uint8_t *image, const sim_positions *goal_pos,
                          int target, const double *start_state, int state_size);
/* A new episode from the task's reset with `seed` (the goal stays). */
void gui_planner_reset(gui_planner *p, uint64_t seed);
/* Run to the end of the episode / stop after the current replan / one replan + its actions. */
void gui_planner_run(gui_planner *p);
void gui_planner_pause(gui_planner *p);
void gui_planner_step(gui_planner *p);
/* Moves object k to (x, y) in the true scene (heatmap clicks); starts a new episode from there. */
void gui_planner_place_object(gui_planner *p, int k, double x, double y);
/* Seconds of visible playback per executed action (0: as fast as possible). */
void gui_planner_set_playback(gui_planner *p, double seconds_per_action);

/* The newest snapshot (caller unrefs); never NULL. */
gui_snapshot *gui_planner_snapshot(gui_planner *p);

#endif
