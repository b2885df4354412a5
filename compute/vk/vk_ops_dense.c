/* Vulkan backend: GEMM, fully connected layers and (transposed) convolutions, all on the
 * register-blocked core of shaders/gemm_core.glsl; convolutions are implicit GEMMs that gather
 * their operand from the image (no im2col buffer). */
#include "vk_backend.h"

static void gemm_or_die(vk_be *b, const vk_gemm_args *g) {
  char err[512];
  vk_gemm_tile auto_tile = {0};
  if (!vk_gemm(b->rec, g, auto_tile, err, sizeof err)) vkb_die("gemm: %s", err);
}

void vkb_gemm_op(cmp_ctx *ctx, bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                 const cmp_tensor *a, int lda, const cmp_tensor *bt, int ldb, float beta,
                 const cmp_tensor *c, int ldc) {
  vk_gemm_args g = {.trans_a = trans_a,
                    .trans_b = trans_b,
                    .m = m,
                    .n = n,
                    .k = k,
                    .alpha = alpha,
                    .beta = beta,
                    .a = vkb_mat(a),
                    .b = vkb_mat(bt),
                    .c = vkb_mat(c),
                    .lda = lda,
                    .ldb = ldb,
                    .ldc = ldc,
                    .batch = 1};
  gemm_or_die(vkb(ctx), &g);
}

void vkb_linear_fwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *bias,
                    const cmp_tensor *y, const cmp_fused_act *act) {
  int n = x->n, m = w->n, k = (int)cmp_sample_size(w);
  vk_gemm_args g = {.trans_b = true,
                    .m = n,
                    .n = m,
                    .k = k,
                    .alpha = 1.0f,
                    .beta = 0.0f,
                    .a = vkb_mat(x),
                    .b = vkb_mat(w),
                    .c = vkb_mat(y),
                    .lda = k,
                    .ldb = k,
                    .ldc = m,
                    .batch = 1};
  if (bias) g.bias_mode = 1, g.bias = vkb_mat(bias);
  g.act = vkb_epilogue(act);
  g.act_alpha = act ? act->alpha : 0.0f;
  gemm_or_die(vkb(ctx), &g);
}

void vkb_linear_bwd_data(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *w,
                         const cmp_tensor *dx, float beta) {
  int n = dy->n, m = w->n, k = (int)cmp_sample_size(w);
  vk_gemm_args g = {.m = n,
                    .n = k,
                    .k = m,
                    .alpha = 1.0f,
                    .beta = beta,
                    .a = vkb_mat(dy),
                    .b = vkb_mat(w),
                    .c = vkb_mat(dx),
                    .lda = m,
                    .ldb = k,
                    .ldc = k,
                    .batch = 1};
  gemm_or_die(vkb(ctx), &g);
}

void vkb_linear_bwd_weight(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *x,
                           const cmp_tensor *dw, const cmp_tensor *db, float beta) {
  vk_be *b = vkb(ctx);
  int n = dy->n, m = dw->n, k = (int)cmp_sample_size(dw);
  vk_gemm_args g = {.trans_a = true,
                    .m = m,
                    .n = k,
                    .k = n,
                    .alpha = 1.0f,
                    .beta = beta,
                    .a = vkb_mat(dy),
                    .b = vkb_mat(x),
                    .c = vkb_mat(dw),
                    .lda = m,
                    .ldb = k,
                    .ldc = k,
                    .batch = 1};
  gemm_or_die(b, &g);
  if (db) {
    vkb_scratch_begin(b, vkb_reduce_scratch(1, (uint64_t)n, (uint64_t)m));
    vkb_reduce(b, vkb_mat(dy), 1, (uint64_t)n, (uint64_t)m, 1.0f, vkb_mat(db), beta);
  }
}

/* ---- convolutions --------------------------------------------------------------------------- */

/* The forward convolution x [N, C, H, W] * w [O, C, KH, KW] -> y [N, O, HO, WO] that each shader's
 * geometry describes (a transposed convolution maps onto it with the roles of x and y swapped). */
typedef struct conv_geo {
  int N, C, H, W, O, HO, WO;
  const cmp_conv_params *p;
} conv_geo;

