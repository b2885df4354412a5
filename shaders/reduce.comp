#version 450
// x seen as [outer, r, inner]; the r axis cut into `parts` slices of `chunk` (parts = 1: whole):
// y[(o * parts + p) * inner + i] = scale * sum_(k in slice p) x[o, k, i] + beta y[...].
// A long reduction with few outputs runs as two passes: parts > 1 into scratch, then parts = 1.
// x is read through its block's R32F texel view (x_off absolute), y as a storage buffer.
// VEC_R (specialisation constant 0): inner = 1 with x_off, r and chunk multiples of 4 (contiguous
// runs, e.g. the per-plane sums of a convolution's bias gradient): RGBA32F texels and 4 partial
// sums (on lavapipe a scalar fetch is a gather).
#include "elementwise.glsl"
layout(constant_id = 0) const bool VEC_R = false;
layout(push_constant) uniform Push {
  uint x_off, y_off;
  uint outer, r, inner, parts, chunk;
  float scale, beta;
} pc;
layout(binding = 8) uniform samplerBuffer x4;
layout(binding = 9) uniform samplerBuffer x1;
layout(std430, binding = 1) buffer Yb { float y[]; };
void main() {
  uint id = ew_index();
  if (id >= pc.outer * pc.parts * pc.inner) return;
  uint i = id % pc.inner, op = id / pc.inner;
  uint p = op % pc.parts, o = op / pc.parts;
  uint k0 = p * pc.chunk, k1 = min(pc.r, k0 + pc.chunk);
  uint base = pc.x_off + o * pc.r * pc.inner + i;
  float s = 0.0;
  if (VEC_R) {
    vec4 sv = vec4(0.0);
    for (uint k = k0; k < k1; k += 4u) sv += texelFetch(x4, int((base + k) >> 2));
    s = (sv.x + sv.y) + (sv.z + sv.w);
  } else {
    for (uint k = k0; k < k1; k++) s += texelFetch(x1, int(base + k * pc.inner)).x;
  }
  s *= pc.scale;
  if (pc.beta != 0.0) s += pc.beta * y[pc.y_off + id];
  y[pc.y_off + id] = s;
}
