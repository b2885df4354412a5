/* Vulkan backend: bilinear backward warping of images by a flow field (cmp_warp_fwd/bwd), the video
 * model's transform. One invocation per output pixel (shaders/warp_fwd.comp, warp_bwd.comp), the
 * same arithmetic as compute/cpu/cpu_warp.c. */
#include "vk_backend.h"

static vk_push_warp warp_push(const cmp_tensor *img, const cmp_tensor *flow, float scale,
                              float beta) {
  vk_push_warp pc = {.ni = (uint32_t)img->n,
                     .n = (uint32_t)flow->n,
                     .c = (uint32_t)img->c,
                     .h = (uint32_t)img->h,
                     .w = (uint32_t)img->w,
                     .scale = scale,
                     .beta = beta};
  return pc;
}

void vkb_warp_fwd(cmp_ctx *ctx, const cmp_tensor *img, const cmp_tensor *flow, float scale,
                  const cmp_tensor *out) {
  vk_be *b = vkb(ctx);
  vk_push_warp pc = warp_push(img, flow, scale, 0.0f);
  vk_buf_ref refs[3] = {vkb_ssbo(b, img, false, 0, &pc.img_off),
                        vkb_ssbo(b, flow, false, 1, &pc.flow_off),
                        vkb_ssbo(b, out, true, 2, &pc.out_off)};
  vkb_dispatch_items(b, VK_SHADER_WARP_FWD, &pc, sizeof pc, refs, 3,
                     (uint64_t)flow->n * flow->h * flow->w);
}

void vkb_warp_bwd(cmp_ctx *ctx, const cmp_tensor *img, const cmp_tensor *flow, float scale,
                  const cmp_tensor *dout, const cmp_tensor *dflow, float beta) {
  vk_be *b = vkb(ctx);
  vk_push_warp pc = warp_push(img, flow, scale, beta);
  vk_buf_ref refs[4] = {
      vkb_ssbo(b, img, false, 0, &pc.img_off), vkb_ssbo(b, flow, false, 1, &pc.flow_off),
      vkb_ssbo(b, dflow, true, 2, &pc.out_off), vkb_ssbo(b, dout, false, 3, &pc.dout_off)};
  vkb_dispatch_items(b, VK_SHADER_WARP_BWD, &pc, sizeof pc, refs, 4,
                     (uint64_t)flow->n * flow->h * flow->w);
}
