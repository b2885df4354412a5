/* Monotonic wall clock for timing and progress. */
#ifndef MB_CLOCK_H
#define MB_CLOCK_H

#include <time.h>

static inline double mb_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
