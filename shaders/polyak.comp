#version 450
// target = tau target + (1 - tau) source.
#include "elementwise.glsl"
layout(push_constant) uniform Push { uint t_off, s_off, count; float tau; } pc;
layout(std430, binding = 0) buffer T { float t[]; };
layout(std430, binding = 1) readonly buffer S { float s[]; };
void main() {
  uint i = ew_index();
  if (i >= pc.count) return;
  t[pc.t_off + i] = pc.tau * t[pc.t_off + i] + (1.0 - pc.tau) * s[pc.s_off + i];
}
