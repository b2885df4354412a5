/* base/: Philox known answers (Random123 test vectors), random number statistics, atomic files,
 * coloured objects by chromaticity. */
#include "../test_util.h"
#include "mb_blob.h"
#include "mb_clock.h"
#include "mb_file.h"
#include "mb_json.h"
#include "mb_philox.h"
#include "mb_stats.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_philox_known_answers(void) {
  mb_philox_out o = mb_philox4x32(0, 0, 0, 0, 0, 0);
  CHECK(o.v[0] == 0x6627e8d5u && o.v[1] == 0xe169c58du && o.v[2] == 0xbc57ac4cu &&
        o.v[3] == 0x9b00dbd8u);
  o = mb_philox4x32(~0u, ~0u, ~0u, ~0u, ~0u, ~0u);
  CHECK(o.v[0] == 0x408f276du && o.v[1] == 0x41c83b0eu && o.v[2] == 0xa20bc7c6u &&
        o.v[3] == 0x6d5451fdu);
  o = mb_philox4x32(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u);
  CHECK(o.v[0] == 0xd16cfe09u && o.v[1] == 0x94fdccebu && o.v[2] == 0x5001e420u &&
        o.v[3] == 0x24126ea1u);
}

static void test_distributions(void) {
  const int n = 200000;
  double su = 0, su2 = 0, sn = 0, sn2 = 0;
  float umin = 1, umax = 0;
  for (int i = 0; i < n; i++) {
    float u = mb_philox_uniform(42, 7, (uint64_t)i);
    float z = mb_philox_normal(42, 7, (uint64_t)i);
    su += u, su2 += u * u, sn += z, sn2 += z * z;
    if (u < umin) umin = u;
    if (u > umax) umax = u;
  }
  CHECK(umin >= 0.0f && umax < 1.0f);
  CHECK_NEAR(su / n, 0.5, 0.005);
  CHECK_NEAR(su2 / n - (su / n) * (su / n), 1.0 / 12, 0.002);
  CHECK_NEAR(sn / n, 0.0, 0.01);
  CHECK_NEAR(sn2 / n, 1.0, 0.01);
  /* Streams and seeds are independent. */
  CHECK(mb_philox_u32(1, 0, 5) != mb_philox_u32(1, 1, 5));
  CHECK(mb_philox_u32(1, 0, 5) != mb_philox_u32(2, 0, 5));
}

static void test_atomic_file(void) {
  char dir[] = "/tmp/mbold-test-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char *path = mb_path_join(dir, "a.txt");
  char err[256];
  CHECK(mb_write_file_atomic(path, "hello", 5, err, sizeof err));
  /* An aborted write leaves the old content and no temporary file. */
  mb_atomic_file f;
  CHECK(mb_atomic_open(&f, path, err, sizeof err));
  fputs("partial", f.fp);
  mb_atomic_abort(&f);
  size_t size = 0;
  char *data = mb_read_file(path, &size, err, sizeof err);
  CHECK(data && size == 5 && !memcmp(data, "hello", 5));
  free(data);
  /* A folder that does not exist is a clear error naming the path. */
  CHECK(!mb_write_file_atomic("/nonexistent-folder/x", "a", 1, err, sizeof err));
  CHECK(strstr(err, "/nonexistent-folder/x") != NULL);
  unlink(path);
  rmdir(dir);
  free(path);
}

