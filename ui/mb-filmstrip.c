/* MbFilmstrip; see mb-filmstrip.h. */
#include "mb-filmstrip.h"

#include <math.h>

#include "mb-draw.h"
#include "mb-ui.h"

/* Layout in pixels. */
#define PAD       10 /* around the whole strip */
#define ROW_PAD   4  /* inside a row, around its frames */
#define ROW_GAP   4  /* between rows */
#define FRAME_GAP 3  /* between frames */
#define GROUP_GAP 12 /* between groups */
#define LABEL_GAP 10 /* between the cost label and the first frame */

typedef struct {
  double cost;                                      /* the row's cost */
  int n_frames;                                     /* frames in this row */
  cairo_surface_t *frames[MB_FILMSTRIP_MAX_FRAMES]; /* RGB24 copies, owned */
  double y; /* layout: top of the row, content coordinates */
} Row;

typedef struct {
  char *title;    /* header text, owned */
  GArray *rows;   /* Row */
  int best;       /* index of the lowest-cost row, -1 when empty */
  double y;       /* layout: top of the header */
  double index_y; /* layout: top of the frame-number line */
} Group;

struct _MbFilmstrip {
  GtkWidget parent_instance;

  GtkWidget *scroller; /* template: GtkScrolledWindow */
  GtkWidget *area;     /* template: GtkDrawingArea holding the whole strip */

  GPtrArray *groups;               /* Group * */
  int frame_size;                  /* side of a drawn frame, pixels */
  int max_frames;                  /* most frames in any row (layout width) */
  double label_w;                  /* layout: width of the cost label column */
  double header_h;                 /* layout: height of a group header line */
  double index_h;                  /* layout: height of the frame-number line */
  double content_w, content_h;     /* layout: size of the whole strip */
  int sel_group, sel_row, sel_col; /* last clicked frame, -1 when none */
};

G_DEFINE_FINAL_TYPE(MbFilmstrip, mb_filmstrip, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_FRAME_SIZE, N_PROPS };
static GParamSpec *props[N_PROPS];

