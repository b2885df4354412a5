#version 450
// Backward of bn_features_fwd.comp in one dispatch (stats + finalize + apply of the general path):
// an invocation per channel sums dy and dy xhat over its column, writes dgamma = sum dy xhat and
// dbeta = sum dy (+ param_beta times the old values), then
// dx = gamma invstd (dy - mean(dy) - xhat mean(dy xhat)) (+ dx_beta dx). BN_ACT (specialisation
// constant 0): x is the output of a ReLU (1) or leaky ReLU (2, slope pc.alpha) run in place, and
// dx is carried back through it too (cmp_bn_bwd_ex).
layout(local_size_x = 16) in;
layout(constant_id = 0) const uint BN_ACT = 0;
layout(push_constant) uniform Push {
  uint x_off, dy_off, dxin_off, dx_off; // x, dy, dx (read) texel; dx storage
  uint gamma_off, mean_off, invstd_off, dgamma_off, dbeta_off;
  uint N, C, want_dgamma, want_dbeta;
  float dx_beta, param_beta, alpha;
} pc;
layout(binding = 9) uniform samplerBuffer x1;
layout(binding = 11) uniform samplerBuffer dy1;
layout(binding = 13) uniform samplerBuffer dxin1;
layout(std430, binding = 0) writeonly buffer DX { float dx[]; };
layout(std430, binding = 1) readonly buffer G { float gamma[]; };
layout(std430, binding = 2) readonly buffer Mn { float mean[]; };
layout(std430, binding = 3) readonly buffer Iv { float invstd[]; };
layout(std430, binding = 4) buffer DG { float dgamma[]; };
layout(std430, binding = 5) buffer DB { float dbeta[]; };
void main() {
  uint c = gl_GlobalInvocationID.x;
  if (c >= pc.C) return;
  float mu = mean[pc.mean_off + c], inv = invstd[pc.invstd_off + c], sdy = 0.0, sdyx = 0.0;
  for (uint n = 0; n < pc.N; n++) {
    uint i = n * pc.C + c;
    float d = texelFetch(dy1, int(pc.dy_off + i)).x;
    sdy += d;
    sdyx += d * ((texelFetch(x1, int(pc.x_off + i)).x - mu) * inv);
  }
  if (pc.want_dgamma != 0u) {
    float v = sdyx;
    if (pc.param_beta != 0.0) v += pc.param_beta * dgamma[pc.dgamma_off + c];
    dgamma[pc.dgamma_off + c] = v;
  }
  if (pc.want_dbeta != 0u) {
    float v = sdy;
    if (pc.param_beta != 0.0) v += pc.param_beta * dbeta[pc.dbeta_off + c];
    dbeta[pc.dbeta_off + c] = v;
  }
  float k = gamma[pc.gamma_off + c] * inv, mdy = sdy / float(pc.N), mdyx = sdyx / float(pc.N);
  float neg = BN_ACT == 1u ? 0.0 : pc.alpha;
  for (uint n = 0; n < pc.N; n++) {
    uint i = n * pc.C + c;
    float xv = texelFetch(x1, int(pc.x_off + i)).x;
    float g = k * (texelFetch(dy1, int(pc.dy_off + i)).x - mdy - (xv - mu) * inv * mdyx);
    if (BN_ACT != 0u && !(xv > 0.0)) g *= neg;
    if (pc.dx_beta != 0.0) g += pc.dx_beta * texelFetch(dxin1, int(pc.dxin_off + i)).x;
    dx[pc.dx_off + i] = g;
  }
}
