#version 450
// y[o, k, i] = scale x[o, i] + beta y[o, k, i] for k < r (repeat rows or groups).
#include "elementwise.glsl"
layout(push_constant) uniform Push {
  uint x_off, y_off, count, r, inner;
  float scale, beta;
} pc;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) buffer Yb { float y[]; };
void main() {
  uint i = ew_index();
  if (i >= pc.count) return;
  uint o = i / (pc.r * pc.inner), ii = i % pc.inner;
  float v = pc.scale * x[pc.x_off + o * pc.inner + ii];
  if (pc.beta != 0.0) v += pc.beta * y[pc.y_off + i];
  y[pc.y_off + i] = v;
}
