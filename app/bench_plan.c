/* mbold bench plan: wall time of one full replan (CEM 3 iterations x 200 samples, horizon 13) from
 * a start state, through the episode runner (app_runner_replan), i.e. what eval and the workbench
 * run: oracle dynamics + pixel cost, oracle + Q (with --distance), learned dynamics + pixel (with
 * --dynamics) and learned + Q (with both). Target (issue 6): <= 1 s per replan on the CPU backend.
 * With --dynamics it also times the learned model's batched rollout alone (200 candidates x 13
 * steps from one context, final frames; issue 5's target: <= 300 ms on the CPU backend). */
#include "app_bench_dynamics.h"
#include "app_cli.h"
#include "runner.h"

#include "mb_clock.h"
#include "mb_err.h"
#include "mb_json.h"
#include "mb_stats.h"
#include "sim_render.h"
#include "train_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int app_bench_plan(int argc, char **argv);

#define MAX_REPS 100

typedef struct plan_case {
  app_dynamics_kind dynamics; /* oracle or learned */
  app_cost_kind cost;         /* pixel or q */
  double first_s;             /* the first replan (lazy set-up: contexts, threads, caches) */
  double median_s, min_s;     /* over the timed replans */
  double samples_s[MAX_REPS]; /* every timed replan */
  double cpu_s[MAX_REPS];     /* CPU time of the process (all threads) during each replan */
  double cpu_median_s;        /* median of cpu_s: what the replan costs on a busy machine */
} plan_case;

/* CPU time of the whole process, every thread (oracle workers, OpenBLAS, llvmpipe) included. On a
 * shared machine the wall time depends on the other load; this does not. */
static double process_cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A start state (reset seed 7) and a goal image (reset seed 8) of the task. */
static bool make_problem(sim_task task, double **state, int *n, uint8_t *goal, char *err,
                         size_t err_sz) {
  sim_model *m = sim_model_load(task, app_assets_dir(), err, err_sz);
  if (!m) return false;
  sim_world *w = sim_world_create(m, err, err_sz);
  sim_renderer *r = w ? sim_renderer_create(m, 64, 64, 1, SIM_QUALITY_AGENT, err, err_sz) : NULL;
  bool ok = r != NULL;
  if (ok) {
    sim_world_reset(w, 8);
    ok = sim_render_agent(r, w, goal, err, err_sz);
    sim_world_reset(w, 7);
    *n = sim_model_state_size(m);
    *state = malloc(sizeof(double) * (size_t)*n);
    if (*state)
      sim_world_get_state(w, *state);
    else
      ok = mb_fail(err, err_sz, "out of memory");
  }
  sim_renderer_free(r);
  sim_world_free(w);
  sim_model_free(m);
  return ok;
}

static bool run_case(plan_case *c, const app_runner_config *base, const char *distance,
                     const char *dynamics, const double *state, int n, const uint8_t *goal,
                     int reps, char *err, size_t err_sz) {
  app_runner_config cfg = *base;
  cfg.dynamics = c->dynamics;
  cfg.dynamics_run = c->dynamics == APP_DYNAMICS_LEARNED ? dynamics : NULL;
  cfg.cost = c->cost;
  cfg.distance_run = c->cost == APP_COST_Q ? distance : NULL;
  app_runner *r = app_runner_create(&cfg, err, err_sz);
  if (!r) return false;
  bool ok = true;
  for (int k = -1; k < reps && ok; k++) {
    /* Each replan from the same start, cold (no warm start): the first replan of an episode. */
    ok = app_runner_start(r, state, n, goal, NULL, -1, err, err_sz);
    double t0 = mb_now(), c0 = process_cpu_seconds();
    ok = ok && app_runner_replan(r, NULL, NULL, err, err_sz);
    double dt = mb_now() - t0, dc = process_cpu_seconds() - c0;
    if (k < 0) {
      c->first_s = dt;
    } else {
      c->samples_s[k] = dt;
      c->cpu_s[k] = dc;
    }
  }
  app_runner_free(r);
  if (!ok) return false;
  c->median_s = mb_median(c->samples_s, reps);
  c->cpu_median_s = mb_median(c->cpu_s, reps);
  c->min_s = c->samples_s[0];
  for (int k = 1; k < reps; k++)
    if (c->samples_s[k] < c->min_s) c->min_s = c->samples_s[k];
  return true;
}

