/* mbold train NAME: dispatches to the trainers listed in app_train_list.h. */
#include "app_cli.h"

#include <stdio.h>
#include <string.h>

#define APP_TRAINER(name, fn, summary) int fn(int argc, char **argv);
#include "app_train_list.h"
#undef APP_TRAINER

typedef struct trainer_entry {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} trainer_entry;

static const trainer_entry trainers[] = {
#define APP_TRAINER(name, fn, summary) {name, fn, summary},
#include "app_train_list.h"
#undef APP_TRAINER
    {NULL, NULL, NULL},
};

int app_cmd_train(int argc, char **argv);

int app_cmd_train(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    FILE *out = argc < 2 ? stderr : stdout;
    fprintf(out, "usage: mbold train NAME --data FILE.h5 --out RUN [OPTION...]\n\ntrainers:\n");
    for (const trainer_entry *t = trainers; t->name; t++)
      fprintf(out, "  %-12s %s\n", t->name, t->summary);
    return argc < 2 ? APP_EXIT_BAD_INPUT : APP_EXIT_OK;
  }
  for (const trainer_entry *t = trainers; t->name; t++)
    if (!strcmp(t->name, argv[1])) return t->run(argc - 1, argv + 1);
  return app_bad_input("train", "unknown trainer '%s' (see mbold train --help)", argv[1]);
}
