#define _GNU_SOURCE /* qsort_r */
#include "cem.h"
#include "mb_clock.h"
#include "mb_err.h"
#include "mb_philox.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

cem_params cem_default_params(const float *init_std, int act_dim) {
  cem_params p;
  memset(&p, 0, sizeof p);
  p.samples = 200;
  p.iterations = 3;
  p.elites = 10;
  p.horizon = 13;
  p.act_dim = act_dim;
  for (int d = 0; d < act_dim && d < CEM_MAX_ACT; d++) p.init_std[d] = init_std[d];
  p.beta = 0.5f;
  p.lo = -1.0f;
  p.hi = 1.0f;
  return p;
}

bool cem_params_check(const cem_params *p, char *err, size_t err_sz) {
  if (p->act_dim < 1 || p->act_dim > CEM_MAX_ACT)
    return mb_fail(err, err_sz, "action dimension %d out of range 1..%d", p->act_dim, CEM_MAX_ACT);
  if (p->samples < 2)
    return mb_fail(err, err_sz, "samples must be at least 2 (got %d)", p->samples);
  if (p->iterations < 1)
    return mb_fail(err, err_sz, "iterations must be at least 1 (got %d)", p->iterations);
  if (p->elites < 1 || p->elites > p->samples)
    return mb_fail(err, err_sz, "elites must be in 1..samples (got %d of %d)", p->elites,
                   p->samples);
  if (p->horizon < 1)
    return mb_fail(err, err_sz, "horizon must be at least 1 (got %d)", p->horizon);
  if (!(p->beta >= 0 && p->beta < 1))
    return mb_fail(err, err_sz, "noise filter beta must be in [0, 1) (got %g)", p->beta);
  if (!(p->lo < p->hi)) return mb_fail(err, err_sz, "action bounds are empty");
  for (int d = 0; d < p->act_dim; d++)
    if (!(p->init_std[d] >= 0))
      return mb_fail(err, err_sz, "initial std of dimension %d is negative", d);
  return true;
}

cem_trace *cem_trace_ref(cem_trace *t) {
  atomic_fetch_add(&t->refs, 1);
  return t;
}

void cem_trace_unref(cem_trace *t) {
  if (!t || atomic_fetch_sub(&t->refs, 1) != 1) return;
  free(t->actions);
  free(t->costs);
  free(t->elite_idx);
  free(t->mean);
  free(t->std);
  free(t->elite_frames);
  free(t);
}

cem_state *cem_state_create(const cem_params *p) {
  if (!cem_params_check(p, NULL, 0)) return NULL;
  cem_state *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->p = *p;
  size_t seq = (size_t)p->horizon * (size_t)p->act_dim;
  size_t all = (size_t)p->samples * seq;
  s->mean = calloc(seq, sizeof(float));
  s->plan = calloc(seq, sizeof(float));
  s->actions = calloc(all, sizeof(float));
  s->noise = calloc(all, sizeof(float));
  s->costs = calloc((size_t)p->samples, sizeof(float));
  s->order = calloc((size_t)p->samples, sizeof(int));
  s->frames = malloc((size_t)p->samples * CEM_FRAME_BYTES);
  if (!s->mean || !s->plan || !s->actions || !s->noise || !s->costs || !s->order || !s->frames) {
    cem_state_destroy(s);
    return NULL;
  }
  s->plan_cost = INFINITY;
  return s;
}

void cem_state_destroy(cem_state *s) {
  if (!s) return;
  free(s->mean);
  free(s->plan);
  free(s->actions);
  free(s->noise);
  free(s->costs);
  free(s->order);
  free(s->frames);
  free(s);
}

void cem_state_reset(cem_state *s) {
  size_t seq = (size_t)s->p.horizon * (size_t)s->p.act_dim;
  memset(s->mean, 0, seq * sizeof(float));
  memset(s->plan, 0, seq * sizeof(float));
  s->plan_cost = INFINITY;
  s->replans = 0;
}

void cem_shift(cem_state *s, int executed) {
  int h = s->p.horizon, a = s->p.act_dim;
  if (executed < 0) executed = 0;
  if (executed > h) executed = h;
  for (int t = 0; t < h; t++)
    for (int d = 0; d < a; d++)
      s->mean[t * a + d] = t + executed < h ? s->plan[(t + executed) * a + d] : 0.0f;
}

/* Sorts sample indices by cost, ties by index, so the elite set does not depend on qsort's order.
 */
static int cmp_cost_index(const void *pa, const void *pb, void *costs) {
  int i = *(const int *)pa, j = *(const int *)pb;
  float ci = ((const float *)costs)[i], cj = ((const float *)costs)[j];
  /* NaN sorts last: a broken prediction must never become an elite. */
  int ni = isnan(ci), nj = isnan(cj);
  if (ni != nj) return ni - nj;
  if (ci < cj) return -1;
  if (ci > cj) return 1;
  return (i > j) - (i < j);
}

static void sample_sequences(cem_state *s, const float *mean, const float *std, uint64_t seed,
                             int iteration) {
  const cem_params *p = &s->p;
  int h = p->horizon, a = p->act_dim;
  /* One Philox stream per (replan, iteration): reproducible, independent of everything else. */
  uint32_t stream = (uint32_t)(s->replans * 64 + iteration);
  for (int i = 0; i < p->samples; i++) {
    float *seq = s->actions + (size_t)i * h * a;
    for (int d = 0; d < a; d++) {
      float u = 0, var = 0;
      for (int t = 0; t < h; t++) {
        uint64_t idx = ((uint64_t)i * h + t) * a + d;
        float n = mb_philox_normal(seed, stream, idx);
        u = t == 0 ? n : p->beta * u + (1 - p->beta) * n;
        /* Exact variance of u_t, so that u_t / sqrt(var) has unit variance at every t. */
        var = t == 0 ? 1.0f : p->beta * p->beta * var + (1 - p->beta) * (1 - p->beta);
        float v = mean[t * a + d] + std[t * a + d] * u / sqrtf(var);
        seq[t * a + d] = v < p->lo ? p->lo : v > p->hi ? p->hi : v;
      }
    }
  }
}

