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
    {"axpby", sizeof(vk_push_axpby)},
    {"clamp", sizeof(vk_push_clamp)},
    {"copy_channels", sizeof(vk_push_copy_channels)},
    {"act_fwd", sizeof(vk_push_act_fwd)},
    {"act_bwd", sizeof(vk_push_act_bwd)},
    {"binary", sizeof(vk_push_binary)},
    {"binary_bwd_a", sizeof(vk_push_binary_bwd_a)},
    {"binary_bwd_b", sizeof(vk_push_binary_bwd_b)},
    {"reduce", sizeof(vk_push_reduce)},
    {"broadcast", sizeof(vk_push_broadcast)},
    {"sqdiff_partial", sizeof(vk_push_sqdiff_partial)},
    {"mse_bwd", sizeof(vk_push_mse_bwd)},
    {"logsumexp_fwd", sizeof(vk_push_logsumexp_fwd)},
    {"logsumexp_bwd", sizeof(vk_push_logsumexp_bwd)},
    {"adam", sizeof(vk_push_adam)},
    {"polyak", sizeof(vk_push_polyak)},
    {"u8_hwc", sizeof(vk_push_u8_hwc)},
    {"bn_stats", sizeof(vk_push_bn_stats)},
    {"bn_finalize", sizeof(vk_push_bn_finalize)},
    {"bn_apply", sizeof(vk_push_bn_apply)},
    {"bn_bwd_stats", sizeof(vk_push_bn_bwd_stats)},
    {"bn_bwd_finalize", sizeof(vk_push_bn_bwd_finalize)},
    {"bn_bwd_apply", sizeof(vk_push_bn_bwd_apply)},
    {"bn_features_fwd", sizeof(vk_push_bn_features_fwd)},
    {"bn_features_bwd", sizeof(vk_push_bn_features_bwd)},
    {"conv2d_", sizeof(vk_push_conv)},
    {"warp_", sizeof(vk_push_warp)},
};

size_t vk_push_bytes(const char *shader_name) {
  /* The longest matching prefix wins (binary_bwd_a before binary). */
  size_t best = (size_t)-1, best_len = 0;
  for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
    size_t len = strlen(entries[i].prefix);
    if (len > best_len && !strncmp(shader_name, entries[i].prefix, len))
      best = entries[i].bytes, best_len = len;
  }
  return best;
}
