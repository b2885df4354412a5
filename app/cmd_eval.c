/* mbold eval: runs every goal of a suite from its exact start state with the CEM planner and
 * reports the success rate (Wilson 95% interval), final distances, per-goal outcomes and plan time
 * per action; optionally a PNG strip per episode and the planner traces. */
#include "app_cli.h"
#include "app_interrupt.h"
#include "app_progress.h"
#include "runner.h"

#include "mb_clock.h"
#include "mb_file.h"
#include "mb_json.h"
#include "mb_stats.h"
#include "sim_goals.h"
#include "sim_png.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct goal_result {
  bool done;             /* the episode ran */
  bool success;          /* sim_goal_distance's success at the end */
  double final_distance; /* metres, relevant object (or hand) to its goal */
  double start_distance; /* metres at the start */
  double plan_seconds;   /* replanning time of the episode */
} goal_result;

typedef struct eval_job {
  const char *cmd;        /* for messages */
  app_runner_config cfg;  /* per-thread runners are made from it */
  const sim_suite *suite; /* the goals */
  int count;              /* goals to run (the first `count`) */
  uint64_t seed;          /* planner seed; goal i plans with a seed derived from (seed, i) */
  const char *png_dir;    /* per-episode strips (may be NULL) */
  FILE *trace;            /* planner traces as JSON lines (may be NULL) */
  goal_result *results;   /* (count) */
  atomic_int next;        /* next goal index to take */
  atomic_int finished;    /* goals done */
  atomic_int successes;   /* of those */
  atomic_int *cancel;     /* Ctrl-C */
  pthread_mutex_t lock;   /* progress, trace file, first error */
  app_progress progress;  /* terminal progress */
  char err[1024];         /* first error */
  bool failed;            /* a worker failed */
} eval_job;

typedef struct trace_ctx {
  eval_job *job; /* where the trace file is */
  int goal;      /* which goal the traces belong to */
} trace_ctx;

static void write_trace(void *user, cem_trace *t) {
  trace_ctx *tc = user;
  mb_jw w;
  mb_jw_init(&w, false);
  mb_jw_begin_object(&w);
  mb_jw_kv_int(&w, "goal", tc->goal);
  mb_jw_kv_int(&w, "replan", t->replan);
  mb_jw_kv_int(&w, "iteration", t->iteration);
  mb_jw_kv_double(&w, "seconds", t->seconds);
  mb_jw_key(&w, "costs");
  mb_jw_float_array(&w, t->costs, t->samples);
  mb_jw_key(&w, "elites");
  mb_jw_begin_array(&w);
  for (int e = 0; e < t->elites; e++) mb_jw_int(&w, t->elite_idx[e]);
  mb_jw_end_array(&w);
  int seq = t->horizon * t->act_dim;
  mb_jw_key(&w, "mean");
  mb_jw_float_array(&w, t->mean, seq);
  mb_jw_key(&w, "std");
  mb_jw_float_array(&w, t->std, seq);
  mb_jw_key(&w, "actions");
  mb_jw_float_array(&w, t->actions, t->samples * seq);
  mb_jw_end_object(&w);
  char *line = mb_jw_take(&w);
  pthread_mutex_lock(&tc->job->lock);
  if (line) fprintf(tc->job->trace, "%s\n", line);
  pthread_mutex_unlock(&tc->job->lock);
  free(line);
}

/* goal image | gap | frames 0..30 of the episode, one row. */
static bool write_strip(const char *dir, int goal, const app_runner *r, const uint8_t *goal_img,
                        char *err, size_t err_sz) {
  const int s = SIM_IMAGE_SIZE, frames = app_runner_step(r) + 1, gap = 8;
  int width = s + gap + frames * s;
  uint8_t *img = malloc((size_t)width * s * 3);
  if (!img) return false;
  memset(img, 255, (size_t)width * s * 3);
  for (int y = 0; y < s; y++) {
    memcpy(img + ((size_t)y * width) * 3, goal_img + (size_t)y * s * 3, (size_t)s * 3);
    for (int f = 0; f < frames; f++)
      memcpy(img + ((size_t)y * width + s + gap + f * s) * 3,
             app_runner_frame(r, f) + (size_t)y * s * 3, (size_t)s * 3);
  }
  char name[64];
  snprintf(name, sizeof name, "episode-%03d.png", goal);
  char *path = mb_path_join(dir, name);
  bool ok = sim_png_write(path, img, width, s, err, err_sz);
  free(path);
  free(img);
  return ok;
}

