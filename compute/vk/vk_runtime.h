/* The Vulkan runtime: instance (Vulkan 1.2), optional validation layer whose messages are counted,
 * physical-device enumeration and selection, the logical device with one compute queue.
 *
 * One runtime per compute context; a runtime is used by one thread at a time. Nothing here prints:
 * failures return false/NULL with one line in err, validation messages are counted and the first
 * one kept for the test that wants to show it. */
#ifndef VK_RUNTIME_H
#define VK_RUNTIME_H

#include "vk_loader.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct vk_runtime_options {
  bool validation;  /* enable VK_LAYER_KHRONOS_validation (+ synchronisation validation) */
  int device_index; /* -1: best device (GPU before CPU implementation); else enumeration index */
  bool no_push_descriptors; /* use descriptor sets even when VK_KHR_push_descriptor exists (tests,
                               measurements) */
} vk_runtime_options;

/* One physical device as reported to the user (mirrors cmp_device_info). */
typedef struct vk_device_desc {
  char name[256];       /* VkPhysicalDeviceProperties.deviceName */
  char type[32];        /* "discrete-gpu", "integrated-gpu", "virtual-gpu", "cpu", "other" */
  char driver[256];     /* driverName + driverInfo, e.g. "llvmpipe / Mesa 22.3.6 (LLVM 15.0.6)" */
  char api_version[32]; /* e.g. "1.3.230" */
  bool usable;          /* Vulkan >= 1.2 and a compute queue */
} vk_device_desc;

typedef struct vk_runtime {
  vk_fns vk;                                  /* instance and device function table */
  VkInstance instance;                        /* owned */
  VkDebugUtilsMessengerEXT messenger;         /* owned; VK_NULL_HANDLE without validation */
  VkPhysicalDevice phys;                      /* the selected device */
  VkDevice device;                            /* owned */
  VkQueue queue;                              /* the compute queue */
  uint32_t queue_family;                      /* its family index */
  uint32_t timestamp_bits;                    /* its timestamps' valid bits (0: none) */
  VkPhysicalDeviceProperties props;           /* limits, name, type */
  VkPhysicalDeviceMemoryProperties mem_props; /* memory types for vk_mem */
  vk_device_desc desc;            /* name/type/driver/API version of the selected device */
  bool is_cpu;                    /* tune kernels for a CPU implementation (lavapipe, SwiftShader):
                                     the device type, unless MBOLD_VK_GPU_LAYOUT=1 asks for the GPU
                                     layouts (how the tests check those on lavapipe) */
  bool push_descriptors;          /* VK_KHR_push_descriptor enabled */
  uint32_t subgroup_size;         /* VkPhysicalDeviceSubgroupProperties.subgroupSize */
  bool validation;                /* the validation layer is active */
  atomic_int validation_errors;   /* messages of severity ERROR */
  atomic_int validation_warnings; /* messages of severity WARNING */
  char validation_first[1024];    /* text of the first counted message, "" if none */
} vk_runtime;

/* Creates the runtime. Returns NULL with err filled when there is no loader, no driver, no usable
 * device, the requested device index does not exist, or validation was requested and the layer is
 * not installed. The caller destroys the result with vk_runtime_destroy. */
vk_runtime *vk_runtime_create(const vk_runtime_options *opt, char *err, size_t err_sz);
void vk_runtime_destroy(vk_runtime *rt); /* rt may be NULL */

/* Lists every physical device (usable or not) in enumeration order, filling up to max entries.
 * Returns the number of devices (which may exceed max) or -1 with err filled when there is no
 * loader or the instance cannot be created. */
int vk_list_devices(vk_device_desc *out, int max, char *err, size_t err_sz);

/* Errors + warnings counted so far. */
int vk_runtime_validation_count(const vk_runtime *rt);

/* Index of a memory type allowed by type_bits that has all `required` flags, preferring one that
 * also has `preferred`; -1 if none. */
int vk_runtime_memory_type(const vk_runtime *rt, uint32_t type_bits, VkMemoryPropertyFlags required,
                           VkMemoryPropertyFlags preferred);

#endif
