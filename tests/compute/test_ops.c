/* Every compute op on the backend named on the command line (`test_ops cpu`, `test_ops vulkan`)
 * against naive double-precision references (normalised MSE < 1e-6), backward ops also against
 * central finite differences; odd shapes that are no multiple of any workgroup size, batch 1 and
 * large batches; Adam and Polyak against hand-computed steps; random numbers identical to
 * base/mb_philox.h; arenas. */
#include "op_ref.h"

#include <math.h>

/* ---- memory and transfers -------------------------------------------------------------------- */

static void test_arena(void) {
  cmp_arena *a = cmp_arena_create(g_ctx, CMP_ARENA_WEIGHTS, 1000);
  cmp_tensor t0 = cmp_arena_tensor(a, 2, 3, 5, 7);
  CHECK(t0.off % CMP_ALIGN_FLOATS == 0);
  size_t mark = cmp_arena_mark(a);
  cmp_tensor t1 = cmp_arena_tensor(a, 1, 333, 1, 1);
  CHECK(t1.off % CMP_ALIGN_FLOATS == 0 && (t1.buf != t0.buf || t1.off >= t0.off + 210));
  cmp_fill(g_ctx, &t1, 7.0f);
  cmp_tensor big = cmp_arena_tensor(a, 1, 5000, 1, 1); /* larger than a block: its own block */
  CHECK(cmp_arena_bytes(a) >= 6000 * sizeof(float));
  cmp_fill(g_ctx, &big, 3.0f);
  cmp_arena_reset(a, mark);
  CHECK(cmp_arena_mark(a) == mark);
  /* Reused memory comes back zeroed. */
  cmp_tensor t2 = cmp_arena_tensor(a, 1, 333, 1, 1);
  cmp_tensor big2 = cmp_arena_tensor(a, 1, 4000, 1, 1);
  float *v2 = tdown(&t2), *vb = tdown(&big2);
  double z = 0;
  for (int i = 0; i < 333; i++) z += fabs(v2[i]);
  for (int i = 0; i < 4000; i++) z += fabs(vb[i]);
  CHECK_MSG(z == 0, "reused arena memory not zeroed (sum |v| = %g)", z);
  free(v2), free(vb);
  cmp_arena_reset(a, 0);
  CHECK(cmp_arena_mark(a) == 0);
  cmp_arena_destroy(a);
}

static void test_views(void) {
  float *h;
  cmp_tensor t = trand(4, 3, 2, 5, 1, -1, 1, &h);
  cmp_tensor r = cmp_rows(t, 1, 2);
  CHECK(r.n == 2 && r.off == t.off + 30);
  float *v = tdown(&r);
  CHECK(!memcmp(v, h + 30, 60 * sizeof(float)));
  cmp_tensor f = cmp_reshape(t, 4, 30, 1, 1);
  CHECK(f.c == 30 && cmp_numel(&f) == cmp_numel(&t));
  free(v), free(h);
}

/* Images of 5 x 7 and 4 x 8 pixels (Vulkan converts 4 pixels of one image at once where hw % 4 is
 * 0). */
static void test_upload_u8_size(int hh, int ww) {
  int n = 3;
  uint8_t *img = malloc((size_t)n * hh * ww * 3);
  for (int i = 0; i < n * hh * ww * 3; i++) img[i] = (uint8_t)(i * 37 + 11);
  cmp_tensor t = tens(n, 6, hh, ww);
  cmp_fill(g_ctx, &t, -5.0f);
  cmp_upload_u8_hwc(g_ctx, &t, 3, img, 1.0f / 255.0f, -0.5f);
  double *ref = dalloc(cmp_numel(&t));
  for (int s = 0; s < n; s++)
    for (int c = 0; c < 6; c++)
      for (int y = 0; y < hh; y++)
        for (int x = 0; x < ww; x++)
          ref[((size_t)(s * 6 + c) * hh + y) * ww + x] =
              c < 3 ? -5.0 : img[((size_t)(s * hh + y) * ww + x) * 3 + c - 3] / 255.0f - 0.5f;
  CHECK_TENSOR("upload_u8_hwc", t, ref);
  free(ref), free(img);
}

static void test_upload_u8(void) {
  test_upload_u8_size(5, 7);
  test_upload_u8_size(4, 8);
}

/* ---- elementwise ----------------------------------------------------------------------------- */

static void test_elementwise(void) {
  const int n = 1237;
  float *hx, *hy;
  cmp_tensor x = trand(1, n, 1, 1, 2, -2, 2, &hx), y = trand(1, n, 1, 1, 3, -2, 2, &hy);
  double *ref = dalloc(n);
  cmp_fill(g_ctx, &y, 0.25f);
  for (int i = 0; i < n; i++) ref[i] = 0.25;
  CHECK_TENSOR("fill", y, ref);
  cmp_upload(g_ctx, &y, hy);
  cmp_axpby(g_ctx, &x, &y, 1.5f, -0.5f);
  for (int i = 0; i < n; i++) ref[i] = 1.5 * hx[i] - 0.5 * hy[i];
  CHECK_TENSOR("axpby", y, ref);
  cmp_clamp(g_ctx, &x, &y, -0.3f, 0.7f);
  for (int i = 0; i < n; i++) ref[i] = hx[i] < -0.3f ? -0.3f : hx[i] > 0.7f ? 0.7f : hx[i];
  CHECK_TENSOR("clamp", y, ref);
  cmp_clamp(g_ctx, &x, &x, -0.3f, 0.7f); /* in place */
  CHECK_TENSOR("clamp in place", x, ref);
  free(hx), free(hy), free(ref);
}

static void test_copy_channels(void) {
  /* Concatenation of [N, 5, 3, 3] and [N, 2, 3, 3] into [N, 7, 3, 3], then backward. */
  const int N = 3, hw = 9;
  float *ha, *hb, *hd;
  cmp_tensor a = trand(N, 5, 3, 3, 4, -1, 1, &ha), b = trand(N, 2, 3, 3, 5, -1, 1, &hb);
  cmp_tensor cat = trand(N, 7, 3, 3, 6, -1, 1, &hd);
  cmp_copy_channels(g_ctx, &a, 0, &cat, 0, 5, 0.0f);
  cmp_copy_channels(g_ctx, &b, 0, &cat, 5, 2, 0.0f);
  double *ref = dalloc((size_t)N * 7 * hw);
  for (int n = 0; n < N; n++)
    for (int c = 0; c < 7; c++)
      for (int i = 0; i < hw; i++)
        ref[(n * 7 + c) * hw + i] = c < 5 ? ha[(n * 5 + c) * hw + i] : hb[(n * 2 + c - 5) * hw + i];
  CHECK_TENSOR("copy_channels concat", cat, ref);
  /* Backward into b with accumulation: db = 2 * b_old ... here db := b + cat[:, 5:7]. */
  cmp_copy_channels(g_ctx, &cat, 5, &b, 0, 2, 1.0f);
  double *rb = dalloc((size_t)N * 2 * hw);
  for (int n = 0; n < N; n++)
    for (int c = 0; c < 2; c++)
      for (int i = 0; i < hw; i++) rb[(n * 2 + c) * hw + i] = 2.0 * hb[(n * 2 + c) * hw + i];
  CHECK_TENSOR("copy_channels accumulate", b, rb);
  /* Within one tensor, the source and destination spans interleaved (Vulkan cannot make this one
   * copy command): cat[:, 3:5] = cat[:, 0:2]. */
  cmp_copy_channels(g_ctx, &cat, 0, &cat, 3, 2, 0.0f);
  for (int n = 0; n < N; n++)
    for (int c = 3; c < 5; c++)
      for (int i = 0; i < hw; i++) ref[(n * 7 + c) * hw + i] = ref[(n * 7 + c - 3) * hw + i];
  CHECK_TENSOR("copy_channels within a tensor", cat, ref);
  free(ha), free(hb), free(hd), free(ref), free(rb);
}

/* ---- activations ----------------------------------------------------------------------------- */

typedef struct act_fd {
  cmp_act act;
  float alpha;
  double *x, *r; /* input, loss weights */
  size_t n;
} act_fd;

static double act_ref(cmp_act act, double x, double alpha) {
  switch (act) {
    case CMP_ACT_RELU:
      return x > 0 ? x : 0;
    case CMP_ACT_LEAKY_RELU:
      return x > 0 ? x : alpha * x;
    case CMP_ACT_TANH:
      return tanh(x);
    default:
      return 1 / (1 + exp(-x));
  }
}

