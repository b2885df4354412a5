/* Simulated worlds: an immutable sim_model (the compiled MJCF scene and task constants, shared by
 * any number of threads) and a mutable sim_world (one mjData; one per thread). Everything that
 * changes while simulating lives in the world, and its full state is a flat array of doubles, so
 * a state saved anywhere (suite.json, a planner's copy) replays bit for bit.
 *
 * Full-state layout (sim_model_state_size() doubles, nq/nv/... of the compiled scene):
 *   [0]                       simulation time
 *   [1, 1+nq)                 qpos  (arm j1..j5, fingers f1 f2, then the objects' joints)
 *   next nv                   qvel
 *   next na                   act   (empty in our scenes, kept for generality)
 *   next nu                   ctrl  (finger position targets)
 *   next 3 * nmocap           mocap_pos  (the hand target)
 *   next 4 * nmocap           mocap_quat
 *   next nv                   qacc_warmstart (the constraint solver's warm start: needed for
 *                             bit-identical continuation)
 * sim_model_state_layout() gives the offsets. */
#ifndef SIM_WORLD_H
#define SIM_WORLD_H

#include "sim_task.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sim_model sim_model; /* immutable after sim_model_load */
typedef struct sim_world sim_world; /* one per thread */

typedef struct sim_state_layout {
  int size;       /* total doubles */
  int time;       /* offset of the time */
  int qpos, nq;   /* offset and count */
  int qvel, nv;   /* offset and count */
  int act, na;    /* offset and count */
  int ctrl, nu;   /* offset and count */
  int mocap_pos;  /* offset, 3 * nmocap doubles */
  int mocap_quat; /* offset, 4 * nmocap doubles */
  int nmocap;     /* mocap bodies */
  int warmstart;  /* offset, nv doubles */
} sim_state_layout;

/* Proprioception and privileged object state of one frame (float: what datasets store). */
typedef struct sim_obs {
  float arm_qpos[SIM_ARM_JOINTS];       /* j1..j5 (rad), finger slides f1, f2 (m) */
  float ee_pos[3];                      /* end effector (between the fingertips), world metres */
  float object_pos[SIM_MAX_OBJECTS][3]; /* first K used: block centres; door: (slide, 0, 0) */
} sim_obs;

/* The positions that goals are judged on (double: what suites store). */
typedef struct sim_positions {
  double ee[3];                      /* end effector */
  double object[SIM_MAX_OBJECTS][3]; /* as sim_obs.object_pos */
} sim_positions;

/* Loads <assets_dir>/scenes/<task scene>.xml, settles the arm at the task's start pose and checks
 * the scene has every body, joint, site and camera the task needs. NULL + err (naming the file)
 * for a missing or malformed MJCF. Free with sim_model_free. */
sim_model *sim_model_load(sim_task task, const char *assets_dir, char *err, size_t err_sz);
void sim_model_free(sim_model *m); /* NULL is fine */

sim_task sim_model_task(const sim_model *m);
const sim_task_info *sim_model_info(const sim_model *m);
int sim_model_num_objects(const sim_model *m); /* K */
int sim_model_state_size(const sim_model *m);  /* doubles in a full state */
sim_state_layout sim_model_state_layout(const sim_model *m);
const char *sim_model_scene_version(const sim_model *m); /* from the scene's <custom> text */
const char *sim_model_path(const sim_model *m);          /* the MJCF file loaded */
/* End-effector workspace bounds (metres); either pointer may be NULL. */
void sim_model_workspace(const sim_model *m, double lo[3], double hi[3]);
/* Range over which sim_world_reset places objects: blocks x, y in [-r, r]; door slide in [-r, r].
 */
double sim_model_reset_range(const sim_model *m);

/* A world on model m (borrowed: it must outlive the world). Starts reset with seed 0. */
sim_world *sim_world_create(const sim_model *m, char *err, size_t err_sz);
void sim_world_free(sim_world *w); /* NULL is fine */
const sim_model *sim_world_model(const sim_world *w);

/* Arm at its start pose, objects uniform over their reset range (blocks kept apart), time 0; the
 * result depends on the seed only. */
void sim_world_reset(sim_world *w, uint64_t seed);
/* One control step: action (clipped to [-1, 1]) moves the hand target by action[0..2] times the
 * action scale, clipped to the workspace; action[3] sets the finger opening (-1 closed, 1 open);
 * then the physics runs the scene's substeps. */
void sim_world_step(sim_world *w, const float action[SIM_ACTION_DIM]);
/* Steps taken since the last reset or set_state. */
int sim_world_steps(const sim_world *w);

/* Copies the full state (sim_model_state_size doubles) into state. */
void sim_world_get_state(const sim_world *w, double *state);
/* Restores a full state of n doubles; false + err if n is wrong or a value is not finite. */
bool sim_world_set_state(sim_world *w, const double *state, int n, char *err, size_t err_sz);
/* dst takes src's full state; both on the same model. */
void sim_world_copy_state(sim_world *dst, const sim_world *src);

void sim_world_observe(const sim_world *w, sim_obs *obs);
void sim_world_positions(const sim_world *w, sim_positions *p);
/* Positions of an arbitrary full state, computed in the world's scratch data (the world's own
 * state is untouched). False + err for a state of the wrong size. */
bool sim_world_state_positions(sim_world *w, const double *state, int n, sim_positions *p,
                               char *err, size_t err_sz);

/* Places object k at (x, y) (door: slide = x, y ignored), object velocities zeroed, the arm and
 * everything else unchanged (distance heatmaps, paper Fig. 6). x, y are clipped to the object's
 * joint range. False + err for a bad k. */
bool sim_world_place_object(sim_world *w, int k, double x, double y, char *err, size_t err_sz);

/* The relevant distance between current and goal positions (metres) and success (REFERENCE.md):
 * reach: end effector, within 0.05 m; push: the target block's distance is reported, success when
 * every block is within 0.05 m of its goal position; door: slide within 0.075 m. target < 0 picks
 * the object farthest from its goal. */
double sim_goal_distance(sim_task task, const sim_positions *cur, const sim_positions *goal,
                         int target, bool *success);

/* MuJoCo's version as "2.2.2" (static storage): for `mbold info`. */
const char *sim_mujoco_version(void);

/* Number of MuJoCo warnings (instabilities) this world has seen; they are counted, never printed.
 */
int sim_world_warnings(const sim_world *w);

#endif
