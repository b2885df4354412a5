/* GEMM on the Vulkan runtime: C = alpha op(A) op(B) + beta C, row-major, optionally batched, with
 * any leading dimensions and offsets. Picks the shader variant (transposes; aligned RGBA32F or
 * scalar R32F reads) and the tile for the device, binds and records one dispatch. */
#ifndef VK_GEMM_H
#define VK_GEMM_H

#include "vk_push.h"
#include "vk_recorder.h"

/* A matrix operand: floats [off, off + ...) of a device block. */
typedef struct vk_mat {
  vk_block *block; /* device block (has texel views) */
  uint64_t off;    /* first element, in floats from the block's start */
} vk_mat;

typedef struct vk_gemm_args {
  bool trans_a, trans_b; /* op(X) = X^T when set */
  int m, n, k;           /* C is m x n, inner dimension k (m, n >= 1, k >= 0) */
  float alpha, beta;     /* C = alpha op(A) op(B) + beta C (beta 0: C is not read) */
  vk_mat a, b, c;        /* operands */
  int lda, ldb, ldc;     /* leading dimensions in floats */
  int batch;             /* number of GEMMs (>= 1), the i-th at offsets + i * stride */
  uint64_t a_stride, b_stride, c_stride; /* batch strides in floats (ignored for batch 1) */
  int bias_mode;                         /* 0: none, 1: C[i][j] += bias[j], 2: C[i][j] += bias[i] */
  vk_mat bias;                           /* the bias vector (bias_mode != 0) */
  vk_epilogue act;                       /* activation applied to C as it is stored */
  float act_alpha;                       /* leaky ReLU's slope */
} vk_gemm_args;

/* The tile an invocation computes and the workgroup shape, chosen for the device. */
typedef struct vk_gemm_tile {
  uint32_t wx, wy; /* invocations per workgroup along n and m */
  uint32_t tm, tn; /* rows and columns per invocation (tn a multiple of 4) */
} vk_gemm_tile;

/* The tile for the device (lavapipe: 8 lanes x 1 with 8 x 8 blocks; GPUs: 16 x 8 invocations
 * with 4 x 4 blocks); the shape arguments are for future per-shape choices. */
vk_gemm_tile vk_gemm_pick_tile(const vk_runtime *rt, int m, int n);

/* Binding a storage buffer at a float offset: descriptors need offsets aligned to
 * minStorageBufferOffsetAlignment, so the range starts at the aligned-down byte and the shader adds
 * `rel` floats. */
typedef struct vk_ssbo_at {
  VkDeviceSize bind; /* aligned byte offset for the descriptor */
  uint32_t rel;      /* floats from there to the element wanted */
} vk_ssbo_at;
vk_ssbo_at vk_ssbo_align(const vk_runtime *rt, uint64_t off_floats);

/* Records the GEMM. A tile of zero fields means vk_gemm_pick_tile(). False with err filled when the
 * pipeline cannot be created or descriptors run out. */
bool vk_gemm(vk_recorder *r, const vk_gemm_args *g, vk_gemm_tile tile, char *err, size_t err_sz);

#endif
