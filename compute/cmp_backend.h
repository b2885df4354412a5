/* How a backend plugs into the compute core. Private to compute/ (cmp.c and the backends).
 *
 * A backend provides a create function that builds its private state, fills a cmp_backend_ops
 * table (static, one per backend) and returns cmp_ctx_new(ops, impl, name, device). cmp.c owns the
 * public wrappers: they check shapes and bounds (aborting with a message naming the op), then call
 * through the table. So a backend's op receives arguments that are already valid:
 *   - every non-optional tensor has a buffer, and off + numel fits in it;
 *   - shapes agree as documented in cmp.h (e.g. conv output size = cmp_conv_out(...));
 *   - optional tensors (documented "may be NULL" in cmp.h) are NULL or valid.
 * Ops have exactly the signatures of the public functions in cmp.h. A NULL entry means the backend
 * does not support that op; the wrapper then aborts naming the op and the backend.
 *
 * Buffers: buffer_alloc returns zero-filled storage of at least `floats` floats, on which tensor
 * offsets are counted in floats. cmp.c's arenas carve tensors out of such buffers and re-zero
 * reused memory with ops->fill. */
#ifndef CMP_BACKEND_H
#define CMP_BACKEND_H

#include "cmp.h"

#include <stdio.h>
#include <stdlib.h>

struct cmp_buffer {
  cmp_ctx *ctx;        /* the context that allocated it */
  cmp_arena_kind kind; /* which pool it came from */
  size_t floats;       /* capacity in floats */
  float *host;         /* host address of element 0: always for the CPU backend; for Vulkan the
                          persistent mapping of host-visible memory, or NULL (device-local) */
  void *impl;          /* backend-private (Vulkan: VkBuffer, memory, last access for barriers) */
};

