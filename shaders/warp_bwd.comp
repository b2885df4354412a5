#version 450
// cmp_warp_bwd: the flow gradient of warp_fwd.comp, dflow = scale * sum_c dout * d(sample)/d(point)
// (zero for a clamped coordinate) + beta * dflow. One invocation per pixel; each writes its own two
// flow gradients, so no atomics.
#include "elementwise.glsl"
#include "warp_push.glsl"
#include "warp_tap.glsl"

layout(std430, binding = 0) readonly buffer Img { float img[]; };
layout(std430, binding = 1) readonly buffer Flow { float flow[]; };
layout(std430, binding = 2) buffer DFlow { float dflow[]; };
layout(std430, binding = 3) readonly buffer DOut { float dout[]; };

void main() {
  uint i = ew_index();
  uint hw = pc.h * pc.w;
  if (i >= pc.n * hw) return;
  uint n = i / hw, p = i % hw;
  float fx = flow[pc.flow_off + n * 2u * hw + p], fy = flow[pc.flow_off + n * 2u * hw + hw + p];
  warp_tap t = tap_of(float(p % pc.w) + pc.scale * fx, float(p / pc.w) + pc.scale * fy, pc.w, pc.h);
  uint src = pc.img_off + (n % pc.ni) * pc.c * hw, g = pc.dout_off + n * pc.c * hw + p;
  float sx = 0.0, sy = 0.0;
  for (uint c = 0u; c < pc.c; c++, src += hw, g += hw) {
    float v00 = img[src + t.i00], v01 = img[src + t.i01], v10 = img[src + t.i10],
          v11 = img[src + t.i11];
    sx += dout[g] * ((1.0 - t.ay) * (v01 - v00) + t.ay * (v11 - v10));
    sy += dout[g] * ((1.0 - t.ax) * (v10 - v00) + t.ax * (v11 - v01));
  }
  float vx = t.in_x ? pc.scale * sx : 0.0, vy = t.in_y ? pc.scale * sy : 0.0;
  uint o = pc.out_off + n * 2u * hw + p;
  dflow[o] = pc.beta == 0.0 ? vx : vx + pc.beta * dflow[o];
  dflow[o + hw] = pc.beta == 0.0 ? vy : vy + pc.beta * dflow[o + hw];
}
