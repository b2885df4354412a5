/* k-NN (FLANN): results equal brute force, nearest first; errors for bad sizes. */
#include "../test_util.h"
#include "knn.h"
#include "mb_philox.h"

#include <stdlib.h>
#include <string.h>

int main(void) {
  const int n = 5000, dim = 7, nq = 300, k = 5;
  float *pts = malloc(sizeof(float) * n * dim), *q = malloc(sizeof(float) * nq * dim);
  mb_rng r = mb_rng_make(3, 0);
  for (int i = 0; i < n * dim; i++) pts[i] = mb_rng_normal(&r);
  for (int i = 0; i < nq * dim; i++) q[i] = mb_rng_normal(&r);
  char err[256];
  knn_index *ix = knn_build(pts, n, dim, 2, err, sizeof err);
  CHECK_MSG(ix != NULL, "%s", err);
  int *idx = malloc(sizeof(int) * nq * k);
  float *d2 = malloc(sizeof(float) * nq * k);
  CHECK(knn_query(ix, q, nq, k, idx, d2, err, sizeof err));
  int mismatches = 0;
  for (int i = 0; i < nq; i++) {
    /* Brute force: the k smallest distances. */
    float best[5];
    for (int j = 0; j < k; j++) best[j] = 1e30f;
    for (int p = 0; p < n; p++) {
      float s = 0;
      for (int d = 0; d < dim; d++)
        s += (pts[p * dim + d] - q[i * dim + d]) * (pts[p * dim + d] - q[i * dim + d]);
      for (int j = 0; j < k; j++)
        if (s < best[j]) {
          memmove(best + j + 1, best + j, sizeof(float) * (k - j - 1));
          best[j] = s;
          break;
        }
    }
    for (int j = 0; j < k; j++) {
      if (fabsf(d2[i * k + j] - best[j]) > 1e-4f * (1 + best[j])) mismatches++;
      int p = idx[i * k + j];
      float s = 0;
      for (int d = 0; d < dim; d++)
        s += (pts[p * dim + d] - q[i * dim + d]) * (pts[p * dim + d] - q[i * dim + d]);
      CHECK_NEAR(s, d2[i * k + j], 1e-4 * (1 + s));
    }
  }
  CHECK_MSG(mismatches == 0, "%d distances differ from brute force", mismatches);
  /* A point queried against itself is its own nearest neighbour at distance 0. */
  CHECK(knn_query(ix, pts + 42 * dim, 1, 1, idx, d2, err, sizeof err));
  CHECK(idx[0] == 42 && d2[0] == 0.0f);
  CHECK(!knn_query(ix, q, 1, n + 1, idx, d2, err, sizeof err));
  CHECK(knn_build(pts, 0, dim, 1, err, sizeof err) == NULL);
  knn_destroy(ix);
  free(pts), free(q), free(idx), free(d2);
  return test_exit_code("test_knn");
}
