#version 450
// Per channel c and slice s of its elements: part[(c S + s) 3 + (0, 1, 2)] = count, mean, sum of
// squared deviations from that mean (merged by bn_finalize.comp with Chan's formula). x is read
// through its R32F texel view (absolute offset).
#include "elementwise.glsl"
#include "bn.glsl"
layout(push_constant) uniform Push { uint x_off, part_off, C, hw, m, slices, chunk; } pc;
layout(binding = 9) uniform samplerBuffer x1;
layout(std430, binding = 1) writeonly buffer P { float part[]; };
void main() {
  uint id = ew_index();
  if (id >= pc.C * pc.slices) return;
  uint c = id / pc.slices, s = id % pc.slices;
  uint e0 = s * pc.chunk, e1 = min(pc.m, e0 + pc.chunk);
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
