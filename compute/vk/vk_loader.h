/* The Vulkan loader, opened at run time with dlopen() so that the program starts (and the CPU
 * backend works) on a machine without libvulkan.so.1. Function pointers live in tables: global ones
 * in vk_global, instance- and device-level ones in a vk_fns owned by each runtime (device functions
 * come from vkGetDeviceProcAddr, which skips the loader's dispatch trampoline). */
#ifndef VK_LOADER_H
#define VK_LOADER_H

#define VK_NO_PROTOTYPES
#include <stdbool.h>
#include <stddef.h>
#include <vulkan/vulkan.h>

/* Loader-level functions (no instance needed). */
#define VK_GLOBAL_FUNCS(X)                                                                         \
  X(CreateInstance)                                                                                \
  X(EnumerateInstanceVersion)                                                                      \
  X(EnumerateInstanceLayerProperties)                                                              \
  X(EnumerateInstanceExtensionProperties)

/* Instance-level functions; the debug-utils pair may be NULL (extension not enabled). */
#define VK_INSTANCE_FUNCS(X)                                                                       \
  X(DestroyInstance)                                                                               \
  X(EnumeratePhysicalDevices)                                                                      \
  X(GetPhysicalDeviceProperties)                                                                   \
  X(GetPhysicalDeviceProperties2)                                                                  \
  X(GetPhysicalDeviceQueueFamilyProperties)                                                        \
  X(GetPhysicalDeviceMemoryProperties)                                                             \
  X(EnumerateDeviceExtensionProperties)                                                            \
  X(CreateDevice)                                                                                  \
  X(GetDeviceProcAddr)

#define VK_INSTANCE_EXT_FUNCS(X)                                                                   \
  X(CreateDebugUtilsMessengerEXT)                                                                  \
  X(DestroyDebugUtilsMessengerEXT)

/* Device-level functions; CmdPushDescriptorSetKHR may be NULL (extension missing). */
#define VK_DEVICE_FUNCS(X)                                                                         \
  X(DestroyDevice)                                                                                 \
  X(GetDeviceQueue)                                                                                \
  X(DeviceWaitIdle)                                                                                \
  X(CreateBuffer)                                                                                  \
  X(DestroyBuffer)                                                                                 \
  X(GetBufferMemoryRequirements)                                                                   \
  X(AllocateMemory)                                                                                \
  X(FreeMemory)                                                                                    \
  X(BindBufferMemory)                                                                              \
  X(MapMemory)                                                                                     \
  X(UnmapMemory)                                                                                   \
  X(CreateShaderModule)                                                                            \
  X(DestroyShaderModule)                                                                           \
  X(CreateDescriptorSetLayout)                                                                     \
  X(DestroyDescriptorSetLayout)                                                                    \
  X(CreateDescriptorPool)                                                                          \
  X(DestroyDescriptorPool)                                                                         \
  X(ResetDescriptorPool)                                                                           \
  X(AllocateDescriptorSets)                                                                        \
  X(UpdateDescriptorSets)                                                                          \
  X(CreatePipelineLayout)                                                                          \
  X(DestroyPipelineLayout)                                                                         \
  X(CreateComputePipelines)                                                                        \
  X(DestroyPipeline)                                                                               \
  X(CreateCommandPool)                                                                             \
  X(DestroyCommandPool)                                                                            \
  X(AllocateCommandBuffers)                                                                        \
  X(FreeCommandBuffers)                                                                            \
  X(BeginCommandBuffer)                                                                            \
  X(EndCommandBuffer)                                                                              \
  X(ResetCommandBuffer)                                                                            \
  X(CreateBufferView)                                                                              \
  X(DestroyBufferView)                                                                             \
  X(CmdBindPipeline)                                                                               \
  X(CmdBindDescriptorSets)                                                                         \
  X(CmdPushConstants)                                                                              \
  X(CmdDispatch)                                                                                   \
  X(CmdPipelineBarrier)                                                                            \
  X(CmdCopyBuffer)                                                                                 \
  X(CmdFillBuffer)                                                                                 \
  X(CmdWriteTimestamp)                                                                             \
  X(CmdResetQueryPool)                                                                             \
  X(CreateQueryPool)                                                                               \
  X(DestroyQueryPool)                                                                              \
  X(GetQueryPoolResults)                                                                           \
  X(CreateFence)                                                                                   \
  X(DestroyFence)                                                                                  \
  X(ResetFences)                                                                                   \
  X(WaitForFences)                                                                                 \
  X(QueueSubmit)

#define VK_DEVICE_EXT_FUNCS(X) X(CmdPushDescriptorSetKHR)

#define VK_FN_FIELD(name) PFN_vk##name name;

typedef struct vk_global {
  PFN_vkGetInstanceProcAddr GetInstanceProcAddr; /* from dlsym */
  VK_GLOBAL_FUNCS(VK_FN_FIELD)
} vk_global;

typedef struct vk_fns {
  VK_INSTANCE_FUNCS(VK_FN_FIELD)
  VK_INSTANCE_EXT_FUNCS(VK_FN_FIELD)
  VK_DEVICE_FUNCS(VK_FN_FIELD)
  VK_DEVICE_EXT_FUNCS(VK_FN_FIELD)
} vk_fns;

/* Opens libvulkan.so.1 once per process (thread-safe) and returns the global table, or NULL with
 * err filled ("no Vulkan loader: libvulkan.so.1: cannot open shared object file"). The table stays
 * valid for the life of the process. */
const vk_global *vk_loader_open(char *err, size_t err_sz);

/* Fills the instance-level entries of f for instance. Returns false with err naming the first
 * missing core function. */
bool vk_loader_instance(const vk_global *g, VkInstance instance, vk_fns *f, char *err,
                        size_t err_sz);
/* Fills the device-level entries of f for device (after vk_loader_instance). */
bool vk_loader_device(VkDevice device, vk_fns *f, char *err, size_t err_sz);

/* "VK_ERROR_OUT_OF_DEVICE_MEMORY" etc. for error lines. */
const char *vk_result_name(VkResult r);

#endif
