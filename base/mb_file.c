#include "mb_file.h"
#include "mb_err.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *mb_path_join(const char *dir, const char *name) {
  size_t a = strlen(dir), b = strlen(name);
  bool slash = a > 0 && dir[a - 1] != '/';
  char *p = malloc(a + b + 2);
  if (!p) return NULL;
  memcpy(p, dir, a);
  if (slash) p[a++] = '/';
  memcpy(p + a, name, b + 1);
  return p;
}

static void fsync_parent_dir(const char *path) {
  char *copy = strdup(path);
  if (!copy) return;
  int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
  free(copy);
}

bool mb_atomic_open(mb_atomic_file *f, const char *path, char *err, size_t err_sz) {
  memset(f, 0, sizeof(*f));
  size_t n = strlen(path) + 32;
  f->path = strdup(path);
  f->tmp_path = malloc(n);
  if (!f->path || !f->tmp_path) {
    mb_atomic_abort(f);
    return mb_fail(err, err_sz, "%s: out of memory", path);
  }
  snprintf(f->tmp_path, n, "%s.tmp-%ld", path, (long)getpid());
  f->fp = fopen(f->tmp_path, "wb");
  if (!f->fp) {
    int e = errno;
    mb_atomic_abort(f);
    return mb_fail(err, err_sz, "%s: cannot write: %s", path, strerror(e));
  }
  return true;
}

bool mb_atomic_commit(mb_atomic_file *f, char *err, size_t err_sz) {
  bool ok = true;
  int e = 0;
  if (!f->fp) {
    mb_atomic_abort(f);
    return mb_fail(err, err_sz, "atomic file: nothing open");
  }
  if (fflush(f->fp) != 0 || fsync(fileno(f->fp)) != 0 || ferror(f->fp)) {
    ok = false;
    e = errno;
  }
  if (fclose(f->fp) != 0 && ok) {
    ok = false;
    e = errno;
  }
  f->fp = NULL;
  if (ok && rename(f->tmp_path, f->path) != 0) {
    ok = false;
    e = errno;
  }
  if (!ok) {
    mb_fail(err, err_sz, "%s: write failed: %s", f->path, strerror(e));
    mb_atomic_abort(f);
    return false;
  }
  fsync_parent_dir(f->path);
  free(f->path);
  free(f->tmp_path);
  f->path = f->tmp_path = NULL;
  return true;
}

void mb_atomic_abort(mb_atomic_file *f) {
  if (f->fp) fclose(f->fp);
  if (f->tmp_path) unlink(f->tmp_path);
  free(f->path);
  free(f->tmp_path);
  memset(f, 0, sizeof(*f));
}

bool mb_write_file_atomic(const char *path, const void *data, size_t size, char *err,
                          size_t err_sz) {
  mb_atomic_file f;
  if (!mb_atomic_open(&f, path, err, err_sz)) return false;
  if (size > 0 && fwrite(data, 1, size, f.fp) != size) {
    int e = errno;
    mb_atomic_abort(&f);
    return mb_fail(err, err_sz, "%s: write failed: %s", path, strerror(e));
  }
  return mb_atomic_commit(&f, err, err_sz);
}

void *mb_read_file(const char *path, size_t *size, char *err, size_t err_sz) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return mb_fail_null(err, err_sz, "%s: cannot open: %s", path, strerror(errno));
  if (fseek(fp, 0, SEEK_END) != 0) {
    fclose(fp);
    return mb_fail_null(err, err_sz, "%s: cannot seek (not a regular file?)", path);
  }
  long len = ftell(fp);
  if (len < 0) {
    fclose(fp);
    return mb_fail_null(err, err_sz, "%s: not a regular file", path);
  }
  rewind(fp);
  char *buf = malloc((size_t)len + 1);
  if (!buf) {
    fclose(fp);
    return mb_fail_null(err, err_sz, "%s: out of memory (%ld bytes)", path, len);
  }
  if (len > 0 && fread(buf, 1, (size_t)len, fp) != (size_t)len) {
    fclose(fp);
    free(buf);
    return mb_fail_null(err, err_sz, "%s: read failed", path);
  }
  fclose(fp);
  buf[len] = 0;
  if (size) *size = (size_t)len;
  return buf;
}

bool mb_file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

bool mb_is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool mb_mkdir_p(const char *path, char *err, size_t err_sz) {
  char *p = strdup(path);
  if (!p) return mb_fail(err, err_sz, "%s: out of memory", path);
  for (char *s = p + 1; *s; s++) {
    if (*s != '/') continue;
    *s = 0;
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
      int e = errno;
      free(p);
      return mb_fail(err, err_sz, "%s: cannot create folder: %s", path, strerror(e));
    }
    *s = '/';
  }
  if (mkdir(p, 0755) != 0 && errno != EEXIST) {
    int e = errno;
    free(p);
    return mb_fail(err, err_sz, "%s: cannot create folder: %s", path, strerror(e));
  }
  free(p);
  if (!mb_is_dir(path)) return mb_fail(err, err_sz, "%s: exists and is not a folder", path);
  return true;
}
