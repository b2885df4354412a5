/* safetensors reading and writing (see safetensors.h). */
#include "safetensors.h"

#include "cmp_backend.h" /* cmp_die */
#include "mb_err.h"
#include "mb_file.h"
#include "mb_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Header sizes beyond this are no safetensors file of ours (the reference reader caps at 100 MB).
 */
#define ST_MAX_HEADER (100u << 20)

typedef struct st_item {
  char *name;                 /* owned */
  const char *dtype;          /* "F32" | "I64" */
  int ndim;                   /* dimensions */
  int64_t shape[ST_MAX_DIMS]; /* shape */
  void *data;                 /* owned copy */
  size_t nbytes;              /* bytes */
} st_item;

struct st_writer {
  st_item *items;      /* [count] */
  int count, cap;      /* used, allocated */
  char **meta;         /* [2 * nmeta] key, value (owned) */
  int nmeta, meta_cap; /* used, allocated */
};

static size_t numel_of(int ndim, const int64_t *shape) {
  size_t n = 1;
  for (int i = 0; i < ndim; i++) n *= (size_t)shape[i];
  return n;
}

void st_shape_str(int ndim, const int64_t *shape, char *buf, size_t sz) {
  size_t len = 0;
  len += (size_t)snprintf(buf, sz, "[");
  for (int i = 0; i < ndim && len < sz; i++)
    len += (size_t)snprintf(buf + len, sz - len, "%s%lld", i ? ", " : "", (long long)shape[i]);
  if (len < sz) snprintf(buf + len, sz - len, "]");
}

st_writer *st_writer_create(void) {
  st_writer *w = calloc(1, sizeof *w);
  if (!w) cmp_die("st_writer_create: out of memory");
  return w;
}

void st_writer_destroy(st_writer *w) {
  if (!w) return;
  for (int i = 0; i < w->count; i++) free(w->items[i].name), free(w->items[i].data);
  for (int i = 0; i < 2 * w->nmeta; i++) free(w->meta[i]);
  free(w->items);
  free(w->meta);
  free(w);
}

static void add_item(st_writer *w, const char *name, const char *dtype, int ndim,
                     const int64_t *shape, const void *data, size_t elem) {
  if (ndim < 0 || ndim > ST_MAX_DIMS) cmp_die("st_add %s: %d dimensions", name, ndim);
  for (int i = 0; i < ndim; i++)
    if (shape[i] < 0) cmp_die("st_add %s: negative dimension", name);
  for (int i = 0; i < w->count; i++)
    if (!strcmp(w->items[i].name, name)) cmp_die("st_add: tensor %s added twice", name);
  if (w->count == w->cap) {
    w->cap = w->cap ? 2 * w->cap : 32;
    w->items = realloc(w->items, (size_t)w->cap * sizeof *w->items);
    if (!w->items) cmp_die("st_add: out of memory");
  }
  st_item *it = &w->items[w->count++];
  memset(it, 0, sizeof *it);
  it->name = strdup(name);
  it->dtype = dtype;
  it->ndim = ndim;
  if (ndim) memcpy(it->shape, shape, (size_t)ndim * sizeof *shape);
  it->nbytes = numel_of(ndim, shape) * elem;
  it->data = malloc(it->nbytes ? it->nbytes : 1);
  if (!it->name || !it->data) cmp_die("st_add: out of memory");
  memcpy(it->data, data, it->nbytes);
}

void st_add_f32(st_writer *w, const char *name, int ndim, const int64_t *shape, const float *data) {
  add_item(w, name, "F32", ndim, shape, data, sizeof(float));
}

void st_add_i64(st_writer *w, const char *name, int ndim, const int64_t *shape,
                const int64_t *data) {
  add_item(w, name, "I64", ndim, shape, data, sizeof(int64_t));
}

void st_add_metadata(st_writer *w, const char *key, const char *value) {
  if (w->nmeta == w->meta_cap) {
    w->meta_cap = w->meta_cap ? 2 * w->meta_cap : 8;
    w->meta = realloc(w->meta, 2 * (size_t)w->meta_cap * sizeof *w->meta);
    if (!w->meta) cmp_die("st_add_metadata: out of memory");
  }
  w->meta[2 * w->nmeta] = strdup(key);
  w->meta[2 * w->nmeta + 1] = strdup(value);
  w->nmeta++;
}

