/* Shared by the CPU backend's files: its private state, the worker pool and per-worker scratch.
 *
 * Threads: the backend owns `nthreads` workers (the calling thread is worker 0) and runs OpenBLAS
 * single-threaded inside them, so the cores are never oversubscribed. Ops split their work into
 * tasks; a task's result never depends on which worker runs it, and reductions across tasks are
 * summed in task order, so results are reproducible for a given thread count. */
#ifndef CPU_INTERNAL_H
#define CPU_INTERNAL_H

#include "cmp_backend.h"

#include <stddef.h>

/* Hot loops get AVX-512 and AVX2/FMA clones picked at load time (GCC function multi-versioning),
 * so the binary still runs on any x86-64. Like OpenBLAS's own kernels, the clones round a little
 * differently (FMA contraction), so results agree across machines to float precision, not bits.
 * Random numbers never go through these clones: they are bit-identical everywhere. */
/* (Not under ThreadSanitizer: it instruments the ifunc resolvers, which run before it starts.) */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
#define CPU_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CPU_HOT
#endif

/* 8-float vectors through GCC's vector extensions (AVX in the CPU_HOT clone, SSE pairs else).
 * aligned(4): loads and stores through these pointers may be unaligned. */
typedef float cpu_v8 __attribute__((vector_size(32), aligned(4)));
typedef int cpu_v8i __attribute__((vector_size(32), aligned(4)));
static inline cpu_v8 cpu_v8_load(const float *p) {
  return *(const cpu_v8 *)p;
}
static inline void cpu_v8_store(float *p, cpu_v8 v) {
  *(cpu_v8 *)p = v;
}
static inline cpu_v8 cpu_v8_set1(float x) {
  return (cpu_v8){x, x, x, x, x, x, x, x};
}
/* m ? a : b lane by lane, m from a vector comparison (all ones or zeros). */
static inline cpu_v8 cpu_v8_select(cpu_v8i m, cpu_v8 a, cpu_v8 b) {
  return (cpu_v8)(((cpu_v8i)a & m) | ((cpu_v8i)b & ~m));
}

#define CPU_MAX_THREADS   64
#define CPU_SCRATCH_SLOTS 4 /* independent scratch buffers per worker (e.g. col, gathered dy) */

typedef struct cpu_pool cpu_pool;

typedef struct cpu_scratch {
  float *p;   /* 64-byte aligned, grown (never shrunk) on demand */
  size_t cap; /* floats */
} cpu_scratch;

typedef struct cpu_impl {
  int nthreads;                                            /* workers incl. the caller */
  cpu_pool *pool;                                          /* NULL when nthreads == 1 */
  cpu_scratch scratch[CPU_MAX_THREADS][CPU_SCRATCH_SLOTS]; /* per worker and slot */
  cpu_scratch shared[CPU_SCRATCH_SLOTS];                   /* for the issuing thread only */
} cpu_impl;

static inline cpu_impl *cpu_of(cmp_ctx *ctx) {
  return (cpu_impl *)ctx->impl;
}
static inline float *cpu_ptr(const cmp_tensor *t) {
  return t->buf->host + t->off;
}

/* Runs fn(arg, task, worker) for task in [0, ntasks) on the pool; returns when all are done.
 * worker in [0, nthreads) identifies the scratch a task may use. */
typedef void (*cpu_task_fn)(void *arg, int task, int worker);
void cpu_parallel(cmp_ctx *ctx, int ntasks, cpu_task_fn fn, void *arg);

/* Worker `worker`'s scratch buffer `slot` with room for at least `floats` floats. Grows only the
 * first time a larger size is asked (sized by the first step; no allocation in steady state). */
float *cpu_scratch_get(cmp_ctx *ctx, int worker, int slot, size_t floats);
/* Scratch owned by the issuing thread (outside parallel regions). */
float *cpu_shared_get(cmp_ctx *ctx, int slot, size_t floats);

/* Tasks for n units of work of `unit_cost` flops (or bytes) each: 1 when the whole job is too
 * small to be worth waking the workers, else up to nthreads. */
int cpu_tasks_for(cmp_ctx *ctx, size_t n, double unit_cost);

/* [begin, end) of part `i` of `parts` over n items. */
static inline void cpu_split(size_t n, int parts, int i, size_t *begin, size_t *end) {
  *begin = n * (size_t)i / (size_t)parts;
  *end = n * (size_t)(i + 1) / (size_t)parts;
}

/* Row-major C = alpha op(A) op(B) + beta C through OpenBLAS, split over the workers when large. */
void cpu_sgemm(cmp_ctx *ctx, bool ta, bool tb, int m, int n, int k, float alpha, const float *a,
               int lda, const float *b, int ldb, float beta, float *c, int ldc);

/* Op entry points, installed in the table by cpu_ctx.c. */
void cpu_fill(cmp_ctx *ctx, const cmp_tensor *t, float value);
void cpu_axpby(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y, float alpha, float beta);
void cpu_clamp(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y, float lo, float hi);
void cpu_copy_channels(cmp_ctx *ctx, const cmp_tensor *src, int src_c0, const cmp_tensor *dst,
                       int dst_c0, int nc, float beta);
