/* A small JSON reader (to a tree) and writer (to a growing buffer) for the libraries that must not
 * use GLib (sim/, compute/): suite.json, config.json, log.jsonl, safetensors headers, results.
 * app/ may use json-glib instead; both read and write the same files. */
#ifndef MB_JSON_H
#define MB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum mb_json_type {
  MB_JSON_NULL,
  MB_JSON_BOOL,
  MB_JSON_NUMBER,
  MB_JSON_STRING,
  MB_JSON_ARRAY,
  MB_JSON_OBJECT,
} mb_json_type;

typedef struct mb_json mb_json;
struct mb_json {
  mb_json_type type; /* which of the fields below is meaningful */
  bool boolean;      /* MB_JSON_BOOL */
  double number;     /* MB_JSON_NUMBER */
  char *string;      /* MB_JSON_STRING (NUL-terminated, owned) */
  int count;         /* MB_JSON_ARRAY / MB_JSON_OBJECT: number of items */
  mb_json *items;    /* (count) values */
  char **keys;       /* (count) MB_JSON_OBJECT: the keys, in file order */
};

/* Parses len bytes of text. Returns NULL with err = "line L, column C: what is wrong" on error.
 * The caller frees the tree with mb_json_free. */
mb_json *mb_json_parse(const char *text, size_t len, char *err, size_t err_sz);
/* Reads and parses a file; errors name the path. */
mb_json *mb_json_parse_file(const char *path, char *err, size_t err_sz);
void mb_json_free(mb_json *root); /* a tree from mb_json_parse*; NULL is fine */

/* Member of an object, or NULL if j is not an object or has no such key. */
const mb_json *mb_json_get(const mb_json *j, const char *key);
/* Item i of an array, or NULL. */
const mb_json *mb_json_at(const mb_json *j, int i);
/* Typed getters: return false if j is NULL or of another type (out untouched). */
bool mb_json_as_number(const mb_json *j, double *out);
bool mb_json_as_int64(const mb_json *j, int64_t *out); /* also false for non-integers */
bool mb_json_as_bool(const mb_json *j, bool *out);
const char *mb_json_as_string(const mb_json *j); /* NULL unless a string */

/* ---- writer ---------------------------------------------------------------------------------- */

/* Appends JSON text to a growing buffer, inserting commas itself. Nesting up to 32 levels. Keys and
 * values alternate inside objects. Numbers use the shortest "%.9g" / "%.17g" round-trip form;
 * non-finite numbers are written as null (JSON has no NaN). */
typedef struct mb_jw {
  char *buf;       /* NUL-terminated text (owned; take it with mb_jw_take) */
  size_t len, cap; /* used and allocated bytes */
  int depth;       /* current nesting */
  bool first[32];  /* per level: no item written yet */
  bool after_key;  /* a key was just written */
  bool pretty;     /* newlines and two-space indents */
  bool oom;        /* an allocation failed; the text is incomplete */
} mb_jw;

void mb_jw_init(mb_jw *w, bool pretty);
void mb_jw_begin_object(mb_jw *w);
void mb_jw_end_object(mb_jw *w);
void mb_jw_begin_array(mb_jw *w);
void mb_jw_end_array(mb_jw *w);
void mb_jw_key(mb_jw *w, const char *key);
void mb_jw_string(mb_jw *w, const char *s);
void mb_jw_double(mb_jw *w, double v); /* 17 significant digits */
void mb_jw_float(mb_jw *w, float v);   /* 9 significant digits: exact for a float */
void mb_jw_int(mb_jw *w, int64_t v);
void mb_jw_bool(mb_jw *w, bool v);
void mb_jw_null(mb_jw *w);
/* Convenience: a key followed by a value. */
void mb_jw_kv_string(mb_jw *w, const char *key, const char *s);
void mb_jw_kv_double(mb_jw *w, const char *key, double v);
void mb_jw_kv_int(mb_jw *w, const char *key, int64_t v);
void mb_jw_kv_bool(mb_jw *w, const char *key, bool v);
/* Arrays of numbers. */
void mb_jw_float_array(mb_jw *w, const float *v, int n);
void mb_jw_double_array(mb_jw *w, const double *v, int n);
/* Returns the text (caller frees) and resets the writer; NULL if an allocation failed. */
char *mb_jw_take(mb_jw *w);
void mb_jw_free(mb_jw *w);

#endif
