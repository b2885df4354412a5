/* Learned distances as planner costs and for heatmaps: the `q` cost (MBOLD, paper Eq. 3: the
 * distance in steps of V = min(Q1, Q2)(s, pi(s, g), g), see dist_nets.h) and the `regression` cost
 * (temporal-distance regression baseline), both loaded from a training run folder's latest
 * checkpoint and run in eval mode on a compute backend. The pixel cost is cost_pixel.h. */
#ifndef DIST_COST_H
#define DIST_COST_H

#include "cem.h"
#include "cmp.h"
#include "dist_data.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIST_COST_BATCH 200 /* frames per pass: one CEM iteration's samples */

typedef struct dist_cost dist_cost;

/* Loads the networks of run_dir's latest checkpoint (train_run_latest_checkpoint) onto ctx (not
 * owned; the cost must be used on the thread that uses ctx). want_method: the method the caller
 * needs (a Q run for the `q` cost), or -1 for either. max_batch: pairs per pass (0 =
 * DIST_COST_BATCH). NULL with err naming the folder or file: no run, no checkpoint yet, another
 * method, damaged weights. */
dist_cost *dist_cost_load(cmp_ctx *ctx, const char *run_dir, int want_method, int max_batch,
                          char *err, size_t err_sz);
void dist_cost_destroy(dist_cost *c); /* NULL is fine */

dist_method dist_cost_method(const dist_cost *c);
int64_t dist_cost_step(const dist_cost *c); /* training steps of the loaded checkpoint */

/* Sets the goal image (64 x 64 x 3, copied). */
void dist_cost_set_goal(dist_cost *c, const uint8_t *goal);
/* A cem_cost scoring frames by their distance in steps to the goal set above; all n frames of a
 * call are scored in batched passes of max_batch. c must outlive the returned value. */
cem_cost dist_cost_cem(dist_cost *c);

/* Distances in steps of n (image, goal) pairs: images n x 64 x 64 x 3; goals n images, or one for
 * all when one_goal (heatmaps: many start states, one goal). */
bool dist_cost_pairs(dist_cost *c, const uint8_t *images, const uint8_t *goals, int n,
                     bool one_goal, float *steps, char *err, size_t err_sz);

/* Ranking scores of n pairs (lower = closer, without the steps mapping's clamps; see
 * dist_infer_rank): what the metrics compare. */
bool dist_cost_rank(dist_cost *c, const uint8_t *images, const uint8_t *goals, int n, float *score,
                    char *err, size_t err_sz);

#endif
