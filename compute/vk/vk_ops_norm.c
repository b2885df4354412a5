/* Vulkan backend: batch normalisation over N x H x W per channel. Statistics are gathered per
 * (channel, slice of its elements) so that a few channels with many elements still spread over
 * the device, then merged per channel (Chan's formula for the variance), then applied
 * elementwise: three dispatches each way; inference is one elementwise dispatch. Features of a
 * few thousand rows take one dispatch each way instead (bn_features_*.comp). */
#include "vk_backend.h"

/* Slices per channel: enough work items overall, slices of at least 256 elements. */
static uint64_t bn_slices(uint64_t channels, uint64_t m) {
  uint64_t want = channels >= 512 ? 1 : (512 + channels - 1) / channels;
  uint64_t most = m / 256 > 0 ? m / 256 : 1;
  return want < most ? want : most;
}

/* Elements per slice: whole runs of 4 for the RGBA32F reads of the stats shaders. */
static uint64_t bn_chunk(uint64_t m, uint64_t slices, bool vec) {
  uint64_t chunk = (m + slices - 1) / slices;
  return vec ? (chunk + 3) / 4 * 4 : chunk;
}

/* Feature-shaped batch norms (h = w = 1) of up to this many rows run as one dispatch each way
 * (bn_features_*.comp, an invocation walks its channel's column): the distance heads' [64 or 640,
 * 128] layers, where three dispatches cost more than the work. */
#define BN_FEATURES_MAX_ROWS 4096

static bool bn_features(const cmp_tensor *x) {
  return x->h == 1 && x->w == 1 && x->n <= BN_FEATURES_MAX_ROWS;
}

/* Whether every tensor allows the 4-channel variant (bn_features.glsl VEC). */
static bool bn_features_vec(int C, const cmp_tensor *const *ts, int n) {
  bool ok = C % 4 == 0;
  for (int i = 0; i < n; i++) ok = ok && (!ts[i] || vkb_al4(vkb_off(ts[i])));
  return ok;
}

/* Workgroups of 8 invocations, each owning 1 or 4 channels. */
static uint32_t bn_features_groups(int C, bool vec) {
  uint32_t inv = (uint32_t)(vec ? C / 4 : C);
  return (inv + 7) / 8;
}

static void bn_features_fwd(vk_be *b, const cmp_tensor *x, const cmp_tensor *gamma,
                            const cmp_tensor *beta_, const cmp_tensor *run_mean,
                            const cmp_tensor *run_var, float momentum, float eps,
                            const cmp_tensor *y, const cmp_tensor *save_mean,
                            const cmp_tensor *save_invstd) {
  vk_push_bn_features_fwd pc = {.x_off = (uint32_t)vkb_off(x),
                                .N = (uint32_t)x->n,
                                .C = (uint32_t)x->c,
                                .momentum = momentum,
                                .eps = eps};
  vk_buf_ref refs[9];
  int n = 0;
  vkb_in(refs, &n, x, 0);
  refs[n++] = vkb_ssbo(b, y, true, 0, &pc.y_off);
  const cmp_tensor *all[8] = {x, y, gamma, beta_, run_mean, run_var, save_mean, save_invstd};
  bool vec = bn_features_vec(x->c, all, 8);
  vk_buf_ref rest[6] = {vkb_ssbo(b, gamma, false, 1, &pc.gamma_off),
                        vkb_ssbo(b, beta_, false, 2, &pc.beta_off),
                        vkb_ssbo(b, run_mean, true, 3, &pc.rmean_off),
                        vkb_ssbo(b, run_var, true, 4, &pc.rvar_off),
                        vkb_ssbo(b, save_mean, true, 5, &pc.mean_off),
                        vkb_ssbo(b, save_invstd, true, 6, &pc.invstd_off)};
  for (int i = 0; i < 6; i++) refs[n++] = rest[i];
  vkb_dispatch(b, vec ? VK_SHADER_BN_FEATURES_FWD_V4 : VK_SHADER_BN_FEATURES_FWD, NULL, 0, &pc,
               sizeof pc, refs, n, bn_features_groups(x->c, vec), 1, 1);
}

