/* Vulkan backend: batch normalisation over N x H x W per channel. Statistics are gathered per
 * (channel, slice of its elements) so that a few channels with many elements still spread over
 * the device, then merged per channel (Chan's formula for the variance), then applied
 * elementwise: three dispatches each way. */
#include "vk_backend.h"

/* Slices per channel: enough work items overall, slices of at least 256 elements. */
static uint64_t bn_slices(uint64_t channels, uint64_t m) {
  uint64_t want = channels >= 512 ? 1 : (512 + channels - 1) / channels;
  uint64_t most = m / 256 > 0 ? m / 256 : 1;
  return want < most ? want : most;
}

void vkb_bn_fwd_train(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *gamma,
                      const cmp_tensor *beta_, const cmp_tensor *run_mean,
                      const cmp_tensor *run_var, float momentum, float eps, const cmp_tensor *y,
                      const cmp_tensor *save_mean, const cmp_tensor *save_invstd) {
  vk_be *b = vkb(ctx);
  uint64_t C = (uint64_t)x->c, hw = (uint64_t)x->h * x->w, m = (uint64_t)x->n * hw;
  uint64_t slices = bn_slices(C, m), chunk = (m + slices - 1) / slices;
  slices = (m + chunk - 1) / chunk;
  vkb_scratch_begin(b, vkb_scratch_size(C * slices * 3));
  vk_mat part = vkb_scratch(b, C * slices * 3);

  vk_push_bn_stats ps = {
      0, 0, (uint32_t)C, (uint32_t)hw, (uint32_t)m, (uint32_t)slices, (uint32_t)chunk};
  vk_buf_ref rs[2] = {vkb_ssbo(b, x, false, 0, &ps.x_off),
                      vkb_ssbo_mat(b, part, C * slices * 3, true, 1, &ps.part_off)};
  vkb_dispatch_items(b, VK_SHADER_BN_STATS, &ps, sizeof ps, rs, 2, C * slices);

  vk_push_bn_finalize pf = {0, 0, 0, 0, 0, (uint32_t)C, (uint32_t)slices, momentum, eps};
  vk_buf_ref rf[5] = {vkb_ssbo_mat(b, part, C * slices * 3, false, 0, &pf.part_off),
                      vkb_ssbo(b, save_mean, true, 1, &pf.mean_off),
                      vkb_ssbo(b, save_invstd, true, 2, &pf.invstd_off),
                      vkb_ssbo(b, run_mean, true, 3, &pf.rmean_off),
                      vkb_ssbo(b, run_var, true, 4, &pf.rvar_off)};
  vkb_dispatch_items(b, VK_SHADER_BN_FINALIZE, &pf, sizeof pf, rf, 5, C);

  vk_push_bn_apply pa = {0, 0,  (uint32_t)cmp_numel(x), (uint32_t)C, (uint32_t)hw, 0, 0, 0, 0,
                         0, eps};
  vk_buf_ref ra[6] = {vkb_ssbo(b, x, false, 0, &pa.x_off),
                      vkb_ssbo(b, y, true, 1, &pa.y_off),
                      vkb_ssbo(b, gamma, false, 2, &pa.gamma_off),
                      vkb_ssbo(b, beta_, false, 3, &pa.beta_off),
                      vkb_ssbo(b, save_mean, false, 4, &pa.mean_off),
                      vkb_ssbo(b, save_invstd, false, 5, &pa.var_off)};
  vkb_dispatch_items(b, VK_SHADER_BN_APPLY, &pa, sizeof pa, ra, 6, cmp_numel(x));
}

void vkb_bn_fwd_eval(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *gamma,
                     const cmp_tensor *beta_, const cmp_tensor *run_mean, const cmp_tensor *run_var,
                     float eps, const cmp_tensor *y) {
  vk_be *b = vkb(ctx);
  vk_push_bn_apply pa = {
      0, 0,  (uint32_t)cmp_numel(x), (uint32_t)x->c, (uint32_t)((uint64_t)x->h * x->w), 0, 0, 0, 0,
      1, eps};
  vk_buf_ref ra[6] = {
      vkb_ssbo(b, x, false, 0, &pa.x_off),           vkb_ssbo(b, y, true, 1, &pa.y_off),
      vkb_ssbo(b, gamma, false, 2, &pa.gamma_off),   vkb_ssbo(b, beta_, false, 3, &pa.beta_off),
      vkb_ssbo(b, run_mean, false, 4, &pa.mean_off), vkb_ssbo(b, run_var, false, 5, &pa.var_off)};
  vkb_dispatch_items(b, VK_SHADER_BN_APPLY, &pa, sizeof pa, ra, 6, cmp_numel(x));
}

