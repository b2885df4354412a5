#version 450
// Per channel c and slice s: part[(c S + s) 2 + (0, 1)] = sum dy, sum dy xhat with
// xhat = (x - mean) invstd.
#include "elementwise.glsl"
#include "bn.glsl"
layout(push_constant) uniform Push {
  uint x_off, dy_off, mean_off, invstd_off, part_off, C, hw, m, slices, chunk;
} pc;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) readonly buffer Mn { float mean[]; };
layout(std430, binding = 3) readonly buffer Iv { float invstd[]; };
layout(std430, binding = 4) writeonly buffer P { float part[]; };
void main() {
  uint id = ew_index();
  if (id >= pc.C * pc.slices) return;
  uint c = id / pc.slices, s = id % pc.slices;
  uint e0 = s * pc.chunk, e1 = min(pc.m, e0 + pc.chunk);
  float mu = mean[pc.mean_off + c], inv = invstd[pc.invstd_off + c], sdy = 0.0, sdyx = 0.0;
  bn_walk w = bn_start(e0, pc.hw);
  for (uint e = e0; e < e1; e++, bn_next(w, pc.hw)) {
    uint i = bn_index(w, c, pc.C, pc.hw);
    float d = dy[pc.dy_off + i];
    sdy += d;
    sdyx += d * ((x[pc.x_off + i] - mu) * inv);
  }
  part[pc.part_off + id * 2u] = sdy;
  part[pc.part_off + id * 2u + 1u] = sdyx;
}
