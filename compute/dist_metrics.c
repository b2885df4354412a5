#include "dist_metrics.h"

#include "cost_pixel.h"
#include "knn.h"
#include "mb_err.h"
#include "mb_philox.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STREAM_PAIRS 0x44500001u
#define PAIR_KNN_K   16

void dist_pairs_free(dist_pairs *p) {
  free(p->ep), free(p->t), free(p->pos_t), free(p->neg_ep), free(p->neg_t);
  memset(p, 0, sizeof *p);
}

bool dist_pairs_make(const dist_dataset *val, int n, uint64_t seed, dist_pairs *out, char *err,
                     size_t err_sz) {
  memset(out, 0, sizeof *out);
  if (n < 1) return mb_fail(err, err_sz, "metrics need at least one pair (got %d)", n);
  if (!dist_dataset_check(val, 2, "val split", err, err_sz)) return false;
  const int T = val->steps, frames = T + 1, J = val->arm_dim;
  int64_t total = (int64_t)val->episodes * frames;
  if (total > INT32_MAX) return mb_fail(err, err_sz, "val split too large");
  float *pts = malloc((size_t)total * (size_t)J * sizeof *pts);
  float *q = malloc((size_t)n * (size_t)J * sizeof *q);
  int k = total < PAIR_KNN_K ? (int)total : PAIR_KNN_K;
  int *idx = malloc((size_t)n * (size_t)k * sizeof *idx);
  out->n = n;
  out->ep = malloc((size_t)n * sizeof(int32_t));
  out->t = malloc((size_t)n * sizeof(int32_t));
  out->pos_t = malloc((size_t)n * sizeof(int32_t));
  out->neg_ep = malloc((size_t)n * sizeof(int32_t));
  out->neg_t = malloc((size_t)n * sizeof(int32_t));
  bool ok = pts && q && idx && out->ep && out->t && out->pos_t && out->neg_ep && out->neg_t;
  if (!ok) mb_fail(err, err_sz, "out of memory for %d metric pairs", n);
  knn_index *ix = NULL;
  if (ok) {
    memcpy(pts, val->arm_qpos, (size_t)total * (size_t)J * sizeof *pts);
    ix = knn_build(pts, (int)total, J, 1, err, err_sz);
    ok = ix != NULL;
  }
  mb_rng r = mb_rng_make(seed, STREAM_PAIRS);
  for (int i = 0; ok && i < n; i++) {
    int ep = (int)mb_rng_below(&r, (uint32_t)val->episodes);
    int t = (int)mb_rng_below(&r, (uint32_t)T);
    int off = 1 + (int)mb_rng_below(&r, (uint32_t)(T - t));
    out->ep[i] = ep, out->t[i] = t, out->pos_t[i] = t + off;
    memcpy(q + (size_t)i * J, dist_arm(val, ep, t), (size_t)J * sizeof *q);
  }
  if (ok) ok = knn_query(ix, q, n, k, idx, NULL, err, err_sz);
  for (int i = 0; ok && i < n; i++) {
    int j = 0;
    while (j < k && idx[(size_t)i * k + j] / frames == out->ep[i]) j++;
    if (j < k) {
      out->neg_ep[i] = idx[(size_t)i * k + j] / frames;
      out->neg_t[i] = idx[(size_t)i * k + j] % frames;
    } else {
      int e = (int)mb_rng_below(&r, (uint32_t)(val->episodes - 1));
      out->neg_ep[i] = e >= out->ep[i] ? e + 1 : e;
      out->neg_t[i] = (int)mb_rng_below(&r, (uint32_t)frames);
      out->fallbacks++;
    }
  }
  knn_destroy(ix);
  free(pts), free(q), free(idx);
  if (!ok) dist_pairs_free(out);
  return ok;
}

bool dist_pixel_fn(void *user, const uint8_t *cur, const uint8_t *goal, int n, float *out,
                   char *err, size_t err_sz) {
  (void)user, (void)err, (void)err_sz;
  for (int i = 0; i < n; i++)
    out[i] = cost_pixel_mse(cur + (size_t)i * DIST_IMAGE_BYTES, goal + (size_t)i * DIST_IMAGE_BYTES,
                            DIST_IMAGE_BYTES);
  return true;
}

