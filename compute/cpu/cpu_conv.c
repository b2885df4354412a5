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

/* ---- direct convolution for layers with few output channels ------------------------------------
 *
 * With 8 to 32 output channels im2col writes 4 bytes of column matrix for every O / 2 flops, so
 * the layer is bound by memory, not arithmetic. Instead each sample's input is split once into
 * column phases (xd[c][r][row][j] = x[c][row - ph][sw * (j - M) + r], zero outside), which turns
 * every kernel tap into a contiguous 8-float load for 8 neighbouring output pixels; 8 output
 * channels accumulate in registers. The same planes serve the weight gradient. */

typedef struct phase_geom {
  int rows;  /* rows per phase plane (ph of zeros above, enough below) */
  int cols;  /* columns per phase row, margins included */
  int m;     /* left margin: the column of j = 0 */
  int q[16]; /* per kx: column shift, ix = sw * (ox + q) + r */
  int r[16]; /* per kx: column phase */
} phase_geom;

static bool direct_ok(const conv_geom *g) {
  return g->wo % 8 == 0 && g->o % 8 == 0 && g->o <= 32 && g->kw <= 16;
}

static int floor_div(int a, int b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static phase_geom phase_of(const conv_geom *g) {
  phase_geom pg = {0};
  int qmin = 0, qmax = 0;
  for (int kx = 0; kx < g->kw; kx++) {
    int d = kx - g->pw, q = floor_div(d, g->sw);
    pg.q[kx] = q;
    pg.r[kx] = d - q * g->sw;
    if (q < qmin) qmin = q;
    if (q > qmax) qmax = q;
  }
  pg.m = -qmin;
  int wq = (g->w + g->sw - 1) / g->sw, jend = g->wo + qmax;
  pg.cols = pg.m + (wq > jend ? wq : jend);
  int need = g->sh * (g->ho - 1) + g->kh;
  pg.rows = g->h + g->ph > need ? g->h + g->ph : need;
  return pg;
}

static size_t phase_floats(const conv_geom *g, const phase_geom *pg) {
  return (size_t)g->c * g->sw * pg->rows * pg->cols;
}

/* Splits one sample into its phase planes. Only what the kernels read is written: the data and
 * zeros around it (a whole memset would double the memory traffic). */
CPU_HOT static void phase_split(const conv_geom *g, const phase_geom *pg, const float *x,
                                float *xd) {
  const int cols = pg->cols, m = pg->m;
  for (int c = 0; c < g->c; c++)
    for (int r = 0; r < g->sw; r++) {
      float *plane = xd + ((size_t)c * g->sw + r) * pg->rows * cols;
      int n = (g->w - r + g->sw - 1) / g->sw; /* valid columns of this phase */
      memset(plane, 0, (size_t)g->ph * cols * sizeof(float));
      for (int iy = 0; iy < g->h; iy++) {
        const float *src = x + ((size_t)c * g->h + iy) * g->w;
        float *row = plane + (size_t)(iy + g->ph) * cols, *dst = row + m;
        for (int j = 0; j < m; j++) row[j] = 0.0f;
        int j = 0;
        if (g->sw == 1)
          for (; j + 8 <= n; j += 8) cpu_v8_store(dst + j, cpu_v8_load(src + j));
        else if (g->sw == 2) {
          /* 16 input floats from an even column give 8 of phase r: never reads past the row. */
          const cpu_v8i pick =
              r ? (cpu_v8i){1, 3, 5, 7, 9, 11, 13, 15} : (cpu_v8i){0, 2, 4, 6, 8, 10, 12, 14};
          for (; j + 8 <= n && 2 * j + 16 <= g->w; j += 8)
            cpu_v8_store(dst + j, __builtin_shuffle(cpu_v8_load(src + 2 * j),
                                                    cpu_v8_load(src + 2 * j + 8), pick));
        }
        for (; j < n; j++) dst[j] = src[g->sw * j + r];
        for (j = m + n; j < cols; j++) row[j] = 0.0f;
      }
      memset(plane + (size_t)(g->h + g->ph) * cols, 0,
             (size_t)(pg->rows - g->h - g->ph) * cols * sizeof(float));
    }
}

/* The start of tap (c, ky, kx)'s row for output row oy, at output column 0. */
static inline const float *tap_row(const conv_geom *g, const phase_geom *pg, const float *xd, int c,
                                   int ky, int kx, int oy) {
  return xd + (((size_t)c * g->sw + pg->r[kx]) * pg->rows + g->sh * oy + ky) * pg->cols + pg->m +
         pg->q[kx];
}

/* Offsets in the phase planes of each tap's row for output row 0, column 0 (the tap order of the
 * weight's k index): the inner loops then need one add per tap. */
static void tap_offsets(const conv_geom *g, const phase_geom *pg, int *toff) {
  for (int c = 0, t = 0; c < g->c; c++)
    for (int ky = 0; ky < g->kh; ky++)
      for (int kx = 0; kx < g->kw; kx++, t++)
        toff[t] =
            (int)((((size_t)c * g->sw + pg->r[kx]) * pg->rows + ky) * pg->cols + pg->m + pg->q[kx]);
}

/* y[o][oy][ox] = b[o] + sum over taps of wt[tap][o] * x(tap, oy, ox) + beta * y, for one sample;
 * wt is the weight transposed to [k][o]. Each step computes two vectors of 8 pixels for 8 output
 * channels (16 accumulators), so every weight broadcast serves two FMAs: 16 neighbouring pixels of
 * a row when the row is wide enough, else 8 pixels of two neighbouring rows. */
CPU_HOT static void direct_fwd_sample(const conv_geom *g, const phase_geom *pg, const float *xd,
                                      const int *toff, const float *wt, const float *bias, float *y,
                                      float beta) {
  const size_t plane = (size_t)g->ho * g->wo, rowstep = (size_t)g->sh * pg->cols;
  const int wide = g->wo % 16 == 0, taps = (int)g->k;
  const size_t in1 = wide ? 8 : rowstep, out1 = wide ? 8 : (size_t)g->wo;
  for (int ob = 0; ob < g->o; ob += 8)
    for (int oy = 0; oy < g->ho; oy += wide ? 1 : 2) {
      const int pair = wide || oy + 1 < g->ho;
      for (int ox = 0; ox < g->wo; ox += wide ? 16 : 8) {
        cpu_v8 a0[8], a1[8];
        for (int o = 0; o < 8; o++) a0[o] = a1[o] = cpu_v8_set1(bias ? bias[ob + o] : 0.0f);
        const float *base = xd + (size_t)oy * rowstep + ox, *w = wt + ob;
        /* Separate loops so that each keeps its accumulators in registers. */
        if (pair)
          for (int t = 0; t < taps; t++, w += g->o) {
            const float *src = base + toff[t];
            cpu_v8 v0 = cpu_v8_load(src), v1 = cpu_v8_load(src + in1);
            for (int o = 0; o < 8; o++) {
              cpu_v8 wv = cpu_v8_set1(w[o]);
              a0[o] += v0 * wv;
              a1[o] += v1 * wv;
            }
          }
        else
          for (int t = 0; t < taps; t++, w += g->o) {
            cpu_v8 v0 = cpu_v8_load(base + toff[t]);
            for (int o = 0; o < 8; o++) a0[o] += v0 * cpu_v8_set1(w[o]);
          }
        for (int o = 0; o < 8; o++) {
          float *dst = y + (size_t)(ob + o) * plane + (size_t)oy * g->wo + ox;
          if (beta != 0.0f) {
            a0[o] += cpu_v8_set1(beta) * cpu_v8_load(dst);
            if (pair) a1[o] += cpu_v8_set1(beta) * cpu_v8_load(dst + out1);
          }
          cpu_v8_store(dst, a0[o]);
          if (pair) cpu_v8_store(dst + out1, a1[o]);
        }
      }
    }
}

static inline float hsum8(cpu_v8 v) {
  return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
}

/* dwl[o][tap][lane] += sum over pixels in that lane of dy[o][pixel] * x(tap, pixel), for one
 * sample: the 8 lanes are summed once per task (lanes_to_dw), not once per sample, which matters
 * for small feature maps. */
CPU_HOT static void direct_bwd_weight_sample(const conv_geom *g, const phase_geom *pg,
                                             const float *xd, const int *toff, const float *dy,
                                             float *dwl) {
  const size_t plane = (size_t)g->ho * g->wo, rowstep = (size_t)g->sh * pg->cols;
  const int taps = (int)g->k;
  /* Blocks of 4 output channels x 4 taps: 16 accumulators, 8 loads per 16 FMAs. */
  for (int ob = 0; ob < g->o; ob += 4)
    for (int t = 0; t < taps; t += 4) {
      const int nt = taps - t < 4 ? taps - t : 4;
      cpu_v8 a[4][4];
      for (int o = 0; o < 4; o++)
        for (int k = 0; k < 4; k++) a[o][k] = cpu_v8_set1(0.0f);
      for (int oy = 0; oy < g->ho; oy++) {
        const float *base = xd + (size_t)oy * rowstep;
        const float *s0 = base + toff[t], *s1 = base + toff[t + (nt > 1)];
        const float *s2 = base + toff[t + (nt > 2 ? 2 : 0)],
                    *s3 = base + toff[t + (nt > 3 ? 3 : 0)];
        const float *gy = dy + (size_t)ob * plane + (size_t)oy * g->wo;
        for (int ox = 0; ox < g->wo; ox += 8) {
          cpu_v8 x[4] = {cpu_v8_load(s0 + ox), cpu_v8_load(s1 + ox), cpu_v8_load(s2 + ox),
                         cpu_v8_load(s3 + ox)};
          for (int o = 0; o < 4; o++) {
            cpu_v8 gv = cpu_v8_load(gy + (size_t)o * plane + ox);
            for (int k = 0; k < 4; k++) a[o][k] += gv * x[k];
          }
        }
      }
      for (int o = 0; o < 4; o++)
        for (int k = 0; k < nt; k++) {
          float *l = dwl + ((size_t)(ob + o) * g->k + t + k) * 8;
          cpu_v8_store(l, cpu_v8_load(l) + a[o][k]);
        }
    }
}

static void lanes_to_dw(const float *dwl, size_t count, float *dw) {
  for (size_t i = 0; i < count; i++) dw[i] = hsum8(cpu_v8_load(dwl + 8 * i));
}

/* Data gradient, direct: dx[c][iy][ix] = sum over o and the taps that reach (iy, ix) of
 * dy[o][oy][ox] w[o][c][ky][kx]. For input column phase r (ix = sw * j + r) the taps reaching it
 * are the kx with (r + pw - kx) divisible by sw, at ox = j + (r + pw - kx) / sw: a contiguous
 * 8-float load of a zero-margined copy of dy. 8 input channels accumulate in registers. */

typedef struct bwd_geom {
  int m;    /* left zero margin of the padded dy rows */
  int cols; /* padded dy row length */
} bwd_geom;

static bool direct_bwd_data_ok(const conv_geom *g) {
  return g->c % 8 == 0 && g->c <= 32 && g->w % (8 * g->sw) == 0 && g->kw <= 16 && g->kh <= 16;
}

static bwd_geom bwd_geom_of(const conv_geom *g) {
  int smin = 0, smax = 0;
  for (int r = 0; r < g->sw; r++)
    for (int kx = 0; kx < g->kw; kx++) {
      int d = r + g->pw - kx;
      if (d % g->sw) continue;
      int sft = d / g->sw;
      if (sft < smin) smin = sft;
      if (sft > smax) smax = sft;
    }
  bwd_geom bg;
  bg.m = -smin;
  int jend = g->w / g->sw + smax; /* one past the highest ox read */
  bg.cols = bg.m + (jend > g->wo ? jend : g->wo);
  return bg;
}

CPU_HOT static void direct_bwd_data_sample(const conv_geom *g, const bwd_geom *bg, const float *dy,
                                           float *dyp, const float *wt2, float *rowbuf, float *dx,
                                           float beta) {
  const size_t cols = (size_t)bg->cols, plane = (size_t)g->ho * g->wo;
  /* dy with zero margins. */
  for (int o = 0; o < g->o; o++)
    for (int oy = 0; oy < g->ho; oy++) {
      float *row = dyp + ((size_t)o * g->ho + oy) * cols;
      for (int i = 0; i < bg->m; i++) row[i] = 0.0f;
      memcpy(row + bg->m, dy + o * plane + (size_t)oy * g->wo, (size_t)g->wo * sizeof(float));
      for (size_t i = (size_t)bg->m + g->wo; i < cols; i++) row[i] = 0.0f;
    }
  const int nj = g->w / g->sw; /* columns per phase */
  for (int c0 = 0; c0 < g->c; c0 += 8)
    for (int iy = 0; iy < g->h; iy++) {
      for (int r = 0; r < g->sw; r++)
        for (int j0 = 0; j0 < nj; j0 += 8) {
          cpu_v8 acc[8];
          for (int cc = 0; cc < 8; cc++) acc[cc] = cpu_v8_set1(0.0f);
          for (int ky = 0; ky < g->kh; ky++) {
            int dyy = iy + g->ph - ky;
            if (dyy < 0 || dyy % g->sh) continue;
            int oy = dyy / g->sh;
            if (oy >= g->ho) continue;
            for (int kx = 0; kx < g->kw; kx++) {
              int d = r + g->pw - kx;
              if (d % g->sw) continue;
              const float *src = dyp + (size_t)oy * cols + bg->m + j0 + d / g->sw;
              const float *w = wt2 + ((size_t)ky * g->kw + kx) * g->c + c0;
              const size_t wstep = (size_t)g->kh * g->kw * g->c;
              for (int o = 0; o < g->o; o++, src += (size_t)g->ho * cols, w += wstep) {
                cpu_v8 v = cpu_v8_load(src);
                for (int cc = 0; cc < 8; cc++) acc[cc] += v * cpu_v8_set1(w[cc]);
              }
            }
          }
          for (int cc = 0; cc < 8; cc++) {
            float *rb = rowbuf + (size_t)cc * g->w;
            if (g->sw == 1)
              cpu_v8_store(rb + j0, acc[cc]);
            else
              for (int t = 0; t < 8; t++) rb[g->sw * (j0 + t) + r] = acc[cc][t];
          }
        }
      for (int cc = 0; cc < 8; cc++) {
        float *dst = dx + ((size_t)(c0 + cc) * g->h + iy) * g->w, *rb = rowbuf + (size_t)cc * g->w;
        if (beta == 0.0f)
          memcpy(dst, rb, (size_t)g->w * sizeof(float));
        else
          for (int i = 0; i < g->w; i++) dst[i] = rb[i] + beta * dst[i];
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
  phase_geom pg;   /* direct path: the phase planes' layout */
  const float *wt; /* direct forward: the weight transposed to [k, o]; backward data: to
                      [o, kh, kw, c] */
  const int *toff; /* direct forward: tap offsets in the phase planes */
  bwd_geom bg;     /* direct backward data: padded dy layout */
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

static void fwd_direct_task(void *v, int n, int worker) {
  conv_job *j = v;
  const conv_geom *g = &j->g;
  float *xd = cpu_scratch_get(j->ctx, worker, 0, phase_floats(g, &j->pg));
  phase_split(g, &j->pg, j->x + (size_t)n * g->c * g->h * g->w, xd);
  direct_fwd_sample(g, &j->pg, xd, j->toff, j->wt, j->b, j->y + (size_t)n * g->o * g->p, j->beta);
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

static void bwd_data_direct_task(void *v, int n, int worker) {
  conv_job *j = v;
  const conv_geom *g = &j->g;
  float *dyp = cpu_scratch_get(j->ctx, worker, 0, (size_t)g->o * g->ho * j->bg.cols);
  float *rowbuf = cpu_scratch_get(j->ctx, worker, 1, (size_t)8 * g->w);
  direct_bwd_data_sample(g, &j->bg, j->dy + (size_t)n * g->o * g->p, dyp, j->wt, rowbuf,
                         j->y + (size_t)n * g->c * g->h * g->w, j->beta);
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

static void bwd_weight_direct_task(void *v, int part, int worker) {
  conv_job *j = v;
  const conv_geom *g = &j->g;
  size_t wsz = (size_t)g->o * g->k;
  float *dwl = cpu_scratch_get(j->ctx, worker, 2, 8 * wsz);
  memset(dwl, 0, 8 * wsz * sizeof(float));
  size_t nb, ne;
  cpu_split((size_t)g->n, j->parts, part, &nb, &ne);
  float *xd = cpu_scratch_get(j->ctx, worker, 0, phase_floats(g, &j->pg));
  for (size_t n = nb; n < ne; n++) {
    phase_split(g, &j->pg, j->x + n * g->c * g->h * g->w, xd);
    direct_bwd_weight_sample(g, &j->pg, xd, j->toff, j->dy + n * g->o * g->p, dwl);
  }
  lanes_to_dw(dwl, wsz, j->partial + (size_t)part * wsz);
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
  if (direct_ok(g)) {
    float *wt = cpu_shared_get(ctx, 1, g->k * g->o);
    for (int o = 0; o < g->o; o++)
      for (size_t k = 0; k < g->k; k++) wt[k * g->o + o] = w[o * g->k + k];
    j.wt = wt;
    j.pg = phase_of(g);
    int *toff = (int *)cpu_shared_get(ctx, 2, g->k);
    tap_offsets(g, &j.pg, toff);
    j.toff = toff;
    cpu_parallel(ctx, g->n, fwd_direct_task, &j);
    return;
  }
  cpu_parallel(ctx, g->groups, fwd_task, &j);
}

static void conv_bwd_data_core(cmp_ctx *ctx, const conv_geom *g, const float *dy, const float *w,
                               float *dx, float beta) {
  conv_job j = {.ctx = ctx, .g = *g, .dy = dy, .w = w, .y = dx, .beta = beta};
  if (direct_bwd_data_ok(g)) {
    /* w [o, c, kh, kw] -> [o, kh, kw, c]: 8 neighbouring input channels per load. */
    float *wt2 = cpu_shared_get(ctx, 1, g->k * g->o);
    for (int o = 0; o < g->o; o++)
      for (int c = 0; c < g->c; c++)
        for (int t = 0; t < g->kh * g->kw; t++)
          wt2[((size_t)o * g->kh * g->kw + t) * g->c + c] =
              w[((size_t)o * g->c + c) * g->kh * g->kw + t];
    j.wt = wt2;
    j.bg = bwd_geom_of(g);
    cpu_parallel(ctx, g->n, bwd_data_direct_task, &j);
    return;
  }
  cpu_parallel(ctx, g->groups, bwd_data_task, &j);
}

static void conv_bwd_weight_core(cmp_ctx *ctx, const conv_geom *g, const float *dy, const float *x,
                                 float *dw, float beta) {
  bool direct = direct_ok(g);
  int units = direct ? g->n : g->groups;
  int parts = cpu_of(ctx)->nthreads < units ? cpu_of(ctx)->nthreads : units;
  size_t wsz = (size_t)g->o * g->k;
  conv_job j = {.ctx = ctx, .g = *g, .x = x, .dy = dy, .parts = parts};
  j.partial = cpu_shared_get(ctx, 0, wsz * (size_t)parts);
  if (direct) {
    j.pg = phase_of(g);
    int *toff = (int *)cpu_shared_get(ctx, 2, g->k);
    tap_offsets(g, &j.pg, toff);
    j.toff = toff;
  }
  cpu_parallel(ctx, parts, direct ? bwd_weight_direct_task : bwd_weight_task, &j);
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

/* ---- the ops --------------------------------------------------------------------------------- */

static conv_geom conv_geom_of(const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *y,
                              const cmp_conv_params *p) {
  return geom(x->n, x->c, x->h, x->w, w->n, y->h, y->w, p);
}

void cpu_conv2d_fwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *b,
                    const cmp_tensor *y, const cmp_conv_params *p, const cmp_fused_act *act) {
  conv_geom g = conv_geom_of(x, w, y, p);
  conv_fwd_core(ctx, &g, cpu_ptr(x), cpu_ptr(w), b ? cpu_ptr(b) : NULL, cpu_ptr(y), 0.0f);
  if (act) cpu_act_fwd(ctx, act->act, y, y, act->alpha);
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
