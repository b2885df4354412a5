#version 450
// t[i] = number index0 + i of (seed, stream): uniform in [a, b) or, with -DNORMAL=1, normal with
// mean a and standard deviation b. Bit-identical to the CPU backend for uniforms.
#include "philox.glsl"
#include "elementwise.glsl"

layout(push_constant) uniform Push {
  uint off, count;        // tensor: first float relative to the bound range, element count
  uint seed_lo, seed_hi;  // 64-bit seed
  uint stream;            // stream id
  uint index_lo, index_hi; // 64-bit index of element 0
  float a, b;             // uniform: [a, b); normal: mean a, std b
} pc;
layout(std430, binding = 0) writeonly buffer T { float t[]; };

void main() {
  uint i = ew_index();
  if (i >= pc.count) return;
  uvec2 index = philox_index(uvec2(pc.index_lo, pc.index_hi), i);
  uvec2 seed = uvec2(pc.seed_lo, pc.seed_hi);
#if NORMAL
  precise float v = pc.a + pc.b * philox_normal(seed, pc.stream, index);
#else
  precise float v = pc.a + (pc.b - pc.a) * philox_uniform(seed, pc.stream, index);
#endif
  t[pc.off + i] = v;
}
