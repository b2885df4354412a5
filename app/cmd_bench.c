/* mbold bench NAME: dispatches to the benchmarks listed in app_bench_list.h. */
#include "app_cli.h"

#include <stdio.h>
#include <string.h>

#define APP_BENCH(name, fn, summary) int fn(int argc, char **argv);
#include "app_bench_list.h"
#undef APP_BENCH

typedef struct bench_entry {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} bench_entry;

static const bench_entry benches[] = {
#define APP_BENCH(name, fn, summary) {name, fn, summary},
#include "app_bench_list.h"
#undef APP_BENCH
    {NULL, NULL, NULL},
};

int app_cmd_bench(int argc, char **argv);

int app_cmd_bench(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    FILE *out = argc < 2 ? stderr : stdout;
    fprintf(out, "usage: mbold bench NAME [--backend B] [--json]\n\nbenchmarks:\n");
    for (const bench_entry *b = benches; b->name; b++)
      fprintf(out, "  %-16s %s\n", b->name, b->summary);
    return argc < 2 ? APP_EXIT_BAD_INPUT : APP_EXIT_OK;
  }
  for (const bench_entry *b = benches; b->name; b++)
    if (!strcmp(b->name, argv[1])) return b->run(argc - 1, argv + 1);
  return app_bad_input("bench", "unknown benchmark '%s' (see mbold bench --help)", argv[1]);
}
