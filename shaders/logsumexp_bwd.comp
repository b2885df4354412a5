#version 450
// dx[n, k] = dy[n] exp(x[n, k] - y[n]) + beta dx[n, k] (y is the forward output). vec: len a
// multiple of 4.
#include "ew.glsl"
layout(push_constant) uniform Push {
  uint x_off, y_off, dy_off, dxin_off, dx_off, count, len;
  float beta;
} pc;
EW_IN(0) // x
EW_IN(1) // y
EW_IN(2) // dy
EW_IN(3) // dx (read when beta != 0)
EW_OUT(0, dx)
void main() {
  EW_FOR_EACH(pc.count) {
    if (EW_VEC != 0u && e + 3u < pc.count) {
      uint n = e / pc.len;
      vec4 v = EW_AT(2, pc.dy_off + n) *
               exp(texelFetch(in4_0, int((pc.x_off + e) >> 2)) - EW_AT(1, pc.y_off + n));
      if (pc.beta != 0.0) v += pc.beta * texelFetch(in4_3, int((pc.dxin_off + e) >> 2));
      dx4[(pc.dx_off + e) >> 2] = v;
    } else {
      for (uint i = e; i < e + 4u && i < pc.count; i++) {
        uint n = i / pc.len;
        float v = EW_AT(2, pc.dy_off + n) * exp(EW_AT(0, pc.x_off + i) - EW_AT(1, pc.y_off + n));
        if (pc.beta != 0.0) v += pc.beta * EW_AT(3, pc.dxin_off + i);
        dx1[pc.dx_off + i] = v;
      }
    }
  }
}
