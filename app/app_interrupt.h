/* Ctrl-C and SIGTERM for headless jobs: the first signal sets a flag that the job polls (it then
 * saves what it has and returns); a second one ends the process at once. */
#ifndef APP_INTERRUPT_H
#define APP_INTERRUPT_H

#include <stdatomic.h>

/* Installs the handlers and returns the flag to hand to mb_job_hooks.cancel. */
atomic_int *app_interrupt_install(void);
/* The signal that set the flag (SIGINT, SIGTERM) or 0. */
int app_interrupt_signal(void);

#endif
