#include "app_dist_data.h"

#include "app_cli.h"
#include "mb_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static uint64_t fnv(uint64_t h, const void *data, size_t n) {
  const uint8_t *p = data;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

static void split_free(app_dist_split *s) {
  free(s->images), free(s->actions), free(s->arm_qpos), free(s->ids);
  memset(s, 0, sizeof *s);
}

void app_dist_data_free(app_dist_data *d) {
  split_free(&d->train);
  split_free(&d->val);
  free(d->path);
  memset(d, 0, sizeof *d);
}

/* Hashes the attributes and episodes 0 and N-1 of the small arrays and images. */
static bool identity(app_dist_data *d, sim_dataset *ds, char *err, size_t err_sz) {
  const sim_dataset_meta *m = &d->meta;
  uint64_t h = 0xcbf29ce484222325ull;
  const char *task = sim_task_name(m->task);
  h = fnv(h, task, strlen(task));
  h = fnv(h, &m->seed, sizeof m->seed);
  h = fnv(h, m->scene_version, strlen(m->scene_version));
  h = fnv(h, m->policy_std, sizeof m->policy_std);
  int sizes[3] = {m->arm_joints, m->num_objects, m->state_size};
  h = fnv(h, sizes, sizeof sizes);
  h = fnv(h, &d->episodes, sizeof d->episodes);
  const sim_dataset_array arrays[3] = {SIM_DS_IMAGES, SIM_DS_ACTIONS, SIM_DS_ARM_QPOS};
  size_t max = 0;
  for (int a = 0; a < 3; a++) {
    size_t b = sim_dataset_episode_bytes(ds, arrays[a]);
    if (b > max) max = b;
  }
  void *buf = malloc(max);
  if (!buf) return mb_fail(err, err_sz, "out of memory");
  int64_t eps[2] = {0, d->episodes - 1};
  bool ok = true;
  for (int e = 0; e < 2 && ok; e++)
    for (int a = 0; a < 3 && ok; a++) {
      ok = sim_dataset_read(ds, arrays[a], eps[e], 1, buf, err, err_sz);
      if (ok) h = fnv(h, buf, sim_dataset_episode_bytes(ds, arrays[a]));
    }
  free(buf);
  snprintf(d->hash, sizeof d->hash, "%016llx", (unsigned long long)h);
  return ok;
}

/* Reads one split: its episode list, images (fast path), actions and arm positions. */
static int read_split(app_dist_split *s, sim_dataset *ds, sim_split which, const float *actions,
                      const float *arm, char *err, size_t err_sz) {
  const sim_dataset_meta *m = sim_dataset_get_meta(ds);
  int64_t n = sim_dataset_split_episodes(ds, which, NULL);
  if (n > INT32_MAX / SIM_EPISODE_FRAMES) {
    mb_fail(err, err_sz, "%s split of %lld episodes is too large", sim_split_name(which),
            (long long)n);
    return APP_EXIT_BAD_INPUT;
  }
  const size_t T = SIM_EPISODE_STEPS, F = SIM_EPISODE_FRAMES, J = (size_t)m->arm_joints;
  s->ids = malloc((size_t)(n ? n : 1) * sizeof *s->ids);
  s->images = malloc((size_t)(n ? n : 1) * F * SIM_IMAGE_BYTES);
  s->actions = malloc((size_t)(n ? n : 1) * T * 4 * sizeof(float));
  s->arm_qpos = malloc((size_t)(n ? n : 1) * F * J * sizeof(float));
  if (!s->ids || !s->images || !s->actions || !s->arm_qpos) {
    mb_fail(err, err_sz, "out of memory for the %s split (%lld episodes, %.1f GiB of images)",
            sim_split_name(which), (long long)n, (double)n * F * SIM_IMAGE_BYTES / (1u << 30));
    return APP_EXIT_FAILURE;
  }
  sim_dataset_split_episodes(ds, which, s->ids);
  for (int64_t i = 0; i < n; i++) {
    memcpy(s->actions + (size_t)i * T * 4, actions + (size_t)s->ids[i] * T * 4,
           T * 4 * sizeof(float));
    memcpy(s->arm_qpos + (size_t)i * F * J, arm + (size_t)s->ids[i] * F * J, F * J * sizeof(float));
  }
  if (n && !sim_dataset_read_images_of(ds, s->ids, n, s->images, err, err_sz))
    return APP_EXIT_BAD_INPUT;
  s->d = (dist_dataset){.episodes = (int)n,
                        .steps = (int)T,
                        .arm_dim = (int)J,
                        .images = s->images,
                        .actions = s->actions,
                        .arm_qpos = s->arm_qpos,
                        .ids = s->ids};
  return APP_EXIT_OK;
}

