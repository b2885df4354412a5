/* CPU backend: batch normalisation (per channel over N x H x W). Statistics in double so that the
 * CPU backend can serve as the reference for the others. */
#include "cpu_internal.h"

#include <math.h>
#include <string.h>

typedef struct bn_args {
  const float *x, *dy, *gamma, *beta_, *mean, *invstd;
  float *y, *dx, *dgamma, *dbeta, *run_mean, *run_var, *save_mean, *save_invstd;
  int n, c;
  size_t hw;
  float momentum, eps, beta;
} bn_args;

/* Per-channel sum and sum of squared deviations, for channels [c0, c1). */
static void bn_stats(const bn_args *a, int c0, int c1, double *mean, double *var) {
  size_t m = (size_t)a->n * a->hw;
  for (int c = c0; c < c1; c++) {
    double s = 0;
    for (int n = 0; n < a->n; n++) {
      const float *r = a->x + ((size_t)n * a->c + c) * a->hw;
      for (size_t i = 0; i < a->hw; i++) s += r[i];
    }
    double mu = s / (double)m, ss = 0;
    for (int n = 0; n < a->n; n++) {
      const float *r = a->x + ((size_t)n * a->c + c) * a->hw;
      for (size_t i = 0; i < a->hw; i++) {
        double d = r[i] - mu;
        ss += d * d;
      }
    }
    mean[c - c0] = mu;
    var[c - c0] = ss / (double)m;
  }
}

static void bn_train_task(void *v, int c, int worker) {
  (void)worker;
  bn_args *a = v;
  double mu, var;
  bn_stats(a, c, c + 1, &mu, &var);
  size_t m = (size_t)a->n * a->hw;
  float inv = (float)(1.0 / sqrt(var + a->eps)), fmu = (float)mu;
  a->save_mean[c] = fmu;
  a->save_invstd[c] = inv;
  a->run_mean[c] = (1.0f - a->momentum) * a->run_mean[c] + a->momentum * fmu;
  a->run_var[c] =
      (1.0f - a->momentum) * a->run_var[c] + a->momentum * (float)(var * m / (double)(m - 1));
  float sc = a->gamma[c] * inv, sh = a->beta_[c] - fmu * sc;
  for (int n = 0; n < a->n; n++) {
    const float *r = a->x + ((size_t)n * a->c + c) * a->hw;
    float *o = a->y + ((size_t)n * a->c + c) * a->hw;
    for (size_t i = 0; i < a->hw; i++) o[i] = r[i] * sc + sh;
  }
}

/* Features [N, C] (h = w = 1): rows are contiguous, so accumulate row by row. */
static void bn_train_features(cmp_ctx *ctx, bn_args *a) {
  /* 2c doubles of sums, then 2c floats of scale and shift. */
  double *s = (double *)cpu_shared_get(ctx, 0, 6 * (size_t)a->c);
  double *ss = s + a->c;
  memset(s, 0, 2 * (size_t)a->c * sizeof(double));
  for (int n = 0; n < a->n; n++) {
    const float *r = a->x + (size_t)n * a->c;
    for (int c = 0; c < a->c; c++) s[c] += r[c];
  }
  for (int c = 0; c < a->c; c++) s[c] /= a->n;
  for (int n = 0; n < a->n; n++) {
    const float *r = a->x + (size_t)n * a->c;
    for (int c = 0; c < a->c; c++) {
      double d = r[c] - s[c];
      ss[c] += d * d;
    }
  }
  float *sc = (float *)(ss + a->c), *sh = sc + a->c;
  for (int c = 0; c < a->c; c++) {
    double var = ss[c] / a->n;
    float inv = (float)(1.0 / sqrt(var + a->eps)), fmu = (float)s[c];
    a->save_mean[c] = fmu;
    a->save_invstd[c] = inv;
    a->run_mean[c] = (1.0f - a->momentum) * a->run_mean[c] + a->momentum * fmu;
    a->run_var[c] = (1.0f - a->momentum) * a->run_var[c] +
                    a->momentum * (float)(var * a->n / (double)(a->n - 1));
    sc[c] = a->gamma[c] * inv;
    sh[c] = a->beta_[c] - fmu * sc[c];
  }
  for (int n = 0; n < a->n; n++) {
    const float *r = a->x + (size_t)n * a->c;
    float *o = a->y + (size_t)n * a->c;
    for (int c = 0; c < a->c; c++) o[c] = r[c] * sc[c] + sh[c];
  }
}

