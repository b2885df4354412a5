/* MbHeatmap; see mb-heatmap.h. */
#include "mb-heatmap.h"

#include <math.h>

#include "mb-colormap.h"
#include "mb-draw.h"
#include "mb-ticks.h"
#include "mb-ui.h"

/* Layout in pixels. */
#define PAD     10
#define TICK    4  /* tick mark length */
#define BAR_GAP 16 /* plot to colour bar */
#define BAR_W   14 /* colour bar width */

struct _MbHeatmap {
  GtkWidget parent_instance;

  GtkWidget *area; /* template: GtkDrawingArea everything is drawn in */

  int n;                                   /* grid size N */
  float *values;                           /* N x N, values[j * N + i], NaN = not computed */
  double x0, x1, y0, y1;                   /* extent in metres */
  double fixed_lo, fixed_hi;               /* fixed colour range, NaN = auto */
  char *title, *units, *x_label, *y_label; /* texts, owned, never NULL */
  gboolean has_marker;                     /* draw the marker */
  double marker_x, marker_y;               /* marker position, metres */
  int hover_i, hover_j;                    /* cell under the pointer, -1 when none */
  cairo_surface_t *cells;    /* N x N ARGB32 image of the colours (row 0 = top = j N-1) */
  gboolean cells_dirty;      /* cells and the value range must be recomputed before use */
  gboolean have_range;       /* cached value range exists (valid unless cells_dirty) */
  double range_lo, range_hi; /* cached value range */
};

G_DEFINE_FINAL_TYPE(MbHeatmap, mb_heatmap, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_TITLE, PROP_UNITS, PROP_X_LABEL, PROP_Y_LABEL, PROP_SIZE, N_PROPS };
static GParamSpec *props[N_PROPS];

enum { SIGNAL_CELL_CLICKED, N_SIGNALS };
static guint signals[N_SIGNALS];

typedef struct {
  graphene_rect_t plot; /* the grid */
  graphene_rect_t bar;  /* the colour bar */
  double title_y;       /* centre line of the title */
  double x_label_y;     /* centre line of the x axis title */
  double y_label_x;     /* centre line of the y axis title */
  double units_x;       /* centre line of the units label */
  MbTicks xt, yt, vt;   /* ticks of x, y and the value scale */
  gboolean have_range;  /* a value range exists (vt valid) */
  double lo, hi;        /* value range */
  gboolean ok;          /* there is room to draw */
} Layout;

/* ---- values and colours ---- */

static gboolean compute_value_range(MbHeatmap *self, double *lo, double *hi) {
  double a = INFINITY, b = -INFINITY;
  if (isnan(self->fixed_lo) || isnan(self->fixed_hi)) {
    for (int k = 0; k < self->n * self->n; k++) {
      float v = self->values[k];
      if (isfinite(v)) a = MIN(a, v), b = MAX(b, v);
    }
  }
  if (!isnan(self->fixed_lo)) a = self->fixed_lo;
  if (!isnan(self->fixed_hi)) b = self->fixed_hi;
  if (!isfinite(a) || !isfinite(b)) return FALSE;
  if (!(b > a))
    b = a + (fabs(a) > 0 ? fabs(a) * 1e-6 : 1e-6); /* one distinct value: all viridis[0] */
  *lo = a, *hi = b;
  return TRUE;
}

static void rebuild_cells(MbHeatmap *self);

/* The colour scale: cached, because layout and hit tests ask for it on every pointer motion. */
static gboolean value_range(MbHeatmap *self, double *lo, double *hi) {
  if (self->cells_dirty || !self->cells) rebuild_cells(self);
  *lo = self->range_lo, *hi = self->range_hi;
  return self->have_range;
}

