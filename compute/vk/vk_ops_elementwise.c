/* Vulkan backend: elementwise ops, data movement, reductions, losses, optimisers, random numbers.
 * The elementwise shaders (shaders/ew.glsl) read through texel views and write vec4s when every
 * offset is a multiple of 4 floats (EW_VEC), element by element otherwise. */
#include "vk_backend.h"

#include <math.h>

#define N_(t) cmp_numel(t)

void vkb_fill(cmp_ctx *ctx, const cmp_tensor *t, float value) {
  vk_be *b = vkb(ctx);
  vk_push_fill pc = {0, (uint32_t)N_(t), value};
  uint32_t spec[2] = {vkb_al4(vkb_off(t)), 0};
  vk_buf_ref ref = vkb_ssbo(b, t, true, 0, &pc.off);
  vkb_dispatch_ew(b, VK_SHADER_FILL, spec, 2, &pc, sizeof pc, &ref, 1, N_(t));
}

void vkb_axpby(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y, float alpha, float beta) {
  vk_be *b = vkb(ctx);
  vk_buf_ref refs[5];
  int n = 0;
  vk_push_axpby pc = {.count = (uint32_t)N_(x), .alpha = alpha, .beta = beta};
  pc.x_off = vkb_in(refs, &n, x, 0);
  pc.yin_off = vkb_in(refs, &n, y, 1);
  refs[n++] = vkb_ssbo(b, y, true, 0, &pc.y_off);
  uint32_t spec[2] = {vkb_al4(vkb_off(x)) && vkb_al4(vkb_off(y)), 0};
  vkb_dispatch_ew(b, VK_SHADER_AXPBY, spec, 2, &pc, sizeof pc, refs, n, N_(x));
}

void vkb_clamp(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y, float lo, float hi) {
  vk_be *b = vkb(ctx);
  vk_buf_ref refs[3];
  int n = 0;
  vk_push_clamp pc = {.count = (uint32_t)N_(x), .lo = lo, .hi = hi};
  pc.x_off = vkb_in(refs, &n, x, 0);
  refs[n++] = vkb_ssbo(b, y, true, 0, &pc.y_off);
  uint32_t spec[2] = {vkb_al4(vkb_off(x)) && vkb_al4(vkb_off(y)), 0};
  vkb_dispatch_ew(b, VK_SHADER_CLAMP, spec, 2, &pc, sizeof pc, refs, n, N_(x));
}

void vkb_copy_channels(cmp_ctx *ctx, const cmp_tensor *src, int src_c0, const cmp_tensor *dst,
                       int dst_c0, int nc, float beta) {
  vk_be *b = vkb(ctx);
  uint64_t hw = (uint64_t)src->h * src->w, run = (uint64_t)nc * hw;
  uint64_t ss = (uint64_t)src->c * hw, ds = (uint64_t)dst->c * hw;
  vk_mat s = vkb_mat(src), d = vkb_mat(dst);
  s.off += (uint64_t)src_c0 * hw;
  d.off += (uint64_t)dst_c0 * hw;
  uint64_t s_len = (uint64_t)(src->n - 1) * ss + run, d_len = (uint64_t)(dst->n - 1) * ds + run;
  /* A plain copy whose source and destination spans do not meet is a copy command: a memcpy per
   * run for lavapipe, where a shader stores a float per lane in a loop (~3 times slower). */
  bool apart = s.block != d.block || s.off + s_len <= d.off || d.off + d_len <= s.off;
  if (beta == 0.0f && apart) {
    const VkDeviceSize f = sizeof(float);
    vk_rec_copy_runs(b->rec, s.block, s.off * f, ss * f, d.block, d.off * f, ds * f, run * f,
                     (uint32_t)src->n);
    return;
  }
  vk_buf_ref refs[5];
  int n = 0;
  vk_push_copy_channels pc = {.count = (uint32_t)(src->n * run),
                              .run = (uint32_t)run,
                              .src_stride = (uint32_t)ss,
                              .dst_stride = (uint32_t)ds,
                              .beta = beta};
  pc.src_off = vkb_in_mat(refs, &n, s, s_len, 0);
  pc.dstin_off = vkb_in_mat(refs, &n, d, d_len, 1);
  refs[n++] = vkb_ssbo_mat(b, d, d_len, true, 0, &pc.dst_off);
  uint32_t spec[2] = {
      vkb_al4(s.off) && vkb_al4(d.off) && vkb_al4(run) && vkb_al4(ss) && vkb_al4(ds), 0};
  vkb_dispatch_ew(b, VK_SHADER_COPY_CHANNELS, spec, 2, &pc, sizeof pc, refs, n,
                  (uint64_t)src->n * run);
}

