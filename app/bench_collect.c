/* mbold bench collect | oracle: end-to-end collection frames/s with a breakdown, and the oracle
 * dynamics' rollout time for one CEM iteration (sim_collect.h, sim_oracle.h). */
#include "app_cli.h"

#include "mb_clock.h"
#include "sim_collect.h"
#include "sim_oracle.h"
#include "sim_policy.h"
#include "sim_render.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int app_bench_collect(int argc, char **argv);
int app_bench_oracle(int argc, char **argv);

/* Pure render and physics costs on this thread, for the breakdown. */
static bool micro(sim_task task, double *render1_ms, double *render16_ms, double *step_ms,
                  char *err, size_t err_sz) {
  sim_model *m = sim_model_load(task, app_assets_dir(), err, err_sz);
  if (!m) return false;
  sim_renderer *r = sim_renderer_create(m, 64, 64, 16, SIM_QUALITY_AGENT, err, err_sz);
  sim_world *w[16] = {0};
  bool ok = r != NULL;
  for (int i = 0; i < 16 && ok; i++) {
    ok = (w[i] = sim_world_create(m, err, err_sz)) != NULL;
    if (ok) sim_world_reset(w[i], (uint64_t)i);
  }
  if (ok) {
    static uint8_t rgb[16 * SIM_IMAGE_BYTES];
    const int n = 320;
    sim_render_agent(r, w[0], rgb, err, err_sz);
    double t0 = mb_now();
    for (int i = 0; i < n && ok; i++) ok = sim_render_agent(r, w[0], rgb, err, err_sz);
    double t1 = mb_now();
    for (int i = 0; i < n / 16 && ok; i++)
      ok = sim_render_agent_batch(r, w, NULL, 16, rgb, err, err_sz);
    double t2 = mb_now();
    sim_policy p;
    sim_policy_init(&p, sim_model_info(m)->policy_std, 1, 0);
    for (int i = 0; i < n; i++) {
      float a[4];
      sim_policy_next(&p, a);
      sim_world_step(w[0], a);
    }
    double t3 = mb_now();
    *render1_ms = (t1 - t0) / n * 1e3;
    *render16_ms = (t2 - t1) / n * 1e3;
    *step_ms = (t3 - t2) / n * 1e3;
  }
  for (int i = 0; i < 16; i++) sim_world_free(w[i]);
  sim_renderer_free(r);
  sim_model_free(m);
  return ok;
}

int app_bench_collect(int argc, char **argv) {
  const char *cmd = "bench collect";
  gchar *task_name = NULL;
  gint episodes = 640, threads = 2;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
      {"task", 't', 0, G_OPTION_ARG_STRING, &task_name, "task (default push3)", "T"},
      {"episodes", 'n', 0, G_OPTION_ARG_INT, &episodes, "episodes to collect (default 640)", "N"},
      {"threads", 'j', 0, G_OPTION_ARG_INT, &threads, "worker threads (default 2)", "K"},
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON", NULL},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int rc = app_parse_options(cmd, "", "Collection throughput: physics + 64x64 render + HDF5 write.",
                             entries, &argc, &argv);
  if (rc >= 0) return rc;
  sim_task task = SIM_TASK_PUSH3;
  if (task_name && !app_task_option(cmd, task_name, &task)) {
    g_free(task_name);
    return APP_EXIT_BAD_INPUT;
  }
  g_free(task_name);
  if (episodes < 1 || threads < 1)
    return app_bad_input(cmd, "--episodes and --threads must be positive");
  char err[1024];
  double r1 = 0, r16 = 0, step = 0;
  if (!micro(task, &r1, &r16, &step, err, sizeof err)) return app_bad_input(cmd, "%s", err);
  gchar *dir = g_dir_make_tmp("mbold-bench-XXXXXX", NULL);
  if (!dir) return app_failure(cmd, "cannot make a temporary folder");
  gchar *path = g_build_filename(dir, "bench.h5", NULL);
  sim_collect_config cfg = {.task = task,
                            .assets_dir = app_assets_dir(),
                            .out_path = path,
                            .episodes = episodes,
                            .seed = 1,
                            .threads = threads};
  sim_collect_stats st;
  sim_status s = sim_collect(&cfg, NULL, &st, err, sizeof err);
  GStatBuf sb;
  long long bytes = g_stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
  g_unlink(path);
  g_rmdir(dir);
  g_free(path);
  g_free(dir);
  if (s != SIM_STATUS_OK)
    return s == SIM_STATUS_BAD_INPUT ? app_bad_input(cmd, "%s", err) : app_failure(cmd, "%s", err);
  double frames = (double)episodes * SIM_EPISODE_FRAMES;
  double fps = frames / st.wall_s;
  /* Per-frame costs summed over threads: what one frame costs a core. */
  double ph = st.physics_s / frames * 1e3, re = st.render_s / frames * 1e3,
         co = st.compress_s / frames * 1e3, wr = st.write_s / frames * 1e3,
         wa = st.wait_s / frames * 1e3;
  if (json) {
    printf("{\"benchmark\": \"collect\", \"task\": \"%s\", \"threads\": %d, \"episodes\": %d, "
           "\"frames\": %.0f, \"wall_s\": %.3f, \"frames_per_s\": %.1f, \"file_bytes\": %lld,\n"
           " \"per_frame_ms\": {\"physics\": %.4f, \"render\": %.4f, \"compress\": %.4f, "
           "\"hdf5_write\": %.4f, \"wait_turn\": %.4f},\n"
           " \"single_thread_ms\": {\"render_one\": %.4f, \"render_batch16_per_frame\": %.4f, "
           "\"physics_step\": %.4f}}\n",
           sim_task_name(task), threads, episodes, frames, st.wall_s, fps, bytes, ph, re, co, wr,
           wa, r1, r16, step);
  } else {
    printf("collect %s, %d threads, %d episodes: %.0f frames/s end to end (%.2f s, %lld bytes)\n",
           sim_task_name(task), threads, episodes, fps, st.wall_s, bytes);
    printf("per frame (core ms): physics %.4f, render %.4f, compress %.4f, HDF5 write %.4f, "
           "waiting %.4f\n",
           ph, re, co, wr, wa);
    printf("single thread: render %.4f ms/frame alone, %.4f ms/frame in batches of 16; physics "
           "%.4f ms/step\n",
           r1, r16, step);
  }
  return APP_EXIT_OK;
}

