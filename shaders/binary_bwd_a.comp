#version 450
// da = d(a op b)/da dy + beta da (layout as binary.comp).
#include "ew.glsl"
#include "binary.glsl"
layout(push_constant) uniform Push {
  uint a_off, b_off, dy_off, dain_off, da_off, count;
  uint C, H, W;
  uint sn, sc, sh, sw;
  uint op;
  float beta;
} pc;
EW_IN(0) // a
EW_IN(1) // b
EW_IN(2) // dy
EW_IN(3) // da (read when beta != 0)
EW_OUT(0, da)

vec4 grad(vec4 a, vec4 b, vec4 g) {
  if (pc.op <= 1u) return g;
  if (pc.op == 2u) return g * b;
  if (pc.op == 3u) return mix(vec4(0.0), g, lessThanEqual(a, b));
  return mix(vec4(0.0), g, greaterThanEqual(a, b));
}

void main() {
  uvec4 bs = uvec4(pc.sn, pc.sc, pc.sh, pc.sw);
  EW_FOR_EACH(pc.count) {
    if (EW_VEC != 0u && e + 3u < pc.count) {
      uint j = pc.b_off + b_index(e, pc.C, pc.H, pc.W, bs);
      vec4 b = vec4(EW_AT(1, j), EW_AT(1, j + pc.sw), EW_AT(1, j + 2u * pc.sw),
                    EW_AT(1, j + 3u * pc.sw));
      vec4 ga = grad(texelFetch(in4_0, int((pc.a_off + e) >> 2)), b,
                     texelFetch(in4_2, int((pc.dy_off + e) >> 2)));
      if (pc.beta != 0.0) ga += pc.beta * texelFetch(in4_3, int((pc.dain_off + e) >> 2));
      da4[(pc.da_off + e) >> 2] = ga;
    } else {
      for (uint i = e; i < e + 4u && i < pc.count; i++) {
        float bv = EW_AT(1, pc.b_off + b_index(i, pc.C, pc.H, pc.W, bs));
        float ga = grad(vec4(EW_AT(0, pc.a_off + i)), vec4(bv), vec4(EW_AT(2, pc.dy_off + i))).x;
        if (pc.beta != 0.0) ga += pc.beta * EW_AT(3, pc.dain_off + i);
        da1[pc.da_off + i] = ga;
      }
    }
  }
}
