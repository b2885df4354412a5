/* Block allocation and first-fit suballocation (see vk_mem.h). */
#include "vk_mem.h"

#include "mb_err.h"

#include <stdlib.h>
#include <string.h>

VkDeviceSize vk_pool_max_block(const vk_runtime *rt) {
  /* A storage descriptor sees at most maxStorageBufferRange bytes and a texel view at most
   * maxTexelBufferElements texels: keep every block within both. */
  VkDeviceSize cap = rt->props.limits.maxStorageBufferRange;
  VkDeviceSize texel = (VkDeviceSize)rt->props.limits.maxTexelBufferElements * 4;
  if (texel < cap) cap = texel;
  return cap & ~(VkDeviceSize)(VK_MEM_ALIGN - 1);
}

vk_pool *vk_pool_create(vk_runtime *rt, vk_mem_kind kind, VkDeviceSize block_size) {
  vk_pool *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->rt = rt;
  p->kind = kind;
  p->block_size = block_size ? block_size : (VkDeviceSize)64 << 20;
  VkDeviceSize cap = vk_pool_max_block(rt);
  if (p->block_size > cap) p->block_size = cap;
  return p;
}

static void block_destroy(vk_runtime *rt, vk_block *b) {
  if (!b) return;
  if (b->view4) rt->vk.DestroyBufferView(rt->device, b->view4, NULL);
  if (b->view1) rt->vk.DestroyBufferView(rt->device, b->view1, NULL);
  if (b->buffer) rt->vk.DestroyBuffer(rt->device, b->buffer, NULL);
  if (b->memory) rt->vk.FreeMemory(rt->device, b->memory, NULL); /* unmaps implicitly */
  free(b->free);
  free(b);
}

static vk_block *block_create(vk_pool *p, VkDeviceSize size, char *err, size_t err_sz) {
  vk_runtime *rt = p->rt;
  vk_block *b = calloc(1, sizeof *b);
  if (!b) return mb_fail_null(err, err_sz, "Vulkan: out of host memory");
  b->size = size;
  VkBufferCreateInfo bci = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .size = size,
      .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
               VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT,
      .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
  };
  VkResult r = rt->vk.CreateBuffer(rt->device, &bci, NULL, &b->buffer);
  if (r != VK_SUCCESS) {
    block_destroy(rt, b);
    return mb_fail_null(err, err_sz, "Vulkan: vkCreateBuffer(%llu bytes) failed: %s",
                        (unsigned long long)size, vk_result_name(r));
  }
  VkMemoryRequirements req;
  rt->vk.GetBufferMemoryRequirements(rt->device, b->buffer, &req);
  int type =
      p->kind == VK_MEM_DEVICE
          ? vk_runtime_memory_type(rt, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0)
          : vk_runtime_memory_type(rt, req.memoryTypeBits,
                                   VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                       VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                                   VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
  if (type < 0 && p->kind == VK_MEM_DEVICE) /* e.g. a driver exposing host memory only */
    type = vk_runtime_memory_type(rt, req.memoryTypeBits, 0, 0);
  if (type < 0) {
    block_destroy(rt, b);
    return mb_fail_null(err, err_sz, "Vulkan: no suitable %s memory type",
                        p->kind == VK_MEM_DEVICE ? "device-local" : "host-visible");
  }
  VkMemoryAllocateInfo mai = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .allocationSize = req.size,
      .memoryTypeIndex = (uint32_t)type,
  };
  r = rt->vk.AllocateMemory(rt->device, &mai, NULL, &b->memory);
  if (r != VK_SUCCESS) {
    block_destroy(rt, b);
    return mb_fail_null(err, err_sz, "Vulkan: cannot allocate %llu MiB of %s memory: %s",
                        (unsigned long long)(req.size >> 20),
                        p->kind == VK_MEM_DEVICE ? "device" : "staging", vk_result_name(r));
  }
  rt->vk.BindBufferMemory(rt->device, b->buffer, b->memory, 0);
  if (p->kind == VK_MEM_HOST) {
    void *ptr = NULL;
    r = rt->vk.MapMemory(rt->device, b->memory, 0, VK_WHOLE_SIZE, 0, &ptr);
    if (r != VK_SUCCESS) {
      block_destroy(rt, b);
      return mb_fail_null(err, err_sz, "Vulkan: vkMapMemory failed: %s", vk_result_name(r));
    }
    b->mapped = ptr;
  }
  {
    VkBufferViewCreateInfo vci = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
        .buffer = b->buffer,
        .format = VK_FORMAT_R32G32B32A32_SFLOAT,
        .offset = 0,
        .range = size,
    };
    r = rt->vk.CreateBufferView(rt->device, &vci, NULL, &b->view4);
    if (r == VK_SUCCESS) {
      vci.format = VK_FORMAT_R32_SFLOAT;
      r = rt->vk.CreateBufferView(rt->device, &vci, NULL, &b->view1);
    }
    if (r != VK_SUCCESS) {
      block_destroy(rt, b);
      return mb_fail_null(err, err_sz, "Vulkan: vkCreateBufferView failed: %s", vk_result_name(r));
    }
  }
  b->cap_free = 8;
  b->free = malloc(sizeof *b->free * (size_t)b->cap_free);
  if (!b->free) {
    block_destroy(rt, b);
    return mb_fail_null(err, err_sz, "Vulkan: out of host memory");
  }
  b->free[0] = (vk_range){0, size};
  b->nfree = 1;
  return b;
}

