#include "dist_sampler.h"

#include "dist_steps.h"
#include "mb_err.h"
#include "mb_philox.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Philox streams of the sampler (the trainer's device-side streams are in dist_train.c). */
#define STREAM_BATCH      0x44420001u /* per-row draws of a batch */
#define STREAM_KNN_SUBSET 0x44420002u /* which observations the k-NN index holds */
#define DRAWS_PER_ROW     8           /* words reserved per row of a batch */

dist_sampler_params dist_sampler_params_default(void) {
  dist_sampler_params p = {
      .seed = 0,
      .geom_p = 0.3f,
      .negative_fraction = 0.5f,
      .knn_max_points = 200000,
      .knn_k = 16,
      .negative_choices = 4,
      .regression_max = 10,
  };
  return p;
}

static int cmp_i32(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

static bool build_index(dist_sampler *s, char *err, size_t err_sz) {
  const dist_dataset *d = s->data;
  int frames = d->steps + 1;
  int64_t total = (int64_t)d->episodes * frames;
  if (total > INT32_MAX) return mb_fail(err, err_sz, "train split too large for the k-NN index");
  int n = total < s->p.knn_max_points ? (int)total : s->p.knn_max_points;
  int32_t *obs = malloc((size_t)total * sizeof *obs);
  float *pts = malloc((size_t)n * (size_t)d->arm_dim * sizeof *pts);
  if (!obs || !pts) {
    free(obs), free(pts);
    return mb_fail(err, err_sz, "out of memory for the k-NN index of %d points", n);
  }
  for (int64_t i = 0; i < total; i++) obs[i] = (int32_t)i;
  if (n < total) { /* a seeded random subset: the first n of a partial Fisher-Yates shuffle */
    mb_rng r = mb_rng_make(s->p.seed, STREAM_KNN_SUBSET);
    for (int i = 0; i < n; i++) {
      int64_t j = i + (int64_t)(mb_rng_u32(&r) % (uint32_t)(total - i));
      int32_t tmp = obs[i];
      obs[i] = obs[j];
      obs[j] = tmp;
    }
    qsort(obs, (size_t)n, sizeof *obs, cmp_i32);
  }
  for (int i = 0; i < n; i++)
    memcpy(pts + (size_t)i * d->arm_dim, dist_arm(d, obs[i] / frames, obs[i] % frames),
           (size_t)d->arm_dim * sizeof *pts);
  s->knn = knn_build(pts, n, d->arm_dim, 1, err, err_sz);
  free(pts);
  if (!s->knn) {
    free(obs);
    return false;
  }
  int32_t *shrunk = realloc(obs, (size_t)n * sizeof *obs);
  s->knn_obs = shrunk ? shrunk : obs;
  s->knn_points = n;
  return true;
}

dist_sampler *dist_sampler_create(const dist_dataset *data, dist_method method,
                                  const dist_sampler_params *p, char *err, size_t err_sz) {
  if (!(p->geom_p > 0 && p->geom_p <= 1))
    return mb_fail_null(err, err_sz, "goal offset probability %g outside (0, 1]", p->geom_p);
  if (!(p->negative_fraction >= 0 && p->negative_fraction <= 1))
    return mb_fail_null(err, err_sz, "negative fraction %g outside [0, 1]", p->negative_fraction);
  if (p->knn_max_points < 1 || p->knn_k < 1 || p->negative_choices < 1 || p->regression_max < 1)
    return mb_fail_null(err, err_sz,
                        "k-NN points %d, neighbours %d, choices %d and regression clamp %d must "
                        "be positive",
                        p->knn_max_points, p->knn_k, p->negative_choices, p->regression_max);
  if (!dist_dataset_check(data, method == DIST_METHOD_Q ? 2 : 1, "train split", err, err_sz))
    return NULL;
  dist_sampler *s = calloc(1, sizeof *s);
  if (!s) return mb_fail_null(err, err_sz, "out of memory");
  s->data = data;
  s->method = method;
  s->p = *p;
  if (method == DIST_METHOD_Q && !build_index(s, err, err_sz)) {
    free(s);
    return NULL;
  }
  return s;
}

void dist_sampler_destroy(dist_sampler *s) {
  if (!s) return;
  knn_destroy(s->knn);
  free(s->knn_obs);
  free(s);
}

bool dist_batch_alloc(dist_batch *b, int n, const dist_sampler *s) {
  memset(b, 0, sizeof *b);
  size_t img = (size_t)n * DIST_IMAGE_BYTES;
  int k = s->knn_points ? (s->p.knn_k < s->knn_points ? s->p.knn_k : s->knn_points) : 1;
  b->n = n;
  b->cur = malloc(img);
  b->next = malloc(img);
  b->goal = malloc(img);
  b->action = malloc((size_t)n * DIST_ACTION_DIM * sizeof(float));
  b->reward = malloc((size_t)n * sizeof(float));
  b->discount = malloc((size_t)n * sizeof(float));
  b->label = malloc((size_t)n * sizeof(float));
  b->ep = malloc((size_t)n * sizeof(int32_t));
  b->t = malloc((size_t)n * sizeof(int32_t));
  b->goal_ep = malloc((size_t)n * sizeof(int32_t));
  b->goal_t = malloc((size_t)n * sizeof(int32_t));
  b->query = malloc((size_t)n * (size_t)s->data->arm_dim * sizeof(float));
  b->nn_idx = malloc((size_t)n * (size_t)k * sizeof(int));
  b->nn_d2 = malloc((size_t)n * (size_t)k * sizeof(float));
  if (!b->cur || !b->next || !b->goal || !b->action || !b->reward || !b->discount || !b->label ||
      !b->ep || !b->t || !b->goal_ep || !b->goal_t || !b->query || !b->nn_idx || !b->nn_d2) {
    dist_batch_free(b);
    return false;
  }
  return true;
}

void dist_batch_free(dist_batch *b) {
  free(b->cur), free(b->next), free(b->goal), free(b->action), free(b->reward);
  free(b->discount), free(b->label), free(b->ep), free(b->t), free(b->goal_ep), free(b->goal_t);
  free(b->query), free(b->nn_idx), free(b->nn_d2);
  memset(b, 0, sizeof *b);
}

/* Word k (< DRAWS_PER_ROW) of row `row` of batch `step`. */
static uint32_t draw(const dist_sampler *s, int64_t step, int n, int row, int k) {
  uint64_t index = ((uint64_t)step * (uint64_t)n + (uint64_t)row) * DRAWS_PER_ROW + (uint64_t)k;
  return mb_philox_u32(s->p.seed, STREAM_BATCH, index);
}

static int below(uint32_t word, int n) {
  return (int)(word % (uint32_t)n);
}

/* D ~ Geom(p) on {1, 2, ...} conditioned on D <= max: the inverse of the truncated CDF
 * F(d) / F(max), F(d) = 1 - (1 - p)^d. */
static int truncated_geometric(double p, int max, uint32_t word) {
  if (p >= 1 || max <= 1) return 1;
  double u = mb_u32_to_unit(word);
  double q = log1p(-p);
  double fmax = -expm1(q * max);
  int d = (int)ceil(log1p(-u * fmax) / q);
  return d < 1 ? 1 : d > max ? max : d;
}

static void set_frames(const dist_dataset *d, dist_batch *b, int i, int ep, int t, int gep, int gt,
                       bool with_next) {
  b->ep[i] = ep, b->t[i] = t, b->goal_ep[i] = gep, b->goal_t[i] = gt;
  memcpy(b->cur + (size_t)i * DIST_IMAGE_BYTES, dist_frame(d, ep, t), DIST_IMAGE_BYTES);
  memcpy(b->goal + (size_t)i * DIST_IMAGE_BYTES, dist_frame(d, gep, gt), DIST_IMAGE_BYTES);
  if (with_next)
    memcpy(b->next + (size_t)i * DIST_IMAGE_BYTES, dist_frame(d, ep, t + 1), DIST_IMAGE_BYTES);
}

static bool fill_q(const dist_sampler *s, int64_t step, dist_batch *b, char *err, size_t err_sz) {
  const dist_dataset *d = s->data;
  const int n = b->n, T = d->steps, J = d->arm_dim, frames = T + 1;
  int n_neg = (int)lrintf((float)n * s->p.negative_fraction);
  b->n_pos = n - n_neg;
  b->fallbacks = 0;
  for (int i = 0; i < n; i++) {
    int ep = below(draw(s, step, n, i, 0), d->episodes);
    int t = below(draw(s, step, n, i, 1), T);
    b->ep[i] = ep, b->t[i] = t;
    memcpy(b->action + (size_t)i * DIST_ACTION_DIM, dist_action(d, ep, t),
           DIST_ACTION_DIM * sizeof(float));
    if (i < b->n_pos) {
      int dt = truncated_geometric(s->p.geom_p, T - t, draw(s, step, n, i, 2));
      bool reached = dt == 1;
      b->reward[i] = reached ? DIST_REWARD_GOAL : DIST_REWARD_STEP;
      b->discount[i] = reached ? 0.0f : DIST_GAMMA;
      set_frames(d, b, i, ep, t, ep, t + dt, true);
    } else {
      memcpy(b->query + (size_t)(i - b->n_pos) * J, dist_arm(d, ep, t), (size_t)J * sizeof(float));
    }
  }
  if (n_neg == 0) return true;
  int k = s->p.knn_k < s->knn_points ? s->p.knn_k : s->knn_points;
  if (!knn_query(s->knn, b->query, n_neg, k, b->nn_idx, b->nn_d2, err, err_sz)) return false;
  for (int i = b->n_pos; i < n; i++) {
    int ep = b->ep[i], t = b->t[i];
    const int *nn = b->nn_idx + (size_t)(i - b->n_pos) * k;
    int cand[64], nc = 0;
    int max_c = s->p.negative_choices < 64 ? s->p.negative_choices : 64;
    for (int j = 0; j < k && nc < max_c; j++)
      if (s->knn_obs[nn[j]] / frames != ep) cand[nc++] = s->knn_obs[nn[j]];
    int gep, gt;
    if (nc > 0) {
      int o = cand[below(draw(s, step, n, i, 3), nc)];
      gep = o / frames, gt = o % frames;
    } else {
      gep = below(draw(s, step, n, i, 4), d->episodes - 1);
      if (gep >= ep) gep++;
      gt = below(draw(s, step, n, i, 5), frames);
      b->fallbacks++;
    }
    b->reward[i] = DIST_REWARD_STEP;
    b->discount[i] = DIST_GAMMA;
    set_frames(d, b, i, ep, t, gep, gt, true);
  }
  return true;
}

static void fill_regression(const dist_sampler *s, int64_t step, dist_batch *b) {
  const dist_dataset *d = s->data;
  const int n = b->n, T = d->steps;
  b->n_pos = n;
  b->fallbacks = 0;
  for (int i = 0; i < n; i++) {
    int ep = below(draw(s, step, n, i, 0), d->episodes);
    int ti = below(draw(s, step, n, i, 1), T);
    int tg = ti + 1 + below(draw(s, step, n, i, 2), T - ti);
    int off = tg - ti;
    b->label[i] = (float)(off < s->p.regression_max ? off : s->p.regression_max);
    set_frames(d, b, i, ep, ti, ep, tg, false);
  }
}

bool dist_sampler_fill(const dist_sampler *s, int64_t step, dist_batch *b, char *err,
                       size_t err_sz) {
  if (step < 1)
    return mb_fail(err, err_sz, "batches are numbered from 1 (asked for %lld)", (long long)step);
  if (s->method == DIST_METHOD_Q) return fill_q(s, step, b, err, err_sz);
  fill_regression(s, step, b);
  return true;
}

/* ---- double buffering ------------------------------------------------------------------------ */

typedef enum slot_state {
  SLOT_IDLE,
  SLOT_REQUESTED,
  SLOT_FILLING,
  SLOT_READY,
  SLOT_FAILED
} slot_state;

typedef struct slot {
  dist_batch b;     /* the batch */
  int64_t step;     /* which step it holds or is being prepared for */
  slot_state state; /* see above */
  char err[512];    /* SLOT_FAILED: why */
} slot;

struct dist_prefetch {
  const dist_sampler *s; /* (borrowed) */
  slot slots[2];         /* the two buffers */
  pthread_t thread;      /* the worker */
  pthread_mutex_t mu;    /* guards the slots' step/state/err and quit */
  pthread_cond_t work;   /* a slot was requested, or quit */
  pthread_cond_t done;   /* a slot became ready or failed */
  bool quit;             /* the worker should exit */
};

static bool busy(const slot *sl) {
  return sl->state == SLOT_REQUESTED || sl->state == SLOT_FILLING;
}

static void *prefetch_main(void *arg) {
  dist_prefetch *p = arg;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    int i = -1;
    while (!p->quit) {
      for (int j = 0; j < 2 && i < 0; j++)
        if (p->slots[j].state == SLOT_REQUESTED) i = j;
      if (i >= 0) break;
      pthread_cond_wait(&p->work, &p->mu);
    }
    if (p->quit) break;
    slot *sl = &p->slots[i];
    sl->state = SLOT_FILLING;
    int64_t step = sl->step;
    pthread_mutex_unlock(&p->mu);
    char err[512] = "";
    bool ok = dist_sampler_fill(p->s, step, &sl->b, err, sizeof err);
    pthread_mutex_lock(&p->mu);
    sl->state = ok ? SLOT_READY : SLOT_FAILED;
    if (!ok) snprintf(sl->err, sizeof sl->err, "%s", err);
    pthread_cond_broadcast(&p->done);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

dist_prefetch *dist_prefetch_create(const dist_sampler *s, int n, char *err, size_t err_sz) {
  dist_prefetch *p = calloc(1, sizeof *p);
  if (!p) return mb_fail_null(err, err_sz, "out of memory");
  p->s = s;
  if (!dist_batch_alloc(&p->slots[0].b, n, s) || !dist_batch_alloc(&p->slots[1].b, n, s)) {
    dist_batch_free(&p->slots[0].b);
    free(p);
    return mb_fail_null(err, err_sz, "out of memory for two batches of %d", n);
  }
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->work, NULL);
  pthread_cond_init(&p->done, NULL);
  if (pthread_create(&p->thread, NULL, prefetch_main, p) != 0) {
    dist_batch_free(&p->slots[0].b), dist_batch_free(&p->slots[1].b);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work), pthread_cond_destroy(&p->done);
    free(p);
    return mb_fail_null(err, err_sz, "cannot start the batch thread");
  }
  return p;
}