bool st_writer_save(const st_writer *w, const char *path, char *err, size_t err_sz) {
  mb_jw jw;
  mb_jw_init(&jw, false);
  mb_jw_begin_object(&jw);
  if (w->nmeta) {
    mb_jw_key(&jw, "__metadata__");
    mb_jw_begin_object(&jw);
    for (int i = 0; i < w->nmeta; i++) mb_jw_kv_string(&jw, w->meta[2 * i], w->meta[2 * i + 1]);
    mb_jw_end_object(&jw);
  }
  size_t off = 0;
  for (int i = 0; i < w->count; i++) {
    const st_item *it = &w->items[i];
    mb_jw_key(&jw, it->name);
    mb_jw_begin_object(&jw);
    mb_jw_kv_string(&jw, "dtype", it->dtype);
    mb_jw_key(&jw, "shape");
    mb_jw_begin_array(&jw);
    for (int d = 0; d < it->ndim; d++) mb_jw_int(&jw, it->shape[d]);
    mb_jw_end_array(&jw);
    mb_jw_key(&jw, "data_offsets");
    mb_jw_begin_array(&jw);
    mb_jw_int(&jw, (int64_t)off);
    mb_jw_int(&jw, (int64_t)(off + it->nbytes));
    mb_jw_end_array(&jw);
    mb_jw_end_object(&jw);
    off += it->nbytes;
  }
  mb_jw_end_object(&jw);
  char *header = mb_jw_take(&jw);
  if (!header) return mb_fail(err, err_sz, "%s: out of memory writing the header", path);
  size_t hlen = strlen(header), padded = (hlen + 7) / 8 * 8;
  uint8_t len8[8];
  for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)padded >> (8 * i));
  mb_atomic_file f;
  if (!mb_atomic_open(&f, path, err, err_sz)) {
    free(header);
    return false;
  }
  bool ok = fwrite(len8, 1, 8, f.fp) == 8 && fwrite(header, 1, hlen, f.fp) == hlen;
  for (size_t i = hlen; ok && i < padded; i++) ok = fputc(' ', f.fp) != EOF;
  for (int i = 0; ok && i < w->count; i++)
    ok = fwrite(w->items[i].data, 1, w->items[i].nbytes, f.fp) == w->items[i].nbytes;
  free(header);
  if (!ok) {
    mb_atomic_abort(&f);
    return mb_fail(err, err_sz, "%s: write failed", path);
  }
  return mb_atomic_commit(&f, err, err_sz);
}

/* ---- reading --------------------------------------------------------------------------------- */

