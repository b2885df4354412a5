/* CPU backend: convolutions and transposed convolutions as im2col + OpenBLAS GEMM.
 *
 * Samples are processed in groups of S so that each GEMM has at least ~256 columns (the deep
 * layers have few output pixels per sample) and the group's column matrix stays in L2. Groups are
 * tasks on the workers, each with its own scratch. The weight gradient sums per-part partials in
 * part order, so results do not depend on scheduling. A transposed convolution is the data
 * gradient of a convolution and vice versa, so both share the same three cores. */
#include "cpu_internal.h"

#include <cblas.h>
#include <string.h>

typedef struct conv_geom {
  int n;         /* samples */
  int c, h, w;   /* input channels and size */
  int o, ho, wo; /* output channels and size */
  int kh, kw, sh, sw, ph, pw;
  size_t k;   /* c * kh * kw: rows of the column matrix */
  size_t p;   /* ho * wo: output pixels per sample */
  int s;      /* samples per group */
  int groups; /* ceil(n / s) */
} conv_geom;

static conv_geom geom(int n, int c, int h, int w, int o, int ho, int wo, const cmp_conv_params *p) {
  conv_geom g = {n, c, h, w, o, ho, wo, p->kh, p->kw, p->sh, p->sw, p->ph, p->pw, 0, 0, 1, n};
  g.k = (size_t)c * p->kh * p->kw;
  g.p = (size_t)ho * wo;
  int s = (int)((256 + g.p - 1) / g.p);
  /* Cap the group's column matrix at ~1 MiB, and keep at least one group per core pair. */
  while (s > 1 && g.k * g.p * (size_t)s * sizeof(float) > (1u << 20)) s--;
  if (s > n) s = n;
  g.s = s < 1 ? 1 : s;
  g.groups = (n + g.s - 1) / g.s;
  return g;
}

static bool is_pointwise(const conv_geom *g) {
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0;
}

/* col[(ci*kh + ky)*kw + kx][col0 + oy*wo + ox] = x[ci][oy*sh - ph + ky][ox*sw - pw + kx] or 0;
 * ld is the column matrix's row length. */
static void im2col(const conv_geom *g, const float *x, float *col, size_t ld, size_t col0) {
  for (int ci = 0; ci < g->c; ci++)
    for (int ky = 0; ky < g->kh; ky++)
      for (int kx = 0; kx < g->kw; kx++) {
        float *row = col + ((size_t)(ci * g->kh + ky) * g->kw + kx) * ld + col0;
        const float *plane = x + (size_t)ci * g->h * g->w;
        /* Output columns whose input column lies inside the image: ox in [ox0, ox1). */
        int ox0 = 0, ox1 = g->wo;
        while (ox0 < ox1 && ox0 * g->sw - g->pw + kx < 0) ox0++;
        while (ox1 > ox0 && (ox1 - 1) * g->sw - g->pw + kx >= g->w) ox1--;
        for (int oy = 0; oy < g->ho; oy++, row += g->wo) {
          int iy = oy * g->sh - g->ph + ky;
          if (iy < 0 || iy >= g->h) {
            memset(row, 0, (size_t)g->wo * sizeof(float));
            continue;
          }
          const float *src = plane + (size_t)iy * g->w - g->pw + kx;
          for (int ox = 0; ox < ox0; ox++) row[ox] = 0.0f;
          if (g->sw == 1)
            memcpy(row + ox0, src + ox0, (size_t)(ox1 - ox0) * sizeof(float));
          else if (g->sw == 2)
            for (int ox = ox0; ox < ox1; ox++) row[ox] = src[2 * ox];
          else
            for (int ox = ox0; ox < ox1; ox++) row[ox] = src[ox * g->sw];
          for (int ox = ox1; ox < g->wo; ox++) row[ox] = 0.0f;
        }
      }
}

