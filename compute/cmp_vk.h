/* What the Vulkan backend exports to cmp.c. Private to compute/. Implemented by compute/vk/ (or,
 * in a build without Vulkan, by cmp_vk_none.c, whose functions always fail). */
#ifndef CMP_VK_H
#define CMP_VK_H

#include "cmp.h"

/* Creates a Vulkan context on opt->device_index (-1: the best device, a real GPU preferred), with
 * the validation layer when opt->validation. opt is never NULL here (cmp.c fills defaults). Returns
 * NULL with err filled ("no Vulkan loader", "no Vulkan device", "validation layer not installed").
 */
cmp_ctx *cmp_vk_create(const cmp_options *opt, char *err, size_t err_sz);

/* Fills up to max entries in physical-device order; returns the number of devices (may exceed max)
 * or -1 with err filled when there is no loader or no instance. */
int cmp_vk_list_devices(cmp_device_info *out, int max, char *err, size_t err_sz);

#endif
