/* Small statistics for reports: success intervals and medians. */
#ifndef MB_STATS_H
#define MB_STATS_H

/* Wilson score interval for `successes` out of `n` at ~95% (z = 1.96); [0, 1] when n = 0. */
void mb_wilson95(int successes, int n, double *lo, double *hi);
/* Median of n values (the array is left unchanged); 0 when n = 0. */
double mb_median(const double *v, int n);
/* Mean of n values; 0 when n = 0. */
double mb_mean(const double *v, int n);

#endif
