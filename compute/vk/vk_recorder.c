/* Command recording with automatic barriers (see vk_recorder.h). */
#include "vk_recorder.h"

#include "mb_err.h"

#include <stdlib.h>
#include <string.h>

#define STAGING_CHUNK            ((VkDeviceSize)16 << 20)
#define DESCRIPTOR_SETS_PER_POOL 1024

vk_recorder *vk_recorder_create(vk_runtime *rt, vk_pipelines *pipes, char *err, size_t err_sz) {
  vk_recorder *r = calloc(1, sizeof *r);
  if (!r) return mb_fail_null(err, err_sz, "Vulkan: out of host memory");
  r->rt = rt;
  r->pipes = pipes;
  VkCommandPoolCreateInfo pci = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
      .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
      .queueFamilyIndex = rt->queue_family,
  };
  VkResult res = rt->vk.CreateCommandPool(rt->device, &pci, NULL, &r->cmd_pool);
  if (res == VK_SUCCESS) {
    VkCommandBufferAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = r->cmd_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    res = rt->vk.AllocateCommandBuffers(rt->device, &ai, &r->cmd);
  }
  if (res == VK_SUCCESS) {
    VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    res = rt->vk.CreateFence(rt->device, &fci, NULL, &r->fence);
  }
  if (res != VK_SUCCESS) {
    vk_recorder_destroy(r);
    return mb_fail_null(err, err_sz, "Vulkan: cannot create command buffer: %s",
                        vk_result_name(res));
  }
  r->staging = vk_pool_create(rt, VK_MEM_HOST, STAGING_CHUNK);
  r->profile = vk_profile_create(rt);
  r->cap_spans = 64;
  r->writes = malloc(sizeof *r->writes * (size_t)r->cap_spans);
  r->reads = malloc(sizeof *r->reads * (size_t)r->cap_spans);
  if (!r->staging || !r->writes || !r->reads) {
    vk_recorder_destroy(r);
    return mb_fail_null(err, err_sz, "Vulkan: out of host memory");
  }
  return r;
}

void vk_recorder_destroy(vk_recorder *r) {
  if (!r) return;
  vk_runtime *rt = r->rt;
  if (r->open) vk_rec_flush(r, NULL, 0);
  vk_profile_report(r->profile, stderr);
  vk_profile_destroy(r->profile);
  for (int i = 0; i < r->ndpools; i++) rt->vk.DestroyDescriptorPool(rt->device, r->dpools[i], NULL);
  free(r->dpools);
  if (r->fence) rt->vk.DestroyFence(rt->device, r->fence, NULL);
  if (r->cmd_pool) rt->vk.DestroyCommandPool(rt->device, r->cmd_pool, NULL);
  for (int i = 0; i < r->nchunks; i++) vk_pool_free(r->staging, &r->chunks[i]);
  vk_pool_destroy(r->staging);
  free(r->chunks);
  free(r->downloads);
  free(r->writes);
  free(r->reads);
  free(r);
}

static void begin(vk_recorder *r) {
  if (r->open) return;
  VkCommandBufferBeginInfo bi = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
  };
  r->rt->vk.BeginCommandBuffer(r->cmd, &bi);
  vk_profile_begin(r->profile, r->cmd);
  r->open = true;
  r->bound = VK_NULL_HANDLE;
}

static bool overlaps(const vk_span *s, int n, const vk_block *b, VkDeviceSize lo, VkDeviceSize hi) {
  for (int i = 0; i < n; i++)
    if (s[i].block == b && s[i].lo < hi && lo < s[i].hi) return true;
  return false;
}

static void barrier(vk_recorder *r) {
  VkMemoryBarrier mb = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
      .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
      .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                       VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
  };
  VkPipelineStageFlags stages =
      VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
  r->rt->vk.CmdPipelineBarrier(r->cmd, stages, stages, 0, 1, &mb, 0, NULL, 0, NULL);
  r->nwrites = r->nreads = 0;
  r->stats.barriers++;
}

static void push_span(vk_span *s, int *n, const vk_block *b, VkDeviceSize lo, VkDeviceSize hi) {
  /* Merge with an existing span of the same block that touches this one: keeps the lists short
   * for the common pattern of many ops on neighbouring tensors. */
  for (int i = 0; i < *n; i++)
    if (s[i].block == b && s[i].lo <= hi && lo <= s[i].hi) {
      if (lo < s[i].lo) s[i].lo = lo;
      if (hi > s[i].hi) s[i].hi = hi;
      return;
    }
  s[(*n)++] = (vk_span){b, lo, hi};
}

