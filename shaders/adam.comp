#version 450
// Adam with bias correction in PyTorch's order of operations (the CPU backend's):
// m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= step_size m / (sqrt(v) / bc2_sqrt + eps)
// with step_size = lr / (1 - b1^t) and bc2_sqrt = sqrt(1 - b2^t) computed on the host.
#include "elementwise.glsl"
layout(push_constant) uniform Push {
  uint p_off, g_off, m_off, v_off, count;
  float b1, b2, eps, step_size, bc2_sqrt;
} pc;
layout(std430, binding = 0) buffer P { float p[]; };
layout(std430, binding = 1) readonly buffer G { float g[]; };
layout(std430, binding = 2) buffer M { float m[]; };
layout(std430, binding = 3) buffer V { float v[]; };
void main() {
  uint i = ew_index();
  if (i >= pc.count) return;
  float gi = g[pc.g_off + i];
  float mi = pc.b1 * m[pc.m_off + i] + (1.0 - pc.b1) * gi;
  float vi = pc.b2 * v[pc.v_off + i] + (1.0 - pc.b2) * gi * gi;
  m[pc.m_off + i] = mi;
  v[pc.v_off + i] = vi;
  float denom = sqrt(vi) / pc.bc2_sqrt + pc.eps;
  p[pc.p_off + i] -= pc.step_size * (mi / denom);
}
