#version 450
// Training batch norm of features x [N, C] (h = w = 1) in one dispatch: an invocation per channel
// walks its column for the mean, again for the variance (two passes, as bn_stats.comp), writes the
// saved statistics and the running averages (PyTorch's: the running variance unbiased), then the
// normalised column. The heads' batch norms ([64 or 640, 128]) are a few microseconds of work each;
// as stats + finalize + apply they paid lavapipe's per-dispatch cost three times.
// 16 invocations per workgroup, so that 128 channels still spread over 8 workgroups (threads).
layout(local_size_x = 16) in;
layout(push_constant) uniform Push {
  uint x_off, y_off, gamma_off, beta_off, rmean_off, rvar_off, mean_off, invstd_off;
  uint N, C;
  float momentum, eps;
} pc;
layout(binding = 9) uniform samplerBuffer x1; // absolute offsets
layout(std430, binding = 0) writeonly buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer G { float gamma[]; };
layout(std430, binding = 2) readonly buffer B { float beta_[]; };
layout(std430, binding = 3) buffer RM { float run_mean[]; };
layout(std430, binding = 4) buffer RV { float run_var[]; };
layout(std430, binding = 5) writeonly buffer SM { float save_mean[]; };
layout(std430, binding = 6) writeonly buffer SI { float save_invstd[]; };
void main() {
  uint c = gl_GlobalInvocationID.x;
  if (c >= pc.C) return;
  float s = 0.0;
  for (uint n = 0; n < pc.N; n++) s += texelFetch(x1, int(pc.x_off + n * pc.C + c)).x;
  float mean = s / float(pc.N), m2 = 0.0;
  for (uint n = 0; n < pc.N; n++) {
    float d = texelFetch(x1, int(pc.x_off + n * pc.C + c)).x - mean;
    m2 += d * d;
  }
  float inv = 1.0 / sqrt(m2 / float(pc.N) + pc.eps);
  save_mean[pc.mean_off + c] = mean;
  save_invstd[pc.invstd_off + c] = inv;
  run_mean[pc.rmean_off + c] = (1.0 - pc.momentum) * run_mean[pc.rmean_off + c] + pc.momentum * mean;
  run_var[pc.rvar_off + c] =
      (1.0 - pc.momentum) * run_var[pc.rvar_off + c] + pc.momentum * (m2 / (float(pc.N) - 1.0));
  float sc = gamma[pc.gamma_off + c] * inv, sh = beta_[pc.beta_off + c] - mean * sc;
  for (uint n = 0; n < pc.N; n++)
    y[pc.y_off + n * pc.C + c] = texelFetch(x1, int(pc.x_off + n * pc.C + c)).x * sc + sh;
}