int app_bench_plan(int argc, char **argv) {
  const char *cmd = "bench plan";
  gchar *task_name = NULL, *distance = NULL, *dynamics = NULL, *backend_name = NULL;
  gint reps = 5, threads = 2;
  gboolean json = FALSE;
  cmp_ctx *ctx = NULL; /* the networks' backend: its name, and the rollout timing */
  GOptionEntry entries[] = {
      {"task", 't', 0, G_OPTION_ARG_STRING, &task_name, "task (default push1)", "T"},
      {"distance", 0, 0, G_OPTION_ARG_FILENAME, &distance, "Q distance run: adds the q cost",
       "RUN"},
      {"dynamics", 0, 0, G_OPTION_ARG_FILENAME, &dynamics, "dynamics run: adds learned dynamics",
       "RUN"},
      {"backend", 0, 0, G_OPTION_ARG_STRING, &backend_name, "auto, cpu or vulkan (networks)", "B"},
      {"reps", 'r', 0, G_OPTION_ARG_INT, &reps, "timed replans per case (default 5)", "R"},
      {"threads", 'j', 0, G_OPTION_ARG_INT, &threads, "oracle rollout threads (default 2)", "K"},
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON", NULL},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int rc = app_parse_options(cmd, "",
                             "Wall time of one full CEM replan (3 x 200 samples, horizon 13) "
                             "through the episode runner.",
                             entries, &argc, &argv);
  double *state = NULL;
  if (rc >= 0) goto done;
  rc = APP_EXIT_BAD_INPUT;
  if (argc > 1) {
    app_bad_input(cmd, "unexpected argument '%s'", argv[1]);
    goto done;
  }
  sim_task task = SIM_TASK_PUSH1;
  if (task_name && !app_task_option(cmd, task_name, &task)) goto done;
  if (reps < 1 || reps > MAX_REPS || threads < 1 || threads > 64) {
    app_bad_input(cmd, "--reps must be in 1..%d and --threads in 1..64", MAX_REPS);
    goto done;
  }
  app_runner_config base = app_runner_default_config(task, app_assets_dir());
  base.oracle_threads = threads;
  if (!app_backend_option(cmd, backend_name, &base.backend)) goto done;
  char err[1024];
  /* Run folders are checked before any timing, so a typo costs no benchmark. */
  const char *runs[2] = {distance, dynamics}, *opts[2] = {"--distance", "--dynamics"};
  for (int k = 0; k < 2; k++) {
    if (!runs[k]) continue;
    char *ckpt = train_run_latest_checkpoint(runs[k], NULL, err, sizeof err);
    if (!ckpt) {
      app_bad_input(cmd, "%s: %s", opts[k], err);
      goto done;
    }
    free(ckpt);
  }
  /* The backend the networks run on, as the providers will resolve it. */
  char why[512] = "";
  ctx = cmp_create(base.backend, NULL, why, sizeof why, err, sizeof err);
  if (!ctx) {
    app_bad_input(cmd, "--backend: %s", err);
    goto done;
  }
  char backend[32], device[256], gl[256] = "?", glv[256];
  snprintf(backend, sizeof backend, "%s", cmp_backend_name(ctx));
  snprintf(device, sizeof device, "%s", cmp_device_name(ctx));
  dyn_bench_result rollout; /* timed when there is a dynamics run */
  if (dynamics) {
    if (!json) fprintf(stderr, "bench plan: learned dynamics rollout ...\n");
    if (!app_bench_dynamics_rollout(ctx, dynamics, base.cem.samples, base.cem.horizon, reps,
                                    &rollout, err, sizeof err)) {
      app_bad_input(cmd, "--dynamics: %s", err);
      goto done;
    }
  }
  if (!sim_gl_info(gl, sizeof gl, glv, sizeof glv, err, sizeof err)) {
    app_bad_input(cmd, "%s", err);
    goto done;
  }

  int n = 0;
  static uint8_t goal[SIM_IMAGE_BYTES];
  if (!make_problem(task, &state, &n, goal, err, sizeof err)) {
    app_bad_input(cmd, "%s", err);
    goto done;
  }
  plan_case cases[4];
  int nc = 0;
  cases[nc++] = (plan_case){.dynamics = APP_DYNAMICS_ORACLE, .cost = APP_COST_PIXEL};
  if (distance) cases[nc++] = (plan_case){.dynamics = APP_DYNAMICS_ORACLE, .cost = APP_COST_Q};
  if (dynamics) cases[nc++] = (plan_case){.dynamics = APP_DYNAMICS_LEARNED, .cost = APP_COST_PIXEL};
  if (dynamics && distance)
    cases[nc++] = (plan_case){.dynamics = APP_DYNAMICS_LEARNED, .cost = APP_COST_Q};
  for (int c = 0; c < nc; c++) {
    if (!json)
      fprintf(stderr, "bench plan: %s dynamics + %s cost ...\n",
              app_dynamics_name(cases[c].dynamics), app_cost_name(cases[c].cost));
    if (!run_case(&cases[c], &base, distance, dynamics, state, n, goal, reps, err, sizeof err)) {
      /* A run folder that does not load is the user's input; anything later is a failure. */
      app_bad_input(cmd, "%s dynamics + %s cost: %s", app_dynamics_name(cases[c].dynamics),
                    app_cost_name(cases[c].cost), err);
      goto done;
    }
  }

  const cem_params *p = &base.cem;
  if (json) {
    mb_jw w;
    mb_jw_init(&w, true);
    mb_jw_begin_object(&w);
    mb_jw_kv_string(&w, "benchmark", "plan");
    mb_jw_kv_string(&w, "task", sim_task_name(task));
    mb_jw_kv_string(&w, "backend", backend);
    mb_jw_kv_string(&w, "device", device);
    mb_jw_kv_string(&w, "render_device", gl);
    mb_jw_kv_int(&w, "oracle_threads", threads);
    mb_jw_kv_int(&w, "samples", p->samples);
    mb_jw_kv_int(&w, "iterations", p->iterations);
    mb_jw_kv_int(&w, "horizon", p->horizon);
    mb_jw_kv_int(&w, "reps", reps);
    double load[3] = {0, 0, 0};
    if (getloadavg(load, 3) == 3) mb_jw_kv_double(&w, "load_average_1min", load[0]);
    mb_jw_kv_string(&w, "distance_run", distance);
    mb_jw_kv_string(&w, "dynamics_run", dynamics);
    mb_jw_key(&w, "cases");
    mb_jw_begin_array(&w);
    for (int c = 0; c < nc; c++) {
      mb_jw_begin_object(&w);
      mb_jw_kv_string(&w, "dynamics", app_dynamics_name(cases[c].dynamics));
      mb_jw_kv_string(&w, "cost", app_cost_name(cases[c].cost));
      mb_jw_kv_double(&w, "replan_s_median", cases[c].median_s);
      mb_jw_kv_double(&w, "replan_s_min", cases[c].min_s);
      mb_jw_kv_double(&w, "first_replan_s", cases[c].first_s);
      mb_jw_kv_double(&w, "replan_cpu_s_median", cases[c].cpu_median_s);
      mb_jw_key(&w, "replan_s");
      mb_jw_double_array(&w, cases[c].samples_s, reps);
      mb_jw_end_object(&w);
    }
    mb_jw_end_array(&w);
    if (dynamics) {
      mb_jw_key(&w, "learned_dynamics_rollout");
      app_bench_dynamics_json(&w, ctx, &rollout);
    }
    mb_jw_end_object(&w);
    char *text = mb_jw_take(&w);
    if (!text) {
      rc = app_failure(cmd, "out of memory");
      goto done;
    }
    printf("%s\n", text);
    free(text);
  } else {
    printf("plan %s: one replan = %d iterations x %d samples, horizon %d; networks on %s (%s), "
           "rendering on %s, %d oracle threads; %d timed replans each\n",
           sim_task_name(task), p->iterations, p->samples, p->horizon, backend, device, gl, threads,
           reps);
    for (int c = 0; c < nc; c++)
      printf("  %-7s dynamics + %-5s cost: median %.3f s, min %.3f s (first %.3f s)\n",
             app_dynamics_name(cases[c].dynamics), app_cost_name(cases[c].cost), cases[c].median_s,
             cases[c].min_s, cases[c].first_s);
    if (dynamics) app_bench_dynamics_print(ctx, &rollout);
  }
  rc = APP_EXIT_OK;
done:
  cmp_destroy(ctx);
  free(state);
  g_free(task_name), g_free(distance), g_free(dynamics), g_free(backend_name);
  return rc;
}
