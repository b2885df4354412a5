#include "heatmap_png.h"

#include "mb-colormap.h"
#include "mb-ticks.h"
#include "mb_err.h"
#include "mb_file.h"

#include <math.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Figure layout in figure units (pixels at scale 1). */
#define MARGIN      24.0
#define GOAL_SIDE   256.0 /* the 64 x 64 goal image at 4x */
#define GOAL_GAP    44.0  /* goal column to the first panel */
#define AXIS_W      62.0  /* y tick labels and the y axis title, left of a map */
#define BAR_GAP     14.0  /* map to colour bar */
#define BAR_W       16.0  /* colour bar */
#define BAR_LABEL_W 56.0  /* colour bar tick labels */
#define UNITS_W     20.0  /* rotated units label */
#define PANEL_GAP   26.0  /* between panels */
#define HEAD_H      30.0  /* panel titles above the maps */
#define XAXIS_H     52.0  /* x tick labels and the x axis title, below a map */
#define TICK_LEN    5.0

typedef struct layout {
  int n;          /* cells per side */
  double cell;    /* cell side */
  double side;    /* map side = n * cell */
  double top;     /* y of the panel titles */
  double panel_x; /* x of the first panel (its y axis area) */
  double panel_w; /* one panel's width, gap included */
  double width;   /* figure size */
  double height;
} layout;

static void make_layout(const app_heatmap_result *r, const app_heatmap_png_options *opt,
                        layout *L) {
  int want = opt && opt->map_px > 0 ? opt->map_px : 300;
  L->n = r->grid.n;
  int per = want / L->n;
  L->cell = per >= 1 ? per : 1;
  L->side = L->cell * L->n;
  L->top = MARGIN + 26 + (opt && opt->subtitle ? 22 : 0) + 14;
  L->panel_x = MARGIN + GOAL_SIDE + GOAL_GAP;
  L->panel_w = AXIS_W + L->side + BAR_GAP + BAR_W + BAR_LABEL_W + UNITS_W + PANEL_GAP;
  L->width = L->panel_x + r->n_distances * L->panel_w - PANEL_GAP + MARGIN;
  double maps_bottom = L->top + HEAD_H + L->side + XAXIS_H;
  double goal_bottom = L->top + HEAD_H + GOAL_SIDE + 110; /* the legend below the goal */
  L->height = (maps_bottom > goal_bottom ? maps_bottom : goal_bottom) + MARGIN;
}

bool app_heatmap_png_map_rect(const app_heatmap_result *r, const app_heatmap_png_options *opt,
                              int d, double *x, double *y, double *side) {
  if (d < 0 || d >= r->n_distances || r->grid.n < 1) return false;
  layout L;
  make_layout(r, opt, &L);
  *x = L.panel_x + d * L.panel_w + AXIS_W;
  *y = L.top + HEAD_H;
  *side = L.side;
  return true;
}

/* ---- text ---------------------------------------------------------------------------------- */

typedef struct painter {
  cairo_t *cr;
  PangoLayout *pl;
  PangoFontDescription *fonts[4]; /* by text_kind */
} painter;

typedef enum text_kind { TEXT_TITLE, TEXT_HEAD, TEXT_NORMAL, TEXT_SMALL } text_kind;

static void painter_init(painter *p, cairo_t *cr) {
  static const struct {
    double px;
    bool bold;
  } spec[4] = {{19, true}, {15, true}, {13, false}, {11.5, false}};
  p->cr = cr;
  p->pl = pango_cairo_create_layout(cr);
  /* Metrics independent of the screen's hinting: the same PNG on every machine. */
  cairo_font_options_t *fo = cairo_font_options_create();
  cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
  pango_cairo_context_set_font_options(pango_layout_get_context(p->pl), fo);
  cairo_font_options_destroy(fo);
  for (int k = 0; k < 4; k++) {
    p->fonts[k] = pango_font_description_from_string("Sans");
    pango_font_description_set_absolute_size(p->fonts[k], spec[k].px * PANGO_SCALE);
    if (spec[k].bold) pango_font_description_set_weight(p->fonts[k], PANGO_WEIGHT_BOLD);
  }
}

static void painter_clear(painter *p) {
  for (int k = 0; k < 4; k++) pango_font_description_free(p->fonts[k]);
  g_object_unref(p->pl);
}

