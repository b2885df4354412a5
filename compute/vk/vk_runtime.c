/* Vulkan instance, validation messenger, device enumeration/selection (see vk_runtime.h). */
#define _GNU_SOURCE /* dl_iterate_phdr, RTLD_NODELETE */
#include "vk_runtime.h"

#include "mb_err.h"

#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VALIDATION_LAYER "VK_LAYER_KHRONOS_validation"

/* The layer reports its own configuration as a WARNING once per instance whenever settings differ
 * from the defaults (we enable synchronisation validation); that is not a problem in our calls. */
static bool is_status_message(const VkDebugUtilsMessengerCallbackDataEXT *d) {
  return d->pMessageIdName &&
         strstr(d->pMessageIdName, "khronos-validation-createinstance-status-message") != NULL;
}

static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                 VkDebugUtilsMessageTypeFlagsEXT types,
                                                 const VkDebugUtilsMessengerCallbackDataEXT *data,
                                                 void *user) {
  (void)types;
  vk_runtime *rt = user;
  if (is_status_message(data)) return VK_FALSE;
  int before = 0;
  if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) {
    before = atomic_fetch_add(&rt->validation_errors, 1) + atomic_load(&rt->validation_warnings);
  } else if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
    before = atomic_fetch_add(&rt->validation_warnings, 1) + atomic_load(&rt->validation_errors);
  } else {
    return VK_FALSE;
  }
  if (before == 0)
    snprintf(rt->validation_first, sizeof rt->validation_first, "%s: %s",
             data->pMessageIdName ? data->pMessageIdName : "validation",
             data->pMessage ? data->pMessage : "");
  return VK_FALSE;
}

static const char *type_name(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
      return "discrete-gpu";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
      return "integrated-gpu";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
      return "virtual-gpu";
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
      return "cpu";
    default:
      return "other";
  }
}

/* Preference when no index is given: a real GPU before a CPU implementation. */
static int type_score(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
      return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
      return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
      return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
      return 1;
    default:
      return 0;
  }
}

static bool has_layer(const vk_global *g, const char *name) {
  uint32_t n = 0;
  if (g->EnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0) return false;
  VkLayerProperties *props = calloc(n, sizeof *props);
  if (!props) return false;
  bool found = false;
  if (g->EnumerateInstanceLayerProperties(&n, props) == VK_SUCCESS)
    for (uint32_t i = 0; i < n && !found; i++) found = !strcmp(props[i].layerName, name);
  free(props);
  return found;
}

static bool has_instance_ext(const vk_global *g, const char *layer, const char *name) {
  uint32_t n = 0;
  if (g->EnumerateInstanceExtensionProperties(layer, &n, NULL) != VK_SUCCESS || n == 0)
    return false;
  VkExtensionProperties *props = calloc(n, sizeof *props);
  if (!props) return false;
  bool found = false;
  if (g->EnumerateInstanceExtensionProperties(layer, &n, props) == VK_SUCCESS)
    for (uint32_t i = 0; i < n && !found; i++) found = !strcmp(props[i].extensionName, name);
  free(props);
  return found;
}

static bool has_device_ext(const vk_fns *f, VkPhysicalDevice pd, const char *name) {
  uint32_t n = 0;
  if (f->EnumerateDeviceExtensionProperties(pd, NULL, &n, NULL) != VK_SUCCESS || n == 0)
    return false;
  VkExtensionProperties *props = calloc(n, sizeof *props);
  if (!props) return false;
  bool found = false;
  if (f->EnumerateDeviceExtensionProperties(pd, NULL, &n, props) == VK_SUCCESS)
    for (uint32_t i = 0; i < n && !found; i++) found = !strcmp(props[i].extensionName, name);
  free(props);
  return found;
}

/* The loader dlcloses the drivers and layers it loaded when the last instance goes, and loads them
 * again for the next one (device listing, then the context). Keep them resident instead: a
 * reload costs time, and memory that a driver leaks at unload could no longer be attributed to it
 * by LeakSanitizer (tools/lsan.supp names the drivers). */
