/* The distance learner's view of a dataset: plain arrays of whole episodes, already in memory.
 *
 * compute/ never reads HDF5: app/ reads a split with sim's reader and hands these arrays over. One
 * dist_dataset is one split (the trainer gets the train split, the metrics the val split). Images
 * stay uint8 (1/4 of the float size); they are converted while uploading a batch. */
#ifndef DIST_DATA_H
#define DIST_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIST_IMAGE_BYTES (64 * 64 * 3) /* one agent image, uint8 H x W x 3 */
#define DIST_ACTION_DIM  4             /* end-effector x, y, z + gripper */
#define DIST_MAX_ARM     16            /* largest arm_dim accepted */

/* What is learned: the paper's goal-conditioned Q-function (twin critics + actor, TD3 + CQL) or the
 * temporal-distance regression baseline (App. C.2). */
typedef enum dist_method {
  DIST_METHOD_Q,          /* "q" */
  DIST_METHOD_REGRESSION, /* "regression" */
} dist_method;

const char *dist_method_name(dist_method m);                /* "q", "regression" */
bool dist_method_parse(const char *name, dist_method *out); /* false for anything else */

typedef struct dist_dataset {
  int episodes;          /* N: episodes in this split */
  int steps;             /* T: actions per episode (frames per episode: T + 1) */
  int arm_dim;           /* J: arm joint positions per frame (the negatives' k-NN key) */
  const uint8_t *images; /* (N x (T+1) x 64 x 64 x 3) borrowed */
  const float *actions;  /* (N x T x 4) in [-1, 1], borrowed */
  const float *arm_qpos; /* (N x (T+1) x J) borrowed */
  const int64_t *ids;    /* (N) each episode's index in the source file; may be NULL */
} dist_dataset;

/* Checks sizes and that every action and joint position is finite (a NaN in the data would only
 * show up later as a diverged loss). `what` names the data in the message ("train split"). */
bool dist_dataset_check(const dist_dataset *d, int min_episodes, const char *what, char *err,
                        size_t err_sz);

static inline const uint8_t *dist_frame(const dist_dataset *d, int ep, int t) {
  return d->images + ((size_t)ep * (size_t)(d->steps + 1) + (size_t)t) * DIST_IMAGE_BYTES;
}
static inline const float *dist_action(const dist_dataset *d, int ep, int t) {
  return d->actions + ((size_t)ep * (size_t)d->steps + (size_t)t) * DIST_ACTION_DIM;
}
static inline const float *dist_arm(const dist_dataset *d, int ep, int t) {
  return d->arm_qpos + ((size_t)ep * (size_t)(d->steps + 1) + (size_t)t) * (size_t)d->arm_dim;
}
/* Image bytes of the whole split. */
static inline size_t dist_dataset_image_bytes(const dist_dataset *d) {
  return (size_t)d->episodes * (size_t)(d->steps + 1) * DIST_IMAGE_BYTES;
}

#endif
