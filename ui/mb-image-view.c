/* MbImageView; see mb-image-view.h. */
#include "mb-image-view.h"

#include "mb-draw.h"
#include "mb-ui.h"

struct _MbImageView {
  GtkWidget parent_instance;

  GtkWidget *area;          /* template: the GtkDrawingArea the image is drawn in */
  GtkWidget *caption_label; /* template: caption under the image */

  cairo_surface_t *image; /* copy of the image (RGB24), NULL when none */
  char *placeholder;      /* text shown without an image, owned */
  int display_size;       /* requested side of the image area in pixels, 0 = flexible */
};

G_DEFINE_FINAL_TYPE(MbImageView, mb_image_view, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_CAPTION, PROP_PLACEHOLDER, PROP_DISPLAY_SIZE, N_PROPS };
static GParamSpec *props[N_PROPS];

static graphene_rect_t image_rect_in_area(MbImageView *self) {
  int w = gtk_widget_get_width(self->area), h = gtk_widget_get_height(self->area);
  return mb_fit_rect(0, 0, w, h, cairo_image_surface_get_width(self->image),
                     cairo_image_surface_get_height(self->image), TRUE);
}

static void draw(GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer data) {
  MbImageView *self = data;
  MbDrawStyle style;
  mb_draw_style_init_widget(&style, GTK_WIDGET(area), cr);
  if (!self->image) {
    /* An empty frame the size the image would take, with the placeholder text. */
    double side = MIN(w, h) - 2;
    double x = (w - side) / 2, y = (h - side) / 2;
    cairo_rectangle(cr, x + 0.5, y + 0.5, side - 1, side - 1);
    mb_cairo_set_rgba(cr, &style.grid);
    cairo_fill_preserve(cr);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    if (self->placeholder && *self->placeholder) {
      GdkRGBA dim = style.fg;
      dim.alpha *= 0.55f;
      mb_cairo_set_rgba(cr, &dim);
      mb_draw_text(&style, MB_TEXT_SMALL, self->placeholder, w / 2.0, h / 2.0, 0.5, 0.5, FALSE);
    }
    mb_draw_style_clear(&style);
    return;
  }
  graphene_rect_t r = image_rect_in_area(self);
  int iw = cairo_image_surface_get_width(self->image);
  gboolean nearest = r.size.width >= iw; /* upscaling: keep the pixels visible */
  mb_draw_image(cr, self->image, r.origin.x, r.origin.y, r.size.width, r.size.height, nearest);
  cairo_rectangle(cr, r.origin.x + 0.5, r.origin.y + 0.5, r.size.width - 1, r.size.height - 1);
  mb_cairo_set_rgba(cr, &style.grid);
  cairo_set_line_width(cr, 1);
  cairo_stroke(cr);
  mb_draw_style_clear(&style);
}

gboolean mb_image_view_set_image(MbImageView *self, const guint8 *pixels, int width, int height,
                                 int stride) {
  g_return_val_if_fail(MB_IS_IMAGE_VIEW(self), FALSE);
  cairo_surface_t *s = mb_rgb_surface_new(pixels, width, height, stride);
  if (!s) return FALSE;
  g_clear_pointer(&self->image, cairo_surface_destroy);
  self->image = s;
  gtk_widget_queue_draw(self->area);
  return TRUE;
}

void mb_image_view_clear(MbImageView *self) {
  g_return_if_fail(MB_IS_IMAGE_VIEW(self));
  g_clear_pointer(&self->image, cairo_surface_destroy);
  gtk_widget_queue_draw(self->area);
}

gboolean mb_image_view_get_image_size(MbImageView *self, int *width, int *height) {
  g_return_val_if_fail(MB_IS_IMAGE_VIEW(self), FALSE);
  if (!self->image) return FALSE;
  if (width) *width = cairo_image_surface_get_width(self->image);
  if (height) *height = cairo_image_surface_get_height(self->image);
  return TRUE;
}

gboolean mb_image_view_get_image_rect(MbImageView *self, graphene_rect_t *rect) {
  g_return_val_if_fail(MB_IS_IMAGE_VIEW(self), FALSE);
  if (!self->image) return FALSE;
  graphene_rect_t r = image_rect_in_area(self);
  graphene_point_t p;
  if (!gtk_widget_compute_point(self->area, GTK_WIDGET(self), &r.origin, &p)) return FALSE;
  r.origin = p;
  if (rect) *rect = r;
  return TRUE;
}

void mb_image_view_set_caption(MbImageView *self, const char *caption) {
  g_return_if_fail(MB_IS_IMAGE_VIEW(self));
  const char *old = gtk_label_get_text(GTK_LABEL(self->caption_label));
  if (!g_strcmp0(old, caption ? caption : "")) return;
  gtk_label_set_text(GTK_LABEL(self->caption_label), caption ? caption : "");
  gtk_widget_set_visible(self->caption_label, caption && *caption);
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_CAPTION]);
}

