/* Distance learning without training: the Q-to-steps mapping, the batch sampler (goal offsets,
 * terminal rewards, arm-near negatives from other episodes, determinism, double buffering), the
 * metrics (Spearman with ties, ranking pairs), data checks and the hyperparameters' JSON. */
#include "../test_util.h"
#include "chain.h"
#include "dist_metrics.h"
#include "dist_sampler.h"
#include "dist_steps.h"
#include "dist_train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_steps(void) {
  for (int i = 0; i <= 500; i++) {
    float d = i * 0.1f;
    float q = dist_steps_to_q(d);
    CHECK_NEAR(q, 5.0 + 5.0 * pow(0.8, d - 1.0), 1e-5);
    /* Float Q resolves distances less finely far away (see dist_steps.h). */
    CHECK_NEAR(dist_q_to_steps(q), d, d < 20 ? 2e-3 : 0.05);
  }
  CHECK_NEAR(dist_steps_to_q(1), 10.0, 1e-6);
  CHECK_NEAR(dist_q_to_steps(10.0f), 1.0, 1e-5);
  CHECK_NEAR(dist_q_to_steps(9.0f), 2.0, 1e-5);
  /* Clamps. */
  CHECK(dist_q_to_steps(5.0f) == DIST_MAX_STEPS);
  CHECK(dist_q_to_steps(-3.0f) == DIST_MAX_STEPS);
  CHECK(dist_q_to_steps(NAN) == DIST_MAX_STEPS);
  CHECK(dist_q_to_steps(11.25f) == 0.0f && dist_q_to_steps(100.0f) == 0.0f);
  CHECK(dist_steps_to_q(1000.0f) == dist_steps_to_q(DIST_MAX_STEPS));
  CHECK(dist_steps_to_q(-1.0f) == dist_steps_to_q(0.0f));
  /* Monotone: a larger Q is never farther. */
  float prev = dist_q_to_steps(4.0f);
  for (float q = 4.0f; q < 12.0f; q += 0.001f) {
    float d = dist_q_to_steps(q);
    CHECK(d <= prev);
    prev = d;
  }
}

static int arm_rank(const dist_dataset *d, int ep, int t, int gep, int gt) {
  /* How many frames of episodes other than ep are strictly closer (in arm space) to (ep, t) than
   * the frame (gep, gt). */
  const float *q = dist_arm(d, ep, t), *g = dist_arm(d, gep, gt);
  double dg = 0;
  for (int j = 0; j < d->arm_dim; j++) dg += (q[j] - g[j]) * (q[j] - g[j]);
  int closer = 0;
  for (int e = 0; e < d->episodes; e++) {
    if (e == ep) continue;
    for (int s = 0; s <= d->steps; s++) {
      const float *p = dist_arm(d, e, s);
      double dd = 0;
      for (int j = 0; j < d->arm_dim; j++) dd += (q[j] - p[j]) * (q[j] - p[j]);
      closer += dd < dg;
    }
  }
  return closer;
}

static bool same_batch(const dist_batch *a, const dist_batch *b) {
  size_t img = (size_t)a->n * DIST_IMAGE_BYTES;
  return a->n == b->n && a->n_pos == b->n_pos && !memcmp(a->cur, b->cur, img) &&
         !memcmp(a->goal, b->goal, img) && !memcmp(a->ep, b->ep, sizeof(int32_t) * a->n) &&
         !memcmp(a->t, b->t, sizeof(int32_t) * a->n) &&
         !memcmp(a->goal_t, b->goal_t, sizeof(int32_t) * a->n) &&
         !memcmp(a->goal_ep, b->goal_ep, sizeof(int32_t) * a->n);
}