static void rebuild_cells(MbHeatmap *self) {
  int n = self->n;
  if (!self->cells || cairo_image_surface_get_width(self->cells) != n) {
    g_clear_pointer(&self->cells, cairo_surface_destroy);
    self->cells = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, n, n);
  }
  double lo = 0, hi = 1;
  gboolean have = compute_value_range(self, &lo, &hi);
  self->have_range = have, self->range_lo = lo, self->range_hi = hi;
  cairo_surface_flush(self->cells);
  guint8 *data = cairo_image_surface_get_data(self->cells);
  int stride = cairo_image_surface_get_stride(self->cells);
  for (int j = 0; j < n; j++) {
    guint32 *row = (guint32 *)(void *)(data + (gsize)(n - 1 - j) * stride);
    for (int i = 0; i < n; i++) {
      float v = self->values[j * n + i];
      if (!have || isnan(v)) {
        row[i] = 0; /* transparent: the "not computed" pattern shows through */
        continue;
      }
      unsigned char c[3];
      mb_viridis_rgb8((v - lo) / (hi - lo), c); /* +-inf clamp to the ends */
      row[i] = 0xff000000u | (guint32)c[0] << 16 | (guint32)c[1] << 8 | c[2];
    }
  }
  cairo_surface_mark_dirty(self->cells);
  self->cells_dirty = FALSE;
}

static void changed(MbHeatmap *self) {
  self->cells_dirty = TRUE;
  gtk_widget_queue_draw(self->area);
}

/* ---- layout ---- */

static double max_label_width(MbDrawStyle *st, const MbTicks *t) {
  double m = 0;
  for (int k = 0; k < t->n; k++) {
    char buf[32];
    double w;
    mb_ticks_label(t, k, buf, sizeof buf);
    mb_draw_text_size(st, MB_TEXT_SMALL, buf, &w, NULL);
    m = MAX(m, w);
  }
  return m;
}

static void compute_layout(MbHeatmap *self, MbDrawStyle *st, int w, int h, Layout *L) {
  memset(L, 0, sizeof *L);
  double th, sh, lh;
  mb_draw_text_size(st, MB_TEXT_BOLD, "Ag", NULL, &th);
  mb_draw_text_size(st, MB_TEXT_SMALL, "0", NULL, &sh);
  mb_draw_text_size(st, MB_TEXT_NORMAL, "Ag", NULL, &lh);
  mb_ticks_linear(self->x0, self->x1, 5, &L->xt);
  mb_ticks_linear(self->y0, self->y1, 5, &L->yt);
  L->have_range = value_range(self, &L->lo, &L->hi);
  if (L->have_range) mb_ticks_linear(L->lo, L->hi, 6, &L->vt);

  double top = PAD + (*self->title ? th + 8 : 0);
  double left = PAD + (*self->y_label ? lh + 6 : 0) + max_label_width(st, &L->yt) + TICK + 4;
  double bottom = PAD + (*self->x_label ? lh + 4 : 0) + sh + TICK + 4;
  double right =
      BAR_GAP + BAR_W + TICK + 4 + max_label_width(st, &L->vt) + (*self->units ? 6 + lh : 0) + PAD;
  double aw = w - left - right, ah = h - top - bottom;
  if (aw < 16 || ah < 16 || self->n <= 0) return;
  /* Metres are isotropic: the grid keeps the extent's aspect ratio. */
  double aspect = (self->x1 - self->x0) / (self->y1 - self->y0);
  double pw = aw, ph = aw / aspect;
  if (ph > ah) ph = ah, pw = ah * aspect;
  pw = floor(pw), ph = floor(ph);
  double px = floor(left + (aw - pw) / 2), py = floor(top + (ah - ph) / 2);
  graphene_rect_init(&L->plot, px, py, pw, ph);
  graphene_rect_init(&L->bar, px + pw + BAR_GAP, py, BAR_W, ph);
  L->title_y = py - 8 - th / 2;
  L->x_label_y = py + ph + TICK + 4 + sh + 4 + lh / 2;
  L->y_label_x = px - TICK - 4 - max_label_width(st, &L->yt) - 6 - lh / 2;
  L->units_x = L->bar.origin.x + BAR_W + TICK + 4 + max_label_width(st, &L->vt) + 6 + lh / 2;
  L->ok = TRUE;
}

static double x_to_px(const Layout *L, MbHeatmap *self, double x) {
  return L->plot.origin.x + (x - self->x0) / (self->x1 - self->x0) * L->plot.size.width;
}

static double y_to_px(const Layout *L, MbHeatmap *self, double y) {
  return L->plot.origin.y + L->plot.size.height -
         (y - self->y0) / (self->y1 - self->y0) * L->plot.size.height;
}

