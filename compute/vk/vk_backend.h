/* The Vulkan backend's private state and helpers shared by its op files (vk_backend.c,
 * vk_ops_elementwise.c, vk_ops_dense.c, vk_ops_norm.c). Private to compute/vk/.
 *
 * Every op records into the context's recorder (vk_recorder.h): nothing runs until cmp_sync(),
 * cmp_download() or a buffer free needs the results. Tensors are bound as storage buffers at an
 * aligned offset plus a float offset in the push constants, or read through their block's texel
 * views (GEMM-shaped shaders). Device failures inside an op (a pipeline the driver rejects, a lost
 * device) abort with a message: the op interface has no error path and they are not bad input. */
#ifndef VK_BACKEND_H
#define VK_BACKEND_H

#include "cmp_backend.h"
#include "vk_gemm.h"
#include "vk_push.h"

typedef struct vk_be {
  vk_runtime *rt;            /* instance, device, queue */
  vk_pipelines *pipes;       /* pipeline cache */
  vk_recorder *rec;          /* the command buffer being recorded */
  vk_pool *pools[3];         /* by cmp_arena_kind: weights, activations (device), staging (host) */
  vk_pool *scratch_pool;     /* device memory for multi-pass ops */
  vk_alloc scratch;          /* current scratch range (grows by reallocation after a flush) */
  VkDeviceSize scratch_used; /* bytes handed out by vkb_scratch() since vkb_scratch_begin() */
} vk_be;

static inline vk_be *vkb(const cmp_ctx *ctx) {
  return (vk_be *)ctx->impl;
}

/* The device block and float offset in it of a tensor's first element. */
static inline vk_block *vkb_block(const cmp_tensor *t) {
  return ((vk_alloc *)t->buf->impl)->block;
}
static inline uint64_t vkb_off(const cmp_tensor *t) {
  return ((vk_alloc *)t->buf->impl)->off / 4 + t->off;
}
/* The shader epilogue of a fused activation (cmp.c admits only ReLU and leaky ReLU). */
static inline vk_epilogue vkb_epilogue(const cmp_fused_act *act) {
  return !act ? VK_EPI_NONE : act->act == CMP_ACT_LEAKY_RELU ? VK_EPI_LEAKY_RELU : VK_EPI_RELU;
}
static inline vk_mat vkb_mat(const cmp_tensor *t) {
  vk_mat m = {vkb_block(t), vkb_off(t)};
  return m;
}

/* A storage-buffer binding of floats [off, off + count) of a block; *rel receives the float offset
 * the shader adds. */
vk_buf_ref vkb_ssbo_mat(const vk_be *b, vk_mat m, uint64_t count, bool write, int binding,
                        uint32_t *rel);
/* The same for a tensor (its numel floats). */
vk_buf_ref vkb_ssbo(const vk_be *b, const cmp_tensor *t, bool write, int binding, uint32_t *rel);
/* A texel-view binding (RGBA32F when vec4, else R32F) of floats [off, off + count) of a block. */
vk_buf_ref vkb_texel(vk_mat m, uint64_t count, bool vec4, int binding);

/* Records a dispatch of the pipeline (id, spec) over gx x gy x gz workgroups; aborts on failure. */
void vkb_dispatch(vk_be *b, vk_shader_id id, const uint32_t *spec, int nspec, const void *push,
                  uint32_t push_bytes, const vk_buf_ref *refs, int nrefs, uint32_t gx, uint32_t gy,
                  uint32_t gz);
/* An elementwise dispatch: one invocation per item, 64 per workgroup (elementwise.glsl). */
void vkb_dispatch_items(vk_be *b, vk_shader_id id, const void *push, uint32_t push_bytes,
                        const vk_buf_ref *refs, int nrefs, uint64_t items);
/* The same with specialisation constants. */
void vkb_dispatch_items_spec(vk_be *b, vk_shader_id id, const uint32_t *spec, int nspec,
                             const void *push, uint32_t push_bytes, const vk_buf_ref *refs,
                             int nrefs, uint64_t items);