static void test_json(void) {
  char err[256];
  const char *text = "{\"task\": \"push1\", \"n\": 3, \"x\": [1.5, -2e-3, 7],\n"
                     " \"ok\": true, \"none\": null, \"s\": \"a\\\"b\\u00e9\\n\", \"o\": {}}";
  mb_json *j = mb_json_parse(text, strlen(text), err, sizeof err);
  CHECK_MSG(j != NULL, "%s", err);
  if (!j) return;
  CHECK(!strcmp(mb_json_as_string(mb_json_get(j, "task")), "push1"));
  int64_t n = 0;
  CHECK(mb_json_as_int64(mb_json_get(j, "n"), &n) && n == 3);
  double x = 0;
  CHECK(mb_json_as_number(mb_json_at(mb_json_get(j, "x"), 1), &x) && x == -2e-3);
  CHECK(!mb_json_as_int64(mb_json_at(mb_json_get(j, "x"), 0), &n));
  CHECK(mb_json_get(j, "x")->count == 3);
  bool b = false;
  CHECK(mb_json_as_bool(mb_json_get(j, "ok"), &b) && b);
  CHECK(mb_json_get(j, "none")->type == MB_JSON_NULL);
  CHECK(!strcmp(mb_json_as_string(mb_json_get(j, "s")), "a\"b\xc3\xa9\n"));
  CHECK(mb_json_get(j, "missing") == NULL);
  double xs[3];
  CHECK(mb_json_numbers(mb_json_get(j, "x"), xs, 3) && xs[0] == 1.5 && xs[2] == 7);
  CHECK(!mb_json_numbers(mb_json_get(j, "x"), xs, 2)); /* wrong length */
  CHECK(!mb_json_numbers(mb_json_get(j, "task"), xs, 1));
  mb_json_free(j);

  /* Errors say where. */
  CHECK(mb_json_parse("{\"a\": 1,\n \"b\" 2}", 16, err, sizeof err) == NULL);
  CHECK_MSG(strstr(err, "line 2") != NULL, "%s", err);
  CHECK(mb_json_parse("[1, 2", 5, err, sizeof err) == NULL);
  CHECK(mb_json_parse("{} x", 4, err, sizeof err) == NULL);
  CHECK(mb_json_parse("\"abc", 4, err, sizeof err) == NULL);
  CHECK(mb_json_parse("", 0, err, sizeof err) == NULL);

  /* The writer's output parses back to the same values. */
  mb_jw w;
  mb_jw_init(&w, true);
  mb_jw_begin_object(&w);
  mb_jw_kv_string(&w, "name", "q\"uote\n");
  mb_jw_kv_int(&w, "step", 1234567890123LL);
  mb_jw_kv_double(&w, "loss", 0.1);
  mb_jw_key(&w, "v");
  const float v[3] = {1.0f / 3, -0.0f, 1e-30f};
  mb_jw_float_array(&w, v, 3);
  mb_jw_key(&w, "nan");
  mb_jw_double(&w, NAN);
  mb_jw_key(&w, "empty");
  mb_jw_begin_array(&w);
  mb_jw_end_array(&w);
  mb_jw_end_object(&w);
  char *out = mb_jw_take(&w);
  j = mb_json_parse(out, strlen(out), err, sizeof err);
  CHECK_MSG(j != NULL, "%s in %s", err, out);
  if (j) {
    CHECK(!strcmp(mb_json_as_string(mb_json_get(j, "name")), "q\"uote\n"));
    CHECK(mb_json_as_int64(mb_json_get(j, "step"), &n) && n == 1234567890123LL);
    CHECK(mb_json_as_number(mb_json_get(j, "loss"), &x) && x == 0.1);
    CHECK(mb_json_as_number(mb_json_at(mb_json_get(j, "v"), 0), &x) && (float)x == 1.0f / 3);
    CHECK(mb_json_as_number(mb_json_at(mb_json_get(j, "v"), 2), &x) && (float)x == 1e-30f);
    CHECK(mb_json_get(j, "nan")->type == MB_JSON_NULL);
    CHECK(mb_json_get(j, "empty")->count == 0);
    mb_json_free(j);
  }
  free(out);
}

