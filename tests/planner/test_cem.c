/* CEM: minimises a known quadratic over action sequences, elites and refit are what they claim,
 * warm start shifts, replans are reproducible, bad parameters are refused. */
#include "../test_util.h"
#include "cem.h"
#include "cost_pixel.h"

#include <stdlib.h>
#include <string.h>

/* A synthetic dynamics that "predicts" a frame carrying the action sequence itself (its floats
 * stored in the frame's bytes), so that the cost can be any function of the actions. */
static bool identity_predict(void *user, const float *actions, int n, int horizon, uint8_t *finals,
                             uint8_t *all, char *err, size_t err_sz) {
  int act_dim = *(int *)user;
  size_t seq = (size_t)horizon * act_dim;
  (void)err, (void)err_sz;
  for (int i = 0; i < n; i++) {
    memcpy(finals + (size_t)i * CEM_FRAME_BYTES, actions + i * seq, seq * sizeof(float));
    if (all)
      for (int t = 0; t < horizon; t++)
        memset(all + ((size_t)i * horizon + t) * CEM_FRAME_BYTES, t, CEM_FRAME_BYTES);
  }
  return true;
}

typedef struct quad_goal {
  int horizon, act_dim;
  float target[13 * 4];
} quad_goal;

static bool quad_score(void *user, const uint8_t *frames, int n, float *costs, char *err,
                       size_t err_sz) {
  quad_goal *q = user;
  (void)err, (void)err_sz;
  int seq = q->horizon * q->act_dim;
  for (int i = 0; i < n; i++) {
    float a[13 * 4];
    memcpy(a, frames + (size_t)i * CEM_FRAME_BYTES, (size_t)seq * sizeof(float));
    double c = 0;
    for (int j = 0; j < seq; j++) c += (a[j] - q->target[j]) * (a[j] - q->target[j]);
    costs[i] = (float)c;
  }
  return true;
}

typedef struct trace_log {
  int count;
  cem_trace *last;
  bool elites_ok, refit_ok, frames_ok;
} trace_log;

static void check_trace(void *user, cem_trace *t) {
  trace_log *log = user;
  log->count++;
  int seq = t->horizon * t->act_dim;
  /* The elites are the lowest costs, best first. */
  float worst_elite = t->costs[t->elite_idx[t->elites - 1]];
  int below = 0;
  for (int i = 0; i < t->samples; i++) below += t->costs[i] < worst_elite;
  if (below > t->elites - 1) log->elites_ok = false;
  for (int e = 1; e < t->elites; e++)
    if (t->costs[t->elite_idx[e]] < t->costs[t->elite_idx[e - 1]]) log->elites_ok = false;
  /* Mean and std are the elites' statistics. */
  for (int j = 0; j < seq; j++) {
    double m = 0, v = 0;
    for (int e = 0; e < t->elites; e++) m += t->actions[t->elite_idx[e] * seq + j];
    m /= t->elites;
    for (int e = 0; e < t->elites; e++) {
      double d = t->actions[t->elite_idx[e] * seq + j] - m;
      v += d * d;
    }
    if (fabs(m - t->mean[j]) > 1e-5 || fabs(sqrt(v / t->elites) - t->std[j]) > 1e-5)
      log->refit_ok = false;
  }
  /* Elite frames 1..h come from the dynamics (our synthetic frames are filled with t). */
  if (!t->elite_frames)
    log->frames_ok = false;
  else
    for (int e = 0; e < t->elites; e++)
      for (int k = 0; k < t->horizon; k++)
        if (t->elite_frames[((size_t)e * t->horizon + k) * CEM_FRAME_BYTES + 77] != k)
          log->frames_ok = false;
  if (log->last) cem_trace_unref(log->last);
  log->last = cem_trace_ref(t);
}

static void test_quadratic_optimum(void) {
  const float std0[4] = {0.6f, 0.6f, 0.3f, 0.3f};
  cem_params p = cem_default_params(std0, 4);
  p.iterations = 25;
  p.samples = 300;
  p.elites = 15;
  quad_goal q = {.horizon = p.horizon, .act_dim = 4};
  /* Smooth in time, as real action sequences are (the sampler correlates neighbouring steps). */
  for (int j = 0; j < p.horizon * 4; j++)
    q.target[j] = 0.5f * sinf(0.3f * (j / 4) + 1.3f * (j % 4));
  int act_dim = 4;
  cem_dynamics dyn = {identity_predict, &act_dim};
  cem_cost cost = {quad_score, &q};
  trace_log log = {.elites_ok = true, .refit_ok = true, .frames_ok = true};
  cem_observer obs = {check_trace, &log, true};
  cem_state *s = cem_state_create(&p);
  CHECK(s != NULL);
  char err[256] = "";
  CHECK_MSG(cem_replan(s, &dyn, &cost, &obs, 7, NULL, err, sizeof err), "%s", err);
  CHECK(log.count == p.iterations);
  CHECK(log.elites_ok);
  CHECK(log.refit_ok);
  CHECK(log.frames_ok);
  /* The zero sequence costs sum(target^2) ~ 6.5; the optimum is 0. */
  CHECK_MSG(s->plan_cost < 0.05f, "plan cost %g", s->plan_cost);
  for (int j = 0; j < p.horizon * 4; j++) CHECK_NEAR(s->plan[j], q.target[j], 0.1);
  /* The published mean has converged to the optimum too. */
  for (int j = 0; j < p.horizon * 4; j++) CHECK_NEAR(log.last->mean[j], q.target[j], 0.1);
  cem_trace_unref(log.last);

  /* Same seed, same state: the same plan, bit for bit. */
  float first[13 * 4];
  memcpy(first, s->plan, sizeof first);
  cem_state *s2 = cem_state_create(&p);
  CHECK(cem_replan(s2, &dyn, &cost, NULL, 7, NULL, err, sizeof err));
  CHECK(memcmp(first, s2->plan, sizeof first) == 0);
  cem_state_destroy(s2);
  cem_state_destroy(s);
}

