/* Finding a coloured object in a rendered RGB image by its chromaticity: how the video model's
 * evaluation tells where a pushed block is in a true and in a predicted frame.
 *
 * The scenes are lit by white lights, so shading scales a surface's r, g, b alike and its
 * chromaticity (r, g) / (r + g + b) stays that of its material colour (a block in light and in
 * shade both read (0.76, 0.13)). A pixel's weight in the object is 1 - d / MB_BLOB_RADIUS (clamped
 * to [0, 1]), d the distance between its chromaticity and the object's; pixels darker than
 * MB_BLOB_MIN_SUM (r + g + b, of 765) weigh 0, their chromaticity being mostly rounding. The radius
 * is tight: a red block's pixel blended half with the table (as a faded prediction draws it) lies
 * 0.24 away and weighs nothing, three quarters block and one table weighs 0.3, so the mass counts
 * the object where it is drawn sharp, not its ghost. The agent images have no antialiasing: a
 * true frame's object pixels weigh about 1 each. */
#ifndef MB_BLOB_H
#define MB_BLOB_H

#include <stdint.h>

#define MB_BLOB_RADIUS  0.2
#define MB_BLOB_MIN_SUM 45

typedef struct mb_blob {
  double mass; /* sum of the pixel weights (a fully visible 4 x 4 block: about 16) */
  double x, y; /* weighted centroid in pixels (pixel centres at i + 0.5); 0 when mass is 0 */
} mb_blob;

/* The object of material colour rgb (components in [0, 1], not all 0) in a w x h x 3 image. */
mb_blob mb_blob_find(const uint8_t *image, int w, int h, const float rgb[3]);

#endif
