/* MbHistogram; see mb-histogram.h. */
#include "mb-histogram.h"

#include <math.h>

#include "mb-axes.h"
#include "mb-colormap.h"
#include "mb-draw.h"
#include "mb-ui.h"

typedef struct {
  char *name;    /* legend text, owned */
  float *values; /* finite values (n), owned */
  int n;         /* number of values */
  int *counts;   /* per bin (n_bins), owned; rebuilt with the bins */
} Series;

struct _MbHistogram {
  GtkWidget parent_instance;

  GtkWidget *area; /* template: GtkDrawingArea */

  GPtrArray *series;               /* Series * */
  int bins_wanted;                 /* "bins" property, 0 = auto */
  int n_bins;                      /* bins in use, 0 when there are no values */
  double *edges;                   /* n_bins + 1 edges, owned */
  int max_count;                   /* largest count in any bin of any series */
  char *title, *x_label, *y_label; /* texts, owned, never NULL */
};

G_DEFINE_FINAL_TYPE(MbHistogram, mb_histogram, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_TITLE, PROP_X_LABEL, PROP_Y_LABEL, PROP_BINS, N_PROPS };
static GParamSpec *props[N_PROPS];

static void series_free(gpointer data) {
  Series *s = data;
  g_free(s->name);
  g_free(s->values);
  g_free(s->counts);
  g_free(s);
}

static GdkRGBA series_color(int index) {
  float c[3];
  mb_palette_color(index, c);
  return (GdkRGBA){c[0], c[1], c[2], 1};
}

/* Shared bins over all series, then every series' counts. */
static void rebin(MbHistogram *self) {
  double lo = INFINITY, hi = -INFINITY;
  long total = 0;
  for (guint s = 0; s < self->series->len; s++) {
    Series *se = g_ptr_array_index(self->series, s);
    for (int k = 0; k < se->n; k++) lo = MIN(lo, se->values[k]), hi = MAX(hi, se->values[k]);
    total += se->n;
  }
  self->max_count = 0;
  if (!isfinite(lo)) {
    self->n_bins = 0;
    return;
  }
  if (!(hi > lo)) lo -= 0.5, hi += 0.5;
  int bins = self->bins_wanted;
  if (bins <= 0) {
    /* Square-root rule on the average series size: 200 samples give 15 bins. */
    double avg = (double)total / MAX(1u, self->series->len);
    bins = CLAMP((int)ceil(sqrt(avg)), 10, 40);
  }
  self->n_bins = bins;
  self->edges = g_renew(double, self->edges, bins + 1);
  for (int b = 0; b <= bins; b++) self->edges[b] = lo + (hi - lo) * b / bins;
  for (guint s = 0; s < self->series->len; s++) {
    Series *se = g_ptr_array_index(self->series, s);
    se->counts = g_renew(int, se->counts, bins);
    memset(se->counts, 0, sizeof(int) * bins);
    for (int k = 0; k < se->n; k++) {
      int b = (int)floor((se->values[k] - lo) / (hi - lo) * bins);
      se->counts[CLAMP(b, 0, bins - 1)]++; /* the maximum falls in the last bin */
    }
    for (int b = 0; b < bins; b++) self->max_count = MAX(self->max_count, se->counts[b]);
  }
}

static void changed(MbHistogram *self) {
  rebin(self);
  gtk_widget_queue_draw(self->area);
}