static double act_loss(void *u) {
  act_fd *a = u;
  double s = 0;
  for (size_t i = 0; i < a->n; i++) s += a->r[i] * act_ref(a->act, a->x[i], a->alpha);
  return s;
}

static void test_activations(void) {
  const int N = 3, C = 7, H = 5, W = 11; /* 1155 elements */
  size_t n = (size_t)N * C * H * W;
  const char *names[] = {"relu", "leaky_relu", "tanh", "sigmoid"};
  for (int a = CMP_ACT_RELU; a <= CMP_ACT_SIGMOID; a++) {
    float *hx, *hr, *hd;
    float *tmp = hrand(n, 10 + a, -3, 3);
    for (size_t i = 0; i < n; i++)
      if (fabsf(tmp[i]) < 0.01f) tmp[i] = 0.05f; /* keep finite differences off the kink */
    cmp_tensor x = tup(tmp, N, C, H, W);
    hx = tmp;
    cmp_tensor y = tens(N, C, H, W), dy = trand(N, C, H, W, 20 + a, -1, 1, &hr);
    cmp_tensor dx = trand(N, C, H, W, 30 + a, -1, 1, &hd);
    cmp_act_fwd(g_ctx, (cmp_act)a, &x, &y, 0.2f);
    double *ref = dalloc(n), *rd = dalloc(n);
    for (size_t i = 0; i < n; i++) ref[i] = act_ref((cmp_act)a, hx[i], 0.2f);
    char name[64];
    snprintf(name, sizeof name, "act_fwd %s", names[a]);
    CHECK_TENSOR(name, y, ref);
    /* Backward with accumulation (beta = 1): dx = act' dy + dx_old. */
    cmp_act_bwd(g_ctx, (cmp_act)a, &x, &y, &dy, &dx, 0.2f, 1.0f);
    float *fy = tdown(&y);
    for (size_t i = 0; i < n; i++) {
      double d;
      if (a == CMP_ACT_RELU)
        d = hx[i] > 0 ? 1 : 0;
      else if (a == CMP_ACT_LEAKY_RELU)
        d = hx[i] > 0 ? 1 : 0.2f;
      else if (a == CMP_ACT_TANH)
        d = 1 - (double)fy[i] * fy[i];
      else
        d = (double)fy[i] * (1 - fy[i]);
      rd[i] = d * hr[i] + hd[i];
    }
    snprintf(name, sizeof name, "act_bwd %s", names[a]);
    CHECK_TENSOR(name, dx, rd);
    /* Finite differences of sum(r * act(x)) against the overwrite form (beta = 0). */
    cmp_act_bwd(g_ctx, (cmp_act)a, &x, &y, &dy, &dx, 0.2f, 0.0f);
    float *g = tdown(&dx);
    act_fd fd = {(cmp_act)a, 0.2f, dcopy(hx, n), dcopy(hr, n), n};
    snprintf(name, sizeof name, "act_bwd %s (finite differences)", names[a]);
    check_fd(name, fd.x, n, g, act_loss, &fd, 40);
    /* In place forward. */
    cmp_act_fwd(g_ctx, (cmp_act)a, &x, &x, 0.2f);
    snprintf(name, sizeof name, "act_fwd %s in place", names[a]);
    CHECK_TENSOR(name, x, ref);
    free(fd.x), free(fd.r), free(g), free(fy), free(hx), free(hr), free(hd), free(ref), free(rd);
  }
}

/* ---- broadcast binary ops -------------------------------------------------------------------- */

static double bin_ref(cmp_binop op, double a, double b) {
  switch (op) {
    case CMP_ADD:
      return a + b;
    case CMP_SUB:
      return a - b;
    case CMP_MUL:
      return a * b;
    case CMP_MIN:
      return a <= b ? a : b;
    default:
      return a >= b ? a : b;
  }
}

typedef struct bin_fd {
  cmp_binop op;
  int an[4], bn[4];
  double *a, *b, *r;
} bin_fd;

static size_t bidx(const int *an, const int *bn, int n, int c, int h, int w) {
  return (((size_t)(bn[0] == 1 ? 0 : n) * bn[1] + (bn[1] == 1 ? 0 : c)) * bn[2] +
          (bn[2] == 1 ? 0 : h)) *
             bn[3] +
         (bn[3] == 1 ? 0 : w) + 0 * an[0];
}

static double bin_loss(void *u) {
  bin_fd *f = u;
  double s = 0;
  size_t i = 0;
  for (int n = 0; n < f->an[0]; n++)
    for (int c = 0; c < f->an[1]; c++)
      for (int h = 0; h < f->an[2]; h++)
        for (int w = 0; w < f->an[3]; w++, i++)
          s += f->r[i] * bin_ref(f->op, f->a[i], f->b[bidx(f->an, f->bn, n, c, h, w)]);
  return s;
}

static void test_binary(void) {
  const int an[4] = {3, 5, 4, 7};
  const int shapes[][4] = {{3, 5, 4, 7}, {1, 5, 1, 1}, {3, 1, 1, 1},
                           {1, 1, 1, 1}, {3, 5, 1, 7}, {1, 1, 4, 7}};
  const char *names[] = {"add", "sub", "mul", "min", "max"};
  size_t na = 420;
  for (int op = CMP_ADD; op <= CMP_MAX; op++)
    for (int s = 0; s < 6; s++) {
      const int *bn = shapes[s];
      size_t nb = (size_t)bn[0] * bn[1] * bn[2] * bn[3];
      float *ha, *hb, *hr, *hda, *hdb;
      cmp_tensor a = trand(an[0], an[1], an[2], an[3], 40 + s, -1, 1, &ha);
      float *tb = hrand(nb, 50 + s, -1, 1);
      /* Keep min/max away from ties so that finite differences are meaningful. */
      for (int n = 0, i = 0; n < an[0]; n++)
        for (int c = 0; c < an[1]; c++)
          for (int h = 0; h < an[2]; h++)
            for (int w = 0; w < an[3]; w++, i++)
              if (fabsf(ha[i] - tb[bidx(an, bn, n, c, h, w)]) < 0.01f) ha[i] += 0.05f;
      cmp_upload(g_ctx, &a, ha);
      cmp_tensor b = tup(tb, bn[0], bn[1], bn[2], bn[3]);
      hb = tb;
      cmp_tensor y = tens(an[0], an[1], an[2], an[3]);
      cmp_tensor dy = trand(an[0], an[1], an[2], an[3], 60, -1, 1, &hr);
      cmp_tensor da = trand(an[0], an[1], an[2], an[3], 61, -1, 1, &hda);
      cmp_tensor db = trand(bn[0], bn[1], bn[2], bn[3], 62, -1, 1, &hdb);
      cmp_binary(g_ctx, (cmp_binop)op, &a, &b, &y);
      double *ref = dalloc(na), *rda = dalloc(na), *rdb = dalloc(nb);
      for (size_t k = 0; k < nb; k++) rdb[k] = 0.5 * hdb[k];
      size_t i = 0;
      for (int n = 0; n < an[0]; n++)
        for (int c = 0; c < an[1]; c++)
          for (int h = 0; h < an[2]; h++)
            for (int w = 0; w < an[3]; w++, i++) {
              size_t j = bidx(an, bn, n, c, h, w);
              double av = ha[i], bv = hb[j], g = hr[i], ga, gb;
              ref[i] = bin_ref((cmp_binop)op, av, bv);
              switch (op) {
                case CMP_ADD:
                  ga = g, gb = g;
                  break;
                case CMP_SUB:
                  ga = g, gb = -g;
                  break;
                case CMP_MUL:
                  ga = g * bv, gb = g * av;
                  break;
                case CMP_MIN:
                  ga = av <= bv ? g : 0, gb = av <= bv ? 0 : g;
                  break;
                default:
                  ga = av >= bv ? g : 0, gb = av >= bv ? 0 : g;
                  break;
              }
              rda[i] = ga + 0.5 * hda[i];
              rdb[j] += gb;
            }
      char name[96];
      snprintf(name, sizeof name, "binary %s b[%d,%d,%d,%d]", names[op], bn[0], bn[1], bn[2],
               bn[3]);
      CHECK_TENSOR(name, y, ref);
      cmp_binary_bwd(g_ctx, (cmp_binop)op, &a, &b, &dy, &da, &db, 0.5f);
      snprintf(name, sizeof name, "binary_bwd %s da b[%d,%d,%d,%d]", names[op], bn[0], bn[1], bn[2],
               bn[3]);
      CHECK_TENSOR(name, da, rda);
      snprintf(name, sizeof name, "binary_bwd %s db [%d,%d,%d,%d]", names[op], bn[0], bn[1], bn[2],
               bn[3]);
      CHECK_TENSOR(name, db, rdb);
      if (s == 1 || s == 0) {
        cmp_binary_bwd(g_ctx, (cmp_binop)op, &a, &b, &dy, &da, &db, 0.0f);
        float *ga = tdown(&da), *gb = tdown(&db);
        bin_fd f = {(cmp_binop)op,
                    {an[0], an[1], an[2], an[3]},
                    {bn[0], bn[1], bn[2], bn[3]},
                    dcopy(ha, na),
                    dcopy(hb, nb),
                    dcopy(hr, na)};
        snprintf(name, sizeof name, "binary_bwd %s da (finite differences)", names[op]);
        check_fd(name, f.a, na, ga, bin_loss, &f, 30);
        snprintf(name, sizeof name, "binary_bwd %s db (finite differences)", names[op]);
        check_fd(name, f.b, nb, gb, bin_loss, &f, 30);
        free(ga), free(gb), free(f.a), free(f.b), free(f.r);
      }
      /* y aliasing a. */
      cmp_binary(g_ctx, (cmp_binop)op, &a, &b, &a);
      snprintf(name, sizeof name, "binary %s in place", names[op]);
      CHECK_TENSOR(name, a, ref);
      free(ha), free(hb), free(hr), free(hda), free(hdb), free(ref), free(rda), free(rdb);
    }
}

