/* The networks of a distance method, how they are saved, and batched inference of distances.
 *
 * Q method: twin critics Q1, Q2 and an actor pi (nn_nets.h: each its own conv encoder + head).
 * The distance of an image to a goal is the paper's Eq. 3 value V = Q(s, pi(s, g), g) with Q the
 * minimum of the twin critics: the same conservative estimate the Bellman targets are built from
 * (TD3), mapped to steps by dist_q_to_steps. Regression method: one network whose output is the
 * distance in steps.
 *
 * In a safetensors file the networks are "<prefix>critic1.encoder.conv.0.weight", ...,
 * "<prefix>critic2.…", "<prefix>actor.…" or "<prefix>regression.…" (PyTorch names and layouts). */
#ifndef DIST_NETS_H
#define DIST_NETS_H

#include "dist_data.h"
#include "nn_nets.h"

typedef struct dist_nets {
  dist_method method; /* which networks exist */
  nn_net *critic[2];  /* Q: twin critics (owned), else NULL */
  nn_net *actor;      /* Q: the actor (owned), else NULL */
  nn_net *regression; /* regression: the network (owned), else NULL */
} dist_nets;

/* The method's networks, initialised from seed (twins from different seeds). */
dist_nets *dist_nets_create(cmp_ctx *ctx, dist_method method, uint64_t seed, bool with_grads);
void dist_nets_destroy(dist_nets *n); /* NULL is fine */
void dist_nets_copy(dist_nets *dst, const dist_nets *src);
void dist_nets_write(const dist_nets *n, st_writer *w, const char *prefix);
/* Checks every tensor first; on error nothing changes and err names the file and tensor. */
bool dist_nets_read(dist_nets *n, const st_file *f, const char *prefix, char *err, size_t err_sz);

/* Activations for batched inference (batch norm in eval mode) on a dist_nets. */
typedef struct dist_infer {
  const dist_nets *nets; /* (borrowed) */
  int max_batch;         /* pairs per pass */
  nn_net_data *data[3];  /* Q: critic 1, critic 2, actor; regression: data[0] */
  cmp_arena *arena;      /* vmin */
  cmp_tensor vmin;       /* [max_batch, 1] min of the twin critics */
  float *host;           /* (max_batch) downloaded values */
} dist_infer;

dist_infer *dist_infer_create(const dist_nets *nets, int max_batch);
void dist_infer_destroy(dist_infer *inf); /* NULL is fine */

/* Distances in steps of n (image, goal) pairs: cur holds n images (64 x 64 x 3), goal n images or
 * one image for all when one_goal. Runs in passes of max_batch pairs. steps or raw may be NULL (not
 * both); raw receives the network value before the mapping (Q method: min(Q1, Q2); regression:
 * the same as steps). */
bool dist_infer_run(dist_infer *inf, const uint8_t *cur, const uint8_t *goal, int n, bool one_goal,
                    float *steps, float *raw, char *err, size_t err_sz);

/* Ranking scores of n pairs, lower = closer, without the clamps of the steps mapping: -min(Q1, Q2)
 * for the Q method (the mapping is decreasing in Q), the output for regression. The metrics use
 * these, so that pairs beyond DIST_MAX_STEPS (or an untrained Q below 5) still rank. */
bool dist_infer_rank(dist_infer *inf, const uint8_t *cur, const uint8_t *goal, int n, bool one_goal,
                     float *score, char *err, size_t err_sz);

#endif