static void bn_features_bwd(vk_be *b, const cmp_tensor *x, const cmp_tensor *dy,
                            const cmp_tensor *gamma, const cmp_tensor *save_mean,
                            const cmp_tensor *save_invstd, const cmp_tensor *dx,
                            const cmp_tensor *dgamma, const cmp_tensor *dbeta,
                            const cmp_tensor *dsum, float dx_beta, float param_beta,
                            const cmp_fused_act *act) {
  uint64_t C = (uint64_t)x->c;
  vkb_scratch_begin(b, vkb_scratch_size(C));
  vk_mat unused = vkb_scratch(b, C); /* bound where a parameter gradient is not wanted */
  vk_push_bn_features_bwd pc = {.x_off = (uint32_t)vkb_off(x),
                                .dy_off = (uint32_t)vkb_off(dy),
                                .dxin_off = (uint32_t)vkb_off(dx),
                                .N = (uint32_t)x->n,
                                .C = (uint32_t)C,
                                .want_dgamma = dgamma != NULL,
                                .want_dbeta = dbeta != NULL,
                                .want_dsum = dsum != NULL,
                                .dx_beta = dx_beta,
                                .param_beta = param_beta,
                                .alpha = act ? act->alpha : 0.0f};
  vk_buf_ref refs[13];
  int n = 0;
  vkb_in(refs, &n, x, 0);
  vkb_in(refs, &n, dy, 1);
  vkb_in(refs, &n, dx, 2);
  const cmp_tensor *all[9] = {x, dy, dx, gamma, save_mean, save_invstd, dgamma, dbeta, dsum};
  bool vec = bn_features_vec(x->c, all, 9); /* scratch pieces are 64-float aligned */
  vk_buf_ref rest[7] = {vkb_ssbo(b, dx, true, 0, &pc.dx_off),
                        vkb_ssbo(b, gamma, false, 1, &pc.gamma_off),
                        vkb_ssbo(b, save_mean, false, 2, &pc.mean_off),
                        vkb_ssbo(b, save_invstd, false, 3, &pc.invstd_off),
                        dgamma ? vkb_ssbo(b, dgamma, true, 4, &pc.dgamma_off)
                               : vkb_ssbo_mat(b, unused, C, true, 4, &pc.dgamma_off),
                        dbeta ? vkb_ssbo(b, dbeta, true, 5, &pc.dbeta_off)
                              : vkb_ssbo_mat(b, unused, C, true, 5, &pc.dbeta_off),
                        dsum ? vkb_ssbo(b, dsum, true, 6, &pc.dsum_off)
                             : vkb_ssbo_mat(b, unused, C, true, 6, &pc.dsum_off)};
  for (int i = 0; i < 7; i++) refs[n++] = rest[i];
  uint32_t spec[1] = {vkb_epilogue(act)};
  vkb_dispatch(b, vec ? VK_SHADER_BN_FEATURES_BWD_V4 : VK_SHADER_BN_FEATURES_BWD, spec, 1, &pc,
               sizeof pc, refs, n, bn_features_groups(x->c, vec), 1, 1);
}

/* EW_VEC of bn_apply.comp and bn_bwd_apply.comp: whole runs of 16 (one invocation) or 4 in a
 * channel, 4 channels of features, or element by element. */
static uint32_t ew_mode(bool io, bool params, uint64_t hw, uint64_t C) {
  if (io && hw % 16 == 0) return 3;
  if (io && vkb_al4(hw)) return 1;
  return io && hw == 1 && vkb_al4(C) && params ? 2 : 0;
}

/* y = x sc + sh per channel from (mean, invstd) (mode 0) or (run_mean, run_var) (mode 1). */
static void bn_apply(vk_be *b, const cmp_tensor *x, const cmp_tensor *gamma,
                     const cmp_tensor *beta_, const cmp_tensor *mean, const cmp_tensor *var,
                     uint32_t mode, float eps, const cmp_tensor *y) {
  uint64_t C = (uint64_t)x->c, hw = (uint64_t)x->h * x->w;
  vk_buf_ref refs[10];
  int n = 0;
  vk_push_bn_apply pa = {
      .count = (uint32_t)cmp_numel(x), .C = (uint32_t)C, .hw = (uint32_t)hw, .eps = eps};
  pa.x_off = vkb_in(refs, &n, x, 0);
  pa.gamma_off = vkb_in(refs, &n, gamma, 1);
  pa.beta_off = vkb_in(refs, &n, beta_, 2);
  pa.mean_off = vkb_in(refs, &n, mean, 3);
  refs[n++] = vkb_ssbo(b, y, true, 0, &pa.y_off);
  refs[n++] = vkb_ssbo(b, var, false, 1, &pa.var_off);
  bool io = vkb_al4(vkb_off(x)) && vkb_al4(vkb_off(y));
  bool params = vkb_al4(vkb_off(gamma)) && vkb_al4(vkb_off(beta_)) && vkb_al4(vkb_off(mean)) &&
                vkb_al4(vkb_off(var));
  uint32_t spec[2] = {ew_mode(io, params, hw, C), mode};
  vkb_dispatch_ew(b, VK_SHADER_BN_APPLY, spec, 2, &pa, sizeof pa, refs, n, cmp_numel(x));
}

