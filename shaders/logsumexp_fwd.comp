#version 450
// y[n] = max + log sum exp(x[n, k] - max) over the len elements of sample n (x through its R32F
// texel view, absolute offset).
#include "elementwise.glsl"
layout(push_constant) uniform Push { uint x_off, y_off, rows, len; } pc;
layout(binding = 9) uniform samplerBuffer x1;
layout(std430, binding = 1) writeonly buffer Yb { float y[]; };
void main() {
  uint n = ew_index();
  if (n >= pc.rows) return;
  uint b = pc.x_off + n * pc.len;
  float m = texelFetch(x1, int(b)).x;
  for (uint k = 1; k < pc.len; k++) m = max(m, texelFetch(x1, int(b + k)).x);
  float s = 0.0;
  for (uint k = 0; k < pc.len; k++) s += exp(texelFetch(x1, int(b + k)).x - m);
  y[pc.y_off + n] = m + log(s);
}
