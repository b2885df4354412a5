#version 450
// dx = k (dy - mean(dy) - xhat mean(dy xhat)) + beta dx, xhat = (x - mean) invstd, with
// coef[3c..3c+2] = k, mean(dy), mean(dy xhat) from bn_bwd_finalize.comp. vec: hw a multiple of 4.
#include "ew.glsl"
layout(push_constant) uniform Push {
  uint x_off, dy_off, dxin_off, dx_off, mean_off, invstd_off, coef_off, count, C, hw;
  float beta;
} pc;
EW_IN(0) // x
EW_IN(1) // dy
EW_IN(2) // dx (read when beta != 0)
EW_OUT(0, dx)
// The per-channel vectors may live in different blocks: bind them as storage buffers.
layout(binding = 1) readonly buffer Mn { float mean[]; };
layout(binding = 2) readonly buffer Iv { float invstd[]; };
layout(binding = 3) readonly buffer Cf { float coef[]; };
void main() {
  EW_FOR_EACH(pc.count) {
    if (EW_VEC != 0u && e + 3u < pc.count) {
      uint c = e / pc.hw % pc.C;
      float k = coef[pc.coef_off + 3u * c], mdy = coef[pc.coef_off + 3u * c + 1u],
            mdyx = coef[pc.coef_off + 3u * c + 2u];
      float mu = mean[pc.mean_off + c], inv = invstd[pc.invstd_off + c];
      vec4 xhat = (texelFetch(in4_0, int((pc.x_off + e) >> 2)) - mu) * inv;
      vec4 g = k * (texelFetch(in4_1, int((pc.dy_off + e) >> 2)) - mdy - xhat * mdyx);
      if (pc.beta != 0.0) g += pc.beta * texelFetch(in4_2, int((pc.dxin_off + e) >> 2));
      dx4[(pc.dx_off + e) >> 2] = g;
    } else {
      for (uint i = e; i < e + 4u && i < pc.count; i++) {
        uint c = i / pc.hw % pc.C;
        float k = coef[pc.coef_off + 3u * c], mdy = coef[pc.coef_off + 3u * c + 1u],
              mdyx = coef[pc.coef_off + 3u * c + 2u];
        float xhat = (EW_AT(0, pc.x_off + i) - mean[pc.mean_off + c]) * invstd[pc.invstd_off + c];
        float g = k * (EW_AT(1, pc.dy_off + i) - mdy - xhat * mdyx);
        if (pc.beta != 0.0) g += pc.beta * EW_AT(2, pc.dxin_off + i);
        dx1[pc.dx_off + i] = g;
      }
    }
  }
}