enum { SIGNAL_FRAME_CLICKED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void row_clear(gpointer data) {
  Row *r = data;
  for (int i = 0; i < r->n_frames; i++) cairo_surface_destroy(r->frames[i]);
}

static void group_free(gpointer data) {
  Group *g = data;
  g_free(g->title);
  g_array_unref(g->rows);
  g_free(g);
}

static Group *get_group(MbFilmstrip *self, int group) {
  return group >= 0 && (guint)group < self->groups->len ? g_ptr_array_index(self->groups, group)
                                                        : NULL;
}

static Row *get_row(MbFilmstrip *self, int group, int row) {
  Group *g = get_group(self, group);
  return g && row >= 0 && (guint)row < g->rows->len ? &g_array_index(g->rows, Row, row) : NULL;
}

static void format_cost(double cost, char *buf, size_t sz) {
  g_snprintf(buf, sz, "cost %.4g", cost);
}

/* Computes every position from the data and the font; called whenever either changes. */
static void relayout(MbFilmstrip *self) {
  /* The column fits typical costs at least, so that it does not jump between replans. */
  PangoLayout *layout = gtk_widget_create_pango_layout(self->area, "cost 0000.00");
  /* Measured bold: the best row's label is bold and must fit the same column. */
  PangoFontDescription *bold = pango_font_description_copy(
      pango_context_get_font_description(pango_layout_get_context(layout)));
  pango_font_description_set_weight(bold, PANGO_WEIGHT_BOLD);
  pango_layout_set_font_description(layout, bold);
  pango_font_description_free(bold);
  int tw, th;
  pango_layout_get_pixel_size(layout, &tw, &th);
  double label_w = tw;
  self->max_frames = 1;
  for (guint g = 0; g < self->groups->len; g++) {
    Group *gr = g_ptr_array_index(self->groups, g);
    for (guint r = 0; r < gr->rows->len; r++) {
      Row *row = &g_array_index(gr->rows, Row, r);
      char buf[64];
      format_cost(row->cost, buf, sizeof buf);
      pango_layout_set_text(layout, buf, -1);
      pango_layout_get_pixel_size(layout, &tw, NULL);
      label_w = MAX(label_w, tw);
      self->max_frames = MAX(self->max_frames, row->n_frames);
    }
  }
  g_object_unref(layout);
  self->label_w = ceil(label_w);
  self->header_h = th + 8;
  self->index_h = ceil(th * 0.85) + 2;

  double fs = self->frame_size, y = PAD;
  for (guint g = 0; g < self->groups->len; g++) {
    Group *gr = g_ptr_array_index(self->groups, g);
    gr->y = y;
    y += self->header_h;
    gr->index_y = y;
    y += self->index_h;
    for (guint r = 0; r < gr->rows->len; r++) {
      g_array_index(gr->rows, Row, r).y = y;
      y += fs + 2 * ROW_PAD + ROW_GAP;
    }
    y += GROUP_GAP - ROW_GAP;
  }
  self->content_h = self->groups->len ? y - GROUP_GAP + PAD : 0;
  self->content_w = 2 * PAD + 2 * ROW_PAD + self->label_w + LABEL_GAP +
                    self->max_frames * (fs + FRAME_GAP) - FRAME_GAP;
  gtk_drawing_area_set_content_width(GTK_DRAWING_AREA(self->area), (int)ceil(self->content_w));
  gtk_drawing_area_set_content_height(GTK_DRAWING_AREA(self->area), (int)ceil(self->content_h));
  gtk_widget_queue_draw(self->area);
}

static double frame_x(MbFilmstrip *self, int column) {
  return PAD + ROW_PAD + self->label_w + LABEL_GAP + column * (self->frame_size + FRAME_GAP);
}

static graphene_rect_t row_rect_content(MbFilmstrip *self, const Row *row) {
  return GRAPHENE_RECT_INIT(PAD, row->y, self->content_w - 2 * PAD, self->frame_size + 2 * ROW_PAD);
}

static void rounded_rect(cairo_t *cr, double x, double y, double w, double h, double r) {
  cairo_new_sub_path(cr);
  cairo_arc(cr, x + w - r, y + r, r, -M_PI / 2, 0);
  cairo_arc(cr, x + w - r, y + h - r, r, 0, M_PI / 2);
  cairo_arc(cr, x + r, y + h - r, r, M_PI / 2, M_PI);
  cairo_arc(cr, x + r, y + r, r, M_PI, 3 * M_PI / 2);
  cairo_close_path(cr);
}

static void draw_strip(MbFilmstrip *self, MbDrawStyle *st, cairo_t *cr) {
  double fs = self->frame_size;
  GdkRGBA dim = st->fg;
  dim.alpha *= 0.6f;
  for (guint g = 0; g < self->groups->len; g++) {
    Group *gr = g_ptr_array_index(self->groups, g);
    mb_cairo_set_rgba(cr, &st->fg);
    mb_draw_text(st, MB_TEXT_BOLD, gr->title, PAD, gr->y + self->header_h / 2, 0, 0.5, FALSE);
    /* Frame numbers t = 1..T above the columns. */
    mb_cairo_set_rgba(cr, &dim);
    for (int c = 0; c < self->max_frames; c++) {
      char buf[8];
      g_snprintf(buf, sizeof buf, "%d", c + 1);
      mb_draw_text(st, MB_TEXT_SMALL, buf, frame_x(self, c) + fs / 2, gr->index_y + self->index_h,
                   0.5, 1, FALSE);
    }
    for (guint r = 0; r < gr->rows->len; r++) {
      Row *row = &g_array_index(gr->rows, Row, r);
      graphene_rect_t rr = row_rect_content(self, row);
      gboolean best = (int)r == gr->best;
      if (best) {
        GdkRGBA tint = st->accent;
        tint.alpha = 0.14f;
        rounded_rect(cr, rr.origin.x + 1, rr.origin.y + 1, rr.size.width - 2, rr.size.height - 2,
                     5);
        mb_cairo_set_rgba(cr, &tint);
        cairo_fill_preserve(cr);
        mb_cairo_set_rgba(cr, &st->accent);
        cairo_set_line_width(cr, 2);
        cairo_stroke(cr);
      }
      char buf[64];
      format_cost(row->cost, buf, sizeof buf);
      double cy = rr.origin.y + rr.size.height / 2;
      mb_cairo_set_rgba(cr, &st->fg);
      mb_draw_text(st, best ? MB_TEXT_BOLD : MB_TEXT_NORMAL, buf, PAD + ROW_PAD + 4,
                   best ? cy - 1 : cy, 0, best ? 1 : 0.5, FALSE);
      if (best) {
        mb_cairo_set_rgba(cr, &st->accent);
        mb_draw_text(st, MB_TEXT_SMALL, "best", PAD + ROW_PAD + 4, cy + 1, 0, 0, FALSE);
      }
      for (int c = 0; c < row->n_frames; c++) {
        double x = frame_x(self, c), y = rr.origin.y + ROW_PAD;
        mb_draw_image(cr, row->frames[c], x, y, fs, fs,
                      fs >= cairo_image_surface_get_width(row->frames[c]));
        gboolean sel = (int)g == self->sel_group && (int)r == self->sel_row && c == self->sel_col;
        if (sel) {
          mb_cairo_set_rgba(cr, &st->fg);
          cairo_set_line_width(cr, 2);
          cairo_rectangle(cr, x - 1, y - 1, fs + 2, fs + 2);
          cairo_stroke(cr);
        }
      }
    }
  }
}

static void draw(GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer data) {
  (void)w, (void)h;
  MbFilmstrip *self = data;
  MbDrawStyle st;
  mb_draw_style_init_widget(&st, GTK_WIDGET(area), cr);
  draw_strip(self, &st, cr);
  mb_draw_style_clear(&st);
}

static gboolean hit_test(MbFilmstrip *self, double x, double y, int *group, int *row, int *col) {
  double fs = self->frame_size;
  for (guint g = 0; g < self->groups->len; g++) {
    Group *gr = g_ptr_array_index(self->groups, g);
    for (guint r = 0; r < gr->rows->len; r++) {
      Row *rw = &g_array_index(gr->rows, Row, r);
      double fy = rw->y + ROW_PAD;
      if (y < fy || y >= fy + fs) continue;
      for (int c = 0; c < rw->n_frames; c++) {
        double fx = frame_x(self, c);
        if (x >= fx && x < fx + fs) {
          *group = (int)g, *row = (int)r, *col = c;
          return TRUE;
        }
      }
    }
  }
  return FALSE;
}

static void on_click(GtkGestureClick *gesture, int n_press, double x, double y, MbFilmstrip *self) {
  (void)gesture, (void)n_press;
  int g, r, c;
  if (!hit_test(self, x, y, &g, &r, &c)) return;
  self->sel_group = g, self->sel_row = r, self->sel_col = c;
  gtk_widget_queue_draw(self->area);
  g_signal_emit(self, signals[SIGNAL_FRAME_CLICKED], 0, g, r, c);
}

static void on_motion(GtkEventControllerMotion *ctl, double x, double y, MbFilmstrip *self) {
  (void)ctl;
  int g, r, c;
  gtk_widget_set_cursor_from_name(self->area, hit_test(self, x, y, &g, &r, &c) ? "pointer" : NULL);
}

void mb_filmstrip_clear(MbFilmstrip *self) {
  g_return_if_fail(MB_IS_FILMSTRIP(self));
  g_ptr_array_set_size(self->groups, 0);
  self->sel_group = self->sel_row = self->sel_col = -1;
  relayout(self);
}

int mb_filmstrip_add_group(MbFilmstrip *self, const char *title) {
  g_return_val_if_fail(MB_IS_FILMSTRIP(self), -1);
  Group *g = g_new0(Group, 1);
  g->title = title ? g_strdup(title) : g_strdup_printf("Iteration %u", self->groups->len + 1);
  g->rows = g_array_new(FALSE, TRUE, sizeof(Row));
  g_array_set_clear_func(g->rows, row_clear);
  g->best = -1;
  g_ptr_array_add(self->groups, g);
  relayout(self);
  return (int)self->groups->len - 1;
}

int mb_filmstrip_add_row(MbFilmstrip *self, int group, double cost, const guint8 *frames,
                         int n_frames, int width, int height, int stride) {
  g_return_val_if_fail(MB_IS_FILMSTRIP(self), -1);
  Group *g = get_group(self, group);
  if (!g || !frames || n_frames <= 0 || width <= 0 || height <= 0 || stride < 3 * width) return -1;
  Row row = {.cost = cost, .n_frames = MIN(n_frames, MB_FILMSTRIP_MAX_FRAMES)};
  for (int i = 0; i < row.n_frames; i++) {
    row.frames[i] = mb_rgb_surface_new(frames + (gsize)i * height * stride, width, height, stride);
    if (!row.frames[i]) {
      row.n_frames = i;
      row_clear(&row);
      return -1;
    }
  }
  g_array_append_val(g->rows, row);
  int index = (int)g->rows->len - 1;
  /* NaN costs never win; ties keep the first row. */
  if (!isnan(cost) && (g->best < 0 || cost < g_array_index(g->rows, Row, g->best).cost))
    g->best = index;
  relayout(self);
  return index;
}

int mb_filmstrip_get_n_groups(MbFilmstrip *self) {
  g_return_val_if_fail(MB_IS_FILMSTRIP(self), 0);
  return (int)self->groups->len;
}

int mb_filmstrip_get_n_rows(MbFilmstrip *self, int group) {
  g_return_val_if_fail(MB_IS_FILMSTRIP(self), 0);
  Group *g = get_group(self, group);
  return g ? (int)g->rows->len : 0;
}

int mb_filmstrip_get_best_row(MbFilmstrip *self, int group) {
  g_return_val_if_fail(MB_IS_FILMSTRIP(self), -1);
  Group *g = get_group(self, group);
  return g ? g->best : -1;
}

void mb_filmstrip_set_frame_size(MbFilmstrip *self, int size) {
  g_return_if_fail(MB_IS_FILMSTRIP(self));
  size = CLAMP(size, 16, 512);
  if (size == self->frame_size) return;
  self->frame_size = size;
  relayout(self);
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_FRAME_SIZE]);
}

