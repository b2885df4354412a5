#version 450
// y = x sc[c] + sh[c] with sc = gamma invstd, sh = beta - mean sc; mean/invstd are the batch
// statistics (training, mode 0) or come from the running averages (inference, mode 1).
#include "elementwise.glsl"
layout(push_constant) uniform Push {
  uint x_off, y_off, count, C, hw;
  uint gamma_off, beta_off, mean_off, var_off; // var_off: invstd (mode 0) or run_var (mode 1)
  uint mode;
  float eps;
} pc;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Yb { float y[]; };
layout(std430, binding = 2) readonly buffer G { float gamma[]; };
layout(std430, binding = 3) readonly buffer Bt { float beta_[]; };
layout(std430, binding = 4) readonly buffer Mn { float mean[]; };
layout(std430, binding = 5) readonly buffer Vr { float var[]; };
void main() {
  uint i = ew_index();
  if (i >= pc.count) return;
  uint c = i / pc.hw % pc.C;
  float v = var[pc.var_off + c];
  float inv = pc.mode == 0u ? v : 1.0 / sqrt(v + pc.eps);
  float sc = gamma[pc.gamma_off + c] * inv, sh = beta_[pc.beta_off + c] - mean[pc.mean_off + c] * sc;
  y[pc.y_off + i] = x[pc.x_off + i] * sc + sh;
}
