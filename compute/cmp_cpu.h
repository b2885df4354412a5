/* What the CPU backend exports to cmp.c. Private to compute/. */
#ifndef CMP_CPU_H
#define CMP_CPU_H

#include "cmp.h"

/* Creates a CPU context with opt->threads workers (0: one per online core). The backend runs
 * OpenBLAS single-threaded inside its own workers (openblas_set_num_threads(1), process-wide) so
 * that the two never oversubscribe the cores. Returns NULL with err filled only when threads or
 * memory cannot be had. opt is never NULL here. */
cmp_ctx *cmp_cpu_create(const cmp_options *opt, char *err, size_t err_sz);

#endif