/* The bytes a ref may touch: a texel view covers its whole block, and the shader could read any of
 * it (the synchronisation validation layer sees it that way too), so it counts as the block. */
static void ref_range(const vk_buf_ref *f, VkDeviceSize *lo, VkDeviceSize *hi) {
  if (f->kind == VK_REF_TEXEL4 || f->kind == VK_REF_TEXEL1) {
    *lo = 0;
    *hi = f->block->size;
  } else {
    *lo = f->off;
    *hi = f->off + f->size;
  }
}

/* Emits a barrier if the accesses conflict with those since the last barrier, then records them. */
static void track(vk_recorder *r, const vk_buf_ref *refs, int n) {
  bool conflict = false;
  for (int i = 0; i < n && !conflict; i++) {
    VkDeviceSize lo, hi;
    ref_range(&refs[i], &lo, &hi);
    if (overlaps(r->writes, r->nwrites, refs[i].block, lo, hi)) conflict = true;
    if (refs[i].write && overlaps(r->reads, r->nreads, refs[i].block, lo, hi)) conflict = true;
  }
  if (conflict || r->nwrites + n > r->cap_spans || r->nreads + n > r->cap_spans) barrier(r);
  for (int i = 0; i < n; i++) {
    VkDeviceSize lo, hi;
    ref_range(&refs[i], &lo, &hi);
    if (refs[i].write)
      push_span(r->writes, &r->nwrites, refs[i].block, lo, hi);
    else
      push_span(r->reads, &r->nreads, refs[i].block, lo, hi);
  }
}

static VkDescriptorSet alloc_set(vk_recorder *r, char *err, size_t err_sz) {
  vk_runtime *rt = r->rt;
  for (;;) {
    if (r->dpool_cur < r->ndpools) {
      VkDescriptorSetAllocateInfo ai = {
          .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
          .descriptorPool = r->dpools[r->dpool_cur],
          .descriptorSetCount = 1,
          .pSetLayouts = &r->pipes->set_layout,
      };
      VkDescriptorSet set;
      VkResult res = rt->vk.AllocateDescriptorSets(rt->device, &ai, &set);
      if (res == VK_SUCCESS) return set;
      if (res != VK_ERROR_OUT_OF_POOL_MEMORY && res != VK_ERROR_FRAGMENTED_POOL) {
        mb_fail(err, err_sz, "Vulkan: vkAllocateDescriptorSets failed: %s", vk_result_name(res));
        return VK_NULL_HANDLE;
      }
      r->dpool_cur++;
      continue;
    }
    VkDescriptorPoolSize sizes[2] = {
        {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, DESCRIPTOR_SETS_PER_POOL * VK_PIPE_STORAGE_BINDINGS},
        {VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER,
         DESCRIPTOR_SETS_PER_POOL * VK_PIPE_TEXEL_BINDINGS},
    };
    VkDescriptorPoolCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = DESCRIPTOR_SETS_PER_POOL,
        .poolSizeCount = 2,
        .pPoolSizes = sizes,
    };
    VkDescriptorPool *np = realloc(r->dpools, sizeof *np * (size_t)(r->ndpools + 1));
    if (!np) {
      mb_fail(err, err_sz, "Vulkan: out of host memory");
      return VK_NULL_HANDLE;
    }
    r->dpools = np;
    VkResult res = rt->vk.CreateDescriptorPool(rt->device, &ci, NULL, &r->dpools[r->ndpools]);
    if (res != VK_SUCCESS) {
      mb_fail(err, err_sz, "Vulkan: vkCreateDescriptorPool failed: %s", vk_result_name(res));
      return VK_NULL_HANDLE;
    }
    r->dpool_cur = r->ndpools++;
  }
}

