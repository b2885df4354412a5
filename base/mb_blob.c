/* Coloured objects in RGB images by chromaticity (see mb_blob.h). */
#include "mb_blob.h"

#include <math.h>
#include <stddef.h>

mb_blob mb_blob_find(const uint8_t *image, int w, int h, const float rgb[3]) {
  double s = (double)rgb[0] + rgb[1] + rgb[2];
  double cr = s > 0 ? rgb[0] / s : 1.0 / 3, cg = s > 0 ? rgb[1] / s : 1.0 / 3;
  double mass = 0, sx = 0, sy = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      const uint8_t *p = image + ((size_t)y * w + x) * 3;
      int sum = p[0] + p[1] + p[2];
      if (sum < MB_BLOB_MIN_SUM) continue;
      double d = hypot(p[0] / (double)sum - cr, p[1] / (double)sum - cg);
      double wt = 1.0 - d / MB_BLOB_RADIUS;
      if (wt <= 0) continue;
      mass += wt, sx += wt * (x + 0.5), sy += wt * (y + 0.5);
    }
  mb_blob b = {mass, 0, 0};
  if (mass > 0) b.x = sx / mass, b.y = sy / mass;
  return b;
}
