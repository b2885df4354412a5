/* MbJobRow; see mb-job-row.h. */
#include "mb-job-row.h"

#include <math.h>

#include "mb-draw.h"
#include "mb-ui.h"

struct _MbJobRow {
  GtkWidget parent_instance;

  GtkWidget *info_box;      /* template: title, progress and status, stacked */
  GtkWidget *title_label;   /* template */
  GtkWidget *progress;      /* template: GtkProgressBar */
  GtkWidget *status_label;  /* template */
  GtkWidget *sparkline;     /* template: GtkDrawingArea */
  GtkWidget *pause_button;  /* template: GtkToggleButton */
  GtkWidget *cancel_button; /* template: GtkButton */

  GArray *loss;      /* float loss values, finite only */
  gboolean paused;   /* shown as paused */
  gboolean active;   /* the job is running (buttons enabled) */
  gulong toggled_id; /* pause_button "toggled" handler, blocked for programmatic changes */
};

G_DEFINE_FINAL_TYPE(MbJobRow, mb_job_row, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_TITLE,
  PROP_STATUS,
  PROP_FRACTION,
  PROP_PROGRESS_TEXT,
  PROP_PAUSED,
  PROP_ACTIVE,
  N_PROPS
};
static GParamSpec *props[N_PROPS];

enum { SIGNAL_PAUSE_TOGGLED, SIGNAL_CANCEL_CLICKED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void draw_sparkline(GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer data) {
  MbJobRow *self = data;
  MbDrawStyle st;
  mb_draw_style_init_widget(&st, GTK_WIDGET(area), cr);
  GdkRGBA dim = st.fg;
  dim.alpha *= 0.55f;
  guint n = self->loss->len;
  const float *v = (const float *)(void *)self->loss->data;
  if (n == 0) {
    mb_cairo_set_rgba(cr, &st.grid);
    cairo_set_line_width(cr, 1);
    cairo_move_to(cr, 0, h - 0.5);
    cairo_line_to(cr, w, h - 0.5);
    cairo_stroke(cr);
    mb_cairo_set_rgba(cr, &dim);
    mb_draw_text(&st, MB_TEXT_SMALL, "no loss yet", w / 2.0, h / 2.0, 0.5, 0.5, FALSE);
    mb_draw_style_clear(&st);
    return;
  }
  double lo = INFINITY, hi = -INFINITY;
  for (guint k = 0; k < n; k++) lo = MIN(lo, v[k]), hi = MAX(hi, v[k]);
  /* Losses fall over orders of magnitude: a log scale shows the late progress too. */
  gboolean log_scale = lo > 0 && hi / lo > 20;
  double a = log_scale ? log10(lo) : lo, b = log_scale ? log10(hi) : hi;
  if (!(b > a)) a -= 0.5, b += 0.5;
  double text_h;
  mb_draw_text_size(&st, MB_TEXT_SMALL, "0", NULL, &text_h);
  double top = text_h + 2, bottom = h - 2, left = 1, right = w - 4;
#define SPARK_Y(val) (bottom - ((log_scale ? log10(val) : (val)) - a) / (b - a) * (bottom - top))
  cairo_new_path(cr);
  int cols = MAX(1, (int)(right - left));
  if (n > 2 * (guint)cols) {
    /* More values than pixels: each column's min..max, so a long run stays cheap to draw. */
    for (int c = 0; c < cols; c++) {
      guint k0 = (guint)((guint64)c * n / cols), k1 = (guint)((guint64)(c + 1) * n / cols);
      float mn = v[k0], mx = v[k0];
      for (guint k = k0; k < k1; k++) mn = MIN(mn, v[k]), mx = MAX(mx, v[k]);
      cairo_line_to(cr, left + c + 0.5, SPARK_Y(mx));
      cairo_line_to(cr, left + c + 0.5, SPARK_Y(mn));
    }
  } else {
    for (guint k = 0; k < n; k++)
      cairo_line_to(cr, n == 1 ? right : left + (right - left) * k / (n - 1), SPARK_Y(v[k]));
  }
  double lx = right, ly = SPARK_Y(v[n - 1]);
#undef SPARK_Y
  cairo_set_line_width(cr, 1.5);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  mb_cairo_set_rgba(cr, &st.accent);
  cairo_stroke(cr);
  cairo_arc(cr, lx, ly, 2.5, 0, 2 * M_PI);
  cairo_fill(cr);
  char buf[32];
  g_snprintf(buf, sizeof buf, "%.4g", v[n - 1]);
  mb_cairo_set_rgba(cr, &dim);
  mb_draw_text(&st, MB_TEXT_SMALL, buf, w, 0, 1, 0, FALSE);
  mb_draw_style_clear(&st);
}

static void sync_pause_button(MbJobRow *self) {
  g_signal_handler_block(self->pause_button, self->toggled_id);
  gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(self->pause_button), self->paused);
  g_signal_handler_unblock(self->pause_button, self->toggled_id);
  gtk_button_set_icon_name(GTK_BUTTON(self->pause_button), self->paused
                                                               ? "media-playback-start-symbolic"
                                                               : "media-playback-pause-symbolic");
  gtk_widget_set_tooltip_text(self->pause_button, self->paused ? "Resume" : "Pause");
}

