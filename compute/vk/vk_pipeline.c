/* Pipeline cache (see vk_pipeline.h). */
#include "vk_pipeline.h"

#include "mb_clock.h"
#include "mb_err.h"

#include <stdlib.h>
#include <string.h>

vk_pipelines *vk_pipelines_create(vk_runtime *rt, char *err, size_t err_sz) {
  vk_pipelines *pc = calloc(1, sizeof *pc);
  if (!pc) return mb_fail_null(err, err_sz, "Vulkan: out of host memory");
  pc->rt = rt;
  VkDescriptorSetLayoutBinding b[VK_PIPE_MAX_BINDINGS];
  for (int i = 0; i < VK_PIPE_MAX_BINDINGS; i++)
    b[i] = (VkDescriptorSetLayoutBinding){
        .binding = (uint32_t)i,
        .descriptorType = i < VK_PIPE_STORAGE_BINDINGS ? VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
                                                       : VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER,
        .descriptorCount = 1,
        .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
    };
  VkDescriptorSetLayoutCreateInfo sci = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .flags = rt->push_descriptors ? VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR : 0,
      .bindingCount = VK_PIPE_MAX_BINDINGS,
      .pBindings = b,
  };
  VkResult r = rt->vk.CreateDescriptorSetLayout(rt->device, &sci, NULL, &pc->set_layout);
  if (r != VK_SUCCESS) {
    vk_pipelines_destroy(pc);
    return mb_fail_null(err, err_sz, "Vulkan: vkCreateDescriptorSetLayout failed: %s",
                        vk_result_name(r));
  }
  VkPushConstantRange range = {
      .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
      .offset = 0,
      .size = VK_PIPE_PUSH_BYTES,
  };
  VkPipelineLayoutCreateInfo lci = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
      .setLayoutCount = 1,
      .pSetLayouts = &pc->set_layout,
      .pushConstantRangeCount = 1,
      .pPushConstantRanges = &range,
  };
  r = rt->vk.CreatePipelineLayout(rt->device, &lci, NULL, &pc->layout);
  if (r != VK_SUCCESS) {
    vk_pipelines_destroy(pc);
    return mb_fail_null(err, err_sz, "Vulkan: vkCreatePipelineLayout failed: %s",
                        vk_result_name(r));
  }
  return pc;
}

void vk_pipelines_destroy(vk_pipelines *pc) {
  if (!pc) return;
  vk_runtime *rt = pc->rt;
  for (int i = 0; i < pc->n; i++) {
    rt->vk.DestroyPipeline(rt->device, pc->items[i]->pipeline, NULL);
    free(pc->items[i]);
  }
  free(pc->items);
  for (int i = 0; i < VK_SHADER_COUNT; i++)
    if (pc->modules[i]) rt->vk.DestroyShaderModule(rt->device, pc->modules[i], NULL);
  if (pc->layout) rt->vk.DestroyPipelineLayout(rt->device, pc->layout, NULL);
  if (pc->set_layout) rt->vk.DestroyDescriptorSetLayout(rt->device, pc->set_layout, NULL);
  free(pc);
}

const vk_pipeline *vk_pipelines_get(vk_pipelines *pc, vk_shader_id shader, const uint32_t *spec,
                                    int nspec, char *err, size_t err_sz) {
  for (int i = 0; i < pc->n; i++) {
    const vk_pipeline *p = pc->items[i];
    if (p->shader == shader && p->nspec == nspec &&
        (nspec == 0 || !memcmp(p->spec, spec, sizeof *spec * (size_t)nspec)))
      return p;
  }
  if (nspec > VK_PIPE_MAX_SPEC)
    return mb_fail_null(err, err_sz, "Vulkan: %d specialisation constants (max %d) for %s", nspec,
                        VK_PIPE_MAX_SPEC, vk_shader_table[shader].name);
  vk_runtime *rt = pc->rt;
  double t0 = mb_now();
  if (!pc->modules[shader]) {
    VkShaderModuleCreateInfo mci = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = vk_shader_table[shader].bytes,
        .pCode = vk_shader_table[shader].words,
    };
    VkResult r = rt->vk.CreateShaderModule(rt->device, &mci, NULL, &pc->modules[shader]);
    if (r != VK_SUCCESS)
      return mb_fail_null(err, err_sz, "Vulkan: vkCreateShaderModule(%s) failed: %s",
                          vk_shader_table[shader].name, vk_result_name(r));
  }
  if (pc->n == pc->cap) {
    int cap = pc->cap ? 2 * pc->cap : 32;
    vk_pipeline **ni = realloc(pc->items, sizeof *ni * (size_t)cap);
    if (!ni) return mb_fail_null(err, err_sz, "Vulkan: out of host memory");
    pc->items = ni;
    pc->cap = cap;
  }
  vk_pipeline *p = calloc(1, sizeof *p);
  if (!p) return mb_fail_null(err, err_sz, "Vulkan: out of host memory");
  p->shader = shader;
  p->nspec = nspec;
  if (nspec) memcpy(p->spec, spec, sizeof *spec * (size_t)nspec);
  VkSpecializationMapEntry entries[VK_PIPE_MAX_SPEC];
  for (int i = 0; i < nspec; i++)
    entries[i] = (VkSpecializationMapEntry){(uint32_t)i, (uint32_t)(i * 4), 4};
  VkSpecializationInfo si = {
      .mapEntryCount = (uint32_t)nspec,
      .pMapEntries = entries,
      .dataSize = (size_t)nspec * 4,
      .pData = p->spec,
  };
  VkComputePipelineCreateInfo ci = {
      .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
      .stage =
          {
              .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
              .stage = VK_SHADER_STAGE_COMPUTE_BIT,
              .module = pc->modules[shader],
              .pName = "main",
              .pSpecializationInfo = nspec ? &si : NULL,
          },
      .layout = pc->layout,
  };
  VkResult r =
      rt->vk.CreateComputePipelines(rt->device, VK_NULL_HANDLE, 1, &ci, NULL, &p->pipeline);
  if (r != VK_SUCCESS) {
    free(p);
    return mb_fail_null(err, err_sz, "Vulkan: creating the %s pipeline failed: %s",
                        vk_shader_table[shader].name, vk_result_name(r));
  }
  pc->items[pc->n++] = p;
  pc->compile_seconds += mb_now() - t0;
  return p;
}
