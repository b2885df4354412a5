#version 450
// dx = act'(.) dy + beta dx: relu/leaky from x, tanh/sigmoid from y (the forward output); ACT is
// specialisation constant 1.
#include "ew.glsl"
layout(constant_id = 1) const uint ACT = 0;
layout(push_constant) uniform Push {
  uint x_off, y_off, dy_off, dxin_off, dx_off, count;
  float alpha, beta;
} pc;
EW_IN(0) // x
EW_IN(1) // y
EW_IN(2) // dy
EW_IN(3) // dx (read when beta != 0)
EW_OUT(0, dx)
void main() {
  uint last = pc.count - 1u;
  EW_FOR_EACH(pc.count) {
    vec4 g = EW_LOAD(2, pc.dy_off, e, last), d;
    if (ACT <= 1u) {
      vec4 x = EW_LOAD(0, pc.x_off, e, last);
      d = mix(ACT == 0u ? vec4(0.0) : pc.alpha * g, g, greaterThan(x, vec4(0.0)));
    } else {
      vec4 y = EW_LOAD(1, pc.y_off, e, last);
      d = ACT == 2u ? (1.0 - y * y) * g : y * (1.0 - y) * g;
    }
    if (pc.beta != 0.0) d += pc.beta * EW_LOAD(3, pc.dxin_off, e, last);
    EW_STORE(dx, pc.dx_off, e, pc.count, d);
  }
}
