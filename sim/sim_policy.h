/* The random data-collection policy (REFERENCE.md): correlated ("filtered") Gaussian noise
 * a_i = 0.5 n_i + 0.5 a_(i-1), n_i ~ N(0, diag(std^2)), clipped to [-1, 1], with a_(-1) = 0.
 * The clipped action is what is executed and what the next step filters. Numbers come from the
 * counter-based generator, so an episode's actions depend only on (seed, episode). */
#ifndef SIM_POLICY_H
#define SIM_POLICY_H

#include "sim_task.h"

#include "mb_philox.h"

#include <stdint.h>

#define SIM_POLICY_BETA 0.5f /* weight of the previous action */

typedef struct sim_policy {
  float std[SIM_ACTION_DIM];  /* per-dimension std of n_i */
  float prev[SIM_ACTION_DIM]; /* a_(i-1) */
  mb_rng rng;                 /* Gaussian stream of this episode */
} sim_policy;

void sim_policy_init(sim_policy *p, const float std[SIM_ACTION_DIM], uint64_t seed,
                     uint64_t episode);
/* Writes the next action. */
void sim_policy_next(sim_policy *p, float action[SIM_ACTION_DIM]);

#endif