static void on_pause_toggled(GtkToggleButton *button, MbJobRow *self) {
  self->paused = gtk_toggle_button_get_active(button);
  sync_pause_button(self);
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PAUSED]);
  g_signal_emit(self, signals[SIGNAL_PAUSE_TOGGLED], 0, self->paused);
}

static void on_cancel_clicked(GtkButton *button, MbJobRow *self) {
  (void)button;
  g_signal_emit(self, signals[SIGNAL_CANCEL_CLICKED], 0);
}

void mb_job_row_set_title(MbJobRow *self, const char *title) {
  g_return_if_fail(MB_IS_JOB_ROW(self));
  if (!g_strcmp0(gtk_label_get_text(GTK_LABEL(self->title_label)), title ? title : "")) return;
  gtk_label_set_text(GTK_LABEL(self->title_label), title ? title : "");
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_TITLE]);
}

void mb_job_row_set_status(MbJobRow *self, const char *status) {
  g_return_if_fail(MB_IS_JOB_ROW(self));
  if (!g_strcmp0(gtk_label_get_text(GTK_LABEL(self->status_label)), status ? status : "")) return;
  gtk_label_set_text(GTK_LABEL(self->status_label), status ? status : "");
  gtk_widget_set_visible(self->status_label, status && *status);
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_STATUS]);
}

void mb_job_row_set_progress(MbJobRow *self, double fraction, const char *text) {
  g_return_if_fail(MB_IS_JOB_ROW(self));
  if (!isfinite(fraction)) fraction = 0;
  fraction = CLAMP(fraction, 0.0, 1.0);
  GtkProgressBar *bar = GTK_PROGRESS_BAR(self->progress);
  g_object_freeze_notify(G_OBJECT(self));
  if (gtk_progress_bar_get_fraction(bar) != fraction) {
    gtk_progress_bar_set_fraction(bar, fraction);
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_FRACTION]);
  }
  if (g_strcmp0(gtk_progress_bar_get_text(bar), text)) {
    gtk_progress_bar_set_text(bar, text); /* NULL: GTK shows the percentage */
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PROGRESS_TEXT]);
  }
  g_object_thaw_notify(G_OBJECT(self));
}

double mb_job_row_get_fraction(MbJobRow *self) {
  g_return_val_if_fail(MB_IS_JOB_ROW(self), 0);
  return gtk_progress_bar_get_fraction(GTK_PROGRESS_BAR(self->progress));
}

void mb_job_row_set_loss(MbJobRow *self, const float *values, int n) {
  g_return_if_fail(MB_IS_JOB_ROW(self));
  g_array_set_size(self->loss, 0);
  for (int k = 0; values && k < n; k++)
    if (isfinite(values[k])) g_array_append_val(self->loss, values[k]);
  gtk_widget_queue_draw(self->sparkline);
}

void mb_job_row_append_loss(MbJobRow *self, float value) {
  g_return_if_fail(MB_IS_JOB_ROW(self));
  if (!isfinite(value)) return;
  g_array_append_val(self->loss, value);
  gtk_widget_queue_draw(self->sparkline);
}

void mb_job_row_set_paused(MbJobRow *self, gboolean paused) {
  g_return_if_fail(MB_IS_JOB_ROW(self));
  paused = !!paused;
  if (paused == self->paused) return;
  self->paused = paused;
  sync_pause_button(self);
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PAUSED]);
}

gboolean mb_job_row_get_paused(MbJobRow *self) {
  g_return_val_if_fail(MB_IS_JOB_ROW(self), FALSE);
  return self->paused;
}

void mb_job_row_set_active(MbJobRow *self, gboolean active) {
  g_return_if_fail(MB_IS_JOB_ROW(self));
  active = !!active;
  if (active == self->active) return;
  self->active = active;
  gtk_widget_set_sensitive(self->pause_button, active);
  gtk_widget_set_sensitive(self->cancel_button, active);
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_ACTIVE]);
}

gboolean mb_job_row_get_active(MbJobRow *self) {
  g_return_val_if_fail(MB_IS_JOB_ROW(self), FALSE);
  return self->active;
}

GtkWidget *mb_job_row_get_pause_button(MbJobRow *self) {
  g_return_val_if_fail(MB_IS_JOB_ROW(self), NULL);
  return self->pause_button;
}

GtkWidget *mb_job_row_get_cancel_button(MbJobRow *self) {
  g_return_val_if_fail(MB_IS_JOB_ROW(self), NULL);
  return self->cancel_button;
}

