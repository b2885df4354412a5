/* The subcommands of `mbold`. Each takes argv with argv[0] = the subcommand's name and returns the
 * process exit code (app_cli.h). One file per command: app/cmd_<name>.c. */
#ifndef APP_COMMANDS_H
#define APP_COMMANDS_H

typedef int (*app_command_fn)(int argc, char **argv);

typedef struct app_command {
  const char *name;    /* as typed after `mbold` */
  app_command_fn run;  /* entry point */
  const char *summary; /* one line for `mbold --help` */
} app_command;

/* The table, terminated by a zero entry. */
extern const app_command app_commands[];

#endif