/* Draws text so that its box's point (ax, ay) (0 = left/top, 1 = right/bottom) lands on (x, y);
 * vertical text reads upwards. */
static void text(painter *p, text_kind k, const char *s, double x, double y, double ax, double ay,
                 bool vertical) {
  pango_layout_set_font_description(p->pl, p->fonts[k]);
  pango_layout_set_text(p->pl, s, -1);
  int w, h;
  pango_layout_get_pixel_size(p->pl, &w, &h);
  cairo_save(p->cr);
  cairo_translate(p->cr, x, y);
  if (vertical) cairo_rotate(p->cr, -M_PI / 2);
  cairo_move_to(p->cr, -ax * w, -ay * h);
  pango_cairo_update_layout(p->cr, p->pl);
  pango_cairo_show_layout(p->cr, p->pl);
  cairo_restore(p->cr);
}

/* ---- marks --------------------------------------------------------------------------------- */

static const double INK[3] = {0.13, 0.13, 0.15};     /* text and axes */
static const double BLOCKED[3] = {0.82, 0.82, 0.82}; /* cells that cannot occur */

static void set_rgb(cairo_t *cr, const double c[3]) {
  cairo_set_source_rgb(cr, c[0], c[1], c[2]);
}

/* The goal: a white ring and cross with a dark outline, readable on every viridis colour. */
static void mark_goal(cairo_t *cr, double x, double y, double r) {
  for (int pass = 0; pass < 2; pass++) {
    cairo_set_line_width(cr, pass ? 1.8 : 4.2);
    if (pass)
      cairo_set_source_rgb(cr, 1, 1, 1);
    else
      cairo_set_source_rgba(cr, 0, 0, 0, 0.85);
    cairo_new_path(cr);
    cairo_arc(cr, x, y, r, 0, 2 * M_PI);
    cairo_move_to(cr, x - 1.7 * r, y);
    cairo_line_to(cr, x - 0.45 * r, y);
    cairo_move_to(cr, x + 0.45 * r, y);
    cairo_line_to(cr, x + 1.7 * r, y);
    cairo_move_to(cr, x, y - 1.7 * r);
    cairo_line_to(cr, x, y - 0.45 * r);
    cairo_move_to(cr, x, y + 0.45 * r);
    cairo_line_to(cr, x, y + 1.7 * r);
    cairo_stroke(cr);
  }
}

/* The fixed hand: a small white triangle with a dark outline. */
static void mark_hand(cairo_t *cr, double x, double y, double r) {
  cairo_new_path(cr);
  cairo_move_to(cr, x, y - r);
  cairo_line_to(cr, x + 0.87 * r, y + 0.5 * r);
  cairo_line_to(cr, x - 0.87 * r, y + 0.5 * r);
  cairo_close_path(cr);
  cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
  cairo_fill_preserve(cr);
  cairo_set_source_rgba(cr, 0, 0, 0, 0.85);
  cairo_set_line_width(cr, 1.3);
  cairo_stroke(cr);
}

/* The minimum cell: a square outline, white inside dark. */
static void mark_min(cairo_t *cr, double x, double y, double s) {
  cairo_new_path(cr);
  cairo_rectangle(cr, x + 1, y + 1, s - 2, s - 2);
  cairo_set_source_rgba(cr, 0, 0, 0, 0.85);
  cairo_set_line_width(cr, 3);
  cairo_stroke_preserve(cr);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_set_line_width(cr, 1.3);
  cairo_stroke(cr);
}

/* ---- panels -------------------------------------------------------------------------------- */

/* Colour-scale position of v in [lo, hi]; a flat map sits in the middle of the scale. */
static double scale_t(double v, double lo, double hi) {
  return hi > lo ? (v - lo) / (hi - lo) : 0.5;
}

