/* Writes a small dataset in the project's HDF5 format (sim/sim_dataset.h) holding the chain world
 * of chain.h with 30-step episodes, for the command-line tests.
 * Usage: make_dataset OUT.h5 EPISODES SEED [nan]   ("nan" puts a NaN into one action). */
#include "chain.h"
#include "sim_dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: make_dataset OUT.h5 EPISODES SEED [nan]\n");
    return 2;
  }
  int n = atoi(argv[2]);
  uint64_t seed = strtoull(argv[3], NULL, 10);
  bool nan = argc > 4 && !strcmp(argv[4], "nan");
  chain ch;
  chain_make(&ch, n, SIM_EPISODE_STEPS, 8, seed);
  sim_dataset_meta meta = {.task = SIM_TASK_PUSH1,
                           .seed = seed,
                           .arm_joints = SIM_ARM_JOINTS,
                           .num_objects = 1,
                           .state_size = 1};
  snprintf(meta.scene_version, sizeof meta.scene_version, "test-chain");
  memcpy(meta.policy_std, sim_task_get(SIM_TASK_PUSH1)->policy_std, sizeof meta.policy_std);
  char err[512];
  sim_status st;
  sim_dataset_writer *w = sim_dataset_create(argv[1], &meta, true, &st, err, sizeof err);
  if (!w) {
    fprintf(stderr, "make_dataset: %s\n", err);
    return 1;
  }
  sim_episode ep;
  if (!sim_episode_alloc(&ep, &meta)) return 1;
  const int F = SIM_EPISODE_FRAMES, T = SIM_EPISODE_STEPS;
  for (int e = 0; e < n; e++) {
    memcpy(ep.images, ch.images + (size_t)e * F * SIM_IMAGE_BYTES, (size_t)F * SIM_IMAGE_BYTES);
    memcpy(ep.actions, ch.actions + (size_t)e * T * 4, (size_t)T * 4 * sizeof(float));
    if (nan && e == n / 2) ep.actions[5] = NAN;
    for (int t = 0; t < F; t++) {
      for (int j = 0; j < SIM_ARM_JOINTS; j++)
        ep.arm_qpos[t * SIM_ARM_JOINTS + j] = j == 0 ? ch.arm[(size_t)e * F + t] : 0.0f;
      ep.ee_pos[t * 3] = ch.arm[(size_t)e * F + t], ep.ee_pos[t * 3 + 1] = ep.ee_pos[t * 3 + 2] = 0;
      ep.object_pos[t * 3] = (float)ch.o[e],
                        ep.object_pos[t * 3 + 1] = ep.object_pos[t * 3 + 2] = 0;
    }
    ep.start_state[0] = 0;
    if (!sim_episode_compress(&ep, 1) || !sim_dataset_append(w, &ep, 1, err, sizeof err)) {
      fprintf(stderr, "make_dataset: %s\n", err);
      return 1;
    }
  }
  sim_episode_free(&ep);
  chain_free(&ch);
  return sim_dataset_writer_close(w, err, sizeof err) ? 0 : 1;
}