const char *mb_image_view_get_caption(MbImageView *self) {
  g_return_val_if_fail(MB_IS_IMAGE_VIEW(self), NULL);
  return gtk_label_get_text(GTK_LABEL(self->caption_label));
}

void mb_image_view_set_placeholder(MbImageView *self, const char *text) {
  g_return_if_fail(MB_IS_IMAGE_VIEW(self));
  if (!g_strcmp0(self->placeholder, text)) return;
  g_free(self->placeholder);
  self->placeholder = g_strdup(text);
  gtk_widget_queue_draw(self->area);
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PLACEHOLDER]);
}

void mb_image_view_set_display_size(MbImageView *self, int size) {
  g_return_if_fail(MB_IS_IMAGE_VIEW(self));
  size = MAX(0, size);
  if (self->display_size == size) return;
  self->display_size = size;
  gtk_drawing_area_set_content_width(GTK_DRAWING_AREA(self->area), size ? size : 128);
  gtk_drawing_area_set_content_height(GTK_DRAWING_AREA(self->area), size ? size : 128);
  gtk_widget_set_size_request(self->area, size ? size : 32, size ? size : 32);
  /* A fixed-size image gets a caption no wider than itself (about 7 px a character). */
  gtk_label_set_max_width_chars(GTK_LABEL(self->caption_label), size ? MAX(4, size / 7) : -1);
  gtk_widget_set_hexpand(self->area, size == 0);
  gtk_widget_set_vexpand(self->area, size == 0);
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_DISPLAY_SIZE]);
}

static void mb_image_view_get_property(GObject *object, guint id, GValue *value,
                                       GParamSpec *pspec) {
  MbImageView *self = MB_IMAGE_VIEW(object);
  switch (id) {
    case PROP_CAPTION:
      g_value_set_string(value, mb_image_view_get_caption(self));
      break;
    case PROP_PLACEHOLDER:
      g_value_set_string(value, self->placeholder);
      break;
    case PROP_DISPLAY_SIZE:
      g_value_set_int(value, self->display_size);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void mb_image_view_set_property(GObject *object, guint id, const GValue *value,
                                       GParamSpec *pspec) {
  MbImageView *self = MB_IMAGE_VIEW(object);
  switch (id) {
    case PROP_CAPTION:
      mb_image_view_set_caption(self, g_value_get_string(value));
      break;
    case PROP_PLACEHOLDER:
      mb_image_view_set_placeholder(self, g_value_get_string(value));
      break;
    case PROP_DISPLAY_SIZE:
      mb_image_view_set_display_size(self, g_value_get_int(value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void mb_image_view_dispose(GObject *object) {
  gtk_widget_dispose_template(GTK_WIDGET(object), MB_TYPE_IMAGE_VIEW);
  G_OBJECT_CLASS(mb_image_view_parent_class)->dispose(object);
}

static void mb_image_view_finalize(GObject *object) {
  MbImageView *self = MB_IMAGE_VIEW(object);
  g_clear_pointer(&self->image, cairo_surface_destroy);
  g_free(self->placeholder);
  G_OBJECT_CLASS(mb_image_view_parent_class)->finalize(object);
}

static void mb_image_view_class_init(MbImageViewClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  object_class->get_property = mb_image_view_get_property;
  object_class->set_property = mb_image_view_set_property;
  object_class->dispose = mb_image_view_dispose;
  object_class->finalize = mb_image_view_finalize;

  GParamFlags f = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  props[PROP_CAPTION] = g_param_spec_string("caption", "Caption", NULL, "", f);
  props[PROP_PLACEHOLDER] = g_param_spec_string("placeholder", "Placeholder", NULL, "No image", f);
  props[PROP_DISPLAY_SIZE] = g_param_spec_int("display-size", "Display size", NULL, 0, 4096, 0, f);
  g_object_class_install_properties(object_class, N_PROPS, props);

  mb_ui_ensure_resources();
  gtk_widget_class_set_template_from_resource(widget_class,
                                              MB_UI_RESOURCE_PREFIX "ui/mb-image-view.ui");
  gtk_widget_class_bind_template_child(widget_class, MbImageView, area);
  gtk_widget_class_bind_template_child(widget_class, MbImageView, caption_label);
  gtk_widget_class_set_css_name(widget_class, "mbimageview");
}

static void mb_image_view_init(MbImageView *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  mb_ui_ensure_style();
  self->placeholder = g_strdup("No image");
  gtk_drawing_area_set_content_width(GTK_DRAWING_AREA(self->area), 128);
  gtk_drawing_area_set_content_height(GTK_DRAWING_AREA(self->area), 128);
  gtk_widget_set_size_request(self->area, 32, 32);
  gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(self->area), draw, self, NULL);
}

GtkWidget *mb_image_view_new(void) {
  return g_object_new(MB_TYPE_IMAGE_VIEW, NULL);
}
