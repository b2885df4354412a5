/* C mirrors of the shaders' push-constant blocks (shaders/<name>_push.glsl or the block at the top
 * of the .comp). Each has a size assertion against the 128-byte limit and exact offsets; the
 * runtime test also compares these offsets with the Offset decorations in the compiled SPIR-V. */
#ifndef VK_PUSH_H
#define VK_PUSH_H

#include <stddef.h>
#include <stdint.h>

#define VK_PUSH_CHECK(type, size)                                                                  \
  _Static_assert(sizeof(type) == (size), #type " must match its GLSL block");                      \
  _Static_assert(sizeof(type) <= 128, #type " exceeds the 128-byte push-constant minimum")

/* shaders/epilogue.glsl: the activation fused into a GEMM's or a convolution's store, given as
 * specialisation constant VK_EPI_SPEC_ID (the slope of leaky ReLU goes in the push constants). */
typedef enum vk_epilogue { VK_EPI_NONE = 0, VK_EPI_RELU = 1, VK_EPI_LEAKY_RELU = 2 } vk_epilogue;
#define VK_EPI_SPEC_ID 8

/* shaders/gemm_push.glsl */
typedef struct vk_push_gemm {
  uint32_t m, n, k;    /* C is m x n, op(A) m x k, op(B) k x n */
  uint32_t a_off, lda; /* A's first element in its block, leading dim (floats) */
  uint32_t b_off, ldb; /* B likewise */
  uint32_t c_off, ldc; /* C's first element relative to the bound range, leading dim */
  float alpha, beta;   /* C = alpha op(A) op(B) + beta C */
  uint32_t a_batch, b_batch, c_batch; /* strides between batches (workgroup z), floats */
  uint32_t bias_mode;                 /* 0: none, 1: bias[col], 2: bias[row] */
  uint32_t bias_off;                  /* first bias element relative to the bound range */
  float act_alpha;                    /* slope of the fused leaky ReLU */
} vk_push_gemm;
VK_PUSH_CHECK(vk_push_gemm, 68);
_Static_assert(offsetof(vk_push_gemm, a_off) == 12 && offsetof(vk_push_gemm, alpha) == 36 &&
                   offsetof(vk_push_gemm, c_batch) == 52,
               "vk_push_gemm offsets");

/* shaders/fill.comp */
typedef struct vk_push_fill {
  uint32_t off, count; /* output offset, elements, 16-byte aligned */
  float value;         /* the value */
} vk_push_fill;
VK_PUSH_CHECK(vk_push_fill, 12);

/* shaders/rng.comp (rng_uniform, rng_normal) */
typedef struct vk_push_rng {
  uint32_t off, count;         /* first float relative to the bound range, element count */
  uint32_t seed_lo, seed_hi;   /* 64-bit seed */
  uint32_t stream;             /* stream id */
  uint32_t index_lo, index_hi; /* 64-bit index of element 0 */
  float a, b;                  /* uniform [a, b) or normal (mean a, std b) */
} vk_push_rng;
VK_PUSH_CHECK(vk_push_rng, 36);

/* shaders/axpby.comp */
typedef struct vk_push_axpby {
  uint32_t x_off, yin_off, y_off, count; /* inputs (texel), output, elements, aligned */
  float alpha, beta;                     /* y = alpha x + beta y */
} vk_push_axpby;
VK_PUSH_CHECK(vk_push_axpby, 24);

/* shaders/clamp.comp */
typedef struct vk_push_clamp {
  uint32_t x_off, y_off, count; /* input, output, elements, aligned */
  float lo, hi;                 /* bounds */
} vk_push_clamp;
VK_PUSH_CHECK(vk_push_clamp, 20);

/* shaders/copy_channels.comp */
typedef struct vk_push_copy_channels {
  uint32_t src_off, dstin_off, dst_off; /* first float of sample 0's run: inputs, output */
  uint32_t count, run;                  /* total floats, floats per sample, aligned */
  uint32_t src_stride, dst_stride;      /* floats between samples */
  float beta;                           /* dst = src + beta dst */
} vk_push_copy_channels;
VK_PUSH_CHECK(vk_push_copy_channels, 32);

/* shaders/act_fwd.comp */
typedef struct vk_push_act_fwd {
  uint32_t x_off, y_off, count; /* input, output, elements, aligned */
  float alpha;                  /* leaky slope */
} vk_push_act_fwd;
VK_PUSH_CHECK(vk_push_act_fwd, 16);

/* shaders/act_bwd.comp */
typedef struct vk_push_act_bwd {
  uint32_t x_off, y_off, dy_off, dxin_off, dx_off; /* inputs, output */
  uint32_t count;                                  /* elements, aligned, cmp_act */
  float alpha, beta;                               /* leaky slope, dx = act' dy + beta dx */
} vk_push_act_bwd;
VK_PUSH_CHECK(vk_push_act_bwd, 32);

/* shaders/binary.comp */
typedef struct vk_push_binary {
  uint32_t a_off, b_off, y_off, count; /* inputs, output, elements of a, aligned */
  uint32_t C, H, W;                    /* a's c, h, w */
  uint32_t sn, sc, sh, sw;             /* b's strides seen with a's shape (0: broadcast) */
  uint32_t op;                         /* cmp_binop */
} vk_push_binary;
VK_PUSH_CHECK(vk_push_binary, 48);

/* shaders/binary_bwd_a.comp */
typedef struct vk_push_binary_bwd_a {
  uint32_t a_off, b_off, dy_off, dain_off, da_off; /* inputs, output */
  uint32_t count;                                  /* elements of a, aligned */
  uint32_t C, H, W;                                /* a's c, h, w */
  uint32_t sn, sc, sh, sw;                         /* b's strides seen with a's shape */
  uint32_t op;                                     /* cmp_binop */
  float beta;                                      /* da = grad + beta da */
} vk_push_binary_bwd_a;
VK_PUSH_CHECK(vk_push_binary_bwd_a, 60);

/* shaders/binary_bwd_b.comp */
typedef struct vk_push_binary_bwd_b {
  uint32_t a_off, b_off, dy_off, db_off, count; /* a, dy texel; b, db storage; elements of b */
  uint32_t an, ac, ah, aw;                      /* a's shape */
  uint32_t bn, bc, bh, bw;                      /* b's shape */
  uint32_t op;                                  /* cmp_binop */
  float beta;                                   /* db = grad + beta db */
} vk_push_binary_bwd_b;
VK_PUSH_CHECK(vk_push_binary_bwd_b, 60);

/* shaders/reduce.comp */
typedef struct vk_push_reduce {
  uint32_t x_off, y_off;    /* x texel, y storage */
  uint32_t outer, r, inner; /* x as [outer, r, inner] */
  uint32_t parts, chunk;    /* slices of the r axis and their length */
  float scale, beta;        /* y = scale sum + beta y */
} vk_push_reduce;
VK_PUSH_CHECK(vk_push_reduce, 36);

/* shaders/broadcast.comp */
typedef struct vk_push_broadcast {
  uint32_t x_off, yin_off, y_off, count; /* inputs, output, elements of y, aligned */
  uint32_t r, inner;                     /* repeats, inner size */
  float scale, beta;                     /* y = scale x + beta y */
} vk_push_broadcast;
VK_PUSH_CHECK(vk_push_broadcast, 32);

/* shaders/sqdiff_partial.comp */
typedef struct vk_push_sqdiff_partial {
  uint32_t a_off, b_off, part_off; /* a, b texel; part storage */
  uint32_t count, parts, chunk;    /* elements, slices, slice length */
} vk_push_sqdiff_partial;
VK_PUSH_CHECK(vk_push_sqdiff_partial, 24);

/* shaders/mse_bwd.comp */
typedef struct vk_push_mse_bwd {
  uint32_t a_off, b_off, dain_off, da_off, count; /* inputs, output, elements, aligned */
  float k, beta;                                  /* da = k (a - b) + beta da */
} vk_push_mse_bwd;
VK_PUSH_CHECK(vk_push_mse_bwd, 28);

/* shaders/logsumexp_fwd.comp */
typedef struct vk_push_logsumexp_fwd {
  uint32_t x_off, y_off, rows, len; /* x texel, y storage, samples, elements per sample */
} vk_push_logsumexp_fwd;
VK_PUSH_CHECK(vk_push_logsumexp_fwd, 16);

/* shaders/logsumexp_bwd.comp */
typedef struct vk_push_logsumexp_bwd {
  uint32_t x_off, y_off, dy_off, dxin_off, dx_off; /* inputs, output */
  uint32_t count, len;                             /* elements, aligned, per sample */
  float beta;                                      /* dx = grad + beta dx */
} vk_push_logsumexp_bwd;
VK_PUSH_CHECK(vk_push_logsumexp_bwd, 32);

/* shaders/adam.comp */
typedef struct vk_push_adam {
  uint32_t pin_off, g_off, min_off, vin_off; /* inputs (texel) */
  uint32_t p_off, m_off, v_off;              /* outputs (storage) */
  uint32_t count;                            /* elements, aligned */
  float b1, b2, eps;                         /* Adam's constants */
  float step_size, bc2_sqrt;                 /* lr / (1 - b1^t), sqrt(1 - b2^t) */
} vk_push_adam;
VK_PUSH_CHECK(vk_push_adam, 52);

/* shaders/polyak.comp */
typedef struct vk_push_polyak {
  uint32_t tin_off, s_off, t_off, count; /* inputs, output, elements, aligned */
  float tau;                             /* target = tau target + (1 - tau) source */
} vk_push_polyak;
VK_PUSH_CHECK(vk_push_polyak, 20);

/* shaders/u8_hwc.comp */
typedef struct vk_push_u8_hwc {
  uint32_t src_off;    /* first 32-bit word of the images */
  uint32_t dst_off;    /* first float of channel c0 of sample 0 */
  uint32_t count, hw;  /* pixels in all, per image */
  uint32_t dst_stride; /* floats between samples */
  float scale, bias;   /* value = byte scale + bias */
} vk_push_u8_hwc;
VK_PUSH_CHECK(vk_push_u8_hwc, 28);

/* shaders/bn_stats.comp */
typedef struct vk_push_bn_stats {
  uint32_t x_off, part_off; /* x texel, part storage */
  uint32_t C, hw, m;        /* channels, h w, n h w */
  uint32_t slices, chunk;   /* slices per channel, elements per slice */
} vk_push_bn_stats;
VK_PUSH_CHECK(vk_push_bn_stats, 28);

/* shaders/bn_finalize.comp */
typedef struct vk_push_bn_finalize {
  uint32_t part_off, mean_off, invstd_off, rmean_off, rvar_off; /* offsets */
  uint32_t C, slices;                                           /* channels, slices per channel */
  float momentum, eps;                                          /* PyTorch's batch-norm constants */
} vk_push_bn_finalize;
VK_PUSH_CHECK(vk_push_bn_finalize, 36);

/* shaders/bn_apply.comp */
typedef struct vk_push_bn_apply {
  uint32_t x_off, y_off, count, C, hw;             /* input, output, elements, channels, h w */
  uint32_t gamma_off, beta_off, mean_off, var_off; /* per-channel vectors (var: storage) */
  float eps;                                       /* inference (BN_MODE 1) */
} vk_push_bn_apply;
VK_PUSH_CHECK(vk_push_bn_apply, 40);

/* shaders/bn_bwd_stats.comp */
typedef struct vk_push_bn_bwd_stats {
  uint32_t x_off, dy_off, mean_off, invstd_off, part_off; /* x, dy texel; the rest storage */
  uint32_t C, hw, m;                                      /* channels, h w, n h w */
  uint32_t slices, chunk; /* slices per channel, elements per slice */
} vk_push_bn_bwd_stats;
VK_PUSH_CHECK(vk_push_bn_bwd_stats, 40);

/* shaders/bn_bwd_finalize.comp */
typedef struct vk_push_bn_bwd_finalize {
  uint32_t part_off, gamma_off, invstd_off, dgamma_off, dbeta_off, coef_off; /* offsets */
  uint32_t C, slices;               /* channels, slices per channel */
  uint32_t want_dgamma, want_dbeta; /* write the parameter gradients */
  float m, beta;                    /* n h w, accumulation factor of dgamma and dbeta */
} vk_push_bn_bwd_finalize;
VK_PUSH_CHECK(vk_push_bn_bwd_finalize, 48);

/* shaders/bn_bwd_apply.comp */
typedef struct vk_push_bn_bwd_apply {
  uint32_t x_off, dy_off, dxin_off, dx_off; /* x, dy, dx texel; dx storage */
  uint32_t mean_off, invstd_off, coef_off;  /* per-channel vectors (storage) */
  uint32_t count, C, hw;                    /* elements, aligned, channels, h w */
  float beta;                               /* dx = grad + beta dx */
  float alpha;                              /* leaky ReLU's slope (BN_ACT 2) */
} vk_push_bn_bwd_apply;
VK_PUSH_CHECK(vk_push_bn_bwd_apply, 48);

/* shaders/bn_features_fwd.comp */
typedef struct vk_push_bn_features_fwd {
  uint32_t x_off, y_off;         /* x texel (absolute), y storage */
  uint32_t gamma_off, beta_off;  /* storage */
  uint32_t rmean_off, rvar_off;  /* running averages (storage) */
  uint32_t mean_off, invstd_off; /* saved statistics (storage) */
  uint32_t N, C;                 /* rows, channels */
  float momentum, eps;
} vk_push_bn_features_fwd;
VK_PUSH_CHECK(vk_push_bn_features_fwd, 48);

/* shaders/bn_features_bwd.comp */
typedef struct vk_push_bn_features_bwd {
  uint32_t x_off, dy_off, dxin_off, dx_off; /* x, dy, dx texel (absolute); dx storage */
  uint32_t gamma_off, mean_off, invstd_off; /* storage */
  uint32_t dgamma_off, dbeta_off;           /* storage */
  uint32_t N, C, want_dgamma, want_dbeta;   /* rows, channels, which gradients */
  float dx_beta, param_beta, alpha;         /* accumulation; leaky ReLU's slope */
  uint32_t dsum_off, want_dsum;             /* storage; the column sums of dx wanted */
} vk_push_bn_features_bwd;
VK_PUSH_CHECK(vk_push_bn_features_bwd, 72);

/* shaders/conv_push.glsl (conv2d_fwd, conv2d_bwd_data[_phase], conv2d_bwd_weight) */
typedef struct vk_push_conv {
  uint32_t m, n, k;                /* the implicit GEMM: rows, columns, reduction */
  uint32_t a_off, b_off;           /* first float of the A and B operands in their blocks */
  uint32_t y_off, bias_off;        /* output and bias relative to their bound ranges */
  uint32_t has_bias;               /* add bias[row] */
  float beta;                      /* out = acc (+ bias) + beta out */
  uint32_t N, C, H, W;             /* forward input */
  uint32_t O, HO, WO;              /* forward output */
  uint32_t KH, KW, SH, SW, PH, PW; /* kernel, stride, padding */
  uint32_t k_chunk;                /* bwd_weight: reduction per z slice; bwd_data_phase VEC_S: px */
  uint32_t tiles_x;                /* fwd, bwd_data: column tiles (workgroups stride over them) */
  float act_alpha;                 /* fwd: slope of the fused leaky ReLU */
} vk_push_conv;
VK_PUSH_CHECK(vk_push_conv, 100);

/* shaders/warp_push.glsl (warp_fwd, warp_bwd) */
typedef struct vk_push_warp {
  uint32_t img_off, flow_off; /* first floats of img and flow relative to their bound ranges */
  uint32_t out_off;           /* forward: out; backward: dflow */
  uint32_t dout_off;          /* backward: dout */
  uint32_t ni, n, c, h, w;    /* images, flows, channels, size */
  float scale, beta;          /* sample point = pixel + scale * flow; dflow = g + beta dflow */
} vk_push_warp;
VK_PUSH_CHECK(vk_push_warp, 44);
_Static_assert(offsetof(vk_push_warp, ni) == 16 && offsetof(vk_push_warp, scale) == 36,
               "vk_push_warp offsets");

/* Bytes of the push-constant block of each shader (0 if it has none); every member is a 32-bit
 * scalar at offset 4 * i, which the runtime test checks in the SPIR-V. */
size_t vk_push_bytes(const char *shader_name);

#endif
