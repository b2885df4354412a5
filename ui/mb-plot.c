/* MbPlot; see mb-plot.h. */
#include "mb-plot.h"

#include <math.h>

#include "mb-axes.h"
#include "mb-colormap.h"
#include "mb-draw.h"
#include "mb-ui.h"

typedef struct {
  char *name;      /* legend text, owned; NULL = not in the legend */
  GArray *x, *y;   /* float points (n each) */
  GArray *std;     /* float band half-widths (n), NULL without a band */
  GdkRGBA color;   /* line colour */
  gboolean dashed; /* dashed line */
  gboolean sorted; /* x is non-decreasing (decimation needs it) */
} Series;

struct _MbPlot {
  GtkWidget parent_instance;

  GtkWidget *area; /* template: GtkDrawingArea */

  GPtrArray *series;                 /* Series * */
  int n_colors_used;                 /* palette position of the next series */
  double fx_lo, fx_hi, fy_lo, fy_hi; /* fixed ranges, NaN = fit */
  char *title, *x_label, *y_label;   /* texts, owned, never NULL */
  gboolean log_y;                    /* logarithmic y axis */
  gboolean cursor_visible;           /* cursor drawn and draggable */
  double cursor_x;                   /* cursor position, data units */
  double cursor_step;                /* snap step, 0 = none */
  gboolean dragging;                 /* the user is dragging the cursor */
  double drag_start_px;              /* pointer x at drag start, area coordinates */
};

G_DEFINE_FINAL_TYPE(MbPlot, mb_plot, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_TITLE,
  PROP_X_LABEL,
  PROP_Y_LABEL,
  PROP_LOG_Y,
  PROP_CURSOR_VISIBLE,
  PROP_CURSOR_X,
  PROP_CURSOR_STEP,
  N_PROPS
};
static GParamSpec *props[N_PROPS];

