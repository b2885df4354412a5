#include "app_interrupt.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static atomic_int interrupted;
static volatile sig_atomic_t which_signal;

static void on_signal(int sig) {
  if (atomic_load(&interrupted)) {
    signal(sig, SIG_DFL); /* second Ctrl-C: the user insists */
    raise(sig);
    return;
  }
  which_signal = sig;
  atomic_store(&interrupted, 1);
  static const char msg[] =
      "\ninterrupted: finishing the current unit and saving (again to abort)\n";
  ssize_t unused = write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)unused;
}

atomic_int *app_interrupt_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  return &interrupted;
}

int app_interrupt_signal(void) {
  return which_signal;
}
