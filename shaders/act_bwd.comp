#version 450
// dx = act'(.) dy + beta dx: relu/leaky from x, tanh/sigmoid from y (the forward output).
#include "elementwise.glsl"
layout(push_constant) uniform Push {
  uint x_off, y_off, dy_off, dx_off, count, act;
  float alpha, beta;
} pc;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Y { float y[]; };
layout(std430, binding = 2) readonly buffer DY { float dy[]; };
layout(std430, binding = 3) buffer DX { float dx[]; };
void main() {
  uint i = ew_index();
  if (i >= pc.count) return;
  float g = dy[pc.dy_off + i], d;
  if (pc.act == 0u) d = x[pc.x_off + i] > 0.0 ? g : 0.0;
  else if (pc.act == 1u) d = x[pc.x_off + i] > 0.0 ? g : pc.alpha * g;
  else if (pc.act == 2u) {
    float t = y[pc.y_off + i];
    d = (1.0 - t * t) * g;
  } else {
    float s = y[pc.y_off + i];
    d = s * (1.0 - s) * g;
  }
  if (pc.beta != 0.0) d += pc.beta * dx[pc.dx_off + i];
  dx[pc.dx_off + i] = d;
}
