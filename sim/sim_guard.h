/* Turning MuJoCo's fatal errors (mju_error) into error returns: code that calls into MuJoCo where
 * an error is plausible (loading, making a render context) wraps the call in a guard. */
#ifndef SIM_GUARD_H
#define SIM_GUARD_H

#include <setjmp.h>

typedef struct sim_guard {
  jmp_buf jb;             /* where mju_error returns to */
  struct sim_guard *prev; /* enclosing guard on this thread */
  char msg[512];          /* MuJoCo's message after an error */
} sim_guard;

void sim_guard_push(sim_guard *g);
void sim_guard_pop(sim_guard *g);

/* if (SIM_GUARD_TRY(g)) { risky calls; sim_guard_pop(&g); } else { g.msg holds the error } */
#define SIM_GUARD_TRY(g) (sim_guard_push(&(g)), setjmp((g).jb) == 0)

#endif