/* Layout for the widget's current size, measured with a scratch context. */
static gboolean widget_layout(MbHeatmap *self, Layout *L) {
  int w = gtk_widget_get_width(self->area), h = gtk_widget_get_height(self->area);
  if (w <= 0 || h <= 0) return FALSE;
  MbDrawStyle st;
  mb_draw_style_init_measure(&st, self->area);
  compute_layout(self, &st, w, h, L);
  mb_draw_style_clear(&st);
  return L->ok;
}

/* ---- drawing ---- */

static void draw_not_computed(cairo_t *cr, const graphene_rect_t *r, const MbDrawStyle *st) {
  /* Diagonal hatching marks cells that have no value yet. */
  cairo_save(cr);
  cairo_rectangle(cr, r->origin.x, r->origin.y, r->size.width, r->size.height);
  cairo_clip(cr);
  GdkRGBA base = st->grid;
  base.alpha *= 0.5f;
  mb_cairo_set_rgba(cr, &base);
  cairo_paint(cr);
  mb_cairo_set_rgba(cr, &st->grid);
  cairo_set_line_width(cr, 1);
  double span = r->size.width + r->size.height;
  for (double d = 0; d < span; d += 8) {
    cairo_move_to(cr, r->origin.x + d, r->origin.y);
    cairo_line_to(cr, r->origin.x + d - r->size.height, r->origin.y + r->size.height);
  }
  cairo_stroke(cr);
  cairo_restore(cr);
}

