/* Validation metrics of a distance (Q-function, regression baseline, l2 in pixels), computed on
 * held-out trajectories (the val split):
 *   - Spearman rank correlation between the predicted distance d(s_t, s_t+D) and the true offset D
 *     over pairs of the same trajectory (t uniform over 0..T-1, D uniform over 1..T-t), pooled over
 *     trajectories; ties get average ranks.
 *   - Ranking accuracy: how often the true future s_t+D is predicted closer to s_t than an
 *     arm-neighbour negative: the frame of another val trajectory whose arm joint positions are
 *     nearest to those of s_t (exact k-NN over every val frame). Ties count one half.
 * The pairs are a pure function of (val split, count, seed), so every model is scored on exactly
 * the same pairs. Both metrics depend only on the order of the distances, so a learned distance is
 * scored by its unclamped ranking score (dist_infer_rank). */
#ifndef DIST_METRICS_H
#define DIST_METRICS_H

#include "dist_data.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dist_pairs {
  int n;                   /* pairs */
  int32_t *ep;             /* (n) the trajectory */
  int32_t *t;              /* (n) the anchor's time */
  int32_t *pos_t;          /* (n) the true future's time in the same trajectory (t + offset) */
  int32_t *neg_ep, *neg_t; /* (n) the arm-neighbour negative: another trajectory and a time */
  int fallbacks; /* negatives drawn at random because no arm neighbour of another trajectory was
                    among the nearest (tiny splits only) */
} dist_pairs;

/* Draws n pairs from the val split (at least 2 episodes). NULL-free result or false with err. */
bool dist_pairs_make(const dist_dataset *val, int n, uint64_t seed, dist_pairs *out, char *err,
                     size_t err_sz);
void dist_pairs_free(dist_pairs *p);

/* A distance: fills out[i] (lower = closer) for n image pairs (cur[i], goal[i]), 64x64x3 each. */
typedef bool (*dist_pair_fn)(void *user, const uint8_t *cur, const uint8_t *goal, int n, float *out,
                             char *err, size_t err_sz);

/* The l2 pixel distance (mean squared difference in [0, 1] units); user is ignored. */
bool dist_pixel_fn(void *user, const uint8_t *cur, const uint8_t *goal, int n, float *out,
                   char *err, size_t err_sz);

typedef struct dist_scores {
  double spearman; /* rank correlation of d(s_t, s_t+D) with D */
  double ranking;  /* fraction with d(s_t, s_t+D) < d(s_t, negative) */
  int pairs;       /* pairs scored */
} dist_scores;

/* Scores a distance on the pairs, calling fn with up to `chunk` pairs at a time. */
bool dist_metrics_eval(const dist_dataset *val, const dist_pairs *p, dist_pair_fn fn, void *user,
                       int chunk, dist_scores *out, char *err, size_t err_sz);

/* Spearman rank correlation of x and y (n values each, average ranks for ties); 0 when either is
 * constant. */
double dist_spearman(const double *x, const double *y, int n);

#endif
