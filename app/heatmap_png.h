/* The heatmap figure (paper Fig. 6) with Cairo and Pango, no GTK: the goal image on the left,
 * shown large with nearest-neighbour scaling, then one panel per distance side by side: the map
 * in viridis (low = dark), axes in metres, the goal position marked, the fixed hand and the
 * minimum cell marked, and a colour bar with the distance's units. Blocked cells (the target would
 * touch another block) are grey. */
#ifndef APP_HEATMAP_PNG_H
#define APP_HEATMAP_PNG_H

#include "heatmap.h"

#include <cairo.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct app_heatmap_png_options {
  const char *title;    /* bold line at the top (may be NULL: a default title) */
  const char *subtitle; /* second line, e.g. task, goal and grid (may be NULL: none) */
  int map_px;           /* approximate side of each map in pixels (0: 300); rounded down to a
                           multiple of N so that every cell is the same size */
  double scale;         /* device scale of the PNG (0: 1; 2 for high-DPI screens and print) */
} app_heatmap_png_options;

/* Where the map of distance d lies in the figure, in figure units (pixels / scale); side = N *
 * cell size. False for an out-of-range d. */
bool app_heatmap_png_map_rect(const app_heatmap_result *r, const app_heatmap_png_options *opt,
                              int d, double *x, double *y, double *side);

/* Draws the figure into a new ARGB32 image surface (caller destroys it). NULL + err when the
 * result is empty or Cairo fails. */
cairo_surface_t *app_heatmap_png_draw(const app_heatmap_result *r,
                                      const app_heatmap_png_options *opt, char *err, size_t err_sz);

/* Draws the figure and writes it as PNG to path atomically. */
bool app_heatmap_png_write(const app_heatmap_result *r, const app_heatmap_png_options *opt,
                           const char *path, char *err, size_t err_sz);

#endif