/* ---- reductions ------------------------------------------------------------------------------ */

static void test_reduce_broadcast(void) {
  /* outer, r, inner combinations: batch sums, per-sample group sums, odd sizes; {2, 2052, 1}: a
   * long contiguous reduction in two passes whose slices (65) round up to whole texels (68). */
  const int cases[][3] = {{1, 200, 128}, {13, 10, 1}, {7, 3, 33},
                          {1, 1, 5},     {64, 10, 1}, {2, 2052, 1}};
  for (int k = 0; k < (int)(sizeof cases / sizeof cases[0]); k++)
    for (int mean = 0; mean < 2; mean++) {
      int O = cases[k][0], R = cases[k][1], I = cases[k][2];
      float *hx, *hy, *hs, *hb;
      cmp_tensor x = trand(O * R, I, 1, 1, 70 + k, -1, 1, &hx);
      cmp_tensor y = trand(O, I, 1, 1, 80 + k, -1, 1, &hy);
      double sc = mean ? 1.0 / R : 1.0;
      double *ref = dalloc((size_t)O * I);
      for (int o = 0; o < O; o++)
        for (int i = 0; i < I; i++) {
          double s = 0;
          for (int r = 0; r < R; r++) s += hx[((size_t)o * R + r) * I + i];
          ref[o * I + i] = sc * s + 0.5 * hy[o * I + i];
        }
      cmp_reduce(g_ctx, &x, R, I, mean, &y, 0.5f);
      char name[96];
      snprintf(name, sizeof name, "reduce outer %d r %d inner %d mean %d", O, R, I, mean);
      CHECK_TENSOR(name, y, ref);
      /* broadcast from [O, I] into [O * R, I] */
      cmp_tensor src = trand(O, I, 1, 1, 90 + k, -1, 1, &hs);
      cmp_tensor big = trand(O * R, I, 1, 1, 95 + k, -1, 1, &hb);
      double *rb = dalloc((size_t)O * R * I);
      for (int o = 0; o < O; o++)
        for (int r = 0; r < R; r++)
          for (int i = 0; i < I; i++) {
            size_t j = ((size_t)o * R + r) * I + i;
            rb[j] = sc * hs[o * I + i] + 2.0 * hb[j];
          }
      cmp_broadcast(g_ctx, &src, R, I, mean, &big, 2.0f);
      snprintf(name, sizeof name, "broadcast outer %d r %d inner %d mean %d", O, R, I, mean);
      CHECK_TENSOR(name, big, rb);
      free(hx), free(hy), free(hs), free(hb), free(ref), free(rb);
    }
}

/* ---- dense ----------------------------------------------------------------------------------- */

static void test_gemm(void) {
  const int sizes[][3] = {{1, 1, 1}, {17, 33, 65}, {64, 128, 1028}, {131, 7, 259}, {300, 301, 29}};
  for (int s = 0; s < 5; s++)
    for (int ta = 0; ta < 2; ta++)
      for (int tb = 0; tb < 2; tb++) {
        int m = sizes[s][0], n = sizes[s][1], k = sizes[s][2];
        int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 5;
        int ar = ta ? k : m, br = tb ? n : k;
        float *ha, *hb, *hc;
        cmp_tensor a = trand(ar, lda, 1, 1, 100, -1, 1, &ha);
        cmp_tensor b = trand(br, ldb, 1, 1, 101, -1, 1, &hb);
        cmp_tensor c = trand(m, ldc, 1, 1, 102, -1, 1, &hc);
        double *ref = dalloc((size_t)m * ldc);
        for (int i = 0; i < m; i++)
          for (int j = 0; j < ldc; j++) {
            if (j >= n) {
              ref[(size_t)i * ldc + j] = hc[(size_t)i * ldc + j]; /* outside C: untouched */
              continue;
            }
            double acc = 0;
            for (int q = 0; q < k; q++)
              acc += (double)(ta ? ha[(size_t)q * lda + i] : ha[(size_t)i * lda + q]) *
                     (tb ? hb[(size_t)j * ldb + q] : hb[(size_t)q * ldb + j]);
            ref[(size_t)i * ldc + j] = 0.75 * acc - 0.5 * hc[(size_t)i * ldc + j];
          }
        cmp_gemm(g_ctx, ta, tb, m, n, k, 0.75f, &a, lda, &b, ldb, -0.5f, &c, ldc);
        char name[96];
        snprintf(name, sizeof name, "gemm %dx%dx%d ta %d tb %d", m, n, k, ta, tb);
        CHECK_TENSOR(name, c, ref);
        free(ha), free(hb), free(hc), free(ref);
      }
}

/* The reference of a fused activation (cmp_fused_act) applied to a copy of ref. */
static double *fused_ref(const double *ref, size_t n, const cmp_fused_act *a) {
  double *r = dalloc(n);
  for (size_t i = 0; i < n; i++)
    r[i] = ref[i] > 0 ? ref[i] : a->act == CMP_ACT_RELU ? 0.0 : (double)a->alpha * ref[i];
  return r;
}
static const cmp_fused_act fused_acts[2] = {{CMP_ACT_RELU, 0.0f}, {CMP_ACT_LEAKY_RELU, 0.2f}};

