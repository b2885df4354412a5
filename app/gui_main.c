/* The workbench entry point. Replaced by the GtkApplication in app/gui/ as the workbench lands. */
#include <stdio.h>

int app_gui_main(int argc, char **argv);

int app_gui_main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "mbold: the workbench is not built yet; see `mbold --help` for the jobs\n");
  return 1;
}
