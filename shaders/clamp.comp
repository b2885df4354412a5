#version 450
// y = x < lo ? lo : x > hi ? hi : x, as the CPU backend writes it (NaN stays NaN); x may alias y.
#include "ew.glsl"
layout(push_constant) uniform Push { uint x_off, y_off, count; float lo, hi; } pc;
EW_IN(0)
EW_OUT(0, y)
void main() {
  uint last = pc.count - 1u;
  EW_FOR_EACH(pc.count) {
    vec4 t = EW_LOAD(0, pc.x_off, e, last);
    vec4 v = mix(mix(t, vec4(pc.hi), greaterThan(t, vec4(pc.hi))), vec4(pc.lo),
                 lessThan(t, vec4(pc.lo)));
    EW_STORE(y, pc.y_off, e, pc.count, v);
  }
}
