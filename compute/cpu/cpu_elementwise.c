/* CPU backend: elementwise ops, data movement, reductions, losses, optimisers, random numbers. */
#include "cpu_internal.h"

#include "mb_philox.h"

#include <math.h>
#include <string.h>

/* ---- splitting a flat range over the workers ------------------------------------------------- */

typedef void (*range_fn)(void *arg, size_t begin, size_t end);
typedef struct range_job {
  range_fn fn; /* work on [begin, end) */
  void *arg;   /* its argument */
  size_t n;    /* items */
  int parts;   /* tasks */
} range_job;

static void range_task(void *v, int task, int worker) {
  (void)worker;
  range_job *j = v;
  size_t b, e;
  cpu_split(j->n, j->parts, task, &b, &e);
  /* Keep task boundaries on 16-float lines so that tasks never share a cache line. */
  b = task ? (b + 15) / 16 * 16 : 0;
  e = task + 1 < j->parts ? (e + 15) / 16 * 16 : j->n;
  if (e > j->n) e = j->n;
  if (b < e) j->fn(j->arg, b, e);
}

/* Runs fn over [0, n) split over the workers when n * cost is large enough. */
static void for_range(cmp_ctx *ctx, size_t n, double cost, range_fn fn, void *arg) {
  range_job j = {fn, arg, n, cpu_tasks_for(ctx, n, cost)};
  if (j.parts == 1)
    fn(arg, 0, n);
  else
    cpu_parallel(ctx, j.parts, range_task, &j);
}

/* ---- fill, axpby, clamp ---------------------------------------------------------------------- */

typedef struct ew_args {
  float *x, *y, *z, *w; /* operands by role */
  float a, b, c, d;     /* scalars by role */
  int kind;             /* variant */
} ew_args;

CPU_HOT static void fill_range(void *v, size_t b, size_t e) {
  ew_args *g = v;
  for (size_t i = b; i < e; i++) g->y[i] = g->a;
}

void cpu_fill(cmp_ctx *ctx, const cmp_tensor *t, float value) {
  ew_args g = {.y = cpu_ptr(t), .a = value};
  for_range(ctx, cmp_numel(t), 0.5, fill_range, &g);
}

CPU_HOT static void axpby_range(void *v, size_t b, size_t e) {
  ew_args *g = v;
  float *y = g->y;
  const float *x = g->x;
  if (g->b == 0.0f)
    for (size_t i = b; i < e; i++) y[i] = g->a * x[i];
  else
    for (size_t i = b; i < e; i++) y[i] = g->a * x[i] + g->b * y[i];
}

void cpu_axpby(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y, float alpha, float beta) {
  ew_args g = {.x = cpu_ptr(x), .y = cpu_ptr(y), .a = alpha, .b = beta};
  for_range(ctx, cmp_numel(x), 1, axpby_range, &g);
}

static void clamp_range(void *v, size_t b, size_t e) {
  ew_args *g = v;
  for (size_t i = b; i < e; i++) {
    float t = g->x[i];
    g->y[i] = t < g->a ? g->a : t > g->b ? g->b : t;
  }
}

void cpu_clamp(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y, float lo, float hi) {
  ew_args g = {.x = cpu_ptr(x), .y = cpu_ptr(y), .a = lo, .b = hi};
  for_range(ctx, cmp_numel(x), 1, clamp_range, &g);
}

/* beta * dst + src over n floats; beta == 0 overwrites (so NaN/garbage in dst never leaks). */
static inline void acc_copy(float *restrict dst, const float *restrict src, size_t n, float beta) {
  if (beta == 0.0f)
    memcpy(dst, src, n * sizeof(float));
  else if (beta == 1.0f)
    for (size_t i = 0; i < n; i++) dst[i] += src[i];
  else
    for (size_t i = 0; i < n; i++) dst[i] = src[i] + beta * dst[i];
}

void cpu_copy_channels(cmp_ctx *ctx, const cmp_tensor *src, int src_c0, const cmp_tensor *dst,
                       int dst_c0, int nc, float beta) {
  (void)ctx;
  size_t hw = (size_t)src->h * src->w, run = (size_t)nc * hw;
  for (int n = 0; n < src->n; n++)
    acc_copy(cpu_ptr(dst) + ((size_t)n * dst->c + dst_c0) * hw,
             cpu_ptr(src) + ((size_t)n * src->c + src_c0) * hw, run, beta);
}

