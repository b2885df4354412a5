/* Datasets of random-policy episodes in HDF5 (DESIGN.md "Data formats"), readable with h5py.
 *
 * Layout (N episodes, T = 30 steps, J = 7 arm joints, K objects, S state doubles):
 *   /images       uint8   [N, T+1, 64, 64, 3]  chunk = 1 episode, deflate
 *   /actions      float32 [N, T, 4]             chunk = 64 episodes, deflate
 *   /arm_qpos     float32 [N, T+1, J]           "
 *   /ee_pos       float32 [N, T+1, 3]           "
 *   /object_pos   float32 [N, T+1, K, 3]        " (door: slide position in x, y = z = 0)
 *   /start_state  float64 [N, S]                full simulator state at each episode's reset
 *                                               (sim_world.h layout): replay = state + actions
 * Root attributes: format "mbold-dataset", format_version 1, task, seed (uint64), scene_version,
 * policy_std float32[4], policy_beta, episode_steps, image_size, arm_joints, num_objects,
 * state_size, episodes (completed episodes; the arrays may be longer only after a crash),
 * split_fractions float32[3] = 0.9, 0.05, 0.05 and split_rule (text of sim_dataset_split_of).
 *
 * Every append writes whole episodes, updates `episodes` and flushes, so an interrupted collection
 * leaves a valid file of every completed episode, and resuming continues it. */
#ifndef SIM_DATASET_H
#define SIM_DATASET_H

#include "sim_task.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_DATASET_FORMAT  "mbold-dataset"
#define SIM_DATASET_VERSION 1

typedef struct sim_dataset_meta {
  sim_task task;                    /* task of every episode */
  uint64_t seed;                    /* collection seed */
  char scene_version[64];           /* scene files' version text */
  float policy_std[SIM_ACTION_DIM]; /* random-policy std */
  int arm_joints;                   /* J */
  int num_objects;                  /* K */
  int state_size;                   /* S */
} sim_dataset_meta;

/* One episode's arrays (row-major as in the file, without the episode axis). */
typedef struct sim_episode {
  uint8_t *images;     /* (T+1) x 64 x 64 x 3 */
  float *actions;      /* T x 4 */
  float *arm_qpos;     /* (T+1) x J */
  float *ee_pos;       /* (T+1) x 3 */
  float *object_pos;   /* (T+1) x K x 3 (NULL when K = 0) */
  double *start_state; /* S */
  uint8_t *zimages;    /* images compressed by sim_episode_compress (owned) */
  size_t zimages_size; /* bytes used in zimages; 0 = not compressed yet */
  size_t zimages_cap;  /* bytes allocated */
} sim_episode;

/* Allocates the arrays for meta's sizes; false when out of memory. */
bool sim_episode_alloc(sim_episode *ep, const sim_dataset_meta *meta);
void sim_episode_free(sim_episode *ep);
/* Compresses ep->images into ep->zimages as the file's deflate filter would (level 1..9), so
 * workers can compress in parallel and the writer stores the bytes as they are. */
bool sim_episode_compress(sim_episode *ep, int level);

/* ---- writing ---- */

typedef struct sim_dataset_writer sim_dataset_writer;

/* Creates `path` for episodes described by meta. An existing file is an error unless force
 * (then it is replaced). SIM_STATUS_BAD_INPUT + err for an existing file, an unwritable folder. */
sim_dataset_writer *sim_dataset_create(const char *path, const sim_dataset_meta *meta, bool force,
                                       sim_status *status, char *err, size_t err_sz);
/* Opens an existing dataset to append to; its task, seed, scene version and sizes must match meta
 * (else SIM_STATUS_BAD_INPUT + err naming the difference). */
sim_dataset_writer *sim_dataset_open_append(const char *path, const sim_dataset_meta *meta,
                                            sim_status *status, char *err, size_t err_sz);
/* Completed episodes in the file. */
int64_t sim_dataset_writer_episodes(const sim_dataset_writer *w);
/* Appends n episodes (their images compressed with sim_episode_compress), updates the episode
 * count and flushes. */
bool sim_dataset_append(sim_dataset_writer *w, const sim_episode *eps, int n, char *err,
                        size_t err_sz);
/* Closes the file; false + err if the final flush failed. NULL is fine. */
bool sim_dataset_writer_close(sim_dataset_writer *w, char *err, size_t err_sz);

/* ---- reading ---- */

typedef enum sim_split { SIM_SPLIT_TRAIN, SIM_SPLIT_VAL, SIM_SPLIT_TEST } sim_split;

/* The split of an episode index: index mod 20 in 0..17 train, 18 val, 19 test (0.9/0.05/0.05 of
 * any multiple of 20 episodes, and a resumed dataset keeps the split of the episodes it had). */
sim_split sim_dataset_split_of(int64_t episode);
const char *sim_split_name(sim_split s); /* "train", "val", "test" */
#define SIM_DATASET_SPLIT_RULE "episode index mod 20: 0-17 train, 18 val, 19 test"

typedef struct sim_dataset sim_dataset;

/* Opens and validates a dataset: NULL + one line naming the file and the problem for a missing,
 * truncated or foreign file, a missing array or attribute, or a wrong shape or type. */
sim_dataset *sim_dataset_open(const char *path, char *err, size_t err_sz);
void sim_dataset_close(sim_dataset *ds); /* NULL is fine */
const sim_dataset_meta *sim_dataset_get_meta(const sim_dataset *ds);
int64_t sim_dataset_episodes(const sim_dataset *ds);
/* Episode indices of a split in increasing order into out (may be NULL); returns their count. */
int64_t sim_dataset_split_episodes(const sim_dataset *ds, sim_split split, int64_t *out);

typedef enum sim_dataset_array {
  SIM_DS_IMAGES,      /* uint8 */
  SIM_DS_ACTIONS,     /* float */
  SIM_DS_ARM_QPOS,    /* float */
  SIM_DS_EE_POS,      /* float */
  SIM_DS_OBJECT_POS,  /* float */
  SIM_DS_START_STATE, /* double */
  SIM_DS_COUNT,
} sim_dataset_array;

/* Bytes of one episode of an array. */
size_t sim_dataset_episode_bytes(const sim_dataset *ds, sim_dataset_array a);
/* Reads episodes [first, first + count) of an array into out (count * episode bytes). */
bool sim_dataset_read(sim_dataset *ds, sim_dataset_array a, int64_t first, int64_t count, void *out,
                      char *err, size_t err_sz);
/* Reads the images of the listed episodes (e.g. a split) into out, n * (T+1) * 64 * 64 * 3 bytes:
 * the fast path for trainers that keep images in memory (chunks are read raw and inflated
 * directly into out). */
bool sim_dataset_read_images_of(sim_dataset *ds, const int64_t *episodes, int64_t n, uint8_t *out,
                                char *err, size_t err_sz);

#endif