/* The adjoint of im2col: dx[...] += col[...]. */
static void col2im(const conv_geom *g, const float *col, size_t ld, size_t col0, float *dx) {
  for (int ci = 0; ci < g->c; ci++)
    for (int ky = 0; ky < g->kh; ky++)
      for (int kx = 0; kx < g->kw; kx++) {
        const float *row = col + ((size_t)(ci * g->kh + ky) * g->kw + kx) * ld + col0;
        float *plane = dx + (size_t)ci * g->h * g->w;
        int ox0 = 0, ox1 = g->wo;
        while (ox0 < ox1 && ox0 * g->sw - g->pw + kx < 0) ox0++;
        while (ox1 > ox0 && (ox1 - 1) * g->sw - g->pw + kx >= g->w) ox1--;
        for (int oy = 0; oy < g->ho; oy++, row += g->wo) {
          int iy = oy * g->sh - g->ph + ky;
          if (iy < 0 || iy >= g->h) continue;
          float *dst = plane + (size_t)iy * g->w - g->pw + kx;
          for (int ox = ox0; ox < ox1; ox++) dst[ox * g->sw] += row[ox];
        }
      }
}

/* ---- the three cores ------------------------------------------------------------------------- */

typedef struct conv_job {
  cmp_ctx *ctx;    /* for scratch */
  conv_geom g;     /* geometry of the convolution (not the transposed one) */
  const float *x;  /* conv input [n, c, h, w] */
  const float *dy; /* conv output or its gradient [n, o, ho, wo] */
  const float *w;  /* [o, c, kh, kw] */
  const float *b;  /* forward bias [o] or NULL */
  float *y;        /* forward: [n, o, ho, wo]; backward data: dx [n, c, h, w] */
  float beta;      /* accumulate into the output */
  int parts;       /* weight gradient: tasks over the groups */
  float *partial;  /* weight gradient: [parts, o, k] */
} conv_job;

static void group_of(const conv_geom *g, int grp, int *n0, int *s) {
  *n0 = grp * g->s;
  *s = g->n - *n0 < g->s ? g->n - *n0 : g->s;
}

/* The group's column matrix [k, s * p]: the input itself for a pointwise conv of one sample. */
static const float *group_cols(conv_job *j, int n0, int s, int worker) {
  const conv_geom *g = &j->g;
  size_t in_sz = (size_t)g->c * g->h * g->w, ld = (size_t)s * g->p;
  if (is_pointwise(g) && s == 1) return j->x + (size_t)n0 * in_sz;
  float *col = cpu_scratch_get(j->ctx, worker, 0, g->k * ld);
  for (int i = 0; i < s; i++) im2col(g, j->x + (size_t)(n0 + i) * in_sz, col, ld, (size_t)i * g->p);
  return col;
}

/* dy of the group as one matrix [o, s * p] (a view when s == 1). */
static const float *group_dy(conv_job *j, int n0, int s, int worker) {
  const conv_geom *g = &j->g;
  size_t out_sz = (size_t)g->o * g->p;
  if (s == 1) return j->dy + (size_t)n0 * out_sz;
  float *m = cpu_scratch_get(j->ctx, worker, 1, out_sz * s);
  for (int i = 0; i < s; i++)
    for (int o = 0; o < g->o; o++)
      memcpy(m + (size_t)o * s * g->p + (size_t)i * g->p,
             j->dy + (size_t)(n0 + i) * out_sz + (size_t)o * g->p, g->p * sizeof(float));
  return m;
}

static void fwd_task(void *v, int grp, int worker) {
  conv_job *j = v;
  const conv_geom *g = &j->g;
  int n0, s;
  group_of(g, grp, &n0, &s);
  size_t ld = (size_t)s * g->p, out_sz = (size_t)g->o * g->p;
  const float *col = group_cols(j, n0, s, worker);
  if (s == 1) {
    float *y = j->y + (size_t)n0 * out_sz;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->o, (int)g->p, (int)g->k, 1.0f, j->w,
                (int)g->k, col, (int)g->p, j->beta, y, (int)g->p);
    if (j->b)
      for (int o = 0; o < g->o; o++) {
        float bo = j->b[o], *r = y + (size_t)o * g->p;
        for (size_t i = 0; i < g->p; i++) r[i] += bo;
      }
    return;
  }
  float *tmp = cpu_scratch_get(j->ctx, worker, 1, (size_t)g->o * ld);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->o, (int)ld, (int)g->k, 1.0f, j->w,
              (int)g->k, col, (int)ld, 0.0f, tmp, (int)ld);
  for (int i = 0; i < s; i++)
    for (int o = 0; o < g->o; o++) {
      const float *src = tmp + (size_t)o * ld + (size_t)i * g->p;
      float *dst = j->y + (size_t)(n0 + i) * out_sz + (size_t)o * g->p, bo = j->b ? j->b[o] : 0.0f;
      if (j->beta == 0.0f)
        for (size_t q = 0; q < g->p; q++) dst[q] = src[q] + bo;
      else
        for (size_t q = 0; q < g->p; q++) dst[q] = src[q] + bo + j->beta * dst[q];
    }
}

