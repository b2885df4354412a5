#version 450
// Per channel: sums the slices of bn_bwd_stats.comp; dgamma = sum dy xhat, dbeta = sum dy (each
// + beta times the old value, when wanted), and the coefficients of bn_bwd_apply.comp:
// coef[3c..3c+2] = gamma invstd, mean(dy), mean(dy xhat).
#include "elementwise.glsl"
layout(push_constant) uniform Push {
  uint part_off, gamma_off, invstd_off, dgamma_off, dbeta_off, coef_off;
  uint C, slices, want_dgamma, want_dbeta;
  float m, beta;
} pc;
layout(std430, binding = 0) readonly buffer P { float part[]; };
layout(std430, binding = 1) readonly buffer G { float gamma[]; };
layout(std430, binding = 2) readonly buffer Iv { float invstd[]; };
layout(std430, binding = 3) buffer DG { float dgamma[]; };
layout(std430, binding = 4) buffer DB { float dbeta[]; };
layout(std430, binding = 5) writeonly buffer Cf { float coef[]; };
void main() {
  uint c = ew_index();
  if (c >= pc.C) return;
  float sdy = 0.0, sdyx = 0.0;
  for (uint s = 0; s < pc.slices; s++) {
    sdy += part[pc.part_off + (c * pc.slices + s) * 2u];
    sdyx += part[pc.part_off + (c * pc.slices + s) * 2u + 1u];
  }
  if (pc.want_dgamma != 0u) {
    float v = sdyx;
    if (pc.beta != 0.0) v += pc.beta * dgamma[pc.dgamma_off + c];
    dgamma[pc.dgamma_off + c] = v;
  }
  if (pc.want_dbeta != 0u) {
    float v = sdy;
    if (pc.beta != 0.0) v += pc.beta * dbeta[pc.dbeta_off + c];
    dbeta[pc.dbeta_off + c] = v;
  }
  coef[pc.coef_off + 3u * c] = gamma[pc.gamma_off + c] * invstd[pc.invstd_off + c];
  coef[pc.coef_off + 3u * c + 1u] = sdy / pc.m;
  coef[pc.coef_off + 3u * c + 2u] = sdyx / pc.m;
}
