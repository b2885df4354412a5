// An activation fused into the store of a GEMM or convolution (gemm.comp, conv2d_fwd.comp), so that
// a layer followed by its ReLU writes the activated output in one pass instead of two dispatches.
// Specialisation constant 8, EPI_ACT: 0 none, 1 ReLU, 2 leaky ReLU with slope pc.act_alpha (the
// includer's push constants). Mirrors vk_epilogue in compute/vk/vk_push.h.
layout(constant_id = 8) const uint EPI_ACT = 0;

float epi_act(float v, float alpha) {
  if (EPI_ACT == 1u) return max(v, 0.0);
  if (EPI_ACT == 2u) return v > 0.0 ? v : alpha * v;
  return v;
}
vec4 epi_act4(vec4 v, float alpha) {
  bvec4 pos = greaterThan(v, vec4(0.0));
  if (EPI_ACT == 1u) return mix(vec4(0.0), v, pos);
  if (EPI_ACT == 2u) return mix(alpha * v, v, pos);
  return v;
}
