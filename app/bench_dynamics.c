/* mbold bench dynamics: the learned dynamics' batched rollout (200 candidates x 13 steps from one
 * context, final frames decoded), the line `mbold bench plan` shows for learned dynamics; and
 * app_bench_dynamics_rollout, which bench_plan.c calls for that line.
 * mbold bench train-dynamics: milliseconds per training step of the video model (synthetic
 * episodes: the cost does not depend on the pixels). */
#include "app_bench_dynamics.h"

#include "app_cli.h"

#include "dyn_plan.h"
#include "dyn_train.h"
#include "mb_clock.h"
#include "mb_philox.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

bool app_bench_dynamics_rollout(cmp_ctx *ctx, const char *run_dir, int samples, int horizon,
                                int reps, dyn_bench_result *out, char *err, size_t err_sz) {
  return dyn_bench_rollout(ctx, run_dir, samples, horizon, reps, out, err, err_sz);
}

void app_bench_dynamics_print(const cmp_ctx *ctx, const dyn_bench_result *r) {
  printf("  %-30s %-34s %9.1f ms (median %.1f) %6.1f GFLOP/s\n", "learned dynamics rollout", "",
         r->ms_best, r->ms_median, r->gflop / (r->ms_best * 1e-3));
  printf("  %-30s %d x %d steps, final frames, %s backend; context %.1f ms; process CPU %.1f ms "
         "(median call)\n",
         "", r->samples, r->horizon, cmp_backend_name(ctx), r->ms_context, r->cpu_ms_median);
}

void app_bench_dynamics_json(mb_jw *w, const cmp_ctx *ctx, const dyn_bench_result *r) {
  mb_jw_begin_object(w);
  mb_jw_kv_string(w, "name", "learned dynamics rollout");
  mb_jw_kv_string(w, "backend", cmp_backend_name(ctx));
  mb_jw_kv_string(w, "device", cmp_device_name(ctx));
  mb_jw_kv_string(w, "model", r->model);
  mb_jw_kv_int(w, "samples", r->samples);
  mb_jw_kv_int(w, "horizon", r->horizon);
  mb_jw_kv_int(w, "reps", r->reps);
  mb_jw_kv_double(w, "ms_best", r->ms_best);
  mb_jw_kv_double(w, "ms_median", r->ms_median);
  mb_jw_kv_double(w, "ms_context", r->ms_context);
  mb_jw_kv_double(w, "cpu_ms_median", r->cpu_ms_median);
  mb_jw_kv_double(w, "gflop", r->gflop);
  mb_jw_end_object(w);
}

int app_bench_dynamics(int argc, char **argv);