/* ---- activations ----------------------------------------------------------------------------- */

/* y = act(x) over [b, e); x == y allowed. ReLU and leaky ReLU in explicit vectors: the compiler
 * does not vectorise the in-place select (it sees a conditional store). NaN propagates. */
CPU_HOT static void act_fwd_range(void *v, size_t b, size_t e) {
  ew_args *g = v;
  const float *x = g->x;
  float *y = g->y, alpha = g->a;
  cmp_act act = (cmp_act)g->kind;
  if (act == CMP_ACT_RELU || act == CMP_ACT_LEAKY_RELU) {
    float neg = act == CMP_ACT_RELU ? 0.0f : alpha;
    cpu_v8 zero = cpu_v8_set1(0.0f), vneg = cpu_v8_set1(neg);
    size_t i = b;
    for (; i + 8 <= e; i += 8) {
      cpu_v8 t = cpu_v8_load(x + i);
      cpu_v8_store(y + i, cpu_v8_select(t > zero, t, t * vneg));
    }
    for (; i < e; i++) y[i] = x[i] > 0.0f ? x[i] : neg * x[i];
  } else if (act == CMP_ACT_TANH)
    for (size_t i = b; i < e; i++) y[i] = tanhf(x[i]);
  else
    for (size_t i = b; i < e; i++) y[i] = 1.0f / (1.0f + expf(-x[i]));
}

void cpu_act_fwd(cmp_ctx *ctx, cmp_act act, const cmp_tensor *x, const cmp_tensor *y, float alpha) {
  ew_args g = {.x = cpu_ptr(x), .y = cpu_ptr(y), .a = alpha, .kind = (int)act};
  for_range(ctx, cmp_numel(x), act >= CMP_ACT_TANH ? 20 : 1, act_fwd_range, &g);
}

/* dx = act'(.) dy + beta dx; x, y, dy are read only (and may alias each other), dx may alias none.
 */
CPU_HOT static void act_bwd_range(void *v, size_t b, size_t e) {
  ew_args *g = v;
  const float *x = g->x, *y = g->y, *dy = g->z;
  float *restrict dx = g->w;
  float alpha = g->a, beta = g->b;
  cmp_act act = (cmp_act)g->kind;
  if (act == CMP_ACT_RELU || act == CMP_ACT_LEAKY_RELU) {
    /* ReLU passes 0 (not 0 * dy, which would turn an infinite dy into NaN). */
    cpu_v8 zero = cpu_v8_set1(0.0f), vneg = cpu_v8_set1(alpha), vbeta = cpu_v8_set1(beta);
    bool relu = act == CMP_ACT_RELU;
    size_t i = b;
    for (; i + 8 <= e; i += 8) {
      cpu_v8 g8 = cpu_v8_load(dy + i);
      cpu_v8 d = cpu_v8_select(cpu_v8_load(x + i) > zero, g8, relu ? zero : g8 * vneg);
      if (beta != 0.0f) d += vbeta * cpu_v8_load(dx + i);
      cpu_v8_store(dx + i, d);
    }
    for (; i < e; i++) {
      float d = x[i] > 0.0f ? dy[i] : relu ? 0.0f : alpha * dy[i];
      dx[i] = beta == 0.0f ? d : d + beta * dx[i];
    }
  } else if (act == CMP_ACT_TANH) {
    for (size_t i = b; i < e; i++) {
      float d = (1.0f - y[i] * y[i]) * dy[i];
      dx[i] = beta == 0.0f ? d : d + beta * dx[i];
    }
  } else {
    for (size_t i = b; i < e; i++) {
      float d = y[i] * (1.0f - y[i]) * dy[i];
      dx[i] = beta == 0.0f ? d : d + beta * dx[i];
    }
  }
}

void cpu_act_bwd(cmp_ctx *ctx, cmp_act act, const cmp_tensor *x, const cmp_tensor *y,
                 const cmp_tensor *dy, const cmp_tensor *dx, float alpha, float beta) {
  ew_args g = {.x = x ? cpu_ptr(x) : NULL,
               .y = y ? cpu_ptr(y) : NULL,
               .z = cpu_ptr(dy),
               .w = cpu_ptr(dx),
               .a = alpha,
               .b = beta,
               .kind = (int)act};
  for_range(ctx, cmp_numel(dy), 2, act_bwd_range, &g);
}

