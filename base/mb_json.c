#include "mb_json.h"
#include "mb_err.h"
#include "mb_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- reader ---------------------------------------------------------------------------------- */

typedef struct parser {
  const char *s, *end; /* text */
  const char *start;   /* for line/column in errors */
  char *err;
  size_t err_sz;
  bool failed;
  int depth;
} parser;

#define MAX_DEPTH 256

static void perr(parser *p, const char *what) {
  if (p->failed) return;
  p->failed = true;
  int line = 1, col = 1;
  for (const char *c = p->start; c < p->s && c < p->end; c++) {
    if (*c == '\n')
      line++, col = 1;
    else
      col++;
  }
  mb_fail(p->err, p->err_sz, "line %d, column %d: %s", line, col, what);
}

static void skip_ws(parser *p) {
  while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r')) p->s++;
}

static bool parse_value(parser *p, mb_json *out);
static void free_children(mb_json *j);

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static void put_utf8(char *o, size_t *n, unsigned cp) {
  if (cp < 0x80)
    o[(*n)++] = (char)cp;
  else if (cp < 0x800) {
    o[(*n)++] = (char)(0xC0 | (cp >> 6));
    o[(*n)++] = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    o[(*n)++] = (char)(0xE0 | (cp >> 12));
    o[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[(*n)++] = (char)(0x80 | (cp & 0x3F));
  } else {
    o[(*n)++] = (char)(0xF0 | (cp >> 18));
    o[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[(*n)++] = (char)(0x80 | (cp & 0x3F));
  }
}

static bool read_hex4(parser *p, unsigned *cp) {
  if (p->end - p->s < 4) return false;
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval(p->s[i]);
    if (h < 0) return false;
    v = v * 16 + (unsigned)h;
  }
  p->s += 4;
  *cp = v;
  return true;
}

static char *parse_string(parser *p) {
  p->s++; /* opening quote */
  const char *q = p->s;
  size_t cap = 0;
  while (q < p->end && *q != '"') {
    if (*q == '\\') q++;
    q++;
    cap++;
  }
  char *o = malloc(cap * 4 + 1); /* \uXXXX expands to at most 4 bytes */
  if (!o) {
    perr(p, "out of memory");
    return NULL;
  }
  size_t n = 0;
  while (p->s < p->end && *p->s != '"') {
    unsigned char c = (unsigned char)*p->s;
    if (c < 0x20) {
      free(o);
      perr(p, "control character in string");
      return NULL;
    }
    if (c != '\\') {
      o[n++] = (char)c;
      p->s++;
      continue;
    }
    p->s++;
    if (p->s >= p->end) break;
    char e = *p->s++;
    switch (e) {
      case '"':
        o[n++] = '"';
        break;
      case '\\':
        o[n++] = '\\';
        break;
      case '/':
        o[n++] = '/';
        break;
      case 'b':
        o[n++] = '\b';
        break;
      case 'f':
        o[n++] = '\f';
        break;
      case 'n':
        o[n++] = '\n';
        break;
      case 'r':
        o[n++] = '\r';
        break;
      case 't':
        o[n++] = '\t';
        break;
      case 'u': {
        unsigned cp;
        if (!read_hex4(p, &cp)) {
          free(o);
          perr(p, "bad \\u escape");
          return NULL;
        }
        if (cp >= 0xD800 && cp < 0xDC00 && p->end - p->s >= 6 && p->s[0] == '\\' &&
            p->s[1] == 'u') {
          unsigned lo;
          p->s += 2;
          if (read_hex4(p, &lo) && lo >= 0xDC00 && lo < 0xE000)
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        put_utf8(o, &n, cp);
        break;
      }
      default:
        free(o);
        perr(p, "bad escape in string");
        return NULL;
    }
  }
  if (p->s >= p->end) {
    free(o);
    perr(p, "unterminated string");
    return NULL;
  }
  p->s++; /* closing quote */
  o[n] = 0;
  return o;
}

static bool push_item(parser *p, mb_json *parent, int *cap, mb_json *item, char *key) {
  if (parent->count == *cap) {
    int nc = *cap ? *cap * 2 : 4;
    mb_json *ni = realloc(parent->items, (size_t)nc * sizeof(mb_json));
    if (!ni) goto oom;
    parent->items = ni;
    if (parent->type == MB_JSON_OBJECT) {
      char **nk = realloc(parent->keys, (size_t)nc * sizeof(char *));
      if (!nk) goto oom;
      parent->keys = nk;
    }
    *cap = nc;
  }
  parent->items[parent->count] = *item;
  if (parent->type == MB_JSON_OBJECT) parent->keys[parent->count] = key;
  parent->count++;
  return true;
oom:
  perr(p, "out of memory");
  return false;
}

static bool parse_container(parser *p, mb_json *out, bool object) {
  out->type = object ? MB_JSON_OBJECT : MB_JSON_ARRAY;
  if (++p->depth > MAX_DEPTH) {
    perr(p, "nested too deeply");
    return false;
  }
  p->s++;
  int cap = 0;
  skip_ws(p);
  if (p->s < p->end && *p->s == (object ? '}' : ']')) {
    p->s++;
    p->depth--;
    return true;
  }
  for (;;) {
    char *key = NULL;
    skip_ws(p);
    if (object) {
      if (p->s >= p->end || *p->s != '"') {
        perr(p, "expected a string key");
        return false;
      }
      key = parse_string(p);
      if (!key) return false;
      skip_ws(p);
      if (p->s >= p->end || *p->s != ':') {
        free(key);
        perr(p, "expected ':' after key");
        return false;
      }
      p->s++;
    }
    mb_json item;
    memset(&item, 0, sizeof item);
    if (!parse_value(p, &item)) {
      free(key);
      free_children(&item); /* item itself lives on the stack */
      return false;
    }
    if (!push_item(p, out, &cap, &item, key)) {
      free(key);
      return false;
    }
    skip_ws(p);
    if (p->s < p->end && *p->s == ',') {
      p->s++;
      continue;
    }
    if (p->s < p->end && *p->s == (object ? '}' : ']')) {
      p->s++;
      p->depth--;
      return true;
    }
    perr(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
    return false;
  }
}

static bool match_word(parser *p, const char *w) {
  size_t n = strlen(w);
  if ((size_t)(p->end - p->s) < n || memcmp(p->s, w, n) != 0) return false;
  p->s += n;
  return true;
}

static bool parse_number(parser *p, mb_json *out) {
  const char *q = p->s;
  if (q < p->end && *q == '-') q++;
  if (q >= p->end || !(*q >= '0' && *q <= '9')) {
    perr(p, "unexpected character");
    return false;
  }
  while (q < p->end && ((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E' ||
                        *q == '+' || *q == '-'))
    q++;
  char tmp[64];
  size_t n = (size_t)(q - p->s);
  if (n >= sizeof tmp) {
    perr(p, "number too long");
    return false;
  }
  memcpy(tmp, p->s, n);
  tmp[n] = 0;
  char *endp;
  double v = strtod(tmp, &endp);
  if (*endp != 0) {
    perr(p, "malformed number");
    return false;
  }
  out->type = MB_JSON_NUMBER;
  out->number = v;
  p->s = q;
  return true;
}

static bool parse_value(parser *p, mb_json *out) {
  skip_ws(p);
  if (p->s >= p->end) {
    perr(p, "unexpected end of text");
    return false;
  }
  switch (*p->s) {
    case '{':
      return parse_container(p, out, true);
    case '[':
      return parse_container(p, out, false);
    case '"':
      out->type = MB_JSON_STRING;
      out->string = parse_string(p);
      return out->string != NULL;
    case 't':
    case 'f':
    case 'n':
      if (match_word(p, "true"))
        out->type = MB_JSON_BOOL, out->boolean = true;
      else if (match_word(p, "false"))
        out->type = MB_JSON_BOOL, out->boolean = false;
      else if (match_word(p, "null"))
        out->type = MB_JSON_NULL;
      else {
        perr(p, "unexpected word");
        return false;
      }
      return true;
    default:
      return parse_number(p, out);
  }
}

mb_json *mb_json_parse(const char *text, size_t len, char *err, size_t err_sz) {
  parser p = {text, text + len, text, err, err_sz, false, 0};
  mb_json *root = calloc(1, sizeof *root);
  if (!root) return mb_fail_null(err, err_sz, "out of memory");
  if (!parse_value(&p, root)) {
    mb_json_free(root);
    return NULL;
  }
  skip_ws(&p);
  if (p.s != p.end) {
    perr(&p, "text after the end of the JSON value");
    mb_json_free(root);
    return NULL;
  }
  return root;
}

mb_json *mb_json_parse_file(const char *path, char *err, size_t err_sz) {
  size_t n;
  char *text = mb_read_file(path, &n, err, err_sz);
  if (!text) return NULL;
  char perr_buf[200];
  mb_json *j = mb_json_parse(text, n, perr_buf, sizeof perr_buf);
  free(text);
  if (!j) return mb_fail_null(err, err_sz, "%s: not valid JSON: %s", path, perr_buf);
  return j;
}

static void free_children(mb_json *j) {
  if (j->type == MB_JSON_STRING) free(j->string);
  if (j->type == MB_JSON_ARRAY || j->type == MB_JSON_OBJECT) {
    for (int i = 0; i < j->count; i++) {
      free_children(&j->items[i]);
      if (j->keys) free(j->keys[i]);
    }
    free(j->items);
    free(j->keys);
  }
}

void mb_json_free(mb_json *root) {
  if (!root) return;
  free_children(root);
  free(root);
}

const mb_json *mb_json_get(const mb_json *j, const char *key) {
  if (!j || j->type != MB_JSON_OBJECT) return NULL;
  for (int i = 0; i < j->count; i++)
    if (!strcmp(j->keys[i], key)) return &j->items[i];
  return NULL;
}

const mb_json *mb_json_at(const mb_json *j, int i) {
  if (!j || j->type != MB_JSON_ARRAY || i < 0 || i >= j->count) return NULL;
  return &j->items[i];
}

bool mb_json_as_number(const mb_json *j, double *out) {
  if (!j || j->type != MB_JSON_NUMBER) return false;
  *out = j->number;
  return true;
}

bool mb_json_as_int64(const mb_json *j, int64_t *out) {
  if (!j || j->type != MB_JSON_NUMBER || j->number != floor(j->number) ||
      fabs(j->number) > 9007199254740992.0)
    return false;
  *out = (int64_t)j->number;
  return true;
}

bool mb_json_as_bool(const mb_json *j, bool *out) {
  if (!j || j->type != MB_JSON_BOOL) return false;
  *out = j->boolean;
  return true;
}

const char *mb_json_as_string(const mb_json *j) {
  return j && j->type == MB_JSON_STRING ? j->string : NULL;
}

/* ---- writer ---------------------------------------------------------------------------------- */

static void jw_put(mb_jw *w, const char *s, size_t n) {
  if (w->oom) return;
  if (w->len + n + 1 > w->cap) {
    size_t nc = w->cap ? w->cap : 256;
    while (nc < w->len + n + 1) nc *= 2;
    char *nb = realloc(w->buf, nc);
    if (!nb) {
      w->oom = true;
      return;
    }
    w->buf = nb;
    w->cap = nc;
  }
  memcpy(w->buf + w->len, s, n);
  w->len += n;
  w->buf[w->len] = 0;
}

static void jw_puts(mb_jw *w, const char *s) {
  jw_put(w, s, strlen(s));
}

static void jw_newline(mb_jw *w) {
  if (!w->pretty) return;
  jw_put(w, "\n", 1);
  for (int i = 0; i < w->depth; i++) jw_put(w, "  ", 2);
}

/* Separator before a value or a key. */
static void jw_sep(mb_jw *w) {
  if (w->after_key) {
    w->after_key = false;
    return;
  }
  if (w->depth > 0) {
    if (!w->first[w->depth]) jw_put(w, ",", 1);
    w->first[w->depth] = false;
    jw_newline(w);
  }
}

void mb_jw_init(mb_jw *w, bool pretty) {
  memset(w, 0, sizeof *w);
  w->pretty = pretty;
}

static void jw_open(mb_jw *w, char c) {
  jw_sep(w);
  jw_put(w, &c, 1);
  if (w->depth < 31) w->depth++;
  w->first[w->depth] = true;
}

static void jw_close(mb_jw *w, char c) {
  bool empty = w->first[w->depth];
  if (w->depth > 0) w->depth--;
  if (!empty) jw_newline(w);
  jw_put(w, &c, 1);
}

void mb_jw_begin_object(mb_jw *w) {
  jw_open(w, '{');
}
void mb_jw_end_object(mb_jw *w) {
  jw_close(w, '}');
}
void mb_jw_begin_array(mb_jw *w) {
  jw_open(w, '[');
}
void mb_jw_end_array(mb_jw *w) {
  jw_close(w, ']');
}

static void jw_quoted(mb_jw *w, const char *s) {
  jw_put(w, "\"", 1);
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    char esc[8];
    switch (*c) {
      case '"':
        jw_puts(w, "\\\"");
        break;
      case '\\':
        jw_puts(w, "\\\\");
        break;
      case '\n':
        jw_puts(w, "\\n");
        break;
      case '\r':
        jw_puts(w, "\\r");
        break;
      case '\t':
        jw_puts(w, "\\t");
        break;
      default:
        if (*c < 0x20) {
          snprintf(esc, sizeof esc, "\\u%04x", *c);
          jw_puts(w, esc);
        } else {
          jw_put(w, (const char *)c, 1);
        }
    }
  }
  jw_put(w, "\"", 1);
}

void mb_jw_key(mb_jw *w, const char *key) {
  jw_sep(w);
  jw_quoted(w, key);
  jw_put(w, w->pretty ? ": " : ":", w->pretty ? 2 : 1);
  w->after_key = true;
}

void mb_jw_string(mb_jw *w, const char *s) {
  jw_sep(w);
  if (s)
    jw_quoted(w, s);
  else
    jw_puts(w, "null");
}

static void jw_number(mb_jw *w, double v, int digits) {
  jw_sep(w);
  if (!isfinite(v)) {
    jw_puts(w, "null");
    return;
  }
  char b[40];
  snprintf(b, sizeof b, "%.*g", digits, v);
  jw_puts(w, b);
}

void mb_jw_double(mb_jw *w, double v) {
  jw_number(w, v, 17);
}
void mb_jw_float(mb_jw *w, float v) {
  jw_number(w, v, 9);
}

void mb_jw_int(mb_jw *w, int64_t v) {
  jw_sep(w);
  char b[32];
  snprintf(b, sizeof b, "%lld", (long long)v);
  jw_puts(w, b);
}

void mb_jw_bool(mb_jw *w, bool v) {
  jw_sep(w);
  jw_puts(w, v ? "true" : "false");
}

void mb_jw_null(mb_jw *w) {
  jw_sep(w);
  jw_puts(w, "null");
}

void mb_jw_kv_string(mb_jw *w, const char *key, const char *s) {
  mb_jw_key(w, key);
  mb_jw_string(w, s);
}
void mb_jw_kv_double(mb_jw *w, const char *key, double v) {
  mb_jw_key(w, key);
  mb_jw_double(w, v);
}
void mb_jw_kv_int(mb_jw *w, const char *key, int64_t v) {
  mb_jw_key(w, key);
  mb_jw_int(w, v);
}
void mb_jw_kv_bool(mb_jw *w, const char *key, bool v) {
  mb_jw_key(w, key);
  mb_jw_bool(w, v);
}

void mb_jw_float_array(mb_jw *w, const float *v, int n) {
  bool pretty = w->pretty;
  mb_jw_begin_array(w);
  w->pretty = false; /* numbers on one line */
  for (int i = 0; i < n; i++) mb_jw_float(w, v[i]);
  mb_jw_end_array(w);
  w->pretty = pretty;
}

void mb_jw_double_array(mb_jw *w, const double *v, int n) {
  bool pretty = w->pretty;
  mb_jw_begin_array(w);
  w->pretty = false;
  for (int i = 0; i < n; i++) mb_jw_double(w, v[i]);
  mb_jw_end_array(w);
  w->pretty = pretty;
}

char *mb_jw_take(mb_jw *w) {
  char *s = w->oom ? NULL : w->buf;
  if (w->oom) free(w->buf);
  if (s == NULL && !w->oom) s = calloc(1, 1);
  bool pretty = w->pretty;
  mb_jw_init(w, pretty);
  return s;
}

void mb_jw_free(mb_jw *w) {
  free(w->buf);
  mb_jw_init(w, w->pretty);
}
