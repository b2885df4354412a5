/* Dataset splits in memory for the video model (see app_dyn_data.h). */
#include "app_dyn_data.h"

#include "mb_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool app_dyn_load_split(sim_dataset *ds, const char *path, sim_split split, int64_t max_episodes,
                        app_dyn_split *out, char *err, size_t err_sz) {
  memset(out, 0, sizeof *out);
  int64_t total = sim_dataset_split_episodes(ds, split, NULL);
  if (total < 1)
    return mb_fail(err, err_sz, "%s: the %s split has no episodes", path, sim_split_name(split));
  int64_t *all = malloc((size_t)total * sizeof *all);
  if (!all) return mb_fail(err, err_sz, "out of memory");
  sim_dataset_split_episodes(ds, split, all);
  int64_t n = max_episodes > 0 && max_episodes < total ? max_episodes : total;
  size_t img_ep = sim_dataset_episode_bytes(ds, SIM_DS_IMAGES);
  size_t act_ep = sim_dataset_episode_bytes(ds, SIM_DS_ACTIONS);
  int frames = (int)(img_ep / SIM_IMAGE_BYTES);
  if (img_ep != (size_t)frames * SIM_IMAGE_BYTES ||
      act_ep != (size_t)(frames - 1) * 4 * sizeof(float)) {
    free(all);
    return mb_fail(err, err_sz,
                   "%s: episodes of %zu image bytes and %zu action bytes do not fit "
                   "64 x 64 x 3 frames and 4-D actions",
                   path, img_ep, act_ep);
  }
  out->index = all;
  out->images = malloc(img_ep * (size_t)n);
  out->actions = malloc(act_ep * (size_t)n);
  int64_t n_file = sim_dataset_episodes(ds);
  float *every = malloc(act_ep * (size_t)n_file);
  bool ok = out->images && out->actions && every;
  if (!ok)
    mb_fail(err, err_sz, "out of memory reading %lld %s episodes of %s (%.1f GB)", (long long)n,
            sim_split_name(split), path, (double)img_ep * n * 1e-9);
  if (ok) ok = sim_dataset_read_images_of(ds, all, n, out->images, err, err_sz);
  /* Actions are small: one read of the whole array, then pick the split's episodes. */
  if (ok) ok = sim_dataset_read(ds, SIM_DS_ACTIONS, 0, n_file, every, err, err_sz);
  for (int64_t i = 0; ok && i < n; i++)
    memcpy((uint8_t *)out->actions + (size_t)i * act_ep,
           (const uint8_t *)every + (size_t)all[i] * act_ep, act_ep);
  free(every);
  /* Object positions (x, y) for interaction sampling. */
  int no = sim_dataset_get_meta(ds)->num_objects;
  if (ok && no > 0) {
    size_t pos_ep = sim_dataset_episode_bytes(ds, SIM_DS_OBJECT_POS) / sizeof(float);
    float *pos = malloc(pos_ep * sizeof *pos);
    out->object_xy = malloc((size_t)n * frames * no * 2 * sizeof(float));
    if (!pos || !out->object_xy) ok = mb_fail(err, err_sz, "out of memory");
    for (int64_t i = 0; ok && i < n; i++) {
      ok = sim_dataset_read(ds, SIM_DS_OBJECT_POS, all[i], 1, pos, err, err_sz);
      for (size_t k = 0; ok && k < (size_t)frames * no; k++) {
        out->object_xy[((size_t)i * frames * no + k) * 2] = pos[k * 3];
        out->object_xy[((size_t)i * frames * no + k) * 2 + 1] = pos[k * 3 + 1];
      }
    }
    free(pos);
  }
  if (!ok) {
    app_dyn_split_free(out);
    return false;
  }
  out->ep = (dyn_episodes){.count = n,
                           .frames = frames,
                           .images = out->images,
                           .actions = out->actions,
                           .objects = out->object_xy ? no : 0,
                           .object_xy = out->object_xy};
  return true;
}

void app_dyn_split_free(app_dyn_split *s) {
  if (!s) return;
  free(s->images);
  free(s->actions);
  free(s->object_xy);
  free(s->index);
  memset(s, 0, sizeof *s);
}

void app_dyn_data_id(const sim_dataset *ds, const char *path, const app_dyn_split *train,
                     const app_dyn_split *val, dyn_data_id *id) {
  const sim_dataset_meta *m = sim_dataset_get_meta(ds);
  memset(id, 0, sizeof *id);
  snprintf(id->path, sizeof id->path, "%s", path);
  snprintf(id->task, sizeof id->task, "%s", sim_task_name(m->task));
  id->seed = m->seed;
  snprintf(id->scene_version, sizeof id->scene_version, "%s", m->scene_version);
  id->episodes = sim_dataset_episodes(ds);
  id->train_episodes = train ? train->ep.count : 0;
  id->val_episodes = val ? val->ep.count : 0;
  if (train)
    id->actions_hash = dyn_hash_bytes(
        0, train->actions, (size_t)train->ep.count * (train->ep.frames - 1) * 4 * sizeof(float));
}