static void fail_job(eval_job *job, const char *msg) {
  pthread_mutex_lock(&job->lock);
  if (!job->failed) snprintf(job->err, sizeof job->err, "%s", msg);
  job->failed = true;
  atomic_store(job->cancel, 1);
  pthread_mutex_unlock(&job->lock);
}

static void *eval_worker(void *arg) {
  eval_job *job = arg;
  char err[1024];
  app_runner *r = app_runner_create(&job->cfg, err, sizeof err);
  if (!r) {
    fail_job(job, err);
    return NULL;
  }
  static const int max_state = 4096;
  uint8_t goal_img[SIM_IMAGE_BYTES];
  for (;;) {
    int i = atomic_fetch_add(&job->next, 1);
    if (i >= job->count || atomic_load(job->cancel)) break;
    const sim_goal *g = &job->suite->goals[i];
    if (job->suite->state_size > max_state ||
        !sim_suite_goal_image(job->suite, i, goal_img, err, sizeof err)) {
      fail_job(job, err);
      break;
    }
    /* A seed per goal: results do not depend on which thread runs which goal. */
    app_runner_set_seed(r, job->seed * 1000003ull + (uint64_t)i);
    if (!app_runner_start(r, g->start_state, job->suite->state_size, goal_img, &g->goal, g->target,
                          err, sizeof err)) {
      fail_job(job, err);
      break;
    }
    goal_result *res = &job->results[i];
    res->start_distance = app_runner_goal_distance(r, NULL);
    trace_ctx tc = {job, i};
    cem_observer obs = {write_trace, &tc, false};
    if (!app_runner_run_episode(r, job->trace ? &obs : NULL, job->cancel, err, sizeof err)) {
      if (!atomic_load(job->cancel)) fail_job(job, err);
      break;
    }
    res->final_distance = app_runner_goal_distance(r, &res->success);
    res->plan_seconds = app_runner_plan_seconds(r);
    res->done = true;
    if (job->png_dir && !write_strip(job->png_dir, i, r, goal_img, err, sizeof err)) {
      fail_job(job, err);
      break;
    }
    int done = atomic_fetch_add(&job->finished, 1) + 1;
    int succ = atomic_fetch_add(&job->successes, res->success ? 1 : 0) + (res->success ? 1 : 0);
    char detail[96];
    snprintf(detail, sizeof detail, "success %d/%d (%.0f%%)", succ, done, 100.0 * succ / done);
    pthread_mutex_lock(&job->lock);
    app_progress_cb(&job->progress, done, job->count, detail);
    pthread_mutex_unlock(&job->lock);
  }
  app_runner_free(r);
  return NULL;
}

