/* Shared Cairo/Pango helpers for the widgets that draw charts and images. Main thread only. */
#ifndef MB_DRAW_H
#define MB_DRAW_H

#include <gtk/gtk.h>

#include "mb-ticks.h"

/* Colours and fonts one drawing pass uses: taken from the widget's style on screen, or a fixed
 * "paper" look (white background, dark text) for PNG exports. */
typedef struct {
  cairo_t *cr;                /* the target being drawn (not owned) */
  GdkRGBA fg;                 /* text, axes and tick marks */
  GdkRGBA grid;               /* grid lines and frames: fg at low alpha */
  GdkRGBA bg;                 /* background painted first; alpha 0 paints nothing */
  GdkRGBA accent;             /* selection and highlight colour */
  PangoLayout *layout;        /* text layout bound to the target cairo_t's font setup (owned) */
  PangoFontDescription *font; /* normal text (owned) */
  PangoFontDescription *font_small; /* tick labels (owned) */
  PangoFontDescription *font_bold;  /* titles (owned) */
  cairo_t *owned_cr;                /* scratch context of a measuring style (owned), else NULL */
} MbDrawStyle;

/* The accent (highlight) colour every widget uses: GNOME blue. */
#define MB_ACCENT_RGBA ((GdkRGBA){0.208f, 0.518f, 0.894f, 1.0f})

/* Fills style for drawing widget on screen into cr (the widget's colour and font, transparent
 * background). Free with mb_draw_style_clear. */
void mb_draw_style_init_widget(MbDrawStyle *style, GtkWidget *widget, cairo_t *cr);

/* Fills style for an export into cr: white background, dark text, the widget's font family. */
void mb_draw_style_init_paper(MbDrawStyle *style, GtkWidget *widget, cairo_t *cr);

/* Fills style for measuring text only (layout computations outside a draw), with the widget's
 * colours and fonts and a scratch context. */
void mb_draw_style_init_measure(MbDrawStyle *style, GtkWidget *widget);

void mb_draw_style_clear(MbDrawStyle *style);

typedef enum {
  MB_TEXT_NORMAL,
  MB_TEXT_SMALL,
  MB_TEXT_BOLD,
} MbTextKind;

/* Size of text in the given kind, pixels. */
void mb_draw_text_size(MbDrawStyle *style, MbTextKind kind, const char *text, double *w, double *h);

/* Draws text so that the point (ax, ay) of its box (0 = left/top, 0.5 = centre, 1 = right/bottom)
 * lands at (x, y); rotated by -90 degrees (reading upwards) when vertical. Uses the current source
 * colour. */
void mb_draw_text(MbDrawStyle *style, MbTextKind kind, const char *text, double x, double y,
                  double ax, double ay, gboolean vertical);

void mb_cairo_set_rgba(cairo_t *cr, const GdkRGBA *c);

/* A Cairo RGB24 image surface holding a copy of an RGB8 image (rows top to bottom, stride bytes
 * apart, stride >= 3 * width). Returns NULL if the sizes are not positive. Caller owns it. */
cairo_surface_t *mb_rgb_surface_new(const guint8 *pixels, int width, int height, int stride);

/* Paints an image surface scaled into the rectangle (x, y, w, h) (ignoring aspect), with nearest
 * neighbour filtering when nearest, else Cairo's good filter. */
void mb_draw_image(cairo_t *cr, cairo_surface_t *image, double x, double y, double w, double h,
                   gboolean nearest);

/* The largest rectangle of aspect img_w:img_h centred in (x, y, w, h), snapped to whole pixels
 * when snap. */
graphene_rect_t mb_fit_rect(double x, double y, double w, double h, int img_w, int img_h,
                            gboolean snap);

/* Writes the surface as PNG to path atomically (temporary file, fsync, rename): a failure never
 * leaves a half-written file. */
gboolean mb_surface_save_png(cairo_surface_t *surface, const char *path, GError **error);

/* Encodes the surface as PNG bytes. Returns NULL (and sets error) on failure. */
GBytes *mb_surface_png_bytes(cairo_surface_t *surface, GError **error);

#endif