static bool draw_map(painter *p, const layout *L, const app_heatmap_result *r, int d, double mx,
                     double my) {
  cairo_t *cr = p->cr;
  int n = L->n;
  float lo = 0, hi = 0;
  bool any = app_heatmap_range(r, d, &lo, &hi);
  /* One pixel per cell, row 0 at the top (the largest j), painted with nearest filtering. */
  cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, n, n);
  if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(img);
    return false;
  }
  cairo_surface_flush(img);
  unsigned char *px = cairo_image_surface_get_data(img);
  int stride = cairo_image_surface_get_stride(img);
  for (int row = 0; row < n; row++) {
    uint32_t *line = (uint32_t *)(px + (size_t)row * stride);
    int j = n - 1 - row;
    for (int i = 0; i < n; i++) {
      float v = app_heatmap_value(r, d, i, j);
      unsigned char c[3];
      if (isfinite(v) && any) {
        mb_viridis_rgb8(scale_t(v, lo, hi), c);
      } else {
        for (int k = 0; k < 3; k++) c[k] = (unsigned char)lround(BLOCKED[k] * 255);
      }
      line[i] = (uint32_t)c[0] << 16 | (uint32_t)c[1] << 8 | c[2];
    }
  }
  cairo_surface_mark_dirty(img);
  cairo_save(cr);
  cairo_rectangle(cr, mx, my, L->side, L->side);
  cairo_clip(cr);
  cairo_translate(cr, mx, my);
  cairo_scale(cr, L->cell, L->cell);
  cairo_set_source_surface(cr, img, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_paint(cr);
  cairo_restore(cr);
  cairo_surface_destroy(img);

  const app_heatmap_grid *g = &r->grid;
  double fx = L->side / (g->x1 - g->x0), fy = L->side / (g->y1 - g->y0);
  int bi, bj;
  if (app_heatmap_argmin(r, d, &bi, &bj))
    mark_min(cr, mx + bi * L->cell, my + (n - 1 - bj) * L->cell, L->cell);
  mark_hand(cr, mx + (r->hand_xy[0] - g->x0) * fx, my + (g->y1 - r->hand_xy[1]) * fy, 7);
  if (r->have_goal_xy)
    mark_goal(cr, mx + (r->goal_xy[0] - g->x0) * fx, my + (g->y1 - r->goal_xy[1]) * fy, 7);

  /* Frame and axes in metres. */
  set_rgb(cr, INK);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, mx - 0.5, my - 0.5, L->side + 1, L->side + 1);
  cairo_stroke(cr);
  MbTicks t;
  char lab[32];
  mb_ticks_linear(g->x0, g->x1, 5, &t);
  for (int k = 0; k < t.n; k++) {
    double x = mx + (t.value[k] - g->x0) * fx;
    cairo_move_to(cr, x, my + L->side + 0.5);
    cairo_line_to(cr, x, my + L->side + 0.5 + TICK_LEN);
    cairo_stroke(cr);
    mb_ticks_label(&t, k, lab, sizeof lab);
    text(p, TEXT_SMALL, lab, x, my + L->side + TICK_LEN + 3, 0.5, 0, false);
  }
  text(p, TEXT_NORMAL, "x (m)", mx + L->side / 2, my + L->side + 30, 0.5, 0, false);
  mb_ticks_linear(g->y0, g->y1, 5, &t);
  for (int k = 0; k < t.n; k++) {
    double y = my + (g->y1 - t.value[k]) * fy;
    cairo_move_to(cr, mx - 0.5, y);
    cairo_line_to(cr, mx - 0.5 - TICK_LEN, y);
    cairo_stroke(cr);
    mb_ticks_label(&t, k, lab, sizeof lab);
    text(p, TEXT_SMALL, lab, mx - TICK_LEN - 4, y, 1, 0.5, false);
  }
  text(p, TEXT_NORMAL, "y (m)", mx - AXIS_W + 2, my + L->side / 2, 0.5, 0, true);

  /* Colour bar with ticks over the value range and the units along it. */
  double bx = mx + L->side + BAR_GAP, by = my, bh = L->side;
  if (any) {
    for (int e = 0; e < MB_VIRIDIS_SIZE; e++) {
      float rgb[3];
      mb_viridis_entry(e, rgb);
      cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
      double y0 = by + bh * (1 - (e + 1.0) / MB_VIRIDIS_SIZE);
      cairo_rectangle(cr, bx, y0, BAR_W, bh / MB_VIRIDIS_SIZE + 0.5);
      cairo_fill(cr);
    }
    set_rgb(cr, INK);
    cairo_rectangle(cr, bx - 0.5, by - 0.5, BAR_W + 1, bh + 1);
    cairo_stroke(cr);
    if (hi > lo) {
      mb_ticks_linear(lo, hi, 6, &t);
      for (int k = 0; k < t.n; k++) {
        double y = by + bh * (1 - scale_t(t.value[k], lo, hi));
        cairo_move_to(cr, bx + BAR_W + 0.5, y);
        cairo_line_to(cr, bx + BAR_W + 0.5 + TICK_LEN, y);
        cairo_stroke(cr);
        mb_ticks_label(&t, k, lab, sizeof lab);
        text(p, TEXT_SMALL, lab, bx + BAR_W + TICK_LEN + 4, y, 0, 0.5, false);
      }
    } else {
      mb_ticks_format(lo, 3, lab, sizeof lab);
      text(p, TEXT_SMALL, lab, bx + BAR_W + TICK_LEN + 4, by + bh / 2, 0, 0.5, false);
    }
  } else {
    set_rgb(cr, INK);
    text(p, TEXT_SMALL, "no values", bx, by + bh / 2, 0, 0.5, false);
  }
  set_rgb(cr, INK);
  text(p, TEXT_NORMAL, app_heatmap_units(r->kinds[d]), bx + BAR_W + BAR_LABEL_W + UNITS_W / 2,
       by + bh / 2, 0.5, 0.5, true);

  text(p, TEXT_HEAD, app_heatmap_title(r->kinds[d]), mx + L->side / 2, my - 10, 0.5, 1, false);
  return true;
}