typedef struct ranked {
  double v; /* value */
  int i;    /* original position */
} ranked;

static int cmp_ranked(const void *a, const void *b) {
  const ranked *x = a, *y = b;
  if (x->v < y->v) return -1;
  if (x->v > y->v) return 1;
  return (x->i > y->i) - (x->i < y->i);
}

/* Average ranks (1-based) of v into rank; false when out of memory. */
static bool ranks(const double *v, int n, double *rank) {
  ranked *r = malloc((size_t)n * sizeof *r);
  if (!r) return false;
  for (int i = 0; i < n; i++) r[i] = (ranked){v[i], i};
  qsort(r, (size_t)n, sizeof *r, cmp_ranked);
  for (int i = 0; i < n;) {
    int j = i;
    while (j + 1 < n && r[j + 1].v == r[i].v) j++;
    double avg = 0.5 * (i + j) + 1.0;
    for (int k = i; k <= j; k++) rank[r[k].i] = avg;
    i = j + 1;
  }
  free(r);
  return true;
}

double dist_spearman(const double *x, const double *y, int n) {
  if (n < 2) return 0;
  double *rx = malloc((size_t)n * sizeof *rx), *ry = malloc((size_t)n * sizeof *ry);
  double res = 0;
  if (rx && ry && ranks(x, n, rx) && ranks(y, n, ry)) {
    double mx = 0, my = 0;
    for (int i = 0; i < n; i++) mx += rx[i], my += ry[i];
    mx /= n, my /= n;
    double sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < n; i++) {
      sxy += (rx[i] - mx) * (ry[i] - my);
      sxx += (rx[i] - mx) * (rx[i] - mx);
      syy += (ry[i] - my) * (ry[i] - my);
    }
    res = sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : 0;
  }
  free(rx), free(ry);
  return res;
}

bool dist_metrics_eval(const dist_dataset *val, const dist_pairs *p, dist_pair_fn fn, void *user,
                       int chunk, dist_scores *out, char *err, size_t err_sz) {
  if (chunk < 1) chunk = 1;
  if (chunk > p->n) chunk = p->n;
  uint8_t *cur = malloc((size_t)chunk * DIST_IMAGE_BYTES);
  uint8_t *goal = malloc((size_t)chunk * DIST_IMAGE_BYTES);
  float *dpos = malloc((size_t)p->n * sizeof *dpos), *dneg = malloc((size_t)p->n * sizeof *dneg);
  bool ok = cur && goal && dpos && dneg;
  if (!ok) mb_fail(err, err_sz, "out of memory for metrics");
  for (int i0 = 0; ok && i0 < p->n; i0 += chunk) {
    int m = p->n - i0 < chunk ? p->n - i0 : chunk;
    for (int neg = 0; ok && neg < 2; neg++) {
      for (int i = 0; i < m; i++) {
        int j = i0 + i;
        memcpy(cur + (size_t)i * DIST_IMAGE_BYTES, dist_frame(val, p->ep[j], p->t[j]),
               DIST_IMAGE_BYTES);
        const uint8_t *g = neg ? dist_frame(val, p->neg_ep[j], p->neg_t[j])
                               : dist_frame(val, p->ep[j], p->pos_t[j]);
        memcpy(goal + (size_t)i * DIST_IMAGE_BYTES, g, DIST_IMAGE_BYTES);
      }
      ok = fn(user, cur, goal, m, (neg ? dneg : dpos) + i0, err, err_sz);
    }
  }
  if (ok) {
    double *x = malloc((size_t)p->n * sizeof *x), *y = malloc((size_t)p->n * sizeof *y);
    if (!x || !y) ok = mb_fail(err, err_sz, "out of memory for metrics");
    double wins = 0;
    for (int i = 0; ok && i < p->n; i++) {
      x[i] = dpos[i];
      y[i] = p->pos_t[i] - p->t[i];
      wins += dpos[i] < dneg[i] ? 1.0 : dpos[i] == dneg[i] ? 0.5 : 0.0;
    }
    if (ok) {
      out->spearman = dist_spearman(x, y, p->n);
      out->ranking = wins / p->n;
      out->pairs = p->n;
    }
    free(x), free(y);
  }
  free(cur), free(goal), free(dpos), free(dneg);
  return ok;
}
