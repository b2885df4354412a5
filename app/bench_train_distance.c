/* mbold bench train-distance: milliseconds per full training step of the distance learner at
 * batch 64 (both critics with CQL, target networks, the actor and Polyak averaging every 2nd step:
 * timed over whole pairs of steps), where the time goes, and the trainer's resident memory against
 * the dataset's image bytes. Targets (issue 4): CPU <= 100 ms (PyTorch 1.13 on this machine: 120 ms
 * with 1 thread, 220 ms with 2), Vulkan on lavapipe <= 3x the CPU backend, resident size <= image
 * bytes + 1 GiB. Without --data the images are synthetic (their content does not change the work).
 */
#include "app_cli.h"
#include "app_dist_data.h"

#include "dist_train.h"
#include "mb_clock.h"
#include "mb_philox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

int app_bench_train_distance(int argc, char **argv);

/* VmRSS and VmHWM of this process in bytes (-1 if unknown). */
static void resident(int64_t *rss, int64_t *peak) {
  *rss = *peak = -1;
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return;
  char line[256];
  while (fgets(line, sizeof line, f)) {
    long long kb;
    if (sscanf(line, "VmRSS: %lld kB", &kb) == 1) *rss = kb * 1024;
    if (sscanf(line, "VmHWM: %lld kB", &kb) == 1) *peak = kb * 1024;
  }
  fclose(f);
}

/* CPU seconds (user + system) this process has used: on a machine shared with other work the wall
 * time per step grows with the load, the CPU time much less. */
static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec * 1e-6;
}

typedef struct synthetic {
  dist_dataset d;
  uint8_t *images;
  float *actions, *arm;
} synthetic;

static bool synthetic_make(synthetic *s, int episodes) {
  const int T = 30, F = T + 1, J = 7;
  s->images = malloc((size_t)episodes * F * DIST_IMAGE_BYTES);
  s->actions = malloc((size_t)episodes * T * 4 * sizeof(float));
  s->arm = malloc((size_t)episodes * F * J * sizeof(float));
  if (!s->images || !s->actions || !s->arm) return false;
  mb_rng r = mb_rng_make(1, 0);
  for (size_t i = 0; i < (size_t)episodes * F * DIST_IMAGE_BYTES; i++)
    s->images[i] = (uint8_t)((i * 2654435761u) >> 24);
  for (size_t i = 0; i < (size_t)episodes * T * 4; i++) s->actions[i] = 2 * mb_rng_uniform(&r) - 1;
  for (size_t i = 0; i < (size_t)episodes * F * J; i++) s->arm[i] = mb_rng_uniform(&r);
  s->d = (dist_dataset){.episodes = episodes,
                        .steps = T,
                        .arm_dim = J,
                        .images = s->images,
                        .actions = s->actions,
                        .arm_qpos = s->arm};
  return true;
}

static void synthetic_free(synthetic *s) {
  free(s->images), free(s->actions), free(s->arm);
}