/* A vectorised elementwise dispatch over count elements (ew.glsl: 16 per invocation); spec[0] is
 * EW_VEC (every offset a multiple of 4 floats), spec[1..] the shader's own constants. */
static inline void vkb_dispatch_ew(vk_be *b, vk_shader_id id, const uint32_t *spec, int nspec,
                                   const void *push, uint32_t push_bytes, const vk_buf_ref *refs,
                                   int nrefs, uint64_t count) {
  vkb_dispatch_items_spec(b, id, spec, nspec, push, push_bytes, refs, nrefs, (count + 15) / 16);
}
/* Binds floats [m.off, m.off + count) as input i of an ew.glsl shader (texel views at bindings
 * 8 + 2i and 9 + 2i) into refs[*n], advancing *n; returns the offset the shader uses. */
static inline uint32_t vkb_in_mat(vk_buf_ref *refs, int *n, vk_mat m, uint64_t count, int i) {
  refs[(*n)++] = vkb_texel(m, count, true, 8 + 2 * i);
  refs[(*n)++] = vkb_texel(m, count, false, 9 + 2 * i);
  return (uint32_t)m.off;
}
static inline uint32_t vkb_in(vk_buf_ref *refs, int *n, const cmp_tensor *t, int i) {
  return vkb_in_mat(refs, n, vkb_mat(t), cmp_numel(t), i);
}
/* Whether a float offset allows vec4 access. */
static inline bool vkb_al4(uint64_t off) {
  return (off & 3) == 0;
}

/* Scratch memory for one op: vkb_scratch_begin(total floats) makes sure that much is available
 * (flushing first when the scratch must grow), then vkb_scratch() carves aligned pieces. Pieces
 * are valid until the next vkb_scratch_begin(); the recorder orders their reuse with barriers. */
void vkb_scratch_begin(vk_be *b, uint64_t floats);
vk_mat vkb_scratch(vk_be *b, uint64_t floats);
/* Floats a vkb_scratch() piece of n floats takes (alignment included), for the total. */
static inline uint64_t vkb_scratch_size(uint64_t n) {
  return (n + 63) / 64 * 64;
}

/* y[o, i] = scale sum_k x[o, k, i] + beta y[o, i] for x [outer, r, inner] at xm, y at ym (outer *
 * inner floats). Long reductions with few outputs run in two passes through scratch, which the
 * caller must have reserved (vkb_reduce_scratch()). */
void vkb_reduce(vk_be *b, vk_mat xm, uint64_t outer, uint64_t r, uint64_t inner, float scale,
                vk_mat ym, float beta);
uint64_t vkb_reduce_scratch(uint64_t outer, uint64_t r, uint64_t inner);

/* Aborts with "cmp: vulkan: <message>". */
_Noreturn void vkb_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Op entry points, one per cmp_backend_ops field (vk_ops_*.c). */
void vkb_fill(cmp_ctx *ctx, const cmp_tensor *t, float value);
void vkb_axpby(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y, float alpha, float beta);
void vkb_clamp(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y, float lo, float hi);
void vkb_copy_channels(cmp_ctx *ctx, const cmp_tensor *src, int src_c0, const cmp_tensor *dst,
                       int dst_c0, int nc, float beta);
void vkb_act_fwd(cmp_ctx *ctx, cmp_act act, const cmp_tensor *x, const cmp_tensor *y, float alpha);
void vkb_act_bwd(cmp_ctx *ctx, cmp_act act, const cmp_tensor *x, const cmp_tensor *y,
                 const cmp_tensor *dy, const cmp_tensor *dx, float alpha, float beta);
void vkb_binary(cmp_ctx *ctx, cmp_binop op, const cmp_tensor *a, const cmp_tensor *b,
                const cmp_tensor *y);
void vkb_binary_bwd(cmp_ctx *ctx, cmp_binop op, const cmp_tensor *a, const cmp_tensor *b,
                    const cmp_tensor *dy, const cmp_tensor *da, const cmp_tensor *db, float beta);
void vkb_reduce_op(cmp_ctx *ctx, const cmp_tensor *x, int r, int inner, bool mean,
                   const cmp_tensor *y, float beta);