static void draw_all(MbHeatmap *self, MbDrawStyle *st, cairo_t *cr, int w, int h, gboolean hover) {
  if (st->bg.alpha > 0) {
    mb_cairo_set_rgba(cr, &st->bg);
    cairo_paint(cr);
  }
  Layout L;
  compute_layout(self, st, w, h, &L);
  if (!L.ok) return;
  const graphene_rect_t *p = &L.plot;

  mb_cairo_set_rgba(cr, &st->fg);
  if (*self->title)
    mb_draw_text(st, MB_TEXT_BOLD, self->title, p->origin.x + p->size.width / 2, L.title_y, 0.5,
                 0.5, FALSE);

  draw_not_computed(cr, p, st);
  mb_draw_image(cr, self->cells, p->origin.x, p->origin.y, p->size.width, p->size.height, TRUE);

  /* Frame and ticks. */
  mb_cairo_set_rgba(cr, &st->fg);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, p->origin.x - 0.5, p->origin.y - 0.5, p->size.width + 1, p->size.height + 1);
  cairo_stroke(cr);
  char buf[32];
  for (int k = 0; k < L.xt.n; k++) {
    double x = round(x_to_px(&L, self, L.xt.value[k])) + 0.5;
    double yb = p->origin.y + p->size.height;
    cairo_move_to(cr, x, yb);
    cairo_line_to(cr, x, yb + TICK);
    cairo_stroke(cr);
    mb_ticks_label(&L.xt, k, buf, sizeof buf);
    mb_draw_text(st, MB_TEXT_SMALL, buf, x, yb + TICK + 2, 0.5, 0, FALSE);
  }
  for (int k = 0; k < L.yt.n; k++) {
    double y = round(y_to_px(&L, self, L.yt.value[k])) + 0.5;
    cairo_move_to(cr, p->origin.x, y);
    cairo_line_to(cr, p->origin.x - TICK, y);
    cairo_stroke(cr);
    mb_ticks_label(&L.yt, k, buf, sizeof buf);
    mb_draw_text(st, MB_TEXT_SMALL, buf, p->origin.x - TICK - 3, y, 1, 0.5, FALSE);
  }
  if (*self->x_label)
    mb_draw_text(st, MB_TEXT_NORMAL, self->x_label, p->origin.x + p->size.width / 2, L.x_label_y,
                 0.5, 0.5, FALSE);
  if (*self->y_label)
    mb_draw_text(st, MB_TEXT_NORMAL, self->y_label, L.y_label_x, p->origin.y + p->size.height / 2,
                 0.5, 0.5, TRUE);

  /* Colour bar: the 256 entries bottom (lo) to top (hi). */
  const graphene_rect_t *b = &L.bar;
  if (L.have_range) {
    cairo_surface_t *bar = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, MB_VIRIDIS_SIZE);
    cairo_surface_flush(bar);
    guint8 *data = cairo_image_surface_get_data(bar);
    int stride = cairo_image_surface_get_stride(bar);
    for (int k = 0; k < MB_VIRIDIS_SIZE; k++) {
      float c[3];
      mb_viridis_entry(MB_VIRIDIS_SIZE - 1 - k, c);
      *(guint32 *)(void *)(data + (gsize)k * stride) = (guint32)lrintf(c[0] * 255) << 16 |
                                                       (guint32)lrintf(c[1] * 255) << 8 |
                                                       (guint32)lrintf(c[2] * 255);
    }
    cairo_surface_mark_dirty(bar);
    mb_draw_image(cr, bar, b->origin.x, b->origin.y, b->size.width, b->size.height, FALSE);
    cairo_surface_destroy(bar);
  } else {
    draw_not_computed(cr, b, st);
  }
  mb_cairo_set_rgba(cr, &st->fg);
  cairo_rectangle(cr, b->origin.x - 0.5, b->origin.y - 0.5, b->size.width + 1, b->size.height + 1);
  cairo_stroke(cr);
  if (L.have_range) {
    for (int k = 0; k < L.vt.n; k++) {
      double y = round(b->origin.y + b->size.height -
                       (L.vt.value[k] - L.lo) / (L.hi - L.lo) * b->size.height) +
                 0.5;
      double xr = b->origin.x + b->size.width;
      cairo_move_to(cr, xr, y);
      cairo_line_to(cr, xr + TICK, y);
      cairo_stroke(cr);
      mb_ticks_label(&L.vt, k, buf, sizeof buf);
      mb_draw_text(st, MB_TEXT_SMALL, buf, xr + TICK + 3, y, 0, 0.5, FALSE);
    }
  }
  if (*self->units)
    mb_draw_text(st, MB_TEXT_NORMAL, self->units, L.units_x, b->origin.y + b->size.height / 2, 0.5,
                 0.5, TRUE);

  /* Hovered cell. */
  double cw = p->size.width / self->n, ch = p->size.height / self->n;
  if (hover && self->hover_i >= 0) {
    double x = p->origin.x + self->hover_i * cw,
           y = p->origin.y + (self->n - 1 - self->hover_j) * ch;
    cairo_rectangle(cr, x + 0.5, y + 0.5, cw - 1, ch - 1);
    cairo_set_source_rgba(cr, 0, 0, 0, 0.6);
    cairo_set_line_width(cr, 3);
    cairo_stroke_preserve(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_set_line_width(cr, 1.5);
    cairo_stroke(cr);
  }

  /* Marker: a ring with a cross, white over a dark halo so it shows on every colour. */
  if (self->has_marker) {
    double mx = x_to_px(&L, self, self->marker_x), my = y_to_px(&L, self, self->marker_y);
    double r = CLAMP(MIN(cw, ch) * 0.6, 6, 12);
    cairo_save(cr);
    cairo_rectangle(cr, p->origin.x, p->origin.y, p->size.width, p->size.height);
    cairo_clip(cr);
    cairo_new_path(cr);
    cairo_arc(cr, mx, my, r, 0, 2 * M_PI);
    cairo_move_to(cr, mx - r * 0.55, my - r * 0.55);
    cairo_line_to(cr, mx + r * 0.55, my + r * 0.55);
    cairo_move_to(cr, mx + r * 0.55, my - r * 0.55);
    cairo_line_to(cr, mx - r * 0.55, my + r * 0.55);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    cairo_set_source_rgba(cr, 0, 0, 0, 0.65);
    cairo_set_line_width(cr, 4.5);
    cairo_stroke_preserve(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_set_line_width(cr, 2);
    cairo_stroke(cr);
    cairo_restore(cr);
  }
}

static void draw(GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer data) {
  MbHeatmap *self = data;
  MbDrawStyle st;
  mb_draw_style_init_widget(&st, GTK_WIDGET(area), cr);
  draw_all(self, &st, cr, w, h, TRUE);
  mb_draw_style_clear(&st);
}

/* ---- input ---- */

static gboolean cell_at_area(MbHeatmap *self, double x, double y, int *i, int *j) {
  Layout L;
  if (!widget_layout(self, &L)) return FALSE;
  const graphene_rect_t *p = &L.plot;
  double u = (x - p->origin.x) / p->size.width, v = (y - p->origin.y) / p->size.height;
  if (!(u >= 0 && u < 1 && v >= 0 && v < 1)) return FALSE;
  *i = MIN(self->n - 1, (int)(u * self->n));
  *j = self->n - 1 - MIN(self->n - 1, (int)(v * self->n));
  return TRUE;
}

static void set_hover(MbHeatmap *self, int i, int j) {
  if (i == self->hover_i && j == self->hover_j) return;
  self->hover_i = i, self->hover_j = j;
  gtk_widget_queue_draw(self->area);
}

static void on_motion(GtkEventControllerMotion *ctl, double x, double y, MbHeatmap *self) {
  (void)ctl;
  int i, j;
  if (cell_at_area(self, x, y, &i, &j))
    set_hover(self, i, j);
  else
    set_hover(self, -1, -1);
}

static void on_leave(GtkEventControllerMotion *ctl, MbHeatmap *self) {
  (void)ctl;
  set_hover(self, -1, -1);
}

static void on_click(GtkGestureClick *gesture, int n_press, double x, double y, MbHeatmap *self) {
  (void)gesture, (void)n_press;
  int i, j;
  if (cell_at_area(self, x, y, &i, &j)) g_signal_emit(self, signals[SIGNAL_CELL_CLICKED], 0, i, j);
}

static gboolean on_query_tooltip(GtkWidget *area, int x, int y, gboolean keyboard, GtkTooltip *tip,
                                 MbHeatmap *self) {
  (void)area, (void)keyboard;
  int i, j;
  if (!cell_at_area(self, x, y, &i, &j)) return FALSE;
  char *text = mb_heatmap_describe_cell(self, i, j);
  gtk_tooltip_set_text(tip, text);
  g_free(text);
  /* A tooltip per cell: moving to another cell updates the text. */
  Layout L;
  if (widget_layout(self, &L)) {
    double cw = L.plot.size.width / self->n, ch = L.plot.size.height / self->n;
    GdkRectangle r = {(int)(L.plot.origin.x + i * cw),
                      (int)(L.plot.origin.y + (self->n - 1 - j) * ch), (int)ceil(cw),
                      (int)ceil(ch)};
    gtk_tooltip_set_tip_area(tip, &r);
  }
  return TRUE;
}

/* ---- public ---- */

gboolean mb_heatmap_set_size(MbHeatmap *self, int n) {
  g_return_val_if_fail(MB_IS_HEATMAP(self), FALSE);
  if (n < 1 || n > MB_HEATMAP_MAX_SIZE) return FALSE;
  if (n != self->n) {
    g_free(self->values);
    self->values = g_new(float, (gsize)n *n);
    self->n = n;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_SIZE]);
  }
  for (int k = 0; k < n * n; k++) self->values[k] = NAN;
  self->hover_i = self->hover_j = -1;
  changed(self);
  return TRUE;
}

