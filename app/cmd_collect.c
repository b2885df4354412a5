/* mbold collect: random-policy episodes into an HDF5 dataset (sim_collect.h). */
#include "app_cli.h"
#include "app_interrupt.h"
#include "app_progress.h"

#include "sim_collect.h"

#include <stdio.h>
#include <string.h>

int app_cmd_collect(int argc, char **argv);

int app_cmd_collect(int argc, char **argv) {
  const char *cmd = "collect";
  gchar *task_name = NULL, *out = NULL;
  gint64 episodes = G_MININT64, seed = 0;
  gint threads = 0;
  gboolean resume = FALSE, force = FALSE;
  GOptionEntry entries[] = {
      {"task", 't', 0, G_OPTION_ARG_STRING, &task_name, "reach, push1, push3 or door", "T"},
      {"episodes", 'n', 0, G_OPTION_ARG_INT64, &episodes, "episodes wanted in the file", "N"},
      {"seed", 's', 0, G_OPTION_ARG_INT64, &seed, "collection seed (default 0)", "S"},
      {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "output HDF5 file", "FILE.h5"},
      {"threads", 'j', 0, G_OPTION_ARG_INT, &threads, "worker threads (default: CPUs, at most 8)",
       "K"},
      {"resume", 0, 0, G_OPTION_ARG_NONE, &resume, "continue an interrupted collection", NULL},
      {"force", 0, 0, G_OPTION_ARG_NONE, &force, "replace an existing file", NULL},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int rc = app_parse_options(cmd, "",
                             "Collects random-policy episodes (64x64 images, actions, "
                             "proprioception, object positions) into an HDF5 file.",
                             entries, &argc, &argv);
  if (rc >= 0) goto done;
  rc = APP_EXIT_BAD_INPUT;
  if (argc > 1) {
    app_bad_input(cmd, "unexpected argument '%s'", argv[1]);
    goto done;
  }
  if (!app_require(cmd, "--task", task_name) || !app_require(cmd, "--out", out)) goto done;
  sim_task task;
  if (!app_task_option(cmd, task_name, &task)) goto done;
  if (episodes == G_MININT64) {
    app_bad_input(cmd, "missing required option --episodes (see mbold %s --help)", cmd);
    goto done;
  }
  if (episodes <= 0) {
    app_bad_input(cmd, "--episodes must be positive (got %lld)", (long long)episodes);
    goto done;
  }
  if (seed < 0) {
    app_bad_input(cmd, "--seed must not be negative (got %lld)", (long long)seed);
    goto done;
  }
  if (threads == 0) threads = MIN(MAX((int)g_get_num_processors(), 1), 8);
  if (threads < 0) {
    app_bad_input(cmd, "--threads must be positive (got %d)", threads);
    goto done;
  }
  if (resume && force) {
    app_bad_input(cmd, "--resume and --force exclude each other");
    goto done;
  }

  sim_collect_config cfg = {
      .task = task,
      .assets_dir = app_assets_dir(),
      .out_path = out,
      .episodes = episodes,
      .seed = (uint64_t)seed,
      .threads = threads,
      .resume = resume,
      .force = force,
  };
  char label[64];
  snprintf(label, sizeof label, "collect %s", task_name);
  app_progress progress;
  app_progress_init(&progress, label, "episodes");
  mb_job_hooks hooks = {
      .progress = app_progress_cb, .user = &progress, .cancel = app_interrupt_install()};
  sim_collect_stats st;
  char err[1024];
  sim_status status = sim_collect(&cfg, &hooks, &st, err, sizeof err);
  app_progress_finish(&progress);
  if (status == SIM_STATUS_BAD_INPUT) {
    rc = app_bad_input(cmd, "%s", err);
    goto done;
  }
  if (status != SIM_STATUS_OK) {
    rc = app_failure(cmd, "%s", err);
    goto done;
  }
  int64_t fresh = st.episodes_after - st.episodes_before;
  if (st.sim_warnings > 0)
    fprintf(stderr, "mbold collect: warning: the simulator reported %lld instabilities\n",
            (long long)st.sim_warnings);
  double fps = st.wall_s > 0 ? (double)(fresh * SIM_EPISODE_FRAMES) / st.wall_s : 0;
  if (st.cancelled) {
    rc = app_failure(cmd, "interrupted: %s holds %lld complete episodes; --resume continues it",
                     out, (long long)st.episodes_after);
    goto done;
  }
  printf("%s: %lld episodes (%lld new, %d threads, %.0f frames/s)\n", out,
         (long long)st.episodes_after, (long long)fresh, threads, fps);
  rc = APP_EXIT_OK;
done:
  g_free(task_name);
  g_free(out);
  return rc;
}
