#include "mb_err.h"

#include <stdarg.h>
#include <stdio.h>

static void mb_vformat(char *err, size_t err_sz, const char *fmt, va_list ap) {
  if (err && err_sz > 0) vsnprintf(err, err_sz, fmt, ap);
}

_Bool mb_fail(char *err, size_t err_sz, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  mb_vformat(err, err_sz, fmt, ap);
  va_end(ap);
  return 0;
}

void *mb_fail_null(char *err, size_t err_sz, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  mb_vformat(err, err_sz, fmt, ap);
  va_end(ap);
  return NULL;
}