void dist_prefetch_destroy(dist_prefetch *p) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  p->quit = true;
  pthread_cond_broadcast(&p->work);
  pthread_mutex_unlock(&p->mu);
  pthread_join(p->thread, NULL);
  dist_batch_free(&p->slots[0].b), dist_batch_free(&p->slots[1].b);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->work), pthread_cond_destroy(&p->done);
  free(p);
}

static void request(dist_prefetch *p, int i, int64_t step) {
  p->slots[i].step = step;
  p->slots[i].state = SLOT_REQUESTED;
  pthread_cond_signal(&p->work);
}

const dist_batch *dist_prefetch_get(dist_prefetch *p, int64_t step, char *err, size_t err_sz) {
  pthread_mutex_lock(&p->mu);
  int i = -1;
  for (int j = 0; j < 2; j++)
    if (p->slots[j].state != SLOT_IDLE && p->slots[j].step == step) i = j;
  if (i < 0) { /* not asked for yet (first step, or a jump): take a free slot */
    for (;;) {
      for (int j = 0; j < 2 && i < 0; j++)
        if (!busy(&p->slots[j])) i = j;
      if (i >= 0) break;
      pthread_cond_wait(&p->done, &p->mu);
    }
    request(p, i, step);
  }
  while (busy(&p->slots[i])) pthread_cond_wait(&p->done, &p->mu);
  slot *sl = &p->slots[i];
  if (sl->state == SLOT_FAILED) {
    mb_fail(err, err_sz, "%s", sl->err);
    sl->state = SLOT_IDLE;
    pthread_mutex_unlock(&p->mu);
    return NULL;
  }
  slot *other = &p->slots[1 - i];
  if (!busy(other) && !(other->state == SLOT_READY && other->step == step + 1))
    request(p, 1 - i, step + 1);
  pthread_mutex_unlock(&p->mu);
  return &sl->b;
}