enum { SIGNAL_CURSOR_MOVED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void series_free(gpointer data) {
  Series *s = data;
  g_free(s->name);
  g_array_unref(s->x);
  g_array_unref(s->y);
  if (s->std) g_array_unref(s->std);
  g_free(s);
}

static Series *get_series(MbPlot *self, int i) {
  return i >= 0 && (guint)i < self->series->len ? g_ptr_array_index(self->series, i) : NULL;
}

#define XS(s, k) g_array_index((s)->x, float, k)
#define YS(s, k) g_array_index((s)->y, float, k)
#define SD(s, k) ((s)->std && (guint)(k) < (s)->std->len ? g_array_index((s)->std, float, k) : 0.0f)

/* ---- ranges and layout ---- */

static gboolean data_ranges(MbPlot *self, MbAxesSpec *spec) {
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  for (guint s = 0; s < self->series->len; s++) {
    Series *se = g_ptr_array_index(self->series, s);
    for (guint k = 0; k < se->x->len; k++) {
      double x = XS(se, k), y = YS(se, k), d = fabs(SD(se, k));
      if (!isfinite(x) || !isfinite(y)) continue;
      xlo = MIN(xlo, x), xhi = MAX(xhi, x);
      double a = y - d, b = y + d;
      if (self->log_y) {
        if (a <= 0) a = y; /* a band reaching below zero is cut on a log axis */
        if (!(a > 0)) continue;
      }
      ylo = MIN(ylo, a), yhi = MAX(yhi, b);
    }
  }
  gboolean have = isfinite(xlo) && isfinite(ylo);
  if (!have) xlo = 0, xhi = 1, ylo = self->log_y ? 1 : 0, yhi = self->log_y ? 10 : 1;
  if (!(xhi > xlo)) xlo -= 0.5, xhi += 0.5;
  mb_axes_nice_range(&ylo, &yhi, self->log_y);
  if (!isnan(self->fx_lo)) xlo = self->fx_lo;
  if (!isnan(self->fx_hi)) xhi = self->fx_hi;
  if (!isnan(self->fy_lo) && (!self->log_y || self->fy_lo > 0)) ylo = self->fy_lo;
  if (!isnan(self->fy_hi)) yhi = self->fy_hi;
  if (!(xhi > xlo)) xhi = xlo + 1;
  if (!(yhi > ylo)) yhi = self->log_y ? ylo * 10 : ylo + 1;
  spec->x_lo = xlo, spec->x_hi = xhi, spec->y_lo = ylo, spec->y_hi = yhi;
  spec->log_y = self->log_y;
  return have;
}

static gboolean layout(MbPlot *self, MbDrawStyle *st, int w, int h, MbAxes *ax,
                       MbLegendEntry *legend) {
  MbAxesSpec spec = {.title = self->title, .x_label = self->x_label, .y_label = self->y_label};
  gboolean have = data_ranges(self, &spec);
  for (guint s = 0; s < self->series->len; s++) {
    Series *se = g_ptr_array_index(self->series, s);
    legend[s] = (MbLegendEntry){.name = se->name,
                                .color = se->color,
                                .kind = MB_LEGEND_LINE,
                                .dashed = se->dashed,
                                .band = se->std != NULL};
  }
  spec.legend = legend;
  spec.n_legend = (int)self->series->len;
  mb_axes_layout(ax, &spec, st, w, h);
  return have;
}

/* Layout at the widget's current size, for geometry queries and input. */
static gboolean widget_axes(MbPlot *self, MbAxes *ax) {
  int w = gtk_widget_get_width(self->area), h = gtk_widget_get_height(self->area);
  if (w <= 0 || h <= 0) return FALSE;
  g_autofree MbLegendEntry *legend = g_new(MbLegendEntry, self->series->len + 1);
  MbDrawStyle st;
  mb_draw_style_init_measure(&st, self->area);
  layout(self, &st, w, h, ax, legend);
  mb_draw_style_clear(&st);
  return ax->ok;
}

/* ---- drawing ---- */

static void draw_band(cairo_t *cr, const MbAxes *ax, Series *se) {
  guint n = se->x->len;
  GdkRGBA c = se->color;
  c.alpha = 0.18f;
  mb_cairo_set_rgba(cr, &c);
  /* One polygon per run of finite points: upper edge forwards, lower edge backwards. */
  guint start = 0;
  while (start < n) {
    while (start < n && !(isfinite(XS(se, start)) && isfinite(YS(se, start)))) start++;
    guint end = start;
    while (end < n && isfinite(XS(se, end)) && isfinite(YS(se, end))) end++;
    if (end - start >= 2) {
      cairo_new_path(cr);
      for (guint k = start; k < end; k++) {
        double y = YS(se, k) + fabs(SD(se, k));
        cairo_line_to(cr, mb_axes_x_to_px(ax, XS(se, k)), mb_axes_y_to_px(ax, y));
      }
      for (guint k = end; k-- > start;) {
        double y = YS(se, k) - fabs(SD(se, k));
        if (ax->spec.log_y && !(y > 0)) y = ax->spec.y_lo;
        cairo_line_to(cr, mb_axes_x_to_px(ax, XS(se, k)), mb_axes_y_to_px(ax, y));
      }
      cairo_close_path(cr);
      cairo_fill(cr);
    }
    start = end;
  }
}

static void draw_line(cairo_t *cr, const MbAxes *ax, Series *se) {
  guint n = se->x->len;
  cairo_new_path(cr);
  gboolean pen = FALSE;
  /* Many more points than pixel columns: draw each column's min..max as one vertical stroke, which
   * shows the same ink and keeps long training curves fast. */
  gboolean decimate = se->sorted && n > 4 * (guint)ax->plot.size.width;
  int col = INT_MIN;
  double ymin = 0, ymax = 0;
  for (guint k = 0; k < n; k++) {
    double px = mb_axes_x_to_px(ax, XS(se, k)), py = mb_axes_y_to_px(ax, YS(se, k));
    if (!isfinite(px) || !isfinite(py)) {
      pen = FALSE;
      continue;
    }
    if (decimate) {
      int c = (int)floor(px);
      if (c == col && pen) {
        ymin = MIN(ymin, py), ymax = MAX(ymax, py);
        continue;
      }
      if (pen) {
        cairo_line_to(cr, col + 0.5, ymin);
        cairo_line_to(cr, col + 0.5, ymax);
      }
      col = c, ymin = ymax = py;
    }
    if (pen)
      cairo_line_to(cr, px, py);
    else
      cairo_move_to(cr, px, py);
    pen = TRUE;
  }
  if (decimate && pen) {
    cairo_line_to(cr, col + 0.5, ymin);
    cairo_line_to(cr, col + 0.5, ymax);
  }
  mb_cairo_set_rgba(cr, &se->color);
  cairo_set_line_width(cr, 2);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  if (se->dashed) cairo_set_dash(cr, (double[]){6, 4}, 2, 0);
  cairo_stroke(cr);
  cairo_set_dash(cr, NULL, 0, 0);
  if (n == 1 && isfinite(XS(se, 0)) && isfinite(mb_axes_y_to_px(ax, YS(se, 0)))) {
    cairo_arc(cr, mb_axes_x_to_px(ax, XS(se, 0)), mb_axes_y_to_px(ax, YS(se, 0)), 3, 0, 2 * M_PI);
    cairo_fill(cr);
  }
}

static void draw_all(MbPlot *self, MbDrawStyle *st, int w, int h) {
  cairo_t *cr = st->cr;
  if (st->bg.alpha > 0) {
    mb_cairo_set_rgba(cr, &st->bg);
    cairo_paint(cr);
  }
  g_autofree MbLegendEntry *legend = g_new(MbLegendEntry, self->series->len + 1);
  MbAxes ax;
  gboolean have = layout(self, st, w, h, &ax, legend);
  if (!ax.ok) return;
  mb_axes_draw(&ax, st);
  if (!have) {
    mb_axes_draw_message(&ax, st, "No data yet");
    return;
  }
  cairo_save(cr);
  cairo_rectangle(cr, ax.plot.origin.x, ax.plot.origin.y, ax.plot.size.width, ax.plot.size.height);
  cairo_clip(cr);
  for (guint s = 0; s < self->series->len; s++) {
    Series *se = g_ptr_array_index(self->series, s);
    if (se->std) draw_band(cr, &ax, se);
  }
  for (guint s = 0; s < self->series->len; s++)
    draw_line(cr, &ax, g_ptr_array_index(self->series, s));
  cairo_restore(cr);

  if (self->cursor_visible && self->cursor_x >= ax.spec.x_lo && self->cursor_x <= ax.spec.x_hi) {
    double x = round(mb_axes_x_to_px(&ax, self->cursor_x)) + 0.5;
    double y0 = ax.plot.origin.y, y1 = y0 + ax.plot.size.height;
    mb_cairo_set_rgba(cr, &st->accent);
    cairo_set_line_width(cr, 2);
    cairo_move_to(cr, x, y0);
    cairo_line_to(cr, x, y1);
    cairo_stroke(cr);
    /* A handle at the top says "drag me". */
    cairo_move_to(cr, x - 6, y0);
    cairo_line_to(cr, x + 6, y0);
    cairo_line_to(cr, x, y0 + 8);
    cairo_close_path(cr);
    cairo_fill(cr);
  }
}

static void draw(GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer data) {
  MbDrawStyle st;
  mb_draw_style_init_widget(&st, GTK_WIDGET(area), cr);
  draw_all(data, &st, w, h);
  mb_draw_style_clear(&st);
}

/* ---- cursor input ---- */

static double snap_clamp(MbPlot *self, const MbAxes *ax, double x) {
  if (self->cursor_step > 0) x = round(x / self->cursor_step) * self->cursor_step;
  double lo = ax->spec.x_lo, hi = ax->spec.x_hi;
  if (self->cursor_step > 0) {
    /* Keep a snapped cursor on a step inside the range. */
    lo = ceil(lo / self->cursor_step - 1e-9) * self->cursor_step;
    hi = floor(hi / self->cursor_step + 1e-9) * self->cursor_step;
  }
  return CLAMP(x, lo, hi);
}

static void move_cursor_to_px(MbPlot *self, double px) {
  MbAxes ax;
  if (!widget_axes(self, &ax)) return;
  double x = snap_clamp(self, &ax, mb_axes_px_to_x(&ax, px));
  if (x == self->cursor_x) return;
  self->cursor_x = x;
  gtk_widget_queue_draw(self->area);
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_CURSOR_X]);
  g_signal_emit(self, signals[SIGNAL_CURSOR_MOVED], 0, x);
}

