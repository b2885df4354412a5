#include "dist_steps.h"

#include <math.h>

/* The asymptote r / (1 - gamma) = 5 and the excess of the goal reward over it. */
#define Q_INF  ((double)DIST_REWARD_STEP / (1.0 - (double)DIST_GAMMA))
#define Q_GAIN ((double)DIST_REWARD_GOAL - Q_INF)

float dist_steps_to_q(float steps) {
  double d = steps;
  if (!(d >= 0)) d = 0;
  if (d > DIST_MAX_STEPS) d = DIST_MAX_STEPS;
  return (float)(Q_INF + Q_GAIN * pow(DIST_GAMMA, d - 1.0));
}

float dist_q_to_steps(float q) {
  double excess = ((double)q - Q_INF) / Q_GAIN;
  /* Q(DIST_MAX_STEPS) in the same double arithmetic, so that the clamp is exactly continuous. */
  double far = pow(DIST_GAMMA, DIST_MAX_STEPS - 1.0);
  if (!(excess > far)) return DIST_MAX_STEPS; /* also NaN */
  double d = 1.0 + log(excess) / log((double)DIST_GAMMA);
  if (d < 0) d = 0;
  if (d > DIST_MAX_STEPS) d = DIST_MAX_STEPS;
  return (float)d;
}