static void test_linear(void) {
  /* [N, K] -> [N, M]: the Q head's input layer, batch 1, large batch, odd sizes. */
  const int cases[][3] = {{1, 1028, 128}, {640, 128, 128}, {7, 13, 1}, {2000, 33, 5}};
  for (int s = 0; s < 4; s++)
    for (int bias = 0; bias < 2; bias++) {
      int N = cases[s][0], K = cases[s][1], M = cases[s][2];
      float *hx, *hw, *hb, *hdy, *hdx, *hdw, *hdb;
      cmp_tensor x = trand(N, K, 1, 1, 110, -1, 1, &hx);
      cmp_tensor w = trand(M, K, 1, 1, 111, -0.2f, 0.2f, &hw);
      cmp_tensor b = trand(1, M, 1, 1, 112, -1, 1, &hb);
      cmp_tensor y = tens(N, M, 1, 1);
      cmp_tensor dy = trand(N, M, 1, 1, 113, -1, 1, &hdy);
      cmp_tensor dx = trand(N, K, 1, 1, 114, -1, 1, &hdx);
      cmp_tensor dw = trand(M, K, 1, 1, 115, -1, 1, &hdw);
      cmp_tensor db = trand(1, M, 1, 1, 116, -1, 1, &hdb);
      double *ry = dalloc((size_t)N * M), *rdx = dalloc((size_t)N * K),
             *rdw = dalloc((size_t)M * K);
      double *rdb = dalloc(M);
      for (int n = 0; n < N; n++)
        for (int m = 0; m < M; m++) {
          double acc = bias ? hb[m] : 0;
          for (int k = 0; k < K; k++) acc += (double)hx[(size_t)n * K + k] * hw[(size_t)m * K + k];
          ry[(size_t)n * M + m] = acc;
        }
      for (size_t i = 0; i < (size_t)N * K; i++) rdx[i] = bias ? hdx[i] : 0;
      for (size_t i = 0; i < (size_t)M * K; i++) rdw[i] = bias ? hdw[i] : 0;
      for (int m = 0; m < M; m++) rdb[m] = bias ? hdb[m] : 0;
      for (int n = 0; n < N; n++)
        for (int m = 0; m < M; m++) {
          double g = hdy[(size_t)n * M + m];
          rdb[m] += g;
          for (int k = 0; k < K; k++) {
            rdx[(size_t)n * K + k] += g * hw[(size_t)m * K + k];
            rdw[(size_t)m * K + k] += g * hx[(size_t)n * K + k];
          }
        }
      float beta = bias ? 1.0f : 0.0f; /* exercise both overwrite and accumulate */
      cmp_linear_fwd(g_ctx, &x, &w, bias ? &b : NULL, &y);
      cmp_linear_bwd_data(g_ctx, &dy, &w, &dx, beta);
      cmp_linear_bwd_weight(g_ctx, &dy, &x, &dw, &db, beta);
      char name[96];
      snprintf(name, sizeof name, "linear_fwd N %d K %d M %d bias %d", N, K, M, bias);
      CHECK_TENSOR(name, y, ry);
      snprintf(name, sizeof name, "linear_bwd_data N %d K %d M %d beta %g", N, K, M, beta);
      CHECK_TENSOR(name, dx, rdx);
      snprintf(name, sizeof name, "linear_bwd_weight N %d K %d M %d beta %g", N, K, M, beta);
      CHECK_TENSOR(name, dw, rdw);
      snprintf(name, sizeof name, "linear_bwd_weight db N %d M %d beta %g", N, M, beta);
      CHECK_TENSOR(name, db, rdb);
      for (int a = 0; a < 2; a++) { /* with the activation fused */
        double *ra = fused_ref(ry, (size_t)N * M, &fused_acts[a]);
        cmp_linear_fwd_act(g_ctx, &x, &w, bias ? &b : NULL, &y, &fused_acts[a]);
        snprintf(name, sizeof name, "linear_fwd_act %d N %d K %d M %d bias %d", a, N, K, M, bias);
        CHECK_TENSOR(name, y, ra);
        free(ra);
      }
      free(hx), free(hw), free(hb), free(hdy), free(hdx), free(hdw), free(hdb);
      free(ry), free(rdx), free(rdw), free(rdb);
    }
}

/* ---- convolutions ---------------------------------------------------------------------------- */

typedef struct conv_case {
  int N, C, H, W, O;
  cmp_conv_params p;
} conv_case;

static const conv_case conv_cases[] = {
    {3, 6, 64, 64, 8, {4, 4, 2, 2, 1, 1}}, /* the encoder's layers (small batch) */
    {2, 8, 32, 32, 16, {4, 4, 2, 2, 1, 1}},   {5, 16, 16, 16, 32, {4, 4, 2, 2, 1, 1}},
    {17, 32, 8, 8, 64, {4, 4, 2, 2, 1, 1}},   /* many samples per group */
    {128, 8, 32, 32, 16, {4, 4, 2, 2, 1, 1}}, /* a training batch */
    {1, 3, 7, 9, 5, {3, 3, 1, 1, 1, 1}},      /* batch 1, odd sizes */
    {2, 5, 11, 13, 3, {5, 3, 3, 2, 2, 0}},    /* non-square kernel and stride, edge padding */
    {4, 7, 6, 5, 9, {1, 1, 1, 1, 0, 0}},      /* pointwise */
    {3, 2, 9, 9, 4, {2, 2, 3, 3, 0, 0}},      /* stride > kernel: pixels never read */
    {2, 3, 5, 16, 8, {3, 3, 1, 1, 1, 1}},     /* the CPU's direct path, stride 1 */
    {3, 4, 7, 23, 16, {5, 5, 3, 3, 2, 2}},    /* the CPU's direct path, stride 3, wide padding */
    {2, 5, 6, 8, 24, {1, 1, 1, 1, 0, 0}},     /* the CPU's direct path, pointwise */
    {2, 8, 6, 16, 5, {3, 3, 1, 1, 1, 1}},     /* the CPU's direct data gradient, stride 1 */
    {2, 16, 7, 24, 3, {5, 5, 3, 3, 2, 2}},    /* the CPU's direct data gradient, stride 3 */
    {2, 3, 6, 9, 8, {4, 4, 1, 1, 1, 1}},      /* Vulkan's shared windows, rows not 4-aligned */
};

typedef struct conv_fd {
  const conv_case *c;
  bool transposed;
  double *x, *w, *b, *r; /* inputs and loss weights */
  size_t ny;
} conv_fd;

static double conv_loss(void *u) {
  conv_fd *f = u;
  const conv_case *c = f->c;
  double *y = dalloc(f->ny), s = 0;
  if (f->transposed)
    ref_convt(f->x, f->w, f->b, y, c->N, c->C, c->H, c->W, c->O, &c->p);
  else
    ref_conv(f->x, f->w, f->b, y, c->N, c->C, c->H, c->W, c->O, &c->p);
  for (size_t i = 0; i < f->ny; i++) s += f->r[i] * y[i];
  free(y);
  return s;
}

static void test_conv(void) {
  for (size_t k = 0; k < sizeof conv_cases / sizeof conv_cases[0]; k++) {
    const conv_case *c = &conv_cases[k];
    int Ho = cmp_conv_out(c->H, c->p.kh, c->p.sh, c->p.ph);
    int Wo = cmp_conv_out(c->W, c->p.kw, c->p.sw, c->p.pw);
    size_t nx = (size_t)c->N * c->C * c->H * c->W, nw = (size_t)c->O * c->C * c->p.kh * c->p.kw;
    size_t ny = (size_t)c->N * c->O * Ho * Wo;
    float *hx, *hw, *hb, *hdy, *hdx, *hdw, *hdb;
    cmp_tensor x = trand(c->N, c->C, c->H, c->W, 200 + k, -1, 1, &hx);
    cmp_tensor w = trand(c->O, c->C, c->p.kh, c->p.kw, 210 + k, -0.3f, 0.3f, &hw);
    cmp_tensor b = trand(1, c->O, 1, 1, 220 + k, -1, 1, &hb);
    cmp_tensor y = tens(c->N, c->O, Ho, Wo);
    cmp_tensor dy = trand(c->N, c->O, Ho, Wo, 230 + k, -1, 1, &hdy);
    cmp_tensor dx = trand(c->N, c->C, c->H, c->W, 240 + k, -1, 1, &hdx);
    cmp_tensor dw = trand(c->O, c->C, c->p.kh, c->p.kw, 250 + k, -1, 1, &hdw);
    cmp_tensor db = trand(1, c->O, 1, 1, 260 + k, -1, 1, &hdb);
    double *dx_ = dcopy(hx, nx), *dw_ = dcopy(hw, nw), *db_ = dcopy(hb, c->O);
    double *dr = dcopy(hdy, ny);
    double *ry = dalloc(ny), *rdx = dcopy(hdx, nx), *rdw = dcopy(hdw, nw), *rdb = dcopy(hdb, c->O);
    ref_conv(dx_, dw_, db_, ry, c->N, c->C, c->H, c->W, c->O, &c->p);
    ref_conv_adj(dx_, dw_, dr, rdx, rdw, c->N, c->C, c->H, c->W, c->O, &c->p);
    for (int n = 0; n < c->N; n++)
      for (int o = 0; o < c->O; o++)
        for (int i = 0; i < Ho * Wo; i++) rdb[o] += hdy[((size_t)n * c->O + o) * Ho * Wo + i];
    cmp_conv2d_fwd(g_ctx, &x, &w, &b, &y, &c->p);
    cmp_conv2d_bwd_data(g_ctx, &dy, &w, &dx, &c->p, 1.0f);
    cmp_conv2d_bwd_weight(g_ctx, &dy, &x, &dw, &db, &c->p, 1.0f);
    char name[128];
    snprintf(name, sizeof name, "conv2d case %zu [%d,%d,%d,%d] O %d k %dx%d s %dx%d p %dx%d", k,
             c->N, c->C, c->H, c->W, c->O, c->p.kh, c->p.kw, c->p.sh, c->p.sw, c->p.ph, c->p.pw);
    char n2[160];
    snprintf(n2, sizeof n2, "%s fwd", name);
    CHECK_TENSOR(n2, y, ry);
    snprintf(n2, sizeof n2, "%s bwd_data (accumulate)", name);
    CHECK_TENSOR(n2, dx, rdx);
    snprintf(n2, sizeof n2, "%s bwd_weight (accumulate)", name);
    CHECK_TENSOR(n2, dw, rdw);
    snprintf(n2, sizeof n2, "%s bwd bias (accumulate)", name);
    CHECK_TENSOR(n2, db, rdb);
    for (int a = 0; a < 2; a++) { /* with the activation fused */
      double *ra = fused_ref(ry, ny, &fused_acts[a]);
      cmp_conv2d_fwd_act(g_ctx, &x, &w, &b, &y, &c->p, &fused_acts[a]);
      snprintf(n2, sizeof n2, "%s fwd act %d", name, a);
      CHECK_TENSOR(n2, y, ra);
      free(ra);
    }
    /* Overwrite forms, then finite differences on the small cases. */
    cmp_conv2d_bwd_data(g_ctx, &dy, &w, &dx, &c->p, 0.0f);
    cmp_conv2d_bwd_weight(g_ctx, &dy, &x, &dw, &db, &c->p, 0.0f);
    memset(rdx, 0, nx * sizeof(double));
    memset(rdw, 0, nw * sizeof(double));
    ref_conv_adj(dx_, dw_, dr, rdx, rdw, c->N, c->C, c->H, c->W, c->O, &c->p);
    snprintf(n2, sizeof n2, "%s bwd_data", name);
    CHECK_TENSOR(n2, dx, rdx);
    snprintf(n2, sizeof n2, "%s bwd_weight", name);
    CHECK_TENSOR(n2, dw, rdw);
    if (nx * nw < 2000000) {
      float *gx = tdown(&dx), *gw = tdown(&dw), *gb = tdown(&db);
      conv_fd f = {c, false, dx_, dw_, db_, dr, ny};
      snprintf(n2, sizeof n2, "%s dx (finite differences)", name);
      check_fd(n2, dx_, nx, gx, conv_loss, &f, 12);
      snprintf(n2, sizeof n2, "%s dw (finite differences)", name);
      check_fd(n2, dw_, nw, gw, conv_loss, &f, 12);
      snprintf(n2, sizeof n2, "%s db (finite differences)", name);
      check_fd(n2, db_, (size_t)c->O, gb, conv_loss, &f, 4);
      free(gx), free(gw), free(gb);
    }
    free(hx), free(hw), free(hb), free(hdy), free(hdx), free(hdw), free(hdb);
    free(dx_), free(dw_), free(db_), free(dr), free(ry), free(rdx), free(rdw), free(rdb);
  }
}