static void on_drag_begin(GtkGestureDrag *g, double x, double y, MbPlot *self) {
  MbAxes ax;
  if (!self->cursor_visible || !widget_axes(self, &ax) ||
      !graphene_rect_contains_point(&ax.plot, &GRAPHENE_POINT_INIT(x, y))) {
    gtk_gesture_set_state(GTK_GESTURE(g), GTK_EVENT_SEQUENCE_DENIED);
    return;
  }
  gtk_gesture_set_state(GTK_GESTURE(g), GTK_EVENT_SEQUENCE_CLAIMED);
  self->dragging = TRUE;
  self->drag_start_px = x;
  move_cursor_to_px(self, x);
}

static void on_drag_update(GtkGestureDrag *g, double dx, double dy, MbPlot *self) {
  (void)g, (void)dy;
  if (self->dragging) move_cursor_to_px(self, self->drag_start_px + dx);
}

static void on_drag_end(GtkGestureDrag *g, double dx, double dy, MbPlot *self) {
  (void)g, (void)dx, (void)dy;
  self->dragging = FALSE;
}

/* ---- public ---- */

void mb_plot_clear(MbPlot *self) {
  g_return_if_fail(MB_IS_PLOT(self));
  g_ptr_array_set_size(self->series, 0);
  self->n_colors_used = 0;
  gtk_widget_queue_draw(self->area);
}

