/* Vulkan memory pools: big VkBuffers ("blocks") bound to their own memory, from which ranges are
 * suballocated first-fit and returned to the pool for reuse. Separate pools serve weights and
 * activations (device-local) and staging (host-visible, persistently mapped) so that each kind of
 * memory is allocated once at init and reused across steps.
 *
 * Every block is usable as a storage buffer and as a transfer source/destination. It
 * also carries two uniform texel-buffer views over their whole range (RGBA32F and R32F):
 * GEMM-shaped shaders read their operands through them because llvmpipe turns texel fetches into
 * vector gathers, while storage-buffer loads become a per-lane loop (see shaders/gemm.comp). A pool
 * and its blocks belong to one runtime and are used by one thread at a time. */
#ifndef VK_MEM_H
#define VK_MEM_H

#include "vk_runtime.h"

typedef enum vk_mem_kind {
  VK_MEM_DEVICE, /* device-local (weights, activations) */
  VK_MEM_HOST,   /* host-visible + coherent, cached when possible (staging up and down) */
} vk_mem_kind;

typedef struct vk_range {
  VkDeviceSize off, size; /* a free byte range inside a block */
} vk_range;

typedef struct vk_block {
  VkBuffer buffer;       /* covers the whole block */
  VkDeviceMemory memory; /* dedicated to this block */
  VkDeviceSize size;     /* bytes */
  VkBufferView view4;    /* RGBA32F texel view of the whole block (device blocks only) */
  VkBufferView view1;    /* R32F texel view of the whole block (device blocks only) */
  uint8_t *mapped;       /* host address of byte 0 when host-visible, else NULL */
  vk_range *free;        /* free ranges sorted by offset (nfree of cap) */
  int nfree, cap_free;   /* free-list length and capacity */
} vk_block;

typedef struct vk_alloc {
  vk_block *block;   /* NULL for an empty allocation */
  VkDeviceSize off;  /* byte offset in block (a multiple of VK_MEM_ALIGN) */
  VkDeviceSize size; /* bytes (rounded up to VK_MEM_ALIGN) */
} vk_alloc;

#define VK_MEM_ALIGN 256 /* >= every minStorageBufferOffsetAlignment; 64 floats */

typedef struct vk_pool {
  vk_runtime *rt;          /* not owned */
  vk_mem_kind kind;        /* which memory */
  VkDeviceSize block_size; /* default block size; bigger requests get a block of their own */
  vk_block **blocks;       /* owned (nblocks of cap) */
  int nblocks, cap;        /* count and capacity */
} vk_pool;

/* block_size 0 means 64 MiB (less where the device limits storage ranges or texel-buffer sizes).
 * Returns NULL only when malloc fails. */
vk_pool *vk_pool_create(vk_runtime *rt, vk_mem_kind kind, VkDeviceSize block_size);
/* Frees every block; the caller makes sure the device no longer uses them. p may be NULL. */
void vk_pool_destroy(vk_pool *p);
/* A range of at least size bytes, or false with err filled (device out of memory). */
bool vk_pool_alloc(vk_pool *p, VkDeviceSize size, vk_alloc *out, char *err, size_t err_sz);
/* Returns a range to its block (merging neighbours); a->block NULL is ignored. */
void vk_pool_free(vk_pool *p, const vk_alloc *a);
/* The largest block (and so tensor) the device allows, in bytes. */
VkDeviceSize vk_pool_max_block(const vk_runtime *rt);
/* Bytes reserved from the device by the pool's blocks. */
VkDeviceSize vk_pool_bytes(const vk_pool *p);

#endif