/* Transposed convolutions: x [N, C, H, W] -> y [N, O, Ho, Wo], w [C, O, kh, kw]. */
static void test_convt(void) {
  const conv_case cases[] = {
      {3, 8, 4, 4, 6, {4, 4, 2, 2, 1, 1}},   /* a decoder layer: 4 -> 8 */
      {1, 5, 3, 7, 3, {3, 3, 1, 1, 1, 1}},   /* batch 1, odd sizes, stride 1 */
      {2, 4, 5, 4, 7, {5, 3, 3, 2, 1, 0}},   /* non-square, uneven */
      {33, 16, 8, 8, 8, {4, 4, 2, 2, 1, 1}}, /* larger batch */
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    const conv_case *c = &cases[k];
    int Ho = cmp_convt_out(c->H, c->p.kh, c->p.sh, c->p.ph);
    int Wo = cmp_convt_out(c->W, c->p.kw, c->p.sw, c->p.pw);
    size_t nx = (size_t)c->N * c->C * c->H * c->W, nw = (size_t)c->C * c->O * c->p.kh * c->p.kw;
    size_t ny = (size_t)c->N * c->O * Ho * Wo;
    float *hx, *hw, *hb, *hdy, *hdx, *hdw, *hdb;
    cmp_tensor x = trand(c->N, c->C, c->H, c->W, 300 + k, -1, 1, &hx);
    cmp_tensor w = trand(c->C, c->O, c->p.kh, c->p.kw, 310 + k, -0.3f, 0.3f, &hw);
    cmp_tensor b = trand(1, c->O, 1, 1, 320 + k, -1, 1, &hb);
    cmp_tensor y = tens(c->N, c->O, Ho, Wo);
    cmp_tensor dy = trand(c->N, c->O, Ho, Wo, 330 + k, -1, 1, &hdy);
    cmp_tensor dx = trand(c->N, c->C, c->H, c->W, 340 + k, -1, 1, &hdx);
    cmp_tensor dw = trand(c->C, c->O, c->p.kh, c->p.kw, 350 + k, -1, 1, &hdw);
    cmp_tensor db = trand(1, c->O, 1, 1, 360 + k, -1, 1, &hdb);
    double *dx_ = dcopy(hx, nx), *dw_ = dcopy(hw, nw), *db_ = dcopy(hb, c->O);
    double *dr = dcopy(hdy, ny);
    double *ry = dalloc(ny), *rdx = dcopy(hdx, nx), *rdw = dcopy(hdw, nw), *rdb = dcopy(hdb, c->O);
    ref_convt(dx_, dw_, db_, ry, c->N, c->C, c->H, c->W, c->O, &c->p);
    ref_convt_adj(dx_, dw_, dr, rdx, rdw, c->N, c->C, c->H, c->W, c->O, &c->p);
    for (int n = 0; n < c->N; n++)
      for (int o = 0; o < c->O; o++)
        for (int i = 0; i < Ho * Wo; i++) rdb[o] += hdy[((size_t)n * c->O + o) * Ho * Wo + i];
    cmp_convt2d_fwd(g_ctx, &x, &w, &b, &y, &c->p);
    cmp_convt2d_bwd_data(g_ctx, &dy, &w, &dx, &c->p, 1.0f);
    cmp_convt2d_bwd_weight(g_ctx, &dy, &x, &dw, &db, &c->p, 1.0f);
    char name[160];
    snprintf(name, sizeof name, "convt2d case %zu fwd", k);
    CHECK_TENSOR(name, y, ry);
    snprintf(name, sizeof name, "convt2d case %zu bwd_data (accumulate)", k);
    CHECK_TENSOR(name, dx, rdx);
    snprintf(name, sizeof name, "convt2d case %zu bwd_weight (accumulate)", k);
    CHECK_TENSOR(name, dw, rdw);
    snprintf(name, sizeof name, "convt2d case %zu bwd bias (accumulate)", k);
    CHECK_TENSOR(name, db, rdb);
    cmp_convt2d_bwd_data(g_ctx, &dy, &w, &dx, &c->p, 0.0f);
    cmp_convt2d_bwd_weight(g_ctx, &dy, &x, &dw, &db, &c->p, 0.0f);
    float *gx = tdown(&dx), *gw = tdown(&dw), *gb = tdown(&db);
    conv_fd f = {c, true, dx_, dw_, db_, dr, ny};
    snprintf(name, sizeof name, "convt2d case %zu dx (finite differences)", k);
    check_fd(name, dx_, nx, gx, conv_loss, &f, 10);
    snprintf(name, sizeof name, "convt2d case %zu dw (finite differences)", k);
    check_fd(name, dw_, nw, gw, conv_loss, &f, 10);
    snprintf(name, sizeof name, "convt2d case %zu db (finite differences)", k);
    check_fd(name, db_, (size_t)c->O, gb, conv_loss, &f, 4);
    free(gx), free(gw), free(gb);
    free(hx), free(hw), free(hb), free(hdy), free(hdx), free(hdw), free(hdb);
    free(dx_), free(dw_), free(db_), free(dr), free(ry), free(rdx), free(rdw), free(rdb);
  }
}

/* ---- batch normalisation --------------------------------------------------------------------- */

typedef struct bn_fd {
  int N, C, HW;
  double *x, *gamma, *beta, *r;
  double eps;
} bn_fd;

/* Training-mode batch norm in double. mean/var (biased) out if non-NULL. */
static void ref_bn(const bn_fd *f, double *y, double *mean, double *var) {
  size_t m = (size_t)f->N * f->HW;
  for (int c = 0; c < f->C; c++) {
    double s = 0, ss = 0;
    for (int n = 0; n < f->N; n++)
      for (int i = 0; i < f->HW; i++) s += f->x[((size_t)n * f->C + c) * f->HW + i];
    double mu = s / m;
    for (int n = 0; n < f->N; n++)
      for (int i = 0; i < f->HW; i++) {
        double d = f->x[((size_t)n * f->C + c) * f->HW + i] - mu;
        ss += d * d;
      }
    double v = ss / m;
    if (mean) mean[c] = mu;
    if (var) var[c] = v;
    for (int n = 0; n < f->N; n++)
      for (int i = 0; i < f->HW; i++) {
        size_t j = ((size_t)n * f->C + c) * f->HW + i;
        y[j] = (f->x[j] - mu) / sqrt(v + f->eps) * f->gamma[c] + f->beta[c];
      }
  }
}

