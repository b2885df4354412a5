/* Oracle dynamics for the planner (DESIGN.md "The planner's seams"): roll candidate action
 * sequences out in private copies of the true simulator and return their rendered frames. A
 * persistent pool of T threads, each with its own worlds and renderer; the caller's world is never
 * touched (it passes a state). Results do not depend on T: sample j is always rendered in tile
 * j mod SIM_ORACLE_BATCH of whichever thread runs its batch. */
#ifndef SIM_ORACLE_H
#define SIM_ORACLE_H

#include "sim_world.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_ORACLE_BATCH 16 /* samples stepped in lockstep and rendered as tiles of one buffer */

typedef struct sim_oracle sim_oracle;

typedef struct sim_oracle_request {
  const double *start_state;      /* full state to start every rollout from (state_size doubles) */
  int state_size;                 /* its length, checked against the model */
  const float *actions;           /* n x horizon x 4, clipped to [-1, 1] when applied */
  int n;                          /* samples */
  int horizon;                    /* steps per sample */
  uint8_t *final_frames;          /* n x 64 x 64 x 3: frame after the last action (may be NULL) */
  uint8_t *all_frames;            /* n x horizon x 64 x 64 x 3: frames 1..horizon (may be NULL) */
  float *ee_paths;                /* n x (horizon + 1) x 3: end effector before and after each
                                     action (may be NULL) */
  sim_positions *final_positions; /* n: true positions after the last action (may be NULL) */
} sim_oracle_request;

/* Starts `threads` workers (each creates its renderer on its own thread) for worlds of model m
 * (borrowed). NULL + err when EGL is unavailable. */
sim_oracle *sim_oracle_create(const sim_model *m, int threads, char *err, size_t err_sz);
void sim_oracle_free(sim_oracle *o); /* joins the workers; NULL is fine */
/* Runs every rollout of req and waits for them. One request at a time per oracle. */
bool sim_oracle_rollout(sim_oracle *o, const sim_oracle_request *req, char *err, size_t err_sz);

#endif
