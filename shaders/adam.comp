#version 450
// Adam with bias correction in PyTorch's order of operations (the CPU backend's):
// m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= step_size m / (sqrt(v) / bc2_sqrt + eps)
// with step_size = lr / (1 - b1^t) and bc2_sqrt = sqrt(1 - b2^t) computed on the host.
#include "ew.glsl"
layout(push_constant) uniform Push {
  uint pin_off, g_off, min_off, vin_off, p_off, m_off, v_off, count;
  float b1, b2, eps, step_size, bc2_sqrt;
} pc;
EW_IN(0) // p
EW_IN(1) // g
EW_IN(2) // m
EW_IN(3) // v
EW_OUT(0, p)
EW_OUT(1, m)
EW_OUT(2, v)
void main() {
  uint last = pc.count - 1u;
  EW_FOR_EACH(pc.count) {
    vec4 g = EW_LOAD(1, pc.g_off, e, last);
    vec4 mi = pc.b1 * EW_LOAD(2, pc.min_off, e, last) + (1.0 - pc.b1) * g;
    vec4 vi = pc.b2 * EW_LOAD(3, pc.vin_off, e, last) + (1.0 - pc.b2) * g * g;
    vec4 denom = sqrt(vi) / pc.bc2_sqrt + pc.eps;
    vec4 pv = EW_LOAD(0, pc.pin_off, e, last) - pc.step_size * (mi / denom);
    EW_STORE(m, pc.m_off, e, pc.count, mi);
    EW_STORE(v, pc.v_off, e, pc.count, vi);
    EW_STORE(p, pc.p_off, e, pc.count, pv);
  }
}
