/* Training batches for the distance learner: transitions with relabelled goals (Q-function) or
 * (state, later state, offset) pairs (regression baseline), and a thread that prepares the batch of
 * step k + 1 while step k runs.
 *
 * Every batch is a pure function of (seed, step): the random numbers of row r of step k are
 * Philox words keyed by (seed, step, r), so a resumed run draws exactly the batches of an
 * uninterrupted one, whatever was prefetched before the interruption.
 *
 * Q batches (paper Sec. 4, App. A.1): a transition (episode e, time t, action a_t, next frame
 * s_t+1) with e uniform over the split and t uniform over 0..T-1, then
 *   - rows [0, n_pos), n_pos = n - round(n * negative_fraction): a goal from the same episode at
 *     t + D, D ~ Geom(p) on {1, 2, ...}. When t + D would run past the episode's last frame T, D is
 *     drawn from the geometric distribution truncated to 1..T - t (conditioned on staying inside
 *     the episode, by inverting the truncated CDF), so the mass beyond the end is spread over the
 *     frames that exist instead of piling up on the last one. D = 1 gives reward 10 and terminal.
 *   - rows [n_pos, n): a "negative" goal: a frame of another episode whose arm joint positions are
 *     near those of s_t (l2), from an exact k-NN index built once over up to knn_max_points
 *     observations of the split (a seeded random subset when there are more). Of the knn_k nearest
 *     indexed frames, those of episode e are dropped and the goal is drawn uniformly among the
 *     first negative_choices that remain (the released code took the 2nd nearest, the 1st being
 *     the query itself; a few choices give more goals per state while staying arm-near). If all
 *     knn_k neighbours belong to episode e (tiny datasets), a uniformly random frame of another
 *     episode is used and counted in dist_batch.fallbacks. Reward 1, never terminal.
 * Regression batches (App. C.2): t_i uniform over 0..T-1, t_g uniform over t_i + 1..T of the same
 * episode, label min(t_g - t_i, regression_max). */
#ifndef DIST_SAMPLER_H
#define DIST_SAMPLER_H

#include "dist_data.h"
#include "knn.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dist_sampler_params {
  uint64_t seed;           /* run seed */
  float geom_p;            /* success probability of the goal offset D ~ Geom(p) (0.3) */
  float negative_fraction; /* share of rows with arm-neighbour negative goals (0.5) */
  int knn_max_points;      /* observations indexed at most (200,000) */
  int knn_k;               /* neighbours asked of the index per negative (16) */
  int negative_choices;    /* negatives drawn among this many nearest of other episodes (4) */
  int regression_max;      /* regression label clamp (10) */
} dist_sampler_params;

/* The paper's values (seed 0). */
dist_sampler_params dist_sampler_params_default(void);

typedef struct dist_sampler {
  const dist_dataset *data; /* the split sampled from (borrowed) */
  dist_method method;       /* which kind of batch */
  dist_sampler_params p;    /* parameters */
  knn_index *knn;           /* Q: arm joint positions of the indexed observations (owned) */
  int32_t *knn_obs;         /* (knn_points) each indexed point's frame: e * (T+1) + t (owned) */
  int knn_points;           /* points indexed (0 for regression) */
} dist_sampler;

/* Builds the sampler (and for DIST_METHOD_Q the k-NN index, once). The dataset must outlive it and
 * hold at least 2 episodes for Q (negatives come from other episodes). NULL with err on bad
 * parameters or data. */
dist_sampler *dist_sampler_create(const dist_dataset *data, dist_method method,
                                  const dist_sampler_params *p, char *err, size_t err_sz);
void dist_sampler_destroy(dist_sampler *s); /* NULL is fine */

typedef struct dist_batch {
  int n;            /* rows */
  int n_pos;        /* Q: rows [0, n_pos) have same-episode goals, the rest negatives */
  uint8_t *cur;     /* (n x 64 x 64 x 3) s_t (regression: s_ti) */
  uint8_t *next;    /* (n x 64 x 64 x 3) s_t+1 (Q only) */
  uint8_t *goal;    /* (n x 64 x 64 x 3) goal image (regression: s_tg) */
  float *action;    /* (n x 4) a_t (Q only) */
  float *reward;    /* (n) 10 when s_t+1 is the goal, else 1 (Q only) */
  float *discount;  /* (n) gamma * (1 - terminal) (Q only) */
  float *label;     /* (n) regression target in steps (regression only) */
  int32_t *ep, *t;  /* (n) the transition's (or pair's first) episode and time */
  int32_t *goal_ep; /* (n) the goal's episode */
  int32_t *goal_t;  /* (n) the goal's time */
  int fallbacks;    /* negatives that had no arm neighbour in another episode */
  float *query;     /* scratch (n x J) k-NN queries */
  int *nn_idx;      /* scratch (n x knn_k) */
  float *nn_d2;     /* scratch (n x knn_k) */
} dist_batch;

/* Host buffers for batches of n rows from s. false when out of memory. */
bool dist_batch_alloc(dist_batch *b, int n, const dist_sampler *s);
void dist_batch_free(dist_batch *b);

/* Fills b with the batch of `step` (>= 1). Thread-safe for distinct batches. */
bool dist_sampler_fill(const dist_sampler *s, int64_t step, dist_batch *b, char *err,
                       size_t err_sz);

/* ---- double buffering ------------------------------------------------------------------------ */

typedef struct dist_prefetch dist_prefetch;

/* A worker thread with two batches of n rows. */
dist_prefetch *dist_prefetch_create(const dist_sampler *s, int n, char *err, size_t err_sz);
void dist_prefetch_destroy(dist_prefetch *p); /* NULL is fine */
/* The batch of `step` (waiting for it if it is not ready) and starts preparing step + 1. The batch
 * stays valid until the next call. NULL with err if sampling failed. */
const dist_batch *dist_prefetch_get(dist_prefetch *p, int64_t step, char *err, size_t err_sz);

#endif
