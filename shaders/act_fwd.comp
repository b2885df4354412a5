#version 450
// y = act(x): ACT (specialisation constant 1) 0 relu, 1 leaky relu (slope alpha), 2 tanh,
// 3 sigmoid; x may alias y.
#include "ew.glsl"
layout(constant_id = 1) const uint ACT = 0;
layout(push_constant) uniform Push { uint x_off, y_off, count; float alpha; } pc;
EW_IN(0)
EW_OUT(0, y)
void main() {
  uint last = pc.count - 1u;
  EW_FOR_EACH(pc.count) {
    vec4 v = EW_LOAD(0, pc.x_off, e, last), r;
    bvec4 pos = greaterThan(v, vec4(0.0));
    if (ACT == 0u) r = mix(vec4(0.0), v, pos);
    else if (ACT == 1u) r = mix(pc.alpha * v, v, pos);
    else if (ACT == 2u) r = tanh(v);
    else r = 1.0 / (1.0 + exp(-v));
    EW_STORE(y, pc.y_off, e, pc.count, r);
  }
}
