#include "sim_json.h"

#include "mb_err.h"

#include <stdlib.h>
#include <string.h>

typedef struct parser {
  const char *p; /* next character */
  const char *s; /* start of text (for line numbers) */
  char *err;     /* caller's buffer */
  size_t err_sz; /* its size */
  bool failed;   /* an error was reported */
  int depth;     /* nesting, bounded to keep the stack small */
} parser;

static int line_of(const parser *ps) {
  int line = 1;
  for (const char *c = ps->s; c < ps->p; c++) line += *c == '\n';
  return line;
}

static bool perr(parser *ps, const char *what) {
  if (!ps->failed) mb_fail(ps->err, ps->err_sz, "line %d: %s", line_of(ps), what);
  ps->failed = true;
  return false;
}

static void skip_ws(parser *ps) {
  while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r') ps->p++;
}

static bool parse_value(parser *ps, sim_json *v);

static bool parse_string(parser *ps, char **out) {
  if (*ps->p != '"') return perr(ps, "expected a string");
  ps->p++;
  size_t cap = 16, n = 0;
  char *buf = malloc(cap);
  if (!buf) return perr(ps, "out of memory");
  for (;;) {
    char c = *ps->p++;
    if (c == 0) {
      free(buf);
      return perr(ps, "unterminated string");
    }
    if (c == '"') break;
    if (c == '\\') {
      char e = *ps->p++;
      switch (e) {
        case '"':
          c = '"';
          break;
        case '\\':
          c = '\\';
          break;
        case '/':
          c = '/';
          break;
        case 'b':
          c = '\b';
          break;
        case 'f':
          c = '\f';
          break;
        case 'n':
          c = '\n';
          break;
        case 'r':
          c = '\r';
          break;
        case 't':
          c = '\t';
          break;
        case 'u': {
          unsigned code = 0;
          for (int i = 0; i < 4; i++) {
            char h = *ps->p++;
            code <<= 4;
            if (h >= '0' && h <= '9')
              code |= (unsigned)(h - '0');
            else if (h >= 'a' && h <= 'f')
              code |= (unsigned)(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F')
              code |= (unsigned)(h - 'A' + 10);
            else {
              free(buf);
              return perr(ps, "bad \\u escape");
            }
          }
          /* Non-ASCII escapes never occur in our files; keep them visible rather than wrong. */
          c = code < 128 ? (char)code : '?';
          break;
        }
        default:
          free(buf);
          return perr(ps, "bad escape in string");
      }
    }
    if (n + 2 > cap) {
      cap *= 2;
      char *nb = realloc(buf, cap);
      if (!nb) {
        free(buf);
        return perr(ps, "out of memory");
      }
      buf = nb;
    }
    buf[n++] = c;
  }
  buf[n] = 0;
  *out = buf;
  return true;
}

static bool push_item(parser *ps, sim_json *v, int *cap) {
  if (v->count == *cap) {
    *cap = *cap ? 2 * *cap : 8;
    sim_json *ni = realloc(v->items, sizeof(sim_json) * (size_t)*cap);
    if (!ni) return perr(ps, "out of memory");
    v->items = ni;
    if (v->type == SIM_JSON_OBJECT) {
      char **nk = realloc(v->keys, sizeof(char *) * (size_t)*cap);
      if (!nk) return perr(ps, "out of memory");
      v->keys = nk;
    }
  }
  memset(&v->items[v->count], 0, sizeof(sim_json));
  return true;
}

static bool parse_container(parser *ps, sim_json *v, bool object) {
  if (++ps->depth > 64) return perr(ps, "nesting too deep");
  v->type = object ? SIM_JSON_OBJECT : SIM_JSON_ARRAY;
  ps->p++;
  int cap = 0;
  skip_ws(ps);
  if (*ps->p == (object ? '}' : ']')) {
    ps->p++;
    ps->depth--;
    return true;
  }
  for (;;) {
    skip_ws(ps);
    if (!push_item(ps, v, &cap)) return false;
    if (object) {
      char *key = NULL;
      if (!parse_string(ps, &key)) return false;
      v->keys[v->count] = key;
      skip_ws(ps);
      if (*ps->p != ':') {
        v->items[v->count].type = SIM_JSON_NULL;
        v->count++;
        return perr(ps, "expected ':' after a member name");
      }
      ps->p++;
    }
    bool ok = parse_value(ps, &v->items[v->count]);
    v->count++;
    if (!ok) return false;
    skip_ws(ps);
    if (*ps->p == ',') {
      ps->p++;
      continue;
    }
    if (*ps->p == (object ? '}' : ']')) {
      ps->p++;
      ps->depth--;
      return true;
    }
    return perr(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
  }
}

static bool parse_value(parser *ps, sim_json *v) {
  skip_ws(ps);
  char c = *ps->p;
  if (c == '{' || c == '[') return parse_container(ps, v, c == '{');
  if (c == '"') {
    v->type = SIM_JSON_STRING;
    return parse_string(ps, &v->string);
  }
  if (!strncmp(ps->p, "true", 4) || !strncmp(ps->p, "false", 5)) {
    v->type = SIM_JSON_BOOL;
    v->boolean = c == 't';
    ps->p += v->boolean ? 4 : 5;
    return true;
  }
  if (!strncmp(ps->p, "null", 4)) {
    v->type = SIM_JSON_NULL;
    ps->p += 4;
    return true;
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    char *end;
    v->type = SIM_JSON_NUMBER;
    v->number = strtod(ps->p, &end);
    if (end == ps->p) return perr(ps, "bad number");
    ps->p = end;
    return true;
  }
  return perr(ps, c ? "unexpected character" : "unexpected end of text");
}

static void free_inner(sim_json *v) {
  for (int i = 0; i < v->count; i++) {
    free_inner(&v->items[i]);
    if (v->keys) free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  free(v->string);
}

void sim_json_free(sim_json *v) {
  if (!v) return;
  free_inner(v);
  free(v);
}

sim_json *sim_json_parse(const char *text, char *err, size_t err_sz) {
  parser ps = {text, text, err, err_sz, false, 0};
  sim_json *v = calloc(1, sizeof *v);
  if (!v) return mb_fail_null(err, err_sz, "out of memory");
  bool ok = parse_value(&ps, v);
  if (ok) {
    skip_ws(&ps);
    if (*ps.p) ok = perr(&ps, "text after the JSON value");
  }
  if (!ok) {
    sim_json_free(v);
    return NULL;
  }
  return v;
}

const sim_json *sim_json_get(const sim_json *v, const char *key) {
  if (!v || v->type != SIM_JSON_OBJECT) return NULL;
  for (int i = 0; i < v->count; i++)
    if (!strcmp(v->keys[i], key)) return &v->items[i];
  return NULL;
}

bool sim_json_numbers(const sim_json *v, double *out, int n) {
  if (!v || v->type != SIM_JSON_ARRAY || v->count != n) return false;
  for (int i = 0; i < n; i++) {
    if (v->items[i].type != SIM_JSON_NUMBER) return false;
    out[i] = v->items[i].number;
  }
  return true;
}