static void draw_goal(painter *p, const layout *L, const app_heatmap_result *r, bool any_blocked) {
  cairo_t *cr = p->cr;
  double gx = MARGIN, gy = L->top + HEAD_H;
  set_rgb(cr, INK);
  text(p, TEXT_HEAD, "goal image", gx + GOAL_SIDE / 2, gy - 10, 0.5, 1, false);
  cairo_surface_t *img =
      cairo_image_surface_create(CAIRO_FORMAT_RGB24, SIM_IMAGE_SIZE, SIM_IMAGE_SIZE);
  if (cairo_surface_status(img) == CAIRO_STATUS_SUCCESS) {
    cairo_surface_flush(img);
    unsigned char *px = cairo_image_surface_get_data(img);
    int stride = cairo_image_surface_get_stride(img);
    for (int y = 0; y < SIM_IMAGE_SIZE; y++) {
      uint32_t *line = (uint32_t *)(px + (size_t)y * stride);
      const uint8_t *src = r->goal_image + (size_t)y * SIM_IMAGE_SIZE * 3;
      for (int x = 0; x < SIM_IMAGE_SIZE; x++)
        line[x] = (uint32_t)src[3 * x] << 16 | (uint32_t)src[3 * x + 1] << 8 | src[3 * x + 2];
    }
    cairo_surface_mark_dirty(img);
    cairo_save(cr);
    cairo_translate(cr, gx, gy);
    cairo_scale(cr, GOAL_SIDE / SIM_IMAGE_SIZE, GOAL_SIDE / SIM_IMAGE_SIZE);
    cairo_set_source_surface(cr, img, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_paint(cr);
    cairo_restore(cr);
  }
  cairo_surface_destroy(img);
  set_rgb(cr, INK);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, gx - 0.5, gy - 0.5, GOAL_SIDE + 1, GOAL_SIDE + 1);
  cairo_stroke(cr);

  /* Legend of the marks drawn on the maps. */
  double ly = gy + GOAL_SIDE + 24, lx = gx + 10, step = 22;
  char line[96];
  if (r->have_goal_xy) {
    mark_goal(cr, lx, ly, 6);
    set_rgb(cr, INK);
    snprintf(line, sizeof line, "goal position of block %d (%.2f, %.2f)", r->target, r->goal_xy[0],
             r->goal_xy[1]);
    text(p, TEXT_SMALL, line, lx + 18, ly, 0, 0.5, false);
    ly += step;
  }
  mark_hand(cr, lx, ly, 6);
  set_rgb(cr, INK);
  text(p, TEXT_SMALL, "hand (fixed at the start state)", lx + 18, ly, 0, 0.5, false);
  ly += step;
  mark_min(cr, lx - 6, ly - 6, 12);
  set_rgb(cr, INK);
  text(p, TEXT_SMALL, "smallest distance", lx + 18, ly, 0, 0.5, false);
  ly += step;
  if (any_blocked) {
    cairo_rectangle(cr, lx - 6, ly - 6, 12, 12);
    set_rgb(cr, BLOCKED);
    cairo_fill_preserve(cr);
    set_rgb(cr, INK);
    cairo_stroke(cr);
    text(p, TEXT_SMALL, "block would touch another block", lx + 18, ly, 0, 0.5, false);
  }
}

