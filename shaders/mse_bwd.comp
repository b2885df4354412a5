#version 450
// da = k (a - b) + beta da with k = 2 scale / numel.
#include "elementwise.glsl"
layout(push_constant) uniform Push { uint a_off, b_off, da_off, count; float k, beta; } pc;
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) buffer DA { float da[]; };
void main() {
  uint i = ew_index();
  if (i >= pc.count) return;
  float g = pc.k * (a[pc.a_off + i] - b[pc.b_off + i]);
  if (pc.beta != 0.0) g += pc.beta * da[pc.da_off + i];
  da[pc.da_off + i] = g;
}