/* One task per channel, or all in this thread when the tensor is too small to share. */
static void channel_parallel(cmp_ctx *ctx, bn_args *a, cpu_task_fn fn) {
  if (cpu_tasks_for(ctx, (size_t)a->n * a->c * a->hw, 8.0) == 1)
    for (int c = 0; c < a->c; c++) fn(a, c, 0);
  else
    cpu_parallel(ctx, a->c, fn, a);
}

void cpu_bn_fwd_train(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *gamma,
                      const cmp_tensor *beta_, const cmp_tensor *run_mean,
                      const cmp_tensor *run_var, float momentum, float eps, const cmp_tensor *y,
                      const cmp_tensor *save_mean, const cmp_tensor *save_invstd) {
  bn_args a = {.x = cpu_ptr(x),
               .gamma = cpu_ptr(gamma),
               .beta_ = cpu_ptr(beta_),
               .y = cpu_ptr(y),
               .run_mean = cpu_ptr(run_mean),
               .run_var = cpu_ptr(run_var),
               .save_mean = cpu_ptr(save_mean),
               .save_invstd = cpu_ptr(save_invstd),
               .n = x->n,
               .c = x->c,
               .hw = (size_t)x->h * x->w,
               .momentum = momentum,
               .eps = eps};
  if (a.hw == 1)
    bn_train_features(ctx, &a);
  else
    channel_parallel(ctx, &a, bn_train_task);
}

void cpu_bn_fwd_eval(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *gamma,
                     const cmp_tensor *beta_, const cmp_tensor *run_mean, const cmp_tensor *run_var,
                     float eps, const cmp_tensor *y) {
  float *sc = cpu_shared_get(ctx, 0, 2 * (size_t)x->c), *sh = sc + x->c;
  for (int c = 0; c < x->c; c++) {
    float inv = (float)(1.0 / sqrt((double)cpu_ptr(run_var)[c] + eps));
    sc[c] = cpu_ptr(gamma)[c] * inv;
    sh[c] = cpu_ptr(beta_)[c] - cpu_ptr(run_mean)[c] * sc[c];
  }
  size_t hw = (size_t)x->h * x->w;
  for (int n = 0; n < x->n; n++)
    for (int c = 0; c < x->c; c++) {
      const float *r = cpu_ptr(x) + ((size_t)n * x->c + c) * hw;
      float *o = cpu_ptr(y) + ((size_t)n * x->c + c) * hw;
      for (size_t i = 0; i < hw; i++) o[i] = r[i] * sc[c] + sh[c];
    }
}

/* dx = gamma * invstd / m * (m dy - sum(dy) - xhat sum(dy xhat)), xhat = (x - mean) invstd;
 * dgamma = sum(dy xhat); dbeta = sum(dy). */