static int dtype_size(const char *d) {
  static const struct {
    const char *name;
    int size;
  } known[] = {{"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4}, {"I16", 2},
               {"I8", 1},  {"U8", 1},  {"U16", 2}, {"U32", 4},  {"U64", 8}, {"BOOL", 1}};
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (!strcmp(d, known[i].name)) return known[i].size;
  return 0;
}

void st_close(st_file *f) {
  if (!f) return;
  for (int i = 0; i < f->count; i++) free(f->tensors[i].name);
  for (int i = 0; i < f->nmeta; i++) free(f->meta_keys[i]), free(f->meta_values[i]);
  free(f->tensors);
  free(f->meta_keys);
  free(f->meta_values);
  free(f->bytes);
  free(f->path);
  free(f);
}

static st_file *fail_close(st_file *f, mb_json *j) {
  mb_json_free(j);
  st_close(f);
  return NULL;
}

st_file *st_open(const char *path, char *err, size_t err_sz) {
  st_file *f = calloc(1, sizeof *f);
  if (!f) return mb_fail_null(err, err_sz, "%s: out of memory", path);
  f->path = strdup(path);
  f->bytes = mb_read_file(path, &f->size, err, err_sz);
  if (!f->bytes) return fail_close(f, NULL);
  if (f->size < 8) {
    mb_fail(err, err_sz, "%s: truncated: %zu bytes, not even the 8-byte header length", path,
            f->size);
    return fail_close(f, NULL);
  }
  uint64_t hlen = 0;
  for (int i = 0; i < 8; i++) hlen |= (uint64_t)f->bytes[i] << (8 * i);
  if (hlen > ST_MAX_HEADER || hlen < 2) {
    mb_fail(err, err_sz, "%s: not a safetensors file (header length %llu)", path,
            (unsigned long long)hlen);
    return fail_close(f, NULL);
  }
  if (8 + hlen > f->size) {
    /* A plausible length whose header starts like one is a cut file; anything else is foreign. */
    if (f->bytes[8] == '{')
      mb_fail(err, err_sz, "%s: truncated: the header needs %llu bytes, the file has %zu", path,
              (unsigned long long)(8 + hlen), f->size);
    else
      mb_fail(err, err_sz, "%s: not a safetensors file (header length %llu beyond its %zu bytes)",
              path, (unsigned long long)hlen, f->size);
    return fail_close(f, NULL);
  }
  if (f->bytes[8] != '{') {
    mb_fail(err, err_sz, "%s: not a safetensors file (the header is not a JSON object)", path);
    return fail_close(f, NULL);
  }
  char jerr[256] = "";
  mb_json *j = mb_json_parse((const char *)f->bytes + 8, (size_t)hlen, jerr, sizeof jerr);
  if (!j || j->type != MB_JSON_OBJECT) {
    mb_fail(err, err_sz, "%s: not a safetensors file (header: %s)", path,
            j ? "not a JSON object" : jerr);
    return fail_close(f, j);
  }
  const uint8_t *data = f->bytes + 8 + hlen;
  size_t data_size = f->size - 8 - (size_t)hlen;
  f->tensors = calloc((size_t)j->count + 1, sizeof *f->tensors);
  f->meta_keys = calloc((size_t)j->count + 1, sizeof(char *));
  f->meta_values = calloc((size_t)j->count + 1, sizeof(char *));
  for (int i = 0; i < j->count; i++) {
    const char *key = j->keys[i];
    const mb_json *v = &j->items[i];
    if (!strcmp(key, "__metadata__")) {
      for (int k = 0; v->type == MB_JSON_OBJECT && k < v->count; k++) {
        const char *s = mb_json_as_string(&v->items[k]);
        if (!s) continue;
        f->meta_keys[f->nmeta] = strdup(v->keys[k]);
        f->meta_values[f->nmeta++] = strdup(s);
      }
      continue;
    }
    const char *dtype = mb_json_as_string(mb_json_get(v, "dtype"));
    const mb_json *shape = mb_json_get(v, "shape"), *offs = mb_json_get(v, "data_offsets");
    int64_t b = -1, e = -1;
    if (!dtype || !shape || shape->type != MB_JSON_ARRAY || shape->count > ST_MAX_DIMS || !offs ||
        offs->type != MB_JSON_ARRAY || offs->count != 2 || !mb_json_as_int64(&offs->items[0], &b) ||
        !mb_json_as_int64(&offs->items[1], &e) || b < 0 || e < b) {
      mb_fail(err, err_sz, "%s: not a safetensors file (entry '%s' lacks dtype, shape or offsets)",
              path, key);
      return fail_close(f, j);
    }
    int esz = dtype_size(dtype);
    if (!esz) {
      mb_fail(err, err_sz, "%s: tensor %s has unknown dtype '%s'", path, key, dtype);
      return fail_close(f, j);
    }
    st_tensor *t = &f->tensors[f->count];
    t->ndim = shape->count;
    size_t numel = 1;
    for (int d = 0; d < shape->count; d++) {
      if (!mb_json_as_int64(&shape->items[d], &t->shape[d]) || t->shape[d] < 0) {
        mb_fail(err, err_sz, "%s: tensor %s has a bad shape", path, key);
        return fail_close(f, j);
      }
      numel *= (size_t)t->shape[d];
    }
    if ((uint64_t)e > data_size) {
      mb_fail(err, err_sz,
              "%s: truncated: tensor %s needs data bytes [%lld, %lld), the file has %zu", path, key,
              (long long)b, (long long)e, data_size);
      return fail_close(f, j);
    }
    if ((size_t)(e - b) != numel * (size_t)esz) {
      mb_fail(err, err_sz, "%s: tensor %s has %lld data bytes for %zu %s values", path, key,
              (long long)(e - b), numel, dtype);
      return fail_close(f, j);
    }
    snprintf(t->dtype, sizeof t->dtype, "%s", dtype);
    t->name = strdup(key);
    t->data = data + b;
    t->nbytes = (size_t)(e - b);
    f->count++;
  }
  mb_json_free(j);
  return f;
}

const st_tensor *st_find(const st_file *f, const char *name) {
  for (int i = 0; i < f->count; i++)
    if (!strcmp(f->tensors[i].name, name)) return &f->tensors[i];
  return NULL;
}

const char *st_metadata(const st_file *f, const char *key) {
  for (int i = 0; i < f->nmeta; i++)
    if (!strcmp(f->meta_keys[i], key)) return f->meta_values[i];
  return NULL;
}

bool st_read_f32(const st_file *f, const char *name, int ndim, const int64_t *shape, float *out,
                 char *err, size_t err_sz) {
  const st_tensor *t = st_find(f, name);
  if (!t) return mb_fail(err, err_sz, "%s: no tensor %s", f->path, name);
  if (strcmp(t->dtype, "F32"))
    return mb_fail(err, err_sz, "%s: tensor %s is %s, expected F32", f->path, name, t->dtype);
  bool same = t->ndim == ndim;
  for (int i = 0; same && i < ndim; i++) same = t->shape[i] == shape[i];
  if (!same) {
    char got[128], want[128];
    st_shape_str(t->ndim, t->shape, got, sizeof got);
    st_shape_str(ndim, shape, want, sizeof want);
    return mb_fail(err, err_sz, "%s: tensor %s has shape %s, expected %s", f->path, name, got,
                   want);
  }
  memcpy(out, t->data, t->nbytes);
  return true;
}

bool st_read_i64_scalar(const st_file *f, const char *name, int64_t *out, char *err,
                        size_t err_sz) {
  const st_tensor *t = st_find(f, name);
  if (!t) return mb_fail(err, err_sz, "%s: no tensor %s", f->path, name);
  if (strcmp(t->dtype, "I64") || t->nbytes != 8)
    return mb_fail(err, err_sz, "%s: tensor %s is not an I64 scalar", f->path, name);
  memcpy(out, t->data, 8);
  return true;
}