void vkb_bn_bwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *dy, const cmp_tensor *gamma,
                const cmp_tensor *save_mean, const cmp_tensor *save_invstd, const cmp_tensor *dx,
                const cmp_tensor *dgamma, const cmp_tensor *dbeta, float beta) {
  vk_be *b = vkb(ctx);
  uint64_t C = (uint64_t)x->c, hw = (uint64_t)x->h * x->w, m = (uint64_t)x->n * hw;
  uint64_t slices = bn_slices(C, m), chunk = (m + slices - 1) / slices;
  slices = (m + chunk - 1) / chunk;
  vkb_scratch_begin(b, vkb_scratch_size(C * slices * 2) + vkb_scratch_size(C * 3));
  vk_mat part = vkb_scratch(b, C * slices * 2), coef = vkb_scratch(b, C * 3);

  vk_push_bn_bwd_stats ps = {
      0, 0, 0, 0, 0, (uint32_t)C, (uint32_t)hw, (uint32_t)m, (uint32_t)slices, (uint32_t)chunk};
  vk_buf_ref rs[5] = {vkb_ssbo(b, x, false, 0, &ps.x_off), vkb_ssbo(b, dy, false, 1, &ps.dy_off),
                      vkb_ssbo(b, save_mean, false, 2, &ps.mean_off),
                      vkb_ssbo(b, save_invstd, false, 3, &ps.invstd_off),
                      vkb_ssbo_mat(b, part, C * slices * 2, true, 4, &ps.part_off)};
  vkb_dispatch_items(b, VK_SHADER_BN_BWD_STATS, &ps, sizeof ps, rs, 5, C * slices);

  /* Parameter gradients that are not wanted bind the coefficient range (never written). */
  vk_push_bn_bwd_finalize pf = {
      0,        0,   0, 0, 0, 0, (uint32_t)C, (uint32_t)slices, dgamma != NULL, dbeta != NULL,
      (float)m, beta};
  vk_buf_ref rf[6] = {vkb_ssbo_mat(b, part, C * slices * 2, false, 0, &pf.part_off),
                      vkb_ssbo(b, gamma, false, 1, &pf.gamma_off),
                      vkb_ssbo(b, save_invstd, false, 2, &pf.invstd_off),
                      dgamma ? vkb_ssbo(b, dgamma, true, 3, &pf.dgamma_off)
                             : vkb_ssbo_mat(b, coef, C * 3, true, 3, &pf.dgamma_off),
                      dbeta ? vkb_ssbo(b, dbeta, true, 4, &pf.dbeta_off)
                            : vkb_ssbo_mat(b, coef, C * 3, true, 4, &pf.dbeta_off),
                      vkb_ssbo_mat(b, coef, C * 3, true, 5, &pf.coef_off)};
  vkb_dispatch_items(b, VK_SHADER_BN_BWD_FINALIZE, &pf, sizeof pf, rf, 6, C);

  vk_push_bn_bwd_apply pa = {0,   0, 0, 0, 0, 0, (uint32_t)cmp_numel(x), (uint32_t)C, (uint32_t)hw,
                             beta};
  vk_buf_ref ra[6] = {vkb_ssbo(b, x, false, 0, &pa.x_off),
                      vkb_ssbo(b, dy, false, 1, &pa.dy_off),
                      vkb_ssbo(b, dx, true, 2, &pa.dx_off),
                      vkb_ssbo(b, save_mean, false, 3, &pa.mean_off),
                      vkb_ssbo(b, save_invstd, false, 4, &pa.invstd_off),
                      vkb_ssbo_mat(b, coef, C * 3, false, 5, &pa.coef_off)};
  vkb_dispatch_items(b, VK_SHADER_BN_BWD_APPLY, &pa, sizeof pa, ra, 6, cmp_numel(x));
}
