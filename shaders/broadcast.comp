#version 450
// y[o, k, i] = scale x[o, i] + beta y[o, k, i] for k < r (repeat rows or groups). vec: inner a
// multiple of 4.
#include "ew.glsl"
layout(push_constant) uniform Push {
  uint x_off, yin_off, y_off, count, r, inner;
  float scale, beta;
} pc;
EW_IN(0) // x
EW_IN(1) // y (read when beta != 0)
EW_OUT(0, y)
void main() {
  EW_FOR_EACH(pc.count) {
    if (EW_VEC != 0u && e + 3u < pc.count) {
      uint o = e / (pc.r * pc.inner), ii = e % pc.inner;
      vec4 v = pc.scale * texelFetch(in4_0, int((pc.x_off + o * pc.inner + ii) >> 2));
      if (pc.beta != 0.0) v += pc.beta * texelFetch(in4_1, int((pc.yin_off + e) >> 2));
      y4[(pc.y_off + e) >> 2] = v;
    } else {
      for (uint i = e; i < e + 4u && i < pc.count; i++) {
        uint o = i / (pc.r * pc.inner), ii = i % pc.inner;
        float v = pc.scale * EW_AT(0, pc.x_off + o * pc.inner + ii);
        if (pc.beta != 0.0) v += pc.beta * EW_AT(1, pc.yin_off + i);
        y1[pc.y_off + i] = v;
      }
    }
  }
}
