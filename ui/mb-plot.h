/* MbPlot: a line plot of named series (x, y) with an optional shaded band per series (y +- std,
 * e.g. the mean and std of an action dimension over the horizon), axes with ticks and labels, a
 * legend, an optional logarithmic y axis and an optional vertical cursor the user drags (the
 * episode timeline's scrubber). Used for training loss curves, the episode timeline and the action
 * statistics. Long series are drawn decimated (min/max per pixel column).
 *
 * Properties:
 *   "title", "x-label", "y-label" (string): texts.
 *   "log-y" (boolean): logarithmic y axis; values <= 0 are not drawn.
 *   "cursor-visible" (boolean): shows the cursor and lets the user drag it.
 *   "cursor-x" (double): the cursor's position in data units.
 *   "cursor-step" (double): when > 0 the cursor snaps to multiples of it (1 for step indices).
 *
 * Signals:
 *   "cursor-moved" (double x): the user moved the cursor to x (after snapping and clamping to the
 *       x range). Setting "cursor-x" from code does not emit it.
 */
#ifndef MB_PLOT_H
#define MB_PLOT_H

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MB_TYPE_PLOT (mb_plot_get_type())
G_DECLARE_FINAL_TYPE(MbPlot, mb_plot, MB, PLOT, GtkWidget)

GtkWidget *mb_plot_new(void);

/* Removes every series. */
void mb_plot_clear(MbPlot *self);

/* Adds a series named name (may be NULL: not in the legend) with copies of n points; x may be NULL
 * for x = 0, 1, ..., n - 1. Its colour is the next one of the categorical palette. Returns its
 * index. */
int mb_plot_add_series(MbPlot *self, const char *name, const float *x, const float *y, int n);

/* Appends one point to a series (live curves); FALSE for a bad index. */
gboolean mb_plot_append_point(MbPlot *self, int series, double x, double y);

/* Gives a series a band y +- std[k] (n values, as many as its points; copied); NULL removes it. */
gboolean mb_plot_set_series_std(MbPlot *self, int series, const float *std, int n);

gboolean mb_plot_set_series_color(MbPlot *self, int series, const GdkRGBA *color);

/* Draws a series dashed (e.g. a prediction next to the truth). */
gboolean mb_plot_set_series_dashed(MbPlot *self, int series, gboolean dashed);

int mb_plot_get_n_series(MbPlot *self);
int mb_plot_get_n_points(MbPlot *self, int series);

/* Fixes an axis range; NaN for either end (the default) fits the data. */
void mb_plot_set_x_range(MbPlot *self, double lo, double hi);
void mb_plot_set_y_range(MbPlot *self, double lo, double hi);

void mb_plot_set_title(MbPlot *self, const char *title);
void mb_plot_set_axis_labels(MbPlot *self, const char *x_label, const char *y_label);
void mb_plot_set_log_y(MbPlot *self, gboolean log_y);

void mb_plot_set_cursor_visible(MbPlot *self, gboolean visible);
/* Moves the cursor without emitting "cursor-moved". */
void mb_plot_set_cursor_x(MbPlot *self, double x);
double mb_plot_get_cursor_x(MbPlot *self);

/* The plotting area (inside the axes) in the plot's coordinates; FALSE before it has a size or
 * data. */
gboolean mb_plot_get_plot_rect(MbPlot *self, graphene_rect_t *rect);

/* Maps a data point to the plot's coordinates, and back for x; FALSE when there is no plotting
 * area yet (or y <= 0 on a log axis). */
gboolean mb_plot_data_to_widget(MbPlot *self, double x, double y, double *wx, double *wy);
gboolean mb_plot_widget_to_data_x(MbPlot *self, double wx, double *x);

/* Draws the plot on white at width x height (0: the widget's size, or 640 x 360) and writes a PNG,
 * atomically. */
gboolean mb_plot_export_png(MbPlot *self, const char *path, int width, int height, GError **error);

G_END_DECLS

#endif
