#version 450
// target = tau target + (1 - tau) source.
#include "ew.glsl"
layout(push_constant) uniform Push { uint tin_off, s_off, t_off, count; float tau; } pc;
EW_IN(0)
EW_IN(1)
EW_OUT(0, t)
void main() {
  uint last = pc.count - 1u;
  EW_FOR_EACH(pc.count) {
    vec4 v = pc.tau * EW_LOAD(0, pc.tin_off, e, last) + (1.0 - pc.tau) * EW_LOAD(1, pc.s_off, e, last);
    EW_STORE(t, pc.t_off, e, pc.count, v);
  }
}
