/* Monotonic wall clock for timing and progress. */
#ifndef MB_CLOCK_H
#define MB_CLOCK_H

#include <time.h>

static inline double mb_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A fixed-rate pacer for a loop that does work of varying length each round (the scene thread's
 * live rendering): rounds start every `period` seconds, measured from round start to round start,
 * so the work's own duration does not lengthen the period (sleeping a full period after each
 * round's end gives 1 / (period + work) instead). A round that overran restarts the schedule
 * from now rather than bursting to catch up. */
typedef struct mb_pacer {
  double period; /* seconds between round starts */
  double due;    /* when the next round may start; 0 before the first */
} mb_pacer;

/* Seconds to sleep before starting a round at time `now` (0: start now); books that start. */
static inline double mb_pacer_wait(mb_pacer *p, double now) {
  double start = p->due > now ? p->due : now;
  p->due = start + p->period;
  return start - now;
}

#endif