int app_bench_train_distance(int argc, char **argv) {
  const char *cmd = "bench train-distance";
  gchar *backend_name = NULL, *data_path = NULL, *method_name = NULL;
  gboolean json = FALSE;
  gint pairs = 10, episodes = 300, threads = 0;
  GOptionEntry entries[] = {
      {"backend", 'b', 0, G_OPTION_ARG_STRING, &backend_name, "auto, cpu or vulkan", "B"},
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON", NULL},
      {"pairs", 0, 0, G_OPTION_ARG_INT, &pairs, "pairs of steps timed (default 10)", "N"},
      {"data", 'd', 0, G_OPTION_ARG_FILENAME, &data_path,
       "train on this dataset's train split (default: synthetic images)", "FILE.h5"},
      {"episodes", 0, 0, G_OPTION_ARG_INT, &episodes, "synthetic episodes (default 300)", "N"},
      {"method", 'm', 0, G_OPTION_ARG_STRING, &method_name, "q (default) or regression", "M"},
      {"threads", 'j', 0, G_OPTION_ARG_INT, &threads, "CPU backend threads", "K"},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int rc = app_parse_options(cmd, "", "Times the distance learner's training step.", entries, &argc,
                             &argv);
  app_dist_data data = {0};
  synthetic syn = {0};
  cmp_ctx *ctx = NULL;
  dist_trainer *t = NULL;
  char err[1024] = "";
  if (rc >= 0) goto done;
  rc = APP_EXIT_BAD_INPUT;
  dist_method method = DIST_METHOD_Q;
  if (method_name && !dist_method_parse(method_name, &method)) {
    app_bad_input(cmd, "--method: unknown method '%s'", method_name);
    goto done;
  }
  cmp_backend_choice backend;
  if (!app_backend_option(cmd, backend_name, &backend)) goto done;
  if (pairs < 1 || episodes < 2 || threads < 0) {
    app_bad_input(cmd, "--pairs, --episodes and --threads must be positive (episodes >= 2)");
    goto done;
  }
  const dist_dataset *d;
  if (data_path) {
    rc = app_dist_data_load(&data, data_path, true, false, err, sizeof err);
    if (rc != APP_EXIT_OK) {
      app_bad_input(cmd, "%s", err);
      goto done;
    }
    rc = APP_EXIT_BAD_INPUT;
    d = &data.train.d;
  } else {
    if (!synthetic_make(&syn, episodes)) {
      rc = app_failure(cmd, "out of memory for %d synthetic episodes", episodes);
      goto done;
    }
    d = &syn.d;
  }
  cmp_options opt = cmp_options_default();
  opt.threads = threads;
  char why[512];
  ctx = cmp_create(backend, &opt, why, sizeof why, err, sizeof err);
  if (!ctx) {
    rc = app_failure(cmd, "%s", err);
    goto done;
  }
  if (!json) printf("backend %s: %s\n", cmp_backend_name(ctx), why);
  dist_hparams h = dist_hparams_default(method, 30.0f);
  t = dist_trainer_create(ctx, &h, d, err, sizeof err);
  if (!t) {
    rc = app_bad_input(cmd, "%s", err);
    goto done;
  }
  rc = APP_EXIT_FAILURE;
  float losses[DIST_MAX_LOSSES];
  int64_t step = 0;
  for (int i = 0; i < 4; i++) /* warm-up: scratch sizes, caches, pipelines */
    if (!dist_trainer_step(t, ++step, losses, err, sizeof err)) {
      app_failure(cmd, "%s", err);
      goto done;
    }
  cmp_sync(ctx);
  double total = 0, best = 1e30, cpu0 = cpu_seconds();
  for (int p = 0; p < pairs; p++) {
    double t0 = mb_now();
    for (int k = 0; k < 2; k++)
      if (!dist_trainer_step(t, ++step, losses, err, sizeof err)) {
        app_failure(cmd, "%s", err);
        goto done;
      }
    cmp_sync(ctx);
    double dt = (mb_now() - t0) / 2;
    total += dt;
    if (dt < best) best = dt;
  }
  double mean = total / pairs, cpu_per_step = (cpu_seconds() - cpu0) / (2.0 * pairs);
  /* Where the time goes: the same steps again with a device sync after each phase. */
  double phase[DIST_PHASE_COUNT] = {0};
  dist_trainer_profile(t, phase);
  for (int p = 0; p < pairs; p++)
    for (int k = 0; k < 2; k++)
      if (!dist_trainer_step(t, ++step, losses, err, sizeof err)) {
        app_failure(cmd, "%s", err);
        goto done;
      }
  dist_trainer_profile(t, NULL);
  int64_t rss, peak;
  resident(&rss, &peak);
  size_t image_bytes = dist_dataset_image_bytes(d);
  const char *phase_names[DIST_PHASE_COUNT] = {"batch", "targets", "critics", "actor", "update"};
  const double gib = 1024.0 * 1024.0 * 1024.0;
  bool cpu = !strcmp(cmp_backend_name(ctx), "cpu");
  if (json) {
    printf(
        "{\n  \"benchmark\": \"train-distance\",\n  \"backend\": \"%s\",\n  \"device\": \"%s\",\n",
        cmp_backend_name(ctx), cmp_device_name(ctx));
    printf("  \"method\": \"%s\",\n  \"batch\": %d,\n  \"steps_timed\": %d,\n",
           dist_method_name(method), h.batch, 2 * pairs);
    printf("  \"ms_per_step\": %.2f,\n  \"ms_per_step_best_pair\": %.2f,\n", mean * 1e3,
           best * 1e3);
    printf("  \"cpu_ms_per_step\": %.2f,\n", cpu_per_step * 1e3);
    printf("  \"phases_ms_per_step\": {");
    for (int i = 0; i < DIST_PHASE_COUNT; i++)
      printf("%s\"%s\": %.2f", i ? ", " : "", phase_names[i], phase[i] / (2.0 * pairs) * 1e3);
    printf("},\n");
    printf("  \"rss_bytes\": %lld,\n  \"peak_rss_bytes\": %lld,\n  \"dataset_image_bytes\": %zu,\n",
           (long long)rss, (long long)peak, image_bytes);
    printf("  \"rss_over_images_bytes\": %lld,\n", (long long)(peak - (int64_t)image_bytes));
    printf("  \"targets\": {\"cpu_backend_ms_per_step\": 100, \"vulkan_over_cpu\": 3, "
           "\"rss_over_images_bytes\": %lld},\n",
           (long long)gib);
    printf("  \"reference_pytorch_1_13_cpu_ms\": {\"threads_1\": 120, \"threads_2\": 220},\n");
    printf("  \"within_targets\": {\"time\": %s, \"memory\": %s}\n}\n",
           cpu ? (mean * 1e3 <= 100 ? "true" : "false") : "null",
           peak - (int64_t)image_bytes <= (int64_t)gib ? "true" : "false");
  } else {
    printf("%s step, batch %d: %.1f ms mean, %.1f ms best (over %d pairs of steps), %.1f ms of CPU "
           "time per step\n",
           dist_method_name(method), h.batch, mean * 1e3, best * 1e3, pairs, cpu_per_step * 1e3);
    for (int i = 0; i < DIST_PHASE_COUNT; i++)
      printf("  %-8s %7.2f ms\n", phase_names[i], phase[i] / (2.0 * pairs) * 1e3);
    printf("resident %.0f MiB (peak %.0f MiB), images %.0f MiB: %.0f MiB over the images "
           "(target <= 1024)\n",
           rss / 1048576.0, peak / 1048576.0, image_bytes / 1048576.0,
           (peak - (double)image_bytes) / 1048576.0);
  }
  rc = APP_EXIT_OK;
done:
  dist_trainer_destroy(t);
  cmp_destroy(ctx);
  app_dist_data_free(&data);
  synthetic_free(&syn);
  g_free(backend_name), g_free(data_path), g_free(method_name);
  return rc;
}