void cpu_act_fwd(cmp_ctx *ctx, cmp_act act, const cmp_tensor *x, const cmp_tensor *y, float alpha);
void cpu_act_bwd(cmp_ctx *ctx, cmp_act act, const cmp_tensor *x, const cmp_tensor *y,
                 const cmp_tensor *dy, const cmp_tensor *dx, float alpha, float beta);
void cpu_binary(cmp_ctx *ctx, cmp_binop op, const cmp_tensor *a, const cmp_tensor *b,
                const cmp_tensor *y);
void cpu_binary_bwd(cmp_ctx *ctx, cmp_binop op, const cmp_tensor *a, const cmp_tensor *b,
                    const cmp_tensor *dy, const cmp_tensor *da, const cmp_tensor *db, float beta);
void cpu_reduce(cmp_ctx *ctx, const cmp_tensor *x, int r, int inner, bool mean, const cmp_tensor *y,
                float beta);
void cpu_broadcast(cmp_ctx *ctx, const cmp_tensor *x, int r, int inner, bool mean,
                   const cmp_tensor *y, float beta);

void cpu_gemm(cmp_ctx *ctx, bool trans_a, bool trans_b, int m, int n, int k, float alpha,
              const cmp_tensor *a, int lda, const cmp_tensor *b, int ldb, float beta,
              const cmp_tensor *c, int ldc);
void cpu_linear_fwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *b,
                    const cmp_tensor *y, const cmp_fused_act *act);
void cpu_linear_bwd_data(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *w,
                         const cmp_tensor *dx, float beta);
void cpu_linear_bwd_weight(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *x,
                           const cmp_tensor *dw, const cmp_tensor *db, float beta);

void cpu_conv2d_fwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *b,
                    const cmp_tensor *y, const cmp_conv_params *p, const cmp_fused_act *act);
void cpu_conv2d_bwd_data(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *w,
                         const cmp_tensor *dx, const cmp_conv_params *p, float beta);
void cpu_conv2d_bwd_weight(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *x,
                           const cmp_tensor *dw, const cmp_tensor *db, const cmp_conv_params *p,
                           float beta);
void cpu_convt2d_fwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *b,
                     const cmp_tensor *y, const cmp_conv_params *p);
void cpu_convt2d_bwd_data(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *w,
                          const cmp_tensor *dx, const cmp_conv_params *p, float beta);
void cpu_convt2d_bwd_weight(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *x,
                            const cmp_tensor *dw, const cmp_tensor *db, const cmp_conv_params *p,
                            float beta);

void cpu_bn_fwd_train(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *gamma,
                      const cmp_tensor *beta_, const cmp_tensor *run_mean,
                      const cmp_tensor *run_var, float momentum, float eps, const cmp_tensor *y,
                      const cmp_tensor *save_mean, const cmp_tensor *save_invstd);
void cpu_bn_fwd_eval(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *gamma,
                     const cmp_tensor *beta_, const cmp_tensor *run_mean, const cmp_tensor *run_var,
                     float eps, const cmp_tensor *y);
void cpu_bn_bwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *dy, const cmp_tensor *gamma,
                const cmp_tensor *save_mean, const cmp_tensor *save_invstd, const cmp_tensor *dx,
                const cmp_tensor *dgamma, const cmp_tensor *dbeta, const cmp_tensor *dsum,
                float dx_beta, float param_beta, const cmp_fused_act *act);

void cpu_mse_fwd(cmp_ctx *ctx, const cmp_tensor *a, const cmp_tensor *b, const cmp_tensor *out);
void cpu_mse_bwd(cmp_ctx *ctx, const cmp_tensor *a, const cmp_tensor *b, float scale,
                 const cmp_tensor *da, float beta);
void cpu_logsumexp_fwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y);
void cpu_logsumexp_bwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y, const cmp_tensor *dy,
                       const cmp_tensor *dx, float beta);
void cpu_warp_fwd(cmp_ctx *ctx, const cmp_tensor *img, const cmp_tensor *flow, float scale,
                  const cmp_tensor *out);
void cpu_warp_bwd(cmp_ctx *ctx, const cmp_tensor *img, const cmp_tensor *flow, float scale,
                  const cmp_tensor *dout, const cmp_tensor *dflow, float beta);
void cpu_adam_step(cmp_ctx *ctx, const cmp_tensor *param, const cmp_tensor *grad,
                   const cmp_tensor *m, const cmp_tensor *v, float lr, float b1, float b2,
                   float eps, int64_t t);
void cpu_polyak(cmp_ctx *ctx, const cmp_tensor *target, const cmp_tensor *source, float tau);
void cpu_rng_uniform(cmp_ctx *ctx, const cmp_tensor *t, uint64_t seed, uint32_t stream,
                     uint64_t index0, float lo, float hi);
void cpu_rng_normal(cmp_ctx *ctx, const cmp_tensor *t, uint64_t seed, uint32_t stream,
                    uint64_t index0, float mean, float std);

#endif
