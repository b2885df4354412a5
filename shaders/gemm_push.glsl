// Push constants of gemm.comp; mirrored by vk_push_gemm in compute/vk/vk_push.h (the runtime test
// checks the member offsets in the compiled SPIR-V).
layout(push_constant) uniform Push {
  uint m, n, k;     // C is m x n, op(A) m x k, op(B) k x n
  uint a_off, lda;  // A: first element and leading dimension, in floats, in A's block
  uint b_off, ldb;  // B: likewise
  uint c_off, ldc;  // C: first element relative to the bound range, leading dimension
  float alpha, beta;
  uint a_batch, b_batch, c_batch; // strides between gl_WorkGroupID.z batches, in floats
  uint bias_mode;   // 0: none, 1: bias[col], 2: bias[row]
  uint bias_off;    // first bias element relative to the bound range
  float act_alpha;  // slope of the fused leaky ReLU (epilogue.glsl)
} pc;
