/* CPU backend: bilinear backward warping of images by a flow field (cmp_warp_fwd/bwd).
 *
 * Work is split by output rows (sample, y); every output pixel and every flow gradient is written
 * by exactly one task, so results do not depend on the thread count. */
#include "cpu_internal.h"

#include <math.h>

typedef struct warp_job {
  const float *img;   /* [ni, C, H, W] */
  const float *flow;  /* [N, 2, H, W] */
  const float *dout;  /* [N, C, H, W] (backward) */
  float *out;         /* [N, C, H, W] (forward) or dflow [N, 2, H, W] (backward) */
  int ni, n, c, h, w; /* sizes */
  float scale;        /* flow multiplier */
  float beta;         /* backward: dflow = grad + beta * dflow */
  int parts;          /* tasks */
} warp_job;

/* Where output pixel (x, y) samples: the clamped point, its integer corners and weights, and
 * whether each coordinate lies inside the image (else its derivative is zero). */
typedef struct warp_tap {
  int x0, x1, y0, y1; /* corners */
  float ax, ay;       /* weights of x1, y1 */
  bool in_x, in_y;    /* the coordinate was not clamped */
} warp_tap;

static inline warp_tap tap_of(float sx, float sy, int w, int h) {
  warp_tap t;
  t.in_x = sx >= 0.0f && sx <= (float)(w - 1);
  t.in_y = sy >= 0.0f && sy <= (float)(h - 1);
  sx = fminf(fmaxf(sx, 0.0f), (float)(w - 1));
  sy = fminf(fmaxf(sy, 0.0f), (float)(h - 1));
  t.x0 = (int)sx;
  t.y0 = (int)sy;
  t.x1 = t.x0 + 1 < w ? t.x0 + 1 : t.x0;
  t.y1 = t.y0 + 1 < h ? t.y0 + 1 : t.y0;
  t.ax = sx - (float)t.x0;
  t.ay = sy - (float)t.y0;
  return t;
}

static void warp_fwd_task(void *v, int task, int worker) {
  (void)worker;
  const warp_job *j = v;
  size_t b, e;
  cpu_split((size_t)j->n * j->h, j->parts, task, &b, &e);
  size_t hw = (size_t)j->h * j->w;
  for (size_t row = b; row < e; row++) {
    int n = (int)(row / (size_t)j->h), y = (int)(row % (size_t)j->h);
    const float *fx = j->flow + (size_t)n * 2 * hw + (size_t)y * j->w, *fy = fx + hw;
    const float *img = j->img + (size_t)(n % j->ni) * j->c * hw;
    float *out = j->out + (size_t)n * j->c * hw + (size_t)y * j->w;
    for (int x = 0; x < j->w; x++) {
      warp_tap t = tap_of((float)x + j->scale * fx[x], (float)y + j->scale * fy[x], j->w, j->h);
      float w00 = (1 - t.ax) * (1 - t.ay), w01 = t.ax * (1 - t.ay), w10 = (1 - t.ax) * t.ay,
            w11 = t.ax * t.ay;
      size_t i00 = (size_t)t.y0 * j->w + t.x0, i01 = (size_t)t.y0 * j->w + t.x1,
             i10 = (size_t)t.y1 * j->w + t.x0, i11 = (size_t)t.y1 * j->w + t.x1;
      for (int c = 0; c < j->c; c++) {
        const float *p = img + (size_t)c * hw;
        out[(size_t)c * hw + x] = w00 * p[i00] + w01 * p[i01] + w10 * p[i10] + w11 * p[i11];
      }
    }
  }
}

static void warp_bwd_task(void *v, int task, int worker) {
  (void)worker;
  const warp_job *j = v;
  size_t b, e;
  cpu_split((size_t)j->n * j->h, j->parts, task, &b, &e);
  size_t hw = (size_t)j->h * j->w;
  for (size_t row = b; row < e; row++) {
    int n = (int)(row / (size_t)j->h), y = (int)(row % (size_t)j->h);
    const float *fx = j->flow + (size_t)n * 2 * hw + (size_t)y * j->w, *fy = fx + hw;
    const float *img = j->img + (size_t)(n % j->ni) * j->c * hw;
    const float *dout = j->dout + (size_t)n * j->c * hw + (size_t)y * j->w;
    float *gx = j->out + (size_t)n * 2 * hw + (size_t)y * j->w, *gy = gx + hw;
    for (int x = 0; x < j->w; x++) {
      warp_tap t = tap_of((float)x + j->scale * fx[x], (float)y + j->scale * fy[x], j->w, j->h);
      size_t i00 = (size_t)t.y0 * j->w + t.x0, i01 = (size_t)t.y0 * j->w + t.x1,
             i10 = (size_t)t.y1 * j->w + t.x0, i11 = (size_t)t.y1 * j->w + t.x1;
      float sx = 0.0f, sy = 0.0f;
      for (int c = 0; c < j->c; c++) {
        const float *p = img + (size_t)c * hw;
        float g = dout[(size_t)c * hw + x];
        sx += g * ((1 - t.ay) * (p[i01] - p[i00]) + t.ay * (p[i11] - p[i10]));
        sy += g * ((1 - t.ax) * (p[i10] - p[i00]) + t.ax * (p[i11] - p[i01]));
      }
      float vx = t.in_x ? j->scale * sx : 0.0f, vy = t.in_y ? j->scale * sy : 0.0f;
      gx[x] = j->beta == 0.0f ? vx : vx + j->beta * gx[x];
      gy[x] = j->beta == 0.0f ? vy : vy + j->beta * gy[x];
    }
  }
}

static void run(cmp_ctx *ctx, warp_job *j, cpu_task_fn fn) {
  size_t rows = (size_t)j->n * j->h;
  j->parts = cpu_tasks_for(ctx, rows, (double)j->w * (12.0 + 8.0 * j->c));
  if (j->parts == 1)
    fn(j, 0, 0);
  else
    cpu_parallel(ctx, j->parts, fn, j);
}

void cpu_warp_fwd(cmp_ctx *ctx, const cmp_tensor *img, const cmp_tensor *flow, float scale,
                  const cmp_tensor *out) {
  warp_job j = {.img = cpu_ptr(img),
                .flow = cpu_ptr(flow),
                .out = cpu_ptr(out),
                .ni = img->n,
                .n = flow->n,
                .c = img->c,
                .h = img->h,
                .w = img->w,
                .scale = scale};
  run(ctx, &j, warp_fwd_task);
}

void cpu_warp_bwd(cmp_ctx *ctx, const cmp_tensor *img, const cmp_tensor *flow, float scale,
                  const cmp_tensor *dout, const cmp_tensor *dflow, float beta) {
  warp_job j = {.img = cpu_ptr(img),
                .flow = cpu_ptr(flow),
                .dout = cpu_ptr(dout),
                .out = cpu_ptr(dflow),
                .ni = img->n,
                .n = flow->n,
                .c = img->c,
                .h = img->h,
                .w = img->w,
                .scale = scale,
                .beta = beta};
  run(ctx, &j, warp_bwd_task);
}