void vkb_act_fwd(cmp_ctx *ctx, cmp_act act, const cmp_tensor *x, const cmp_tensor *y, float alpha) {
  vk_be *b = vkb(ctx);
  vk_buf_ref refs[3];
  int n = 0;
  vk_push_act_fwd pc = {.count = (uint32_t)N_(x), .alpha = alpha};
  pc.x_off = vkb_in(refs, &n, x, 0);
  refs[n++] = vkb_ssbo(b, y, true, 0, &pc.y_off);
  uint32_t spec[2] = {vkb_al4(vkb_off(x)) && vkb_al4(vkb_off(y)), 0};
  spec[1] = (uint32_t)act;
  vkb_dispatch_ew(b, VK_SHADER_ACT_FWD, spec, 2, &pc, sizeof pc, refs, n, N_(x));
}

void vkb_act_bwd(cmp_ctx *ctx, cmp_act act, const cmp_tensor *x, const cmp_tensor *y,
                 const cmp_tensor *dy, const cmp_tensor *dx, float alpha, float beta) {
  vk_be *b = vkb(ctx);
  /* The input the activation does not use may be NULL: bind dy in its place (never read). */
  const cmp_tensor *xx = x ? x : dy, *yy = y ? y : dy;
  vk_buf_ref refs[9];
  int n = 0;
  vk_push_act_bwd pc = {.count = (uint32_t)N_(dy), .alpha = alpha, .beta = beta};
  pc.x_off = vkb_in(refs, &n, xx, 0);
  pc.y_off = vkb_in(refs, &n, yy, 1);
  pc.dy_off = vkb_in(refs, &n, dy, 2);
  pc.dxin_off = vkb_in(refs, &n, dx, 3);
  refs[n++] = vkb_ssbo(b, dx, true, 0, &pc.dx_off);
  uint32_t spec[2] = {vkb_al4(vkb_off(xx)) && vkb_al4(vkb_off(yy)) && vkb_al4(vkb_off(dy)) &&
                          vkb_al4(vkb_off(dx)),
                      (uint32_t)act};
  vkb_dispatch_ew(b, VK_SHADER_ACT_BWD, spec, 2, &pc, sizeof pc, refs, n, N_(dy));
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
  vk_buf_ref refs[5];
  int n = 0;
  vk_push_binary pc = {.count = (uint32_t)N_(a),
                       .C = (uint32_t)a->c,
                       .H = (uint32_t)a->h,
                       .W = (uint32_t)a->w,
                       .sn = s[0],
                       .sc = s[1],
                       .sh = s[2],
                       .sw = s[3],
                       .op = (uint32_t)op};
  pc.a_off = vkb_in(refs, &n, a, 0);
  pc.b_off = vkb_in(refs, &n, bt, 1);
  refs[n++] = vkb_ssbo(b, y, true, 0, &pc.y_off);
  uint32_t spec[2] = {vkb_al4(vkb_off(a)) && vkb_al4(vkb_off(y)) && vkb_al4((uint64_t)a->w), 0};
  vkb_dispatch_ew(b, VK_SHADER_BINARY, spec, 2, &pc, sizeof pc, refs, n, N_(a));
}

