/* Goal suites (DESIGN.md): a folder with suite.json and goal-NNN.png (64x64 agent view of each
 * goal state). Goals are produced by simulating scripted controllers from a reset state, so every
 * goal is a physically reachable state, reachable from its start within one episode.
 *
 * Definitions (REFERENCE.md): push regular: exactly one block moved more than 0.075 m between
 * start and goal; hard: also the end effector more than 0.125 m from that block in the goal;
 * reach: at least 0.15 m of end-effector travel; door: start and goal slide positions 0.3 m apart
 * (within [0.3, 0.36]: the slide coasts a little after the push).
 *
 * suite.json:
 * { "format": "mbold-goal-suite", "format_version": 1, "task": "push1", "seed": 3,
 *   "difficulty": "regular" | "hard", "scene_version": "...", "state_size": S,
 *   "state_layout": "time, qpos[nq], qvel[nv], act[na], ctrl[nu], mocap_pos[3m], ...",
 *   "goals": [ { "index": 0, "image": "goal-000.png", "target": k (object the goal moved; -1
 *     for reach), "target_moved": metres, "controller_steps": n,
 *     "start_state": [S numbers], "goal_state": [S numbers],
 *     "start": {"ee": [x,y,z], "objects": [[x,y,z], ...K]},
 *     "goal":  {"ee": [x,y,z], "objects": [[x,y,z], ...K]} }, ... ] }
 * Numbers are written with 17 significant digits, so states come back bit for bit. */
#ifndef SIM_GOALS_H
#define SIM_GOALS_H

#include "sim_task.h"
#include "sim_world.h"

#include "mb_job.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_SUITE_FORMAT       "mbold-goal-suite"
#define SIM_GOAL_PUSH_MIN_MOVE 0.075 /* m: the target block moves more than this */
#define SIM_GOAL_HARD_ARM_DIST 0.125 /* m: hard goals: end effector this far from the target */
#define SIM_GOAL_REACH_TRAVEL  0.15  /* m: reach goals: at least this end-effector travel */
#define SIM_GOAL_DOOR_APART    0.3   /* m: door goals: slide positions this far apart */

typedef struct sim_goal {
  int index;            /* position in the suite */
  int target;           /* object the goal is about (-1: the end effector, reach) */
  double target_moved;  /* metres the target moved from start to goal (reach: ee travel) */
  int controller_steps; /* control steps the scripted controller took (<= 30) */
  double *start_state;  /* full state (sim_world.h layout), state_size doubles */
  double *goal_state;   /* full state, state_size doubles */
  sim_positions start;  /* positions of the start state */
  sim_positions goal;   /* positions of the goal state */
  char image[32];       /* goal image file name inside the suite folder */
} sim_goal;

typedef struct sim_suite {
  sim_task task;          /* task of every goal */
  uint64_t seed;          /* generation seed */
  bool hard;              /* pushing "hard" difficulty */
  char scene_version[64]; /* scenes the states belong to */
  int state_size;         /* doubles per state */
  int count;              /* goals */
  sim_goal *goals;        /* count goals (owned) */
  char *dir;              /* folder it was loaded from or saved to (owned, may be NULL) */
} sim_suite;

/* Generates count goals into out_dir (created if needed): goal-NNN.png and suite.json, each
 * written atomically. An existing suite.json is an error unless force. hard applies to pushing
 * only. Progress in goals. SIM_STATUS_BAD_INPUT for bad arguments, a bad scene, no EGL or an
 * unwritable folder. */
sim_status sim_goals_generate(sim_task task, const char *assets_dir, int count, uint64_t seed,
                              bool hard, bool force, const char *out_dir, const mb_job_hooks *hooks,
                              char *err, size_t err_sz);

/* Loads dir/suite.json. expect_task < 0 accepts any task; otherwise a different task is an error.
 * NULL + one line for a missing folder or file, bad JSON, a wrong format, task or state size. */
sim_suite *sim_suite_load(const char *dir, int expect_task, char *err, size_t err_sz);
/* Checks the suite's states fit model m (state size, scene version). */
bool sim_suite_check_model(const sim_suite *s, const sim_model *m, char *err, size_t err_sz);
/* Writes dir/suite.json atomically (states with full precision). */
bool sim_suite_save(const sim_suite *s, const char *dir, char *err, size_t err_sz);
/* Reads goal i's PNG (64x64 RGB) into rgb. */
bool sim_suite_goal_image(const sim_suite *s, int i, uint8_t *rgb, char *err, size_t err_sz);
void sim_suite_free(sim_suite *s); /* NULL is fine */

/* Whether (start, goal) satisfies the suite definition of the task; the reason when not. */
bool sim_goal_check(sim_task task, bool hard, const sim_positions *start, const sim_positions *goal,
                    int target, const char **why);

#endif