static vk_push_conv conv_push(const conv_geo *g, uint64_t m, uint64_t n, uint64_t k) {
  vk_push_conv pc = {
      .m = (uint32_t)m,
      .n = (uint32_t)n,
      .k = (uint32_t)k,
      .N = (uint32_t)g->N,
      .C = (uint32_t)g->C,
      .H = (uint32_t)g->H,
      .W = (uint32_t)g->W,
      .O = (uint32_t)g->O,
      .HO = (uint32_t)g->HO,
      .WO = (uint32_t)g->WO,
      .KH = (uint32_t)g->p->kh,
      .KW = (uint32_t)g->p->kw,
      .SH = (uint32_t)g->p->sh,
      .SW = (uint32_t)g->p->sw,
      .PH = (uint32_t)g->p->ph,
      .PW = (uint32_t)g->p->pw,
  };
  return pc;
}

static void grid(const vk_gemm_tile *t, uint64_t m, uint64_t n, uint32_t *gx, uint32_t *gy) {
  uint64_t cols = (uint64_t)t->wx * t->tn, rows = (uint64_t)t->wy * t->tm;
  *gx = (uint32_t)((n + cols - 1) / cols);
  *gy = (uint32_t)((m + rows - 1) / rows);
}

/* Workgroups along x for tiles_x column tiles: on a CPU implementation few workgroups walk all
 * tiles (each workgroup has a setup cost; at batch 200 the encoder's forward takes ~10% less CPU
 * with 128-256 of them than with one per tile, and at batch 64 on a busy 2-core machine each of
 * its layers takes 5-25% less CPU with 32 than with 256); a GPU gets one per tile. */
static uint32_t walkers(const vk_be *b, uint32_t tiles_x) {
  uint32_t cap = b->rt->is_cpu ? 32 : 65535;
  return tiles_x < cap ? tiles_x : cap;
}

/* Specialisation constants VEC_S, D of shaders/conv_span.glsl for the shared-window variants:
 * read x's rows as RGBA32F texels when whole rows are aligned; spans start at 4 i - PW. */
static void span_spec(const conv_geo *g, vk_mat x, uint32_t out[2]) {
  out[0] = g->W % 4 == 0 && vkb_al4(x.off);
  out[1] = (uint32_t)(4 - g->p->pw % 4) % 4;
}

/* y = conv(x, w) + bias + beta y. */
static void conv_fwd(vk_be *b, const conv_geo *g, vk_mat x, vk_mat w, const cmp_tensor *bias,
                     vk_mat y, float beta, const cmp_fused_act *act) {
  uint64_t m = (uint64_t)g->O, n = (uint64_t)g->N * g->HO * g->WO,
           k = (uint64_t)g->C * g->p->kh * g->p->kw;
  vk_gemm_tile t = vk_gemm_pick_tile(b->rt, (int)m, (int)n);
  bool vec = (w.off & 3) == 0 && (k & 3) == 0;
  /* The shared-window variant: k-blocks of 4 along a kernel row, groups of 4 output pixels along
   * an output row, vec4 stores. The encoder's layers at batch 200 on lavapipe: 68 ms of CPU in
   * all with 16 x 8 blocks against 95 for the generic variant with 16 x 16; with 8 x 8 blocks
   * the layers with 16 or more output channels are ~30% slower than with 16 x 8, so those get
   * the one bigger pipeline (about 5 s of compile on lavapipe). At 8 or fewer output channels,
   * 8 x 16 blocks instead (conv0's forward 4-8% less CPU over 4 alternating runs on a busy
   * machine). */
  bool n4 = g->p->kw % 4 == 0 && g->WO % 4 == 0 && g->p->sw <= 4 && vkb_al4(y.off);
  if (n4 && b->rt->is_cpu && m > 8) t.tm = 16;
  if (n4 && b->rt->is_cpu && m <= 8) t.tn = 16;
  vk_push_conv pc = conv_push(g, m, n, k);
  pc.a_off = (uint32_t)w.off;
  pc.b_off = (uint32_t)x.off;
  pc.has_bias = bias != NULL;
  pc.beta = beta;
  vk_epilogue epi = vkb_epilogue(act);
  pc.act_alpha = act ? act->alpha : 0.0f;
  uint64_t y_len = n * m, x_len = (uint64_t)g->N * g->C * g->H * g->W;
  vk_buf_ref refs[6] = {vkb_ssbo_mat(b, y, y_len, true, 0, &pc.y_off),
                        bias ? vkb_ssbo(b, bias, false, 1, &pc.bias_off)
                             : vkb_ssbo_mat(b, y, 1, false, 1, &pc.bias_off),
                        vkb_texel(w, m * k, true, 8),
                        vkb_texel(w, m * k, false, 9),
                        vkb_texel(x, x_len, false, 10),
                        vkb_texel(x, x_len, true, 11)};
  uint32_t spec[VK_EPI_SPEC_ID + 1] = {t.wx, t.wy, t.tm, t.tn, (uint32_t)g->p->sw, vec}, gx, gy;
  span_spec(g, x, &spec[6]);
  spec[VK_EPI_SPEC_ID] = epi;
  grid(&t, m, n, &gx, &gy);
  vk_shader_id id = n4 ? VK_SHADER_CONV2D_FWD_N4 : VK_SHADER_CONV2D_FWD;
  pc.tiles_x = gx;
  /* Without a fused activation, the constants of before (the same pipelines). */
  int nspec = epi ? VK_EPI_SPEC_ID + 1 : n4 ? 8 : 6;
  vkb_dispatch(b, id, spec, nspec, &pc, sizeof pc, refs, 6, walkers(b, gx), gy, 1);
}