void vkb_bn_fwd_train(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *gamma,
                      const cmp_tensor *beta_, const cmp_tensor *run_mean,
                      const cmp_tensor *run_var, float momentum, float eps, const cmp_tensor *y,
                      const cmp_tensor *save_mean, const cmp_tensor *save_invstd) {
  vk_be *b = vkb(ctx);
  if (bn_features(x)) {
    bn_features_fwd(b, x, gamma, beta_, run_mean, run_var, momentum, eps, y, save_mean,
                    save_invstd);
    return;
  }
  uint64_t C = (uint64_t)x->c, hw = (uint64_t)x->h * x->w, m = (uint64_t)x->n * hw;
  /* RGBA32F reads of x: runs of 4 within a plane, chunks of whole runs. */
  bool vec = vkb_al4(hw) && vkb_al4(vkb_off(x));
  uint64_t slices = bn_slices(C, m), chunk = bn_chunk(m, slices, vec);
  slices = (m + chunk - 1) / chunk;
  vkb_scratch_begin(b, vkb_scratch_size(C * slices * 3));
  vk_mat part = vkb_scratch(b, C * slices * 3);

  vk_push_bn_stats ps = {(uint32_t)vkb_off(x), 0,           (uint32_t)C,
                         (uint32_t)hw,         (uint32_t)m, (uint32_t)slices,
                         (uint32_t)chunk};
  vk_buf_ref rs[3] = {vkb_texel(vkb_mat(x), cmp_numel(x), false, 9),
                      vkb_ssbo_mat(b, part, C * slices * 3, true, 1, &ps.part_off),
                      vkb_texel(vkb_mat(x), cmp_numel(x), true, 8)};
  uint32_t spec[1] = {vec};
  vkb_dispatch_items_spec(b, VK_SHADER_BN_STATS, spec, 1, &ps, sizeof ps, rs, 3, C * slices);

  vk_push_bn_finalize pf = {0, 0, 0, 0, 0, (uint32_t)C, (uint32_t)slices, momentum, eps};
  vk_buf_ref rf[5] = {vkb_ssbo_mat(b, part, C * slices * 3, false, 0, &pf.part_off),
                      vkb_ssbo(b, save_mean, true, 1, &pf.mean_off),
                      vkb_ssbo(b, save_invstd, true, 2, &pf.invstd_off),
                      vkb_ssbo(b, run_mean, true, 3, &pf.rmean_off),
                      vkb_ssbo(b, run_var, true, 4, &pf.rvar_off)};
  vkb_dispatch_items(b, VK_SHADER_BN_FINALIZE, &pf, sizeof pf, rf, 5, C);

  bn_apply(b, x, gamma, beta_, save_mean, save_invstd, 0, eps, y);
}

void vkb_bn_fwd_eval(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *gamma,
                     const cmp_tensor *beta_, const cmp_tensor *run_mean, const cmp_tensor *run_var,
                     float eps, const cmp_tensor *y) {
  bn_apply(vkb(ctx), x, gamma, beta_, run_mean, run_var, 1, eps, y);
}