static gboolean content_to_self(MbFilmstrip *self, graphene_rect_t *r) {
  graphene_point_t p;
  if (!gtk_widget_compute_point(self->area, GTK_WIDGET(self), &r->origin, &p)) return FALSE;
  r->origin = p;
  return TRUE;
}

gboolean mb_filmstrip_get_frame_rect(MbFilmstrip *self, int group, int row, int column,
                                     graphene_rect_t *rect) {
  g_return_val_if_fail(MB_IS_FILMSTRIP(self), FALSE);
  Row *r = get_row(self, group, row);
  if (!r || column < 0 || column >= r->n_frames) return FALSE;
  graphene_rect_t fr =
      GRAPHENE_RECT_INIT(frame_x(self, column), r->y + ROW_PAD, self->frame_size, self->frame_size);
  if (!content_to_self(self, &fr)) return FALSE;
  if (rect) *rect = fr;
  return TRUE;
}

gboolean mb_filmstrip_get_row_rect(MbFilmstrip *self, int group, int row, graphene_rect_t *rect) {
  g_return_val_if_fail(MB_IS_FILMSTRIP(self), FALSE);
  Row *r = get_row(self, group, row);
  if (!r) return FALSE;
  graphene_rect_t rr = row_rect_content(self, r);
  if (!content_to_self(self, &rr)) return FALSE;
  if (rect) *rect = rr;
  return TRUE;
}