/* Whether conv2d_bwd_data_phase.comp applies: kernel = 2 x stride, and each phase's columns come
 * in whole groups of 4 along a row. */
static bool phased(const conv_geo *g) {
  const cmp_conv_params *p = g->p;
  return p->kh == 2 * p->sh && p->kw == 2 * p->sw && g->H % p->sh == 0 && g->W % p->sw == 0 &&
         (g->W / p->sw) % 4 == 0;
}

/* wp = w regrouped by phase for conv2d_bwd_data_phase.comp: [SH SW, O, C, 4] in scratch. */
static vk_mat weights_by_phase(vk_be *b, const conv_geo *g, vk_mat w) {
  uint64_t len = (uint64_t)g->O * g->C * g->p->kh * g->p->kw;
  vkb_scratch_begin(b, vkb_scratch_size(len));
  vk_mat wp = vkb_scratch(b, len);
  vk_push_conv pc = conv_push(g, 0, len, 0);
  pc.a_off = (uint32_t)w.off;
  vk_buf_ref refs[2] = {vkb_ssbo_mat(b, wp, len, true, 0, &pc.y_off), vkb_texel(w, len, false, 9)};
  vkb_dispatch_items(b, VK_SHADER_CONV2D_W_PHASE, &pc, sizeof pc, refs, 2, len);
  return wp;
}

/* dx = conv^T(dy, w) + bias + beta dx. */
static void conv_bwd_data(vk_be *b, const conv_geo *g, vk_mat dy, vk_mat w, const cmp_tensor *bias,
                          vk_mat dx, float beta) {
  uint64_t m = (uint64_t)g->C, n = (uint64_t)g->N * g->H * g->W,
           k = (uint64_t)g->O * g->p->kh * g->p->kw;
  /* Kernels of twice the stride split into SH SW dense phases (no divisibility misses), with
   * 16-row blocks above 8 channels (15-20% less CPU for the encoder's conv2 and conv3), and
   * exactly C rows below 8 (conv0, 6 channels: no clamped rows, 22 -> 18 ms on lavapipe). */
  bool phase = phased(g);
  uint64_t phases = phase ? (uint64_t)g->p->sh * g->p->sw : 1;
  vk_gemm_tile t = vk_gemm_pick_tile(b->rt, (int)m, (int)n);
  if (phase && b->rt->is_cpu && m > 8) t.tm = 16;
  if (phase && b->rt->is_cpu && m < 8) t.tm = (uint32_t)m;
  vk_mat a = phase ? weights_by_phase(b, g, w) : w;
  vk_push_conv pc = conv_push(g, m, n / phases, k / phases);
  pc.a_off = (uint32_t)a.off;
  pc.b_off = (uint32_t)dy.off;
  pc.has_bias = bias != NULL;
  pc.beta = beta;
  uint64_t dx_len = n * m, dy_len = (uint64_t)g->N * g->O * g->HO * g->WO;
  vk_buf_ref refs[5] = {vkb_ssbo_mat(b, dx, dx_len, true, 0, &pc.y_off),
                        bias ? vkb_ssbo(b, bias, false, 1, &pc.bias_off)
                             : vkb_ssbo_mat(b, dx, 1, false, 1, &pc.bias_off),
                        phase ? vkb_texel(a, m * k, true, 8) : vkb_texel(a, m * k, false, 9),
                        vkb_texel(dy, dy_len, false, 10), vkb_texel(dy, dy_len, true, 11)};
  uint32_t spec[6] = {t.wx, t.wy, t.tm, t.tn}, gx, gy;
  grid(&t, m, pc.n, &gx, &gy);
  pc.tiles_x = gx;
  vk_shader_id id = phase ? VK_SHADER_CONV2D_BWD_DATA_PHASE : VK_SHADER_CONV2D_BWD_DATA;
  /* On CPU devices, one dispatch per phase column so that dy's runs are read as RGBA32F texels
   * (rows of dy a multiple of 4 long, dy 16-byte aligned). */
  if (phase && b->rt->is_cpu && g->WO % 4 == 0 && vkb_al4(dy.off)) {
    for (uint32_t px = 0; px < (uint32_t)g->p->sw; px++) {
      uint32_t q = (px + (uint32_t)g->p->pw) / (uint32_t)g->p->sw; /* runs start at q - 1 + 4 j */
      spec[4] = 1;
      spec[5] = (q + 3) % 4;
      pc.k_chunk = px;
      vkb_dispatch(b, id, spec, 6, &pc, sizeof pc, refs, 5, walkers(b, gx), gy, (uint32_t)g->p->sh);
    }
    return;
  }
  vkb_dispatch(b, id, spec, 4, &pc, sizeof pc, refs, 5, walkers(b, gx), gy, (uint32_t)phases);
}

