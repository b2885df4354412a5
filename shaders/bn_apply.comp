#version 450
// y = x sc[c] + sh[c] with sc = gamma invstd, sh = beta - mean sc; mean/invstd are the batch
// statistics (training, BN_MODE 0) or come from the running averages (inference, BN_MODE 1);
// BN_MODE is specialisation constant 1. EW_VEC 1: hw a multiple of 4 (a run of 4 shares its
// channel); EW_VEC 2: features (hw 1) with C and the per-channel vectors' offsets multiples of 4
// (a run of 4 is 4 consecutive channels); EW_VEC 3: hw a multiple of 16, so an invocation's
// 4 runs share a channel whose parameters are read once (on lavapipe each scalar read is a gather
// or a loop over the SIMD lanes).
#include "ew.glsl"
layout(constant_id = 1) const uint BN_MODE = 0;
layout(push_constant) uniform Push {
  uint x_off, y_off, count, C, hw;
  uint gamma_off, beta_off, mean_off, var_off; // var_off: invstd (mode 0) or run_var (mode 1)
  float eps;
} pc;
EW_IN(0) // x
EW_IN(1) // gamma
EW_IN(2) // beta
EW_IN(3) // mean
layout(binding = 1) readonly buffer Var { float var_[]; }; // invstd or run_var
layout(binding = 1) readonly buffer Var4 { vec4 var4[]; };
EW_OUT(0, y)

vec4 inv_of(vec4 v) { return BN_MODE == 0u ? v : 1.0 / sqrt(v + pc.eps); }

void main() {
  if (EW_VEC == 3u) {
    uint e0 = ew_first();
    if (e0 >= pc.count) return;
    uint c = e0 / pc.hw % pc.C;
    float sc = EW_AT(1, pc.gamma_off + c) * inv_of(vec4(var_[pc.var_off + c])).x;
    float sh = EW_AT(2, pc.beta_off + c) - EW_AT(3, pc.mean_off + c) * sc;
    EW_FOR_EACH(pc.count) {
      y4[(pc.y_off + e) >> 2] = texelFetch(in4_0, int((pc.x_off + e) >> 2)) * sc + sh;
    }
    return;
  }
  EW_FOR_EACH(pc.count) {
    if (EW_VEC == 1u && e + 3u < pc.count) {
      uint c = e / pc.hw % pc.C;
      float sc = EW_AT(1, pc.gamma_off + c) * inv_of(vec4(var_[pc.var_off + c])).x;
      float sh = EW_AT(2, pc.beta_off + c) - EW_AT(3, pc.mean_off + c) * sc;
      y4[(pc.y_off + e) >> 2] = texelFetch(in4_0, int((pc.x_off + e) >> 2)) * sc + sh;
    } else if (EW_VEC == 2u && e + 3u < pc.count) {
      uint c = e % pc.C;
      vec4 sc = texelFetch(in4_1, int((pc.gamma_off + c) >> 2)) * inv_of(var4[(pc.var_off + c) >> 2]);
      vec4 sh = texelFetch(in4_2, int((pc.beta_off + c) >> 2)) -
                texelFetch(in4_3, int((pc.mean_off + c) >> 2)) * sc;
      y4[(pc.y_off + e) >> 2] = texelFetch(in4_0, int((pc.x_off + e) >> 2)) * sc + sh;
    } else {
      for (uint i = e; i < e + 4u && i < pc.count; i++) {
        uint c = i / pc.hw % pc.C;
        float sc = EW_AT(1, pc.gamma_off + c) * inv_of(vec4(var_[pc.var_off + c])).x;
        float sh = EW_AT(2, pc.beta_off + c) - EW_AT(3, pc.mean_off + c) * sc;
        y1[pc.y_off + i] = EW_AT(0, pc.x_off + i) * sc + sh;
      }
    }
  }
}
