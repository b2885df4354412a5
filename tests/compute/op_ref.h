/* Test helpers shared by the compute tests: a context per backend named on the command line, host
 * <-> tensor helpers, normalised MSE, and naive double-precision reference implementations. */
#ifndef OP_REF_H
#define OP_REF_H

#include "../test_util.h"
#include "cmp.h"
#include "mb_philox.h"

#include <stdlib.h>
#include <string.h>

static cmp_ctx *g_ctx;     /* the backend under test */
static cmp_arena *g_arena; /* everything the tests allocate */

/* Opens the backend named by argv[1] ("cpu" | "vulkan"), with validation on for Vulkan. */
static inline int test_open(int argc, char **argv, const char *prog) {
  cmp_backend_choice choice;
  if (argc < 2 || !cmp_parse_backend(argv[1], &choice) || choice == CMP_BACKEND_AUTO) {
    fprintf(stderr, "usage: %s cpu|vulkan\n", prog);
    return 2;
  }
  cmp_options opt = cmp_options_default();
  opt.validation = choice == CMP_BACKEND_VULKAN;
  char err[512] = "", why[512] = "";
  g_ctx = cmp_create(choice, &opt, why, sizeof why, err, sizeof err);
  if (!g_ctx) {
    fprintf(stderr, "%s: cannot start the %s backend: %s\n", prog, argv[1], err);
    return 1;
  }
  fprintf(stderr, "%s: %s on %s\n", prog, cmp_backend_name(g_ctx), cmp_device_name(g_ctx));
  g_arena = cmp_arena_create(g_ctx, CMP_ARENA_ACTIVATIONS, 1 << 20);
  return 0;
}

/* Tears down; fails when the validation layer spoke. */
static inline int test_close(const char *prog) {
  cmp_sync(g_ctx);
  int msgs = cmp_validation_message_count(g_ctx);
  CHECK_MSG(msgs == 0, "%d Vulkan validation message(s)", msgs);
  cmp_arena_destroy(g_arena);
  cmp_destroy(g_ctx);
  return test_exit_code(prog);
}

static inline cmp_tensor tens(int n, int c, int h, int w) {
  return cmp_arena_tensor(g_arena, n, c, h, w);
}

/* Uniform host numbers in [lo, hi), deterministic per tag. Caller frees. */
static inline float *hrand(size_t n, uint32_t tag, float lo, float hi) {
  float *v = malloc(n * sizeof *v);
  for (size_t i = 0; i < n; i++) v[i] = lo + (hi - lo) * mb_philox_uniform(1234, tag, i);
  return v;
}

static inline cmp_tensor tup(const float *data, int n, int c, int h, int w) {
  cmp_tensor t = tens(n, c, h, w);
  cmp_upload(g_ctx, &t, data);
  return t;
}

/* A tensor of uniform numbers; *host (if non-NULL) receives a malloc'd copy. */
static inline cmp_tensor trand(int n, int c, int h, int w, uint32_t tag, float lo, float hi,
                               float **host) {
  size_t len = (size_t)n * c * h * w;
  float *v = hrand(len, tag, lo, hi);
  cmp_tensor t = tup(v, n, c, h, w);
  if (host)
    *host = v;
  else
    free(v);
  return t;
}

/* Downloads a tensor into a malloc'd array. */
static inline float *tdown(const cmp_tensor *t) {
  float *v = malloc(cmp_numel(t) * sizeof *v);
  cmp_download(g_ctx, t, v);
  return v;
}

static inline double *dalloc(size_t n) {
  return calloc(n ? n : 1, sizeof(double));
}

/* sum (got - ref)^2 / sum ref^2 (absolute when the reference is all zero). */
static inline double nmse(const float *got, const double *ref, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    double d = got[i] - ref[i];
    num += d * d;
    den += ref[i] * ref[i];
  }
  return den > 1e-30 ? num / den : num;
}

