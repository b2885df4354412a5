#version 450
// Per channel c and slice s: part[(c S + s) 2 + (0, 1)] = sum dy, sum dy xhat with
// xhat = (x - mean) invstd. x and dy are read through R32F texel views (absolute offsets);
// BN_VEC (specialisation constant 0): RGBA32F views, as in bn_stats.comp (hw, both offsets and
// chunk multiples of 4).
#include "elementwise.glsl"
#include "bn.glsl"
layout(push_constant) uniform Push {
  uint x_off, dy_off, mean_off, invstd_off, part_off, C, hw, m, slices, chunk;
} pc;
layout(constant_id = 0) const bool BN_VEC = false;
layout(binding = 8) uniform samplerBuffer x4;
layout(binding = 9) uniform samplerBuffer x1;
layout(binding = 10) uniform samplerBuffer dy4;
layout(binding = 11) uniform samplerBuffer dy1;
layout(std430, binding = 2) readonly buffer Mn { float mean[]; };
layout(std430, binding = 3) readonly buffer Iv { float invstd[]; };
layout(std430, binding = 4) writeonly buffer P { float part[]; };
void main() {
  uint id = ew_index();
  if (id >= pc.C * pc.slices) return;
  uint c = id / pc.slices, s = id % pc.slices;
  uint e0 = s * pc.chunk, e1 = min(pc.m, e0 + pc.chunk);
  float mu = mean[pc.mean_off + c], inv = invstd[pc.invstd_off + c], sdy = 0.0, sdyx = 0.0;
  if (BN_VEC) {
    vec4 sv = vec4(0.0), sxv = vec4(0.0);
    bn_walk w = bn_start(e0, pc.hw);
    for (uint e = e0; e < e1; e += 4u, bn_next4(w, pc.hw)) {
      uint i = bn_index(w, c, pc.C, pc.hw);
      vec4 d = texelFetch(dy4, int((pc.dy_off + i) >> 2));
      sv += d;
      sxv += d * ((texelFetch(x4, int((pc.x_off + i) >> 2)) - mu) * inv);
    }
    part[pc.part_off + id * 2u] = sv.x + sv.y + sv.z + sv.w;
    part[pc.part_off + id * 2u + 1u] = sxv.x + sxv.y + sxv.z + sxv.w;
    return;
  }
  bn_walk w = bn_start(e0, pc.hw);
  for (uint e = e0; e < e1; e++, bn_next(w, pc.hw)) {
    uint i = bn_index(w, c, pc.C, pc.hw);
    float d = texelFetch(dy1, int(pc.dy_off + i)).x;
    sdy += d;
    sdyx += d * ((texelFetch(x1, int(pc.x_off + i)).x - mu) * inv);
  }
  part[pc.part_off + id * 2u] = sdy;
  part[pc.part_off + id * 2u + 1u] = sdyx;
}
