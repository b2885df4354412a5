/* dlopen()-based Vulkan loader access (see vk_loader.h). */
#include "vk_loader.h"

#include "mb_err.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>

static vk_global g_global;
static char g_error[256];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void open_once(void) {
  /* MBOLD_VULKAN_LOADER lets tests point at a missing library to exercise the no-loader path. */
  const char *name = getenv("MBOLD_VULKAN_LOADER");
  if (!name || !*name) name = "libvulkan.so.1";
  void *lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *why = dlerror();
    snprintf(g_error, sizeof g_error, "no Vulkan loader: %s", why ? why : name);
    return;
  }
  g_global.GetInstanceProcAddr = (PFN_vkGetInstanceProcAddr)dlsym(lib, "vkGetInstanceProcAddr");
  if (!g_global.GetInstanceProcAddr) {
    snprintf(g_error, sizeof g_error, "no Vulkan loader: %s lacks vkGetInstanceProcAddr", name);
    return;
  }
#define LOAD_GLOBAL(n)                                                                             \
  g_global.n = (PFN_vk##n)g_global.GetInstanceProcAddr(VK_NULL_HANDLE, "vk" #n);
  VK_GLOBAL_FUNCS(LOAD_GLOBAL)
#undef LOAD_GLOBAL
  /* vkEnumerateInstanceVersion is missing from 1.0 loaders; everything else is required. */
  if (!g_global.CreateInstance || !g_global.EnumerateInstanceLayerProperties ||
      !g_global.EnumerateInstanceExtensionProperties) {
    snprintf(g_error, sizeof g_error, "no Vulkan loader: %s lacks core entry points", name);
    g_global.GetInstanceProcAddr = NULL;
  }
}

const vk_global *vk_loader_open(char *err, size_t err_sz) {
  pthread_once(&g_once, open_once);
  if (!g_global.GetInstanceProcAddr) return mb_fail_null(err, err_sz, "%s", g_error);
  return &g_global;
}

bool vk_loader_instance(const vk_global *g, VkInstance instance, vk_fns *f, char *err,
                        size_t err_sz) {
#define LOAD_INSTANCE(n)                                                                           \
  f->n = (PFN_vk##n)g->GetInstanceProcAddr(instance, "vk" #n);                                     \
  if (!f->n) return mb_fail(err, err_sz, "Vulkan: instance lacks vk" #n);
  VK_INSTANCE_FUNCS(LOAD_INSTANCE)
#undef LOAD_INSTANCE
#define LOAD_OPTIONAL(n) f->n = (PFN_vk##n)g->GetInstanceProcAddr(instance, "vk" #n);
  VK_INSTANCE_EXT_FUNCS(LOAD_OPTIONAL)
#undef LOAD_OPTIONAL
  return true;
}

bool vk_loader_device(VkDevice device, vk_fns *f, char *err, size_t err_sz) {
#define LOAD_DEVICE(n)                                                                             \
  f->n = (PFN_vk##n)f->GetDeviceProcAddr(device, "vk" #n);                                         \
  if (!f->n) return mb_fail(err, err_sz, "Vulkan: device lacks vk" #n);
  VK_DEVICE_FUNCS(LOAD_DEVICE)
#undef LOAD_DEVICE
#define LOAD_OPTIONAL(n) f->n = (PFN_vk##n)f->GetDeviceProcAddr(device, "vk" #n);
  VK_DEVICE_EXT_FUNCS(LOAD_OPTIONAL)
#undef LOAD_OPTIONAL
  return true;
}

const char *vk_result_name(VkResult r) {
  switch (r) {
#define CASE(x)                                                                                    \
  case x:                                                                                          \
    return #x;
    CASE(VK_SUCCESS)
    CASE(VK_NOT_READY)
    CASE(VK_TIMEOUT)
    CASE(VK_INCOMPLETE)
    CASE(VK_ERROR_OUT_OF_HOST_MEMORY)
    CASE(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    CASE(VK_ERROR_INITIALIZATION_FAILED)
    CASE(VK_ERROR_DEVICE_LOST)
    CASE(VK_ERROR_MEMORY_MAP_FAILED)
    CASE(VK_ERROR_LAYER_NOT_PRESENT)
    CASE(VK_ERROR_EXTENSION_NOT_PRESENT)
    CASE(VK_ERROR_FEATURE_NOT_PRESENT)
    CASE(VK_ERROR_INCOMPATIBLE_DRIVER)
    CASE(VK_ERROR_TOO_MANY_OBJECTS)
    CASE(VK_ERROR_FORMAT_NOT_SUPPORTED)
    CASE(VK_ERROR_FRAGMENTED_POOL)
    CASE(VK_ERROR_OUT_OF_POOL_MEMORY)
    CASE(VK_ERROR_INVALID_EXTERNAL_HANDLE)
    CASE(VK_ERROR_UNKNOWN)
#undef CASE
    default:
      return "VK_ERROR (unknown code)";
  }
}
