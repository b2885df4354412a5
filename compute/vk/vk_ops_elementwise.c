/* Vulkan backend: elementwise ops, data movement, reductions, losses, optimisers, random numbers
 * (shaders/<op>.comp, one invocation per element unless noted). */
#include "vk_backend.h"

#include <math.h>

#define ITEMS(t) cmp_numel(t)

void vkb_fill(cmp_ctx *ctx, const cmp_tensor *t, float value) {
  vk_be *b = vkb(ctx);
  vk_push_fill pc = {0, (uint32_t)ITEMS(t), value};
  vk_buf_ref ref = vkb_ssbo(b, t, true, 0, &pc.off);
  vkb_dispatch_items(b, VK_SHADER_FILL, &pc, sizeof pc, &ref, 1, ITEMS(t));
}

void vkb_axpby(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y, float alpha, float beta) {
  vk_be *b = vkb(ctx);
  vk_push_axpby pc = {0, 0, (uint32_t)ITEMS(x), alpha, beta};
  vk_buf_ref refs[2] = {vkb_ssbo(b, x, false, 0, &pc.x_off), vkb_ssbo(b, y, true, 1, &pc.y_off)};
  vkb_dispatch_items(b, VK_SHADER_AXPBY, &pc, sizeof pc, refs, 2, ITEMS(x));
}

void vkb_clamp(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y, float lo, float hi) {
  vk_be *b = vkb(ctx);
  vk_push_clamp pc = {0, 0, (uint32_t)ITEMS(x), lo, hi};
  vk_buf_ref refs[2] = {vkb_ssbo(b, x, false, 0, &pc.x_off), vkb_ssbo(b, y, true, 1, &pc.y_off)};
  vkb_dispatch_items(b, VK_SHADER_CLAMP, &pc, sizeof pc, refs, 2, ITEMS(x));
}

void vkb_copy_channels(cmp_ctx *ctx, const cmp_tensor *src, int src_c0, const cmp_tensor *dst,
                       int dst_c0, int nc, float beta) {
  vk_be *b = vkb(ctx);
  uint64_t hw = (uint64_t)src->h * src->w, run = (uint64_t)nc * hw;
  uint64_t ss = (uint64_t)src->c * hw, ds = (uint64_t)dst->c * hw;
  vk_push_copy_channels pc = {
      0, 0, (uint32_t)(src->n * run), (uint32_t)run, (uint32_t)ss, (uint32_t)ds, beta};
  vk_mat s = vkb_mat(src), d = vkb_mat(dst);
  s.off += (uint64_t)src_c0 * hw;
  d.off += (uint64_t)dst_c0 * hw;
  uint64_t s_len = (uint64_t)(src->n - 1) * ss + run, d_len = (uint64_t)(dst->n - 1) * ds + run;
  vk_buf_ref refs[2] = {vkb_ssbo_mat(b, s, s_len, false, 0, &pc.src_off),
                        vkb_ssbo_mat(b, d, d_len, true, 1, &pc.dst_off)};
  vkb_dispatch_items(b, VK_SHADER_COPY_CHANNELS, &pc, sizeof pc, refs, 2, (uint64_t)src->n * run);
}

void vkb_act_fwd(cmp_ctx *ctx, cmp_act act, const cmp_tensor *x, const cmp_tensor *y, float alpha) {
  vk_be *b = vkb(ctx);
  vk_push_act_fwd pc = {0, 0, (uint32_t)ITEMS(x), (uint32_t)act, alpha};
  vk_buf_ref refs[2] = {vkb_ssbo(b, x, false, 0, &pc.x_off), vkb_ssbo(b, y, true, 1, &pc.y_off)};
  vkb_dispatch_items(b, VK_SHADER_ACT_FWD, &pc, sizeof pc, refs, 2, ITEMS(x));
}