static void bn_bwd_channel(bn_args *a, int c) {
  size_t m = (size_t)a->n * a->hw;
  float mu = a->mean[c], inv = a->invstd[c];
  double sdy = 0, sdyx = 0;
  for (int n = 0; n < a->n; n++) {
    const float *r = a->x + ((size_t)n * a->c + c) * a->hw;
    const float *d = a->dy + ((size_t)n * a->c + c) * a->hw;
    for (size_t i = 0; i < a->hw; i++) {
      sdy += d[i];
      sdyx += (double)d[i] * ((r[i] - mu) * inv);
    }
  }
  float k = a->gamma[c] * inv, mdy = (float)(sdy / (double)m), mdyx = (float)(sdyx / (double)m);
  for (int n = 0; n < a->n; n++) {
    const float *r = a->x + ((size_t)n * a->c + c) * a->hw;
    const float *d = a->dy + ((size_t)n * a->c + c) * a->hw;
    float *o = a->dx + ((size_t)n * a->c + c) * a->hw;
    for (size_t i = 0; i < a->hw; i++) {
      float g = k * (d[i] - mdy - (r[i] - mu) * inv * mdyx);
      o[i] = a->beta == 0.0f ? g : g + a->beta * o[i];
    }
  }
  if (a->dgamma)
    a->dgamma[c] = a->beta == 0.0f ? (float)sdyx : (float)sdyx + a->beta * a->dgamma[c];
  if (a->dbeta) a->dbeta[c] = a->beta == 0.0f ? (float)sdy : (float)sdy + a->beta * a->dbeta[c];
}

static void bn_bwd_task(void *v, int c, int worker) {
  (void)worker;
  bn_bwd_channel(v, c);
}

static void bn_bwd_features(cmp_ctx *ctx, bn_args *a) {
  double *sdy = (double *)cpu_shared_get(ctx, 0, 4 * (size_t)a->c), *sdyx = sdy + a->c;
  memset(sdy, 0, 2 * (size_t)a->c * sizeof(double));
  for (int n = 0; n < a->n; n++) {
    const float *r = a->x + (size_t)n * a->c, *d = a->dy + (size_t)n * a->c;
    for (int c = 0; c < a->c; c++) {
      sdy[c] += d[c];
      sdyx[c] += (double)d[c] * ((r[c] - a->mean[c]) * a->invstd[c]);
    }
  }
  float *k = cpu_shared_get(ctx, 1, 3 * (size_t)a->c), *mdy = k + a->c, *mdyx = mdy + a->c;
  for (int c = 0; c < a->c; c++) {
    k[c] = a->gamma[c] * a->invstd[c];
    mdy[c] = (float)(sdy[c] / a->n);
    mdyx[c] = (float)(sdyx[c] / a->n);
  }
  for (int n = 0; n < a->n; n++) {
    const float *r = a->x + (size_t)n * a->c, *d = a->dy + (size_t)n * a->c;
    float *o = a->dx + (size_t)n * a->c;
    for (int c = 0; c < a->c; c++) {
      float g = k[c] * (d[c] - mdy[c] - (r[c] - a->mean[c]) * a->invstd[c] * mdyx[c]);
      o[c] = a->beta == 0.0f ? g : g + a->beta * o[c];
    }
  }
  for (int c = 0; c < a->c; c++) {
    if (a->dgamma)
      a->dgamma[c] = a->beta == 0.0f ? (float)sdyx[c] : (float)sdyx[c] + a->beta * a->dgamma[c];
    if (a->dbeta)
      a->dbeta[c] = a->beta == 0.0f ? (float)sdy[c] : (float)sdy[c] + a->beta * a->dbeta[c];
  }
}

void cpu_bn_bwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *dy, const cmp_tensor *gamma,
                const cmp_tensor *save_mean, const cmp_tensor *save_invstd, const cmp_tensor *dx,
                const cmp_tensor *dgamma, const cmp_tensor *dbeta, float beta) {
  bn_args a = {.x = cpu_ptr(x),
               .dy = cpu_ptr(dy),
               .gamma = cpu_ptr(gamma),
               .mean = cpu_ptr(save_mean),
               .invstd = cpu_ptr(save_invstd),
               .dx = cpu_ptr(dx),
               .dgamma = dgamma ? cpu_ptr(dgamma) : NULL,
               .dbeta = dbeta ? cpu_ptr(dbeta) : NULL,
               .n = x->n,
               .c = x->c,
               .hw = (size_t)x->h * x->w,
               .beta = beta};
  if (a.hw == 1)
    bn_bwd_features(ctx, &a);
  else
    channel_parallel(ctx, &a, bn_bwd_task);
}
