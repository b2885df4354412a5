#include "mb_job.h"

#include <time.h>

int mb_job_wait_if_paused(const mb_job_hooks *h) {
  while (h && h->pause && atomic_load(h->pause) && !mb_job_cancelled(h)) {
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return mb_job_cancelled(h);
}