void vkb_act_bwd(cmp_ctx *ctx, cmp_act act, const cmp_tensor *x, const cmp_tensor *y,
                 const cmp_tensor *dy, const cmp_tensor *dx, float alpha, float beta) {
  vk_be *b = vkb(ctx);
  /* The input the activation does not use may be NULL: bind dy in its place (never read). */
  const cmp_tensor *xx = x ? x : dy, *yy = y ? y : dy;
  vk_push_act_bwd pc = {0, 0, 0, 0, (uint32_t)ITEMS(dy), (uint32_t)act, alpha, beta};
  vk_buf_ref refs[4] = {vkb_ssbo(b, xx, false, 0, &pc.x_off), vkb_ssbo(b, yy, false, 1, &pc.y_off),
                        vkb_ssbo(b, dy, false, 2, &pc.dy_off),
                        vkb_ssbo(b, dx, true, 3, &pc.dx_off)};
  vkb_dispatch_items(b, VK_SHADER_ACT_BWD, &pc, sizeof pc, refs, 4, ITEMS(dy));
}

/* b's strides seen with a's shape (0 along broadcast dimensions). */
static void b_strides(const cmp_tensor *bt, uint32_t s[4]) {
  s[3] = bt->w == 1 ? 0 : 1;
  s[2] = bt->h == 1 ? 0 : (uint32_t)bt->w;
  s[1] = bt->c == 1 ? 0 : (uint32_t)(bt->h * bt->w);
  s[0] = bt->n == 1 ? 0 : (uint32_t)(bt->c * bt->h * bt->w);
}

void vkb_binary(cmp_ctx *ctx, cmp_binop op, const cmp_tensor *a, const cmp_tensor *bt,
                const cmp_tensor *y) {
  vk_be *b = vkb(ctx);
  uint32_t s[4];
  b_strides(bt, s);
  vk_push_binary pc = {
      0,    0,    0,    (uint32_t)ITEMS(a), (uint32_t)a->c, (uint32_t)a->h, (uint32_t)a->w, s[0],
      s[1], s[2], s[3], (uint32_t)op};
  vk_buf_ref refs[3] = {vkb_ssbo(b, a, false, 0, &pc.a_off), vkb_ssbo(b, bt, false, 1, &pc.b_off),
                        vkb_ssbo(b, y, true, 2, &pc.y_off)};
  vkb_dispatch_items(b, VK_SHADER_BINARY, &pc, sizeof pc, refs, 3, ITEMS(a));
}

void vkb_binary_bwd(cmp_ctx *ctx, cmp_binop op, const cmp_tensor *a, const cmp_tensor *bt,
                    const cmp_tensor *dy, const cmp_tensor *da, const cmp_tensor *db, float beta) {
  vk_be *b = vkb(ctx);
  if (da) {
    uint32_t s[4];
    b_strides(bt, s);
    vk_push_binary_bwd_a pc = {0,
                               0,
                               0,
                               0,
                               (uint32_t)ITEMS(a),
                               (uint32_t)a->c,
                               (uint32_t)a->h,
                               (uint32_t)a->w,
                               s[0],
                               s[1],
                               s[2],
                               s[3],
                               (uint32_t)op,
                               beta};
    vk_buf_ref refs[4] = {vkb_ssbo(b, a, false, 0, &pc.a_off), vkb_ssbo(b, bt, false, 1, &pc.b_off),
                          vkb_ssbo(b, dy, false, 2, &pc.dy_off),
                          vkb_ssbo(b, da, true, 3, &pc.da_off)};
    vkb_dispatch_items(b, VK_SHADER_BINARY_BWD_A, &pc, sizeof pc, refs, 4, ITEMS(a));
  }
  if (db) {
    vk_push_binary_bwd_b pc = {0,
                               0,
                               0,
                               0,
                               (uint32_t)ITEMS(bt),
                               (uint32_t)a->n,
                               (uint32_t)a->c,
                               (uint32_t)a->h,
                               (uint32_t)a->w,
                               (uint32_t)bt->n,
                               (uint32_t)bt->c,
                               (uint32_t)bt->h,
                               (uint32_t)bt->w,
                               (uint32_t)op,
                               beta};
    vk_buf_ref refs[4] = {vkb_ssbo(b, a, false, 0, &pc.a_off), vkb_ssbo(b, bt, false, 1, &pc.b_off),
                          vkb_ssbo(b, dy, false, 2, &pc.dy_off),
                          vkb_ssbo(b, db, true, 3, &pc.db_off)};
    vkb_dispatch_items(b, VK_SHADER_BINARY_BWD_B, &pc, sizeof pc, refs, 4, ITEMS(bt));
  }
}

