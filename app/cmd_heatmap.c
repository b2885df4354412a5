/* mbold heatmap: the distance to a goal over the target block's (x, y) start position with the arm
 * fixed (paper Fig. 6), one panel per distance side by side in a PNG, the numbers in a CSV. */
#include "app_cli.h"
#include "app_interrupt.h"
#include "app_progress.h"
#include "heatmap.h"
#include "heatmap_png.h"

#include "mb_file.h"
#include "train_run.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int app_cmd_heatmap(int argc, char **argv);

/* --goal DIR/goal-NNN[.png]: the suite folder and the index. False when the name is not of that
 * form. */
static bool split_goal_name(const char *arg, char **dir, int *index) {
  gchar *base = g_path_get_basename(arg);
  size_t len = strlen(base);
  if (len > 4 && !strcmp(base + len - 4, ".png")) base[len -= 4] = '\0';
  bool ok = len > 5 && len < 15 && !strncmp(base, "goal-", 5);
  for (size_t k = 5; ok && k < len; k++) ok = isdigit((unsigned char)base[k]) != 0;
  if (ok) {
    *index = atoi(base + 5);
    *dir = g_path_get_dirname(arg);
  }
  g_free(base);
  return ok;
}

/* A run folder must exist and hold a checkpoint; said before any network is loaded. */
static bool check_run(const char *cmd, const char *opt, const char *run) {
  char err[1024];
  if (!mb_is_dir(run)) {
    app_bad_input(cmd, "%s: run folder %s does not exist", opt, run);
    return false;
  }
  char *ckpt = train_run_latest_checkpoint(run, NULL, err, sizeof err);
  if (!ckpt) {
    app_bad_input(cmd, "%s: %s", opt, err);
    return false;
  }
  free(ckpt);
  return true;
}

/* Fails early, before the sweep, when an output cannot be written. */
static bool check_writable(const char *cmd, const char *opt, const char *path) {
  char err[1024];
  mb_atomic_file f;
  if (!mb_atomic_open(&f, path, err, sizeof err)) {
    app_bad_input(cmd, "%s: %s", opt, err);
    return false;
  }
  mb_atomic_abort(&f);
  return true;
}