static void test_stats(void) {
  double lo, hi;
  /* Known values: 94 of 100 -> [0.875, 0.972] (Wilson, z = 1.96). */
  mb_wilson95(94, 100, &lo, &hi);
  CHECK_NEAR(lo, 0.8752, 5e-4);
  CHECK_NEAR(hi, 0.9722, 5e-4);
  mb_wilson95(0, 10, &lo, &hi);
  CHECK(lo == 0 && hi > 0.27 && hi < 0.28);
  mb_wilson95(0, 0, &lo, &hi);
  CHECK(lo == 0 && hi == 1);
  const double v[5] = {5, 1, 4, 2, 3}, w[4] = {4, 1, 3, 2};
  CHECK(mb_median(v, 5) == 3 && mb_median(w, 4) == 2.5 && mb_median(v, 0) == 0);
  CHECK(v[0] == 5); /* left unchanged */
  CHECK(mb_mean(v, 5) == 3);
}

/* The scene thread's pacing: 6 ms of rendering per frame at a 30 fps period must still give 30
 * frames a second (pacing from the end of each render gave 1 / (33.3 + 6) ms = 25 fps), and an
 * overrun must not be followed by a burst. */
static void test_pacer(void) {
  mb_pacer p = {1.0 / 30.0, 0};
  double now = 100.0;
  int frames = 0;
  for (;;) {
    now += mb_pacer_wait(&p, now);
    if (now >= 101.0 - 1e-9) break; /* frames that start within the second */
    frames++;
    now += 0.006; /* the render */
  }
  CHECK(frames == 30);
  /* A 100 ms overrun: the next frame starts at once, the one after a full period later. */
  now += 0.1;
  CHECK(mb_pacer_wait(&p, now) == 0);
  CHECK_NEAR(mb_pacer_wait(&p, now + 0.006), 1.0 / 30.0 - 0.006, 1e-9);
}

static void fill_rect(uint8_t *img, int x0, int y0, int w, int h, const int rgb[3]) {
  for (int y = y0; y < y0 + h; y++)
    for (int x = x0; x < x0 + w; x++)
      for (int c = 0; c < 3; c++) img[(y * 64 + x) * 3 + c] = (uint8_t)rgb[c];
}

/* A red block (half in light, half in shade) on the table beside an orange arm: found with its
 * pixel count and centre; a ghost blended half with the table adds nothing, a three-quarter blend
 * a little; no block, no mass. */
static void test_blob(void) {
  static uint8_t img[64 * 64 * 3];
  const int table[3] = {184, 148, 113}, lit[3] = {252, 44, 36}, shade[3] = {126, 22, 18},
            arm[3] = {255, 164, 62}, ghost[3] = {218, 96, 74}, three_q[3] = {235, 70, 55};
  const float red[3] = {0.85f, 0.15f, 0.12f};
  fill_rect(img, 0, 0, 64, 64, table);
  mb_blob b = mb_blob_find(img, 64, 64, red);
  CHECK(b.mass == 0 && b.x == 0 && b.y == 0);
  fill_rect(img, 30, 8, 6, 20, arm);
  fill_rect(img, 10, 40, 4, 2, lit);
  fill_rect(img, 10, 42, 4, 2, shade);
  b = mb_blob_find(img, 64, 64, red);
  CHECK_NEAR(b.mass, 16, 0.6);
  CHECK_NEAR(b.x, 12.0, 1e-3);
  CHECK_NEAR(b.y, 42.0, 0.05);
  fill_rect(img, 50, 50, 4, 4, ghost);
  mb_blob g = mb_blob_find(img, 64, 64, red);
  CHECK_NEAR(g.mass, b.mass, 1e-9);
  fill_rect(img, 50, 50, 4, 4, three_q);
  g = mb_blob_find(img, 64, 64, red);
  CHECK(g.mass > b.mass + 16 * 0.15 && g.mass < b.mass + 16 * 0.6);
  /* darker than MB_BLOB_MIN_SUM: no chromaticity */
  fill_rect(img, 0, 0, 64, 64, (const int[3]){20, 4, 3});
  CHECK(mb_blob_find(img, 64, 64, red).mass == 0);
}

int main(void) {
  test_blob();
  test_pacer();
  test_stats();
  test_json();
  test_philox_known_answers();
  test_distributions();
  test_atomic_file();
  return test_exit_code("test_base");
}
