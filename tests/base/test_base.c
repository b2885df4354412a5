/* base/: Philox known answers (Random123 test vectors), random number statistics, atomic files. */
#include "../test_util.h"
#include "mb_file.h"
#include "mb_philox.h"

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

int main(void) {
  test_philox_known_answers();
  test_distributions();
  test_atomic_file();
  return test_exit_code("test_base");
}