static int pin_object(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size, (void)data;
  const char *name = info->dlpi_name;
  if (name && (strstr(name, "libvulkan_") || strstr(name, "libVkLayer_"))) {
    void *h = dlopen(name, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
    if (h) dlclose(h);
  }
  return 0;
}

/* Creates the instance; with rt != NULL and validation requested, also the layer and messenger
 * (chained into instance creation so that its own messages are counted too). */
static bool create_instance(const vk_global *g, bool validation, vk_runtime *rt, VkInstance *out,
                            vk_fns *f, char *err, size_t err_sz) {
  uint32_t version = VK_API_VERSION_1_0;
  if (g->EnumerateInstanceVersion) g->EnumerateInstanceVersion(&version);
  if (version < VK_API_VERSION_1_2)
    return mb_fail(err, err_sz, "Vulkan: the loader supports only Vulkan %u.%u, 1.2 is needed",
                   VK_API_VERSION_MAJOR(version), VK_API_VERSION_MINOR(version));
  VkApplicationInfo app = {
      .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
      .pApplicationName = "mbold",
      .applicationVersion = 1,
      .pEngineName = "mbold-compute",
      .engineVersion = 1,
      .apiVersion = VK_API_VERSION_1_2,
  };
  const char *layers[1];
  const char *exts[2];
  uint32_t nlayers = 0, nexts = 0;
  VkDebugUtilsMessengerCreateInfoEXT dbg = {
      .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
      .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                         VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
      .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                     VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                     VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
      .pfnUserCallback = on_message,
      .pUserData = rt,
  };
  VkValidationFeatureEnableEXT enables[] = {
      VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
  VkValidationFeaturesEXT features = {
      .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
      .enabledValidationFeatureCount = 1,
      .pEnabledValidationFeatures = enables,
  };
  const void *chain = NULL;
  if (validation) {
    if (!has_layer(g, VALIDATION_LAYER))
      return mb_fail(err, err_sz,
                     "Vulkan: validation requested but " VALIDATION_LAYER
                     " is not installed (Debian: vulkan-validationlayers)");
    if (!has_instance_ext(g, NULL, VK_EXT_DEBUG_UTILS_EXTENSION_NAME) &&
        !has_instance_ext(g, VALIDATION_LAYER, VK_EXT_DEBUG_UTILS_EXTENSION_NAME))
      return mb_fail(err, err_sz, "Vulkan: validation requested but VK_EXT_debug_utils is missing");
    layers[nlayers++] = VALIDATION_LAYER;
    exts[nexts++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    dbg.pNext = NULL;
    chain = &dbg;
    /* Synchronisation validation checks the recorder's barriers; it needs the features ext. */
    if (has_instance_ext(g, VALIDATION_LAYER, VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME)) {
      exts[nexts++] = VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME;
      features.pNext = &dbg;
      chain = &features;
    }
  }
  VkInstanceCreateInfo ci = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      .pNext = chain,
      .pApplicationInfo = &app,
      .enabledLayerCount = nlayers,
      .ppEnabledLayerNames = layers,
      .enabledExtensionCount = nexts,
      .ppEnabledExtensionNames = exts,
  };
  VkResult r = g->CreateInstance(&ci, NULL, out);
  dl_iterate_phdr(pin_object, NULL);
  if (r != VK_SUCCESS)
    return mb_fail(err, err_sz, "Vulkan: vkCreateInstance failed: %s%s", vk_result_name(r),
                   r == VK_ERROR_INCOMPATIBLE_DRIVER ? " (no Vulkan driver installed)" : "");
  if (!vk_loader_instance(g, *out, f, err, err_sz)) {
    PFN_vkDestroyInstance destroy =
        (PFN_vkDestroyInstance)g->GetInstanceProcAddr(*out, "vkDestroyInstance");
    if (destroy) destroy(*out, NULL);
    *out = VK_NULL_HANDLE;
    return false;
  }
  if (validation && rt) {
    if (!f->CreateDebugUtilsMessengerEXT ||
        f->CreateDebugUtilsMessengerEXT(*out, &dbg, NULL, &rt->messenger) != VK_SUCCESS)
      return mb_fail(err, err_sz, "Vulkan: cannot create the debug-utils messenger");
  }
  return true;
}

static void format_version(uint32_t v, char *out, size_t sz) {
  snprintf(out, sz, "%u.%u.%u", VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v),
           VK_API_VERSION_PATCH(v));
}

/* The queue family to compute on, and its timestamps' valid bits (0: no timestamps). */
static bool compute_family(const vk_fns *f, VkPhysicalDevice pd, uint32_t *family,
                           uint32_t *timestamp_bits) {
  uint32_t n = 0;
  f->GetPhysicalDeviceQueueFamilyProperties(pd, &n, NULL);
  VkQueueFamilyProperties *q = calloc(n ? n : 1, sizeof *q);
  if (!q) return false;
  f->GetPhysicalDeviceQueueFamilyProperties(pd, &n, q);
  /* Prefer a compute-only family (async compute on GPUs), else any family with compute. */
  int best = -1;
  for (uint32_t i = 0; i < n; i++) {
    if (!(q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) || q[i].queueCount == 0) continue;
    if (best < 0 || !(q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) best = (int)i;
  }
  if (best >= 0) {
    *family = (uint32_t)best;
    *timestamp_bits = q[best].timestampValidBits;
  }
  free(q);
  return best >= 0;
}

static void describe(const vk_fns *f, VkPhysicalDevice pd, vk_device_desc *d) {
  VkPhysicalDeviceProperties p;
  f->GetPhysicalDeviceProperties(pd, &p);
  memset(d, 0, sizeof *d);
  snprintf(d->name, sizeof d->name, "%s", p.deviceName);
  snprintf(d->type, sizeof d->type, "%s", type_name(p.deviceType));
  format_version(p.apiVersion, d->api_version, sizeof d->api_version);
  uint32_t family, bits;
  d->usable = p.apiVersion >= VK_API_VERSION_1_2 && compute_family(f, pd, &family, &bits);
  if (p.apiVersion >= VK_API_VERSION_1_2) {
    VkPhysicalDeviceDriverProperties drv = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                      .pNext = &drv};
    f->GetPhysicalDeviceProperties2(pd, &p2);
    snprintf(d->driver, sizeof d->driver, "%.120s / %.120s", drv.driverName, drv.driverInfo);
  } else {
    snprintf(d->driver, sizeof d->driver, "driver version 0x%x", p.driverVersion);
  }
}

static VkPhysicalDevice *physical_devices(const vk_fns *f, VkInstance inst, uint32_t *count) {
  *count = 0;
  if (f->EnumeratePhysicalDevices(inst, count, NULL) != VK_SUCCESS || *count == 0) return NULL;
  VkPhysicalDevice *pds = calloc(*count, sizeof *pds);
  if (!pds) return NULL;
  if (f->EnumeratePhysicalDevices(inst, count, pds) < 0) {
    free(pds);
    *count = 0;
    return NULL;
  }
  return pds;
}

int vk_list_devices(vk_device_desc *out, int max, char *err, size_t err_sz) {
  const vk_global *g = vk_loader_open(err, err_sz);
  if (!g) return -1;
  VkInstance inst;
  vk_fns f;
  if (!create_instance(g, false, NULL, &inst, &f, err, err_sz)) return -1;
  uint32_t n;
  VkPhysicalDevice *pds = physical_devices(&f, inst, &n);
  for (uint32_t i = 0; i < n && (int)i < max; i++) describe(&f, pds[i], &out[i]);
  free(pds);
  f.DestroyInstance(inst, NULL);
  return (int)n;
}

static bool create_device(vk_runtime *rt, bool allow_push, char *err, size_t err_sz) {
  vk_fns *f = &rt->vk;
  const char *exts[1];
  uint32_t nexts = 0;
  rt->push_descriptors =
      allow_push && has_device_ext(f, rt->phys, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);
  if (rt->push_descriptors) exts[nexts++] = VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME;

  float priority = 1.0f;
  VkDeviceQueueCreateInfo qci = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
      .queueFamilyIndex = rt->queue_family,
      .queueCount = 1,
      .pQueuePriorities = &priority,
  };
  VkDeviceCreateInfo ci = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
      .queueCreateInfoCount = 1,
      .pQueueCreateInfos = &qci,
      .enabledExtensionCount = nexts,
      .ppEnabledExtensionNames = exts,
  };
  VkResult r = f->CreateDevice(rt->phys, &ci, NULL, &rt->device);
  if (r != VK_SUCCESS)
    return mb_fail(err, err_sz, "Vulkan: vkCreateDevice on %s failed: %s", rt->desc.name,
                   vk_result_name(r));
  if (!vk_loader_device(rt->device, f, err, err_sz)) return false;
  if (!f->CmdPushDescriptorSetKHR) rt->push_descriptors = false;
  f->GetDeviceQueue(rt->device, rt->queue_family, 0, &rt->queue);
  return true;
}

