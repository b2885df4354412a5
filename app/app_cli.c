#include "app_cli.h"

#include <stdarg.h>
#include <stdio.h>

static int vreport(const char *cmd, int code, const char *fmt, va_list ap) {
  fprintf(stderr, "mbold%s%s: ", cmd ? " " : "", cmd ? cmd : "");
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  return code;
}

int app_bad_input(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int code = vreport(cmd, APP_EXIT_BAD_INPUT, fmt, ap);
  va_end(ap);
  return code;
}

int app_failure(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int code = vreport(cmd, APP_EXIT_FAILURE, fmt, ap);
  va_end(ap);
  return code;
}

int app_parse_options(const char *cmd, const char *params, const char *summary,
                      const GOptionEntry *entries, int *argc, char ***argv) {
  GOptionContext *octx = g_option_context_new(params);
  if (summary) g_option_context_set_summary(octx, summary);
  g_option_context_add_main_entries(octx, entries, NULL);
  g_option_context_set_help_enabled(octx, TRUE);
  GError *error = NULL;
  gboolean ok = g_option_context_parse(octx, argc, argv, &error);
  g_option_context_free(octx);
  if (!ok) {
    int code = app_bad_input(cmd, "%s (see mbold %s --help)", error->message, cmd);
    g_error_free(error);
    return code;
  }
  return -1;
}

bool app_require(const char *cmd, const char *opt_name, const char *value) {
  if (value && *value) return true;
  app_bad_input(cmd, "missing required option %s (see mbold %s --help)", opt_name, cmd);
  return false;
}

const char *app_assets_dir(void) {
  const char *env = g_getenv("MBOLD_ASSETS");
  return env && *env ? env : MBOLD_SOURCE_ASSETS;
}

bool app_backend_option(const char *cmd, const char *value, cmp_backend_choice *out) {
  *out = cmp_backend_from_env(CMP_BACKEND_AUTO);
  if (!value || cmp_parse_backend(value, out)) return true;
  app_bad_input(cmd, "--backend: unknown backend '%s' (auto, cpu or vulkan)", value);
  return false;
}

bool app_task_option(const char *cmd, const char *value, sim_task *out) {
  if (sim_task_parse(value, out)) return true;
  app_bad_input(cmd, "--task: unknown task '%s' (one of %s)", value, sim_task_list());
  return false;
}