static void mb_job_row_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec) {
  MbJobRow *self = MB_JOB_ROW(object);
  switch (id) {
    case PROP_TITLE:
      g_value_set_string(value, gtk_label_get_text(GTK_LABEL(self->title_label)));
      break;
    case PROP_STATUS:
      g_value_set_string(value, gtk_label_get_text(GTK_LABEL(self->status_label)));
      break;
    case PROP_FRACTION:
      g_value_set_double(value, mb_job_row_get_fraction(self));
      break;
    case PROP_PROGRESS_TEXT:
      g_value_set_string(value, gtk_progress_bar_get_text(GTK_PROGRESS_BAR(self->progress)));
      break;
    case PROP_PAUSED:
      g_value_set_boolean(value, self->paused);
      break;
    case PROP_ACTIVE:
      g_value_set_boolean(value, self->active);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void mb_job_row_set_property(GObject *object, guint id, const GValue *value,
                                    GParamSpec *pspec) {
  MbJobRow *self = MB_JOB_ROW(object);
  GtkProgressBar *bar = GTK_PROGRESS_BAR(self->progress);
  switch (id) {
    case PROP_TITLE:
      mb_job_row_set_title(self, g_value_get_string(value));
      break;
    case PROP_STATUS:
      mb_job_row_set_status(self, g_value_get_string(value));
      break;
    case PROP_FRACTION:
      mb_job_row_set_progress(self, g_value_get_double(value), gtk_progress_bar_get_text(bar));
      break;
    case PROP_PROGRESS_TEXT:
      mb_job_row_set_progress(self, gtk_progress_bar_get_fraction(bar), g_value_get_string(value));
      break;
    case PROP_PAUSED:
      mb_job_row_set_paused(self, g_value_get_boolean(value));
      break;
    case PROP_ACTIVE:
      mb_job_row_set_active(self, g_value_get_boolean(value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void mb_job_row_dispose(GObject *object) {
  gtk_widget_dispose_template(GTK_WIDGET(object), MB_TYPE_JOB_ROW);
  G_OBJECT_CLASS(mb_job_row_parent_class)->dispose(object);
}

static void mb_job_row_finalize(GObject *object) {
  g_array_unref(MB_JOB_ROW(object)->loss);
  G_OBJECT_CLASS(mb_job_row_parent_class)->finalize(object);
}

static void mb_job_row_class_init(MbJobRowClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  object_class->get_property = mb_job_row_get_property;
  object_class->set_property = mb_job_row_set_property;
  object_class->dispose = mb_job_row_dispose;
  object_class->finalize = mb_job_row_finalize;

  GParamFlags f = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  props[PROP_TITLE] = g_param_spec_string("title", "Title", NULL, "", f);
  props[PROP_STATUS] = g_param_spec_string("status", "Status", NULL, "", f);
  props[PROP_FRACTION] = g_param_spec_double("fraction", "Fraction", NULL, 0, 1, 0, f);
  props[PROP_PROGRESS_TEXT] = g_param_spec_string("progress-text", "Progress text", NULL, NULL, f);
  props[PROP_PAUSED] = g_param_spec_boolean("paused", "Paused", NULL, FALSE, f);
  props[PROP_ACTIVE] = g_param_spec_boolean("active", "Active", NULL, TRUE, f);
  g_object_class_install_properties(object_class, N_PROPS, props);

  signals[SIGNAL_PAUSE_TOGGLED] =
      g_signal_new("pause-toggled", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                   NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
  signals[SIGNAL_CANCEL_CLICKED] =
      g_signal_new("cancel-clicked", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                   NULL, G_TYPE_NONE, 0);

  mb_ui_ensure_resources();
  gtk_widget_class_set_template_from_resource(widget_class,
                                              MB_UI_RESOURCE_PREFIX "ui/mb-job-row.ui");
  gtk_widget_class_bind_template_child(widget_class, MbJobRow, info_box);
  gtk_widget_class_bind_template_child(widget_class, MbJobRow, title_label);
  gtk_widget_class_bind_template_child(widget_class, MbJobRow, progress);
  gtk_widget_class_bind_template_child(widget_class, MbJobRow, status_label);
  gtk_widget_class_bind_template_child(widget_class, MbJobRow, sparkline);
  gtk_widget_class_bind_template_child(widget_class, MbJobRow, pause_button);
  gtk_widget_class_bind_template_child(widget_class, MbJobRow, cancel_button);
  gtk_widget_class_set_css_name(widget_class, "mbjobrow");
}

static void mb_job_row_init(MbJobRow *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  mb_ui_ensure_style();
  self->loss = g_array_new(FALSE, FALSE, sizeof(float));
  self->active = TRUE;
  gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(self->sparkline), draw_sparkline, self, NULL);
  self->toggled_id =
      g_signal_connect(self->pause_button, "toggled", G_CALLBACK(on_pause_toggled), self);
  g_signal_connect(self->cancel_button, "clicked", G_CALLBACK(on_cancel_clicked), self);
}

GtkWidget *mb_job_row_new(const char *title) {
  return g_object_new(MB_TYPE_JOB_ROW, "title", title ? title : "", NULL);
}