static char *results_json(const eval_job *job, int threads, double wall) {
  int n = 0, succ = 0;
  double *finals = malloc(sizeof(double) * (size_t)job->count);
  double plan = 0;
  for (int i = 0; i < job->count; i++) {
    if (!job->results[i].done) continue;
    finals[n++] = job->results[i].final_distance;
    succ += job->results[i].success;
    plan += job->results[i].plan_seconds;
  }
  double lo, hi;
  mb_wilson95(succ, n, &lo, &hi);
  mb_jw w;
  mb_jw_init(&w, true);
  mb_jw_begin_object(&w);
  mb_jw_kv_string(&w, "task", sim_task_name(job->cfg.task));
  mb_jw_kv_string(&w, "goals_dir", job->suite->dir);
  mb_jw_kv_string(&w, "difficulty", job->suite->hard ? "hard" : "regular");
  mb_jw_kv_string(&w, "dynamics", app_dynamics_name(job->cfg.dynamics));
  mb_jw_kv_string(&w, "dynamics_run", job->cfg.dynamics_run);
  mb_jw_kv_string(&w, "cost", app_cost_name(job->cfg.cost));
  mb_jw_kv_string(&w, "distance_run", job->cfg.distance_run);
  mb_jw_kv_int(&w, "seed", (int64_t)job->seed);
  mb_jw_key(&w, "cem");
  mb_jw_begin_object(&w);
  mb_jw_kv_int(&w, "samples", job->cfg.cem.samples);
  mb_jw_kv_int(&w, "iterations", job->cfg.cem.iterations);
  mb_jw_kv_int(&w, "elites", job->cfg.cem.elites);
  mb_jw_kv_int(&w, "horizon", job->cfg.cem.horizon);
  mb_jw_kv_int(&w, "actions_per_plan", job->cfg.actions_per_plan);
  mb_jw_kv_bool(&w, "score_at_episode_end", job->cfg.score_at_episode_end);
  mb_jw_end_object(&w);
  mb_jw_kv_int(&w, "episodes", n);
  mb_jw_kv_int(&w, "successes", succ);
  mb_jw_kv_double(&w, "success_rate", n ? (double)succ / n : 0);
  mb_jw_key(&w, "success_wilson95");
  double ci[2] = {lo, hi};
  mb_jw_double_array(&w, ci, 2);
  mb_jw_kv_double(&w, "final_distance_mean", mb_mean(finals, n));
  mb_jw_kv_double(&w, "final_distance_median", mb_median(finals, n));
  int actions = n * job->cfg.episode_steps;
  mb_jw_kv_double(&w, "plan_seconds_per_action", actions ? plan / actions : 0);
  mb_jw_kv_int(&w, "threads", threads);
  mb_jw_kv_double(&w, "wall_seconds", wall);
  mb_jw_key(&w, "per_goal");
  mb_jw_begin_array(&w);
  for (int i = 0; i < job->count; i++) {
    const goal_result *r = &job->results[i];
    if (!r->done) continue;
    bool pretty = w.pretty;
    w.pretty = false;
    mb_jw_begin_object(&w);
    mb_jw_kv_int(&w, "index", i);
    mb_jw_kv_bool(&w, "success", r->success);
    mb_jw_kv_double(&w, "start_distance", r->start_distance);
    mb_jw_kv_double(&w, "final_distance", r->final_distance);
    mb_jw_kv_double(&w, "plan_seconds", r->plan_seconds);
    mb_jw_end_object(&w);
    w.pretty = pretty;
  }
  mb_jw_end_array(&w);
  mb_jw_end_object(&w);
  free(finals);
  return mb_jw_take(&w);
}

int app_cmd_eval(int argc, char **argv);

