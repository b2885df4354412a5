/* Reading a dataset's splits for the distance learner (compute/dist_data.h wants plain arrays) and
 * the dataset's identity that a training run records and a resume checks. */
#ifndef APP_DIST_DATA_H
#define APP_DIST_DATA_H

#include "dist_data.h"
#include "mb_json.h"
#include "sim_dataset.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct app_dist_split {
  dist_dataset d;  /* the view handed to compute/ (points into the arrays below) */
  uint8_t *images; /* (N x (T+1) x 64 x 64 x 3) owned */
  float *actions;  /* (N x T x 4) owned */
  float *arm_qpos; /* (N x (T+1) x J) owned */
  int64_t *ids;    /* (N) episode indices in the file, owned */
} app_dist_split;

typedef struct app_dist_data {
  char *path;            /* as given (owned) */
  sim_dataset_meta meta; /* attributes */
  int64_t episodes;      /* completed episodes in the file */
  int64_t file_bytes;    /* size on disk */
  char hash[17];         /* 64-bit FNV-1a (hex) of the attributes, the episode count and the
                            first and last episodes' images, actions and arm positions */
  app_dist_split train;  /* the train split (empty unless asked for) */
  app_dist_split val;    /* the val split (empty unless asked for) */
} app_dist_data;

/* Opens and validates path, computes its identity and reads the asked-for splits into memory.
 * Returns APP_EXIT_OK, or APP_EXIT_BAD_INPUT (missing, foreign, damaged file, too few episodes
 * in a split) / APP_EXIT_FAILURE (out of memory) with err filled. */
int app_dist_data_load(app_dist_data *out, const char *path, bool train, bool val, char *err,
                       size_t err_sz);
void app_dist_data_free(app_dist_data *d);

/* The identity as members of the open JSON object w: path, bytes, hash, task, seed, scene version,
 * episodes and split sizes. */
void app_dist_data_identity(const app_dist_data *d, mb_jw *w);
/* True when a run's recorded identity (the object written above) names the same data: same hash,
 * task and episode count (the path may differ: a moved file is still the same data). Otherwise
 * why says what differs. */
bool app_dist_data_same(const mb_json *recorded, const app_dist_data *d, char *why, size_t why_sz);

#endif