static double bn_loss(void *u) {
  bn_fd *f = u;
  size_t n = (size_t)f->N * f->C * f->HW;
  double *y = dalloc(n), s = 0;
  ref_bn(f, y, NULL, NULL);
  for (size_t i = 0; i < n; i++) s += f->r[i] * y[i];
  free(y);
  return s;
}

static void test_batchnorm(void) {
  /* {11, 2, 6, 10}: 2 slices of 330 elements per channel, 332 in runs of 4 (RGBA32F statistics).
   * Features of up to 4096 rows take Vulkan's one-dispatch path (bn_features_*.comp), {4500, 3}
   * the general one. */
  const int cases[][4] = {{5, 16, 8, 8},   {2, 32, 3, 5}, {64, 128, 1, 1}, {3, 7, 1, 1},
                          {200, 33, 1, 1}, {3, 8, 2, 4},  {11, 2, 6, 10},  {4500, 3, 1, 1}};
  for (int k = 0; k < (int)(sizeof cases / sizeof cases[0]); k++) {
    int N = cases[k][0], C = cases[k][1], H = cases[k][2], W = cases[k][3];
    size_t n = (size_t)N * C * H * W;
    const float mom = 0.1f, eps = 1e-5f;
    float *hx, *hg, *hbt, *hrm, *hrv, *hdy, *hdx, *hdg, *hdb;
    cmp_tensor x = trand(N, C, H, W, 400 + k, -2, 3, &hx);
    cmp_tensor gamma = trand(1, C, 1, 1, 410 + k, 0.5f, 1.5f, &hg);
    cmp_tensor beta = trand(1, C, 1, 1, 420 + k, -1, 1, &hbt);
    cmp_tensor rm = trand(1, C, 1, 1, 430 + k, -1, 1, &hrm);
    cmp_tensor rv = trand(1, C, 1, 1, 440 + k, 0.5f, 2, &hrv);
    cmp_tensor y = tens(N, C, H, W), sm = tens(1, C, 1, 1), si = tens(1, C, 1, 1);
    cmp_tensor dy = trand(N, C, H, W, 450 + k, -1, 1, &hdy);
    cmp_tensor dx = trand(N, C, H, W, 460 + k, -1, 1, &hdx);
    cmp_tensor dg = trand(1, C, 1, 1, 470 + k, -1, 1, &hdg);
    cmp_tensor db = trand(1, C, 1, 1, 480 + k, -1, 1, &hdb);
    bn_fd f = {N, C, H * W, dcopy(hx, n), dcopy(hg, C), dcopy(hbt, C), dcopy(hdy, n), eps};
    double *ry = dalloc(n), *mean = dalloc(C), *var = dalloc(C);
    ref_bn(&f, ry, mean, var);
    double m = (double)N * H * W;
    double *rrm = dalloc(C), *rrv = dalloc(C), *rsm = dalloc(C), *rsi = dalloc(C);
    for (int c = 0; c < C; c++) {
      rrm[c] = (1 - mom) * hrm[c] + mom * mean[c];
      rrv[c] = (1 - mom) * hrv[c] + mom * var[c] * m / (m - 1);
      rsm[c] = mean[c];
      rsi[c] = 1 / sqrt(var[c] + eps);
    }
    cmp_bn_fwd_train(g_ctx, &x, &gamma, &beta, &rm, &rv, mom, eps, &y, &sm, &si);
    char name[96];
    snprintf(name, sizeof name, "bn_fwd_train [%d,%d,%d,%d]", N, C, H, W);
    CHECK_TENSOR(name, y, ry);
    snprintf(name, sizeof name, "bn_fwd_train running mean [%d,%d,%d,%d]", N, C, H, W);
    CHECK_TENSOR(name, rm, rrm);
    snprintf(name, sizeof name, "bn_fwd_train running var [%d,%d,%d,%d]", N, C, H, W);
    CHECK_TENSOR(name, rv, rrv);
    snprintf(name, sizeof name, "bn_fwd_train saved mean [%d,%d,%d,%d]", N, C, H, W);
    CHECK_TENSOR(name, sm, rsm);
    snprintf(name, sizeof name, "bn_fwd_train saved invstd [%d,%d,%d,%d]", N, C, H, W);
    CHECK_TENSOR(name, si, rsi);
    /* Backward: analytic reference with accumulation, then finite differences. */
    double *rdx = dalloc(n), *rdg = dalloc(C), *rdb = dalloc(C);
    for (int c = 0; c < C; c++) {
      double inv = 1 / sqrt(var[c] + eps), sdy = 0, sdyx = 0;
      for (int s = 0; s < N; s++)
        for (int i = 0; i < H * W; i++) {
          size_t j = ((size_t)s * C + c) * H * W + i;
          sdy += hdy[j];
          sdyx += hdy[j] * (hx[j] - mean[c]) * inv;
        }
      for (int s = 0; s < N; s++)
        for (int i = 0; i < H * W; i++) {
          size_t j = ((size_t)s * C + c) * H * W + i;
          double xh = (hx[j] - mean[c]) * inv;
          rdx[j] = hg[c] * inv / m * (m * hdy[j] - sdy - xh * sdyx) + hdx[j];
        }
      rdg[c] = sdyx + hdg[c];
      rdb[c] = sdy + hdb[c];
    }
    cmp_bn_bwd(g_ctx, &x, &dy, &gamma, &sm, &si, &dx, &dg, &db, 1.0f);
    snprintf(name, sizeof name, "bn_bwd dx [%d,%d,%d,%d]", N, C, H, W);
    CHECK_TENSOR(name, dx, rdx);
    snprintf(name, sizeof name, "bn_bwd dgamma [%d,%d,%d,%d]", N, C, H, W);
    CHECK_TENSOR(name, dg, rdg);
    snprintf(name, sizeof name, "bn_bwd dbeta [%d,%d,%d,%d]", N, C, H, W);
    CHECK_TENSOR(name, db, rdb);
    cmp_bn_bwd(g_ctx, &x, &dy, &gamma, &sm, &si, &dx, &dg, &db, 0.0f);
    float *gx = tdown(&dx), *gg = tdown(&dg), *gb = tdown(&db);
    snprintf(name, sizeof name, "bn_bwd dx [%d,%d,%d,%d] (finite differences)", N, C, H, W);
    check_fd(name, f.x, n, gx, bn_loss, &f, 20);
    snprintf(name, sizeof name, "bn_bwd dgamma [%d,%d,%d,%d] (finite differences)", N, C, H, W);
    check_fd(name, f.gamma, C, gg, bn_loss, &f, 8);
    snprintf(name, sizeof name, "bn_bwd dbeta [%d,%d,%d,%d] (finite differences)", N, C, H, W);
    check_fd(name, f.beta, C, gb, bn_loss, &f, 8);
    /* dgamma/dbeta NULL: only dx. */
    cmp_bn_bwd(g_ctx, &x, &dy, &gamma, &sm, &si, &dx, NULL, NULL, 0.0f);
    for (size_t i = 0; i < n; i++) rdx[i] -= hdx[i];
    snprintf(name, sizeof name, "bn_bwd dx only [%d,%d,%d,%d]", N, C, H, W);
    CHECK_TENSOR(name, dx, rdx);
    /* The extended form: dx and the parameter gradients accumulated with different factors, and
     * dx carried back through a ReLU / leaky ReLU whose output is x (what cmp_act_bwd would do
     * after it). */
    for (int a = 0; a < 2; a++) {
      cmp_fused_act act = {a == 0 ? CMP_ACT_RELU : CMP_ACT_LEAKY_RELU, 0.2f};
      double *rax = dalloc(n), *rag = dalloc(C), *rab = dalloc(C);
      for (size_t i = 0; i < n; i++)
        rax[i] = rdx[i] * (hx[i] > 0 ? 1.0 : a == 0 ? 0.0 : 0.2) + 0.5 * hdx[i];
      for (int c = 0; c < C; c++) rag[c] = rdg[c] + hdg[c], rab[c] = rdb[c] + hdb[c];
      cmp_upload(g_ctx, &dx, hdx), cmp_upload(g_ctx, &dg, hdg), cmp_upload(g_ctx, &db, hdb);
      cmp_bn_bwd_ex(g_ctx, &x, &dy, &gamma, &sm, &si, &dx, &dg, &db, NULL, 0.5f, 2.0f, &act);
      const char *an = a == 0 ? "relu" : "leaky relu";
      snprintf(name, sizeof name, "bn_bwd_ex dx through %s [%d,%d,%d,%d]", an, N, C, H, W);
      CHECK_TENSOR(name, dx, rax);
      snprintf(name, sizeof name, "bn_bwd_ex dgamma [%d,%d,%d,%d]", N, C, H, W);
      CHECK_TENSOR(name, dg, rag);
      snprintf(name, sizeof name, "bn_bwd_ex dbeta [%d,%d,%d,%d]", N, C, H, W);
      CHECK_TENSOR(name, db, rab);
      free(rax), free(rag), free(rab);
    }
    if (H * W == 1) { /* features: the column sums of dx too (a linear layer's bias gradient) */
      cmp_fused_act act = {CMP_ACT_LEAKY_RELU, 0.2f};
      float *hds;
      cmp_tensor ds = trand(1, C, 1, 1, 490 + k, -1, 1, &hds);
      double *rax = dalloc(n), *rds = dalloc(C);
      for (int c = 0; c < C; c++) rds[c] = 2.0 * hds[c];
      for (size_t j = 0; j < n; j++) {
        rax[j] = rdx[j] * (hx[j] > 0 ? 1.0 : 0.2);
        rds[j % (size_t)C] += rax[j];
      }
      cmp_bn_bwd_ex(g_ctx, &x, &dy, &gamma, &sm, &si, &dx, NULL, NULL, &ds, 0.0f, 2.0f, &act);
      snprintf(name, sizeof name, "bn_bwd_ex dx with dsum [%d,%d]", N, C);
      CHECK_TENSOR(name, dx, rax);
      snprintf(name, sizeof name, "bn_bwd_ex dsum [%d,%d]", N, C);
      CHECK_TENSOR(name, ds, rds);
      free(hds), free(rax), free(rds);
    }
    /* Eval mode with the updated running statistics, in place. */
    double *re = dalloc(n);
    for (int s = 0; s < N; s++)
      for (int c = 0; c < C; c++)
        for (int i = 0; i < H * W; i++) {
          size_t j = ((size_t)s * C + c) * H * W + i;
          re[j] = (hx[j] - (float)rrm[c]) / sqrt((float)rrv[c] + (double)eps) * hg[c] + hbt[c];
        }
    cmp_bn_fwd_eval(g_ctx, &x, &gamma, &beta, &rm, &rv, eps, &x);
    snprintf(name, sizeof name, "bn_fwd_eval [%d,%d,%d,%d]", N, C, H, W);
    CHECK_TENSOR(name, x, re);
    free(gx), free(gg), free(gb), free(re);
    free(hx), free(hg), free(hbt), free(hrm), free(hrv), free(hdy), free(hdx), free(hdg), free(hdb);
    free(f.x), free(f.gamma), free(f.beta), free(f.r), free(ry), free(mean), free(var);
    free(rrm), free(rrv), free(rsm), free(rsi), free(rdx), free(rdg), free(rdb);
  }
}