/* ---- broadcast binary ops -------------------------------------------------------------------- */

static inline float binop(cmp_binop op, float a, float b) {
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

/* Strides of b seen with a's shape (0 along broadcast dimensions). */
typedef struct bstrides {
  size_t n, c, h, w;
} bstrides;
static bstrides b_strides(const cmp_tensor *b) {
  bstrides s;
  s.w = b->w == 1 ? 0 : 1;
  s.h = b->h == 1 ? 0 : (size_t)b->w;
  s.c = b->c == 1 ? 0 : (size_t)b->h * b->w;
  s.n = b->n == 1 ? 0 : (size_t)b->c * b->h * b->w;
  return s;
}

void cpu_binary(cmp_ctx *ctx, cmp_binop op, const cmp_tensor *a, const cmp_tensor *b,
                const cmp_tensor *y) {
  (void)ctx;
  const float *pa = cpu_ptr(a), *pb = cpu_ptr(b);
  float *py = cpu_ptr(y);
  bstrides s = b_strides(b);
  size_t i = 0;
  for (int n = 0; n < a->n; n++)
    for (int c = 0; c < a->c; c++)
      for (int h = 0; h < a->h; h++) {
        const float *rb = pb + n * s.n + c * s.c + h * s.h;
        if (s.w)
          for (int w = 0; w < a->w; w++, i++) py[i] = binop(op, pa[i], rb[w]);
        else
          for (int w = 0; w < a->w; w++, i++) py[i] = binop(op, pa[i], rb[0]);
      }
}

void cpu_binary_bwd(cmp_ctx *ctx, cmp_binop op, const cmp_tensor *a, const cmp_tensor *b,
                    const cmp_tensor *dy, const cmp_tensor *da, const cmp_tensor *db, float beta) {
  (void)ctx;
  const float *pa = cpu_ptr(a), *pb = cpu_ptr(b), *pdy = cpu_ptr(dy);
  float *pda = da ? cpu_ptr(da) : NULL, *pdb = db ? cpu_ptr(db) : NULL;
  bstrides s = b_strides(b);
  if (pdb) {
    size_t nb = cmp_numel(b);
    if (beta == 0.0f)
      memset(pdb, 0, nb * sizeof(float));
    else if (beta != 1.0f)
      for (size_t k = 0; k < nb; k++) pdb[k] *= beta;
  }
  size_t i = 0;
  for (int n = 0; n < a->n; n++)
    for (int c = 0; c < a->c; c++)
      for (int h = 0; h < a->h; h++)
        for (int w = 0; w < a->w; w++, i++) {
          size_t j = n * s.n + c * s.c + h * s.h + w * s.w;
          float g = pdy[i], ga, gb;
          switch (op) {
            case CMP_ADD:
              ga = g, gb = g;
              break;
            case CMP_SUB:
              ga = g, gb = -g;
              break;
            case CMP_MUL:
              ga = g * pb[j], gb = g * pa[i];
              break;
            case CMP_MIN: {
              bool to_a = pa[i] <= pb[j]; /* ties go to a, as in the forward */
              ga = to_a ? g : 0.0f, gb = to_a ? 0.0f : g;
            } break;
            default: {
              bool to_a = pa[i] >= pb[j];
              ga = to_a ? g : 0.0f, gb = to_a ? 0.0f : g;
            } break;
          }
          if (pda) pda[i] = beta == 0.0f ? ga : ga + beta * pda[i];
          if (pdb) pdb[j] += gb;
        }
}

/* ---- reductions ------------------------------------------------------------------------------ */

typedef struct red_args {
  const float *x; /* [outer, r, inner] */
  float *y;       /* [outer, inner] */
  size_t r, inner;
  float s, beta;
} red_args;

static void reduce_range(void *v, size_t b, size_t e) {
  red_args *g = v;
  for (size_t o = b; o < e; o++) {
    const float *x = g->x + o * g->r * g->inner;
    float *y = g->y + o * g->inner;
    if (g->inner == 1) {
      double acc = 0;
      for (size_t k = 0; k < g->r; k++) acc += x[k];
      float v1 = (float)(acc * g->s);
      y[0] = g->beta == 0.0f ? v1 : v1 + g->beta * y[0];
      continue;
    }
    /* Sum rows in order; the first row initialises so that beta == 0 never reads y. */
    for (size_t i = 0; i < g->inner; i++) {
      float acc = 0.0f;
      for (size_t k = 0; k < g->r; k++) acc += x[k * g->inner + i];
      acc *= g->s;
      y[i] = g->beta == 0.0f ? acc : acc + g->beta * y[i];
    }
  }
}

void cpu_reduce(cmp_ctx *ctx, const cmp_tensor *x, int r, int inner, bool mean, const cmp_tensor *y,
                float beta) {
  red_args g = {cpu_ptr(x), cpu_ptr(y), (size_t)r, (size_t)inner, mean ? 1.0f / (float)r : 1.0f,
                beta};
  size_t outer = cmp_numel(x) / ((size_t)r * inner);
  for_range(ctx, outer, (double)r * inner, reduce_range, &g);
}

static void broadcast_range(void *v, size_t b, size_t e) {
  red_args *g = v; /* x: [outer, inner], y: [outer, r, inner] */
  for (size_t o = b; o < e; o++) {
    const float *x = g->x + o * g->inner;
    for (size_t k = 0; k < g->r; k++) {
      float *y = g->y + (o * g->r + k) * g->inner;
      if (g->beta == 0.0f)
        for (size_t i = 0; i < g->inner; i++) y[i] = g->s * x[i];
      else
        for (size_t i = 0; i < g->inner; i++) y[i] = g->s * x[i] + g->beta * y[i];
    }
  }
}

void cpu_broadcast(cmp_ctx *ctx, const cmp_tensor *x, int r, int inner, bool mean,
                   const cmp_tensor *y, float beta) {
  red_args g = {cpu_ptr(x), cpu_ptr(y), (size_t)r, (size_t)inner, mean ? 1.0f / (float)r : 1.0f,
                beta};
  size_t outer = cmp_numel(x) / (size_t)inner;
  for_range(ctx, outer, (double)r * inner, broadcast_range, &g);
}

/* ---- losses ---------------------------------------------------------------------------------- */

void cpu_mse_fwd(cmp_ctx *ctx, const cmp_tensor *a, const cmp_tensor *b, const cmp_tensor *out) {
  (void)ctx;
  const float *pa = cpu_ptr(a), *pb = cpu_ptr(b);
  size_t n = cmp_numel(a);
  double acc = 0;
  for (size_t i = 0; i < n; i++) {
    double d = (double)pa[i] - pb[i];
    acc += d * d;
  }
  cpu_ptr(out)[0] = (float)(acc / (double)n);
}

void cpu_mse_bwd(cmp_ctx *ctx, const cmp_tensor *a, const cmp_tensor *b, float scale,
                 const cmp_tensor *da, float beta) {
  (void)ctx;
  const float *pa = cpu_ptr(a), *pb = cpu_ptr(b);
  float *pd = cpu_ptr(da);
  size_t n = cmp_numel(a);
  float k = 2.0f * scale / (float)n;
  for (size_t i = 0; i < n; i++) {
    float g = k * (pa[i] - pb[i]);
    pd[i] = beta == 0.0f ? g : g + beta * pd[i];
  }
}

void cpu_logsumexp_fwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y) {
  (void)ctx;
  size_t k = cmp_sample_size(x);
  for (int n = 0; n < x->n; n++) {
    const float *r = cpu_ptr(x) + (size_t)n * k;
    float m = r[0];
    for (size_t i = 1; i < k; i++) m = r[i] > m ? r[i] : m;
    double s = 0;
    for (size_t i = 0; i < k; i++) s += exp((double)r[i] - m);
    cpu_ptr(y)[n] = (float)(m + log(s));
  }
}

