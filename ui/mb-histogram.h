/* MbHistogram: histograms of several series of values (e.g. the costs of all CEM samples, one
 * series per iteration) overlaid on shared bins in distinct colours, with a legend and axes.
 *
 * Properties:
 *   "title", "x-label", "y-label" (string): texts (y-label defaults to "count").
 *   "bins" (int): number of bins; 0 (the default) picks one from the sample count (10 to 40).
 */
#ifndef MB_HISTOGRAM_H
#define MB_HISTOGRAM_H

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MB_TYPE_HISTOGRAM (mb_histogram_get_type())
G_DECLARE_FINAL_TYPE(MbHistogram, mb_histogram, MB, HISTOGRAM, GtkWidget)

GtkWidget *mb_histogram_new(void);

void mb_histogram_clear(MbHistogram *self);

/* Adds a series (name may be NULL: "Series N") with a copy of n values; non-finite values are
 * skipped. Returns its index. */
int mb_histogram_add_series(MbHistogram *self, const char *name, const float *values, int n);

int mb_histogram_get_n_series(MbHistogram *self);

void mb_histogram_set_bins(MbHistogram *self, int bins);

/* The bins in use: their count and edges (bins + 1 values, written to edges when not NULL and
 * edges_cap >= bins + 1). Returns 0 when there are no finite values. */
int mb_histogram_get_bins(MbHistogram *self, double *edges, int edges_cap);

/* Count of series's values in bin (the last bin includes its upper edge); -1 when out of range. */
int mb_histogram_get_count(MbHistogram *self, int series, int bin);

void mb_histogram_set_title(MbHistogram *self, const char *title);
void mb_histogram_set_axis_labels(MbHistogram *self, const char *x_label, const char *y_label);

/* Draws the histogram on white at width x height (0: the widget's size, or 560 x 360) and writes
 * a PNG, atomically. */
gboolean mb_histogram_export_png(MbHistogram *self, const char *path, int width, int height,
                                 GError **error);

G_END_DECLS

#endif
