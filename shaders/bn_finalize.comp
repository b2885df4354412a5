#version 450
// Per channel: merges the slices of bn_stats.comp, writes the batch mean and 1/sqrt(var + eps) and
// updates the running averages as PyTorch does (the running variance unbiased).
#include "elementwise.glsl"
layout(push_constant) uniform Push {
  uint part_off, mean_off, invstd_off, rmean_off, rvar_off;
  uint C, slices;
  float momentum, eps;
} pc;
layout(std430, binding = 0) readonly buffer P { float part[]; };
layout(std430, binding = 1) writeonly buffer SM { float save_mean[]; };
layout(std430, binding = 2) writeonly buffer SI { float save_invstd[]; };
layout(std430, binding = 3) buffer RM { float run_mean[]; };
layout(std430, binding = 4) buffer RV { float run_var[]; };
void main() {
  uint c = ew_index();
  if (c >= pc.C) return;
  float n = 0.0, mean = 0.0, m2 = 0.0;
  for (uint s = 0; s < pc.slices; s++) {
    uint o = pc.part_off + (c * pc.slices + s) * 3u;
    float nb = part[o], mb = part[o + 1u], m2b = part[o + 2u];
    if (nb == 0.0) continue;
    float nab = n + nb, delta = mb - mean;
    mean += delta * (nb / nab);
    m2 += m2b + delta * delta * (n * nb / nab);
    n = nab;
  }
  float var = m2 / n;
  save_mean[pc.mean_off + c] = mean;
  save_invstd[pc.invstd_off + c] = 1.0 / sqrt(var + pc.eps);
  run_mean[pc.rmean_off + c] = (1.0 - pc.momentum) * run_mean[pc.rmean_off + c] + pc.momentum * mean;
  run_var[pc.rvar_off + c] =
      (1.0 - pc.momentum) * run_var[pc.rvar_off + c] + pc.momentum * (m2 / (n - 1.0));
}
