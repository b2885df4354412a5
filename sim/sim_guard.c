#include "sim_guard.h"
#include "sim_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local sim_guard *tl_guard;
static atomic_int warnings;
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

void sim_guard_push(sim_guard *g) {
  sim_install_handlers();
  g->msg[0] = 0;
  g->prev = tl_guard;
  tl_guard = g;
}

void sim_guard_pop(sim_guard *g) {
  if (tl_guard == g) tl_guard = g->prev;
}

static void on_error(const char *msg) {
  sim_guard *g = tl_guard;
  if (g) {
    snprintf(g->msg, sizeof g->msg, "%s", msg);
    tl_guard = g->prev;
    longjmp(g->jb, 1);
  }
  /* An unguarded MuJoCo error is a programming error: MuJoCo's state is undefined after it. */
  fprintf(stderr, "MuJoCo error: %s\n", msg);
  abort();
}

/* Warnings (e.g. simulation instability) can repeat every step: count them, print nothing. The
 * per-world count comes from mjData.warning. */
static void on_warning(const char *msg) {
  (void)msg;
  atomic_fetch_add(&warnings, 1);
}

static void install(void) {
  mju_user_error = on_error;
  mju_user_warning = on_warning;
}

void sim_install_handlers(void) {
  pthread_once(&handlers_once, install);
}

int sim_warning_count(void) {
  return atomic_load(&warnings);
}
