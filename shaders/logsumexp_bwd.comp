#version 450
// dx[n, k] = dy[n] exp(x[n, k] - y[n]) + beta dx[n, k] (y is the forward output).
#include "elementwise.glsl"
layout(push_constant) uniform Push {
  uint x_off, y_off, dy_off, dx_off, count, len;
  float beta;
} pc;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Yb { float y[]; };
layout(std430, binding = 2) readonly buffer DY { float dy[]; };
layout(std430, binding = 3) buffer DX { float dx[]; };
void main() {
  uint i = ew_index();
  if (i >= pc.count) return;
  uint n = i / pc.len;
  float v = dy[pc.dy_off + n] * exp(x[pc.x_off + i] - y[pc.y_off + n]);
  if (pc.beta != 0.0) v += pc.beta * dx[pc.dx_off + i];
  dx[pc.dx_off + i] = v;
}
