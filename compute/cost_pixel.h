/* The Visual Foresight cost: l2 distance in pixel space between a predicted frame and the goal
 * image (mean squared difference over the 64 x 64 x 3 bytes, in [0, 1] units). */
#ifndef COST_PIXEL_H
#define COST_PIXEL_H

#include "cem.h"

#include <stdint.h>

/* Mean over pixels and channels of ((a - b) / 255)^2. */
float cost_pixel_mse(const uint8_t *a, const uint8_t *b, int bytes);

/* A cem_cost scoring frames against `goal` (64 x 64 x 3, borrowed: must outlive the cost). */
cem_cost cost_pixel_make(const uint8_t *goal);

#endif
