#include "sim_policy.h"
#include "sim_internal.h"

#include <string.h>

void sim_policy_init(sim_policy *p, const float std[SIM_ACTION_DIM], uint64_t seed,
                     uint64_t episode) {
  memcpy(p->std, std, sizeof p->std);
  memset(p->prev, 0, sizeof p->prev);
  p->rng = mb_rng_make(seed, SIM_STREAM_POLICY + 2u * (uint32_t)episode);
}

void sim_policy_next(sim_policy *p, float action[SIM_ACTION_DIM]) {
  for (int i = 0; i < SIM_ACTION_DIM; i++) {
    float a = (1.0f - SIM_POLICY_BETA) * p->std[i] * mb_rng_normal(&p->rng) +
              SIM_POLICY_BETA * p->prev[i];
    a = a < -1.0f ? -1.0f : a > 1.0f ? 1.0f : a;
    action[i] = a;
    p->prev[i] = a;
  }
}