typedef struct cmp_backend_ops {
  /* ---- context and memory ----------------------------------------------------------------------
   */
  void (*destroy)(cmp_ctx *ctx); /* frees ctx->impl and everything the backend made; not ctx */
  /* Returns a new zero-filled buffer, or NULL with err filled (out of memory). */
  cmp_buffer *(*buffer_alloc)(cmp_ctx *ctx, cmp_arena_kind kind, size_t floats, char *err,
                              size_t err_sz);
  void (*buffer_free)(cmp_ctx *ctx, cmp_buffer *buf); /* waits for pending use first */
  void (*sync)(cmp_ctx *ctx);
  int (*validation_message_count)(const cmp_ctx *ctx); /* may be NULL: 0 */

  /* ---- transfers -------------------------------------------------------------------------------
   */
  void (*upload)(cmp_ctx *ctx, const cmp_tensor *dst, const float *src);
  void (*upload_u8_hwc)(cmp_ctx *ctx, const cmp_tensor *dst, int c0, const uint8_t *src,
                        float scale, float bias);
  void (*download)(cmp_ctx *ctx, const cmp_tensor *src, float *dst);

  /* ---- elementwise and data movement -----------------------------------------------------------
   */
  void (*fill)(cmp_ctx *ctx, const cmp_tensor *t, float value);
  void (*axpby)(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y, float alpha, float beta);
  void (*clamp)(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y, float lo, float hi);
  void (*copy_channels)(cmp_ctx *ctx, const cmp_tensor *src, int src_c0, const cmp_tensor *dst,
                        int dst_c0, int nc, float beta);
  void (*act_fwd)(cmp_ctx *ctx, cmp_act act, const cmp_tensor *x, const cmp_tensor *y, float alpha);
  void (*act_bwd)(cmp_ctx *ctx, cmp_act act, const cmp_tensor *x, const cmp_tensor *y,
                  const cmp_tensor *dy, const cmp_tensor *dx, float alpha, float beta);
  void (*binary)(cmp_ctx *ctx, cmp_binop op, const cmp_tensor *a, const cmp_tensor *b,
                 const cmp_tensor *y);
  void (*binary_bwd)(cmp_ctx *ctx, cmp_binop op, const cmp_tensor *a, const cmp_tensor *b,
                     const cmp_tensor *dy, const cmp_tensor *da, const cmp_tensor *db, float beta);
  void (*reduce)(cmp_ctx *ctx, const cmp_tensor *x, int r, int inner, bool mean,
                 const cmp_tensor *y, float beta);
  void (*broadcast)(cmp_ctx *ctx, const cmp_tensor *x, int r, int inner, bool mean,
                    const cmp_tensor *y, float beta);

  /* ---- dense -----------------------------------------------------------------------------------
   */
  void (*gemm)(cmp_ctx *ctx, bool trans_a, bool trans_b, int m, int n, int k, float alpha,
               const cmp_tensor *a, int lda, const cmp_tensor *b, int ldb, float beta,
               const cmp_tensor *c, int ldc);
  void (*linear_fwd)(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *b,
                     const cmp_tensor *y, const cmp_fused_act *act); /* act may be NULL */
  void (*linear_bwd_data)(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *w,
                          const cmp_tensor *dx, float beta);
  void (*linear_bwd_weight)(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *x,
                            const cmp_tensor *dw, const cmp_tensor *db, float beta);

  /* ---- convolutions ----------------------------------------------------------------------------
   */
  void (*conv2d_fwd)(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *b,
                     const cmp_tensor *y, const cmp_conv_params *p,
                     const cmp_fused_act *act); /* act may be NULL */
  void (*conv2d_bwd_data)(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *w,
                          const cmp_tensor *dx, const cmp_conv_params *p, float beta);
  void (*conv2d_bwd_weight)(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *x,
                            const cmp_tensor *dw, const cmp_tensor *db, const cmp_conv_params *p,
                            float beta);
  void (*convt2d_fwd)(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *b,
                      const cmp_tensor *y, const cmp_conv_params *p);
  void (*convt2d_bwd_data)(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *w,
                           const cmp_tensor *dx, const cmp_conv_params *p, float beta);
  void (*convt2d_bwd_weight)(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *x,
                             const cmp_tensor *dw, const cmp_tensor *db, const cmp_conv_params *p,
                             float beta);

  /* ---- batch normalisation ---------------------------------------------------------------------
   */
  void (*bn_fwd_train)(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *gamma,
                       const cmp_tensor *beta_, const cmp_tensor *run_mean,
                       const cmp_tensor *run_var, float momentum, float eps, const cmp_tensor *y,
                       const cmp_tensor *save_mean, const cmp_tensor *save_invstd);
  void (*bn_fwd_eval)(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *gamma,
                      const cmp_tensor *beta_, const cmp_tensor *run_mean,
                      const cmp_tensor *run_var, float eps, const cmp_tensor *y);
  void (*bn_bwd)(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *dy, const cmp_tensor *gamma,
                 const cmp_tensor *save_mean, const cmp_tensor *save_invstd, const cmp_tensor *dx,
                 const cmp_tensor *dgamma, const cmp_tensor *dbeta, const cmp_tensor *dsum,
                 float dx_beta, float param_beta, const cmp_fused_act *act);

  /* ---- losses ----------------------------------------------------------------------------------
   */
  void (*mse_fwd)(cmp_ctx *ctx, const cmp_tensor *a, const cmp_tensor *b, const cmp_tensor *out);
  void (*mse_bwd)(cmp_ctx *ctx, const cmp_tensor *a, const cmp_tensor *b, float scale,
                  const cmp_tensor *da, float beta);
  void (*logsumexp_fwd)(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y);
  void (*logsumexp_bwd)(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y,
                        const cmp_tensor *dy, const cmp_tensor *dx, float beta);

  /* ---- image warping ---- */
  void (*warp_fwd)(cmp_ctx *ctx, const cmp_tensor *img, const cmp_tensor *flow, float scale,
                   const cmp_tensor *out);
  void (*warp_bwd)(cmp_ctx *ctx, const cmp_tensor *img, const cmp_tensor *flow, float scale,
                   const cmp_tensor *dout, const cmp_tensor *dflow, float beta);

  /* ---- optimisers and random numbers -----------------------------------------------------------
   */
  void (*adam_step)(cmp_ctx *ctx, const cmp_tensor *param, const cmp_tensor *grad,
                    const cmp_tensor *m, const cmp_tensor *v, float lr, float b1, float b2,
                    float eps, int64_t t);
  void (*polyak)(cmp_ctx *ctx, const cmp_tensor *target, const cmp_tensor *source, float tau);
  void (*rng_uniform)(cmp_ctx *ctx, const cmp_tensor *t, uint64_t seed, uint32_t stream,
                      uint64_t index0, float lo, float hi);
  void (*rng_normal)(cmp_ctx *ctx, const cmp_tensor *t, uint64_t seed, uint32_t stream,
                     uint64_t index0, float mean, float std);
} cmp_backend_ops;

struct cmp_ctx {
  const cmp_backend_ops *ops; /* the backend's table (static storage) */
  void *impl;                 /* the backend's private state */
  char backend[16];           /* "cpu" | "vulkan" */
  char device[256];           /* human-readable device name */
};

/* Wraps a backend's state in a context (called by the backend's create function). Returns NULL
 * (and the caller frees impl) only when malloc fails. */
cmp_ctx *cmp_ctx_new(const cmp_backend_ops *ops, void *impl, const char *backend,
                     const char *device);

/* The options with defaults filled in when opt is NULL. */
cmp_options cmp_options_or_default(const cmp_options *opt);

/* Aborts the program with "cmp: <message>" on stderr: for programming errors (bad shapes,
 * unsupported op), never for bad input. */
_Noreturn void cmp_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Host pointer of a tensor's first element (CPU backend and host-visible staging only). */
static inline float *cmp_host_ptr(const cmp_tensor *t) {
  return t->buf->host + t->off;
}

#endif