int mb_plot_add_series(MbPlot *self, const char *name, const float *x, const float *y, int n) {
  g_return_val_if_fail(MB_IS_PLOT(self), -1);
  n = MAX(0, n);
  if (!y) n = 0;
  Series *se = g_new0(Series, 1);
  se->name = g_strdup(name);
  se->x = g_array_sized_new(FALSE, FALSE, sizeof(float), n);
  se->y = g_array_sized_new(FALSE, FALSE, sizeof(float), n);
  se->sorted = TRUE;
  for (int k = 0; k < n; k++) {
    float xv = x ? x[k] : (float)k;
    if (k > 0 && xv < g_array_index(se->x, float, k - 1)) se->sorted = FALSE;
    g_array_append_val(se->x, xv);
  }
  if (n) g_array_append_vals(se->y, y, n);
  float c[3];
  mb_palette_color(self->n_colors_used++, c);
  se->color = (GdkRGBA){c[0], c[1], c[2], 1};
  g_ptr_array_add(self->series, se);
  gtk_widget_queue_draw(self->area);
  return (int)self->series->len - 1;
}

gboolean mb_plot_append_point(MbPlot *self, int series, double x, double y) {
  g_return_val_if_fail(MB_IS_PLOT(self), FALSE);
  Series *se = get_series(self, series);
  if (!se) return FALSE;
  float xf = (float)x, yf = (float)y;
  if (se->x->len && xf < g_array_index(se->x, float, se->x->len - 1)) se->sorted = FALSE;
  g_array_append_val(se->x, xf);
  g_array_append_val(se->y, yf);
  gtk_widget_queue_draw(self->area);
  return TRUE;
}

