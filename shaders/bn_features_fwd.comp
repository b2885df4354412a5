#version 450
// Training batch norm of features x [N, C] (h = w = 1) in one dispatch: an invocation per channel
// (or 4, bn_features.glsl) walks its column for the mean, again for the variance (two passes, as
// bn_stats.comp), writes the saved statistics and the running averages (PyTorch's: the running
// variance unbiased), then the normalised column. The heads' batch norms ([64 or 640, 128]) are a
// few microseconds of work each; as stats + finalize + apply they paid lavapipe's per-dispatch
// cost three times.
#include "bn_features.glsl"
layout(push_constant) uniform Push {
  uint x_off, y_off, gamma_off, beta_off, rmean_off, rvar_off, mean_off, invstd_off;
  uint N, C;
  float momentum, eps;
} pc;
TEX_DECL(8, x)
PV_DECL(0, writeonly, y)
PV_DECL(1, readonly, gamma)
PV_DECL(2, readonly, shift)
PV_DECL(3, , run_mean)
PV_DECL(4, , run_var)
PV_DECL(5, writeonly, save_mean)
PV_DECL(6, writeonly, save_invstd)
void main() {
  uint c = bn_channel(pc.C);
  if (c >= pc.C) return;
  T s = T(0.0);
  for (uint n = 0; n < pc.N; n++) s += AT(x, pc.x_off, n * pc.C + c);
  T mean = s / float(pc.N), m2 = T(0.0);
  for (uint n = 0; n < pc.N; n++) {
    T d = AT(x, pc.x_off, n * pc.C + c) - mean;
    m2 += d * d;
  }
  T inv = 1.0 / sqrt(m2 / float(pc.N) + pc.eps);
  PV(save_mean, pc.mean_off, c) = mean;
  PV(save_invstd, pc.invstd_off, c) = inv;
  PV(run_mean, pc.rmean_off, c) =
      (1.0 - pc.momentum) * PV(run_mean, pc.rmean_off, c) + pc.momentum * mean;
  PV(run_var, pc.rvar_off, c) = (1.0 - pc.momentum) * PV(run_var, pc.rvar_off, c) +
                                 pc.momentum * (m2 / (float(pc.N) - 1.0));
  T sc = PV(gamma, pc.gamma_off, c) * inv, sh = PV(shift, pc.beta_off, c) - mean * sc;
  for (uint n = 0; n < pc.N; n++)
    PV(y, pc.y_off, n * pc.C + c) = AT(x, pc.x_off, n * pc.C + c) * sc + sh;
}
