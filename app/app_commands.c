#include "app_commands.h"

#include <stddef.h>

/* Declarations of the cmd_*.c entry points. */
#define APP_COMMAND(fn) int fn(int argc, char **argv);
#include "app_command_list.h"
#undef APP_COMMAND

const app_command app_commands[] = {
#define APP_ENTRY(name, fn, summary) {name, fn, summary},
#include "app_command_table.h"
#undef APP_ENTRY
    {NULL, NULL, NULL},
};
