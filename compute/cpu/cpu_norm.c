/* CPU backend: batch normalisation (per channel over N x H x W). Statistics in double so that the
 * CPU backend can serve as the reference for the others. */
#include "cpu_internal.h"

#include <math.h>
#include <string.h>

typedef struct bn_args {
  const float *x, *dy, *gamma, *beta_, *mean, *invstd;
  float *y, *dx, *dgamma, *dbeta, *run_mean, *run_var, *save_mean, *save_invstd;
  float *dsum; /* backward, features: per channel sum of dx (+ pbeta old), or NULL */
  int n, c;
  size_t hw;
  float momentum, eps, beta;
  float pbeta;              /* backward: dgamma, dbeta = new + pbeta * old (beta: dx's) */
  const cmp_fused_act *act; /* backward: NULL, or dx also through this activation (output x) */
} bn_args;

/* The activation's slope below zero (ReLU 0, leaky ReLU alpha), for dx. */
static inline float act_neg(const bn_args *a) {
  return a->act->act == CMP_ACT_RELU ? 0.0f : a->act->alpha;
}
/* The activation's derivative at its output x (1 above zero, act_neg below), for dx. */
static inline float act_slope(const bn_args *a, float x) {
  return !a->act || x > 0.0f ? 1.0f : act_neg(a);
}
static inline cpu_v8 act_slope8(const bn_args *a, cpu_v8 x) {
  cpu_v8 one = cpu_v8_set1(1.0f);
  if (!a->act) return one;
  return cpu_v8_select(x > cpu_v8_set1(0.0f), one, cpu_v8_set1(act_neg(a)));
}

/* Row reductions in 8 float lanes (a row is at most a feature map, so float partial sums are
 * accurate); rows are then summed in double. */
static inline float lanes_sum(cpu_v8 v) {
  return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
}

static inline double row_sum(const float *r, size_t n) {
  cpu_v8 acc = cpu_v8_set1(0.0f);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) acc += cpu_v8_load(r + i);
  float s = lanes_sum(acc);
  for (; i < n; i++) s += r[i];
  return s;
}

static inline double row_sqdev(const float *r, size_t n, float mu) {
  cpu_v8 acc = cpu_v8_set1(0.0f), m = cpu_v8_set1(mu);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    cpu_v8 d = cpu_v8_load(r + i) - m;
    acc += d * d;
  }
  float s = lanes_sum(acc);
  for (; i < n; i++) s += (r[i] - mu) * (r[i] - mu);
  return s;
}

static inline void row_affine(const float *r, float *o, size_t n, float sc, float sh) {
  cpu_v8 a = cpu_v8_set1(sc), b = cpu_v8_set1(sh);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) cpu_v8_store(o + i, cpu_v8_load(r + i) * a + b);
  for (; i < n; i++) o[i] = r[i] * sc + sh;
}

CPU_HOT static void bn_train_task(void *v, int c, int worker) {
  (void)worker;
  bn_args *a = v;
  size_t m = (size_t)a->n * a->hw;
  double s = 0, ss = 0;
  for (int n = 0; n < a->n; n++) s += row_sum(a->x + ((size_t)n * a->c + c) * a->hw, a->hw);
  double mu = s / (double)m;
  for (int n = 0; n < a->n; n++)
    ss += row_sqdev(a->x + ((size_t)n * a->c + c) * a->hw, a->hw, (float)mu);
  double var = ss / (double)m;
  float inv = (float)(1.0 / sqrt(var + a->eps)), fmu = (float)mu;
  a->save_mean[c] = fmu;
  a->save_invstd[c] = inv;
  a->run_mean[c] = (1.0f - a->momentum) * a->run_mean[c] + a->momentum * fmu;
  a->run_var[c] =
      (1.0f - a->momentum) * a->run_var[c] + a->momentum * (float)(var * m / (double)(m - 1));
  float sc = a->gamma[c] * inv, sh = a->beta_[c] - fmu * sc;
  for (int n = 0; n < a->n; n++)
    row_affine(a->x + ((size_t)n * a->c + c) * a->hw, a->y + ((size_t)n * a->c + c) * a->hw, a->hw,
               sc, sh);
}