int app_bench_dynamics(int argc, char **argv) {
  const char *cmd = "bench dynamics";
  gchar *backend = NULL, *run = NULL;
  gboolean json = FALSE;
  gint samples = 200, horizon = 13, reps = 5, threads = 0;
  GOptionEntry entries[] = {
      {"backend", 0, 0, G_OPTION_ARG_STRING, &backend, "auto, cpu or vulkan (default: auto)", "B"},
      {"dynamics", 0, 0, G_OPTION_ARG_FILENAME, &run,
       "a dynamics run folder (default: an untrained model of the same size)", "RUN"},
      {"samples", 0, 0, G_OPTION_ARG_INT, &samples, "candidates (default 200)", "N"},
      {"horizon", 0, 0, G_OPTION_ARG_INT, &horizon, "steps (default 13)", "H"},
      {"reps", 0, 0, G_OPTION_ARG_INT, &reps, "timed repetitions (default 5)", "R"},
      {"threads", 0, 0, G_OPTION_ARG_INT, &threads, "CPU backend threads (default: all cores)",
       "K"},
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON instead of a table", NULL},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int rc = app_parse_options(cmd, "",
                             "Times the learned dynamics' batched rollout: N candidates x H "
                             "steps from one context, final frames decoded.",
                             entries, &argc, &argv);
  if (rc >= 0) goto done;
  rc = APP_EXIT_BAD_INPUT;
  cmp_backend_choice choice;
  if (!app_backend_option(cmd, backend, &choice)) goto done;
  if (samples < 1 || horizon < 1 || reps < 1 || threads < 0) {
    app_bad_input(cmd, "--samples, --horizon and --reps must be positive, --threads >= 0");
    goto done;
  }
  cmp_options opt = cmp_options_default();
  opt.threads = threads;
  char err[1024], why[512];
  cmp_ctx *ctx = cmp_create(choice, &opt, why, sizeof why, err, sizeof err);
  if (!ctx) {
    rc = app_failure(cmd, "%s", err);
    goto done;
  }
  dyn_bench_result r;
  if (!app_bench_dynamics_rollout(ctx, run, samples, horizon, reps, &r, err, sizeof err)) {
    rc = run ? app_bad_input(cmd, "%s", err) : app_failure(cmd, "%s", err);
    cmp_destroy(ctx);
    goto done;
  }
  if (json) {
    mb_jw w;
    mb_jw_init(&w, true);
    app_bench_dynamics_json(&w, ctx, &r);
    char *text = mb_jw_take(&w);
    printf("%s\n", text ? text : "");
    free(text);
  } else {
    printf("backend %s: %s\n", cmp_backend_name(ctx), why);
    printf("  model: %s\n", r.model);
    app_bench_dynamics_print(ctx, &r);
  }
  cmp_destroy(ctx);
  rc = APP_EXIT_OK;
done:
  g_free(backend);
  g_free(run);
  return rc;
}

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int app_bench_train_dynamics(int argc, char **argv);

