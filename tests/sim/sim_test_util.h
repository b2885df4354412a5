/* Shared helpers of the sim tests: the source tree's assets and a private temporary folder. */
#ifndef SIM_TEST_UTIL_H
#define SIM_TEST_UTIL_H

#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline const char *test_assets(void) {
  return MBOLD_SOURCE_ASSETS;
}

/* A fresh folder under $TMPDIR (or /tmp); the path is static storage. */
static inline const char *test_tmpdir(void) {
  static char dir[512];
  if (!dir[0]) {
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/mbold-simtest-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) {
      perror("mkdtemp");
      exit(1);
    }
  }
  return dir;
}

static inline char *test_path(const char *name) {
  static char bufs[8][600];
  static int next;
  char *p = bufs[next++ % 8];
  snprintf(p, 600, "%s/%s", test_tmpdir(), name);
  return p;
}

static inline void test_cleanup(void) {
  char cmd[700];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", test_tmpdir());
  if (system(cmd) != 0) fprintf(stderr, "cleanup of %s failed\n", test_tmpdir());
}

#endif
