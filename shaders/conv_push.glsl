// Push constants of the convolution shaders (conv2d_fwd, conv2d_bwd_data[_phase],
// conv2d_bwd_weight); the geometry is always that of the forward convolution
// x [N, C, H, W] * w [O, C, KH, KW] -> y [N, O, HO, WO]. Mirrored by vk_push_conv in compute/vk/vk_push.h.
layout(push_constant) uniform Push {
  uint m, n, k;         // the implicit GEMM: rows, columns, reduction length
  uint a_off, b_off;    // first float of the GEMM's A and B operands in their blocks (texel index)
  uint y_off;           // output, relative to the bound range
  uint bias_off;        // bias, relative to the bound range
  uint has_bias;        // add bias[row]
  float beta;           // out = acc (+ bias) + beta * out
  uint N, C, H, W;      // forward input
  uint O, HO, WO;       // forward output
  uint KH, KW, SH, SW, PH, PW; // kernel, stride, padding
  uint k_chunk;         // conv2d_bwd_weight: reduction length per gl_WorkGroupID.z slice;
                        // conv2d_bwd_data_phase with VEC_S: the phase column px
  uint tiles_x;         // fwd, bwd_data: column tiles; workgroup x walks tiles x, x + groups, ...
  float act_alpha;      // fwd: slope of the fused leaky ReLU (epilogue.glsl)
} pc;