int app_bench_train_dynamics(int argc, char **argv) {
  const char *cmd = "bench train-dynamics";
  gchar *backend = NULL;
  gboolean json = FALSE;
  gint batch = 16, steps = 8, threads = 0, latent = 0;
  gdouble blur = -1;
  GOptionEntry entries[] = {
      {"backend", 0, 0, G_OPTION_ARG_STRING, &backend, "auto, cpu or vulkan (default: auto)", "B"},
      {"batch", 0, 0, G_OPTION_ARG_INT, &batch, "windows per step (default 16)", "N"},
      {"steps", 0, 0, G_OPTION_ARG_INT, &steps, "timed steps (default 8)", "N"},
      {"latent", 0, 0, G_OPTION_ARG_INT, &latent, "latent channels (default: the model's)", "L"},
      {"blur", 0, 0, G_OPTION_ARG_DOUBLE, &blur, "blurred-warp sigma (default: the model's)", "S"},
      {"threads", 0, 0, G_OPTION_ARG_INT, &threads, "CPU backend threads (default: all cores)",
       "K"},
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON instead of a table", NULL},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int rc = app_parse_options(cmd, "",
                             "Times training steps of the video model (13 predicted frames per "
                             "window) on synthetic episodes.",
                             entries, &argc, &argv);
  if (rc >= 0) goto done;
  rc = APP_EXIT_BAD_INPUT;
  cmp_backend_choice choice;
  if (!app_backend_option(cmd, backend, &choice)) goto done;
  dyn_train_params p = dyn_train_defaults();
  p.batch = batch;
  if (latent > 0) p.model.latent = latent;
  if (blur >= 0) p.model.blur_sigma = (float)blur;
  char err[1024], why[512];
  if (steps < 1 || threads < 0 || !dyn_train_params_check(&p, err, sizeof err)) {
    app_bad_input(cmd, "%s", steps < 1 || threads < 0 ? "--steps must be positive" : err);
    goto done;
  }
  /* 64 synthetic episodes of 31 frames. */
  enum { EPS = 64, FRAMES = 31 };
  uint8_t *img = malloc((size_t)EPS * FRAMES * DYN_FRAME_BYTES);
  float *act = malloc((size_t)EPS * (FRAMES - 1) * DYN_ACTION_DIM * sizeof *act);
  double *ms = malloc((size_t)steps * 2 * sizeof *ms), *cpu = ms + steps;
  if (!img || !act || !ms) {
    rc = app_failure(cmd, "out of memory");
    free(img), free(act), free(ms);
    goto done;
  }
  for (size_t i = 0; i < (size_t)EPS * FRAMES * DYN_FRAME_BYTES; i++)
    img[i] = (uint8_t)mb_philox_u32(5, 0, i);
  for (size_t i = 0; i < (size_t)EPS * (FRAMES - 1) * DYN_ACTION_DIM; i++)
    act[i] = 2 * mb_philox_uniform(5, 1, i) - 1;
  dyn_episodes ep = {EPS, FRAMES, img, act};
  cmp_options opt = cmp_options_default();
  opt.threads = threads;
  cmp_ctx *ctx = cmp_create(choice, &opt, why, sizeof why, err, sizeof err);
  dyn_trainer *t = ctx ? dyn_trainer_create(ctx, &p, &ep, NULL, err, sizeof err) : NULL;
  bool ok = t != NULL;
  float loss = 0;
  for (int s = 0; ok && s <= steps; s++) { /* step 1 warms up */
    double t0 = mb_now(), c0 = cpu_now();
    ok = dyn_trainer_step(t, s + 1, &loss, err, sizeof err);
    cmp_sync(ctx);
    if (s > 0) ms[s - 1] = (mb_now() - t0) * 1e3, cpu[s - 1] = (cpu_now() - c0) * 1e3;
  }
  if (!ok) {
    rc = app_failure(cmd, "%s", err);
  } else {
    qsort(ms, (size_t)steps, sizeof *ms, by_value);
    qsort(cpu, (size_t)steps, sizeof *cpu, by_value);
    dyn_flops f = dyn_model_flops(&p.model);
    /* Forward over the window, backward about twice that. */
    double gflop = 3.0 * batch * (f.encode + p.horizon * (f.step + f.decode)) * 1e-9;
    if (json) {
      mb_jw w;
      mb_jw_init(&w, true);
      mb_jw_begin_object(&w);
      mb_jw_kv_string(&w, "name", "train dynamics step");
      mb_jw_kv_string(&w, "backend", cmp_backend_name(ctx));
      mb_jw_kv_string(&w, "device", cmp_device_name(ctx));
      mb_jw_kv_int(&w, "batch", batch);
      mb_jw_kv_int(&w, "horizon", p.horizon);
      mb_jw_kv_int(&w, "latent", p.model.latent);
      mb_jw_kv_double(&w, "blur_sigma", p.model.blur_sigma);
      mb_jw_kv_int(&w, "steps", steps);
      mb_jw_kv_double(&w, "ms_best", ms[0]);
      mb_jw_kv_double(&w, "ms_median", ms[steps / 2]);
      mb_jw_kv_double(&w, "cpu_ms_median", cpu[steps / 2]);
      mb_jw_kv_double(&w, "gflop_per_step", gflop);
      mb_jw_end_object(&w);
      char *text = mb_jw_take(&w);
      printf("%s\n", text ? text : "");
      free(text);
    } else {
      printf("backend %s: %s\n", cmp_backend_name(ctx), why);
      printf("  %-30s batch %d x %d frames, latent %d, blur %g: %9.1f ms (median %.1f) "
             "%6.1f GFLOP/s, %.1f windows/s; process CPU %.1f ms (median step)\n",
             "train dynamics step", batch, p.horizon, p.model.latent, p.model.blur_sigma, ms[0],
             ms[steps / 2], gflop / (ms[0] * 1e-3), batch / (ms[steps / 2] * 1e-3), cpu[steps / 2]);
    }
    rc = APP_EXIT_OK;
  }
  dyn_trainer_destroy(t);
  if (ctx) cmp_destroy(ctx);
  free(img), free(act), free(ms);
done:
  g_free(backend);
  return rc;
}