int app_cmd_eval(int argc, char **argv) {
  const char *cmd = "eval";
  gchar *task_name = NULL, *goals = NULL, *distance = NULL, *dynamics = NULL, *cost_name = NULL;
  gchar *json = NULL, *png = NULL, *trace = NULL, *backend_name = NULL;
  gint64 seed = 1;
  gint threads = 1, count = 0, samples = 0, iterations = 0, elites = 0, horizon = 0, per_plan = 0;
  gboolean fixed_horizon = FALSE;
  GOptionEntry entries[] = {
      {"task", 't', 0, G_OPTION_ARG_STRING, &task_name, "reach, push1, push3 or door", "T"},
      {"goals", 'g', 0, G_OPTION_ARG_FILENAME, &goals, "goal suite folder (mbold goals)", "DIR"},
      {"distance", 0, 0, G_OPTION_ARG_FILENAME, &distance, "distance run (q / regression cost)",
       "RUN"},
      {"dynamics", 0, 0, G_OPTION_ARG_FILENAME, &dynamics,
       "dynamics run folder, or 'oracle' (default)", "RUN|oracle"},
      {"cost", 'c', 0, G_OPTION_ARG_STRING, &cost_name,
       "q, pixel or regression (default: q with --distance, else pixel)", "C"},
      {"seed", 's', 0, G_OPTION_ARG_INT64, &seed, "planner seed (default 1)", "S"},
      {"json", 'o', 0, G_OPTION_ARG_FILENAME, &json, "results file", "OUT"},
      {"png", 0, 0, G_OPTION_ARG_FILENAME, &png, "folder for one strip per episode", "DIR"},
      {"trace", 0, 0, G_OPTION_ARG_FILENAME, &trace, "planner traces as JSON lines", "FILE"},
      {"count", 'n', 0, G_OPTION_ARG_INT, &count, "run only the first N goals", "N"},
      {"threads", 'j', 0, G_OPTION_ARG_INT, &threads, "goals run on this many threads (1)", "K"},
      {"backend", 0, 0, G_OPTION_ARG_STRING, &backend_name, "auto, cpu or vulkan", "B"},
      {"samples", 0, 0, G_OPTION_ARG_INT, &samples, "CEM samples per iteration (200)", "N"},
      {"iterations", 0, 0, G_OPTION_ARG_INT, &iterations, "CEM iterations (3)", "N"},
      {"elites", 0, 0, G_OPTION_ARG_INT, &elites, "CEM elites (10)", "N"},
      {"horizon", 0, 0, G_OPTION_ARG_INT, &horizon, "planning horizon (13)", "N"},
      {"actions-per-plan", 0, 0, G_OPTION_ARG_INT, &per_plan, "actions executed per replan (6)",
       "N"},
      {"fixed-horizon", 0, 0, G_OPTION_ARG_NONE, &fixed_horizon,
       "near the episode's end, still score the frame `horizon` steps ahead (default: the frame "
       "after the episode's last action)",
       NULL},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int rc =
      app_parse_options(cmd, "", "Evaluates the planner on a goal suite.", entries, &argc, &argv);
  eval_job job;
  memset(&job, 0, sizeof job);
  sim_suite *suite = NULL;
  char err[1024];
  if (rc >= 0) goto done;
  rc = APP_EXIT_BAD_INPUT;
  if (argc > 1) {
    app_bad_input(cmd, "unexpected argument '%s'", argv[1]);
    goto done;
  }
  if (!app_require(cmd, "--task", task_name) || !app_require(cmd, "--goals", goals) ||
      !app_require(cmd, "--json", json))
    goto done;
  sim_task task;
  if (!app_task_option(cmd, task_name, &task)) goto done;
  app_runner_config cfg = app_runner_default_config(task, app_assets_dir());
  cfg.cost = distance ? APP_COST_Q : APP_COST_PIXEL;
  if (cost_name && !app_cost_parse(cost_name, &cfg.cost)) {
    app_bad_input(cmd, "--cost: unknown cost '%s' (q, pixel or regression)", cost_name);
    goto done;
  }
  if (cfg.cost != APP_COST_PIXEL && !distance) {
    app_bad_input(cmd, "--cost %s needs --distance RUN", app_cost_name(cfg.cost));
    goto done;
  }
  cfg.distance_run = distance;
  if (dynamics && strcmp(dynamics, "oracle") != 0) {
    cfg.dynamics = APP_DYNAMICS_LEARNED;
    cfg.dynamics_run = dynamics;
  }
  if (!app_backend_option(cmd, backend_name, &cfg.backend)) goto done;
  if (samples) cfg.cem.samples = samples;
  if (iterations) cfg.cem.iterations = iterations;
  if (elites) cfg.cem.elites = elites;
  if (horizon) cfg.cem.horizon = horizon;
  if (per_plan) cfg.actions_per_plan = per_plan;
  cfg.score_at_episode_end = !fixed_horizon;
  if (!cem_params_check(&cfg.cem, err, sizeof err)) {
    app_bad_input(cmd, "planner: %s", err);
    goto done;
  }
  if (cfg.actions_per_plan < 1 || cfg.actions_per_plan > cfg.cem.horizon) {
    app_bad_input(cmd, "--actions-per-plan must be in 1..horizon (%d)", cfg.cem.horizon);
    goto done;
  }
  if (threads < 1 || threads > 64) {
    app_bad_input(cmd, "--threads must be in 1..64 (got %d)", threads);
    goto done;
  }
  if (count < 0 || seed < 0) {
    app_bad_input(cmd, "--count and --seed must not be negative");
    goto done;
  }
  suite = sim_suite_load(goals, (int)task, err, sizeof err);
  if (!suite) {
    app_bad_input(cmd, "%s", err);
    goto done;
  }
  if (png && !mb_mkdir_p(png, err, sizeof err)) {
    app_bad_input(cmd, "--png: %s", err);
    goto done;
  }
  /* The planner's 2 cores go to oracle rollouts when goals run one at a time. */
  cfg.oracle_threads = threads >= 2 ? 1 : 2;
  job.cmd = cmd;
  job.cfg = cfg;
  job.suite = suite;
  job.count = count > 0 && count < suite->count ? count : suite->count;
  job.seed = (uint64_t)seed;
  job.png_dir = png;
  job.results = calloc((size_t)job.count, sizeof(goal_result));
  job.cancel = app_interrupt_install();
  pthread_mutex_init(&job.lock, NULL);
  if (trace && !(job.trace = fopen(trace, "w"))) {
    app_bad_input(cmd, "--trace: cannot write %s", trace);
    pthread_mutex_destroy(&job.lock);
    goto done;
  }
  /* Check the configuration (run folders, scene) before starting the threads. */
  app_runner *probe = app_runner_create(&cfg, err, sizeof err);
  if (!probe) {
    app_bad_input(cmd, "%s", err);
    pthread_mutex_destroy(&job.lock);
    goto done;
  }
  if (!sim_suite_check_model(suite, app_runner_model(probe), err, sizeof err)) {
    app_runner_free(probe);
    app_bad_input(cmd, "%s", err);
    pthread_mutex_destroy(&job.lock);
    goto done;
  }
  app_runner_free(probe);

  char label[96];
  snprintf(label, sizeof label, "eval %s %s/%s", task_name, app_dynamics_name(cfg.dynamics),
           app_cost_name(cfg.cost));
  app_progress_init(&job.progress, label, "goals");
  double t0 = mb_now();
  pthread_t tids[64];
  for (int t = 0; t < threads; t++) pthread_create(&tids[t], NULL, eval_worker, &job);
  for (int t = 0; t < threads; t++) pthread_join(tids[t], NULL);
  app_progress_finish(&job.progress);
  double wall = mb_now() - t0;
  pthread_mutex_destroy(&job.lock);
  if (job.trace) fclose(job.trace);
  if (job.failed) {
    rc = app_failure(cmd, "%s", job.err);
    goto done;
  }
  char *text = results_json(&job, threads, wall);
  if (!text || !mb_write_file_atomic(json, text, strlen(text), err, sizeof err)) {
    rc = app_failure(cmd, "%s", text ? err : "out of memory");
    free(text);
    goto done;
  }
  free(text);
  int n = atomic_load(&job.finished), s = atomic_load(&job.successes);
  double lo, hi;
  mb_wilson95(s, n, &lo, &hi);
  printf("%s %s/%s: success %d/%d = %.1f%% (95%% CI %.1f-%.1f%%) -> %s\n", task_name,
         app_dynamics_name(cfg.dynamics), app_cost_name(cfg.cost), s, n, n ? 100.0 * s / n : 0,
         100 * lo, 100 * hi, json);
  rc = n < job.count ? APP_EXIT_FAILURE : APP_EXIT_OK; /* interrupted: partial results saved */
  if (n < job.count)
    fprintf(stderr, "mbold eval: interrupted after %d of %d goals\n", n, job.count);
done:
  sim_suite_free(suite);
  free(job.results);
  g_free(task_name), g_free(goals), g_free(distance), g_free(dynamics), g_free(cost_name);
  g_free(json), g_free(png), g_free(trace), g_free(backend_name);
  return rc;
}
