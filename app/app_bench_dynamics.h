/* The learned-dynamics rollout benchmark, for `mbold bench dynamics` and the learned-dynamics line
 * of `mbold bench plan` (bench_plan.c calls these with its own context). */
#ifndef APP_BENCH_DYNAMICS_H
#define APP_BENCH_DYNAMICS_H

#include "cmp.h"
#include "dyn_plan.h"
#include "mb_json.h"

#include <stdbool.h>
#include <stddef.h>

/* Times `samples` x `horizon` predictions from one context (final frames only) on ctx with the
 * latest checkpoint of run_dir, or an untrained model of the default size when run_dir is NULL.
 * false + err for a bad run folder. */
bool app_bench_dynamics_rollout(cmp_ctx *ctx, const char *run_dir, int samples, int horizon,
                                int reps, dyn_bench_result *out, char *err, size_t err_sz);
/* Two table lines in the style of mbold bench ops. */
void app_bench_dynamics_print(const cmp_ctx *ctx, const dyn_bench_result *r);
/* One JSON object (name, backend, device, model, samples, horizon, ms_best, ms_median,
 * ms_context, gflop) as the next value of w. */
void app_bench_dynamics_json(mb_jw *w, const cmp_ctx *ctx, const dyn_bench_result *r);

#endif
