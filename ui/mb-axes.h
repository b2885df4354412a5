/* Cartesian axes shared by MbPlot and MbHistogram: layout (title, legend, tick labels, axis
 * titles around a plotting area), data-to-pixel mapping, and drawing of frame, grid, ticks and
 * legend. Internal to the library. */
#ifndef MB_AXES_H
#define MB_AXES_H

#include <gtk/gtk.h>

#include "mb-draw.h"
#include "mb-ticks.h"

typedef enum {
  MB_LEGEND_LINE, /* a line sample (dashed when dashed) */
  MB_LEGEND_BOX,  /* a filled box (histogram bars) */
} MbLegendKind;

typedef struct {
  const char *name;  /* label; NULL entries are skipped */
  GdkRGBA color;     /* sample colour */
  MbLegendKind kind; /* sample shape */
  gboolean dashed;   /* dashed line sample */
  gboolean band;     /* draw a shaded band behind the line sample */
} MbLegendEntry;

typedef struct {
  double x_lo, x_hi;           /* x data range, x_hi > x_lo */
  double y_lo, y_hi;           /* y data range, y_hi > y_lo (both > 0 when log_y) */
  gboolean log_y;              /* logarithmic y */
  gboolean y_integer;          /* y ticks only on whole numbers (counts) */
  const char *title;           /* may be NULL or empty */
  const char *x_label;         /* may be NULL or empty */
  const char *y_label;         /* may be NULL or empty */
  const MbLegendEntry *legend; /* legend entries (n_legend) */
  int n_legend;                /* number of legend entries */
} MbAxesSpec;

typedef struct {
  MbAxesSpec spec;      /* copy of the spec (strings not owned) */
  double width, height; /* the whole drawing, pixels */
  graphene_rect_t plot; /* plotting area, pixels */
  MbTicks xt, yt;       /* ticks */
  double title_y;       /* centre line of the title */
  double legend_y;      /* top of the legend block */
  double legend_row_h;  /* height of one legend row */
  double x_label_y;     /* centre line of the x title */
  double y_label_x;     /* centre line of the y title (rotated) */
  gboolean ok;          /* the plotting area is large enough to draw */
} MbAxes;

void mb_axes_layout(MbAxes *ax, const MbAxesSpec *spec, MbDrawStyle *st, double width,
                    double height);

double mb_axes_x_to_px(const MbAxes *ax, double x);
/* NAN for y <= 0 on a log axis. */
double mb_axes_y_to_px(const MbAxes *ax, double y);
double mb_axes_px_to_x(const MbAxes *ax, double px);

/* Grid lines, frame, ticks with labels, axis titles, title and legend. */
void mb_axes_draw(const MbAxes *ax, MbDrawStyle *st);

/* "No data yet" in the middle of the plotting area. */
void mb_axes_draw_message(const MbAxes *ax, MbDrawStyle *st, const char *text);

/* Rounds a data range to the axis: nice multiples for linear axes, decades for log axes. Widens a
 * degenerate range. For log axes, lo/hi must be the smallest/largest positive values. */
void mb_axes_nice_range(double *lo, double *hi, gboolean log_axis);

#endif
