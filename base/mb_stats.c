#include "mb_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void mb_wilson95(int successes, int n, double *lo, double *hi) {
  if (n <= 0) {
    *lo = 0, *hi = 1;
    return;
  }
  const double z = 1.959963984540054;
  double p = (double)successes / n, z2 = z * z;
  double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  double half = z * sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / (1 + z2 / n);
  *lo = fmax(0, centre - half);
  *hi = fmin(1, centre + half);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double mb_median(const double *v, int n) {
  if (n <= 0) return 0;
  double *c = malloc(sizeof(double) * (size_t)n);
  if (!c) return NAN;
  memcpy(c, v, sizeof(double) * (size_t)n);
  qsort(c, (size_t)n, sizeof(double), cmp_double);
  double m = n % 2 ? c[n / 2] : 0.5 * (c[n / 2 - 1] + c[n / 2]);
  free(c);
  return m;
}

double mb_mean(const double *v, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += v[i];
  return n > 0 ? s / n : 0;
}
