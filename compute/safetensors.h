/* The safetensors file format (huggingface/safetensors): an 8-byte little-endian header length, a
 * JSON header {"NAME": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
 * "__metadata__": {"key": "value"}}, padded with spaces to 8 bytes, then the raw little-endian
 * tensor bytes. Readable by `safetensors.torch.load_file` and written atomically. */
#ifndef SAFETENSORS_H
#define SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ST_MAX_DIMS 8

/* ---- writing --------------------------------------------------------------------------------- */

typedef struct st_writer st_writer;

/* An empty file in memory (caller owns; st_writer_destroy). */
st_writer *st_writer_create(void);
void st_writer_destroy(st_writer *w); /* NULL is fine */
/* Adds a tensor; the data (numel elements, numel = product of shape, 1 for ndim 0) is copied.
 * Names must be unique (a duplicate aborts). */
void st_add_f32(st_writer *w, const char *name, int ndim, const int64_t *shape, const float *data);
void st_add_i64(st_writer *w, const char *name, int ndim, const int64_t *shape,
                const int64_t *data);
/* A string entry of "__metadata__". */
void st_add_metadata(st_writer *w, const char *key, const char *value);
/* Writes the file atomically (never half-written). */
bool st_writer_save(const st_writer *w, const char *path, char *err, size_t err_sz);

/* ---- reading --------------------------------------------------------------------------------- */

typedef struct st_tensor {
  char *name;                 /* key (owned by the file) */
  char dtype[8];              /* "F32", "I64", ... */
  int ndim;                   /* 0 .. ST_MAX_DIMS */
  int64_t shape[ST_MAX_DIMS]; /* dimensions */
  const uint8_t *data;        /* nbytes of little-endian data inside the file's bytes */
  size_t nbytes;              /* numel * element size */
} st_tensor;

typedef struct st_file {
  char *path;         /* as opened (owned) */
  uint8_t *bytes;     /* the whole file (owned) */
  size_t size;        /* bytes */
  int count;          /* tensors */
  st_tensor *tensors; /* [count], header order */
  int nmeta;          /* metadata entries */
  char **meta_keys;   /* [nmeta] */
  char **meta_values; /* [nmeta] */
} st_file;

/* Reads and validates a whole file: the header must be a JSON object whose tensors have a known
 * dtype, a shape and data offsets that lie inside the file and match the shape. Returns NULL with
 * one line naming the file and what is wrong ("truncated", "not a safetensors file", the tensor).
 */
st_file *st_open(const char *path, char *err, size_t err_sz);
void st_close(st_file *f); /* NULL is fine */
const st_tensor *st_find(const st_file *f, const char *name);
const char *st_metadata(const st_file *f, const char *key); /* NULL if absent */

/* Copies tensor `name`, which must be F32 with exactly this shape, into out. Errors name the file
 * and the tensor: missing, other dtype, other shape. */
bool st_read_f32(const st_file *f, const char *name, int ndim, const int64_t *shape, float *out,
                 char *err, size_t err_sz);
/* Reads an I64 scalar (shape [] or [1]). */
bool st_read_i64_scalar(const st_file *f, const char *name, int64_t *out, char *err, size_t err_sz);

/* "[a, b, c]" for messages. */
void st_shape_str(int ndim, const int64_t *shape, char *buf, size_t sz);

#endif