int mb_heatmap_get_size(MbHeatmap *self) {
  g_return_val_if_fail(MB_IS_HEATMAP(self), 0);
  return self->n;
}

gboolean mb_heatmap_set_grid(MbHeatmap *self, const float *values, int n) {
  g_return_val_if_fail(MB_IS_HEATMAP(self), FALSE);
  if (!values || !mb_heatmap_set_size(self, n)) return FALSE;
  memcpy(self->values, values, sizeof(float) * (gsize)n * n);
  changed(self);
  return TRUE;
}

gboolean mb_heatmap_set_cell(MbHeatmap *self, int i, int j, float value) {
  g_return_val_if_fail(MB_IS_HEATMAP(self), FALSE);
  if (i < 0 || j < 0 || i >= self->n || j >= self->n) return FALSE;
  self->values[j * self->n + i] = value;
  changed(self);
  return TRUE;
}

float mb_heatmap_get_cell(MbHeatmap *self, int i, int j) {
  g_return_val_if_fail(MB_IS_HEATMAP(self), NAN);
  if (i < 0 || j < 0 || i >= self->n || j >= self->n) return NAN;
  return self->values[j * self->n + i];
}

void mb_heatmap_clear(MbHeatmap *self) {
  g_return_if_fail(MB_IS_HEATMAP(self));
  for (int k = 0; k < self->n * self->n; k++) self->values[k] = NAN;
  changed(self);
}