vk_runtime *vk_runtime_create(const vk_runtime_options *opt, char *err, size_t err_sz) {
  vk_runtime_options o = opt ? *opt : (vk_runtime_options){.validation = false, .device_index = -1};
  const vk_global *g = vk_loader_open(err, err_sz);
  if (!g) return NULL;
  vk_runtime *rt = calloc(1, sizeof *rt);
  if (!rt) return mb_fail_null(err, err_sz, "Vulkan: out of memory");
  rt->validation = o.validation;
  if (!create_instance(g, o.validation, rt, &rt->instance, &rt->vk, err, err_sz)) {
    vk_runtime_destroy(rt);
    return NULL;
  }
  uint32_t n;
  VkPhysicalDevice *pds = physical_devices(&rt->vk, rt->instance, &n);
  int chosen = -1, best_score = -1;
  for (uint32_t i = 0; i < n; i++) {
    vk_device_desc d;
    describe(&rt->vk, pds[i], &d);
    VkPhysicalDeviceProperties p;
    rt->vk.GetPhysicalDeviceProperties(pds[i], &p);
    if (o.device_index >= 0) {
      if ((int)i == o.device_index) {
        if (!d.usable) {
          free(pds);
          vk_runtime_destroy(rt);
          return mb_fail_null(err, err_sz,
                              "Vulkan: device %d (%s) lacks Vulkan 1.2 or a compute queue",
                              o.device_index, d.name);
        }
        chosen = (int)i;
      }
    } else if (d.usable && type_score(p.deviceType) > best_score) {
      best_score = type_score(p.deviceType);
      chosen = (int)i;
    }
  }
  if (chosen < 0) {
    free(pds);
    vk_runtime_destroy(rt);
    if (o.device_index >= 0)
      return mb_fail_null(err, err_sz, "Vulkan: no device with index %d (%u found)", o.device_index,
                          n);
    return mb_fail_null(err, err_sz,
                        n ? "Vulkan: no device supports Vulkan 1.2 with a compute queue"
                          : "Vulkan: no physical device found (is a Vulkan driver installed?)");
  }
  rt->phys = pds[chosen];
  free(pds);
  describe(&rt->vk, rt->phys, &rt->desc);
  rt->vk.GetPhysicalDeviceProperties(rt->phys, &rt->props);
  rt->vk.GetPhysicalDeviceMemoryProperties(rt->phys, &rt->mem_props);
  /* The tile shapes and workgroup counts for GPUs are exercised on lavapipe by the tests, which
   * have no GPU to run on: MBOLD_VK_GPU_LAYOUT=1 selects them. */
  const char *gpu_layout = getenv("MBOLD_VK_GPU_LAYOUT");
  rt->is_cpu = rt->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU &&
               !(gpu_layout && !strcmp(gpu_layout, "1"));
  VkPhysicalDeviceSubgroupProperties sub = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
  VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                    .pNext = &sub};
  rt->vk.GetPhysicalDeviceProperties2(rt->phys, &p2);
  rt->subgroup_size = sub.subgroupSize ? sub.subgroupSize : 1;
  compute_family(&rt->vk, rt->phys, &rt->queue_family, &rt->timestamp_bits);
  if (!create_device(rt, !o.no_push_descriptors, err, err_sz)) {
    vk_runtime_destroy(rt);
    return NULL;
  }
  return rt;
}