cairo_surface_t *app_heatmap_png_draw(const app_heatmap_result *r,
                                      const app_heatmap_png_options *opt, char *err,
                                      size_t err_sz) {
  if (!r->values || r->grid.n < 1 || r->n_distances < 1)
    return mb_fail_null(err, err_sz, "heatmap figure: no values to draw");
  layout L;
  make_layout(r, opt, &L);
  double scale = opt && opt->scale > 0 ? opt->scale : 1;
  if (scale > 8) scale = 8;
  int w = (int)ceil(L.width * scale), h = (int)ceil(L.height * scale);
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
  if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(s);
    return mb_fail_null(err, err_sz, "heatmap figure: cannot make a %d x %d image", w, h);
  }
  cairo_t *cr = cairo_create(s);
  cairo_scale(cr, scale, scale);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  painter p;
  painter_init(&p, cr);
  set_rgb(cr, INK);
  const char *title =
      opt && opt->title ? opt->title : "Distance to the goal over the block's start position";
  text(&p, TEXT_TITLE, title, MARGIN, MARGIN, 0, 0, false);
  if (opt && opt->subtitle) {
    cairo_set_source_rgb(cr, 0.35, 0.35, 0.38);
    /* A long folder name is shortened in the middle rather than run off the figure. */
    pango_layout_set_width(p.pl, (int)((L.width - 2 * MARGIN) * PANGO_SCALE));
    pango_layout_set_ellipsize(p.pl, PANGO_ELLIPSIZE_MIDDLE);
    text(&p, TEXT_NORMAL, opt->subtitle, MARGIN, MARGIN + 28, 0, 0, false);
    pango_layout_set_width(p.pl, -1);
    pango_layout_set_ellipsize(p.pl, PANGO_ELLIPSIZE_NONE);
  }
  bool any_blocked = false;
  for (int c = 0; r->blocked && c < r->grid.n * r->grid.n; c++) any_blocked |= r->blocked[c];
  draw_goal(&p, &L, r, any_blocked);
  bool ok = true;
  for (int d = 0; d < r->n_distances && ok; d++)
    ok = draw_map(&p, &L, r, d, L.panel_x + d * L.panel_w + AXIS_W, L.top + HEAD_H);
  painter_clear(&p);
  cairo_status_t st = cairo_status(cr);
  cairo_destroy(cr);
  cairo_surface_flush(s);
  if (!ok || st != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(s);
    return mb_fail_null(err, err_sz, "heatmap figure: drawing failed (%s)",
                        cairo_status_to_string(st));
  }
  return s;
}

typedef struct png_buf {
  unsigned char *data; /* bytes so far (owned) */
  size_t size, cap;    /* used and allocated */
} png_buf;

static cairo_status_t png_append(void *user, const unsigned char *data, unsigned int len) {
  png_buf *b = user;
  if (b->size + len > b->cap) {
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < b->size + len) cap *= 2;
    unsigned char *nd = realloc(b->data, cap);
    if (!nd) return CAIRO_STATUS_NO_MEMORY;
    b->data = nd, b->cap = cap;
  }
  memcpy(b->data + b->size, data, len);
  b->size += len;
  return CAIRO_STATUS_SUCCESS;
}

bool app_heatmap_png_write(const app_heatmap_result *r, const app_heatmap_png_options *opt,
                           const char *path, char *err, size_t err_sz) {
  cairo_surface_t *s = app_heatmap_png_draw(r, opt, err, err_sz);
  if (!s) return false;
  /* Encoded in memory, then written atomically: never a half-written PNG. */
  png_buf b = {0};
  cairo_status_t st = cairo_surface_write_to_png_stream(s, png_append, &b);
  cairo_surface_destroy(s);
  bool ok = st == CAIRO_STATUS_SUCCESS ? mb_write_file_atomic(path, b.data, b.size, err, err_sz)
                                       : mb_fail(err, err_sz, "%s: PNG encoding failed (%s)", path,
                                                 cairo_status_to_string(st));
  free(b.data);
  return ok;
}