/* Compares a tensor with a double reference (normalised MSE < 1e-6) and frees nothing. */
#define CHECK_TENSOR(name, t, ref)                                                                 \
  do {                                                                                             \
    float *got_ = tdown(&(t));                                                                     \
    double e_ = nmse(got_, (ref), cmp_numel(&(t)));                                                \
    CHECK_MSG(e_ < 1e-6, "%s: normalised MSE %.3g", (name), e_);                                   \
    free(got_);                                                                                    \
  } while (0)

static inline double *dcopy(const float *v, size_t n) {
  double *d = dalloc(n);
  for (size_t i = 0; i < n; i++) d[i] = v[i];
  return d;
}

/* ---- references ------------------------------------------------------------------------------ */

/* y[n, o, oy, ox] = b[o] + sum x[n, c, oy*sh - ph + ky, ox*sw - pw + kx] w[o, c, ky, kx]. */
static inline void ref_conv(const double *x, const double *w, const double *b, double *y, int N,
                            int C, int H, int W, int O, const cmp_conv_params *p) {
  int Ho = cmp_conv_out(H, p->kh, p->sh, p->ph), Wo = cmp_conv_out(W, p->kw, p->sw, p->pw);
  for (int n = 0; n < N; n++)
    for (int o = 0; o < O; o++)
      for (int oy = 0; oy < Ho; oy++)
        for (int ox = 0; ox < Wo; ox++) {
          double s = b ? b[o] : 0;
          for (int c = 0; c < C; c++)
            for (int ky = 0; ky < p->kh; ky++)
              for (int kx = 0; kx < p->kw; kx++) {
                int iy = oy * p->sh - p->ph + ky, ix = ox * p->sw - p->pw + kx;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                s += x[((size_t)(n * C + c) * H + iy) * W + ix] *
                     w[((size_t)(o * C + c) * p->kh + ky) * p->kw + kx];
              }
          y[((size_t)(n * O + o) * Ho + oy) * Wo + ox] = s;
        }
}

/* The adjoints of ref_conv: dx += W^T dy, dw += dy x^T (no bias). */
static inline void ref_conv_adj(const double *x, const double *w, const double *dy, double *dx,
                                double *dw, int N, int C, int H, int W, int O,
                                const cmp_conv_params *p) {
  int Ho = cmp_conv_out(H, p->kh, p->sh, p->ph), Wo = cmp_conv_out(W, p->kw, p->sw, p->pw);
  for (int n = 0; n < N; n++)
    for (int o = 0; o < O; o++)
      for (int oy = 0; oy < Ho; oy++)
        for (int ox = 0; ox < Wo; ox++) {
          double g = dy[((size_t)(n * O + o) * Ho + oy) * Wo + ox];
          for (int c = 0; c < C; c++)
            for (int ky = 0; ky < p->kh; ky++)
              for (int kx = 0; kx < p->kw; kx++) {
                int iy = oy * p->sh - p->ph + ky, ix = ox * p->sw - p->pw + kx;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                size_t xi = ((size_t)(n * C + c) * H + iy) * W + ix;
                size_t wi = ((size_t)(o * C + c) * p->kh + ky) * p->kw + kx;
                if (dx) dx[xi] += g * w[wi];
                if (dw) dw[wi] += g * x[xi];
              }
        }
}

/* Transposed convolution, w [Ci, Co, kh, kw]: y[n, co, iy*sh - ph + ky, ix*sw - pw + kx] +=
 * x[n, ci, iy, ix] w[ci, co, ky, kx]. */