void vkb_reduce_op(cmp_ctx *ctx, const cmp_tensor *x, int r, int inner, bool mean,
                   const cmp_tensor *y, float beta) {
  vk_be *b = vkb(ctx);
  uint64_t outer = ITEMS(x) / ((uint64_t)r * inner);
  vkb_scratch_begin(b, vkb_reduce_scratch(outer, (uint64_t)r, (uint64_t)inner));
  vkb_reduce(b, vkb_mat(x), outer, (uint64_t)r, (uint64_t)inner, mean ? 1.0f / (float)r : 1.0f,
             vkb_mat(y), beta);
}

void vkb_broadcast(cmp_ctx *ctx, const cmp_tensor *x, int r, int inner, bool mean,
                   const cmp_tensor *y, float beta) {
  vk_be *b = vkb(ctx);
  vk_push_broadcast pc = {
      0, 0, (uint32_t)ITEMS(y), (uint32_t)r, (uint32_t)inner, mean ? 1.0f / (float)r : 1.0f, beta};
  vk_buf_ref refs[2] = {vkb_ssbo(b, x, false, 0, &pc.x_off), vkb_ssbo(b, y, true, 1, &pc.y_off)};
  vkb_dispatch_items(b, VK_SHADER_BROADCAST, &pc, sizeof pc, refs, 2, ITEMS(y));
}

/* ---- losses --------------------------------------------------------------------------------- */

void vkb_mse_fwd(cmp_ctx *ctx, const cmp_tensor *a, const cmp_tensor *bt, const cmp_tensor *out) {
  vk_be *b = vkb(ctx);
  uint64_t n = ITEMS(a);
  /* Slices of ~1024 elements summed in parallel, then the slices. */
  uint64_t parts = (n + 1023) / 1024;
  if (parts > 4096) parts = 4096;
  uint64_t chunk = (n + parts - 1) / parts;
  vkb_scratch_begin(b, vkb_scratch_size(parts) + vkb_reduce_scratch(1, parts, 1));
  vk_mat part = vkb_scratch(b, parts);
  vk_push_sqdiff_partial pc = {0, 0, 0, (uint32_t)n, (uint32_t)parts, (uint32_t)chunk};
  vk_buf_ref refs[3] = {vkb_ssbo(b, a, false, 0, &pc.a_off), vkb_ssbo(b, bt, false, 1, &pc.b_off),
                        vkb_ssbo_mat(b, part, parts, true, 2, &pc.part_off)};
  vkb_dispatch_items(b, VK_SHADER_SQDIFF_PARTIAL, &pc, sizeof pc, refs, 3, parts);
  vkb_reduce(b, part, 1, parts, 1, (float)(1.0 / (double)n), vkb_mat(out), 0.0f);
}

void vkb_mse_bwd(cmp_ctx *ctx, const cmp_tensor *a, const cmp_tensor *bt, float scale,
                 const cmp_tensor *da, float beta) {
  vk_be *b = vkb(ctx);
  uint64_t n = ITEMS(a);
  vk_push_mse_bwd pc = {0, 0, 0, (uint32_t)n, 2.0f * scale / (float)n, beta};
  vk_buf_ref refs[3] = {vkb_ssbo(b, a, false, 0, &pc.a_off), vkb_ssbo(b, bt, false, 1, &pc.b_off),
                        vkb_ssbo(b, da, true, 2, &pc.da_off)};
  vkb_dispatch_items(b, VK_SHADER_MSE_BWD, &pc, sizeof pc, refs, 3, n);
}

void vkb_logsumexp_fwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y) {
  vk_be *b = vkb(ctx);
  vk_push_logsumexp_fwd pc = {0, 0, (uint32_t)x->n, (uint32_t)cmp_sample_size(x)};
  vk_buf_ref refs[2] = {vkb_ssbo(b, x, false, 0, &pc.x_off), vkb_ssbo(b, y, true, 1, &pc.y_off)};
  vkb_dispatch_items(b, VK_SHADER_LOGSUMEXP_FWD, &pc, sizeof pc, refs, 2, (uint64_t)x->n);
}

