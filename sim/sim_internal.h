/* Definitions shared by the files of sim/ only (never included outside the folder). */
#ifndef SIM_INTERNAL_H
#define SIM_INTERNAL_H

#include "sim_world.h"

#include <mujoco/mujoco.h>

/* Streams of the counter-based generator, per purpose (mb_philox.h); an episode's numbers depend
 * only on (seed, episode). */
#define SIM_STREAM_RESET  0u /* sim_world_reset: object placement */
#define SIM_STREAM_POLICY 1u /* random policy noise, stream = SIM_STREAM_POLICY + 2 * episode */

struct sim_model {
  mjModel *m;                        /* compiled scene (owned, never modified after load) */
  const sim_task_info *info;         /* task constants */
  char path[1024];                   /* MJCF file */
  char scene_version[64];            /* <custom><text name="scene_version"> */
  double ws_lo[3], ws_hi[3];         /* end-effector workspace (m) */
  double ee_start[3];                /* end effector at reset (m) */
  double action_scale[3];            /* metres per unit action per step */
  int substeps;                      /* physics steps per control step */
  double reset_range;                /* objects uniform in [-r, r] (per axis) */
  int nobj;                          /* K */
  int obj_qadr[SIM_MAX_OBJECTS][3];  /* qpos address of x, y, yaw (blocks); door: [0][0] */
  int obj_dadr[SIM_MAX_OBJECTS][3];  /* qvel address of the same joints */
  int obj_body[SIM_MAX_OBJECTS];     /* body id of each object */
  double obj_lo[SIM_MAX_OBJECTS][2]; /* joint range of x (door: slide) and y */
  double obj_hi[SIM_MAX_OBJECTS][2]; /* joint range of x and y */
  int arm_qadr[SIM_ARM_JOINTS];      /* qpos address of j1..j5, f1, f2 */
  int ee_site;                       /* site id of the end effector */
  int mocap;                         /* mocap index of the hand target */
  int cam_agent;                     /* camera id of the agent camera */
  int finger_act[2];                 /* actuator ids of the fingers */
  double finger_max;                 /* finger ctrl upper bound (m) */
  double ee_offset[3];               /* mocap position minus end-effector position (world) */
  double mocap_quat[4];              /* fixed hand orientation */
  double *home_qpos;                 /* nq: arm settled at ee_start, objects at 0 */
  sim_state_layout layout;           /* full-state layout */
};

struct sim_world {
  const sim_model *model; /* borrowed */
  mjData *d;              /* this world's state */
  mjData *scratch;        /* for computing positions of other states */
  int steps;              /* control steps since reset */
};

/* Installs MuJoCo error and warning handlers that never print or exit (once per process).
 * Errors longjmp to the innermost sim_guard on the calling thread. */
void sim_install_handlers(void);
/* Total MuJoCo warnings seen by this process. */
int sim_warning_count(void);

/* Positions from a data whose kinematics are current. */
void sim_positions_from_data(const sim_model *m, const mjData *d, sim_positions *p);

#endif