void vk_runtime_destroy(vk_runtime *rt) {
  if (!rt) return;
  if (rt->device) {
    rt->vk.DeviceWaitIdle(rt->device);
    rt->vk.DestroyDevice(rt->device, NULL);
  }
  if (rt->messenger) rt->vk.DestroyDebugUtilsMessengerEXT(rt->instance, rt->messenger, NULL);
  if (rt->instance) rt->vk.DestroyInstance(rt->instance, NULL);
  free(rt);
}

int vk_runtime_validation_count(const vk_runtime *rt) {
  return atomic_load(&((vk_runtime *)rt)->validation_errors) +
         atomic_load(&((vk_runtime *)rt)->validation_warnings);
}

int vk_runtime_memory_type(const vk_runtime *rt, uint32_t type_bits, VkMemoryPropertyFlags required,
                           VkMemoryPropertyFlags preferred) {
  int fallback = -1;
  for (uint32_t i = 0; i < rt->mem_props.memoryTypeCount; i++) {
    if (!(type_bits & (1u << i))) continue;
    VkMemoryPropertyFlags fl = rt->mem_props.memoryTypes[i].propertyFlags;
    if ((fl & required) != required) continue;
    if ((fl & preferred) == preferred) return (int)i;
    if (fallback < 0) fallback = (int)i;
  }
  return fallback;
}
