/* Compute pipelines, created once per (shader, specialisation constants) and cached for the life of
 * the runtime. All pipelines share one layout: descriptor set 0 (a push-descriptor set when
 * VK_KHR_push_descriptor is there) with storage buffers at bindings 0..7 and uniform texel buffers
 * at bindings 8..15, and a 128-byte push-constant range. */
#ifndef VK_PIPELINE_H
#define VK_PIPELINE_H

#include "vk_runtime.h"
#include "vk_shaders.h"

#define VK_PIPE_STORAGE_BINDINGS 8 /* storage buffers: set 0, bindings 0..7 */
#define VK_PIPE_TEXEL_BINDINGS   8 /* uniform texel buffers: set 0, bindings 8..15 */
#define VK_PIPE_MAX_BINDINGS     (VK_PIPE_STORAGE_BINDINGS + VK_PIPE_TEXEL_BINDINGS)
#define VK_PIPE_MAX_SPEC         9   /* specialisation constants (ids 0..8, 32-bit each) */
#define VK_PIPE_PUSH_BYTES       128 /* the minimum maxPushConstantsSize every device guarantees */

typedef struct vk_pipeline {
  vk_shader_id shader;             /* which embedded SPIR-V */
  uint32_t spec[VK_PIPE_MAX_SPEC]; /* specialisation constant values (ids 0..nspec-1) */
  int nspec;                       /* how many are set */
  VkPipeline pipeline;             /* owned by the cache */
} vk_pipeline;

typedef struct vk_pipelines {
  vk_runtime *rt;                          /* not owned */
  VkDescriptorSetLayout set_layout;        /* set 0 */
  VkPipelineLayout layout;                 /* shared by every pipeline */
  VkShaderModule modules[VK_SHADER_COUNT]; /* created on first use */
  vk_pipeline **items;                     /* owned (n of cap) */
  int n, cap;                              /* count and capacity */
  double compile_seconds; /* total time spent creating pipelines (driver compiles) */
} vk_pipelines;

/* Returns NULL with err filled on failure. */
vk_pipelines *vk_pipelines_create(vk_runtime *rt, char *err, size_t err_sz);
void vk_pipelines_destroy(vk_pipelines *pc); /* pc may be NULL */

/* The cached pipeline for (shader, spec[0..nspec)), creating it on first use. Returns NULL with err
 * filled when the driver rejects the shader. The pipeline stays owned by the cache. */
const vk_pipeline *vk_pipelines_get(vk_pipelines *pc, vk_shader_id shader, const uint32_t *spec,
                                    int nspec, char *err, size_t err_sz);

#endif
