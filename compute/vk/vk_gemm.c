/* GEMM variant selection and dispatch (see vk_gemm.h, shaders/gemm.comp).
 *
 * Why texel buffers and register blocks: GEMM 1024^3 on lavapipe (llvmpipe, LLVM 15, 2 cores of an
 * AMD EPYC, best of 6, an exploration kernel with one 8-invocation workgroup per block row):
 *   storage buffers, 8 x 8 block per invocation ............ 18-19 GFLOP/s
 *   storage buffers, 16 x 16 ................................ 19-25
 *   buffer device address, 8 x 8 ............................ 12
 *   uniform texel buffers, 8 x 8 ............................ 37-38
 *   uniform texel buffers, 16 x 16 .......................... 40-42
 *   texel A via subgroupBroadcast, 16 x 16 .................. 32
 *   the same loop with no loads at all, 8 x 8 ............... 186 (the loads are the cost)
 * llvmpipe runs one SIMD row of 8 invocations per 256-bit vector; a storage-buffer load that is not
 * provably uniform becomes a loop over the lanes with a bounds check per element, a texel fetch a
 * gather. Shared memory goes through the same per-lane loop and barriers split the shader into
 * coroutines (0.5 GFLOP/s measured), so the kernel keeps everything in registers. */
#include "vk_gemm.h"

#include "mb_err.h"

/* One tile per device. Every (shader, tile) pair is a pipeline that lavapipe compiles at its first
 * dispatch, and compile time grows much faster than the block: first dispatch of a GEMM on
 * lavapipe (process CPU, busy machine) 4 x 4: 0.3 s, 8 x 8: 1.7 s, 16 x 8: 5 s, 16 x 16: 17 s,
 * while 1024^3 runs at ~34 GFLOP/s with 8 x 8 against ~38 with 16 x 16 (test_vk_runtime --bench
 * on an idle machine). */
vk_gemm_tile vk_gemm_pick_tile(const vk_runtime *rt, int m, int n) {
  (void)m, (void)n;
  vk_gemm_tile t;
  if (rt->is_cpu) {
    t.wx = rt->subgroup_size >= 4 && rt->subgroup_size <= 16 ? rt->subgroup_size : 8;
    t.wy = 1;
    t.tm = 8;
    t.tn = 8;
  } else {
    t.wx = 16;
    t.wy = 8;
    t.tm = 4;
    t.tn = 4;
  }
  return t;
}

static bool aligned4(uint64_t x) {
  return (x & 3) == 0;
}

vk_ssbo_at vk_ssbo_align(const vk_runtime *rt, uint64_t off_floats) {
  /* At least 16 bytes, so that a tensor whose offset is a multiple of 4 floats is also one
   * relative to the bound range (vec4 views of the same binding). */
  VkDeviceSize align = rt->props.limits.minStorageBufferOffsetAlignment;
  if (align < 16) align = 16;
  VkDeviceSize byte = off_floats * 4, bind = byte / align * align;
  vk_ssbo_at r = {bind, (uint32_t)((byte - bind) / 4)};
  return r;
}

