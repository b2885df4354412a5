/* Tasks and their constants (REFERENCE.md, "Data and tasks"): what every layer above the simulator
 * needs to know about reach, push1, push3 and door without loading a scene. */
#ifndef SIM_TASK_H
#define SIM_TASK_H

#include <stdbool.h>

#define SIM_EPISODE_STEPS 30 /* actions per episode */
#define SIM_EPISODE_FRAMES                                                                         \
  31                       /* observations per episode (before the first action and after each) */
#define SIM_ACTION_DIM  4  /* end-effector displacement x, y, z in [-1, 1] and gripper in [-1, 1] */
#define SIM_IMAGE_SIZE  64 /* agent images are SIM_IMAGE_SIZE x SIM_IMAGE_SIZE x 3, uint8 */
#define SIM_IMAGE_BYTES (SIM_IMAGE_SIZE * SIM_IMAGE_SIZE * 3)
#define SIM_ARM_JOINTS  7 /* J: the 5 revolute arm joints j1..j5, then the two finger slides */
#define SIM_MAX_OBJECTS 3 /* the largest K of any task */

typedef enum sim_task {
  SIM_TASK_REACH, /* move the end effector; no objects (K = 0) */
  SIM_TASK_PUSH1, /* one block (K = 1) */
  SIM_TASK_PUSH3, /* three blocks of distinct colours (K = 3) */
  SIM_TASK_DOOR,  /* a sliding door; object 0 is the slide position (x, 0, 0) (K = 1) */
  SIM_TASK_COUNT,
} sim_task;

typedef enum sim_status {
  SIM_STATUS_OK = 0,
  SIM_STATUS_BAD_INPUT, /* a file, argument or the display is wrong; err names it */
  SIM_STATUS_FAILED,    /* the work itself failed (I/O error mid-run) */
} sim_status;

typedef struct sim_task_info {
  sim_task task;            /* this task */
  const char *name;         /* "reach", "push1", "push3", "door" */
  const char *scene_file;   /* MJCF file name in <assets>/scenes/ */
  int num_objects;          /* K */
  float policy_std[4];      /* std of the random policy's Gaussian per action dimension */
  double success_threshold; /* metres: relevant object (or end effector) to its goal position */
  /* Material colour (the scene's rgba, r g b) of what shows object k in an image: the block, or the
   * door's handle (the panel is the table's hue). Found in frames by chromaticity (mb_blob.h). */
  float object_rgb[SIM_MAX_OBJECTS][3];
} sim_task_info;

/* Constants of a task; NULL for an out-of-range value. Static storage. */
const sim_task_info *sim_task_get(sim_task task);
/* Parses "reach", "push1", "push3" or "door"; false for anything else (*out untouched). */
bool sim_task_parse(const char *name, sim_task *out);
/* The task's name, or "?" for an out-of-range value. */
const char *sim_task_name(sim_task task);
/* "reach, push1, push3, door": for error messages. */
const char *sim_task_list(void);

#endif
