/* mbold: the workbench (no subcommand) and every headless job (a subcommand). */
#include "app_cli.h"
#include "app_commands.h"

#include <stdio.h>
#include <string.h>

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

int main(int argc, char **argv) {
  if (argc >= 2 &&
      (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))) {
    print_usage(stdout);
    return APP_EXIT_OK;
  }
  if (argc >= 2 && argv[1][0] != '-') {
    for (const app_command *c = app_commands; c->name; c++)
      if (!strcmp(c->name, argv[1])) return c->run(argc - 1, argv + 1);
    fprintf(stderr, "mbold: unknown command '%s'\n", argv[1]);
    print_usage(stderr);
    return APP_EXIT_BAD_INPUT;
  }
  return app_gui_main(argc, argv);
}
