/* The Q-function learns the true step distances of a tiny chain world (tests/dist/chain.h) in a
 * short run, ranks unreachable arm-neighbour goals farther than reachable ones, and the regression
 * baseline learns the chain too. Usage: test_dist_learn [q|regression] [steps]. */
#include "../test_util.h"
#include "chain.h"
#include "dist_metrics.h"
#include "dist_steps.h"
#include "dist_train.h"
#include "mb_clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int N = 48, T = 14, L = 8;

/* Spearman of the predicted distance against |x - x'| over every (x, x') of one object position,
 * and the fraction of (state, reachable goal, unreachable goal with the same arm position) triples
 * ranked right. */
static void score(dist_trainer *t, double *rho, double *rank) {
  const int npair = L * L * 2;
  uint8_t *cur = malloc((size_t)npair * DIST_IMAGE_BYTES);
  uint8_t *goal = malloc((size_t)npair * DIST_IMAGE_BYTES);
  float *d = malloc(sizeof(float) * npair);
  double *x = malloc(sizeof(double) * npair), *y = malloc(sizeof(double) * npair);
  int n = 0;
  const int o = 2, o_other = 5;
  for (int a = 0; a < L; a++)
    for (int b = 0; b < L; b++) {
      chain_render(cur + (size_t)n * DIST_IMAGE_BYTES, L, a, o);
      chain_render(goal + (size_t)n * DIST_IMAGE_BYTES, L, b, o);
      y[n] = abs(a - b);
      n++;
    }
  for (int a = 0; a < L; a++)
    for (int b = 0; b < L; b++) {
      chain_render(cur + (size_t)n * DIST_IMAGE_BYTES, L, a, o);
      chain_render(goal + (size_t)n * DIST_IMAGE_BYTES, L, b, o_other);
      n++;
    }
  char err[256];
  CHECK_MSG(dist_trainer_distances(t, cur, goal, n, false, d, err, sizeof err), "%s", err);
  /* Pairs with x != x' (the distance to the very same image is not defined by the rewards). */
  int m = 0;
  for (int i = 0; i < L * L; i++)
    if (y[i] > 0) x[m] = d[i], y[m] = y[i], m++;
  *rho = dist_spearman(x, y, m);
  int wins = 0, total = 0;
  for (int a = 0; a < L; a++)
    for (int b = 0; b < L; b++) {
      if (a == b) continue;
      float reach = d[a * L + b];
      float unreach = d[L * L + a * L + a]; /* same arm position, other object */
      wins += reach < unreach;
      total++;
    }
  *rank = (double)wins / total;
  if (getenv("DIST_TEST_VERBOSE")) {
    for (int a = 0; a < L; a++) {
      for (int b = 0; b < L; b++) fprintf(stderr, " %5.2f", d[a * L + b]);
      fprintf(stderr, "   | %5.2f\n", d[L * L + a * L + a]);
    }
  }
  free(cur), free(goal), free(d), free(x), free(y);
}

int main(int argc, char **argv) {
  dist_method method = DIST_METHOD_Q;
  if (argc > 1 && !dist_method_parse(argv[1], &method)) return 2;
  int steps = argc > 2 ? atoi(argv[2]) : (method == DIST_METHOD_Q ? 600 : 300);
  if (getenv("DIST_TEST_L")) L = atoi(getenv("DIST_TEST_L"));
  if (getenv("DIST_TEST_T")) T = atoi(getenv("DIST_TEST_T"));
  chain ch;
  chain_make(&ch, N, T, L, 11);
  char err[512];
  cmp_ctx *ctx = cmp_create(CMP_BACKEND_CPU, NULL, NULL, 0, err, sizeof err);
  CHECK(ctx != NULL);
  dist_hparams h = dist_hparams_default(method, 30.0f);
  /* Short-run settings: a smaller batch, a faster learner and faster targets, so that values
   * propagate along the chain in a few hundred steps. Everything else is the paper's. */
  h.batch = 32;
  h.lr = 1e-3f;
  h.polyak = 0.9f;
  if (getenv("DIST_TEST_BATCH")) h.batch = atoi(getenv("DIST_TEST_BATCH"));
  if (getenv("DIST_TEST_LR")) h.lr = (float)atof(getenv("DIST_TEST_LR"));
  if (getenv("DIST_TEST_POLYAK")) h.polyak = (float)atof(getenv("DIST_TEST_POLYAK"));
  h.seed = 5;
  dist_trainer *t = dist_trainer_create(ctx, &h, &ch.d, err, sizeof err);
  CHECK_MSG(t != NULL, "%s", err);
  const char *names[DIST_MAX_LOSSES];
  int nl = dist_trainer_loss_names(t, names);
  float losses[DIST_MAX_LOSSES];
  double t0 = mb_now();
  for (int s = 1; s <= steps; s++) {
    CHECK_MSG(dist_trainer_step(t, s, losses, err, sizeof err), "%s", err);
    if (getenv("DIST_TEST_VERBOSE") && (s % 50 == 0 || s == 1)) {
      fprintf(stderr, "step %d", s);
      for (int i = 0; i < nl; i++) fprintf(stderr, "  %s %.4g", names[i], losses[i]);
      fprintf(stderr, "\n");
    }
  }
  double rho, rank;
  score(t, &rho, &rank);
  fprintf(stderr, "%s: %d steps in %.1f s: Spearman %.3f, ranking %.3f\n", dist_method_name(method),
          steps, mb_now() - t0, rho, rank);
  CHECK_MSG(rho > 0.9, "Spearman %.3f", rho);
  if (method == DIST_METHOD_Q) CHECK_MSG(rank > 0.9, "ranking %.3f", rank);
  dist_trainer_destroy(t);
  cmp_destroy(ctx);
  chain_free(&ch);
  return test_exit_code("test_dist_learn");
}