static void test_sampler_q(void) {
  chain ch;
  chain_make(&ch, 30, 16, 8, 3);
  /* Continuous arm positions make "near" meaningful beyond ties: jitter the chain's arm value. */
  mb_rng r = mb_rng_make(9, 1);
  for (int i = 0; i < 30 * 17; i++) ch.arm[i] += 0.05f * mb_rng_uniform(&r);
  char err[256];
  dist_sampler_params p = dist_sampler_params_default();
  p.seed = 42;
  dist_sampler *s = dist_sampler_create(&ch.d, DIST_METHOD_Q, &p, err, sizeof err);
  CHECK_MSG(s != NULL, "%s", err);
  CHECK(s->knn_points == 30 * 17);
  dist_batch b, b2;
  CHECK(dist_batch_alloc(&b, 64, s) && dist_batch_alloc(&b2, 64, s));
  int d1 = 0, dcount = 0, wrong_rank = 0, neg_rows = 0;
  for (int step = 1; step <= 150; step++) {
    CHECK(dist_sampler_fill(s, step, &b, err, sizeof err));
    CHECK(b.n_pos == 32);
    for (int i = 0; i < b.n; i++) {
      CHECK(b.t[i] >= 0 && b.t[i] < 16);
      CHECK(!memcmp(b.cur + (size_t)i * DIST_IMAGE_BYTES, dist_frame(&ch.d, b.ep[i], b.t[i]),
                    DIST_IMAGE_BYTES));
      CHECK(!memcmp(b.next + (size_t)i * DIST_IMAGE_BYTES, dist_frame(&ch.d, b.ep[i], b.t[i] + 1),
                    DIST_IMAGE_BYTES));
      CHECK(!memcmp(b.goal + (size_t)i * DIST_IMAGE_BYTES,
                    dist_frame(&ch.d, b.goal_ep[i], b.goal_t[i]), DIST_IMAGE_BYTES));
      CHECK(!memcmp(b.action + 4 * i, dist_action(&ch.d, b.ep[i], b.t[i]), 4 * sizeof(float)));
      if (i < b.n_pos) {
        int dt = b.goal_t[i] - b.t[i];
        CHECK(b.goal_ep[i] == b.ep[i] && dt >= 1 && b.goal_t[i] <= 16);
        CHECK(b.reward[i] == (dt == 1 ? DIST_REWARD_GOAL : DIST_REWARD_STEP));
        CHECK(b.discount[i] == (dt == 1 ? 0.0f : DIST_GAMMA));
        if (16 - b.t[i] >= 12) d1 += dt == 1, dcount++;
      } else {
        CHECK(b.goal_ep[i] != b.ep[i]);
        CHECK(b.reward[i] == DIST_REWARD_STEP && b.discount[i] == DIST_GAMMA);
        /* Drawn among the 4 nearest frames of other episodes (of the 16 nearest overall). */
        wrong_rank += arm_rank(&ch.d, b.ep[i], b.t[i], b.goal_ep[i], b.goal_t[i]) >= 4;
        neg_rows++;
      }
    }
    CHECK(b.fallbacks == 0);
  }
  CHECK_MSG(wrong_rank == 0, "%d of %d negatives are not among the 4 arm-nearest", wrong_rank,
            neg_rows);
  /* P(D = 1) = p = 0.3 where truncation cannot matter (12+ frames left: P(D > 12) = 1.4%). */
  CHECK_MSG(fabs((double)d1 / dcount - 0.3) < 0.04, "P(D=1) = %.3f over %d", (double)d1 / dcount,
            dcount);
  /* Pure function of (seed, step). */
  CHECK(dist_sampler_fill(s, 77, &b, err, sizeof err) &&
        dist_sampler_fill(s, 77, &b2, err, sizeof err));
  CHECK(same_batch(&b, &b2));
  CHECK(dist_sampler_fill(s, 78, &b2, err, sizeof err) && !same_batch(&b, &b2));
  CHECK(!dist_sampler_fill(s, 0, &b, err, sizeof err));
  /* Double buffering gives the same batches, in order or after a jump. */
  dist_prefetch *pf = dist_prefetch_create(s, 64, err, sizeof err);
  CHECK(pf != NULL);
  const int64_t order[] = {1, 2, 3, 9, 10, 4, 4};
  for (size_t k = 0; k < sizeof order / sizeof *order; k++) {
    const dist_batch *got = dist_prefetch_get(pf, order[k], err, sizeof err);
    CHECK(got != NULL && dist_sampler_fill(s, order[k], &b2, err, sizeof err));
    CHECK_MSG(got && same_batch(got, &b2), "prefetched batch %lld differs", (long long)order[k]);
  }
  dist_prefetch_destroy(pf);
  dist_batch_free(&b), dist_batch_free(&b2);
  dist_sampler_destroy(s);

  /* A subset index when the split has more frames than knn_max_points. */
  p.knn_max_points = 100;
  s = dist_sampler_create(&ch.d, DIST_METHOD_Q, &p, err, sizeof err);
  CHECK(s && s->knn_points == 100);
  for (int i = 1; s && i < 100; i++) CHECK(s->knn_obs[i] > s->knn_obs[i - 1]);
  dist_sampler_destroy(s);
  /* One episode cannot give negatives. */
  ch.d.episodes = 1;
  p = dist_sampler_params_default();
  CHECK(dist_sampler_create(&ch.d, DIST_METHOD_Q, &p, err, sizeof err) == NULL);
  CHECK(strstr(err, "at least 2") != NULL);
  chain_free(&ch);
}

static void test_sampler_regression(void) {
  chain ch;
  chain_make(&ch, 10, 30, 8, 4);
  char err[256];
  dist_sampler_params p = dist_sampler_params_default();
  dist_sampler *s = dist_sampler_create(&ch.d, DIST_METHOD_REGRESSION, &p, err, sizeof err);
  CHECK(s != NULL && s->knn == NULL);
  dist_batch b;
  CHECK(dist_batch_alloc(&b, 64, s));
  int capped = 0;
  for (int step = 1; step <= 50; step++) {
    CHECK(dist_sampler_fill(s, step, &b, err, sizeof err));
    for (int i = 0; i < b.n; i++) {
      int off = b.goal_t[i] - b.t[i];
      CHECK(b.goal_ep[i] == b.ep[i] && off >= 1 && b.goal_t[i] <= 30);
      CHECK(b.label[i] == (float)(off < 10 ? off : 10));
      capped += off > 10;
    }
  }
  CHECK(capped > 0);
  dist_batch_free(&b);
  dist_sampler_destroy(s);
  chain_free(&ch);
}

