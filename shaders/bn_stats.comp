#version 450
// Per channel c and slice s of its elements: part[(c S + s) 3 + (0, 1, 2)] = count, mean, sum of
// squared deviations from that mean (merged by bn_finalize.comp with Chan's formula). x is read
// through its R32F texel view (absolute offset). BN_VEC (specialisation constant 0): hw, x_off and
// chunk multiples of 4, so that runs of 4 elements share a plane: RGBA32F texels, 4 partial sums
// (on lavapipe a scalar fetch is a gather; the encoder's layers take about a third of the CPU).
#include "elementwise.glsl"
#include "bn.glsl"
layout(push_constant) uniform Push { uint x_off, part_off, C, hw, m, slices, chunk; } pc;
layout(constant_id = 0) const bool BN_VEC = false;
layout(binding = 8) uniform samplerBuffer x4;
layout(binding = 9) uniform samplerBuffer x1;
layout(std430, binding = 1) writeonly buffer P { float part[]; };
void main() {
  uint id = ew_index();
  if (id >= pc.C * pc.slices) return;
  uint c = id / pc.slices, s = id % pc.slices;
  uint e0 = s * pc.chunk, e1 = min(pc.m, e0 + pc.chunk);
  if (BN_VEC) {
    vec4 sv = vec4(0.0), m2v = vec4(0.0);
    bn_walk w = bn_start(e0, pc.hw);
    for (uint e = e0; e < e1; e += 4u, bn_next4(w, pc.hw))
      sv += texelFetch(x4, int((pc.x_off + bn_index(w, c, pc.C, pc.hw)) >> 2));
    float cnt = float(e1 > e0 ? e1 - e0 : 0u);
    float mean = cnt > 0.0 ? (sv.x + sv.y + sv.z + sv.w) / cnt : 0.0;
    w = bn_start(e0, pc.hw);
    for (uint e = e0; e < e1; e += 4u, bn_next4(w, pc.hw)) {
      vec4 d = texelFetch(x4, int((pc.x_off + bn_index(w, c, pc.C, pc.hw)) >> 2)) - mean;
      m2v += d * d;
    }
    uint o = pc.part_off + id * 3u;
    part[o] = cnt;
    part[o + 1u] = mean;
    part[o + 2u] = m2v.x + m2v.y + m2v.z + m2v.w;
    return;
  }
  float sum = 0.0;
  bn_walk w = bn_start(e0, pc.hw);
  for (uint e = e0; e < e1; e++, bn_next(w, pc.hw)) sum += texelFetch(x1, int(pc.x_off + bn_index(w, c, pc.C, pc.hw))).x;
  float cnt = float(e1 > e0 ? e1 - e0 : 0u), mean = cnt > 0.0 ? sum / cnt : 0.0, m2 = 0.0;
  w = bn_start(e0, pc.hw);
  for (uint e = e0; e < e1; e++, bn_next(w, pc.hw)) {
    float d = texelFetch(x1, int(pc.x_off + bn_index(w, c, pc.C, pc.hw))).x - mean;
    m2 += d * d;
  }
  uint o = pc.part_off + id * 3u;
  part[o] = cnt;
  part[o + 1u] = mean;
  part[o + 2u] = m2;
}