void mb_heatmap_set_extent(MbHeatmap *self, double x0, double x1, double y0, double y1) {
  g_return_if_fail(MB_IS_HEATMAP(self));
  g_return_if_fail(x1 > x0 && y1 > y0);
  self->x0 = x0, self->x1 = x1, self->y0 = y0, self->y1 = y1;
  changed(self);
}

void mb_heatmap_set_value_range(MbHeatmap *self, double lo, double hi) {
  g_return_if_fail(MB_IS_HEATMAP(self));
  self->fixed_lo = lo, self->fixed_hi = hi;
  changed(self);
}

gboolean mb_heatmap_get_value_range(MbHeatmap *self, double *lo, double *hi) {
  g_return_val_if_fail(MB_IS_HEATMAP(self), FALSE);
  double a, b;
  if (!value_range(self, &a, &b)) return FALSE;
  if (lo) *lo = a;
  if (hi) *hi = b;
  return TRUE;
}

void mb_heatmap_set_marker(MbHeatmap *self, double x, double y) {
  g_return_if_fail(MB_IS_HEATMAP(self));
  self->has_marker = TRUE;
  self->marker_x = x, self->marker_y = y;
  gtk_widget_queue_draw(self->area);
}

void mb_heatmap_clear_marker(MbHeatmap *self) {
  g_return_if_fail(MB_IS_HEATMAP(self));
  self->has_marker = FALSE;
  gtk_widget_queue_draw(self->area);
}

static void set_text_prop(MbHeatmap *self, char **field, const char *text, int prop) {
  if (!g_strcmp0(*field, text ? text : "")) return;
  g_free(*field);
  *field = g_strdup(text ? text : "");
  gtk_widget_queue_draw(self->area);
  g_object_notify_by_pspec(G_OBJECT(self), props[prop]);
}

void mb_heatmap_set_title(MbHeatmap *self, const char *title) {
  g_return_if_fail(MB_IS_HEATMAP(self));
  set_text_prop(self, &self->title, title, PROP_TITLE);
}

void mb_heatmap_set_units(MbHeatmap *self, const char *units) {
  g_return_if_fail(MB_IS_HEATMAP(self));
  set_text_prop(self, &self->units, units, PROP_UNITS);
}

void mb_heatmap_set_axis_labels(MbHeatmap *self, const char *x_label, const char *y_label) {
  g_return_if_fail(MB_IS_HEATMAP(self));
  set_text_prop(self, &self->x_label, x_label, PROP_X_LABEL);
  set_text_prop(self, &self->y_label, y_label, PROP_Y_LABEL);
}

gboolean mb_heatmap_get_cell_rect(MbHeatmap *self, int i, int j, graphene_rect_t *rect) {
  g_return_val_if_fail(MB_IS_HEATMAP(self), FALSE);
  Layout L;
  if (i < 0 || j < 0 || i >= self->n || j >= self->n || !widget_layout(self, &L)) return FALSE;
  double cw = L.plot.size.width / self->n, ch = L.plot.size.height / self->n;
  graphene_point_t a = GRAPHENE_POINT_INIT(L.plot.origin.x + i * cw,
                                           L.plot.origin.y + (self->n - 1 - j) * ch),
                   b;
  if (!gtk_widget_compute_point(self->area, GTK_WIDGET(self), &a, &b)) return FALSE;
  if (rect) graphene_rect_init(rect, b.x, b.y, cw, ch);
  return TRUE;
}

gboolean mb_heatmap_cell_at(MbHeatmap *self, double x, double y, int *i, int *j) {
  g_return_val_if_fail(MB_IS_HEATMAP(self), FALSE);
  graphene_point_t a = GRAPHENE_POINT_INIT(x, y), b;
  if (!gtk_widget_compute_point(GTK_WIDGET(self), self->area, &a, &b)) return FALSE;
  int ii, jj;
  if (!cell_at_area(self, b.x, b.y, &ii, &jj)) return FALSE;
  if (i) *i = ii;
  if (j) *j = jj;
  return TRUE;
}