bool vk_gemm(vk_recorder *r, const vk_gemm_args *g, vk_gemm_tile tile, char *err, size_t err_sz) {
  vk_runtime *rt = r->rt;
  if (g->m <= 0 || g->n <= 0) return true;
  if (!tile.wx) {
    tile = vk_gemm_pick_tile(rt, g->m, g->n);
    /* Since each accumulator is updated once per k-block (shaders/gemm_core.glsl), 16 x 8 blocks
     * beat 8 x 8 on lavapipe by 10-35% of CPU on the networks' linear layers (640 x 1028 -> 128:
     * forward 6.5 ms against 7.7-10, gradients 7.3 and 10.8 against 8.7-12 and 12.7-16.5, busy
     * 2-core machine), for ~5 s more compile per pipeline the first time (Mesa's on-disk shader
     * cache keeps it: the op tests' first run took 32 s, the next 4.4). */
    if (rt->is_cpu && g->m > 8) tile.tm = 16;
  }
  /* With k = 0 nothing of A and B is read (C = beta C); their views must still be valid. */
  vk_block *ablock = g->k > 0 ? g->a.block : g->c.block,
           *bblock = g->k > 0 ? g->b.block : g->c.block;
  int batch = g->batch > 0 ? g->batch : 1;
  uint64_t as = batch > 1 ? g->a_stride : 0, bs = batch > 1 ? g->b_stride : 0,
           cs = batch > 1 ? g->c_stride : 0;

  /* RGBA32F reads need the vectorised axis 16-byte aligned at every row (and batch) start, and,
   * for the axes the block is clamped along (A^T rows, B columns), a multiple of 4 long. */
  bool va = aligned4(g->a.off) && aligned4((uint64_t)g->lda) && aligned4(as) &&
            (!g->trans_a || (aligned4((uint64_t)g->m) && tile.tm % 4 == 0));
  bool vb = aligned4(g->b.off) && aligned4((uint64_t)g->ldb) && aligned4(bs) &&
            (g->trans_b || aligned4((uint64_t)g->n));
  vk_shader_id id =
      (vk_shader_id)(VK_SHADER_GEMM_T00 + (g->trans_a ? 2 : 0) + (g->trans_b ? 1 : 0));

  /* Without a fused activation, the 6 constants of before: the same pipelines (ids 6 and 7 are
   * unused by gemm.comp). */
  uint32_t spec[VK_EPI_SPEC_ID + 1] = {tile.wx, tile.wy, tile.tm, tile.tn, va, vb, 0, 0, g->act};
  const vk_pipeline *p =
      vk_pipelines_get(r->pipes, id, spec, g->act ? VK_EPI_SPEC_ID + 1 : 6, err, err_sz);
  if (!p) return false;

  /* Extents touched, for barrier tracking: the last element of each operand + 1. */
  uint64_t k = (uint64_t)(g->k > 0 ? g->k : 0), m = (uint64_t)g->m, n = (uint64_t)g->n;
  uint64_t a_rows = g->trans_a ? k : m, a_cols = g->trans_a ? m : k;
  uint64_t b_rows = g->trans_b ? n : k, b_cols = g->trans_b ? k : n;
  uint64_t a_ext = k ? (batch - 1) * as + (a_rows - 1) * g->lda + a_cols : 1;
  uint64_t b_ext = k ? (batch - 1) * bs + (b_rows - 1) * g->ldb + b_cols : 1;
  uint64_t c_ext = (batch - 1) * cs + (m - 1) * g->ldc + n;

  vk_ssbo_at cat = vk_ssbo_align(rt, g->c.off);
  vk_mat bias = g->bias_mode ? g->bias : g->c; /* bound even when unused */
  uint64_t bias_len = g->bias_mode == 1 ? n : g->bias_mode == 2 ? m : 1;
  vk_ssbo_at bat = vk_ssbo_align(rt, bias.off);
  vk_push_gemm pc = {
      .m = (uint32_t)g->m,
      .n = (uint32_t)g->n,
      .k = (uint32_t)k,
      .a_off = (uint32_t)g->a.off,
      .lda = (uint32_t)g->lda,
      .b_off = (uint32_t)g->b.off,
      .ldb = (uint32_t)g->ldb,
      .c_off = cat.rel,
      .ldc = (uint32_t)g->ldc,
      .alpha = g->alpha,
      .beta = g->beta,
      .a_batch = (uint32_t)as,
      .b_batch = (uint32_t)bs,
      .c_batch = (uint32_t)cs,
      .bias_mode = (uint32_t)g->bias_mode,
      .bias_off = bat.rel,
      .act_alpha = g->act_alpha,
  };
  vk_buf_ref refs[6] = {
      {g->c.block, cat.bind, (cat.rel + c_ext) * 4, true, VK_REF_STORAGE, 0},
      {bias.block, bat.bind, (bat.rel + bias_len) * 4, false, VK_REF_STORAGE, 1},
      {ablock, g->a.off * 4, a_ext * 4, false, VK_REF_TEXEL4, 8},
      {ablock, g->a.off * 4, a_ext * 4, false, VK_REF_TEXEL1, 9},
      {bblock, g->b.off * 4, b_ext * 4, false, VK_REF_TEXEL4, 10},
      {bblock, g->b.off * 4, b_ext * 4, false, VK_REF_TEXEL1, 11},
  };
  uint32_t cols_per_wg = tile.wx * tile.tn, rows_per_wg = tile.wy * tile.tm;
  uint32_t gx = ((uint32_t)g->n + cols_per_wg - 1) / cols_per_wg;
  uint32_t gy = ((uint32_t)g->m + rows_per_wg - 1) / rows_per_wg;
  return vk_rec_dispatch(r, p, &pc, sizeof pc, refs, 6, gx, gy, (uint32_t)batch, err, err_sz);
}
