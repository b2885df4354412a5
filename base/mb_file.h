/* Files that are never half-written: every output of the program (datasets excepted, which HDF5
 * writes in place and makes crash-safe by flushing whole episodes) goes through an atomic writer:
 * write to "<path>.tmp-<pid>", fsync, rename over the final name, fsync the directory. */
#ifndef MB_FILE_H
#define MB_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct mb_atomic_file {
  FILE *fp;       /* write here; NULL after commit/abort */
  char *path;     /* final path (owned) */
  char *tmp_path; /* temporary path (owned) */
} mb_atomic_file;

/* Opens a temporary file beside `path`. Returns false and fills err if the folder is not writable.
 */
bool mb_atomic_open(mb_atomic_file *f, const char *path, char *err, size_t err_sz);
/* Flushes, fsyncs and renames over `path`. On failure the temporary file is removed and the old
 * file (if any) stays untouched. Frees f's strings either way. */
bool mb_atomic_commit(mb_atomic_file *f, char *err, size_t err_sz);
/* Drops the temporary file; the final path is untouched. Safe to call after a failed commit. */
void mb_atomic_abort(mb_atomic_file *f);

/* Writes `size` bytes to `path` atomically. */
bool mb_write_file_atomic(const char *path, const void *data, size_t size, char *err,
                          size_t err_sz);

/* Reads a whole file into a malloc'd buffer (NUL-terminated for convenience; *size excludes it).
 * Returns NULL and fills err on failure. Caller frees. */
void *mb_read_file(const char *path, size_t *size, char *err, size_t err_sz);

bool mb_file_exists(const char *path);
bool mb_is_dir(const char *path);
/* mkdir -p. */
bool mb_mkdir_p(const char *path, char *err, size_t err_sz);

/* Joins a folder and a file name into a malloc'd string. */
char *mb_path_join(const char *dir, const char *name);

#endif
