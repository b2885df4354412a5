#version 450
// da = d(a op b)/da dy + beta da.
#include "elementwise.glsl"
#include "binary.glsl"
layout(push_constant) uniform Push {
  uint a_off, b_off, dy_off, da_off, count;
  uint C, H, W;
  uint sn, sc, sh, sw;
  uint op;
  float beta;
} pc;
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) readonly buffer DY { float dy[]; };
layout(std430, binding = 3) buffer DA { float da[]; };
void main() {
  uint i = ew_index();
  if (i >= pc.count) return;
  float g = dy[pc.dy_off + i], ga;
  if (pc.op <= 1u) ga = g;
  else {
    uint j = b_index(i, pc.C, pc.H, pc.W, uvec4(pc.sn, pc.sc, pc.sh, pc.sw));
    float av = a[pc.a_off + i], bv = b[pc.b_off + j];
    if (pc.op == 2u) ga = g * bv;
    else if (pc.op == 3u) ga = av <= bv ? g : 0.0;
    else ga = av >= bv ? g : 0.0;
  }
  if (pc.beta != 0.0) ga += pc.beta * da[pc.da_off + i];
  da[pc.da_off + i] = ga;
}
