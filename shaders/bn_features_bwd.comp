#version 450
// Backward of bn_features_fwd.comp in one dispatch (stats + finalize + apply of the general path):
// an invocation per channel (or 4, bn_features.glsl) sums dy and dy xhat over its column, writes
// dgamma = sum dy xhat and dbeta = sum dy (+ param_beta times the old values), then
// dx = gamma invstd (dy - mean(dy) - xhat mean(dy xhat)) (+ dx_beta dx). BN_ACT (specialisation
// constant 0): x is the output of a ReLU (1) or leaky ReLU (2, slope pc.alpha) run in place, and
// dx is carried back through it too (cmp_bn_bwd_ex). want_dsum: also dsum = sum dx (+ param_beta
// times the old value), the bias gradient of the layer before (dx_beta is 0 then).
#include "bn_features.glsl"
layout(constant_id = 0) const uint BN_ACT = 0;
layout(push_constant) uniform Push {
  uint x_off, dy_off, dxin_off, dx_off; // x, dy, dx (read) texel; dx storage
  uint gamma_off, mean_off, invstd_off, dgamma_off, dbeta_off;
  uint N, C, want_dgamma, want_dbeta;
  float dx_beta, param_beta, alpha;
  uint dsum_off, want_dsum;
} pc;
TEX_DECL(8, x)
TEX_DECL(10, dy)
TEX_DECL(12, dxin)
PV_DECL(0, writeonly, dx)
PV_DECL(1, readonly, gamma)
PV_DECL(2, readonly, mean)
PV_DECL(3, readonly, invstd)
PV_DECL(4, , dgamma)
PV_DECL(5, , dbeta)
PV_DECL(6, , dsum)
void main() {
  uint c = bn_channel(pc.C);
  if (c >= pc.C) return;
  T mu = PV(mean, pc.mean_off, c), inv = PV(invstd, pc.invstd_off, c);
  T sdy = T(0.0), sdyx = T(0.0);
  for (uint n = 0; n < pc.N; n++) {
    uint i = n * pc.C + c;
    T d = AT(dy, pc.dy_off, i);
    sdy += d;
    sdyx += d * ((AT(x, pc.x_off, i) - mu) * inv);
  }
  if (pc.want_dgamma != 0u) {
    T v = sdyx;
    if (pc.param_beta != 0.0) v += pc.param_beta * PV(dgamma, pc.dgamma_off, c);
    PV(dgamma, pc.dgamma_off, c) = v;
  }
  if (pc.want_dbeta != 0u) {
    T v = sdy;
    if (pc.param_beta != 0.0) v += pc.param_beta * PV(dbeta, pc.dbeta_off, c);
    PV(dbeta, pc.dbeta_off, c) = v;
  }
  T k = PV(gamma, pc.gamma_off, c) * inv, mdy = sdy / float(pc.N), mdyx = sdyx / float(pc.N);
  T neg = T(BN_ACT == 1u ? 0.0 : pc.alpha), sdx = T(0.0);
  for (uint n = 0; n < pc.N; n++) {
    uint i = n * pc.C + c;
    T xv = AT(x, pc.x_off, i);
    T g = k * (AT(dy, pc.dy_off, i) - mdy - (xv - mu) * inv * mdyx);
    if (BN_ACT != 0u) g *= mix(neg, T(1.0), POS(xv));
    if (pc.dx_beta != 0.0) g += pc.dx_beta * AT(dxin, pc.dxin_off, i);
    PV(dx, pc.dx_off, i) = g;
    sdx += g;
  }
  if (pc.want_dsum != 0u) {
    T v = sdx;
    if (pc.param_beta != 0.0) v += pc.param_beta * PV(dsum, pc.dsum_off, c);
    PV(dsum, pc.dsum_off, c) = v;
  }
}
