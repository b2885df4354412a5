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

/* shaders/gemm_push.glsl */
typedef struct vk_push_gemm {
  uint32_t m, n, k;    /* C is m x n, op(A) m x k, op(B) k x n */
  uint32_t a_off, lda; /* A's first element in its block, leading dim (floats) */
  uint32_t b_off, ldb; /* B likewise */
  uint32_t c_off, ldc; /* C's first element relative to the bound range, leading dim */
  float alpha, beta;   /* C = alpha op(A) op(B) + beta C */
  uint32_t a_batch, b_batch, c_batch; /* strides between batches (workgroup z), floats */
} vk_push_gemm;
VK_PUSH_CHECK(vk_push_gemm, 56);
_Static_assert(offsetof(vk_push_gemm, a_off) == 12 && offsetof(vk_push_gemm, alpha) == 36 &&
                   offsetof(vk_push_gemm, c_batch) == 52,
               "vk_push_gemm offsets");

/* shaders/fill.comp */
typedef struct vk_push_fill {
  uint32_t off;   /* first float relative to the bound range */
  uint32_t count; /* floats to write */
  float value;    /* the value */
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

/* Bytes of the push-constant block of each shader (0 if it has none); every member is a 32-bit
 * scalar at offset 4 * i, which the runtime test checks in the SPIR-V. */
size_t vk_push_bytes(const char *shader_name);

#endif