void vkb_broadcast(cmp_ctx *ctx, const cmp_tensor *x, int r, int inner, bool mean,
                   const cmp_tensor *y, float beta);
void vkb_mse_fwd(cmp_ctx *ctx, const cmp_tensor *a, const cmp_tensor *b, const cmp_tensor *out);
void vkb_mse_bwd(cmp_ctx *ctx, const cmp_tensor *a, const cmp_tensor *b, float scale,
                 const cmp_tensor *da, float beta);
void vkb_logsumexp_fwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y);
void vkb_logsumexp_bwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y, const cmp_tensor *dy,
                       const cmp_tensor *dx, float beta);
void vkb_adam_step(cmp_ctx *ctx, const cmp_tensor *param, const cmp_tensor *grad,
                   const cmp_tensor *m, const cmp_tensor *v, float lr, float b1, float b2,
                   float eps, int64_t t);
void vkb_polyak(cmp_ctx *ctx, const cmp_tensor *target, const cmp_tensor *source, float tau);
void vkb_rng_uniform(cmp_ctx *ctx, const cmp_tensor *t, uint64_t seed, uint32_t stream,
                     uint64_t index0, float lo, float hi);
void vkb_rng_normal(cmp_ctx *ctx, const cmp_tensor *t, uint64_t seed, uint32_t stream,
                    uint64_t index0, float mean, float std);

void vkb_gemm_op(cmp_ctx *ctx, bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                 const cmp_tensor *a, int lda, const cmp_tensor *b, int ldb, float beta,
                 const cmp_tensor *c, int ldc);
void vkb_linear_fwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *b,
                    const cmp_tensor *y, const cmp_fused_act *act);
void vkb_linear_bwd_data(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *w,
                         const cmp_tensor *dx, float beta);
void vkb_linear_bwd_weight(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *x,
                           const cmp_tensor *dw, const cmp_tensor *db, float beta);
void vkb_conv2d_fwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *b,
                    const cmp_tensor *y, const cmp_conv_params *p, const cmp_fused_act *act);
void vkb_conv2d_bwd_data(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *w,
                         const cmp_tensor *dx, const cmp_conv_params *p, float beta);
void vkb_conv2d_bwd_weight(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *x,
                           const cmp_tensor *dw, const cmp_tensor *db, const cmp_conv_params *p,
                           float beta);
void vkb_convt2d_fwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *b,
                     const cmp_tensor *y, const cmp_conv_params *p);
void vkb_convt2d_bwd_data(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *w,
                          const cmp_tensor *dx, const cmp_conv_params *p, float beta);
void vkb_convt2d_bwd_weight(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *x,
                            const cmp_tensor *dw, const cmp_tensor *db, const cmp_conv_params *p,
                            float beta);

void vkb_bn_fwd_train(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *gamma,
                      const cmp_tensor *beta_, const cmp_tensor *run_mean,
                      const cmp_tensor *run_var, float momentum, float eps, const cmp_tensor *y,
                      const cmp_tensor *save_mean, const cmp_tensor *save_invstd);
void vkb_bn_fwd_eval(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *gamma,
                     const cmp_tensor *beta_, const cmp_tensor *run_mean, const cmp_tensor *run_var,
                     float eps, const cmp_tensor *y);
void vkb_bn_bwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *dy, const cmp_tensor *gamma,
                const cmp_tensor *save_mean, const cmp_tensor *save_invstd, const cmp_tensor *dx,
                const cmp_tensor *dgamma, const cmp_tensor *dbeta, const cmp_tensor *dsum,
                float dx_beta, float param_beta, const cmp_fused_act *act);

/* compute/vk/vk_ops_warp.c */
void vkb_warp_fwd(cmp_ctx *ctx, const cmp_tensor *img, const cmp_tensor *flow, float scale,
                  const cmp_tensor *out);
void vkb_warp_bwd(cmp_ctx *ctx, const cmp_tensor *img, const cmp_tensor *flow, float scale,
                  const cmp_tensor *dout, const cmp_tensor *dflow, float beta);

#endif