void cpu_logsumexp_bwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y, const cmp_tensor *dy,
                       const cmp_tensor *dx, float beta) {
  (void)ctx;
  size_t k = cmp_sample_size(x);
  for (int n = 0; n < x->n; n++) {
    const float *r = cpu_ptr(x) + (size_t)n * k;
    float *d = cpu_ptr(dx) + (size_t)n * k;
    float lse = cpu_ptr(y)[n], g = cpu_ptr(dy)[n];
    for (size_t i = 0; i < k; i++) {
      float v = g * expf(r[i] - lse);
      d[i] = beta == 0.0f ? v : v + beta * d[i];
    }
  }
}

/* ---- optimisers ------------------------------------------------------------------------------ */

typedef struct adam_args {
  float *p, *g, *m, *v;
  float lr, b1, b2, eps;
  float step_size; /* lr / (1 - b1^t) */
  float bc2_sqrt;  /* sqrt(1 - b2^t) */
} adam_args;

CPU_HOT static void adam_range(void *vv, size_t b, size_t e) {
  adam_args *a = vv;
  float *restrict p = a->p, *restrict pm = a->m, *restrict pv = a->v;
  const float *restrict pg = a->g;
  const float b1 = a->b1, b2 = a->b2, c1 = 1.0f - b1, c2 = 1.0f - b2, bc2 = a->bc2_sqrt,
              eps = a->eps, step = a->step_size;
  for (size_t i = b; i < e; i++) {
    float g = pg[i];
    float m = b1 * pm[i] + c1 * g;
    float v = b2 * pv[i] + c2 * g * g;
    pm[i] = m;
    pv[i] = v;
    /* PyTorch's order of operations (torch.optim.Adam, single-tensor path). */
    float denom = sqrtf(v) / bc2 + eps;
    p[i] -= step * (m / denom);
  }
}