gboolean mb_plot_set_series_std(MbPlot *self, int series, const float *std, int n) {
  g_return_val_if_fail(MB_IS_PLOT(self), FALSE);
  Series *se = get_series(self, series);
  if (!se) return FALSE;
  g_clear_pointer(&se->std, g_array_unref);
  if (std && n > 0) {
    se->std = g_array_sized_new(FALSE, FALSE, sizeof(float), n);
    g_array_append_vals(se->std, std, n);
  }
  gtk_widget_queue_draw(self->area);
  return TRUE;
}

gboolean mb_plot_set_series_color(MbPlot *self, int series, const GdkRGBA *color) {
  g_return_val_if_fail(MB_IS_PLOT(self) && color, FALSE);
  Series *se = get_series(self, series);
  if (!se) return FALSE;
  se->color = *color;
  gtk_widget_queue_draw(self->area);
  return TRUE;
}

gboolean mb_plot_set_series_dashed(MbPlot *self, int series, gboolean dashed) {
  g_return_val_if_fail(MB_IS_PLOT(self), FALSE);
  Series *se = get_series(self, series);
  if (!se) return FALSE;
  se->dashed = dashed;
  gtk_widget_queue_draw(self->area);
  return TRUE;
}

int mb_plot_get_n_series(MbPlot *self) {
  g_return_val_if_fail(MB_IS_PLOT(self), 0);
  return (int)self->series->len;
}

int mb_plot_get_n_points(MbPlot *self, int series) {
  g_return_val_if_fail(MB_IS_PLOT(self), 0);
  Series *se = get_series(self, series);
  return se ? (int)se->x->len : 0;
}

void mb_plot_set_x_range(MbPlot *self, double lo, double hi) {
  g_return_if_fail(MB_IS_PLOT(self));
  self->fx_lo = lo, self->fx_hi = hi;
  gtk_widget_queue_draw(self->area);
}

void mb_plot_set_y_range(MbPlot *self, double lo, double hi) {
  g_return_if_fail(MB_IS_PLOT(self));
  self->fy_lo = lo, self->fy_hi = hi;
  gtk_widget_queue_draw(self->area);
}

static void set_text(MbPlot *self, char **field, const char *text, int prop) {
  if (!g_strcmp0(*field, text ? text : "")) return;
  g_free(*field);
  *field = g_strdup(text ? text : "");
  gtk_widget_queue_draw(self->area);
  g_object_notify_by_pspec(G_OBJECT(self), props[prop]);
}

void mb_plot_set_title(MbPlot *self, const char *title) {
  g_return_if_fail(MB_IS_PLOT(self));
  set_text(self, &self->title, title, PROP_TITLE);
}

void mb_plot_set_axis_labels(MbPlot *self, const char *x_label, const char *y_label) {
  g_return_if_fail(MB_IS_PLOT(self));
  set_text(self, &self->x_label, x_label, PROP_X_LABEL);
  set_text(self, &self->y_label, y_label, PROP_Y_LABEL);
}

void mb_plot_set_log_y(MbPlot *self, gboolean log_y) {
  g_return_if_fail(MB_IS_PLOT(self));
  log_y = !!log_y;
  if (log_y == self->log_y) return;
  self->log_y = log_y;
  gtk_widget_queue_draw(self->area);
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_LOG_Y]);
}

void mb_plot_set_cursor_visible(MbPlot *self, gboolean visible) {
  g_return_if_fail(MB_IS_PLOT(self));
  visible = !!visible;
  if (visible == self->cursor_visible) return;
  self->cursor_visible = visible;
  gtk_widget_set_cursor_from_name(self->area, visible ? "col-resize" : NULL);
  gtk_widget_queue_draw(self->area);
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_CURSOR_VISIBLE]);
}

void mb_plot_set_cursor_x(MbPlot *self, double x) {
  g_return_if_fail(MB_IS_PLOT(self));
  if (x == self->cursor_x) return;
  self->cursor_x = x;
  gtk_widget_queue_draw(self->area);
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_CURSOR_X]);
}

double mb_plot_get_cursor_x(MbPlot *self) {
  g_return_val_if_fail(MB_IS_PLOT(self), 0);
  return self->cursor_x;
}

