#version 450
// y[n] = max + log sum exp(x[n, k] - max) over the len elements of sample n.
#include "elementwise.glsl"
layout(push_constant) uniform Push { uint x_off, y_off, rows, len; } pc;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Yb { float y[]; };
void main() {
  uint n = ew_index();
  if (n >= pc.rows) return;
  uint b = pc.x_off + n * pc.len;
  float m = x[b];
  for (uint k = 1; k < pc.len; k++) m = max(m, x[b + k]);
  float s = 0.0;
  for (uint k = 0; k < pc.len; k++) s += exp(x[b + k] - m);
  y[pc.y_off + n] = m + log(s);
}