/* dw = sum over the batch of dy (x) + beta dw, and db = sum of dy per output channel + beta db. */
static void conv_bwd_weight(vk_be *b, const conv_geo *g, vk_mat dy, vk_mat x, vk_mat dw,
                            const cmp_tensor *db, float beta) {
  uint64_t m = (uint64_t)g->O, n = (uint64_t)g->C * g->p->kh * g->p->kw,
           k = (uint64_t)g->N * g->HO * g->WO;
  /* The shared-window variant: k-blocks of 4 along an output row (chunks of whole blocks), groups
   * of 4 kernel columns; 16-row blocks above 8 output channels on CPU devices (the encoder's
   * conv1..3 ~20% less CPU). */
  bool n4 = g->p->kw % 4 == 0 && g->WO % 4 == 0 && g->p->sw <= 4;
  vk_gemm_tile t = vk_gemm_pick_tile(b->rt, (int)m, (int)n);
  if (n4 && b->rt->is_cpu && m > 8) t.tm = 16;
  uint32_t gx, gy;
  grid(&t, m, n, &gx, &gy);
  /* Split the long reduction so that there are enough workgroups to share the device. */
  uint64_t tiles = (uint64_t)gx * gy, want = tiles >= 64 ? 1 : (64 + tiles - 1) / tiles;
  uint64_t max_slices = k / 256 > 0 ? k / 256 : 1;
  uint64_t slices = want < max_slices ? want : max_slices;
  uint64_t chunk = (k + slices - 1) / slices;
  if (n4) chunk = (chunk + 3) / 4 * 4;
  slices = (k + chunk - 1) / chunk;
  uint64_t hw = (uint64_t)g->HO * g->WO, part_len = slices * m * n;
  uint64_t scratch = vkb_scratch_size(part_len) + vkb_reduce_scratch(1, slices, m * n);
  if (db)
    scratch += vkb_scratch_size((uint64_t)g->N * m) +
               vkb_reduce_scratch((uint64_t)g->N * m, hw, 1) +
               vkb_reduce_scratch(1, (uint64_t)g->N, m);
  vkb_scratch_begin(b, scratch);
  vk_mat part = vkb_scratch(b, part_len);
  vk_push_conv pc = conv_push(g, m, n, k);
  pc.a_off = (uint32_t)dy.off;
  pc.b_off = (uint32_t)x.off;
  pc.k_chunk = (uint32_t)chunk;
  uint64_t dy_len = (uint64_t)g->N * g->O * hw, x_len = (uint64_t)g->N * g->C * g->H * g->W;
  vk_buf_ref refs[5] = {vkb_ssbo_mat(b, part, part_len, true, 0, &pc.y_off),
                        vkb_texel(dy, dy_len, true, 8), vkb_texel(dy, dy_len, false, 9),
                        vkb_texel(x, x_len, false, 10), vkb_texel(x, x_len, true, 11)};
  uint32_t spec[8] = {t.wx, t.wy, t.tm, t.tn, (uint32_t)g->p->sw, vkb_al4(dy.off)};
  span_spec(g, x, &spec[6]);
  vk_shader_id id = n4 ? VK_SHADER_CONV2D_BWD_WEIGHT_N4 : VK_SHADER_CONV2D_BWD_WEIGHT;
  vkb_dispatch(b, id, spec, n4 ? 8 : 4, &pc, sizeof pc, refs, 5, gx, gy, (uint32_t)slices);
  vkb_reduce(b, part, 1, slices, m * n, 1.0f, dw, beta);
  if (db) {
    /* Sum over each (n, o) plane, then over the batch. */
    vk_mat planes = dy;
    if (hw > 1) {
      planes = vkb_scratch(b, (uint64_t)g->N * m);
      vkb_reduce(b, dy, (uint64_t)g->N * m, hw, 1, 1.0f, planes, 0.0f);
    }
    vkb_reduce(b, planes, 1, (uint64_t)g->N, m, 1.0f, vkb_mat(db), beta);
  }
}