void vkb_bn_bwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *dy, const cmp_tensor *gamma,
                const cmp_tensor *save_mean, const cmp_tensor *save_invstd, const cmp_tensor *dx,
                const cmp_tensor *dgamma, const cmp_tensor *dbeta, const cmp_tensor *dsum,
                float dx_beta, float param_beta, const cmp_fused_act *act) {
  vk_be *b = vkb(ctx);
  if (bn_features(x)) {
    bn_features_bwd(b, x, dy, gamma, save_mean, save_invstd, dx, dgamma, dbeta, dsum, dx_beta,
                    param_beta, act);
    return;
  }
  uint64_t C = (uint64_t)x->c, hw = (uint64_t)x->h * x->w, m = (uint64_t)x->n * hw;
  bool vec = vkb_al4(hw) && vkb_al4(vkb_off(x)) && vkb_al4(vkb_off(dy));
  uint64_t slices = bn_slices(C, m), chunk = bn_chunk(m, slices, vec);
  slices = (m + chunk - 1) / chunk;
  vkb_scratch_begin(b, vkb_scratch_size(C * slices * 2) + vkb_scratch_size(C * 3));
  vk_mat part = vkb_scratch(b, C * slices * 2), coef = vkb_scratch(b, C * 3);

  vk_push_bn_bwd_stats ps = {
      (uint32_t)vkb_off(x), (uint32_t)vkb_off(dy), 0, 0, 0, (uint32_t)C, (uint32_t)hw, (uint32_t)m,
      (uint32_t)slices,     (uint32_t)chunk};
  vk_buf_ref rs[7] = {vkb_texel(vkb_mat(x), cmp_numel(x), false, 9),
                      vkb_texel(vkb_mat(dy), cmp_numel(dy), false, 11),
                      vkb_ssbo(b, save_mean, false, 2, &ps.mean_off),
                      vkb_ssbo(b, save_invstd, false, 3, &ps.invstd_off),
                      vkb_ssbo_mat(b, part, C * slices * 2, true, 4, &ps.part_off),
                      vkb_texel(vkb_mat(x), cmp_numel(x), true, 8),
                      vkb_texel(vkb_mat(dy), cmp_numel(dy), true, 10)};
  uint32_t sspec[1] = {vec};
  vkb_dispatch_items_spec(b, VK_SHADER_BN_BWD_STATS, sspec, 1, &ps, sizeof ps, rs, 7, C * slices);

  /* Parameter gradients that are not wanted bind the coefficient range (never written). */
  vk_push_bn_bwd_finalize pf = {
      0,        0,         0, 0, 0, 0, (uint32_t)C, (uint32_t)slices, dgamma != NULL, dbeta != NULL,
      (float)m, param_beta};
  vk_buf_ref rf[6] = {vkb_ssbo_mat(b, part, C * slices * 2, false, 0, &pf.part_off),
                      vkb_ssbo(b, gamma, false, 1, &pf.gamma_off),
                      vkb_ssbo(b, save_invstd, false, 2, &pf.invstd_off),
                      dgamma ? vkb_ssbo(b, dgamma, true, 3, &pf.dgamma_off)
                             : vkb_ssbo_mat(b, coef, C * 3, true, 3, &pf.dgamma_off),
                      dbeta ? vkb_ssbo(b, dbeta, true, 4, &pf.dbeta_off)
                            : vkb_ssbo_mat(b, coef, C * 3, true, 4, &pf.dbeta_off),
                      vkb_ssbo_mat(b, coef, C * 3, true, 5, &pf.coef_off)};
  vkb_dispatch_items(b, VK_SHADER_BN_BWD_FINALIZE, &pf, sizeof pf, rf, 6, C);

  vk_buf_ref ra[10];
  int na = 0;
  vk_push_bn_bwd_apply pa = {.count = (uint32_t)cmp_numel(x),
                             .C = (uint32_t)C,
                             .hw = (uint32_t)hw,
                             .beta = dx_beta,
                             .alpha = act ? act->alpha : 0.0f};
  pa.x_off = vkb_in(ra, &na, x, 0);
  pa.dy_off = vkb_in(ra, &na, dy, 1);
  pa.dxin_off = vkb_in(ra, &na, dx, 2);
  ra[na++] = vkb_ssbo(b, dx, true, 0, &pa.dx_off);
  ra[na++] = vkb_ssbo(b, save_mean, false, 1, &pa.mean_off);
  ra[na++] = vkb_ssbo(b, save_invstd, false, 2, &pa.invstd_off);
  ra[na++] = vkb_ssbo_mat(b, coef, C * 3, false, 3, &pa.coef_off);
  bool io = vkb_al4(vkb_off(x)) && vkb_al4(vkb_off(dy)) && vkb_al4(vkb_off(dx));
  bool params = vkb_al4(vkb_off(save_mean)) && vkb_al4(vkb_off(save_invstd)) && vkb_al4(coef.off);
  /* Without an activation, the constants of before (the same pipelines). */
  uint32_t spec[3] = {ew_mode(io, params, hw, C), 0, vkb_epilogue(act)};
  vkb_dispatch_ew(b, VK_SHADER_BN_BWD_APPLY, spec, act ? 3 : 2, &pa, sizeof pa, ra, na,
                  cmp_numel(x));
  /* Features too long for the one-dispatch path (dsum needs h = w = 1 and dx_beta 0): a column sum
   * of the dx just written. */
  if (dsum) vkb_reduce_op(ctx, dx, x->n, x->c, false, dsum, param_beta);
}
