#include "knn.h"
#include "mb_err.h"

#include <flann/flann.h>
#include <stdlib.h>
#include <string.h>

struct knn_index {
  flann_index_t flann;           /* FLANN's index over `points` */
  float *points;                 /* (n x dim) owned copy: FLANN keeps a pointer to it */
  int n, dim;                    /* size */
  struct FLANNParameters params; /* search parameters */
};

static struct FLANNParameters exact_params(int threads) {
  struct FLANNParameters p = DEFAULT_FLANN_PARAMETERS;
  p.algorithm = FLANN_INDEX_KDTREE_SINGLE;
  p.leaf_max_size = 10;
  p.checks = FLANN_CHECKS_UNLIMITED; /* exact search */
  p.cores = threads > 0 ? threads : 1;
  p.log_level = FLANN_LOG_NONE;
  p.random_seed = 1;
  return p;
}

knn_index *knn_build(const float *points, int n, int dim, int threads, char *err, size_t err_sz) {
  if (n < 1 || dim < 1)
    return mb_fail_null(err, err_sz, "k-NN index needs points (got %d of dimension %d)", n, dim);
  knn_index *ix = calloc(1, sizeof *ix);
  if (!ix) return mb_fail_null(err, err_sz, "out of memory for the k-NN index");
  ix->points = malloc((size_t)n * (size_t)dim * sizeof(float));
  if (!ix->points) {
    free(ix);
    return mb_fail_null(err, err_sz, "out of memory for %d k-NN points", n);
  }
  memcpy(ix->points, points, (size_t)n * (size_t)dim * sizeof(float));
  ix->n = n;
  ix->dim = dim;
  ix->params = exact_params(threads);
  flann_set_distance_type(FLANN_DIST_EUCLIDEAN, 0);
  float speedup = 0;
  ix->flann = flann_build_index_float(ix->points, n, dim, &speedup, &ix->params);
  if (!ix->flann) {
    free(ix->points);
    free(ix);
    return mb_fail_null(err, err_sz, "FLANN could not build an index over %d points", n);
  }
  return ix;
}

void knn_destroy(knn_index *ix) {
  if (!ix) return;
  if (ix->flann) flann_free_index_float(ix->flann, &ix->params);
  free(ix->points);
  free(ix);
}

bool knn_query(const knn_index *ix, const float *queries, int nq, int k, int *indices, float *dist2,
               char *err, size_t err_sz) {
  if (k < 1 || k > ix->n)
    return mb_fail(err, err_sz, "k-NN query for %d neighbours among %d points", k, ix->n);
  if (nq < 1) return true;
  float *d = dist2 ? dist2 : malloc((size_t)nq * (size_t)k * sizeof(float));
  if (!d) return mb_fail(err, err_sz, "out of memory for k-NN distances");
  struct FLANNParameters p = ix->params;
  /* FLANN's C API takes non-const pointers but does not modify the queries. */
  int rc =
      flann_find_nearest_neighbors_index_float(ix->flann, (float *)queries, nq, indices, d, k, &p);
  if (!dist2) free(d);
  if (rc != 0) return mb_fail(err, err_sz, "FLANN query failed");
  return true;
}

int knn_size(const knn_index *ix) {
  return ix->n;
}
int knn_dim(const knn_index *ix) {
  return ix->dim;
}
