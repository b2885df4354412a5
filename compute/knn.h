/* Exact k-nearest-neighbour search in a few dimensions (arm joint positions), on FLANN's C API
 * (single k-d tree, unlimited checks, so results equal brute force). Used once per training run to
 * find "negative" goals: states of other trajectories whose arm is where this state's arm is. */
#ifndef KNN_H
#define KNN_H

#include <stdbool.h>
#include <stddef.h>

typedef struct knn_index knn_index;

/* Builds an index over n points of dim floats each (row-major). The points are copied. Returns NULL
 * with err filled if n < 1, dim < 1 or FLANN fails. */
knn_index *knn_build(const float *points, int n, int dim, int threads, char *err, size_t err_sz);
void knn_destroy(knn_index *index);

/* For each of nq queries, the k nearest indexed points, nearest first: indices (nq x k) and squared
 * l2 distances (nq x k, may be NULL). k must be <= the number of points. */
bool knn_query(const knn_index *index, const float *queries, int nq, int k, int *indices,
               float *dist2, char *err, size_t err_sz);

int knn_size(const knn_index *index); /* points indexed */
int knn_dim(const knn_index *index);  /* dimensions */

#endif
