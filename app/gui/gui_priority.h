/* CPU priorities in the workbench: the GTK main thread must never wait (no stall over 50 ms), yet
 * the planner, the heatmap sweep and training jobs want every core. On a 2-core machine the
 * scheduler shares the cores evenly unless told otherwise, so the heavy work runs at a lower
 * priority (a higher nice value) and yields to the main thread and the scene renderer. Threads and
 * processes a lowered thread starts (backend workers, oracle rollouts) inherit its nice value. */
#ifndef GUI_PRIORITY_H
#define GUI_PRIORITY_H

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define GUI_NICE_WORKER 5  /* planner and heatmap threads */
#define GUI_NICE_JOB    10 /* training and collection processes */

/* Lowers the calling thread's priority (Linux: nice is per thread). Failing is harmless. */
static inline void gui_lower_thread_priority(int nice_value) {
#ifdef SYS_gettid
  (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice_value);
#else
  (void)nice_value;
#endif
}

#endif