static inline void ref_convt(const double *x, const double *w, const double *b, double *y, int N,
                             int Ci, int H, int W, int Co, const cmp_conv_params *p) {
  int Ho = cmp_convt_out(H, p->kh, p->sh, p->ph), Wo = cmp_convt_out(W, p->kw, p->sw, p->pw);
  for (int n = 0; n < N; n++)
    for (int co = 0; co < Co; co++)
      for (size_t i = 0; i < (size_t)Ho * Wo; i++)
        y[(size_t)(n * Co + co) * Ho * Wo + i] = b ? b[co] : 0;
  for (int n = 0; n < N; n++)
    for (int ci = 0; ci < Ci; ci++)
      for (int iy = 0; iy < H; iy++)
        for (int ix = 0; ix < W; ix++)
          for (int co = 0; co < Co; co++)
            for (int ky = 0; ky < p->kh; ky++)
              for (int kx = 0; kx < p->kw; kx++) {
                int oy = iy * p->sh - p->ph + ky, ox = ix * p->sw - p->pw + kx;
                if (oy < 0 || oy >= Ho || ox < 0 || ox >= Wo) continue;
                y[((size_t)(n * Co + co) * Ho + oy) * Wo + ox] +=
                    x[((size_t)(n * Ci + ci) * H + iy) * W + ix] *
                    w[((size_t)(ci * Co + co) * p->kh + ky) * p->kw + kx];
              }
}

#endif

/* The adjoints of ref_convt: dx += T^T dy, dw += (dy x) per tap (no bias). */
static inline void ref_convt_adj(const double *x, const double *w, const double *dy, double *dx,
                                 double *dw, int N, int Ci, int H, int W, int Co,
                                 const cmp_conv_params *p) {
  int Ho = cmp_convt_out(H, p->kh, p->sh, p->ph), Wo = cmp_convt_out(W, p->kw, p->sw, p->pw);
  for (int n = 0; n < N; n++)
    for (int ci = 0; ci < Ci; ci++)
      for (int iy = 0; iy < H; iy++)
        for (int ix = 0; ix < W; ix++)
          for (int co = 0; co < Co; co++)
            for (int ky = 0; ky < p->kh; ky++)
              for (int kx = 0; kx < p->kw; kx++) {
                int oy = iy * p->sh - p->ph + ky, ox = ix * p->sw - p->pw + kx;
                if (oy < 0 || oy >= Ho || ox < 0 || ox >= Wo) continue;
                size_t xi = ((size_t)(n * Ci + ci) * H + iy) * W + ix;
                size_t wi = ((size_t)(ci * Co + co) * p->kh + ky) * p->kw + kx;
                double g = dy[((size_t)(n * Co + co) * Ho + oy) * Wo + ox];
                if (dx) dx[xi] += g * w[wi];
                if (dw) dw[wi] += g * x[xi];
              }
}

/* ---- central finite differences -------------------------------------------------------------- */

typedef double (*fd_loss)(void *user); /* the scalar loss from the current double inputs */

/* Compares grad (from the backend) with central differences of loss with respect to x at a few
 * spread-out coordinates. */
static inline void check_fd_h(const char *name, double *x, size_t n, const float *grad,
                              fd_loss loss, void *user, int samples, double h_rel) {
  double gs = 0;
  for (size_t i = 0; i < n; i++) gs += (double)grad[i] * grad[i];
  gs = sqrt(gs / (double)n);
  int bad = 0;
  for (int s = 0; s < samples && s < (int)n; s++) {
    size_t i = n <= (size_t)samples ? (size_t)s : ((size_t)s * 2654435761u) % n;
    double x0 = x[i], h = h_rel * (fabs(x0) > 1 ? fabs(x0) : 1);
    x[i] = x0 + h;
    double lp = loss(user);
    x[i] = x0 - h;
    double lm = loss(user);
    x[i] = x0;
    double fd = (lp - lm) / (2 * h);
    if (fabs(grad[i] - fd) > 1e-3 * (fabs(fd) + gs) + 1e-6) {
      if (bad++ < 3)
        fprintf(stderr, "%s: d/dx[%zu]: backend %.7g, finite differences %.7g\n", name, i, grad[i],
                fd);
    }
  }
  CHECK_MSG(bad == 0, "%s: %d of %d gradient entries disagree with finite differences", name, bad,
            samples);
}

static inline void check_fd(const char *name, double *x, size_t n, const float *grad, fd_loss loss,
                            void *user, int samples) {
  check_fd_h(name, x, n, grad, loss, user, samples, 1e-4);
}