gboolean mb_heatmap_get_hover_cell(MbHeatmap *self, int *i, int *j) {
  g_return_val_if_fail(MB_IS_HEATMAP(self), FALSE);
  if (self->hover_i < 0) return FALSE;
  if (i) *i = self->hover_i;
  if (j) *j = self->hover_j;
  return TRUE;
}

char *mb_heatmap_describe_cell(MbHeatmap *self, int i, int j) {
  g_return_val_if_fail(MB_IS_HEATMAP(self), NULL);
  if (i < 0 || j < 0 || i >= self->n || j >= self->n) return NULL;
  double x = self->x0 + (i + 0.5) * (self->x1 - self->x0) / self->n;
  double y = self->y0 + (j + 0.5) * (self->y1 - self->y0) / self->n;
  float v = self->values[j * self->n + i];
  if (isnan(v)) return g_strdup_printf("x = %.3f m, y = %.3f m\nnot computed yet", x, y);
  return g_strdup_printf("x = %.3f m, y = %.3f m\n%.4g%s%s", x, y, v, *self->units ? " " : "",
                         self->units);
}

gboolean mb_heatmap_export_png(MbHeatmap *self, const char *path, int width, int height,
                               GError **error) {
  g_return_val_if_fail(MB_IS_HEATMAP(self), FALSE);
  if (width <= 0 || height <= 0) {
    width = gtk_widget_get_width(self->area), height = gtk_widget_get_height(self->area);
    if (width <= 0 || height <= 0) width = 560, height = 480;
  }
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
  cairo_t *cr = cairo_create(s);
  MbDrawStyle st;
  mb_draw_style_init_paper(&st, self->area, cr);
  draw_all(self, &st, cr, width, height, FALSE);
  mb_draw_style_clear(&st);
  cairo_destroy(cr);
  gboolean ok = mb_surface_save_png(s, path, error);
  cairo_surface_destroy(s);
  return ok;
}

gboolean mb_heatmap_export_csv(MbHeatmap *self, const char *path, GError **error) {
  g_return_val_if_fail(MB_IS_HEATMAP(self), FALSE);
  GString *csv = g_string_new("i,j,x,y,value\n");
  char xs[G_ASCII_DTOSTR_BUF_SIZE], ys[G_ASCII_DTOSTR_BUF_SIZE], vs[G_ASCII_DTOSTR_BUF_SIZE];
  for (int j = 0; j < self->n; j++) {
    for (int i = 0; i < self->n; i++) {
      double x = self->x0 + (i + 0.5) * (self->x1 - self->x0) / self->n;
      double y = self->y0 + (j + 0.5) * (self->y1 - self->y0) / self->n;
      float v = self->values[j * self->n + i];
      /* g_ascii_formatd: a '.' decimal point whatever the locale, so the CSV always parses. */
      g_ascii_formatd(xs, sizeof xs, "%.6g", x);
      g_ascii_formatd(ys, sizeof ys, "%.6g", y);
      if (isnan(v))
        vs[0] = 0;
      else
        g_ascii_formatd(vs, sizeof vs, "%.9g", v);
      g_string_append_printf(csv, "%d,%d,%s,%s,%s\n", i, j, xs, ys, vs);
    }
  }
  gboolean ok = g_file_set_contents_full(
      path, csv->str, (gssize)csv->len,
      G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0644, error);
  g_string_free(csv, TRUE);
  return ok;
}

/* ---- GObject ---- */