void vk_pool_destroy(vk_pool *p) {
  if (!p) return;
  for (int i = 0; i < p->nblocks; i++) block_destroy(p->rt, p->blocks[i]);
  free(p->blocks);
  free(p);
}

static bool take(vk_block *b, VkDeviceSize size, vk_alloc *out) {
  for (int i = 0; i < b->nfree; i++) {
    if (b->free[i].size < size) continue;
    out->block = b;
    out->off = b->free[i].off;
    out->size = size;
    b->free[i].off += size;
    b->free[i].size -= size;
    if (b->free[i].size == 0) {
      memmove(&b->free[i], &b->free[i + 1], sizeof *b->free * (size_t)(b->nfree - i - 1));
      b->nfree--;
    }
    return true;
  }
  return false;
}

bool vk_pool_alloc(vk_pool *p, VkDeviceSize size, vk_alloc *out, char *err, size_t err_sz) {
  memset(out, 0, sizeof *out);
  if (size == 0) return true;
  size = (size + VK_MEM_ALIGN - 1) & ~(VkDeviceSize)(VK_MEM_ALIGN - 1);
  for (int i = 0; i < p->nblocks; i++)
    if (take(p->blocks[i], size, out)) return true;
  if (size > vk_pool_max_block(p->rt))
    return mb_fail(
        err, err_sz, "Vulkan: %llu MiB in one tensor exceed the device's limit of %llu MiB",
        (unsigned long long)(size >> 20), (unsigned long long)(vk_pool_max_block(p->rt) >> 20));
  if (p->nblocks == p->cap) {
    int cap = p->cap ? 2 * p->cap : 8;
    vk_block **nb = realloc(p->blocks, sizeof *nb * (size_t)cap);
    if (!nb) return mb_fail(err, err_sz, "Vulkan: out of host memory");
    p->blocks = nb;
    p->cap = cap;
  }
  vk_block *b = block_create(p, size > p->block_size ? size : p->block_size, err, err_sz);
  if (!b) return false;
  p->blocks[p->nblocks++] = b;
  take(b, size, out);
  return true;
}

void vk_pool_free(vk_pool *p, const vk_alloc *a) {
  (void)p;
  vk_block *b = a->block;
  if (!b || a->size == 0) return;
  int i = 0;
  while (i < b->nfree && b->free[i].off < a->off) i++;
  bool merge_prev = i > 0 && b->free[i - 1].off + b->free[i - 1].size == a->off;
  bool merge_next = i < b->nfree && a->off + a->size == b->free[i].off;
  if (merge_prev && merge_next) {
    b->free[i - 1].size += a->size + b->free[i].size;
    memmove(&b->free[i], &b->free[i + 1], sizeof *b->free * (size_t)(b->nfree - i - 1));
    b->nfree--;
  } else if (merge_prev) {
    b->free[i - 1].size += a->size;
  } else if (merge_next) {
    b->free[i].off = a->off;
    b->free[i].size += a->size;
  } else {
    if (b->nfree == b->cap_free) {
      int cap = 2 * b->cap_free;
      vk_range *nf = realloc(b->free, sizeof *nf * (size_t)cap);
      if (!nf) return; /* the range is lost to this pool until destroy; nothing else breaks */
      b->free = nf;
      b->cap_free = cap;
    }
    memmove(&b->free[i + 1], &b->free[i], sizeof *b->free * (size_t)(b->nfree - i));
    b->free[i] = (vk_range){a->off, a->size};
    b->nfree++;
  }
}

VkDeviceSize vk_pool_bytes(const vk_pool *p) {
  VkDeviceSize total = 0;
  for (int i = 0; i < p->nblocks; i++) total += p->blocks[i]->size;
  return total;
}
