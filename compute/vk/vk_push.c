/* Push-constant sizes by shader name (see vk_push.h). */
#include "vk_push.h"

#include <string.h>

typedef struct push_entry {
  const char *prefix; /* shader name or name prefix of its variants */
  size_t bytes;       /* sizeof the mirrored struct */
} push_entry;

static const push_entry entries[] = {
    {"gemm_", sizeof(vk_push_gemm)},
    {"fill", sizeof(vk_push_fill)},
    {"rng_", sizeof(vk_push_rng)},
};

size_t vk_push_bytes(const char *shader_name) {
  for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++)
    if (!strncmp(shader_name, entries[i].prefix, strlen(entries[i].prefix)))
      return entries[i].bytes;
  return (size_t)-1;
}
