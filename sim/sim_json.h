/* A small JSON reader (sim/ may not use GLib): enough for goal suites. Numbers are doubles parsed
 * with strtod, so values written with "%.17g" come back bit for bit. */
#ifndef SIM_JSON_H
#define SIM_JSON_H

#include <stdbool.h>
#include <stddef.h>

typedef enum sim_json_type {
  SIM_JSON_NULL,
  SIM_JSON_BOOL,
  SIM_JSON_NUMBER,
  SIM_JSON_STRING,
  SIM_JSON_ARRAY,
  SIM_JSON_OBJECT,
} sim_json_type;

typedef struct sim_json {
  sim_json_type type;     /* kind of value */
  bool boolean;           /* SIM_JSON_BOOL */
  double number;          /* SIM_JSON_NUMBER */
  char *string;           /* SIM_JSON_STRING (owned, NUL-terminated) */
  int count;              /* items of an array or members of an object */
  struct sim_json *items; /* count values (array items or object member values) */
  char **keys;            /* count member names (objects only) */
} sim_json;

/* Parses text; NULL + err ("line L: what") on a syntax error. Free with sim_json_free. */
sim_json *sim_json_parse(const char *text, char *err, size_t err_sz);
void sim_json_free(sim_json *v); /* NULL is fine */
/* Member of an object, or NULL when absent or v is not an object. */
const sim_json *sim_json_get(const sim_json *v, const char *key);
/* Reads a number array of exactly n values; false otherwise. */
bool sim_json_numbers(const sim_json *v, double *out, int n);

#endif
