#version 450
// y = alpha x + beta y (beta 0: y is not read).
#include "ew.glsl"
layout(push_constant) uniform Push {
  uint x_off, yin_off, y_off, count;
  float alpha, beta;
} pc;
EW_IN(0)
EW_IN(1)
EW_OUT(0, y)
void main() {
  uint last = pc.count - 1u;
  EW_FOR_EACH(pc.count) {
    vec4 v = pc.alpha * EW_LOAD(0, pc.x_off, e, last);
    if (pc.beta != 0.0) v += pc.beta * EW_LOAD(1, pc.yin_off, e, last);
    EW_STORE(y, pc.y_off, e, pc.count, v);
  }
}
