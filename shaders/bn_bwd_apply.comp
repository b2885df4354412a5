#version 450
// dx = k (dy - mean(dy) - xhat mean(dy xhat)) + beta dx, k = gamma invstd (coefficients from
// bn_bwd_finalize.comp).
#include "elementwise.glsl"
layout(push_constant) uniform Push {
  uint x_off, dy_off, dx_off, mean_off, invstd_off, coef_off, count, C, hw;
  float beta;
} pc;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) buffer DX { float dx[]; };
layout(std430, binding = 3) readonly buffer Mn { float mean[]; };
layout(std430, binding = 4) readonly buffer Iv { float invstd[]; };
layout(std430, binding = 5) readonly buffer Cf { float coef[]; };
void main() {
  uint i = ew_index();
  if (i >= pc.count) return;
  uint c = i / pc.hw % pc.C;
  float k = coef[pc.coef_off + 3u * c], mdy = coef[pc.coef_off + 3u * c + 1u],
        mdyx = coef[pc.coef_off + 3u * c + 2u];
  float xhat = (x[pc.x_off + i] - mean[pc.mean_off + c]) * invstd[pc.invstd_off + c];
  float g = k * (dy[pc.dy_off + i] - mdy - xhat * mdyx);
  if (pc.beta != 0.0) g += pc.beta * dx[pc.dx_off + i];
  dx[pc.dx_off + i] = g;
}