/* ---- losses ---------------------------------------------------------------------------------- */

typedef struct lse_fd {
  int N, K;
  double *x, *r;
} lse_fd;

static double lse_loss(void *u) {
  lse_fd *f = u;
  double s = 0;
  for (int n = 0; n < f->N; n++) {
    double m = -INFINITY, e = 0;
    for (int k = 0; k < f->K; k++) m = fmax(m, f->x[n * f->K + k]);
    for (int k = 0; k < f->K; k++) e += exp(f->x[n * f->K + k] - m);
    s += f->r[n] * (m + log(e));
  }
  return s;
}

static void test_losses(void) {
  /* MSE over an odd count, overwrite and accumulate. */
  const int n = 1001;
  float *ha, *hb, *hd;
  cmp_tensor a = trand(n, 1, 1, 1, 500, -2, 2, &ha), b = trand(n, 1, 1, 1, 501, -2, 2, &hb);
  cmp_tensor out = tens(1, 1, 1, 1), da = trand(n, 1, 1, 1, 502, -1, 1, &hd);
  double acc = 0, *rd = dalloc(n), ro;
  for (int i = 0; i < n; i++) acc += ((double)ha[i] - hb[i]) * ((double)ha[i] - hb[i]);
  ro = acc / n;
  cmp_mse_fwd(g_ctx, &a, &b, &out);
  CHECK_TENSOR("mse_fwd", out, &ro);
  for (int i = 0; i < n; i++) rd[i] = 0.7 * 2 * ((double)ha[i] - hb[i]) / n + hd[i];
  cmp_mse_bwd(g_ctx, &a, &b, 0.7f, &da, 1.0f);
  CHECK_TENSOR("mse_bwd", da, rd);
  free(ha), free(hb), free(hd), free(rd);

  /* log-sum-exp over the 10 random-action Q values of each sample, large values included. */
  const int cases[][2] = {{64, 10}, {1, 1}, {7, 33}};
  for (int k = 0; k < 3; k++) {
    int N = cases[k][0], K = cases[k][1];
    float *hx, *hdy, *hdx;
    float *tx = hrand((size_t)N * K, 510 + k, -5, 5);
    if (k == 0) tx[3] = 80.0f, tx[4] = 79.0f; /* exp would overflow without the max shift */
    cmp_tensor x = tup(tx, N, K, 1, 1);
    hx = tx;
    cmp_tensor y = tens(N, 1, 1, 1), dy = trand(N, 1, 1, 1, 520 + k, -1, 1, &hdy);
    cmp_tensor dx = trand(N, K, 1, 1, 530 + k, -1, 1, &hdx);
    double *ry = dalloc(N), *rdx = dalloc((size_t)N * K);
    for (int s = 0; s < N; s++) {
      double m = -INFINITY, e = 0;
      for (int j = 0; j < K; j++) m = fmax(m, hx[s * K + j]);
      for (int j = 0; j < K; j++) e += exp(hx[s * K + j] - m);
      ry[s] = m + log(e);
      for (int j = 0; j < K; j++)
        rdx[s * K + j] = hdy[s] * exp(hx[s * K + j] - ry[s]) + 0.5 * hdx[s * K + j];
    }
    cmp_logsumexp_fwd(g_ctx, &x, &y);
    char name[64];
    snprintf(name, sizeof name, "logsumexp_fwd [%d,%d]", N, K);
    CHECK_TENSOR(name, y, ry);
    cmp_logsumexp_bwd(g_ctx, &x, &y, &dy, &dx, 0.5f);
    snprintf(name, sizeof name, "logsumexp_bwd [%d,%d]", N, K);
    CHECK_TENSOR(name, dx, rdx);
    cmp_logsumexp_bwd(g_ctx, &x, &y, &dy, &dx, 0.0f);
    float *g = tdown(&dx);
    lse_fd f = {N, K, dcopy(hx, (size_t)N * K), dcopy(hdy, N)};
    snprintf(name, sizeof name, "logsumexp_bwd [%d,%d] (finite differences)", N, K);
    check_fd(name, f.x, (size_t)N * K, g, lse_loss, &f, 20);
    free(g), free(f.x), free(f.r), free(hx), free(hdy), free(hdx), free(ry), free(rdx);
  }
}

/* ---- optimisers ------------------------------------------------------------------------------ */

