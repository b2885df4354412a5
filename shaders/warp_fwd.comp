#version 450
// cmp_warp_fwd: out[n, c, y, x] = bilinear sample of img[n % ni, c] at (x, y) + scale * flow[n, :,
// y, x], clamped to the image. One invocation per output pixel, all channels.
#include "elementwise.glsl"
#include "warp_push.glsl"
#include "warp_tap.glsl"

layout(std430, binding = 0) readonly buffer Img { float img[]; };
layout(std430, binding = 1) readonly buffer Flow { float flow[]; };
layout(std430, binding = 2) writeonly buffer Out { float outv[]; };

void main() {
  uint i = ew_index();
  uint hw = pc.h * pc.w;
  if (i >= pc.n * hw) return;
  uint n = i / hw, p = i % hw;
  float fx = flow[pc.flow_off + n * 2u * hw + p], fy = flow[pc.flow_off + n * 2u * hw + hw + p];
  warp_tap t = tap_of(float(p % pc.w) + pc.scale * fx, float(p / pc.w) + pc.scale * fy, pc.w, pc.h);
  float w00 = (1.0 - t.ax) * (1.0 - t.ay), w01 = t.ax * (1.0 - t.ay), w10 = (1.0 - t.ax) * t.ay,
        w11 = t.ax * t.ay;
  uint src = pc.img_off + (n % pc.ni) * pc.c * hw, dst = pc.out_off + n * pc.c * hw + p;
  for (uint c = 0u; c < pc.c; c++, src += hw, dst += hw)
    outv[dst] = w00 * img[src + t.i00] + w01 * img[src + t.i01] + w10 * img[src + t.i10] +
                w11 * img[src + t.i11];
}