bool vk_rec_dispatch(vk_recorder *r, const vk_pipeline *p, const void *push, uint32_t push_bytes,
                     const vk_buf_ref *refs, int nrefs, uint32_t gx, uint32_t gy, uint32_t gz,
                     char *err, size_t err_sz) {
  vk_runtime *rt = r->rt;
  begin(r);
  track(r, refs, nrefs);
  if (r->bound != p->pipeline) {
    rt->vk.CmdBindPipeline(r->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
    r->bound = p->pipeline;
  }
  VkDescriptorBufferInfo info[VK_PIPE_MAX_BINDINGS];
  VkBufferView views[VK_PIPE_MAX_BINDINGS];
  VkWriteDescriptorSet w[VK_PIPE_MAX_BINDINGS];
  uint32_t nw = 0;
  for (int i = 0; i < nrefs; i++) {
    const vk_buf_ref *f = &refs[i];
    if (f->kind == VK_REF_TRACK) continue;
    w[nw] = (VkWriteDescriptorSet){
        .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
        .dstBinding = (uint32_t)f->binding,
        .descriptorCount = 1,
    };
    if (f->kind == VK_REF_STORAGE) {
      info[nw] = (VkDescriptorBufferInfo){f->block->buffer, f->off, f->size};
      w[nw].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
      w[nw].pBufferInfo = &info[nw];
    } else {
      views[nw] = f->kind == VK_REF_TEXEL4 ? f->block->view4 : f->block->view1;
      w[nw].descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
      w[nw].pTexelBufferView = &views[nw];
    }
    nw++;
  }
  if (nw > 0) {
    if (rt->push_descriptors) {
      rt->vk.CmdPushDescriptorSetKHR(r->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, r->pipes->layout, 0,
                                     nw, w);
    } else {
      VkDescriptorSet set = alloc_set(r, err, err_sz);
      if (!set) return false;
      for (uint32_t i = 0; i < nw; i++) w[i].dstSet = set;
      rt->vk.UpdateDescriptorSets(rt->device, nw, w, 0, NULL);
      rt->vk.CmdBindDescriptorSets(r->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, r->pipes->layout, 0, 1,
                                   &set, 0, NULL);
    }
  }
  if (push_bytes)
    rt->vk.CmdPushConstants(r->cmd, r->pipes->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes,
                            push);
  rt->vk.CmdDispatch(r->cmd, gx, gy, gz);
  vk_profile_mark(r->profile, r->cmd, p);
  r->stats.dispatches++;
  return true;
}

void vk_rec_fill(vk_recorder *r, vk_block *b, VkDeviceSize off, VkDeviceSize size,
                 uint32_t pattern) {
  if (size == 0) return;
  begin(r);
  vk_buf_ref ref = {b, off, size, true, VK_REF_TRACK, 0};
  track(r, &ref, 1);
  r->rt->vk.CmdFillBuffer(r->cmd, b->buffer, off, size, pattern);
  r->stats.transfers++;
}

void vk_rec_copy(vk_recorder *r, vk_block *src, VkDeviceSize src_off, vk_block *dst,
                 VkDeviceSize dst_off, VkDeviceSize size) {
  vk_rec_copy_runs(r, src, src_off, 0, dst, dst_off, 0, size, 1);
}

void vk_rec_copy_runs(vk_recorder *r, vk_block *src, VkDeviceSize src_off, VkDeviceSize src_stride,
                      vk_block *dst, VkDeviceSize dst_off, VkDeviceSize dst_stride,
                      VkDeviceSize run, uint32_t count) {
  if (run == 0 || count == 0) return;
  begin(r);
  /* Tracked as the spans from the first run's start to the last one's end. */
  vk_buf_ref refs[2] = {{src, src_off, (count - 1) * src_stride + run, false, VK_REF_TRACK, 0},
                        {dst, dst_off, (count - 1) * dst_stride + run, true, VK_REF_TRACK, 0}};
  track(r, refs, 2);
  VkBufferCopy regions[64];
  for (uint32_t i0 = 0; i0 < count; i0 += 64) {
    uint32_t nreg = count - i0 < 64 ? count - i0 : 64;
    for (uint32_t i = 0; i < nreg; i++)
      regions[i] =
          (VkBufferCopy){src_off + (i0 + i) * src_stride, dst_off + (i0 + i) * dst_stride, run};
    r->rt->vk.CmdCopyBuffer(r->cmd, src->buffer, dst->buffer, nreg, regions);
  }
  r->stats.transfers++;
}

void *vk_rec_staging(vk_recorder *r, size_t bytes, vk_buf_ref *ref, char *err, size_t err_sz) {
  VkDeviceSize need = ((VkDeviceSize)bytes + 255) & ~(VkDeviceSize)255;
  while (r->chunk_cur < r->nchunks && r->chunk_used + need > r->chunks[r->chunk_cur].size) {
    r->chunk_cur++;
    r->chunk_used = 0;
  }
  if (r->chunk_cur == r->nchunks) {
    if (r->nchunks == r->cap_chunks) {
      int cap = r->cap_chunks ? 2 * r->cap_chunks : 4;
      vk_alloc *nc = realloc(r->chunks, sizeof *nc * (size_t)cap);
      if (!nc) return mb_fail_null(err, err_sz, "Vulkan: out of host memory");
      r->chunks = nc;
      r->cap_chunks = cap;
    }
    if (!vk_pool_alloc(r->staging, need > STAGING_CHUNK ? need : STAGING_CHUNK,
                       &r->chunks[r->nchunks], err, err_sz))
      return NULL;
    r->nchunks++;
    r->chunk_used = 0;
  }
  vk_alloc *c = &r->chunks[r->chunk_cur];
  *ref =
      (vk_buf_ref){c->block, c->off + r->chunk_used, (VkDeviceSize)bytes, false, VK_REF_STORAGE, 0};
  r->chunk_used += need;
  return c->block->mapped + ref->off;
}

bool vk_rec_upload(vk_recorder *r, vk_block *dst, VkDeviceSize off, const void *src, size_t bytes,
                   char *err, size_t err_sz) {
  if (bytes == 0) return true;
  vk_buf_ref s;
  void *p = vk_rec_staging(r, bytes, &s, err, err_sz);
  if (!p) return false;
  memcpy(p, src, bytes);
  vk_rec_copy(r, s.block, s.off, dst, off, bytes);
  return true;
}

bool vk_rec_download(vk_recorder *r, vk_block *src, VkDeviceSize off, void *dst, size_t bytes,
                     char *err, size_t err_sz) {
  if (bytes == 0) return true;
  vk_buf_ref s;
  void *p = vk_rec_staging(r, bytes, &s, err, err_sz);
  if (!p) return false;
  if (r->ndownloads == r->cap_downloads) {
    int cap = r->cap_downloads ? 2 * r->cap_downloads : 16;
    vk_pending_download *nd = realloc(r->downloads, sizeof *nd * (size_t)cap);
    if (!nd) return mb_fail(err, err_sz, "Vulkan: out of host memory");
    r->downloads = nd;
    r->cap_downloads = cap;
  }
  vk_rec_copy(r, src, off, s.block, s.off, bytes);
  r->downloads[r->ndownloads++] = (vk_pending_download){dst, p, bytes};
  return true;
}

bool vk_rec_flush(vk_recorder *r, char *err, size_t err_sz) {
  if (!r->open) return true;
  vk_runtime *rt = r->rt;
  if (r->ndownloads) {
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
    };
    rt->vk.CmdPipelineBarrier(r->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0,
                              1, &mb, 0, NULL, 0, NULL);
  }
  rt->vk.EndCommandBuffer(r->cmd);
  r->open = false;
  VkSubmitInfo si = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .commandBufferCount = 1,
      .pCommandBuffers = &r->cmd,
  };
  VkResult res = rt->vk.QueueSubmit(rt->queue, 1, &si, r->fence);
  if (res == VK_SUCCESS) res = rt->vk.WaitForFences(rt->device, 1, &r->fence, VK_TRUE, UINT64_MAX);
  rt->vk.ResetFences(rt->device, 1, &r->fence);
  rt->vk.ResetCommandBuffer(r->cmd, 0);
  r->stats.submits++;
  if (res == VK_SUCCESS) vk_profile_collect(r->profile);
  for (int i = 0; i < r->ndpools; i++) rt->vk.ResetDescriptorPool(rt->device, r->dpools[i], 0);
  r->dpool_cur = 0;
  if (res == VK_SUCCESS)
    for (int i = 0; i < r->ndownloads; i++)
      memcpy(r->downloads[i].dst, r->downloads[i].src, r->downloads[i].bytes);
  r->ndownloads = 0;
  r->chunk_cur = 0;
  r->chunk_used = 0;
  if (res != VK_SUCCESS)
    return mb_fail(err, err_sz, "Vulkan: queue submit/wait failed: %s", vk_result_name(res));
  return true;
}
