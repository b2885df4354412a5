/* mbold info: what this machine offers the workbench: MuJoCo, the Vulkan devices, the OpenGL
 * renderer used for offscreen scenes, and the compute backend `auto` picks and why. */
#include "app_cli.h"

#include "cmp.h"
#include "sim_render.h"
#include "sim_world.h"

#include <stdio.h>

int app_cmd_info(int argc, char **argv);

int app_cmd_info(int argc, char **argv) {
  GOptionEntry entries[] = {{NULL, 0, 0, 0, NULL, NULL, NULL}};
  int rc = app_parse_options("info", "", "Reports MuJoCo, Vulkan, EGL and the compute backend.",
                             entries, &argc, &argv);
  if (rc >= 0) return rc;
  if (argc > 1) return app_bad_input("info", "unexpected argument '%s'", argv[1]);

  printf("MBOLD Workbench %s\n", MBOLD_VERSION);
  printf("MuJoCo:  %s\n", sim_mujoco_version());

  char renderer[256], version[256], err[512];
  if (sim_gl_info(renderer, sizeof renderer, version, sizeof version, err, sizeof err))
    printf("EGL offscreen rendering: %s, OpenGL %s\n", renderer, version);
  else
    printf("EGL offscreen rendering: unavailable (%s)\n", err);

  cmp_device_info dev[16];
  int n = cmp_list_devices(dev, 16, err, sizeof err);
  if (n < 0) {
    printf("Vulkan:  unavailable (%s)\n", err);
  } else {
    printf("Vulkan devices: %d\n", n);
    for (int i = 0; i < n && i < 16; i++)
      printf("  [%d] %s (%s), driver %s, Vulkan %s\n", i, dev[i].name, dev[i].type, dev[i].driver,
             dev[i].api_version);
  }
  /* Mesa's CPU drivers' thread count (main.c sets it for headless jobs on small machines). */
  const char *lp = g_getenv("LP_NUM_THREADS");
  printf("Mesa CPU driver threads (LP_NUM_THREADS): %s\n",
         lp ? lp : "Mesa's default (one per core)");

  char why[512];
  cmp_backend_choice choice = cmp_backend_from_env(CMP_BACKEND_AUTO);
  cmp_ctx *ctx = cmp_create(choice, NULL, why, sizeof why, err, sizeof err);
  const char *env = g_getenv("MBOLD_BACKEND");
  if (ctx) {
    printf("Compute backend%s: %s: %s\n", env && *env ? " (MBOLD_BACKEND)" : " (auto)",
           cmp_backend_name(ctx), why);
    cmp_destroy(ctx);
  } else {
    printf("Compute backend: none could start (%s)\n", err);
    return APP_EXIT_FAILURE;
  }
  return APP_EXIT_OK;
}
