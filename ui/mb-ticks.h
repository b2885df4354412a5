/* Axis tick placement for plots, histograms, heatmaps and colour bars, plain C. */
#ifndef MB_TICKS_H
#define MB_TICKS_H

#include <stddef.h>

#define MB_TICKS_MAX 32

typedef struct {
  double value[MB_TICKS_MAX]; /* tick positions in data units, increasing (n) */
  int n;                      /* number of ticks, 0..MB_TICKS_MAX */
  double step;                /* spacing of linear ticks (1, 2 or 5 x 10^k); 0 for log ticks */
  int decimals;               /* digits after the point that tell neighbouring ticks apart */
  int log;                    /* 1 for ticks from mb_ticks_log: each label gets its own digits */
} MbTicks;

/* "Nice" linear ticks (steps of 1, 2 or 5 x 10^k) inside [lo, hi], about target of them (>= 2).
 * A degenerate or non-finite range gives no ticks. */
void mb_ticks_linear(double lo, double hi, int target, MbTicks *out);

/* Ticks at powers of ten inside [lo, hi] (both > 0); when fewer than two decades are in the range,
 * also at 2x and 5x. A range that is not positive and finite gives no ticks. */
void mb_ticks_log(double lo, double hi, MbTicks *out);

/* Expands [*lo, *hi] outwards to multiples of the nice step for about target ticks, so that axes
 * start and end on a tick. A degenerate range is widened around its value first. */
void mb_ticks_round_range(double *lo, double *hi, int target);

/* Label of tick k: linear ticks with the shared decimals, log ticks with the digits each value
 * needs (0.01, 0.1, 1, 10). */
void mb_ticks_label(const MbTicks *t, int k, char *buf, size_t buf_sz);

/* Formats v with the given decimals; switches to %g style for very large or small magnitudes, and
 * writes "0" for values that are zero up to rounding (no "-0.00"). */
void mb_ticks_format(double v, int decimals, char *buf, size_t buf_sz);

#endif