void vkb_binary_bwd(cmp_ctx *ctx, cmp_binop op, const cmp_tensor *a, const cmp_tensor *bt,
                    const cmp_tensor *dy, const cmp_tensor *da, const cmp_tensor *db, float beta) {
  vk_be *b = vkb(ctx);
  if (da) {
    uint32_t s[4];
    b_strides(bt, s);
    vk_buf_ref refs[9];
    int n = 0;
    vk_push_binary_bwd_a pc = {.count = (uint32_t)N_(a),
                               .C = (uint32_t)a->c,
                               .H = (uint32_t)a->h,
                               .W = (uint32_t)a->w,
                               .sn = s[0],
                               .sc = s[1],
                               .sh = s[2],
                               .sw = s[3],
                               .op = (uint32_t)op,
                               .beta = beta};
    pc.a_off = vkb_in(refs, &n, a, 0);
    pc.b_off = vkb_in(refs, &n, bt, 1);
    pc.dy_off = vkb_in(refs, &n, dy, 2);
    pc.dain_off = vkb_in(refs, &n, da, 3);
    refs[n++] = vkb_ssbo(b, da, true, 0, &pc.da_off);
    uint32_t spec[2] = {vkb_al4(vkb_off(a)) && vkb_al4(vkb_off(dy)) && vkb_al4(vkb_off(da)) &&
                            vkb_al4((uint64_t)a->w),
                        0};
    vkb_dispatch_ew(b, VK_SHADER_BINARY_BWD_A, spec, 2, &pc, sizeof pc, refs, n, N_(a));
  }
  if (db) {
    vk_push_binary_bwd_b pc = {.count = (uint32_t)N_(bt),
                               .an = (uint32_t)a->n,
                               .ac = (uint32_t)a->c,
                               .ah = (uint32_t)a->h,
                               .aw = (uint32_t)a->w,
                               .bn = (uint32_t)bt->n,
                               .bc = (uint32_t)bt->c,
                               .bh = (uint32_t)bt->h,
                               .bw = (uint32_t)bt->w,
                               .op = (uint32_t)op,
                               .beta = beta};
    vk_buf_ref refs[4] = {
        vkb_texel(vkb_mat(a), N_(a), false, 9), vkb_ssbo(b, bt, false, 1, &pc.b_off),
        vkb_texel(vkb_mat(dy), N_(dy), false, 11), vkb_ssbo(b, db, true, 3, &pc.db_off)};
    pc.a_off = (uint32_t)vkb_off(a);
    pc.dy_off = (uint32_t)vkb_off(dy);
    vkb_dispatch_items(b, VK_SHADER_BINARY_BWD_B, &pc, sizeof pc, refs, 4, N_(bt));
  }
}

void vkb_reduce_op(cmp_ctx *ctx, const cmp_tensor *x, int r, int inner, bool mean,
                   const cmp_tensor *y, float beta) {
  vk_be *b = vkb(ctx);
  uint64_t outer = N_(x) / ((uint64_t)r * inner);
  vkb_scratch_begin(b, vkb_reduce_scratch(outer, (uint64_t)r, (uint64_t)inner));
  vkb_reduce(b, vkb_mat(x), outer, (uint64_t)r, (uint64_t)inner, mean ? 1.0f / (float)r : 1.0f,
             vkb_mat(y), beta);
}

void vkb_broadcast(cmp_ctx *ctx, const cmp_tensor *x, int r, int inner, bool mean,
                   const cmp_tensor *y, float beta) {
  vk_be *b = vkb(ctx);
  vk_buf_ref refs[5];
  int n = 0;
  vk_push_broadcast pc = {.count = (uint32_t)N_(y),
                          .r = (uint32_t)r,
                          .inner = (uint32_t)inner,
                          .scale = mean ? 1.0f / (float)r : 1.0f,
                          .beta = beta};
  pc.x_off = vkb_in(refs, &n, x, 0);
  pc.yin_off = vkb_in(refs, &n, y, 1);
  refs[n++] = vkb_ssbo(b, y, true, 0, &pc.y_off);
  uint32_t spec[2] = {vkb_al4(vkb_off(x)) && vkb_al4(vkb_off(y)) && vkb_al4((uint64_t)inner), 0};
  vkb_dispatch_ew(b, VK_SHADER_BROADCAST, spec, 2, &pc, sizeof pc, refs, n, N_(y));
}

