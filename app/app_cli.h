/* Command-line plumbing shared by every subcommand: option parsing (GOption), exit codes and the
 * one-line error convention of DESIGN.md. */
#ifndef APP_CLI_H
#define APP_CLI_H

#include "cmp.h"
#include "sim_task.h"

#include <glib.h>
#include <stdbool.h>

enum {
  APP_EXIT_OK = 0,
  APP_EXIT_FAILURE = 1,   /* the work failed (I/O error mid-run, NaN in training, ...) */
  APP_EXIT_BAD_INPUT = 2, /* a file or argument is wrong; one line names it */
};

/* Prints "mbold <cmd>: <message>" on stderr and returns APP_EXIT_BAD_INPUT. */
int app_bad_input(const char *cmd, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Prints "mbold <cmd>: <message>" on stderr and returns APP_EXIT_FAILURE. */
int app_failure(const char *cmd, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Parses argv (argv[0] is the subcommand name) against entries. Returns -1 when parsing succeeded
 * and the caller should go on; otherwise the exit code to return (0 after --help, 2 after an error,
 * printed as one line). Positional arguments are left in argc/argv. */
int app_parse_options(const char *cmd, const char *params, const char *summary,
                      const GOptionEntry *entries, int *argc, char ***argv);

/* Checks for a required string option; prints the error and returns false if it is missing. */
bool app_require(const char *cmd, const char *opt_name, const char *value);

/* The networks' backend from --backend (value, may be NULL) or else $MBOLD_BACKEND or auto, into
 * *out. Prints the error and returns false for an unknown name. */
bool app_backend_option(const char *cmd, const char *value, cmp_backend_choice *out);

/* Parses a --task value (not NULL) into *out. Prints the error, naming the tasks, and returns false
 * for an unknown name. */
bool app_task_option(const char *cmd, const char *value, sim_task *out);

/* Returns the assets folder: $MBOLD_ASSETS, else the source tree's assets/ (compiled in). */
const char *app_assets_dir(void);

#endif