void mb_filmstrip_scroll_to_row(MbFilmstrip *self, int group, int row) {
  g_return_if_fail(MB_IS_FILMSTRIP(self));
  Row *r = get_row(self, group, row);
  if (!r) return;
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment(GTK_SCROLLED_WINDOW(self->scroller));
  double top = r->y - PAD, bottom = r->y + self->frame_size + 2 * ROW_PAD + PAD;
  double v = gtk_adjustment_get_value(adj), page = gtk_adjustment_get_page_size(adj);
  if (top < v)
    gtk_adjustment_set_value(adj, top);
  else if (bottom > v + page)
    gtk_adjustment_set_value(adj, bottom - page);
}

gboolean mb_filmstrip_export_png(MbFilmstrip *self, const char *path, GError **error) {
  g_return_val_if_fail(MB_IS_FILMSTRIP(self), FALSE);
  if (!self->groups->len) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: the filmstrip is empty", path);
    return FALSE;
  }
  int w = (int)ceil(self->content_w), h = (int)ceil(self->content_h);
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
  cairo_t *cr = cairo_create(s);
  MbDrawStyle st;
  mb_draw_style_init_paper(&st, self->area, cr);
  mb_cairo_set_rgba(cr, &st.bg);
  cairo_paint(cr);
  draw_strip(self, &st, cr);
  mb_draw_style_clear(&st);
  cairo_destroy(cr);
  gboolean ok = mb_surface_save_png(s, path, error);
  cairo_surface_destroy(s);
  return ok;
}