static void test_metrics(void) {
  /* scipy.stats.spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) = 0.8207826816681233 */
  double x[5] = {1, 2, 3, 4, 5}, y[5] = {5, 6, 7, 8, 7};
  CHECK_NEAR(dist_spearman(x, y, 5), 0.8207826816681233, 1e-12);
  double z[5] = {5, 4, 3, 2, 1};
  CHECK_NEAR(dist_spearman(x, z, 5), -1.0, 1e-12);
  double c[5] = {2, 2, 2, 2, 2};
  CHECK(dist_spearman(x, c, 5) == 0.0);

  chain ch;
  chain_make(&ch, 12, 20, 8, 5);
  dist_pairs p;
  char err[256];
  CHECK(dist_pairs_make(&ch.d, 300, 1, &p, err, sizeof err));
  for (int i = 0; i < p.n; i++) {
    CHECK(p.pos_t[i] > p.t[i] && p.pos_t[i] <= 20);
    CHECK(p.neg_ep[i] != p.ep[i]);
    CHECK(arm_rank(&ch.d, p.ep[i], p.t[i], p.neg_ep[i], p.neg_t[i]) == 0);
  }
  /* The same pairs for the same seed. */
  dist_pairs p2;
  CHECK(dist_pairs_make(&ch.d, 300, 1, &p2, err, sizeof err));
  CHECK(!memcmp(p.t, p2.t, 300 * sizeof(int32_t)) &&
        !memcmp(p.neg_t, p2.neg_t, 300 * sizeof(int32_t)));
  dist_pairs_free(&p2);
  /* The pixel distance runs on them and gives scores in range. */
  dist_scores s;
  CHECK(dist_metrics_eval(&ch.d, &p, dist_pixel_fn, NULL, 64, &s, err, sizeof err));
  CHECK(s.pairs == 300 && s.spearman > -1 && s.spearman < 1 && s.ranking >= 0 && s.ranking <= 1);
  dist_pairs_free(&p);
  CHECK(!dist_pairs_make(&ch.d, 0, 1, &p, err, sizeof err));
  chain_free(&ch);
}

static void test_data_checks(void) {
  chain ch;
  chain_make(&ch, 4, 10, 4, 6);
  char err[256];
  CHECK(dist_dataset_check(&ch.d, 2, "train split", err, sizeof err));
  ch.actions[13] = NAN;
  CHECK(!dist_dataset_check(&ch.d, 2, "train split", err, sizeof err));
  CHECK_MSG(strstr(err, "train split") && strstr(err, "not a finite number"), "%s", err);
  ch.actions[13] = 0;
  ch.arm[7] = INFINITY;
  CHECK(!dist_dataset_check(&ch.d, 2, "train split", err, sizeof err) && strstr(err, "arm_qpos"));
  CHECK(!dist_dataset_check(&ch.d, 5, "val split", err, sizeof err) && strstr(err, "at least 5"));
  chain_free(&ch);
}

static void test_hparams_json(void) {
  dist_hparams h = dist_hparams_default(DIST_METHOD_Q, dist_cql_tau_for_task("door"));
  CHECK(h.cql_tau == 10.0f && dist_cql_tau_for_task("push1") == 30.0f);
  h.seed = 123456789012345ull;
  h.lr = 1.2345e-4f;
  mb_jw w;
  mb_jw_init(&w, false);
  mb_jw_begin_object(&w);
  dist_hparams_write(&h, &w);
  mb_jw_end_object(&w);
  char *text = mb_jw_take(&w);
  char err[256];
  mb_json *j = mb_json_parse(text, strlen(text), err, sizeof err);
  CHECK(j != NULL);
  dist_hparams back;
  CHECK_MSG(dist_hparams_read(j, &back, err, sizeof err), "%s", err);
  /* Equal: written again, the text is the same. */
  mb_jw_init(&w, false);
  mb_jw_begin_object(&w);
  dist_hparams_write(&back, &w);
  mb_jw_end_object(&w);
  char *again = mb_jw_take(&w);
  CHECK(again && !strcmp(text, again));
  free(again);
  mb_json_free(j);
  /* A missing member is named. */
  char *cut = strstr(text, "\"polyak\"");
  memcpy(cut, "\"polyaX\"", 8);
  j = mb_json_parse(text, strlen(text), err, sizeof err);
  CHECK(!dist_hparams_read(j, &back, err, sizeof err) && strstr(err, "polyak"));
  mb_json_free(j);
  free(text);
}

int main(void) {
  test_steps();
  test_sampler_q();
  test_sampler_regression();
  test_metrics();
  test_data_checks();
  test_hparams_json();
  return test_exit_code("test_dist_unit");
}