int app_bench_oracle(int argc, char **argv) {
  const char *cmd = "bench oracle";
  gchar *task_name = NULL;
  gint samples = 200, horizon = 13, threads = 2, reps = 5;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
      {"task", 't', 0, G_OPTION_ARG_STRING, &task_name, "task (default push1)", "T"},
      {"samples", 'n', 0, G_OPTION_ARG_INT, &samples, "action sequences (default 200)", "N"},
      {"horizon", 'H', 0, G_OPTION_ARG_INT, &horizon, "steps per sequence (default 13)", "H"},
      {"threads", 'j', 0, G_OPTION_ARG_INT, &threads, "oracle threads (default 2)", "T"},
      {"reps", 'r', 0, G_OPTION_ARG_INT, &reps, "timed repetitions (default 5)", "R"},
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON", NULL},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int rc = app_parse_options(cmd, "", "Oracle dynamics: one CEM iteration of rollouts.", entries,
                             &argc, &argv);
  if (rc >= 0) return rc;
  sim_task task = SIM_TASK_PUSH1;
  if (task_name && !app_task_option(cmd, task_name, &task)) {
    g_free(task_name);
    return APP_EXIT_BAD_INPUT;
  }
  g_free(task_name);
  if (samples < 1 || horizon < 1 || threads < 1 || reps < 1)
    return app_bad_input(cmd, "--samples, --horizon, --threads and --reps must be positive");
  char err[1024];
  sim_model *m = sim_model_load(task, app_assets_dir(), err, sizeof err);
  if (!m) return app_bad_input(cmd, "%s", err);
  sim_oracle *o = sim_oracle_create(m, threads, err, sizeof err);
  sim_world *w = sim_world_create(m, err, sizeof err);
  if (!o || !w) {
    sim_oracle_free(o);
    sim_world_free(w);
    sim_model_free(m);
    return app_bad_input(cmd, "%s", err);
  }
  sim_world_reset(w, 7);
  int S = sim_model_state_size(m);
  double *state = malloc(sizeof(double) * (size_t)S);
  float *actions = malloc(sizeof(float) * (size_t)samples * (size_t)horizon * 4);
  uint8_t *finals = malloc((size_t)samples * SIM_IMAGE_BYTES);
  uint8_t *all = malloc((size_t)samples * (size_t)horizon * SIM_IMAGE_BYTES);
  float *paths = malloc(sizeof(float) * (size_t)samples * (size_t)(horizon + 1) * 3);
  if (!state || !actions || !finals || !all || !paths) {
    rc = app_failure(cmd, "out of memory");
    goto out;
  }
  sim_world_get_state(w, state);
  for (int j = 0; j < samples; j++) {
    sim_policy p;
    sim_policy_init(&p, sim_model_info(m)->policy_std, 3, (uint64_t)j);
    for (int t = 0; t < horizon; t++) sim_policy_next(&p, actions + ((size_t)j * horizon + t) * 4);
  }
  sim_oracle_request req = {.start_state = state,
                            .state_size = S,
                            .actions = actions,
                            .n = samples,
                            .horizon = horizon,
                            .final_frames = finals};
  double best = 1e9, sum = 0;
  bool ok = sim_oracle_rollout(o, &req, err, sizeof err); /* warm-up */
  for (int i = 0; i < reps && ok; i++) {
    double t0 = mb_now();
    ok = sim_oracle_rollout(o, &req, err, sizeof err);
    double dt = mb_now() - t0;
    sum += dt;
    if (dt < best) best = dt;
  }
  sim_oracle_request full = req;
  full.all_frames = all;
  full.ee_paths = paths;
  double t_full = 0;
  if (ok) {
    double t0 = mb_now();
    ok = sim_oracle_rollout(o, &full, err, sizeof err);
    t_full = mb_now() - t0;
  }
  if (!ok) {
    rc = app_failure(cmd, "%s", err);
    goto out;
  }
  double mean = sum / reps;
  if (json)
    printf("{\"benchmark\": \"oracle\", \"task\": \"%s\", \"samples\": %d, \"horizon\": %d, "
           "\"threads\": %d, \"iteration_ms_mean\": %.1f, \"iteration_ms_min\": %.1f, "
           "\"replan_3_iterations_ms\": %.1f, \"iteration_all_frames_and_paths_ms\": %.1f}\n",
           sim_task_name(task), samples, horizon, threads, mean * 1e3, best * 1e3, 3 * mean * 1e3,
           t_full * 1e3);
  else
    printf("oracle %s: %d samples x %d steps on %d threads: %.1f ms per CEM iteration (min %.1f), "
           "%.1f ms per 3-iteration replan; with all frames and paths %.1f ms\n",
           sim_task_name(task), samples, horizon, threads, mean * 1e3, best * 1e3, 3 * mean * 1e3,
           t_full * 1e3);
  rc = APP_EXIT_OK;
out:
  free(state);
  free(actions);
  free(finals);
  free(all);
  free(paths);
  sim_world_free(w);
  sim_oracle_free(o);
  sim_model_free(m);
  return rc;
}
