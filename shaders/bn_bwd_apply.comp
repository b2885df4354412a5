#version 450
// dx = k (dy - mean(dy) - xhat mean(dy xhat)) + beta dx, xhat = (x - mean) invstd, with
// coef[3c..3c+2] = k, mean(dy), mean(dy xhat) from bn_bwd_finalize.comp. EW_VEC 1: hw a multiple
// of 4 (a run of 4 shares its channel); EW_VEC 2: features (hw 1) with C and the per-channel
// vectors' offsets multiples of 4 (a run of 4 is 4 consecutive channels, whose vectors are read
// as vec4s: on lavapipe each storage-buffer load is a loop over the SIMD lanes, and the heads'
// batch norms on [640, 128] took ~1 ms of CPU each with 5 scalar loads per element); EW_VEC 3: hw
// a multiple of 16, so an invocation's 4 runs share a channel whose vectors are read once.
// BN_ACT (specialisation constant 2): x is the output of a ReLU (1) or leaky ReLU (2, slope
// pc.alpha) run in place, and the gradient is carried back through it too (cmp_bn_bwd_ex).
#include "ew.glsl"
layout(constant_id = 2) const uint BN_ACT = 0;
layout(push_constant) uniform Push {
  uint x_off, dy_off, dxin_off, dx_off, mean_off, invstd_off, coef_off, count, C, hw;
  float beta, alpha;
} pc;
// The activation's derivative at its output x.
vec4 act_slope(vec4 x) {
  if (BN_ACT == 0u) return vec4(1.0);
  return mix(vec4(BN_ACT == 1u ? 0.0 : pc.alpha), vec4(1.0), greaterThan(x, vec4(0.0)));
}
EW_IN(0) // x
EW_IN(1) // dy
EW_IN(2) // dx (read when beta != 0)
EW_OUT(0, dx)
// The per-channel vectors may live in different blocks: bind them as storage buffers.
layout(binding = 1) readonly buffer Mn { float mean[]; };
layout(binding = 2) readonly buffer Iv { float invstd[]; };
layout(binding = 3) readonly buffer Cf { float coef[]; };
layout(binding = 1) readonly buffer Mn4 { vec4 mean4[]; };
layout(binding = 2) readonly buffer Iv4 { vec4 invstd4[]; };
layout(binding = 3) readonly buffer Cf4 { vec4 coef4[]; };
void main() {
  if (EW_VEC == 3u) {
    uint e0 = ew_first();
    if (e0 >= pc.count) return;
    uint c = e0 / pc.hw % pc.C;
    float k = coef[pc.coef_off + 3u * c], mdy = coef[pc.coef_off + 3u * c + 1u],
          mdyx = coef[pc.coef_off + 3u * c + 2u];
    float mu = mean[pc.mean_off + c], inv = invstd[pc.invstd_off + c];
    EW_FOR_EACH(pc.count) {
      vec4 xv = texelFetch(in4_0, int((pc.x_off + e) >> 2)), xhat = (xv - mu) * inv;
      vec4 g = k * (texelFetch(in4_1, int((pc.dy_off + e) >> 2)) - mdy - xhat * mdyx) * act_slope(xv);
      if (pc.beta != 0.0) g += pc.beta * texelFetch(in4_2, int((pc.dxin_off + e) >> 2));
      dx4[(pc.dx_off + e) >> 2] = g;
    }
    return;
  }
  EW_FOR_EACH(pc.count) {
    if (EW_VEC == 2u && e + 3u < pc.count) {
      uint c = e % pc.C, q = (pc.coef_off + 3u * c) >> 2;
      vec4 v0 = coef4[q], v1 = coef4[q + 1u], v2 = coef4[q + 2u];
      vec4 k = vec4(v0.x, v0.w, v1.z, v2.y), mdy = vec4(v0.y, v1.x, v1.w, v2.z),
           mdyx = vec4(v0.z, v1.y, v2.x, v2.w);
      vec4 mu = mean4[(pc.mean_off + c) >> 2], inv = invstd4[(pc.invstd_off + c) >> 2];
      vec4 xv = texelFetch(in4_0, int((pc.x_off + e) >> 2)), xhat = (xv - mu) * inv;
      vec4 g = k * (texelFetch(in4_1, int((pc.dy_off + e) >> 2)) - mdy - xhat * mdyx) * act_slope(xv);
      if (pc.beta != 0.0) g += pc.beta * texelFetch(in4_2, int((pc.dxin_off + e) >> 2));
      dx4[(pc.dx_off + e) >> 2] = g;
    } else if (EW_VEC == 1u && e + 3u < pc.count) {
      uint c = e / pc.hw % pc.C;
      float k = coef[pc.coef_off + 3u * c], mdy = coef[pc.coef_off + 3u * c + 1u],
            mdyx = coef[pc.coef_off + 3u * c + 2u];
      float mu = mean[pc.mean_off + c], inv = invstd[pc.invstd_off + c];
      vec4 xv = texelFetch(in4_0, int((pc.x_off + e) >> 2)), xhat = (xv - mu) * inv;
      vec4 g = k * (texelFetch(in4_1, int((pc.dy_off + e) >> 2)) - mdy - xhat * mdyx) * act_slope(xv);
      if (pc.beta != 0.0) g += pc.beta * texelFetch(in4_2, int((pc.dxin_off + e) >> 2));
      dx4[(pc.dx_off + e) >> 2] = g;
    } else {
      for (uint i = e; i < e + 4u && i < pc.count; i++) {
        uint c = i / pc.hw % pc.C;
        float k = coef[pc.coef_off + 3u * c], mdy = coef[pc.coef_off + 3u * c + 1u],
              mdyx = coef[pc.coef_off + 3u * c + 2u];
        float xv = EW_AT(0, pc.x_off + i);
        float xhat = (xv - mean[pc.mean_off + c]) * invstd[pc.invstd_off + c];
        float g = k * (EW_AT(1, pc.dy_off + i) - mdy - xhat * mdyx) * act_slope(vec4(xv)).x;
        if (pc.beta != 0.0) g += pc.beta * EW_AT(2, pc.dxin_off + i);
        dx1[pc.dx_off + i] = g;
      }
    }
  }
}