void cpu_adam_step(cmp_ctx *ctx, const cmp_tensor *param, const cmp_tensor *grad,
                   const cmp_tensor *m, const cmp_tensor *v, float lr, float b1, float b2,
                   float eps, int64_t t) {
  double bc1 = 1.0 - pow((double)b1, (double)t), bc2 = 1.0 - pow((double)b2, (double)t);
  adam_args a = {cpu_ptr(param),    cpu_ptr(grad),   cpu_ptr(m), cpu_ptr(v), lr, b1, b2, eps,
                 (float)(lr / bc1), (float)sqrt(bc2)};
  for_range(ctx, cmp_numel(param), 10, adam_range, &a);
}

CPU_HOT static void polyak_range(void *v, size_t b, size_t e) {
  ew_args *g = v;
  float *restrict y = g->y, tau = g->a, rest = 1.0f - g->a;
  const float *restrict x = g->x;
  for (size_t i = b; i < e; i++) y[i] = tau * y[i] + rest * x[i];
}

void cpu_polyak(cmp_ctx *ctx, const cmp_tensor *target, const cmp_tensor *source, float tau) {
  ew_args g = {.x = cpu_ptr(source), .y = cpu_ptr(target), .a = tau};
  for_range(ctx, cmp_numel(target), 2, polyak_range, &g);
}

/* ---- random numbers -------------------------------------------------------------------------- */

typedef struct rng_args {
  float *t;
  uint64_t seed, index0;
  uint32_t stream;
  float a, b;
} rng_args;

/* Never CPU_HOT: a fused multiply-add would change the last bit (cmp.h: bit-identical numbers). */
static void uniform_range(void *v, size_t b, size_t e) {
  rng_args *g = v;
  float span = g->b - g->a;
  for (size_t i = b; i < e; i++)
    g->t[i] = g->a + span * mb_philox_uniform(g->seed, g->stream, g->index0 + i);
}

static void normal_range(void *v, size_t b, size_t e) {
  rng_args *g = v;
  for (size_t i = b; i < e; i++)
    g->t[i] = g->a + g->b * mb_philox_normal(g->seed, g->stream, g->index0 + i);
}

void cpu_rng_uniform(cmp_ctx *ctx, const cmp_tensor *t, uint64_t seed, uint32_t stream,
                     uint64_t index0, float lo, float hi) {
  rng_args g = {cpu_ptr(t), seed, index0, stream, lo, hi};
  for_range(ctx, cmp_numel(t), 60, uniform_range, &g);
}

void cpu_rng_normal(cmp_ctx *ctx, const cmp_tensor *t, uint64_t seed, uint32_t stream,
                    uint64_t index0, float mean, float std) {
  rng_args g = {cpu_ptr(t), seed, index0, stream, mean, std};
  for_range(ctx, cmp_numel(t), 100, normal_range, &g);
}
