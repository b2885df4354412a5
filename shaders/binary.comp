#version 450
// y = a (op) b with b broadcast to a's shape; y may alias a.
#include "elementwise.glsl"
#include "binary.glsl"
layout(push_constant) uniform Push {
  uint a_off, b_off, y_off, count;
  uint C, H, W;     // a's c, h, w
  uint sn, sc, sh, sw; // b's strides seen with a's shape
  uint op;
} pc;
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) writeonly buffer Yb { float y[]; };
void main() {
  uint i = ew_index();
  if (i >= pc.count) return;
  uint j = b_index(i, pc.C, pc.H, pc.W, uvec4(pc.sn, pc.sc, pc.sh, pc.sw));
  y[pc.y_off + i] = binop(pc.op, a[pc.a_off + i], b[pc.b_off + j]);
}