static void test_adam(void) {
  /* Hand-computed: p = 1, g = 0.5 then -1, lr 0.1, betas (0.9, 0.999), eps 1e-8:
   * step 1: m = 0.05, v = 0.00025, p = 1 - 0.1 * 0.5 / (0.5 + 1e-8) = 0.9;
   * step 2: m = -0.055, v = 0.00124975, p = 0.93661035. */
  cmp_tensor p = tens(1, 1, 1, 1), g = tens(1, 1, 1, 1), m = tens(1, 1, 1, 1), v = tens(1, 1, 1, 1);
  cmp_fill(g_ctx, &p, 1.0f);
  cmp_fill(g_ctx, &g, 0.5f);
  cmp_adam_step(g_ctx, &p, &g, &m, &v, 0.1f, 0.9f, 0.999f, 1e-8f, 1);
  float fp, fm, fv;
  cmp_download(g_ctx, &p, &fp);
  cmp_download(g_ctx, &m, &fm);
  cmp_download(g_ctx, &v, &fv);
  /* The betas are floats: 1 - 0.999f = 0.00099998713, so v is off by 1.3e-5 relative. */
  CHECK_NEAR(fp, 0.9, 1e-6);
  CHECK_NEAR(fm, 0.05, 1e-7);
  CHECK_NEAR(fv, 0.00025, 1e-8);
  cmp_fill(g_ctx, &g, -1.0f);
  cmp_adam_step(g_ctx, &p, &g, &m, &v, 0.1f, 0.9f, 0.999f, 1e-8f, 2);
  cmp_download(g_ctx, &p, &fp);
  cmp_download(g_ctx, &m, &fm);
  cmp_download(g_ctx, &v, &fv);
  CHECK_NEAR(fp, 0.93661035, 2e-6);
  CHECK_NEAR(fm, -0.055, 1e-7);
  CHECK_NEAR(fv, 0.00124975, 5e-8);

  /* Many elements over several steps against the formula in double. */
  const int n = 3001, steps = 5;
  float *hp, *hg;
  cmp_tensor P = trand(n, 1, 1, 1, 600, -1, 1, &hp), G = tens(n, 1, 1, 1);
  cmp_tensor M = tens(n, 1, 1, 1), V = tens(n, 1, 1, 1);
  double *rp = dcopy(hp, n), *rm = dalloc(n), *rv = dalloc(n);
  for (int t = 1; t <= steps; t++) {
    hg = hrand(n, 610 + t, -1, 1);
    cmp_upload(g_ctx, &G, hg);
    cmp_adam_step(g_ctx, &P, &G, &M, &V, 3e-4f, 0.9f, 0.999f, 1e-8f, t);
    for (int i = 0; i < n; i++) {
      rm[i] = 0.9 * rm[i] + 0.1 * hg[i];
      rv[i] = 0.999 * rv[i] + 0.001 * (double)hg[i] * hg[i];
      rp[i] -= 3e-4 * (rm[i] / (1 - pow(0.9, t))) / (sqrt(rv[i] / (1 - pow(0.999, t))) + 1e-8);
    }
    free(hg);
  }
  /* Compare the change, which is what Adam computes (p itself is dominated by its start). */
  float *fp2 = tdown(&P);
  double num = 0, den = 0;
  for (int i = 0; i < n; i++) {
    double d = (fp2[i] - hp[i]) - (rp[i] - hp[i]);
    num += d * d;
    den += (rp[i] - hp[i]) * (rp[i] - hp[i]);
  }
  CHECK_MSG(num / den < 1e-6, "adam over %d steps: normalised MSE of the update %.3g", steps,
            num / den);
  CHECK_TENSOR("adam m", M, rm);
  CHECK_TENSOR("adam v", V, rv);
  free(fp2), free(hp), free(rp), free(rm), free(rv);
}

static void test_polyak(void) {
  /* Hand-computed: 0.995 * 2 + 0.005 * 4 = 2.01. */
  cmp_tensor t = tens(1, 1, 1, 1), s = tens(1, 1, 1, 1);
  cmp_fill(g_ctx, &t, 2.0f);
  cmp_fill(g_ctx, &s, 4.0f);
  cmp_polyak(g_ctx, &t, &s, 0.995f);
  float v;
  cmp_download(g_ctx, &t, &v);
  CHECK_NEAR(v, 2.01, 1e-6);
  const int n = 777;
  float *ht, *hs;
  cmp_tensor T = trand(n, 1, 1, 1, 700, -1, 1, &ht), S = trand(n, 1, 1, 1, 701, -1, 1, &hs);
  double *ref = dalloc(n);
  for (int i = 0; i < n; i++) ref[i] = 0.995 * ht[i] + 0.005 * hs[i];
  cmp_polyak(g_ctx, &T, &S, 0.995f);
  CHECK_TENSOR("polyak", T, ref);
  free(ht), free(hs), free(ref);
}

/* ---- random numbers -------------------------------------------------------------------------- */

static void test_rng(void) {
  /* Odd length, an index0 that is not a multiple of 4, 64-bit seed and index. */
  const int n = 1003;
  const uint64_t seed = 0x123456789abcdefull, index0 = (1ull << 33) + 3;
  cmp_tensor u = tens(1, n, 1, 1), z = tens(1, n, 1, 1);
  cmp_rng_uniform(g_ctx, &u, seed, 9, index0, -1.0f, 1.0f);
  cmp_rng_normal(g_ctx, &z, seed, 9, index0, 0.5f, 0.1f);
  float *fu = tdown(&u), *fz = tdown(&z);
  int exact = 0, close = 0;
  for (int i = 0; i < n; i++) {
    float eu = -1.0f + 2.0f * mb_philox_uniform(seed, 9, index0 + i);
    float ez = 0.5f + 0.1f * mb_philox_normal(seed, 9, index0 + i);
    exact += fu[i] == eu;
    close += fabsf(fz[i] - ez) <= 1e-6f * (1 + fabsf(ez));
  }
  CHECK_MSG(exact == n, "uniform: %d of %d numbers identical to mb_philox", exact, n);
  CHECK_MSG(close == n, "normal: %d of %d numbers within 1e-6 of mb_philox", close, n);
  free(fu), free(fz);
}

/* ---- backend choice -------------------------------------------------------------------------- */

static void test_backend_choice(void) {
  cmp_backend_choice c = CMP_BACKEND_VULKAN;
  CHECK(cmp_parse_backend("cpu", &c) && c == CMP_BACKEND_CPU);
  CHECK(cmp_parse_backend("auto", &c) && c == CMP_BACKEND_AUTO);
  CHECK(cmp_parse_backend("vulkan", &c) && c == CMP_BACKEND_VULKAN);
  CHECK(!cmp_parse_backend("gpu", &c) && !cmp_parse_backend("", &c) &&
        !cmp_parse_backend(NULL, &c));
  setenv("MBOLD_BACKEND", "cpu", 1);
  CHECK(cmp_backend_from_env(CMP_BACKEND_VULKAN) == CMP_BACKEND_CPU);
  setenv("MBOLD_BACKEND", "nonsense", 1);
  CHECK(cmp_backend_from_env(CMP_BACKEND_VULKAN) == CMP_BACKEND_VULKAN);
  unsetenv("MBOLD_BACKEND");
  CHECK(cmp_backend_from_env(CMP_BACKEND_AUTO) == CMP_BACKEND_AUTO);
  /* AUTO always gives a context and one line saying why; the CPU fallback says so. */
  char why[512] = "", err[512] = "";
  cmp_ctx *ctx = cmp_create(CMP_BACKEND_AUTO, NULL, why, sizeof why, err, sizeof err);
  CHECK_MSG(ctx, "auto: %s", err);
  if (ctx) {
    CHECK(why[0] && !strchr(why, '\n'));
    if (!strcmp(cmp_backend_name(ctx), "cpu"))
      CHECK_MSG(strstr(why, "CPU backend"), "auto chose the CPU without saying so: %s", why);
    else
      CHECK(!strcmp(cmp_backend_name(ctx), "vulkan"));
    cmp_destroy(ctx);
  }
  /* The CPU backend with a given thread count. */
  cmp_options o = cmp_options_default();
  CHECK(o.device_index == -1 && !o.validation && o.threads == 0);
  o.threads = 1;
  ctx = cmp_create(CMP_BACKEND_CPU, &o, why, sizeof why, err, sizeof err);
  CHECK(ctx && strstr(cmp_device_name(ctx), "1 thread"));
  cmp_destroy(ctx);
  /* Listing devices either works or says why not, in one line. */
  cmp_device_info dev[8];
  err[0] = 0;
  int n = cmp_list_devices(dev, 8, err, sizeof err);
  CHECK(n >= 0 || (err[0] && !strchr(err, '\n')));
}

int main(int argc, char **argv) {
  int rc = test_open(argc, argv, "test_ops");
  if (rc) return rc;
  test_backend_choice();
  test_arena();
  test_views();
  test_upload_u8();
  test_elementwise();
  test_copy_channels();
  test_activations();
  test_binary();
  test_reduce_broadcast();
  test_gemm();
  test_linear();
  test_conv();
  test_convt();
  test_batchnorm();
  test_losses();
  test_adam();
  test_polyak();
  test_rng();
  return test_close("test_ops");
}
