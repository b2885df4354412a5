/* From Q-values to distances in steps, the one mapping used by the planner's cost, the heatmaps
 * and the UI (REFERENCE.md "Distance function").
 *
 * Rewards are 1 on every step that does not reach the goal and 10 on the step that reaches it
 * (terminal), discount gamma = 0.8. A goal reached after d steps under the optimal policy has
 *   Q(d) = sum_{i<d-1} gamma^i * 1 + gamma^(d-1) * 10 = 5 + 5 * 0.8^(d-1),
 * so d = 1 + log((Q - 5) / 5) / log(0.8). Q(1) = 10, and Q -> 5 as d -> infinity.
 *
 * Clamps (a learned Q is only approximately in (5, 10]):
 *   - Q <= Q(DIST_MAX_STEPS) (about 5.00009), Q <= 5 and NaN map to DIST_MAX_STEPS: "farther than
 *     anything the data can tell apart". 50 steps is beyond the 30-step episodes, and below it
 *     float Q still resolves distances to better than 0.03 steps.
 *   - Q >= Q(0) = 11.25 maps to 0. Between 10 and 11.25 the formula goes on smoothly below one
 *     step, so an overestimate near the goal still ranks above a true one-step goal.
 * Inside [0, DIST_MAX_STEPS] the two functions are exact inverses. */
#ifndef DIST_STEPS_H
#define DIST_STEPS_H

#define DIST_GAMMA       0.8f  /* discount */
#define DIST_REWARD_STEP 1.0f  /* reward of a step that does not reach the goal */
#define DIST_REWARD_GOAL 10.0f /* reward of the step that reaches it (then terminal) */
#define DIST_MAX_STEPS   50.0f /* the clamp for Q at or below Q(50) */

/* Steps to the goal for a Q-value, in [0, DIST_MAX_STEPS]. */
float dist_q_to_steps(float q);
/* The closed form Q(d) = 5 + 5 * 0.8^(d - 1); d is clamped to [0, DIST_MAX_STEPS]. */
float dist_steps_to_q(float steps);

#endif
