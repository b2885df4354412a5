#version 450
// db[j] = sum over the elements i of a that b's element j is broadcast to of d(a op b)/db dy[i],
// + beta db[j]. One invocation per element of b, looping over the broadcast dimensions; a and dy
// are read through R32F texel views (absolute offsets).
#include "elementwise.glsl"
layout(push_constant) uniform Push {
  uint a_off, b_off, dy_off, db_off, count; // count = elements of b
  uint an, ac, ah, aw; // a's shape
  uint bn, bc, bh, bw; // b's shape
  uint op;
  float beta;
} pc;
layout(binding = 9) uniform samplerBuffer a1;
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(binding = 11) uniform samplerBuffer dy1;
layout(std430, binding = 3) buffer DB { float db[]; };
void main() {
  uint j = ew_index();
  if (j >= pc.count) return;
  uint w = j % pc.bw, r = j / pc.bw;
  uint h = r % pc.bh;
  r /= pc.bh;
  uint c = r % pc.bc, n = r / pc.bc;
  // Ranges over a: the whole axis where b broadcasts, else the one index.
  uvec4 lo = uvec4(n, c, h, w);
  uvec4 hi = uvec4(pc.bn == 1u ? pc.an : n + 1u, pc.bc == 1u ? pc.ac : c + 1u,
                   pc.bh == 1u ? pc.ah : h + 1u, pc.bw == 1u ? pc.aw : w + 1u);
  if (pc.bn == 1u) lo.x = 0u;
  if (pc.bc == 1u) lo.y = 0u;
  if (pc.bh == 1u) lo.z = 0u;
  if (pc.bw == 1u) lo.w = 0u;
  float bv = b[pc.b_off + j], s = 0.0;
  for (uint in_ = lo.x; in_ < hi.x; in_++)
    for (uint ic = lo.y; ic < hi.y; ic++)
      for (uint ih = lo.z; ih < hi.z; ih++)
        for (uint iw = lo.w; iw < hi.w; iw++) {
          uint i = ((in_ * pc.ac + ic) * pc.ah + ih) * pc.aw + iw;
          float g = texelFetch(dy1, int(pc.dy_off + i)).x;
          if (pc.op == 0u) s += g;
          else if (pc.op == 1u) s -= g;
          else if (pc.op == 2u) s += g * texelFetch(a1, int(pc.a_off + i)).x;
          else {
            float av = texelFetch(a1, int(pc.a_off + i)).x;
            bool to_a = pc.op == 3u ? av <= bv : av >= bv;
            if (!to_a) s += g;
          }
        }
  if (pc.beta != 0.0) s += pc.beta * db[pc.db_off + j];
  db[pc.db_off + j] = s;
}
