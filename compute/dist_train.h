/* The distance learner's training step, on the compute core (issue 4, numbers from REFERENCE.md).
 *
 * Q method, one step with batch B (dist_sampler.h for the batch):
 *   targets   a' = clip(pi_targ(s', g) + clip(N(0, 0.1), +-0.2), +-1),
 *             y  = r + gamma (1 - terminal) min(Q1_targ, Q2_targ)(s', a', g)
 *   critics   for k = 1, 2: the encoder runs once on (s, g); the head sees the data action a and,
 *             for CQL, 10 uniform random actions per sample (nn_forward_cat with repeat 10):
 *             L_k = mean (Q_k(s, a, g) - y)^2 + alpha * (gap_k - tau),
 *             gap_k = mean_b [logsumexp_j Q_k(s, a_j, g) - Q_k(s, a, g)]
 *   alpha     = exp(log_alpha) (clamped to 1e6), log_alpha by its own Adam (lr 1e-3) on
 *             -alpha * (mean(gap_1, gap_2) - tau): alpha grows while the gap exceeds tau
 *   actor     every policy_delay-th step: L_pi = -mean Q1(s, pi(s, g), g), through critic 1's head
 *             on the features its encoder already computed this step (so with the critic as it
 *             was before this step's update, as rlkit/CQL order it). The head sees every sample
 *             twice in one batch-norm batch, with the data action and with pi's: in training mode
 *             batch norm makes the batch mean of the head's output independent of its inputs, so
 *             a batch of actor actions alone would give the actor exactly zero gradient. Then
 *             Polyak averaging (0.995) of all three target networks (TD3's delayed updates).
 *   Adam (lr 3e-4) on every network. Batch norm runs in training mode everywhere (target networks
 *   included, as a PyTorch module in train() mode would); inference uses running statistics,
 *   recomputed from the current weights over fixed batches of training data before any inference
 *   and every save (dist_train.c, calibrate(): the momentum-0.1 averages trail the weights).
 *   Initialisation is PyTorch's default except the critics' output bias, which starts at 7.5,
 *   the middle of the values Q can take (5..10): with batch norm before the last layer the batch
 *   mean of Q is that bias plus w . beta, which Adam would otherwise spend its first thousand
 *   steps raising.
 * Regression method: l2 between the network's output and the label min(t_g - t_i, 10).
 *
 * Device-side random numbers (target noise, CQL actions) are keyed by (seed, step) like the
 * batches, and the whole state (networks, targets, running statistics, every Adam moment, alpha)
 * is in the checkpoint, so a resumed run equals an uninterrupted one on the same backend. */
#ifndef DIST_TRAIN_H
#define DIST_TRAIN_H

#include "dist_nets.h"
#include "dist_sampler.h"
#include "mb_json.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct dist_hparams {
  dist_method method;          /* q or regression */
  uint64_t seed;               /* networks, batches and device random numbers */
  int batch;                   /* B (64) */
  float lr;                    /* Adam learning rate of every network (3e-4) */
  float adam_b1, adam_b2;      /* (0.9, 0.999) */
  float adam_eps;              /* (1e-8) */
  float polyak;                /* target = polyak * target + (1 - polyak) * online (0.995) */
  int policy_delay;            /* actor and target updates every this many steps (2) */
  float policy_noise;          /* target-policy noise std (0.1) */
  float noise_clip;            /* its clip (0.2) */
  bool cql;                    /* the CQL term (on) */
  int cql_actions;             /* uniform random actions per sample (10) */
  float cql_tau;               /* slack tau (30 pushing/reach, 10 door) */
  float cql_alpha_lr;          /* Adam learning rate of log alpha (1e-3) */
  float cql_log_alpha_init;    /* initial log alpha (0: alpha = 1) */
  dist_sampler_params sampler; /* goals, negatives, regression labels (seed ignored: above) */
} dist_hparams;

/* The paper's values for a method; tau for the Q method is given by the caller (task). */
dist_hparams dist_hparams_default(dist_method method, float cql_tau);
/* The CQL slack of a task name: 10 for "door", else 30. */
float dist_cql_tau_for_task(const char *task);
/* One line naming the first bad value. */
bool dist_hparams_check(const dist_hparams *h, char *err, size_t err_sz);
/* As JSON members of the open object w (every value, constants included), and back. Reading
 * takes the members written by dist_hparams_write; a missing or mistyped one is an error. */
void dist_hparams_write(const dist_hparams *h, mb_jw *w);
bool dist_hparams_read(const mb_json *obj, dist_hparams *h, char *err, size_t err_sz);

#define DIST_MAX_LOSSES 6

typedef struct dist_trainer dist_trainer;

/* A trainer on ctx for the train split `data` (borrowed, must outlive it): builds the sampler and
 * its k-NN index, the networks, targets, optimisers and the batch thread. NULL with err. */
dist_trainer *dist_trainer_create(cmp_ctx *ctx, const dist_hparams *h, const dist_dataset *data,
                                  char *err, size_t err_sz);
void dist_trainer_destroy(dist_trainer *t); /* NULL is fine */

/* Scalars a step reports, in order: Q "bellman" (mean of the twins' l2), "cql_gap" (mean gap),
 * "alpha" (the multiplier used in this step), "actor" (-mean Q1 of the actor's action, the latest
 * actor step's), "q_data" (mean Q1 of the data actions); regression "l2". Returns the count. */
int dist_trainer_loss_names(const dist_trainer *t, const char **names);
/* Optimisation step number `step` (1-based, consecutive from the last loaded state). */
bool dist_trainer_step(dist_trainer *t, int64_t step, float *losses, char *err, size_t err_sz);

/* Writes the whole training state (networks, targets, optimisers, alpha) as safetensors. */
bool dist_trainer_save(dist_trainer *t, const char *path, char *err, size_t err_sz);
/* Reads a state written by dist_trainer_save for the same method. The networks are checked before
 * anything is read; if an optimiser tensor is missing or damaged after that, err names it and the
 * trainer is left partly loaded: destroy it. */
bool dist_trainer_load(dist_trainer *t, const char *path, char *err, size_t err_sz);

/* The online networks (for metrics and tests). */
const dist_nets *dist_trainer_nets(const dist_trainer *t);
const dist_sampler *dist_trainer_sampler(const dist_trainer *t);
/* Distances in steps of n pairs with the current networks (eval mode), see dist_infer_run. */
bool dist_trainer_distances(dist_trainer *t, const uint8_t *cur, const uint8_t *goal, int n,
                            bool one_goal, float *steps, char *err, size_t err_sz);

/* Ranking scores (dist_infer_rank: lower = closer, unclamped) with the current networks. */
bool dist_trainer_rank(dist_trainer *t, const uint8_t *cur, const uint8_t *goal, int n,
                       float *score, char *err, size_t err_sz);

/* Optional per-phase timing for benchmarks: when set, the step syncs the device after each phase
 * and adds its seconds to times[DIST_PHASE_COUNT]. */
enum {
  DIST_PHASE_BATCH,   /* waiting for the batch thread and uploading */
  DIST_PHASE_TARGETS, /* target actor + target critics forward */
  DIST_PHASE_CRITICS, /* critics forward, losses, backward */
  DIST_PHASE_ACTOR,   /* actor forward and backward (delayed steps) */
  DIST_PHASE_UPDATE,  /* Adam steps, Polyak averaging, reading the losses back */
  DIST_PHASE_COUNT,
};
void dist_trainer_profile(dist_trainer *t, double *times);

#endif
