/* mbold: the workbench (no subcommand) and every headless job (a subcommand). */
#include "app_cli.h"
#include "app_commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void print_usage(FILE *out) {
  fprintf(out, "usage: mbold [--demo] [--stats]      open the workbench\n"
               "       mbold COMMAND [OPTIONS]        run a job headless\n\ncommands:\n");
  for (const app_command *c = app_commands; c->name; c++)
    fprintf(out, "  %-14s %s\n", c->name, c->summary);
  fprintf(out,
          "\n`mbold COMMAND --help` shows a command's options. Exit codes: 0 success, 1 failure, "
          "2 bad input.\n");
}

int app_gui_main(int argc, char **argv);

/* Mesa's CPU drivers (lavapipe for Vulkan, llvmpipe for the EGL scene rendering) split each
 * dispatch or frame over LP_NUM_THREADS threads, one per core by default. On this project's 2-core
 * machine a lavapipe dispatch then waits for its slowest half, and when one thread starts late the
 * whole run is slow: the Q + actor forward (batch 200) took 64-130 ms over 33 runs, 19 within
 * 80 ms and 6 over 100. Twice as many threads as cores split the work finer and absorb much of the
 * delay: 65-112 ms over 40 runs, 35 within 80 ms and 3 over 100 (10 alternating pairs: 64-96
 * against 65-71). The distance-training step and MuJoCo collection are unchanged within noise.
 * Set here, before any thread exists (setenv is not thread-safe), only when the user has not
 * chosen, and only on small machines (up to 8 cores; larger ones keep Mesa's default). */
static void tune_mesa_cpu_drivers(void) {
  if (getenv("LP_NUM_THREADS")) return;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  if (cores < 1 || cores > 8) return;
  char value[32];
  snprintf(value, sizeof value, "%ld", 2 * cores);
  setenv("LP_NUM_THREADS", value, 0);
}

int main(int argc, char **argv) {
  if (argc >= 2 &&
      (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))) {
    print_usage(stdout);
    return APP_EXIT_OK;
  }
  if (argc >= 2 && argv[1][0] != '-') {
    tune_mesa_cpu_drivers(); /* headless jobs only: the workbench's scene rendering keeps Mesa's
                                default, which its frame-rate and stall figures were taken with */
    for (const app_command *c = app_commands; c->name; c++)
      if (!strcmp(c->name, argv[1])) return c->run(argc - 1, argv + 1);
    fprintf(stderr, "mbold: unknown command '%s'\n", argv[1]);
    print_usage(stderr);
    return APP_EXIT_BAD_INPUT;
  }
  return app_gui_main(argc, argv);
}
