#version 450
// y = act(x): 0 relu, 1 leaky relu (slope alpha), 2 tanh, 3 sigmoid; x may alias y.
#include "elementwise.glsl"
layout(push_constant) uniform Push { uint x_off, y_off, count, act; float alpha; } pc;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
void main() {
  uint i = ew_index();
  if (i >= pc.count) return;
  float v = x[pc.x_off + i], r;
  if (pc.act == 0u) r = v > 0.0 ? v : 0.0;
  else if (pc.act == 1u) r = v > 0.0 ? v : pc.alpha * v;
  else if (pc.act == 2u) r = tanh(v);
  else r = 1.0 / (1.0 + exp(-v));
  y[pc.y_off + i] = r;
}