static void draw_all(MbHistogram *self, MbDrawStyle *st, int w, int h) {
  cairo_t *cr = st->cr;
  if (st->bg.alpha > 0) {
    mb_cairo_set_rgba(cr, &st->bg);
    cairo_paint(cr);
  }
  int ns = (int)self->series->len;
  g_autofree MbLegendEntry *legend = g_new(MbLegendEntry, MAX(1, ns));
  for (int s = 0; s < ns; s++) {
    Series *se = g_ptr_array_index(self->series, s);
    legend[s] = (MbLegendEntry){.name = se->name, .color = series_color(s), .kind = MB_LEGEND_BOX};
  }
  MbAxesSpec spec = {
      .x_lo = 0,
      .x_hi = 1,
      .y_lo = 0,
      .y_hi = 1,
      .y_integer = TRUE,
      .title = self->title,
      .x_label = self->x_label,
      .y_label = self->y_label,
      .legend = legend,
      .n_legend = ns,
  };
  if (self->n_bins > 0) {
    spec.x_lo = self->edges[0], spec.x_hi = self->edges[self->n_bins];
    double ylo = 0, yhi = MAX(1, self->max_count);
    mb_axes_nice_range(&ylo, &yhi, FALSE);
    spec.y_lo = 0, spec.y_hi = yhi;
  }
  MbAxes ax;
  mb_axes_layout(&ax, &spec, st, w, h);
  if (!ax.ok) return;
  mb_axes_draw(&ax, st);
  if (self->n_bins == 0) {
    mb_axes_draw_message(&ax, st, "No samples yet");
    return;
  }
  cairo_save(cr);
  cairo_rectangle(cr, ax.plot.origin.x, ax.plot.origin.y, ax.plot.size.width, ax.plot.size.height);
  cairo_clip(cr);
  double base = mb_axes_y_to_px(&ax, 0);
  /* Fills first, then outlines, so every series' outline stays visible where they overlap. */
  for (int pass = 0; pass < 2; pass++) {
    for (int s = 0; s < ns; s++) {
      Series *se = g_ptr_array_index(self->series, s);
      if (!se->n) continue;
      GdkRGBA c = series_color(s);
      cairo_new_path(cr);
      cairo_move_to(cr, mb_axes_x_to_px(&ax, self->edges[0]), base);
      for (int b = 0; b < self->n_bins; b++) {
        double y = mb_axes_y_to_px(&ax, se->counts[b]);
        cairo_line_to(cr, mb_axes_x_to_px(&ax, self->edges[b]), y);
        cairo_line_to(cr, mb_axes_x_to_px(&ax, self->edges[b + 1]), y);
      }
      cairo_line_to(cr, mb_axes_x_to_px(&ax, self->edges[self->n_bins]), base);
      if (pass == 0) {
        c.alpha = 0.22f;
        mb_cairo_set_rgba(cr, &c);
        cairo_close_path(cr);
        cairo_fill(cr);
      } else {
        mb_cairo_set_rgba(cr, &c);
        cairo_set_line_width(cr, 1.5);
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER);
        cairo_stroke(cr);
      }
    }
  }
  cairo_restore(cr);
}

static void draw(GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer data) {
  MbDrawStyle st;
  mb_draw_style_init_widget(&st, GTK_WIDGET(area), cr);
  draw_all(data, &st, w, h);
  mb_draw_style_clear(&st);
}

void mb_histogram_clear(MbHistogram *self) {
  g_return_if_fail(MB_IS_HISTOGRAM(self));
  g_ptr_array_set_size(self->series, 0);
  changed(self);
}

int mb_histogram_add_series(MbHistogram *self, const char *name, const float *values, int n) {
  g_return_val_if_fail(MB_IS_HISTOGRAM(self), -1);
  Series *se = g_new0(Series, 1);
  se->name = name ? g_strdup(name) : g_strdup_printf("Series %u", self->series->len + 1);
  se->values = g_new(float, MAX(1, n));
  for (int k = 0; values && k < n; k++)
    if (isfinite(values[k])) se->values[se->n++] = values[k];
  g_ptr_array_add(self->series, se);
  changed(self);
  return (int)self->series->len - 1;
}

int mb_histogram_get_n_series(MbHistogram *self) {
  g_return_val_if_fail(MB_IS_HISTOGRAM(self), 0);
  return (int)self->series->len;
}

void mb_histogram_set_bins(MbHistogram *self, int bins) {
  g_return_if_fail(MB_IS_HISTOGRAM(self));
  bins = CLAMP(bins, 0, 1000);
  if (bins == self->bins_wanted) return;
  self->bins_wanted = bins;
  changed(self);
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_BINS]);
}

int mb_histogram_get_bins(MbHistogram *self, double *edges, int edges_cap) {
  g_return_val_if_fail(MB_IS_HISTOGRAM(self), 0);
  if (edges && edges_cap >= self->n_bins + 1 && self->n_bins > 0)
    memcpy(edges, self->edges, sizeof(double) * (self->n_bins + 1));
  return self->n_bins;
}