int app_cmd_heatmap(int argc, char **argv) {
  const char *cmd = "heatmap";
  gchar *task_name = NULL, *goal_arg = NULL, *distance = NULL, *regression = NULL;
  gchar *out = NULL, *csv = NULL, *backend_name = NULL;
  gint grid = APP_HEATMAP_DEFAULT_GRID, index = -1;
  gdouble scale = 1;
  GOptionEntry entries[] = {
      {"task", 't', 0, G_OPTION_ARG_STRING, &task_name, "push1 or push3", "T"},
      {"goal", 'g', 0, G_OPTION_ARG_FILENAME, &goal_arg,
       "the goal: SUITE/goal-NNN, or a suite folder with --index", "DIR/goal-NNN"},
      {"index", 'i', 0, G_OPTION_ARG_INT, &index, "goal index when --goal names a suite folder",
       "N"},
      {"distance", 0, 0, G_OPTION_ARG_FILENAME, &distance, "Q-function distance run", "RUN"},
      {"regression", 0, 0, G_OPTION_ARG_FILENAME, &regression, "temporal regression run", "RUN"},
      {"grid", 'n', 0, G_OPTION_ARG_INT, &grid, "cells per side (default 20)", "N"},
      {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "the figure", "FILE.png"},
      {"csv", 0, 0, G_OPTION_ARG_FILENAME, &csv, "the numbers: i, j, x, y, one column per distance",
       "FILE.csv"},
      {"backend", 0, 0, G_OPTION_ARG_STRING, &backend_name, "auto, cpu or vulkan (networks)", "B"},
      {"scale", 0, 0, G_OPTION_ARG_DOUBLE, &scale, "PNG pixels per figure unit (default 1)", "S"},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int rc = app_parse_options(cmd, "",
                             "Distance to a goal over the target block's position, arm fixed "
                             "(paper Fig. 6): pixel MSE, plus Q and regression when given.",
                             entries, &argc, &argv);
  app_heatmapper *h = NULL;
  app_heatmap_suite_goal goal;
  app_heatmap_result res;
  memset(&goal, 0, sizeof goal);
  memset(&res, 0, sizeof res);
  char *suite_dir = NULL;
  char err[1024];
  if (rc >= 0) goto done;
  rc = APP_EXIT_BAD_INPUT;
  if (argc > 1) {
    app_bad_input(cmd, "unexpected argument '%s'", argv[1]);
    goto done;
  }
  if (!app_require(cmd, "--task", task_name) || !app_require(cmd, "--goal", goal_arg) ||
      !app_require(cmd, "--out", out))
    goto done;
  sim_task task;
  if (!app_task_option(cmd, task_name, &task)) goto done;
  if (task != SIM_TASK_PUSH1 && task != SIM_TASK_PUSH3) {
    app_bad_input(cmd, "--task %s: no block to sweep (heatmaps need push1 or push3)", task_name);
    goto done;
  }
  if (grid < 1 || grid > APP_HEATMAP_MAX_GRID) {
    app_bad_input(cmd, "--grid must be in 1..%d (got %d)", APP_HEATMAP_MAX_GRID, grid);
    goto done;
  }
  if (!(scale >= 0.25 && scale <= 8)) {
    app_bad_input(cmd, "--scale must be in 0.25..8 (got %g)", scale);
    goto done;
  }
  int goal_index = -1;
  if (mb_is_dir(goal_arg)) {
    if (index < 0) {
      app_bad_input(cmd,
                    "--goal %s is a suite folder: add --index N, or name the goal as "
                    "%s/goal-NNN",
                    goal_arg, goal_arg);
      goto done;
    }
    suite_dir = g_strdup(goal_arg);
    goal_index = index;
  } else if (split_goal_name(goal_arg, &suite_dir, &goal_index)) {
    if (index >= 0 && index != goal_index) {
      app_bad_input(cmd, "--index %d contradicts --goal %s", index, goal_arg);
      goto done;
    }
  } else {
    app_bad_input(cmd, "--goal: %s is neither a suite folder nor SUITE/goal-NNN", goal_arg);
    goto done;
  }
  if (!app_heatmap_suite_goal_load(&goal, suite_dir, goal_index, task, NULL, err, sizeof err)) {
    app_bad_input(cmd, "--goal: %s", err);
    goto done;
  }
  if ((distance && !check_run(cmd, "--distance", distance)) ||
      (regression && !check_run(cmd, "--regression", regression)))
    goto done;
  if (!check_writable(cmd, "--out", out) || (csv && !check_writable(cmd, "--csv", csv))) goto done;

  /* Panels in the paper's order: Q-function, regression, pixel MSE. */
  app_heatmap_config cfg = app_heatmap_default_config(task, app_assets_dir());
  cfg.n_distances = 0;
  if (distance) cfg.distances[cfg.n_distances++] = (app_heatmap_distance){APP_COST_Q, distance};
  if (regression)
    cfg.distances[cfg.n_distances++] = (app_heatmap_distance){APP_COST_REGRESSION, regression};
  cfg.distances[cfg.n_distances++] = (app_heatmap_distance){APP_COST_PIXEL, NULL};
  if (!app_backend_option(cmd, backend_name, &cfg.backend)) goto done;
  h = app_heatmapper_create(&cfg, err, sizeof err);
  if (!h) {
    app_bad_input(cmd, "%s", err);
    goto done;
  }
  if (!sim_suite_check_model(goal.suite, app_heatmapper_model(h), err, sizeof err)) {
    app_bad_input(cmd, "--goal: %s", err);
    goto done;
  }

  char label[160];
  snprintf(label, sizeof label, "heatmap %s goal %d", task_name, goal_index);
  app_progress progress;
  app_progress_init(&progress, label, "cells");
  mb_job_hooks hooks = {
      .progress = app_progress_cb, .user = &progress, .cancel = app_interrupt_install()};
  bool ok = app_heatmapper_run(h, &goal.goal, grid, NULL, NULL, &hooks, &res, err, sizeof err);
  app_progress_finish(&progress);
  if (!ok) {
    rc = res.cancelled ? app_failure(cmd, "interrupted: %s; nothing written", err)
                       : app_failure(cmd, "%s", err);
    goto done;
  }

  char subtitle[512];
  snprintf(subtitle, sizeof subtitle,
           "%s, %s goal %d: block %d on a %d x %d grid, arm and other blocks as at the start",
           task_name, suite_dir, goal_index, res.target, grid, grid);
  app_heatmap_png_options popt = {.subtitle = subtitle, .scale = scale};
  if (!app_heatmap_png_write(&res, &popt, out, err, sizeof err)) {
    rc = app_failure(cmd, "%s", err);
    goto done;
  }
  if (csv && !app_heatmap_write_csv(&res, csv, err, sizeof err)) {
    rc = app_failure(cmd, "%s", err);
    goto done;
  }
  printf("heatmap %s goal %d (block %d, goal at %.3f, %.3f): %d x %d cells in %.2f s -> %s%s%s\n",
         task_name, goal_index, res.target, res.goal_xy[0], res.goal_xy[1], grid, grid, res.seconds,
         out, csv ? ", " : "", csv ? csv : "");
  for (int d = 0; d < res.n_distances; d++) {
    float lo, hi;
    int bi, bj;
    if (!app_heatmap_range(&res, d, &lo, &hi) || !app_heatmap_argmin(&res, d, &bi, &bj)) continue;
    double x, y;
    app_heatmap_cell_center(&res.grid, bi, bj, &x, &y);
    printf("  %-20s %.4g .. %.4g %s, minimum at (%.3f, %.3f)\n", app_heatmap_title(res.kinds[d]),
           lo, hi, app_heatmap_units(res.kinds[d]), x, y);
  }
  rc = APP_EXIT_OK;
done:
  app_heatmap_result_clear(&res);
  app_heatmapper_free(h);
  app_heatmap_suite_goal_clear(&goal);
  g_free(suite_dir);
  g_free(task_name), g_free(goal_arg), g_free(distance), g_free(regression);
  g_free(out), g_free(csv), g_free(backend_name);
  return rc;
}