/* ---- losses --------------------------------------------------------------------------------- */

void vkb_mse_fwd(cmp_ctx *ctx, const cmp_tensor *a, const cmp_tensor *bt, const cmp_tensor *out) {
  vk_be *b = vkb(ctx);
  uint64_t n = N_(a);
  /* Slices of ~1024 elements summed in parallel, then the slices. */
  uint64_t parts = (n + 1023) / 1024;
  if (parts > 4096) parts = 4096;
  uint64_t chunk = (n + parts - 1) / parts;
  vkb_scratch_begin(b, vkb_scratch_size(parts) + vkb_reduce_scratch(1, parts, 1));
  vk_mat part = vkb_scratch(b, parts);
  vk_push_sqdiff_partial pc = {(uint32_t)vkb_off(a), (uint32_t)vkb_off(bt), 0,
                               (uint32_t)n,          (uint32_t)parts,       (uint32_t)chunk};
  vk_buf_ref refs[3] = {vkb_texel(vkb_mat(a), n, false, 9), vkb_texel(vkb_mat(bt), n, false, 11),
                        vkb_ssbo_mat(b, part, parts, true, 2, &pc.part_off)};
  vkb_dispatch_items(b, VK_SHADER_SQDIFF_PARTIAL, &pc, sizeof pc, refs, 3, parts);
  vkb_reduce(b, part, 1, parts, 1, (float)(1.0 / (double)n), vkb_mat(out), 0.0f);
}

void vkb_mse_bwd(cmp_ctx *ctx, const cmp_tensor *a, const cmp_tensor *bt, float scale,
                 const cmp_tensor *da, float beta) {
  vk_be *b = vkb(ctx);
  uint64_t count = N_(a);
  vk_buf_ref refs[7];
  int n = 0;
  vk_push_mse_bwd pc = {.count = (uint32_t)count, .k = 2.0f * scale / (float)count, .beta = beta};
  pc.a_off = vkb_in(refs, &n, a, 0);
  pc.b_off = vkb_in(refs, &n, bt, 1);
  pc.dain_off = vkb_in(refs, &n, da, 2);
  refs[n++] = vkb_ssbo(b, da, true, 0, &pc.da_off);
  uint32_t spec[2] = {vkb_al4(vkb_off(a)) && vkb_al4(vkb_off(bt)) && vkb_al4(vkb_off(da)), 0};
  vkb_dispatch_ew(b, VK_SHADER_MSE_BWD, spec, 2, &pc, sizeof pc, refs, n, count);
}

void vkb_logsumexp_fwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y) {
  vk_be *b = vkb(ctx);
  vk_push_logsumexp_fwd pc = {(uint32_t)vkb_off(x), 0, (uint32_t)x->n,
                              (uint32_t)cmp_sample_size(x)};
  vk_buf_ref refs[2] = {vkb_texel(vkb_mat(x), N_(x), false, 9), vkb_ssbo(b, y, true, 1, &pc.y_off)};
  vkb_dispatch_items(b, VK_SHADER_LOGSUMEXP_FWD, &pc, sizeof pc, refs, 2, (uint64_t)x->n);
}

void vkb_logsumexp_bwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y, const cmp_tensor *dy,
                       const cmp_tensor *dx, float beta) {
  vk_be *b = vkb(ctx);
  vk_buf_ref refs[9];
  int n = 0;
  uint64_t len = cmp_sample_size(x);
  vk_push_logsumexp_bwd pc = {.count = (uint32_t)N_(x), .len = (uint32_t)len, .beta = beta};
  pc.x_off = vkb_in(refs, &n, x, 0);
  pc.y_off = vkb_in(refs, &n, y, 1);
  pc.dy_off = vkb_in(refs, &n, dy, 2);
  pc.dxin_off = vkb_in(refs, &n, dx, 3);
  refs[n++] = vkb_ssbo(b, dx, true, 0, &pc.dx_off);
  uint32_t spec[2] = {vkb_al4(vkb_off(x)) && vkb_al4(vkb_off(dx)) && vkb_al4(len), 0};
  vkb_dispatch_ew(b, VK_SHADER_LOGSUMEXP_BWD, spec, 2, &pc, sizeof pc, refs, n, N_(x));
}

