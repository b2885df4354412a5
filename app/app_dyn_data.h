/* Episodes of a dataset split read into memory for the video model (train, eval, benchmarks): the
 * app reads HDF5 through sim/, compute/ gets plain arrays (dyn_train.h's dyn_episodes). */
#ifndef APP_DYN_DATA_H
#define APP_DYN_DATA_H

#include "dyn_train.h"
#include "sim_dataset.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct app_dyn_split {
  dyn_episodes ep;  /* what compute/ reads: views of the arrays below */
  uint8_t *images;  /* (count x frames x 64 x 64 x 3) (owned) */
  float *actions;   /* (count x (frames - 1) x 4) (owned) */
  float *object_xy; /* (count x frames x objects x 2) object positions, metres (owned; NULL for
                       a task without objects) */
  int64_t *index;   /* (count) the episodes' indices in the file (owned) */
} app_dyn_split;

/* Reads up to max_episodes (<= 0: all) episodes of `split` from an open dataset, in file order.
 * False + err (naming the file) when the split is empty or a read fails. */
bool app_dyn_load_split(sim_dataset *ds, const char *path, sim_split split, int64_t max_episodes,
                        app_dyn_split *out, char *err, size_t err_sz);
void app_dyn_split_free(app_dyn_split *s); /* zeroed or loaded; NULL is fine */

/* The dataset's identity for a run's config.json (train and val as loaded). */
void app_dyn_data_id(const sim_dataset *ds, const char *path, const app_dyn_split *train,
                     const app_dyn_split *val, dyn_data_id *id);

#endif