static void bwd_data_task(void *v, int grp, int worker) {
  conv_job *j = v;
  const conv_geom *g = &j->g;
  int n0, s;
  group_of(g, grp, &n0, &s);
  size_t ld = (size_t)s * g->p, in_sz = (size_t)g->c * g->h * g->w;
  const float *dy = group_dy(j, n0, s, worker);
  float *dx = j->y + (size_t)n0 * in_sz;
  if (is_pointwise(g) && s == 1) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)g->k, (int)g->p, g->o, 1.0f, j->w,
                (int)g->k, dy, (int)g->p, j->beta, dx, (int)g->p);
    return;
  }
  float *dcol = cpu_scratch_get(j->ctx, worker, 0, g->k * ld);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)g->k, (int)ld, g->o, 1.0f, j->w,
              (int)g->k, dy, (int)ld, 0.0f, dcol, (int)ld);
  for (int i = 0; i < s; i++) {
    float *d = dx + (size_t)i * in_sz;
    if (j->beta == 0.0f)
      memset(d, 0, in_sz * sizeof(float));
    else if (j->beta != 1.0f)
      for (size_t q = 0; q < in_sz; q++) d[q] *= j->beta;
    col2im(g, dcol, ld, (size_t)i * g->p, d);
  }
}

static void bwd_weight_task(void *v, int part, int worker) {
  conv_job *j = v;
  const conv_geom *g = &j->g;
  float *dw = j->partial + (size_t)part * g->o * g->k;
  size_t gb, ge;
  cpu_split((size_t)g->groups, j->parts, part, &gb, &ge);
  float beta = 0.0f;
  for (size_t grp = gb; grp < ge; grp++, beta = 1.0f) {
    int n0, s;
    group_of(g, (int)grp, &n0, &s);
    int ld = s * (int)g->p;
    const float *col = group_cols(j, n0, s, worker);
    const float *dy = group_dy(j, n0, s, worker);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->o, (int)g->k, ld, 1.0f, dy, ld, col, ld,
                beta, dw, (int)g->k);
  }
  if (gb == ge) memset(dw, 0, (size_t)g->o * g->k * sizeof(float));
}

static void conv_fwd_core(cmp_ctx *ctx, const conv_geom *g, const float *x, const float *w,
                          const float *b, float *y, float beta) {
  conv_job j = {.ctx = ctx, .g = *g, .x = x, .w = w, .b = b, .y = y, .beta = beta};
  cpu_parallel(ctx, g->groups, fwd_task, &j);
}

static void conv_bwd_data_core(cmp_ctx *ctx, const conv_geom *g, const float *dy, const float *w,
                               float *dx, float beta) {
  conv_job j = {.ctx = ctx, .g = *g, .dy = dy, .w = w, .y = dx, .beta = beta};
  cpu_parallel(ctx, g->groups, bwd_data_task, &j);
}

static void conv_bwd_weight_core(cmp_ctx *ctx, const conv_geom *g, const float *dy, const float *x,
                                 float *dw, float beta) {
  int parts = cpu_of(ctx)->nthreads < g->groups ? cpu_of(ctx)->nthreads : g->groups;
  size_t wsz = (size_t)g->o * g->k;
  conv_job j = {.ctx = ctx, .g = *g, .x = x, .dy = dy, .parts = parts};
  j.partial = cpu_shared_get(ctx, 0, wsz * (size_t)parts);
  cpu_parallel(ctx, parts, bwd_weight_task, &j);
  for (size_t i = 0; i < wsz; i++) {
    float acc = j.partial[i];
    for (int t = 1; t < parts; t++) acc += j.partial[(size_t)t * wsz + i];
    dw[i] = beta == 0.0f ? acc : acc + beta * dw[i];
  }
}

