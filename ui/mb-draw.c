/* Cairo/Pango helpers; see mb-draw.h. */
#include "mb-draw.h"

#include <math.h>

static void style_fonts(MbDrawStyle *style, GtkWidget *widget, cairo_t *cr) {
  PangoContext *pc = gtk_widget_get_pango_context(widget);
  const PangoFontDescription *base = pango_context_get_font_description(pc);
  style->font =
      base ? pango_font_description_copy(base) : pango_font_description_from_string("Sans 10");
  if (pango_font_description_get_size(style->font) <= 0)
    pango_font_description_set_size(style->font, 10 * PANGO_SCALE);
  int size = pango_font_description_get_size(style->font);
  gboolean absolute = pango_font_description_get_size_is_absolute(style->font);
  style->font_small = pango_font_description_copy(style->font);
  if (absolute)
    pango_font_description_set_absolute_size(style->font_small, size * 0.85);
  else
    pango_font_description_set_size(style->font_small, (int)(size * 0.85));
  style->font_bold = pango_font_description_copy(style->font);
  pango_font_description_set_weight(style->font_bold, PANGO_WEIGHT_BOLD);
  style->cr = cr;
  style->owned_cr = NULL;
  style->layout = pango_cairo_create_layout(cr);
  /* Keep the screen's resolution and hinting so that an export measures text like the widget. */
  pango_cairo_context_set_resolution(pango_layout_get_context(style->layout),
                                     pango_cairo_context_get_resolution(pc));
  const cairo_font_options_t *fo = pango_cairo_context_get_font_options(pc);
  if (fo) pango_cairo_context_set_font_options(pango_layout_get_context(style->layout), fo);
  pango_layout_context_changed(style->layout);
}

void mb_draw_style_init_widget(MbDrawStyle *style, GtkWidget *widget, cairo_t *cr) {
  GtkStyleContext *sc = gtk_widget_get_style_context(widget);
  gtk_style_context_get_color(sc, &style->fg);
  style->grid = style->fg;
  style->grid.alpha *= 0.14f;
  style->bg = (GdkRGBA){0, 0, 0, 0};
  style->accent = MB_ACCENT_RGBA;
  style_fonts(style, widget, cr);
}

void mb_draw_style_init_paper(MbDrawStyle *style, GtkWidget *widget, cairo_t *cr) {
  style->fg = (GdkRGBA){0.15f, 0.15f, 0.17f, 1.0f};
  style->grid = (GdkRGBA){0.15f, 0.15f, 0.17f, 0.14f};
  style->bg = (GdkRGBA){1, 1, 1, 1};
  style->accent = MB_ACCENT_RGBA;
  style_fonts(style, widget, cr);
}

void mb_draw_style_init_measure(MbDrawStyle *style, GtkWidget *widget) {
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create(s);
  cairo_surface_destroy(s); /* cr keeps it alive */
  mb_draw_style_init_widget(style, widget, cr);
  style->owned_cr = cr;
}

void mb_draw_style_clear(MbDrawStyle *style) {
  g_clear_pointer(&style->owned_cr, cairo_destroy);
  style->cr = NULL;
  g_clear_object(&style->layout);
  g_clear_pointer(&style->font, pango_font_description_free);
  g_clear_pointer(&style->font_small, pango_font_description_free);
  g_clear_pointer(&style->font_bold, pango_font_description_free);
}

static void set_text(MbDrawStyle *style, MbTextKind kind, const char *text) {
  const PangoFontDescription *fd = kind == MB_TEXT_SMALL  ? style->font_small
                                   : kind == MB_TEXT_BOLD ? style->font_bold
                                                          : style->font;
  pango_layout_set_font_description(style->layout, fd);
  pango_layout_set_text(style->layout, text, -1);
}

void mb_draw_text_size(MbDrawStyle *style, MbTextKind kind, const char *text, double *w,
                       double *h) {
  set_text(style, kind, text);
  PangoRectangle logical;
  pango_layout_get_pixel_extents(style->layout, NULL, &logical);
  if (w) *w = logical.width;
  if (h) *h = logical.height;
}

