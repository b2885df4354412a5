#version 450
// y = alpha x + beta y (beta 0: y is not read).
#include "elementwise.glsl"
layout(push_constant) uniform Push { uint x_off, y_off, count; float alpha, beta; } pc;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) buffer Y { float y[]; };
void main() {
  uint i = ew_index();
  if (i >= pc.count) return;
  float v = pc.alpha * x[pc.x_off + i];
  if (pc.beta != 0.0) v += pc.beta * y[pc.y_off + i];
  y[pc.y_off + i] = v;
}