/* db[c] = sum over n and pixels of t[n, c, :] + beta * db[c]. */
static void channel_sum(const float *t, int n, int c, size_t hw, float *db, float beta) {
  for (int ci = 0; ci < c; ci++) {
    double acc = 0;
    for (int s = 0; s < n; s++) {
      const float *r = t + ((size_t)s * c + ci) * hw;
      float part = 0.0f;
      for (size_t i = 0; i < hw; i++) part += r[i];
      acc += part;
    }
    db[ci] = beta == 0.0f ? (float)acc : (float)acc + beta * db[ci];
  }
}

/* ---- the ops ----------------------------------------------------------------------------------
 */

static conv_geom conv_geom_of(const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *y,
                              const cmp_conv_params *p) {
  return geom(x->n, x->c, x->h, x->w, w->n, y->h, y->w, p);
}

void cpu_conv2d_fwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *b,
                    const cmp_tensor *y, const cmp_conv_params *p) {
  conv_geom g = conv_geom_of(x, w, y, p);
  conv_fwd_core(ctx, &g, cpu_ptr(x), cpu_ptr(w), b ? cpu_ptr(b) : NULL, cpu_ptr(y), 0.0f);
}

void cpu_conv2d_bwd_data(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *w,
                         const cmp_tensor *dx, const cmp_conv_params *p, float beta) {
  conv_geom g = conv_geom_of(dx, w, dy, p);
  conv_bwd_data_core(ctx, &g, cpu_ptr(dy), cpu_ptr(w), cpu_ptr(dx), beta);
}

void cpu_conv2d_bwd_weight(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *x,
                           const cmp_tensor *dw, const cmp_tensor *db, const cmp_conv_params *p,
                           float beta) {
  conv_geom g = conv_geom_of(x, dw, dy, p);
  conv_bwd_weight_core(ctx, &g, cpu_ptr(dy), cpu_ptr(x), cpu_ptr(dw), beta);
  if (db) channel_sum(cpu_ptr(dy), dy->n, dy->c, g.p, cpu_ptr(db), beta);
}

/* A transposed convolution x [N, Ci, H, W] -> y [N, Co, Ho, Wo] with w [Ci, Co, kh, kw] is the data
 * gradient of the convolution y -> x with the same w seen as [O = Ci, C = Co, kh, kw]. */
static conv_geom convt_geom(const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *y,
                            const cmp_conv_params *p) {
  return geom(y->n, w->c, y->h, y->w, w->n, x->h, x->w, p);
}

void cpu_convt2d_fwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *b,
                     const cmp_tensor *y, const cmp_conv_params *p) {
  conv_geom g = convt_geom(x, w, y, p);
  conv_bwd_data_core(ctx, &g, cpu_ptr(x), cpu_ptr(w), cpu_ptr(y), 0.0f);
  if (b) {
    size_t hw = (size_t)y->h * y->w;
    for (int n = 0; n < y->n; n++)
      for (int c = 0; c < y->c; c++) {
        float *r = cpu_ptr(y) + ((size_t)n * y->c + c) * hw, bc = cpu_ptr(b)[c];
        for (size_t i = 0; i < hw; i++) r[i] += bc;
      }
  }
}

void cpu_convt2d_bwd_data(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *w,
                          const cmp_tensor *dx, const cmp_conv_params *p, float beta) {
  conv_geom g = convt_geom(dx, w, dy, p);
  conv_fwd_core(ctx, &g, cpu_ptr(dy), cpu_ptr(w), NULL, cpu_ptr(dx), beta);
}

void cpu_convt2d_bwd_weight(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *x,
                            const cmp_tensor *dw, const cmp_tensor *db, const cmp_conv_params *p,
                            float beta) {
  conv_geom g = convt_geom(x, dw, dy, p);
  /* The conv's "input" is the transposed conv's output gradient, its "output" the input. */
  conv_bwd_weight_core(ctx, &g, cpu_ptr(x), cpu_ptr(dy), cpu_ptr(dw), beta);
  if (db) channel_sum(cpu_ptr(dy), dy->n, dy->c, (size_t)dy->h * dy->w, cpu_ptr(db), beta);
}
