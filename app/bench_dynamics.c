/* mbold bench dynamics: the learned dynamics' batched rollout (200 candidates x 13 steps from one
 * context, final frames decoded), the line `mbold bench plan` shows for learned dynamics; and
 * app_bench_dynamics_rollout, which bench_plan.c calls for that line. */
#include "app_bench_dynamics.h"

#include "app_cli.h"

#include "dyn_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool app_bench_dynamics_rollout(cmp_ctx *ctx, const char *run_dir, int samples, int horizon,
                                int reps, dyn_bench_result *out, char *err, size_t err_sz) {
  return dyn_bench_rollout(ctx, run_dir, samples, horizon, reps, out, err, err_sz);
}

void app_bench_dynamics_print(const cmp_ctx *ctx, const dyn_bench_result *r) {
  printf("  %-30s %-34s %9.1f ms (median %.1f) %6.1f GFLOP/s\n", "learned dynamics rollout", "",
         r->ms_best, r->ms_median, r->gflop / (r->ms_best * 1e-3));
  printf("  %-30s %d x %d steps, final frames, %s backend; context %.1f ms\n", "", r->samples,
         r->horizon, cmp_backend_name(ctx), r->ms_context);
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
  cmp_backend_choice choice = cmp_backend_from_env(CMP_BACKEND_AUTO);
  if (backend && !cmp_parse_backend(backend, &choice)) {
    app_bad_input(cmd, "--backend: unknown backend '%s' (auto, cpu or vulkan)", backend);
    goto done;
  }
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