static conv_geo conv_geometry(const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *y,
                              const cmp_conv_params *p) {
  conv_geo g = {x->n, x->c, x->h, x->w, w->n, y->h, y->w, p};
  return g;
}

void vkb_conv2d_fwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *bias,
                    const cmp_tensor *y, const cmp_conv_params *p, const cmp_fused_act *act) {
  conv_geo g = conv_geometry(x, w, y, p);
  conv_fwd(vkb(ctx), &g, vkb_mat(x), vkb_mat(w), bias, vkb_mat(y), 0.0f, act);
}

void vkb_conv2d_bwd_data(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *w,
                         const cmp_tensor *dx, const cmp_conv_params *p, float beta) {
  conv_geo g = conv_geometry(dx, w, dy, p);
  conv_bwd_data(vkb(ctx), &g, vkb_mat(dy), vkb_mat(w), NULL, vkb_mat(dx), beta);
}

void vkb_conv2d_bwd_weight(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *x,
                           const cmp_tensor *dw, const cmp_tensor *db, const cmp_conv_params *p,
                           float beta) {
  conv_geo g = conv_geometry(x, dw, dy, p);
  conv_bwd_weight(vkb(ctx), &g, vkb_mat(dy), vkb_mat(x), vkb_mat(dw), db, beta);
}

/* A transposed convolution x [N, Ci, H, W] with w [Ci, Co, KH, KW] -> y [N, Co, HO, WO] is the
 * data gradient of the forward convolution y-shaped [N, Co, HO, WO] * w (as [O = Ci, C = Co]) ->
 * x-shaped [N, Ci, H, W]. */
static conv_geo convt_geometry(const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *y,
                               const cmp_conv_params *p) {
  conv_geo g = {y->n, w->c, y->h, y->w, w->n, x->h, x->w, p};
  return g;
}

void vkb_convt2d_fwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *bias,
                     const cmp_tensor *y, const cmp_conv_params *p) {
  conv_geo g = convt_geometry(x, w, y, p);
  conv_bwd_data(vkb(ctx), &g, vkb_mat(x), vkb_mat(w), bias, vkb_mat(y), 0.0f);
}

void vkb_convt2d_bwd_data(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *w,
                          const cmp_tensor *dx, const cmp_conv_params *p, float beta) {
  conv_geo g = convt_geometry(dx, w, dy, p);
  conv_fwd(vkb(ctx), &g, vkb_mat(dy), vkb_mat(w), NULL, vkb_mat(dx), beta, NULL);
}

void vkb_convt2d_bwd_weight(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *x,
                            const cmp_tensor *dw, const cmp_tensor *db, const cmp_conv_params *p,
                            float beta) {
  conv_geo g = convt_geometry(x, dw, dy, p);
  /* The forward convolution's input is dy and its output gradient x; db sums dy per channel. */
  vk_be *b = vkb(ctx);
  conv_bwd_weight(b, &g, vkb_mat(x), vkb_mat(dy), vkb_mat(dw), NULL, beta);
  if (db) {
    uint64_t hw = (uint64_t)dy->h * dy->w, co = (uint64_t)dy->c, nb = (uint64_t)dy->n;
    vkb_scratch_begin(b, vkb_scratch_size(nb * co) + vkb_reduce_scratch(nb * co, hw, 1) +
                             vkb_reduce_scratch(1, nb, co));
    vk_mat planes = vkb_mat(dy);
    if (hw > 1) {
      planes = vkb_scratch(b, nb * co);
      vkb_reduce(b, vkb_mat(dy), nb * co, hw, 1, 1.0f, planes, 0.0f);
    }
    vkb_reduce(b, planes, 1, nb, co, 1.0f, vkb_mat(db), beta);
  }
}