static gboolean area_to_self(MbPlot *self, graphene_point_t *p) {
  graphene_point_t out;
  if (!gtk_widget_compute_point(self->area, GTK_WIDGET(self), p, &out)) return FALSE;
  *p = out;
  return TRUE;
}

gboolean mb_plot_get_plot_rect(MbPlot *self, graphene_rect_t *rect) {
  g_return_val_if_fail(MB_IS_PLOT(self), FALSE);
  MbAxes ax;
  if (!widget_axes(self, &ax)) return FALSE;
  graphene_rect_t r = ax.plot;
  if (!area_to_self(self, &r.origin)) return FALSE;
  if (rect) *rect = r;
  return TRUE;
}

gboolean mb_plot_data_to_widget(MbPlot *self, double x, double y, double *wx, double *wy) {
  g_return_val_if_fail(MB_IS_PLOT(self), FALSE);
  MbAxes ax;
  if (!widget_axes(self, &ax)) return FALSE;
  graphene_point_t p = GRAPHENE_POINT_INIT(mb_axes_x_to_px(&ax, x), mb_axes_y_to_px(&ax, y));
  if (!isfinite(p.y) || !area_to_self(self, &p)) return FALSE;
  if (wx) *wx = p.x;
  if (wy) *wy = p.y;
  return TRUE;
}

gboolean mb_plot_widget_to_data_x(MbPlot *self, double wx, double *x) {
  g_return_val_if_fail(MB_IS_PLOT(self), FALSE);
  MbAxes ax;
  if (!widget_axes(self, &ax)) return FALSE;
  graphene_point_t p = GRAPHENE_POINT_INIT(wx, 0), q;
  if (!gtk_widget_compute_point(GTK_WIDGET(self), self->area, &p, &q)) return FALSE;
  if (x) *x = mb_axes_px_to_x(&ax, q.x);
  return TRUE;
}

gboolean mb_plot_export_png(MbPlot *self, const char *path, int width, int height, GError **error) {
  g_return_val_if_fail(MB_IS_PLOT(self), FALSE);
  if (width <= 0 || height <= 0) {
    width = gtk_widget_get_width(self->area), height = gtk_widget_get_height(self->area);
    if (width <= 0 || height <= 0) width = 640, height = 360;
  }
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
  cairo_t *cr = cairo_create(s);
  MbDrawStyle st;
  mb_draw_style_init_paper(&st, self->area, cr);
  draw_all(self, &st, width, height);
  mb_draw_style_clear(&st);
  cairo_destroy(cr);
  gboolean ok = mb_surface_save_png(s, path, error);
  cairo_surface_destroy(s);
  return ok;
}

/* ---- GObject ---- */

