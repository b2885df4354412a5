/* Error reporting convention shared by every library (STYLE.md): a function that can fail takes a
 * caller-supplied buffer `char *err, size_t err_sz` (either may be NULL/0) and fills it with one
 * line naming the file or argument and the cause. Core code never exits; only app/ maps errors to
 * exit codes and dialogs. */
#ifndef MB_ERR_H
#define MB_ERR_H

#include <stddef.h>

#if defined(__GNUC__)
#define MB_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define MB_PRINTF(fmt, args)
#endif

/* Writes a formatted message into err (if non-NULL). Always returns false so that callers can write
 * `return mb_fail(err, err_sz, "...")` from functions returning bool. */
_Bool mb_fail(char *err, size_t err_sz, const char *fmt, ...) MB_PRINTF(3, 4);

/* Like mb_fail, for functions returning a pointer: returns NULL. */
void *mb_fail_null(char *err, size_t err_sz, const char *fmt, ...) MB_PRINTF(3, 4);

#endif
