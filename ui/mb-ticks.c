/* Axis ticks; see mb-ticks.h. */
#include "mb-ticks.h"

#include <math.h>
#include <stdio.h>

static double nice_step(double span, int target) {
  if (target < 2) target = 2;
  double raw = span / (target - 1);
  double mag = pow(10.0, floor(log10(raw)));
  double f = raw / mag;
  double nice = f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10;
  return nice * mag;
}

static int decimals_for(double step) {
  int d = (int)ceil(-log10(step) - 1e-9);
  if (d < 0) d = 0;
  /* 2.5 x 10^k never occurs (steps are 1, 2, 5), so one extra digit is never needed. */
  return d;
}

void mb_ticks_linear(double lo, double hi, int target, MbTicks *out) {
  out->log = 0;
  out->n = 0;
  out->step = 0;
  out->decimals = 0;
  if (!isfinite(lo) || !isfinite(hi) || !(hi > lo)) return;
  double step = nice_step(hi - lo, target);
  double first = ceil(lo / step - 1e-9) * step;
  for (double v = first; v <= hi + step * 1e-9 && out->n < MB_TICKS_MAX; v += step) {
    /* Snap to the grid so accumulated error never prints as 0.30000000004. */
    double snapped = round(v / step) * step;
    out->value[out->n++] = fabs(snapped) < step * 1e-9 ? 0.0 : snapped;
  }
  out->step = step;
  out->decimals = decimals_for(step);
}

void mb_ticks_log(double lo, double hi, MbTicks *out) {
  out->log = 1;
  out->n = 0;
  out->step = 0;
  out->decimals = 0;
  if (!isfinite(lo) || !isfinite(hi) || !(lo > 0) || !(hi > lo)) return;
  int e0 = (int)floor(log10(lo)), e1 = (int)ceil(log10(hi));
  static const double all[] = {1, 2, 5};
  int per = (e1 - e0 < 3) ? 3 : 1;
  int stride = (e1 - e0 + 1 > 8) ? (e1 - e0 + 8) / 8 : 1; /* at most ~8 decades labelled */
  int min_decimals = 0;
  for (int e = e0; e <= e1; e += stride) {
    for (int m = 0; m < per; m++) {
      double v = all[m] * pow(10.0, e);
      if (v < lo * (1 - 1e-9) || v > hi * (1 + 1e-9) || out->n >= MB_TICKS_MAX) continue;
      out->value[out->n++] = v;
      if (-e > min_decimals) min_decimals = -e;
    }
  }
  out->decimals = min_decimals;
}

void mb_ticks_round_range(double *lo, double *hi, int target) {
  if (!isfinite(*lo) || !isfinite(*hi)) return;
  if (!(*hi > *lo)) {
    double pad = fabs(*lo) > 0 ? fabs(*lo) * 0.1 : 1.0;
    *lo -= pad;
    *hi += pad;
  }
  double step = nice_step(*hi - *lo, target);
  *lo = floor(*lo / step + 1e-9) * step;
  *hi = ceil(*hi / step - 1e-9) * step;
}

void mb_ticks_label(const MbTicks *t, int k, char *buf, size_t buf_sz) {
  double v = t->value[k];
  int decimals = t->decimals;
  if (t->log && v > 0) {
    decimals = (int)ceil(-log10(v) - 1e-9);
    if (decimals < 0) decimals = 0;
  }
  mb_ticks_format(v, decimals, buf, buf_sz);
}

void mb_ticks_format(double v, int decimals, char *buf, size_t buf_sz) {
  double a = fabs(v);
  if (decimals > 6 || (a >= 1e6 && a > 0)) {
    snprintf(buf, buf_sz, "%.3g", v);
    return;
  }
  double unit = pow(10.0, -decimals);
  if (a < unit * 0.5) v = 0.0;
  snprintf(buf, buf_sz, "%.*f", decimals, v);
}
