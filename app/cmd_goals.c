/* mbold goals: a goal suite (suite.json + goal-NNN.png) made by simulating (sim_goals.h). */
#include "app_cli.h"
#include "app_interrupt.h"
#include "app_progress.h"

#include "sim_goals.h"

#include <stdio.h>

int app_cmd_goals(int argc, char **argv);

int app_cmd_goals(int argc, char **argv) {
  const char *cmd = "goals";
  gchar *task_name = NULL, *out = NULL;
  gint count = G_MININT;
  gint64 seed = 0;
  gboolean hard = FALSE, force = FALSE;
  GOptionEntry entries[] = {
      {"task", 't', 0, G_OPTION_ARG_STRING, &task_name, "reach, push1, push3 or door", "T"},
      {"count", 'n', 0, G_OPTION_ARG_INT, &count, "number of goals", "N"},
      {"seed", 's', 0, G_OPTION_ARG_INT64, &seed, "generation seed (default 0)", "S"},
      {"hard", 0, 0, G_OPTION_ARG_NONE, &hard, "pushing: arm away from the block in the goal",
       NULL},
      {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "output folder", "DIR"},
      {"force", 0, 0, G_OPTION_ARG_NONE, &force, "replace an existing suite in DIR", NULL},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int rc = app_parse_options(cmd, "", "Generates a goal suite by simulating scripted controllers.",
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
  if (count == G_MININT) {
    app_bad_input(cmd, "missing required option --count (see mbold %s --help)", cmd);
    goto done;
  }
  if (count <= 0) {
    app_bad_input(cmd, "--count must be positive (got %d)", count);
    goto done;
  }
  if (seed < 0) {
    app_bad_input(cmd, "--seed must not be negative (got %lld)", (long long)seed);
    goto done;
  }
  if (hard && task != SIM_TASK_PUSH1 && task != SIM_TASK_PUSH3) {
    app_bad_input(cmd, "--hard applies to push1 and push3 only");
    goto done;
  }
  char label[64];
  snprintf(label, sizeof label, "goals %s", task_name);
  app_progress progress;
  app_progress_init(&progress, label, "goals");
  mb_job_hooks hooks = {
      .progress = app_progress_cb, .user = &progress, .cancel = app_interrupt_install()};
  char err[1024];
  sim_status st = sim_goals_generate(task, app_assets_dir(), count, (uint64_t)seed, hard, force,
                                     out, &hooks, err, sizeof err);
  app_progress_finish(&progress);
  if (st == SIM_STATUS_BAD_INPUT)
    rc = app_bad_input(cmd, "%s", err);
  else if (st != SIM_STATUS_OK)
    rc = app_failure(cmd, "%s", err);
  else {
    printf("%s: %d %s%s goals (suite.json, goal-000.png ...)\n", out, count, task_name,
           hard ? " hard" : "");
    rc = APP_EXIT_OK;
  }
done:
  g_free(task_name);
  g_free(out);
  return rc;
}
