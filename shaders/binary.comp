#version 450
// y = a (op) b with b broadcast to a's shape; y may alias a. vec: a's w a multiple of 4, so the 4
// elements of a run share n, c, h and b's indices step by its w stride.
#include "ew.glsl"
#include "binary.glsl"
layout(push_constant) uniform Push {
  uint a_off, b_off, y_off, count;
  uint C, H, W;        // a's c, h, w
  uint sn, sc, sh, sw; // b's strides seen with a's shape
  uint op;
} pc;
EW_IN(0) // a
EW_IN(1) // b
EW_OUT(0, y)
void main() {
  uvec4 bs = uvec4(pc.sn, pc.sc, pc.sh, pc.sw);
  EW_FOR_EACH(pc.count) {
    if (EW_VEC != 0u && e + 3u < pc.count) {
      uint j = pc.b_off + b_index(e, pc.C, pc.H, pc.W, bs);
      vec4 b = vec4(EW_AT(1, j), EW_AT(1, j + pc.sw), EW_AT(1, j + 2u * pc.sw),
                    EW_AT(1, j + 3u * pc.sw));
      y4[(pc.y_off + e) >> 2] = binop(pc.op, texelFetch(in4_0, int((pc.a_off + e) >> 2)), b);
    } else {
      for (uint i = e; i < e + 4u && i < pc.count; i++) {
        float av = EW_AT(0, pc.a_off + i), bv = EW_AT(1, pc.b_off + b_index(i, pc.C, pc.H, pc.W, bs));
        y1[pc.y_off + i] = binop(pc.op, vec4(av), vec4(bv)).x;
      }
    }
  }
}