/* Features [N, C] (h = w = 1): rows are contiguous, so accumulate row by row. */
CPU_HOT static void bn_train_features(cmp_ctx *ctx, bn_args *a) {
  /* 2c doubles of sums, then 2c floats of scale and shift. */
  double *restrict s = (double *)cpu_shared_get(ctx, 0, 6 * (size_t)a->c);
  double *restrict ss = s + a->c;
  memset(s, 0, 2 * (size_t)a->c * sizeof(double));
  for (int n = 0; n < a->n; n++) {
    const float *restrict r = a->x + (size_t)n * a->c;
    for (int c = 0; c < a->c; c++) s[c] += r[c];
  }
  for (int c = 0; c < a->c; c++) s[c] /= a->n;
  for (int n = 0; n < a->n; n++) {
    const float *restrict r = a->x + (size_t)n * a->c;
    for (int c = 0; c < a->c; c++) {
      double d = r[c] - s[c];
      ss[c] += d * d;
    }
  }
  float *restrict sc = (float *)(ss + a->c), *restrict sh = sc + a->c;
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
    const float *restrict r = a->x + (size_t)n * a->c;
    float *restrict o = a->y + (size_t)n * a->c;
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
CPU_HOT static void bn_bwd_channel(bn_args *a, int c) {
  size_t m = (size_t)a->n * a->hw, hw = a->hw;
  float mu = a->mean[c], inv = a->invstd[c];
  cpu_v8 vmu = cpu_v8_set1(mu), vinv = cpu_v8_set1(inv);
  double sdy = 0, sdyx = 0;
  for (int n = 0; n < a->n; n++) {
    const float *r = a->x + ((size_t)n * a->c + c) * hw;
    const float *d = a->dy + ((size_t)n * a->c + c) * hw;
    cpu_v8 s1 = cpu_v8_set1(0.0f), s2 = s1;
    size_t i = 0;
    for (; i + 8 <= hw; i += 8) {
      cpu_v8 g = cpu_v8_load(d + i);
      s1 += g;
      s2 += g * ((cpu_v8_load(r + i) - vmu) * vinv);
    }
    float t1 = lanes_sum(s1), t2 = lanes_sum(s2);
    for (; i < hw; i++) t1 += d[i], t2 += d[i] * ((r[i] - mu) * inv);
    sdy += t1;
    sdyx += t2;
  }
  float k = a->gamma[c] * inv, mdy = (float)(sdy / (double)m), mdyx = (float)(sdyx / (double)m);
  cpu_v8 vk = cpu_v8_set1(k), vmdy = cpu_v8_set1(mdy), vmdyx = cpu_v8_set1(mdyx);
  cpu_v8 vbeta = cpu_v8_set1(a->beta);
  for (int n = 0; n < a->n; n++) {
    const float *r = a->x + ((size_t)n * a->c + c) * hw;
    const float *d = a->dy + ((size_t)n * a->c + c) * hw;
    float *o = a->dx + ((size_t)n * a->c + c) * hw;
    size_t i = 0;
    for (; i + 8 <= hw; i += 8) {
      cpu_v8 xr = cpu_v8_load(r + i);
      cpu_v8 g = vk * (cpu_v8_load(d + i) - vmdy - (xr - vmu) * vinv * vmdyx);
      if (a->act) g *= act_slope8(a, xr);
      if (a->beta != 0.0f) g += vbeta * cpu_v8_load(o + i);
      cpu_v8_store(o + i, g);
    }
    for (; i < hw; i++) {
      float g = k * (d[i] - mdy - (r[i] - mu) * inv * mdyx) * act_slope(a, r[i]);
      o[i] = a->beta == 0.0f ? g : g + a->beta * o[i];
    }
  }
  if (a->dgamma)
    a->dgamma[c] = a->pbeta == 0.0f ? (float)sdyx : (float)sdyx + a->pbeta * a->dgamma[c];
  if (a->dbeta) a->dbeta[c] = a->pbeta == 0.0f ? (float)sdy : (float)sdy + a->pbeta * a->dbeta[c];
}

static void bn_bwd_task(void *v, int c, int worker) {
  (void)worker;
  bn_bwd_channel(v, c);
}

CPU_HOT static void bn_bwd_features(cmp_ctx *ctx, bn_args *a) {
  double *restrict sdy = (double *)cpu_shared_get(ctx, 0, 6 * (size_t)a->c);
  double *restrict sdyx = sdy + a->c;
  memset(sdy, 0, 2 * (size_t)a->c * sizeof(double));
  const float *restrict mean = a->mean, *restrict invstd = a->invstd;
  for (int n = 0; n < a->n; n++) {
    const float *restrict r = a->x + (size_t)n * a->c, *restrict d = a->dy + (size_t)n * a->c;
    for (int c = 0; c < a->c; c++) {
      sdy[c] += d[c];
      sdyx[c] += (double)d[c] * ((r[c] - mean[c]) * invstd[c]);
    }
  }
  float *restrict k = cpu_shared_get(ctx, 1, 3 * (size_t)a->c);
  float *restrict mdy = k + a->c, *restrict mdyx = mdy + a->c;
  for (int c = 0; c < a->c; c++) {
    k[c] = a->gamma[c] * a->invstd[c];
    mdy[c] = (float)(sdy[c] / a->n);
    mdyx[c] = (float)(sdyx[c] / a->n);
  }
  const float beta = a->beta;
  double *restrict sdx = sdy + 2 * (size_t)a->c; /* dsum: with beta 0, the sums of dx */
  if (a->dsum) memset(sdx, 0, (size_t)a->c * sizeof(double));
  for (int n = 0; n < a->n; n++) {
    const float *restrict r = a->x + (size_t)n * a->c, *restrict d = a->dy + (size_t)n * a->c;
    float *restrict o = a->dx + (size_t)n * a->c;
    if (a->dsum) /* (cmp_bn_bwd_ex: dx_beta is 0) */
      for (int c = 0; c < a->c; c++) {
        float g = k[c] * (d[c] - mdy[c] - (r[c] - mean[c]) * invstd[c] * mdyx[c]);
        sdx[c] += o[c] = g * act_slope(a, r[c]);
      }
    else if (a->act)
      for (int c = 0; c < a->c; c++) {
        float g = k[c] * (d[c] - mdy[c] - (r[c] - mean[c]) * invstd[c] * mdyx[c]);
        o[c] = g * act_slope(a, r[c]) + (beta == 0.0f ? 0.0f : beta * o[c]);
      }
    else if (beta == 0.0f)
      for (int c = 0; c < a->c; c++)
        o[c] = k[c] * (d[c] - mdy[c] - (r[c] - mean[c]) * invstd[c] * mdyx[c]);
    else
      for (int c = 0; c < a->c; c++)
        o[c] = k[c] * (d[c] - mdy[c] - (r[c] - mean[c]) * invstd[c] * mdyx[c]) + beta * o[c];
  }
  const float pbeta = a->pbeta;
  for (int c = 0; c < a->c; c++) {
    if (a->dgamma)
      a->dgamma[c] = pbeta == 0.0f ? (float)sdyx[c] : (float)sdyx[c] + pbeta * a->dgamma[c];
    if (a->dbeta) a->dbeta[c] = pbeta == 0.0f ? (float)sdy[c] : (float)sdy[c] + pbeta * a->dbeta[c];
    if (a->dsum) a->dsum[c] = pbeta == 0.0f ? (float)sdx[c] : (float)sdx[c] + pbeta * a->dsum[c];
  }
}

void cpu_bn_bwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *dy, const cmp_tensor *gamma,
                const cmp_tensor *save_mean, const cmp_tensor *save_invstd, const cmp_tensor *dx,
                const cmp_tensor *dgamma, const cmp_tensor *dbeta, const cmp_tensor *dsum,
                float dx_beta, float param_beta, const cmp_fused_act *act) {
  bn_args a = {.x = cpu_ptr(x),
               .dy = cpu_ptr(dy),
               .gamma = cpu_ptr(gamma),
               .mean = cpu_ptr(save_mean),
               .invstd = cpu_ptr(save_invstd),
               .dx = cpu_ptr(dx),
               .dgamma = dgamma ? cpu_ptr(dgamma) : NULL,
               .dbeta = dbeta ? cpu_ptr(dbeta) : NULL,
               .dsum = dsum ? cpu_ptr(dsum) : NULL,
               .n = x->n,
               .c = x->c,
               .hw = (size_t)x->h * x->w,
               .beta = dx_beta,
               .pbeta = param_beta,
               .act = act};
  if (a.hw == 1)
    bn_bwd_features(ctx, &a);
  else
    channel_parallel(ctx, &a, bn_bwd_task);
}