void mb_filmstrip_get_highlight_color(MbFilmstrip *self, GdkRGBA *color) {
  g_return_if_fail(MB_IS_FILMSTRIP(self) && color);
  *color = MB_ACCENT_RGBA;
}

static void on_font_changed(MbFilmstrip *self) {
  relayout(self);
}

static void mb_filmstrip_css_changed(GtkWidget *widget, GtkCssStyleChange *change) {
  GTK_WIDGET_CLASS(mb_filmstrip_parent_class)->css_changed(widget, change);
  on_font_changed(MB_FILMSTRIP(widget));
}

static void mb_filmstrip_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec) {
  MbFilmstrip *self = MB_FILMSTRIP(object);
  switch (id) {
    case PROP_FRAME_SIZE:
      g_value_set_int(value, self->frame_size);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void mb_filmstrip_set_property(GObject *object, guint id, const GValue *value,
                                      GParamSpec *pspec) {
  MbFilmstrip *self = MB_FILMSTRIP(object);
  switch (id) {
    case PROP_FRAME_SIZE:
      mb_filmstrip_set_frame_size(self, g_value_get_int(value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void mb_filmstrip_dispose(GObject *object) {
  gtk_widget_dispose_template(GTK_WIDGET(object), MB_TYPE_FILMSTRIP);
  G_OBJECT_CLASS(mb_filmstrip_parent_class)->dispose(object);
}

static void mb_filmstrip_finalize(GObject *object) {
  g_ptr_array_unref(MB_FILMSTRIP(object)->groups);
  G_OBJECT_CLASS(mb_filmstrip_parent_class)->finalize(object);
}

static void mb_filmstrip_class_init(MbFilmstripClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  object_class->get_property = mb_filmstrip_get_property;
  object_class->set_property = mb_filmstrip_set_property;
  object_class->dispose = mb_filmstrip_dispose;
  object_class->finalize = mb_filmstrip_finalize;
  widget_class->css_changed = mb_filmstrip_css_changed;

  props[PROP_FRAME_SIZE] =
      g_param_spec_int("frame-size", "Frame size", NULL, 16, 512, 56,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties(object_class, N_PROPS, props);

  signals[SIGNAL_FRAME_CLICKED] =
      g_signal_new("frame-clicked", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                   NULL, G_TYPE_NONE, 3, G_TYPE_INT, G_TYPE_INT, G_TYPE_INT);

  mb_ui_ensure_resources();
  gtk_widget_class_set_template_from_resource(widget_class,
                                              MB_UI_RESOURCE_PREFIX "ui/mb-filmstrip.ui");
  gtk_widget_class_bind_template_child(widget_class, MbFilmstrip, scroller);
  gtk_widget_class_bind_template_child(widget_class, MbFilmstrip, area);
  gtk_widget_class_set_css_name(widget_class, "mbfilmstrip");
}

static void mb_filmstrip_init(MbFilmstrip *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  mb_ui_ensure_style();
  self->groups = g_ptr_array_new_with_free_func(group_free);
  self->frame_size = 56;
  self->sel_group = self->sel_row = self->sel_col = -1;
  gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(self->area), draw, self, NULL);
  GtkGesture *click = gtk_gesture_click_new();
  gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(click), GDK_BUTTON_PRIMARY);
  g_signal_connect(click, "released", G_CALLBACK(on_click), self);
  gtk_widget_add_controller(self->area, GTK_EVENT_CONTROLLER(click));
  GtkEventController *motion = gtk_event_controller_motion_new();
  g_signal_connect(motion, "motion", G_CALLBACK(on_motion), self);
  gtk_widget_add_controller(self->area, motion);
  relayout(self);
}

GtkWidget *mb_filmstrip_new(void) {
  return g_object_new(MB_TYPE_FILMSTRIP, NULL);
}