void vkb_logsumexp_bwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y, const cmp_tensor *dy,
                       const cmp_tensor *dx, float beta) {
  vk_be *b = vkb(ctx);
  vk_push_logsumexp_bwd pc = {0, 0, 0, 0, (uint32_t)ITEMS(x), (uint32_t)cmp_sample_size(x), beta};
  vk_buf_ref refs[4] = {vkb_ssbo(b, x, false, 0, &pc.x_off), vkb_ssbo(b, y, false, 1, &pc.y_off),
                        vkb_ssbo(b, dy, false, 2, &pc.dy_off),
                        vkb_ssbo(b, dx, true, 3, &pc.dx_off)};
  vkb_dispatch_items(b, VK_SHADER_LOGSUMEXP_BWD, &pc, sizeof pc, refs, 4, ITEMS(x));
}

/* ---- optimisers and random numbers ---------------------------------------------------------- */

void vkb_adam_step(cmp_ctx *ctx, const cmp_tensor *param, const cmp_tensor *grad,
                   const cmp_tensor *m, const cmp_tensor *v, float lr, float b1, float b2,
                   float eps, int64_t t) {
  vk_be *b = vkb(ctx);
  /* The bias corrections in double on the host, as the CPU backend computes them. */
  double bc1 = 1.0 - pow((double)b1, (double)t), bc2 = 1.0 - pow((double)b2, (double)t);
  vk_push_adam pc = {
      0, 0, 0, 0, (uint32_t)ITEMS(param), b1, b2, eps, (float)(lr / bc1), (float)sqrt(bc2)};
  vk_buf_ref refs[4] = {vkb_ssbo(b, param, true, 0, &pc.p_off),
                        vkb_ssbo(b, grad, false, 1, &pc.g_off), vkb_ssbo(b, m, true, 2, &pc.m_off),
                        vkb_ssbo(b, v, true, 3, &pc.v_off)};
  vkb_dispatch_items(b, VK_SHADER_ADAM, &pc, sizeof pc, refs, 4, ITEMS(param));
}

void vkb_polyak(cmp_ctx *ctx, const cmp_tensor *target, const cmp_tensor *source, float tau) {
  vk_be *b = vkb(ctx);
  vk_push_polyak pc = {0, 0, (uint32_t)ITEMS(target), tau};
  vk_buf_ref refs[2] = {vkb_ssbo(b, target, true, 0, &pc.t_off),
                        vkb_ssbo(b, source, false, 1, &pc.s_off)};
  vkb_dispatch_items(b, VK_SHADER_POLYAK, &pc, sizeof pc, refs, 2, ITEMS(target));
}

static void rng(cmp_ctx *ctx, vk_shader_id id, const cmp_tensor *t, uint64_t seed, uint32_t stream,
                uint64_t index0, float a, float bb) {
  vk_be *b = vkb(ctx);
  vk_push_rng pc = {0,      (uint32_t)ITEMS(t), (uint32_t)seed,           (uint32_t)(seed >> 32),
                    stream, (uint32_t)index0,   (uint32_t)(index0 >> 32), a,
                    bb};
  vk_buf_ref ref = vkb_ssbo(b, t, true, 0, &pc.off);
  vkb_dispatch_items(b, id, &pc, sizeof pc, &ref, 1, ITEMS(t));
}

void vkb_rng_uniform(cmp_ctx *ctx, const cmp_tensor *t, uint64_t seed, uint32_t stream,
                     uint64_t index0, float lo, float hi) {
  rng(ctx, VK_SHADER_RNG_UNIFORM, t, seed, stream, index0, lo, hi);
}

void vkb_rng_normal(cmp_ctx *ctx, const cmp_tensor *t, uint64_t seed, uint32_t stream,
                    uint64_t index0, float mean, float std) {
  rng(ctx, VK_SHADER_RNG_NORMAL, t, seed, stream, index0, mean, std);
}
