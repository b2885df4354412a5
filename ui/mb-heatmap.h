/* MbHeatmap: an N x N grid of values over an (x, y) rectangle in metres, e.g. the Q-distance
 * to the goal over the target block's position. NaN cells are "not computed yet" and drawn empty,
 * so the map can fill in progressively. Colours: viridis over the value range, with a colour bar,
 * a units label, a title, axes with the ranges in metres and an optional marker (the goal).
 * Hovering shows (x, y) and the value in a tooltip; clicking a cell emits "cell-clicked".
 *
 * Cells: (i, j) with i the column along x (left to right) and j the row along y (bottom to top,
 * y up as in the world); cell (i, j) covers x in [x0 + i dx, x0 + (i + 1) dx] with dx = (x1 - x0) /
 * N, likewise y. Grids are passed row-major by j: values[j * N + i].
 *
 * Properties:
 *   "title" (string): drawn above the map.
 *   "units" (string): the values' units, drawn along the colour bar ("steps", "pixel l2").
 *   "x-label", "y-label" (string): axis titles (default "x (m)", "y (m)").
 *   "size" (int, read-only): N.
 *
 * Signals:
 *   "cell-clicked" (int i, int j): the user clicked cell (i, j).
 */
#ifndef MB_HEATMAP_H
#define MB_HEATMAP_H

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MB_TYPE_HEATMAP (mb_heatmap_get_type())
G_DECLARE_FINAL_TYPE(MbHeatmap, mb_heatmap, MB, HEATMAP, GtkWidget)

/* Largest N accepted. */
#define MB_HEATMAP_MAX_SIZE 1024

GtkWidget *mb_heatmap_new(void);

/* Makes the grid n x n (1..MB_HEATMAP_MAX_SIZE) with every cell NaN (not computed). */
gboolean mb_heatmap_set_size(MbHeatmap *self, int n);
int mb_heatmap_get_size(MbHeatmap *self);

/* Copies a whole n x n grid (values[j * n + i]; NaN = not computed); the size becomes n. */
gboolean mb_heatmap_set_grid(MbHeatmap *self, const float *values, int n);

/* Sets one cell (NaN clears it). Out-of-range indices are ignored (FALSE). */
gboolean mb_heatmap_set_cell(MbHeatmap *self, int i, int j, float value);

/* Value of a cell (NaN when not computed or out of range). */
float mb_heatmap_get_cell(MbHeatmap *self, int i, int j);

/* Sets every cell to NaN, keeping the size. */
void mb_heatmap_clear(MbHeatmap *self);

/* The rectangle the grid covers, metres (x0 < x1, y0 < y1; default [-1, 1]^2). */
void mb_heatmap_set_extent(MbHeatmap *self, double x0, double x1, double y0, double y1);

/* Fixes the colour scale to [lo, hi]; NaN for either (the default) uses the finite values'
 * minimum / maximum, updated as cells arrive. */
void mb_heatmap_set_value_range(MbHeatmap *self, double lo, double hi);

/* The colour scale in use now (after auto ranging). FALSE when no finite value exists and no
 * range is fixed. */
gboolean mb_heatmap_get_value_range(MbHeatmap *self, double *lo, double *hi);

/* Shows a ring-and-cross marker at (x, y) metres, e.g. the goal position. */
void mb_heatmap_set_marker(MbHeatmap *self, double x, double y);
void mb_heatmap_clear_marker(MbHeatmap *self);

void mb_heatmap_set_title(MbHeatmap *self, const char *title);
void mb_heatmap_set_units(MbHeatmap *self, const char *units);
void mb_heatmap_set_axis_labels(MbHeatmap *self, const char *x_label, const char *y_label);

/* Where cell (i, j) is drawn, in the heatmap's coordinates. FALSE when out of range or before the
 * widget has a size. */
gboolean mb_heatmap_get_cell_rect(MbHeatmap *self, int i, int j, graphene_rect_t *rect);

/* The cell under the point (x, y) in the heatmap's coordinates; FALSE when outside the grid. */
gboolean mb_heatmap_cell_at(MbHeatmap *self, double x, double y, int *i, int *j);

/* The cell the pointer is over, as highlighted; FALSE when none. */
gboolean mb_heatmap_get_hover_cell(MbHeatmap *self, int *i, int *j);

/* The tooltip text for cell (i, j): its centre in metres and its value with units. Newly
 * allocated (g_free); NULL when out of range. */
char *mb_heatmap_describe_cell(MbHeatmap *self, int i, int j);

/* Draws the heatmap (title, grid, axes, colour bar, marker) on white at width x height pixels
 * (0 for either: the widget's current size, or 560 x 480 before it has one) and writes a PNG,
 * atomically. */
gboolean mb_heatmap_export_png(MbHeatmap *self, const char *path, int width, int height,
                               GError **error);

/* Writes the grid as CSV, atomically: a header "i,j,x,y,value" (x, y = cell centre in metres) and
 * one line per cell, the value empty where not computed. */
gboolean mb_heatmap_export_csv(MbHeatmap *self, const char *path, GError **error);

G_END_DECLS

#endif
