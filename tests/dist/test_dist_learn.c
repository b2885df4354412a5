/* The Q-function learns the true step distances of a tiny chain world (tests/dist/chain.h) in a
 * short run and ranks unreachable arm-neighbour goals farther than reachable ones; the regression
 * baseline's loss falls and its distances grow with the true ones. Usage: test_dist_learn
 * [q|regression] [steps] (DIST_TEST_VERBOSE=1 prints losses and the distance table). */
#include "../test_util.h"
#include "chain.h"
#include "dist_metrics.h"
#include "dist_steps.h"
#include "dist_train.h"
#include "mb_clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 48, T = 10, L = 5 };

/* Over every object position o: Spearman of the predicted distance against |x - x'| for every
 * (x, o) -> (x', o) with x != x', and the fraction of (state, reachable goal) pairs predicted
 * closer than the unreachable goal with the same arm position and another object position. */
static void score(dist_trainer *t, double *rho, double *rank) {
  const int per = L * L * 2, npair = per * L;
  uint8_t *cur = malloc((size_t)npair * DIST_IMAGE_BYTES);
  uint8_t *goal = malloc((size_t)npair * DIST_IMAGE_BYTES);
  float *d = malloc(sizeof(float) * npair);
  double *x = malloc(sizeof(double) * npair), *y = malloc(sizeof(double) * npair);
  for (int o = 0; o < L; o++)
    for (int a = 0; a < L; a++)
      for (int b = 0; b < L; b++) {
        int i = o * per + a * L + b;
        chain_render(cur + (size_t)i * DIST_IMAGE_BYTES, L, a, o);
        chain_render(goal + (size_t)i * DIST_IMAGE_BYTES, L, b, o);
        i += L * L;
        chain_render(cur + (size_t)i * DIST_IMAGE_BYTES, L, a, o);
        chain_render(goal + (size_t)i * DIST_IMAGE_BYTES, L, b, (o + 1 + b) % L);
      }
  char err[256];
  CHECK_MSG(dist_trainer_distances(t, cur, goal, npair, false, d, err, sizeof err), "%s", err);
  int m = 0, wins = 0, total = 0;
  for (int o = 0; o < L; o++)
    for (int a = 0; a < L; a++)
      for (int b = 0; b < L; b++) {
        if (a == b) continue; /* the distance of a state to itself is not defined by the rewards */
        x[m] = d[o * per + a * L + b], y[m] = abs(a - b), m++;
        wins += d[o * per + a * L + b] < d[o * per + L * L + a * L + a];
        total++;
      }
  *rho = dist_spearman(x, y, m);
  *rank = (double)wins / total;
  if (getenv("DIST_TEST_VERBOSE"))
    for (int a = 0; a < L; a++) {
      for (int b = 0; b < L; b++) fprintf(stderr, " %5.2f", d[a * L + b]);
      fprintf(stderr, "   | %5.2f\n", d[L * L + a * L + a]);
    }
  free(cur), free(goal), free(d), free(x), free(y);
}

int main(int argc, char **argv) {
  dist_method method = DIST_METHOD_Q;
  if (argc > 1 && !dist_method_parse(argv[1], &method)) return 2;
  int steps = argc > 2 ? atoi(argv[2]) : (method == DIST_METHOD_Q ? 1200 : 300);
  if (steps < 1) return 2;
  chain ch;
  chain_make(&ch, N, T, L, 11);
  char err[512];
  cmp_ctx *ctx = cmp_create(CMP_BACKEND_CPU, NULL, NULL, 0, err, sizeof err);
  CHECK(ctx != NULL);
  dist_hparams h = dist_hparams_default(method, 30.0f);
  /* Short-run settings: a smaller batch, a faster learner and faster targets, so that values
   * propagate along the chain in a few hundred steps. Everything else is the paper's. (Measured
   * after 1200 steps: Spearman 0.946 and 0.929, ranking 0.81 and 0.83 for seeds 5 and 6. At 900
   * steps seed 5 gave 0.93, then 0.897 once the bias gradients were summed in another order: the
   * run is chaotic in the last bits, and 900 steps left too little margin. Batch 16 is not
   * reliable.) */
  h.batch = 32;
  h.lr = 1e-3f;
  h.polyak = 0.9f;
  h.seed = 5;
  dist_trainer *t = dist_trainer_create(ctx, &h, &ch.d, err, sizeof err);
  CHECK_MSG(t != NULL, "%s", err);
  const char *names[DIST_MAX_LOSSES];
  int nl = dist_trainer_loss_names(t, names);
  float losses[DIST_MAX_LOSSES];
  double t0 = mb_now(), first = 0, last = 0;
  const int window = steps / 6 > 0 ? steps / 6 : 1;
  for (int s = 1; s <= steps; s++) {
    CHECK_MSG(dist_trainer_step(t, s, losses, err, sizeof err), "%s", err);
    if (s <= window) first += losses[0];
    if (s > steps - window) last += losses[0];
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
  if (method == DIST_METHOD_Q) {
    CHECK_MSG(rho > 0.9, "Spearman %.3f", rho);
    CHECK_MSG(rank > 0.7, "ranking %.3f", rank);
  } else {
    /* The baseline regresses the time offset of a random walk, which only grows with |x - x'| on
     * average, and knows nothing of unreachable goals: a clear trend and a falling loss. */
    CHECK_MSG(rho > 0.6, "Spearman %.3f", rho);
    CHECK_MSG(last < 0.5 * first, "l2 from %.3f to %.3f", first / window, last / window);
  }
  dist_trainer_destroy(t);
  cmp_destroy(ctx);
  chain_free(&ch);
  return test_exit_code("test_dist_learn");
}
