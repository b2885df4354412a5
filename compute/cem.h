/* The cross-entropy method over action sequences (paper Sec. 4 and App. A.2).
 *
 * The optimiser knows neither MuJoCo, the networks nor the GUI: it is handed a dynamics ("predict
 * the frames these action sequences lead to") and a cost ("score these final frames against the
 * goal"), and it publishes an immutable trace after every iteration to an optional observer.
 *
 * Sampling: n_t ~ N(0, 1) per time step and action dimension, filtered in time like the data
 * collection policy, u_t = beta * u_(t-1) + (1 - beta) * n_t (beta = 0.5), then
 * a_t = clip(mean_t + std_t * u_t / sd(u_t), lo, hi): correlated in time like the random data, and
 * with marginal std exactly std_t. Dividing by sd(u_t) matters: the elites (lowest cost) refit mean
 * and std per time step and dimension from the actions themselves, and without it the filter's
 * variance reduction (sd(u_t) -> 0.58) would compound every iteration and collapse the search.
 * The returned plan is the best sequence seen in any iteration ("the best action found so far"). */
#ifndef CEM_H
#define CEM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CEM_MAX_ACT     8
#define CEM_FRAME_BYTES (64 * 64 * 3) /* one agent image, uint8 H x W x 3 */

typedef struct cem_params {
  int samples;                 /* sequences per iteration (200) */
  int iterations;              /* (3) */
  int elites;                  /* refit set size (10) */
  int horizon;                 /* actions per sequence (13) */
  int act_dim;                 /* action dimensions (4) */
  float init_std[CEM_MAX_ACT]; /* per-dimension std of the first iteration */
  float beta;                  /* temporal noise filter (0.5) */
  float lo, hi;                /* action bounds (-1, 1) */
} cem_params;

/* The paper's defaults (200 / 3 / 10 / 13, beta 0.5, [-1, 1]) with the given initial std. */
cem_params cem_default_params(const float *init_std, int act_dim);
/* One line naming the first invalid field, or true. */
bool cem_params_check(const cem_params *p, char *err, size_t err_sz);

/* Predicts, for each of n action sequences (n x horizon x act_dim floats, row-major), the frame
 * after the last action as uint8 64 x 64 x 3, into final_frames (n x 64 x 64 x 3). When all_frames
 * is non-NULL it also fills all_frames (n x horizon x 64 x 64 x 3) with frames 1..horizon (the
 * planner asks for this only for the elites it publishes). */
typedef struct cem_dynamics {
  bool (*predict)(void *user, const float *actions, int n, int horizon, uint8_t *final_frames,
                  uint8_t *all_frames, char *err, size_t err_sz);
  void *user;
} cem_dynamics;

/* Scores n final frames (n x 64 x 64 x 3) against the goal: costs[i], lower is better (for the Q
 * cost: a distance in steps). */
typedef struct cem_cost {
  bool (*score)(void *user, const uint8_t *frames, int n, float *costs, char *err, size_t err_sz);
  void *user;
} cem_cost;

/* What the planner saw in one iteration. Immutable once published; reference counted so that the
 * GUI can keep the traces of past replans while the planner goes on. */
typedef struct cem_trace {
  atomic_int refs;                       /* owners */
  int replan;                            /* index of the replan in the episode (0, 1, ...) */
  int iteration;                         /* 0 .. iterations-1 */
  int samples, horizon, act_dim, elites; /* sizes of the arrays below */
  float *actions;                        /* (samples x horizon x act_dim) every sample */
  float *costs;                          /* (samples) */
  int *elite_idx;                        /* (elites) indices into the samples, best first */
  float *mean, *std; /* (horizon x act_dim) the distribution refitted on this iteration's elites */
  uint8_t *elite_frames; /* (elites x horizon x 64 x 64 x 3) predicted frames 1..h, or NULL */
  double seconds;        /* wall time of this iteration */
} cem_trace;

cem_trace *cem_trace_ref(cem_trace *t);
void cem_trace_unref(cem_trace *t);

/* Called after every iteration with a new trace; the observer takes its own reference if it keeps
 * it (cem_trace_ref). Runs on the planner's thread. */
typedef struct cem_observer {
  void (*on_iteration)(void *user, cem_trace *trace);
  void *user;
  bool want_frames; /* ask the dynamics for the elites' frames 1..h (costs one extra prediction) */
} cem_observer;

/* Mutable planner state: the current mean (warm start) and scratch for one replan. */
typedef struct cem_state {
  cem_params p;    /* parameters this state was made for */
  float *mean;     /* (horizon x act_dim) mean of the next plan's first iteration */
  float *plan;     /* (horizon x act_dim) best sequence of the last replan */
  float plan_cost; /* its cost */
  float *actions;  /* (samples x horizon x act_dim) scratch */
  float *noise;    /* (samples x horizon x act_dim) scratch */
  float *costs;    /* (samples) scratch */
  int *order;      /* (samples) scratch */
  uint8_t *frames; /* (samples x 64 x 64 x 3) scratch */
  int replans;     /* replans done since the last reset */
} cem_state;

cem_state *cem_state_create(const cem_params *p);
void cem_state_destroy(cem_state *s);
/* Forget the warm start (a new episode): mean = 0. */
void cem_state_reset(cem_state *s);

/* One replan: `iterations` rounds of sample / predict / score / refit. Random numbers come from
 * (seed, stream = replan counter), so a replan is reproducible. On success s->plan holds the best
 * sequence. `cancel` may be NULL. Returns false with err filled if the dynamics or cost fail or the
 * run was cancelled. */
bool cem_replan(cem_state *s, const cem_dynamics *dyn, const cem_cost *cost,
                const cem_observer *obs, uint64_t seed, const atomic_int *cancel, char *err,
                size_t err_sz);

/* Warm start after executing the first k actions of s->plan: the next mean is the unexecuted tail
 * of the plan followed by zeros. */
void cem_shift(cem_state *s, int executed);

#endif