void mb_draw_text(MbDrawStyle *style, MbTextKind kind, const char *text, double x, double y,
                  double ax, double ay, gboolean vertical) {
  set_text(style, kind, text);
  PangoRectangle logical;
  pango_layout_get_pixel_extents(style->layout, NULL, &logical);
  cairo_t *cr = style->cr;
  cairo_save(cr);
  cairo_translate(cr, round(x), round(y));
  if (vertical) cairo_rotate(cr, -M_PI / 2);
  cairo_move_to(cr, round(-ax * logical.width - logical.x),
                round(-ay * logical.height - logical.y));
  pango_cairo_update_layout(cr, style->layout);
  pango_cairo_show_layout(cr, style->layout);
  cairo_restore(cr);
}

void mb_cairo_set_rgba(cairo_t *cr, const GdkRGBA *c) {
  cairo_set_source_rgba(cr, c->red, c->green, c->blue, c->alpha);
}

cairo_surface_t *mb_rgb_surface_new(const guint8 *pixels, int width, int height, int stride) {
  if (!pixels || width <= 0 || height <= 0 || stride < 3 * width) return NULL;
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
  if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(s);
    return NULL;
  }
  cairo_surface_flush(s);
  guint8 *dst = cairo_image_surface_get_data(s);
  int dst_stride = cairo_image_surface_get_stride(s);
  for (int y = 0; y < height; y++) {
    const guint8 *src = pixels + (gsize)y * stride;
    guint32 *row = (guint32 *)(void *)(dst + (gsize)y * dst_stride);
    for (int x = 0; x < width; x++)
      row[x] =
          0xff000000u | (guint32)src[3 * x] << 16 | (guint32)src[3 * x + 1] << 8 | src[3 * x + 2];
  }
  cairo_surface_mark_dirty(s);
  return s;
}

void mb_draw_image(cairo_t *cr, cairo_surface_t *image, double x, double y, double w, double h,
                   gboolean nearest) {
  int iw = cairo_image_surface_get_width(image), ih = cairo_image_surface_get_height(image);
  if (iw <= 0 || ih <= 0 || w <= 0 || h <= 0) return;
  cairo_save(cr);
  cairo_rectangle(cr, x, y, w, h);
  cairo_clip(cr);
  cairo_translate(cr, x, y);
  cairo_scale(cr, w / iw, h / ih);
  cairo_set_source_surface(cr, image, 0, 0);
  cairo_pattern_t *pat = cairo_get_source(cr);
  cairo_pattern_set_filter(pat, nearest ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD);
  /* PAD keeps the edge pixels from blending with transparent black when scaling smoothly. */
  cairo_pattern_set_extend(pat, CAIRO_EXTEND_PAD);
  cairo_paint(cr);
  cairo_restore(cr);
}

graphene_rect_t mb_fit_rect(double x, double y, double w, double h, int img_w, int img_h,
                            gboolean snap) {
  graphene_rect_t r = GRAPHENE_RECT_INIT(x, y, 0, 0);
  if (img_w <= 0 || img_h <= 0 || w <= 0 || h <= 0) return r;
  double s = fmin(w / img_w, h / img_h);
  double fw = img_w * s, fh = img_h * s;
  double fx = x + (w - fw) / 2, fy = y + (h - fh) / 2;
  if (snap) {
    fw = floor(fw + 1e-6), fh = floor(fh + 1e-6);
    fx = floor(x + (w - fw) / 2), fy = floor(y + (h - fh) / 2);
  }
  graphene_rect_init(&r, fx, fy, fw, fh);
  return r;
}

static cairo_status_t append_bytes(void *closure, const unsigned char *data, unsigned int length) {
  g_byte_array_append(closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

GBytes *mb_surface_png_bytes(cairo_surface_t *surface, GError **error) {
  GByteArray *buf = g_byte_array_new();
  cairo_status_t st = cairo_surface_write_to_png_stream(surface, append_bytes, buf);
  if (st != CAIRO_STATUS_SUCCESS) {
    g_byte_array_unref(buf);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "PNG encoding failed: %s",
                cairo_status_to_string(st));
    return NULL;
  }
  return g_byte_array_free_to_bytes(buf);
}

gboolean mb_surface_save_png(cairo_surface_t *surface, const char *path, GError **error) {
  GBytes *png = mb_surface_png_bytes(surface, error);
  if (!png) return FALSE;
  gsize size = 0;
  const char *data = g_bytes_get_data(png, &size);
  gboolean ok = g_file_set_contents_full(
      path, data, (gssize)size, G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0644,
      error);
  g_bytes_unref(png);
  return ok;
}