static void test_bounds_and_defaults(void) {
  const float std0[4] = {0.6f, 0.6f, 0.3f, 0.3f};
  cem_params p = cem_default_params(std0, 4);
  CHECK(p.samples == 200 && p.iterations == 3 && p.elites == 10 && p.horizon == 13);
  /* A target outside [-1, 1]: the plan saturates at the bound but never exceeds it. */
  quad_goal q = {.horizon = p.horizon, .act_dim = 4};
  for (int j = 0; j < p.horizon * 4; j++) q.target[j] = 3.0f;
  int act_dim = 4;
  cem_dynamics dyn = {identity_predict, &act_dim};
  cem_cost cost = {quad_score, &q};
  cem_state *s = cem_state_create(&p);
  char err[256];
  for (int r = 0; r < 3; r++) {
    CHECK(cem_replan(s, &dyn, &cost, NULL, 1, NULL, err, sizeof err));
    for (int j = 0; j < p.horizon * 4; j++) CHECK(s->plan[j] <= 1.0f && s->plan[j] >= -1.0f);
    cem_shift(s, 0);
  }
  CHECK(s->replans == 3);
  cem_state_destroy(s);
}

static void test_warm_start_shift(void) {
  const float std0[4] = {0.6f, 0.6f, 0.3f, 0.3f};
  cem_params p = cem_default_params(std0, 4);
  cem_state *s = cem_state_create(&p);
  for (int j = 0; j < p.horizon * 4; j++) s->plan[j] = (float)j;
  cem_shift(s, 6);
  for (int t = 0; t < p.horizon; t++)
    for (int d = 0; d < 4; d++)
      CHECK(s->mean[t * 4 + d] == (t + 6 < p.horizon ? (float)((t + 6) * 4 + d) : 0.0f));
  cem_state_reset(s);
  for (int j = 0; j < p.horizon * 4; j++) CHECK(s->mean[j] == 0.0f);
  cem_state_destroy(s);
}

static bool failing_score(void *user, const uint8_t *frames, int n, float *costs, char *err,
                          size_t err_sz) {
  (void)user, (void)frames, (void)n, (void)costs;
  snprintf(err, err_sz, "cost failed on purpose");
  return false;
}

static void test_errors(void) {
  const float std0[4] = {0.6f, 0.6f, 0.3f, 0.3f};
  cem_params p = cem_default_params(std0, 4);
  char err[256];
  p.elites = 500;
  CHECK(!cem_params_check(&p, err, sizeof err) && strstr(err, "elites"));
  CHECK(cem_state_create(&p) == NULL);
  p = cem_default_params(std0, 4);
  cem_state *s = cem_state_create(&p);
  int act_dim = 4;
  cem_dynamics dyn = {identity_predict, &act_dim};
  cem_cost bad = {failing_score, NULL};
  CHECK(!cem_replan(s, &dyn, &bad, NULL, 1, NULL, err, sizeof err));
  CHECK(strstr(err, "on purpose") != NULL);
  atomic_int cancel = 1;
  quad_goal q = {.horizon = p.horizon, .act_dim = 4};
  cem_cost cost = {quad_score, &q};
  CHECK(!cem_replan(s, &dyn, &cost, NULL, 1, &cancel, err, sizeof err));
  CHECK(strstr(err, "cancelled") != NULL);
  cem_state_destroy(s);
}

static void test_pixel_cost(void) {
  static uint8_t goal[CEM_FRAME_BYTES], frames[3 * CEM_FRAME_BYTES];
  memset(goal, 100, sizeof goal);
  memset(frames, 100, CEM_FRAME_BYTES);                        /* identical */
  memset(frames + CEM_FRAME_BYTES, 100 + 51, CEM_FRAME_BYTES); /* 0.2 off everywhere */
  memset(frames + 2 * CEM_FRAME_BYTES, 100, CEM_FRAME_BYTES);
  frames[2 * CEM_FRAME_BYTES + 5] = 255; /* one byte off by 155 */
  cem_cost c = cost_pixel_make(goal);
  float costs[3];
  char err[64];
  CHECK(c.score(c.user, frames, 3, costs, err, sizeof err));
  CHECK(costs[0] == 0.0f);
  CHECK_NEAR(costs[1], 0.04, 1e-6);
  CHECK_NEAR(costs[2], (155.0 / 255) * (155.0 / 255) / CEM_FRAME_BYTES, 1e-9);
}

int main(void) {
  test_pixel_cost();
  test_quadratic_optimum();
  test_bounds_and_defaults();
  test_warm_start_shift();
  test_errors();
  return test_exit_code("test_cem");
}
