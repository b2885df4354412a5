/* The Vulkan entry points of a build without the Vulkan backend: they fail with a clear message,
 * so that `auto` falls back to the CPU backend and `vulkan` is an error, never a crash. */
#include "cmp_vk.h"

#include "mb_err.h"

cmp_ctx *cmp_vk_create(const cmp_options *opt, char *err, size_t err_sz) {
  (void)opt;
  return mb_fail_null(err, err_sz, "built without the Vulkan backend");
}

int cmp_vk_list_devices(cmp_device_info *out, int max, char *err, size_t err_sz) {
  (void)out, (void)max;
  mb_fail(err, err_sz, "built without the Vulkan backend");
  return -1;
}
