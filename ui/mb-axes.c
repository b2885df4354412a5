/* Cartesian axes for plots and histograms; see mb-axes.h. */
#include "mb-axes.h"

#include <math.h>

#define PAD       10
#define TICK      4
#define SAMPLE_W  22 /* legend sample length */
#define ENTRY_GAP 16 /* between legend entries */

static void y_ticks(MbAxes *ax, double plot_h) {
  const MbAxesSpec *s = &ax->spec;
  if (s->log_y) {
    mb_ticks_log(s->y_lo, s->y_hi, &ax->yt);
    return;
  }
  int target = CLAMP((int)(plot_h / 40), 2, 10);
  mb_ticks_linear(s->y_lo, s->y_hi, target, &ax->yt);
  if (s->y_integer && ax->yt.step > 0 && ax->yt.step < 1) {
    /* Counts: a tick on every whole number instead of fractions. */
    ax->yt.n = 0;
    for (double v = ceil(s->y_lo); v <= s->y_hi && ax->yt.n < MB_TICKS_MAX; v += 1)
      ax->yt.value[ax->yt.n++] = v;
    ax->yt.step = 1;
    ax->yt.decimals = 0;
  }
}

static double max_tick_width(MbDrawStyle *st, const MbTicks *t) {
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

static double entry_width(MbDrawStyle *st, const MbLegendEntry *e) {
  double w;
  mb_draw_text_size(st, MB_TEXT_SMALL, e->name, &w, NULL);
  return SAMPLE_W + 6 + w;
}

/* Number of legend rows when entries wrap within width. */
static int legend_rows(MbDrawStyle *st, const MbAxesSpec *s, double width) {
  int rows = 0;
  double x = 0;
  for (int k = 0; k < s->n_legend; k++) {
    if (!s->legend[k].name) continue;
    double w = entry_width(st, &s->legend[k]);
    if (rows == 0 || (x > 0 && x + w > width)) rows++, x = 0;
    x += w + ENTRY_GAP;
  }
  return rows;
}

void mb_axes_layout(MbAxes *ax, const MbAxesSpec *spec, MbDrawStyle *st, double width,
                    double height) {
  memset(ax, 0, sizeof *ax);
  ax->spec = *spec;
  ax->width = width, ax->height = height;
  double th, sh, lh;
  mb_draw_text_size(st, MB_TEXT_BOLD, "Ag", NULL, &th);
  mb_draw_text_size(st, MB_TEXT_SMALL, "Ag", NULL, &sh);
  mb_draw_text_size(st, MB_TEXT_NORMAL, "Ag", NULL, &lh);
  gboolean has_title = spec->title && *spec->title;
  gboolean has_xl = spec->x_label && *spec->x_label, has_yl = spec->y_label && *spec->y_label;

  double top = PAD;
  if (has_title) {
    ax->title_y = top + th / 2;
    top += th + 6;
  }
  int rows = legend_rows(st, spec, width - 2 * PAD);
  ax->legend_row_h = sh + 4;
  ax->legend_y = top;
  if (rows) top += rows * ax->legend_row_h + 6;
  double bottom = PAD + (has_xl ? lh + 4 : 0) + sh + TICK + 4;

  /* Tick density depends on the plot size, which depends on the tick labels' width: estimate
   * with the whole height, then settle with the real one. */
  y_ticks(ax, height - top - bottom);
  double left = PAD + (has_yl ? lh + 6 : 0) + max_tick_width(st, &ax->yt) + TICK + 4;
  y_ticks(ax, height - top - bottom);
  left = MAX(left, PAD + (has_yl ? lh + 6 : 0) + max_tick_width(st, &ax->yt) + TICK + 4);
  double right = PAD + 14; /* room for half of the last x label */
  double pw = width - left - right, ph = height - top - bottom;
  if (pw < 24 || ph < 24) return;
  mb_ticks_linear(spec->x_lo, spec->x_hi, CLAMP((int)(pw / 80), 2, 10), &ax->xt);
  graphene_rect_init(&ax->plot, floor(left), floor(top), floor(pw), floor(ph));
  ax->x_label_y = ax->plot.origin.y + ax->plot.size.height + TICK + 4 + sh + 4 + lh / 2;
  ax->y_label_x = PAD + lh / 2;
  ax->ok = TRUE;
}

double mb_axes_x_to_px(const MbAxes *ax, double x) {
  return ax->plot.origin.x +
         (x - ax->spec.x_lo) / (ax->spec.x_hi - ax->spec.x_lo) * ax->plot.size.width;
}

double mb_axes_px_to_x(const MbAxes *ax, double px) {
  return ax->spec.x_lo +
         (px - ax->plot.origin.x) / ax->plot.size.width * (ax->spec.x_hi - ax->spec.x_lo);
}

double mb_axes_y_to_px(const MbAxes *ax, double y) {
  double t;
  if (ax->spec.log_y) {
    if (!(y > 0)) return NAN;
    t = (log10(y) - log10(ax->spec.y_lo)) / (log10(ax->spec.y_hi) - log10(ax->spec.y_lo));
  } else {
    t = (y - ax->spec.y_lo) / (ax->spec.y_hi - ax->spec.y_lo);
  }
  return ax->plot.origin.y + ax->plot.size.height * (1 - t);
}

static void draw_legend(const MbAxes *ax, MbDrawStyle *st) {
  cairo_t *cr = st->cr;
  const MbAxesSpec *s = &ax->spec;
  double x = PAD, y = ax->legend_y;
  gboolean first = TRUE;
  for (int k = 0; k < s->n_legend; k++) {
    const MbLegendEntry *e = &s->legend[k];
    if (!e->name) continue;
    double w = entry_width(st, e);
    if (!first && x + w > ax->width - PAD) x = PAD, y += ax->legend_row_h;
    first = FALSE;
    double cy = y + ax->legend_row_h / 2;
    GdkRGBA c = e->color;
    if (e->kind == MB_LEGEND_BOX) {
      cairo_rectangle(cr, x + 5.5, cy - 5.5, 11, 11);
      c.alpha = 0.35f;
      mb_cairo_set_rgba(cr, &c);
      cairo_fill_preserve(cr);
      c.alpha = 1;
      mb_cairo_set_rgba(cr, &c);
      cairo_set_line_width(cr, 1.5);
      cairo_stroke(cr);
    } else {
      if (e->band) {
        GdkRGBA b = c;
        b.alpha = 0.2f;
        mb_cairo_set_rgba(cr, &b);
        cairo_rectangle(cr, x, cy - 5, SAMPLE_W, 10);
        cairo_fill(cr);
      }
      mb_cairo_set_rgba(cr, &c);
      cairo_set_line_width(cr, 2);
      if (e->dashed) cairo_set_dash(cr, (double[]){5, 3}, 2, 0);
      cairo_move_to(cr, x, cy);
      cairo_line_to(cr, x + SAMPLE_W, cy);
      cairo_stroke(cr);
      cairo_set_dash(cr, NULL, 0, 0);
    }
    mb_cairo_set_rgba(cr, &st->fg);
    mb_draw_text(st, MB_TEXT_SMALL, e->name, x + SAMPLE_W + 6, cy, 0, 0.5, FALSE);
    x += w + ENTRY_GAP;
  }
}

void mb_axes_draw(const MbAxes *ax, MbDrawStyle *st) {
  if (!ax->ok) return;
  cairo_t *cr = st->cr;
  const graphene_rect_t *p = &ax->plot;
  double x0 = p->origin.x, y0 = p->origin.y, x1 = x0 + p->size.width, y1 = y0 + p->size.height;
  char buf[32];
  cairo_set_line_width(cr, 1);

  /* Grid. */
  mb_cairo_set_rgba(cr, &st->grid);
  for (int k = 0; k < ax->xt.n; k++) {
    double x = round(mb_axes_x_to_px(ax, ax->xt.value[k])) + 0.5;
    cairo_move_to(cr, x, y0);
    cairo_line_to(cr, x, y1);
  }
  for (int k = 0; k < ax->yt.n; k++) {
    double y = round(mb_axes_y_to_px(ax, ax->yt.value[k])) + 0.5;
    cairo_move_to(cr, x0, y);
    cairo_line_to(cr, x1, y);
  }
  cairo_stroke(cr);

  /* Frame, ticks and labels. */
  GdkRGBA axis = st->fg;
  axis.alpha *= 0.7f;
  mb_cairo_set_rgba(cr, &axis);
  cairo_rectangle(cr, x0 + 0.5, y0 + 0.5, p->size.width - 1, p->size.height - 1);
  cairo_stroke(cr);
  for (int k = 0; k < ax->xt.n; k++) {
    double x = round(mb_axes_x_to_px(ax, ax->xt.value[k])) + 0.5;
    cairo_move_to(cr, x, y1);
    cairo_line_to(cr, x, y1 + TICK);
    cairo_stroke(cr);
  }
  for (int k = 0; k < ax->yt.n; k++) {
    double y = round(mb_axes_y_to_px(ax, ax->yt.value[k])) + 0.5;
    cairo_move_to(cr, x0, y);
    cairo_line_to(cr, x0 - TICK, y);
    cairo_stroke(cr);
  }
  mb_cairo_set_rgba(cr, &st->fg);
  for (int k = 0; k < ax->xt.n; k++) {
    mb_ticks_label(&ax->xt, k, buf, sizeof buf);
    mb_draw_text(st, MB_TEXT_SMALL, buf, round(mb_axes_x_to_px(ax, ax->xt.value[k])), y1 + TICK + 2,
                 0.5, 0, FALSE);
  }
  for (int k = 0; k < ax->yt.n; k++) {
    mb_ticks_label(&ax->yt, k, buf, sizeof buf);
    mb_draw_text(st, MB_TEXT_SMALL, buf, x0 - TICK - 3, round(mb_axes_y_to_px(ax, ax->yt.value[k])),
                 1, 0.5, FALSE);
  }
  const MbAxesSpec *s = &ax->spec;
  if (s->x_label && *s->x_label)
    mb_draw_text(st, MB_TEXT_NORMAL, s->x_label, x0 + p->size.width / 2, ax->x_label_y, 0.5, 0.5,
                 FALSE);
  if (s->y_label && *s->y_label)
    mb_draw_text(st, MB_TEXT_NORMAL, s->y_label, ax->y_label_x, y0 + p->size.height / 2, 0.5, 0.5,
                 TRUE);
  if (s->title && *s->title)
    mb_draw_text(st, MB_TEXT_BOLD, s->title, x0 + p->size.width / 2, ax->title_y, 0.5, 0.5, FALSE);
  draw_legend(ax, st);
}

void mb_axes_draw_message(const MbAxes *ax, MbDrawStyle *st, const char *text) {
  if (!ax->ok) return;
  GdkRGBA dim = st->fg;
  dim.alpha *= 0.55f;
  mb_cairo_set_rgba(st->cr, &dim);
  mb_draw_text(st, MB_TEXT_NORMAL, text, ax->plot.origin.x + ax->plot.size.width / 2,
               ax->plot.origin.y + ax->plot.size.height / 2, 0.5, 0.5, FALSE);
}

void mb_axes_nice_range(double *lo, double *hi, gboolean log_axis) {
  if (log_axis) {
    if (!(*lo > 0) || !isfinite(*lo)) *lo = 1;
    if (!(*hi >= *lo) || !isfinite(*hi)) *hi = *lo;
    *lo = pow(10.0, floor(log10(*lo) + 1e-9));
    *hi = pow(10.0, ceil(log10(*hi) - 1e-9));
    if (!(*hi > *lo)) *hi = *lo * 10;
    return;
  }
  mb_ticks_round_range(lo, hi, 6);
}