/* ---- optimisers and random numbers ---------------------------------------------------------- */

void vkb_adam_step(cmp_ctx *ctx, const cmp_tensor *param, const cmp_tensor *grad,
                   const cmp_tensor *m, const cmp_tensor *v, float lr, float b1, float b2,
                   float eps, int64_t t) {
  vk_be *b = vkb(ctx);
  /* The bias corrections in double on the host, as the CPU backend computes them. */
  double bc1 = 1.0 - pow((double)b1, (double)t), bc2 = 1.0 - pow((double)b2, (double)t);
  vk_buf_ref refs[11];
  int n = 0;
  vk_push_adam pc = {.count = (uint32_t)N_(param),
                     .b1 = b1,
                     .b2 = b2,
                     .eps = eps,
                     .step_size = (float)(lr / bc1),
                     .bc2_sqrt = (float)sqrt(bc2)};
  pc.pin_off = vkb_in(refs, &n, param, 0);
  pc.g_off = vkb_in(refs, &n, grad, 1);
  pc.min_off = vkb_in(refs, &n, m, 2);
  pc.vin_off = vkb_in(refs, &n, v, 3);
  refs[n++] = vkb_ssbo(b, param, true, 0, &pc.p_off);
  refs[n++] = vkb_ssbo(b, m, true, 1, &pc.m_off);
  refs[n++] = vkb_ssbo(b, v, true, 2, &pc.v_off);
  uint32_t spec[2] = {vkb_al4(vkb_off(param)) && vkb_al4(vkb_off(grad)) && vkb_al4(vkb_off(m)) &&
                          vkb_al4(vkb_off(v)),
                      0};
  vkb_dispatch_ew(b, VK_SHADER_ADAM, spec, 2, &pc, sizeof pc, refs, n, N_(param));
}

void vkb_polyak(cmp_ctx *ctx, const cmp_tensor *target, const cmp_tensor *source, float tau) {
  vk_be *b = vkb(ctx);
  vk_buf_ref refs[5];
  int n = 0;
  vk_push_polyak pc = {.count = (uint32_t)N_(target), .tau = tau};
  pc.tin_off = vkb_in(refs, &n, target, 0);
  pc.s_off = vkb_in(refs, &n, source, 1);
  refs[n++] = vkb_ssbo(b, target, true, 0, &pc.t_off);
  uint32_t spec[2] = {vkb_al4(vkb_off(target)) && vkb_al4(vkb_off(source)), 0};
  vkb_dispatch_ew(b, VK_SHADER_POLYAK, spec, 2, &pc, sizeof pc, refs, n, N_(target));
}

static void rng(cmp_ctx *ctx, vk_shader_id id, const cmp_tensor *t, uint64_t seed, uint32_t stream,
                uint64_t index0, float a, float bb) {
  vk_be *b = vkb(ctx);
  vk_push_rng pc = {0,      (uint32_t)N_(t),  (uint32_t)seed,           (uint32_t)(seed >> 32),
                    stream, (uint32_t)index0, (uint32_t)(index0 >> 32), a,
                    bb};
  vk_buf_ref ref = vkb_ssbo(b, t, true, 0, &pc.off);
  vkb_dispatch_items(b, id, &pc, sizeof pc, &ref, 1, N_(t));
}

void vkb_rng_uniform(cmp_ctx *ctx, const cmp_tensor *t, uint64_t seed, uint32_t stream,
                     uint64_t index0, float lo, float hi) {
  rng(ctx, VK_SHADER_RNG_UNIFORM, t, seed, stream, index0, lo, hi);
}

void vkb_rng_normal(cmp_ctx *ctx, const cmp_tensor *t, uint64_t seed, uint32_t stream,
                    uint64_t index0, float mean, float std) {
  rng(ctx, VK_SHADER_RNG_NORMAL, t, seed, stream, index0, mean, std);
}