static cem_trace *make_trace(const cem_state *s, int iteration, const float *mean,
                             const float *std) {
  const cem_params *p = &s->p;
  size_t seq = (size_t)p->horizon * p->act_dim;
  cem_trace *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  atomic_init(&t->refs, 1);
  t->replan = s->replans;
  t->iteration = iteration;
  t->samples = p->samples;
  t->horizon = p->horizon;
  t->act_dim = p->act_dim;
  t->elites = p->elites;
  t->actions = malloc((size_t)p->samples * seq * sizeof(float));
  t->costs = malloc((size_t)p->samples * sizeof(float));
  t->elite_idx = malloc((size_t)p->elites * sizeof(int));
  t->mean = malloc(seq * sizeof(float));
  t->std = malloc(seq * sizeof(float));
  if (!t->actions || !t->costs || !t->elite_idx || !t->mean || !t->std) {
    cem_trace_unref(t);
    return NULL;
  }
  memcpy(t->actions, s->actions, (size_t)p->samples * seq * sizeof(float));
  memcpy(t->costs, s->costs, (size_t)p->samples * sizeof(float));
  memcpy(t->elite_idx, s->order, (size_t)p->elites * sizeof(int));
  memcpy(t->mean, mean, seq * sizeof(float));
  memcpy(t->std, std, seq * sizeof(float));
  return t;
}

/* Asks the dynamics for the elites' frames 1..h and attaches them to the trace. */
static bool attach_elite_frames(cem_state *s, const cem_dynamics *dyn, cem_trace *t, char *err,
                                size_t err_sz) {
  const cem_params *p = &s->p;
  size_t seq = (size_t)p->horizon * p->act_dim;
  float *elite_actions = malloc((size_t)p->elites * seq * sizeof(float));
  uint8_t *finals = malloc((size_t)p->elites * CEM_FRAME_BYTES);
  t->elite_frames = malloc((size_t)p->elites * p->horizon * CEM_FRAME_BYTES);
  bool ok = elite_actions && finals && t->elite_frames;
  if (!ok) mb_fail(err, err_sz, "out of memory for the elite frames");
  for (int e = 0; ok && e < p->elites; e++)
    memcpy(elite_actions + e * seq, s->actions + (size_t)s->order[e] * seq, seq * sizeof(float));
  if (ok)
    ok = dyn->predict(dyn->user, elite_actions, p->elites, p->horizon, finals, t->elite_frames, err,
                      err_sz);
  free(elite_actions);
  free(finals);
  return ok;
}

bool cem_replan(cem_state *s, const cem_dynamics *dyn, const cem_cost *cost,
                const cem_observer *obs, uint64_t seed, const atomic_int *cancel, char *err,
                size_t err_sz) {
  const cem_params *p = &s->p;
  int h = p->horizon, a = p->act_dim, n = p->samples, k = p->elites;
  size_t seq = (size_t)h * a;
  float *mean = malloc(seq * sizeof(float)), *std = malloc(seq * sizeof(float));
  if (!mean || !std) {
    free(mean);
    free(std);
    return mb_fail(err, err_sz, "out of memory");
  }
  memcpy(mean, s->mean, seq * sizeof(float));
  for (int t = 0; t < h; t++)
    for (int d = 0; d < a; d++) std[t * a + d] = p->init_std[d];
  s->plan_cost = INFINITY;
  bool ok = true;
  for (int it = 0; ok && it < p->iterations; it++) {
    if (cancel && atomic_load(cancel)) {
      ok = mb_fail(err, err_sz, "planning cancelled");
      break;
    }
    double t0 = mb_now();
    sample_sequences(s, mean, std, seed, it);
    ok = dyn->predict(dyn->user, s->actions, n, h, s->frames, NULL, err, err_sz) &&
         cost->score(cost->user, s->frames, n, s->costs, err, err_sz);
    if (!ok) break;
    for (int i = 0; i < n; i++) s->order[i] = i;
    qsort_r(s->order, (size_t)n, sizeof(int), cmp_cost_index, s->costs);
    if (s->costs[s->order[0]] < s->plan_cost || it == 0) {
      s->plan_cost = s->costs[s->order[0]];
      memcpy(s->plan, s->actions + (size_t)s->order[0] * seq, seq * sizeof(float));
    }
    /* Refit mean and std on the elites. */
    for (size_t j = 0; j < seq; j++) {
      double m = 0, v = 0;
      for (int e = 0; e < k; e++) m += s->actions[(size_t)s->order[e] * seq + j];
      m /= k;
      for (int e = 0; e < k; e++) {
        double dlt = s->actions[(size_t)s->order[e] * seq + j] - m;
        v += dlt * dlt;
      }
      mean[j] = (float)m;
      std[j] = (float)sqrt(v / k);
    }
    if (obs && obs->on_iteration) {
      cem_trace *t = make_trace(s, it, mean, std);
      if (!t) {
        ok = mb_fail(err, err_sz, "out of memory for the planner trace");
        break;
      }
      if (obs->want_frames && !attach_elite_frames(s, dyn, t, err, err_sz)) {
        cem_trace_unref(t);
        ok = false;
        break;
      }
      t->seconds = mb_now() - t0;
      obs->on_iteration(obs->user, t);
      cem_trace_unref(t);
    }
  }
  free(mean);
  free(std);
  if (ok) s->replans++;
  return ok;
}