static void mb_heatmap_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec) {
  MbHeatmap *self = MB_HEATMAP(object);
  switch (id) {
    case PROP_TITLE:
      g_value_set_string(value, self->title);
      break;
    case PROP_UNITS:
      g_value_set_string(value, self->units);
      break;
    case PROP_X_LABEL:
      g_value_set_string(value, self->x_label);
      break;
    case PROP_Y_LABEL:
      g_value_set_string(value, self->y_label);
      break;
    case PROP_SIZE:
      g_value_set_int(value, self->n);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void mb_heatmap_set_property(GObject *object, guint id, const GValue *value,
                                    GParamSpec *pspec) {
  MbHeatmap *self = MB_HEATMAP(object);
  switch (id) {
    case PROP_TITLE:
      set_text_prop(self, &self->title, g_value_get_string(value), id);
      break;
    case PROP_UNITS:
      set_text_prop(self, &self->units, g_value_get_string(value), id);
      break;
    case PROP_X_LABEL:
      set_text_prop(self, &self->x_label, g_value_get_string(value), id);
      break;
    case PROP_Y_LABEL:
      set_text_prop(self, &self->y_label, g_value_get_string(value), id);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void mb_heatmap_dispose(GObject *object) {
  gtk_widget_dispose_template(GTK_WIDGET(object), MB_TYPE_HEATMAP);
  G_OBJECT_CLASS(mb_heatmap_parent_class)->dispose(object);
}

static void mb_heatmap_finalize(GObject *object) {
  MbHeatmap *self = MB_HEATMAP(object);
  g_free(self->values);
  g_free(self->title);
  g_free(self->units);
  g_free(self->x_label);
  g_free(self->y_label);
  g_clear_pointer(&self->cells, cairo_surface_destroy);
  G_OBJECT_CLASS(mb_heatmap_parent_class)->finalize(object);
}

static void mb_heatmap_class_init(MbHeatmapClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  object_class->get_property = mb_heatmap_get_property;
  object_class->set_property = mb_heatmap_set_property;
  object_class->dispose = mb_heatmap_dispose;
  object_class->finalize = mb_heatmap_finalize;

  GParamFlags f = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  props[PROP_TITLE] = g_param_spec_string("title", "Title", NULL, "", f);
  props[PROP_UNITS] = g_param_spec_string("units", "Units", NULL, "", f);
  props[PROP_X_LABEL] = g_param_spec_string("x-label", "X label", NULL, "x (m)", f);
  props[PROP_Y_LABEL] = g_param_spec_string("y-label", "Y label", NULL, "y (m)", f);
  props[PROP_SIZE] = g_param_spec_int("size", "Size", NULL, 1, MB_HEATMAP_MAX_SIZE, 1,
                                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);

  signals[SIGNAL_CELL_CLICKED] =
      g_signal_new("cell-clicked", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                   G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_INT);

  mb_ui_ensure_resources();
  gtk_widget_class_set_template_from_resource(widget_class,
                                              MB_UI_RESOURCE_PREFIX "ui/mb-heatmap.ui");
  gtk_widget_class_bind_template_child(widget_class, MbHeatmap, area);
  gtk_widget_class_set_css_name(widget_class, "mbheatmap");
}

static void mb_heatmap_init(MbHeatmap *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  mb_ui_ensure_style();
  self->title = g_strdup("");
  self->units = g_strdup("");
  self->x_label = g_strdup("x (m)");
  self->y_label = g_strdup("y (m)");
  self->x0 = self->y0 = -1, self->x1 = self->y1 = 1;
  self->fixed_lo = self->fixed_hi = NAN;
  self->hover_i = self->hover_j = -1;
  self->n = 1;
  self->values = g_new(float, 1);
  self->values[0] = NAN;
  self->cells_dirty = TRUE;
  gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(self->area), draw, self, NULL);

  GtkEventController *motion = gtk_event_controller_motion_new();
  g_signal_connect(motion, "motion", G_CALLBACK(on_motion), self);
  g_signal_connect(motion, "leave", G_CALLBACK(on_leave), self);
  gtk_widget_add_controller(self->area, motion);
  GtkGesture *click = gtk_gesture_click_new();
  gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(click), GDK_BUTTON_PRIMARY);
  g_signal_connect(click, "released", G_CALLBACK(on_click), self);
  gtk_widget_add_controller(self->area, GTK_EVENT_CONTROLLER(click));
  gtk_widget_set_has_tooltip(self->area, TRUE);
  g_signal_connect(self->area, "query-tooltip", G_CALLBACK(on_query_tooltip), self);
}

GtkWidget *mb_heatmap_new(void) {
  return g_object_new(MB_TYPE_HEATMAP, NULL);
}