static void mb_plot_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec) {
  MbPlot *self = MB_PLOT(object);
  switch (id) {
    case PROP_TITLE:
      g_value_set_string(value, self->title);
      break;
    case PROP_X_LABEL:
      g_value_set_string(value, self->x_label);
      break;
    case PROP_Y_LABEL:
      g_value_set_string(value, self->y_label);
      break;
    case PROP_LOG_Y:
      g_value_set_boolean(value, self->log_y);
      break;
    case PROP_CURSOR_VISIBLE:
      g_value_set_boolean(value, self->cursor_visible);
      break;
    case PROP_CURSOR_X:
      g_value_set_double(value, self->cursor_x);
      break;
    case PROP_CURSOR_STEP:
      g_value_set_double(value, self->cursor_step);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void mb_plot_set_property(GObject *object, guint id, const GValue *value,
                                 GParamSpec *pspec) {
  MbPlot *self = MB_PLOT(object);
  switch (id) {
    case PROP_TITLE:
      set_text(self, &self->title, g_value_get_string(value), id);
      break;
    case PROP_X_LABEL:
      set_text(self, &self->x_label, g_value_get_string(value), id);
      break;
    case PROP_Y_LABEL:
      set_text(self, &self->y_label, g_value_get_string(value), id);
      break;
    case PROP_LOG_Y:
      mb_plot_set_log_y(self, g_value_get_boolean(value));
      break;
    case PROP_CURSOR_VISIBLE:
      mb_plot_set_cursor_visible(self, g_value_get_boolean(value));
      break;
    case PROP_CURSOR_X:
      mb_plot_set_cursor_x(self, g_value_get_double(value));
      break;
    case PROP_CURSOR_STEP:
      if (self->cursor_step != g_value_get_double(value)) {
        self->cursor_step = g_value_get_double(value);
        g_object_notify_by_pspec(object, pspec);
      }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void mb_plot_dispose(GObject *object) {
  gtk_widget_dispose_template(GTK_WIDGET(object), MB_TYPE_PLOT);
  G_OBJECT_CLASS(mb_plot_parent_class)->dispose(object);
}

static void mb_plot_finalize(GObject *object) {
  MbPlot *self = MB_PLOT(object);
  g_ptr_array_unref(self->series);
  g_free(self->title);
  g_free(self->x_label);
  g_free(self->y_label);
  G_OBJECT_CLASS(mb_plot_parent_class)->finalize(object);
}

static void mb_plot_class_init(MbPlotClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  object_class->get_property = mb_plot_get_property;
  object_class->set_property = mb_plot_set_property;
  object_class->dispose = mb_plot_dispose;
  object_class->finalize = mb_plot_finalize;

  GParamFlags f = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  props[PROP_TITLE] = g_param_spec_string("title", "Title", NULL, "", f);
  props[PROP_X_LABEL] = g_param_spec_string("x-label", "X label", NULL, "", f);
  props[PROP_Y_LABEL] = g_param_spec_string("y-label", "Y label", NULL, "", f);
  props[PROP_LOG_Y] = g_param_spec_boolean("log-y", "Log y", NULL, FALSE, f);
  props[PROP_CURSOR_VISIBLE] =
      g_param_spec_boolean("cursor-visible", "Cursor visible", NULL, FALSE, f);
  props[PROP_CURSOR_X] =
      g_param_spec_double("cursor-x", "Cursor x", NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 0, f);
  props[PROP_CURSOR_STEP] =
      g_param_spec_double("cursor-step", "Cursor step", NULL, 0, G_MAXDOUBLE, 0, f);
  g_object_class_install_properties(object_class, N_PROPS, props);

  signals[SIGNAL_CURSOR_MOVED] =
      g_signal_new("cursor-moved", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                   G_TYPE_NONE, 1, G_TYPE_DOUBLE);

  mb_ui_ensure_resources();
  gtk_widget_class_set_template_from_resource(widget_class, MB_UI_RESOURCE_PREFIX "ui/mb-plot.ui");
  gtk_widget_class_bind_template_child(widget_class, MbPlot, area);
  gtk_widget_class_set_css_name(widget_class, "mbplot");
}

static void mb_plot_init(MbPlot *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  mb_ui_ensure_style();
  self->series = g_ptr_array_new_with_free_func(series_free);
  self->title = g_strdup("");
  self->x_label = g_strdup("");
  self->y_label = g_strdup("");
  self->fx_lo = self->fx_hi = self->fy_lo = self->fy_hi = NAN;
  gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(self->area), draw, self, NULL);
  GtkGesture *drag = gtk_gesture_drag_new();
  gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(drag), GDK_BUTTON_PRIMARY);
  g_signal_connect(drag, "drag-begin", G_CALLBACK(on_drag_begin), self);
  g_signal_connect(drag, "drag-update", G_CALLBACK(on_drag_update), self);
  g_signal_connect(drag, "drag-end", G_CALLBACK(on_drag_end), self);
  gtk_widget_add_controller(self->area, GTK_EVENT_CONTROLLER(drag));
}

GtkWidget *mb_plot_new(void) {
  return g_object_new(MB_TYPE_PLOT, NULL);
}
