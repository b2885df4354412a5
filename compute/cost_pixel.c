#include "cost_pixel.h"

float cost_pixel_mse(const uint8_t *a, const uint8_t *b, int bytes) {
  int64_t s = 0;
  for (int i = 0; i < bytes; i++) {
    int d = (int)a[i] - (int)b[i];
    s += d * d;
  }
  return (float)((double)s / ((double)bytes * 255.0 * 255.0));
}

static bool pixel_score(void *user, const uint8_t *frames, int n, float *costs, char *err,
                        size_t err_sz) {
  const uint8_t *goal = user;
  (void)err, (void)err_sz;
  for (int i = 0; i < n; i++)
    costs[i] = cost_pixel_mse(frames + (size_t)i * CEM_FRAME_BYTES, goal, CEM_FRAME_BYTES);
  return true;
}

cem_cost cost_pixel_make(const uint8_t *goal) {
  cem_cost c = {pixel_score, (void *)goal};
  return c;
}
