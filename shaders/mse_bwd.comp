#version 450
// da = k (a - b) + beta da with k = 2 scale / numel.
#include "ew.glsl"
layout(push_constant) uniform Push { uint a_off, b_off, dain_off, da_off, count; float k, beta; } pc;
EW_IN(0)
EW_IN(1)
EW_IN(2)
EW_OUT(0, da)
void main() {
  uint last = pc.count - 1u;
  EW_FOR_EACH(pc.count) {
    vec4 g = pc.k * (EW_LOAD(0, pc.a_off, e, last) - EW_LOAD(1, pc.b_off, e, last));
    if (pc.beta != 0.0) g += pc.beta * EW_LOAD(2, pc.dain_off, e, last);
    EW_STORE(da, pc.da_off, e, pc.count, g);
  }
}