int app_dist_data_load(app_dist_data *out, const char *path, bool train, bool val, char *err,
                       size_t err_sz) {
  memset(out, 0, sizeof *out);
  sim_dataset *ds = sim_dataset_open(path, err, err_sz);
  if (!ds) return APP_EXIT_BAD_INPUT;
  out->path = strdup(path);
  out->meta = *sim_dataset_get_meta(ds);
  out->episodes = sim_dataset_episodes(ds);
  struct stat st;
  out->file_bytes = stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
  int rc = APP_EXIT_OK;
  float *actions = NULL, *arm = NULL;
  if (out->episodes < 1) {
    mb_fail(err, err_sz, "%s: the dataset holds no episodes", path);
    rc = APP_EXIT_BAD_INPUT;
  } else if (!identity(out, ds, err, err_sz)) {
    rc = APP_EXIT_BAD_INPUT;
  } else if (train || val) {
    size_t na = sim_dataset_episode_bytes(ds, SIM_DS_ACTIONS) * (size_t)out->episodes;
    size_t nq = sim_dataset_episode_bytes(ds, SIM_DS_ARM_QPOS) * (size_t)out->episodes;
    actions = malloc(na);
    arm = malloc(nq);
    if (!actions || !arm) {
      mb_fail(err, err_sz, "out of memory");
      rc = APP_EXIT_FAILURE;
    } else if (!sim_dataset_read(ds, SIM_DS_ACTIONS, 0, out->episodes, actions, err, err_sz) ||
               !sim_dataset_read(ds, SIM_DS_ARM_QPOS, 0, out->episodes, arm, err, err_sz)) {
      rc = APP_EXIT_BAD_INPUT;
    }
    if (rc == APP_EXIT_OK && train)
      rc = read_split(&out->train, ds, SIM_SPLIT_TRAIN, actions, arm, err, err_sz);
    if (rc == APP_EXIT_OK && val)
      rc = read_split(&out->val, ds, SIM_SPLIT_VAL, actions, arm, err, err_sz);
  }
  free(actions);
  free(arm);
  sim_dataset_close(ds);
  if (rc != APP_EXIT_OK) app_dist_data_free(out);
  return rc;
}

void app_dist_data_identity(const app_dist_data *d, mb_jw *w) {
  mb_jw_kv_string(w, "path", d->path);
  mb_jw_kv_int(w, "bytes", d->file_bytes);
  mb_jw_kv_string(w, "hash", d->hash);
  mb_jw_kv_string(w, "task", sim_task_name(d->meta.task));
  mb_jw_kv_int(w, "seed", (int64_t)d->meta.seed);
  mb_jw_kv_string(w, "scene_version", d->meta.scene_version);
  mb_jw_kv_int(w, "episodes", d->episodes);
  mb_jw_kv_string(w, "split_rule", SIM_DATASET_SPLIT_RULE);
}

bool app_dist_data_same(const mb_json *rec, const app_dist_data *d, char *why, size_t why_sz) {
  const char *hash = mb_json_as_string(mb_json_get(rec, "hash"));
  const char *task = mb_json_as_string(mb_json_get(rec, "task"));
  const char *path = mb_json_as_string(mb_json_get(rec, "path"));
  int64_t episodes = -1;
  mb_json_as_int64(mb_json_get(rec, "episodes"), &episodes);
  if (!hash || !task)
    return mb_fail(why, why_sz, "the run's config.json records no dataset identity");
  if (strcmp(hash, d->hash) || strcmp(task, sim_task_name(d->meta.task)) || episodes != d->episodes)
    return mb_fail(why, why_sz,
                   "the run was trained on %s (%s, %lld episodes, hash %s), not on %s (%s, %lld "
                   "episodes, hash %s)",
                   path ? path : "?", task, (long long)episodes, hash, d->path,
                   sim_task_name(d->meta.task), (long long)d->episodes, d->hash);
  return true;
}
