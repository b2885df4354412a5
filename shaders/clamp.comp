#version 450
// y = min(max(x, lo), hi) written as the CPU backend does (NaN stays NaN); x may alias y.
#include "elementwise.glsl"
layout(push_constant) uniform Push { uint x_off, y_off, count; float lo, hi; } pc;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
void main() {
  uint i = ew_index();
  if (i >= pc.count) return;
  float t = x[pc.x_off + i];
  y[pc.y_off + i] = t < pc.lo ? pc.lo : t > pc.hi ? pc.hi : t;
}
