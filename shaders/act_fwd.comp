#version 450
// y = act(x): 0 relu, 1 leaky relu (slope alpha), 2 tanh, 3 sigmoid; x may alias y.
#include "ew.glsl"
layout(push_constant) uniform Push { uint x_off, y_off, count, vec, act; float alpha; } pc;
EW_IN(0)
EW_OUT(0, y)
void main() {
  uint last = pc.count - 1u;
  EW_FOR_EACH(pc.count) {
    vec4 v = EW_LOAD(0, pc.x_off, e, last), r;
    bvec4 pos = greaterThan(v, vec4(0.0));
    if (pc.act == 0u) r = mix(vec4(0.0), v, pos);
    else if (pc.act == 1u) r = mix(pc.alpha * v, v, pos);
    else if (pc.act == 2u) r = tanh(v);
    else r = 1.0 / (1.0 + exp(-v));
    EW_STORE(y, pc.y_off, e, pc.count, r);
  }
}