int mb_histogram_get_count(MbHistogram *self, int series, int bin) {
  g_return_val_if_fail(MB_IS_HISTOGRAM(self), -1);
  if (series < 0 || (guint)series >= self->series->len || bin < 0 || bin >= self->n_bins) return -1;
  Series *se = g_ptr_array_index(self->series, series);
  return se->counts[bin];
}

static void set_text(MbHistogram *self, char **field, const char *text, int prop) {
  if (!g_strcmp0(*field, text ? text : "")) return;
  g_free(*field);
  *field = g_strdup(text ? text : "");
  gtk_widget_queue_draw(self->area);
  g_object_notify_by_pspec(G_OBJECT(self), props[prop]);
}

void mb_histogram_set_title(MbHistogram *self, const char *title) {
  g_return_if_fail(MB_IS_HISTOGRAM(self));
  set_text(self, &self->title, title, PROP_TITLE);
}

void mb_histogram_set_axis_labels(MbHistogram *self, const char *x_label, const char *y_label) {
  g_return_if_fail(MB_IS_HISTOGRAM(self));
  set_text(self, &self->x_label, x_label, PROP_X_LABEL);
  set_text(self, &self->y_label, y_label, PROP_Y_LABEL);
}

gboolean mb_histogram_export_png(MbHistogram *self, const char *path, int width, int height,
                                 GError **error) {
  g_return_val_if_fail(MB_IS_HISTOGRAM(self), FALSE);
  if (width <= 0 || height <= 0) {
    width = gtk_widget_get_width(self->area), height = gtk_widget_get_height(self->area);
    if (width <= 0 || height <= 0) width = 560, height = 360;
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

static void mb_histogram_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec) {
  MbHistogram *self = MB_HISTOGRAM(object);
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
    case PROP_BINS:
      g_value_set_int(value, self->bins_wanted);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void mb_histogram_set_property(GObject *object, guint id, const GValue *value,
                                      GParamSpec *pspec) {
  MbHistogram *self = MB_HISTOGRAM(object);
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
    case PROP_BINS:
      mb_histogram_set_bins(self, g_value_get_int(value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void mb_histogram_dispose(GObject *object) {
  gtk_widget_dispose_template(GTK_WIDGET(object), MB_TYPE_HISTOGRAM);
  G_OBJECT_CLASS(mb_histogram_parent_class)->dispose(object);
}

static void mb_histogram_finalize(GObject *object) {
  MbHistogram *self = MB_HISTOGRAM(object);
  g_ptr_array_unref(self->series);
  g_free(self->edges);
  g_free(self->title);
  g_free(self->x_label);
  g_free(self->y_label);
  G_OBJECT_CLASS(mb_histogram_parent_class)->finalize(object);
}

static void mb_histogram_class_init(MbHistogramClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  object_class->get_property = mb_histogram_get_property;
  object_class->set_property = mb_histogram_set_property;
  object_class->dispose = mb_histogram_dispose;
  object_class->finalize = mb_histogram_finalize;

  GParamFlags f = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  props[PROP_TITLE] = g_param_spec_string("title", "Title", NULL, "", f);
  props[PROP_X_LABEL] = g_param_spec_string("x-label", "X label", NULL, "", f);
  props[PROP_Y_LABEL] = g_param_spec_string("y-label", "Y label", NULL, "count", f);
  props[PROP_BINS] = g_param_spec_int("bins", "Bins", NULL, 0, 1000, 0, f);
  g_object_class_install_properties(object_class, N_PROPS, props);

  mb_ui_ensure_resources();
  gtk_widget_class_set_template_from_resource(widget_class,
                                              MB_UI_RESOURCE_PREFIX "ui/mb-histogram.ui");
  gtk_widget_class_bind_template_child(widget_class, MbHistogram, area);
  gtk_widget_class_set_css_name(widget_class, "mbhistogram");
}

static void mb_histogram_init(MbHistogram *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  mb_ui_ensure_style();
  self->series = g_ptr_array_new_with_free_func(series_free);
  self->title = g_strdup("");
  self->x_label = g_strdup("");
  self->y_label = g_strdup("count");
  gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(self->area), draw, self, NULL);
}

GtkWidget *mb_histogram_new(void) {
  return g_object_new(MB_TYPE_HISTOGRAM, NULL);
}
