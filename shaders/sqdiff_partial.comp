#version 450
// part[p] = sum over slice p (chunk floats) of (a - b)^2: the first pass of the mean squared error.
// a and b are read through R32F texel views (absolute offsets).
#include "elementwise.glsl"
layout(push_constant) uniform Push { uint a_off, b_off, part_off, count, parts, chunk; } pc;
layout(binding = 9) uniform samplerBuffer a1;
layout(binding = 11) uniform samplerBuffer b1;
layout(std430, binding = 2) writeonly buffer P { float part[]; };
void main() {
  uint p = ew_index();
  if (p >= pc.parts) return;
  uint i0 = p * pc.chunk, i1 = min(pc.count, i0 + pc.chunk);
  float s = 0.0;
  for (uint i = i0; i < i1; i++) {
    float d = texelFetch(a1, int(pc.a_off + i)).x - texelFetch(b1, int(pc.b_off + i)).x;
    s += d * d;
  }
  part[pc.part_off + p] = s;
}
