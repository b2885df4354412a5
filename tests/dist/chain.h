/* A tiny dataset made in the test: a 1-D chain world rendered as 64x64 images.
 *
 * The "arm" is a bar of x + 1 cells (x in 0..L-1) on the upper row of the image; the first action
 * component moves it one cell right (a0 > 1/3) or left (a0 < -1/3) or not at all, clipped at the
 * ends. An unactuated "object" square at position o on the lower row is fixed per episode and drawn
 * at random, so a frame of another episode with the same arm position is unreachable: exactly the
 * arm-neighbour negatives of the paper. The true distance between (x, o) and (x', o) is |x - x'|
 * steps. arm_qpos is [x / L] (one joint). */
#ifndef TESTS_DIST_CHAIN_H
#define TESTS_DIST_CHAIN_H

#include "dist_data.h"
#include "mb_philox.h"

#include <stdlib.h>
#include <string.h>

typedef struct chain {
  dist_dataset d;  /* the view handed to the trainer */
  int L;           /* chain length */
  uint8_t *images; /* owned arrays behind d */
  float *actions;
  float *arm;
  int64_t *ids;
  int *x, *o; /* (N x (T+1)) arm position per frame, (N) object position */
} chain;

static inline void chain_render(uint8_t *img, int L, int x, int o) {
  memset(img, 0, DIST_IMAGE_BYTES);
  int cell = 64 / L;
  for (int y = 0; y < 64; y++)
    for (int c = 0; c < 64; c++) {
      uint8_t *p = img + ((size_t)y * 64 + (size_t)c) * 3;
      bool arm = y >= 10 && y < 10 + cell && c < (x + 1) * cell;
      bool obj = y >= 40 && y < 40 + cell && c >= o * cell && c < (o + 1) * cell;
      if (arm) p[0] = 230, p[1] = 200, p[2] = 40;
      if (obj) p[0] = 40, p[1] = 90, p[2] = 220;
    }
}

static inline int chain_move(float a0) {
  return a0 > 1.0f / 3 ? 1 : a0 < -1.0f / 3 ? -1 : 0;
}

/* N episodes of T steps of a uniform random policy; seed picks everything. */
static inline void chain_make(chain *ch, int N, int T, int L, uint64_t seed) {
  memset(ch, 0, sizeof *ch);
  ch->L = L;
  size_t frames = (size_t)N * (T + 1);
  ch->images = malloc(frames * DIST_IMAGE_BYTES);
  ch->actions = malloc((size_t)N * T * 4 * sizeof(float));
  ch->arm = malloc(frames * sizeof(float));
  ch->ids = malloc((size_t)N * sizeof(int64_t));
  ch->x = malloc(frames * sizeof(int));
  ch->o = malloc((size_t)N * sizeof(int));
  mb_rng r = mb_rng_make(seed, 7);
  for (int e = 0; e < N; e++) {
    ch->ids[e] = e;
    ch->o[e] = (int)mb_rng_below(&r, (uint32_t)L);
    int x = (int)mb_rng_below(&r, (uint32_t)L);
    for (int t = 0; t <= T; t++) {
      size_t f = (size_t)e * (T + 1) + t;
      ch->x[f] = x;
      ch->arm[f] = (float)x / (float)L;
      chain_render(ch->images + f * DIST_IMAGE_BYTES, L, x, ch->o[e]);
      if (t == T) break;
      float *a = ch->actions + ((size_t)e * T + t) * 4;
      for (int k = 0; k < 4; k++) a[k] = 2 * mb_rng_uniform(&r) - 1;
      x += chain_move(a[0]);
      x = x < 0 ? 0 : x >= L ? L - 1 : x;
    }
  }
  ch->d = (dist_dataset){.episodes = N,
                         .steps = T,
                         .arm_dim = 1,
                         .images = ch->images,
                         .actions = ch->actions,
                         .arm_qpos = ch->arm,
                         .ids = ch->ids};
}

static inline void chain_free(chain *ch) {
  free(ch->images), free(ch->actions), free(ch->arm), free(ch->ids), free(ch->x), free(ch->o);
  memset(ch, 0, sizeof *ch);
}

#endif
