/* The command recorder: many dispatches, copies and fills go into one command buffer, which is
 * submitted once per sync point (a forward pass, a backward pass, an optimiser step), not per op.
 *
 * Barriers are the recorder's job (ncnn style): every command declares the buffer ranges it reads
 * and writes; the recorder remembers the ranges written and read since the last barrier and emits
 * one memory barrier right before a command that reads or writes a range written since then
 * (read-after-write, write-after-write) or writes a range read since then (write-after-read).
 * Independent dispatches therefore run back to back without barriers. The tracking survives
 * submits, so work in the next command buffer is ordered after the previous one as well.
 *
 * Uploads are copied into host-visible staging at record time (the caller's memory may be reused at
 * once) and copied to the device by the command buffer; downloads are copied to staging by the
 * command buffer and to the caller's memory when vk_rec_flush() has waited for the device. */
#ifndef VK_RECORDER_H
#define VK_RECORDER_H

#include "vk_mem.h"
#include "vk_pipeline.h"
#include "vk_profile.h"

typedef enum vk_ref_kind {
  VK_REF_TRACK,   /* only tracked for barriers (copies, fills) */
  VK_REF_STORAGE, /* a storage buffer over [off, off + size) at `binding` (0..7) */
  VK_REF_TEXEL4,  /* the block's RGBA32F view at `binding` (8..15); the shader gets the offset
                     from its push constants; for barriers the whole block counts as read, as
                     the view exposes all of it */
  VK_REF_TEXEL1,  /* the block's R32F view, likewise */
} vk_ref_kind;

/* A buffer range a command touches, and how the shader sees it. */
typedef struct vk_buf_ref {
  vk_block *block;   /* the VkBuffer */
  VkDeviceSize off;  /* byte offset (a multiple of minStorageBufferOffsetAlignment for storage) */
  VkDeviceSize size; /* bytes, > 0 */
  bool write;        /* the command writes (and maybe reads) the range */
  vk_ref_kind kind;  /* binding type */
  int binding;       /* descriptor binding for STORAGE and TEXEL kinds */
} vk_buf_ref;

typedef struct vk_span {
  const vk_block *block; /* which buffer */
  VkDeviceSize lo, hi;   /* byte range [lo, hi) */
} vk_span;

typedef struct vk_pending_download {
  void *dst;       /* caller's memory */
  const void *src; /* mapped staging */
  size_t bytes;    /* length */
} vk_pending_download;

typedef struct vk_recorder_stats {
  long dispatches; /* vkCmdDispatch calls recorded */
  long transfers;  /* copies and fills recorded */
  long barriers;   /* memory barriers the recorder inserted */
  long submits;    /* queue submissions */
} vk_recorder_stats;

typedef struct vk_recorder {
  vk_runtime *rt;                 /* not owned */
  vk_pipelines *pipes;            /* not owned: the layout used to bind descriptors */
  VkCommandPool cmd_pool;         /* owned */
  VkCommandBuffer cmd;            /* the command buffer being recorded */
  VkFence fence;                  /* signalled when a submit completes */
  bool open;                      /* cmd has begun and holds commands not yet submitted */
  VkPipeline bound;               /* pipeline bound in cmd (avoids rebinding) */
  vk_span *writes, *reads;        /* ranges written / read since the last barrier */
  int nwrites, nreads, cap_spans; /* lengths and capacity of both */
  VkDescriptorPool *dpools;       /* descriptor pools when there are no push descriptors (owned) */
  int ndpools, dpool_cur;         /* count and the one being allocated from */
  vk_pool *staging;               /* host-visible memory for uploads and downloads (owned) */
  vk_alloc *chunks;               /* staging chunks in use this submit (nchunks of cap_chunks) */
  int nchunks, cap_chunks;        /* count and capacity */
  int chunk_cur;                  /* chunk being filled */
  VkDeviceSize chunk_used;        /* bytes used in chunks[chunk_cur] */
  vk_pending_download *downloads; /* copies to do after the wait (n of cap) */
  int ndownloads, cap_downloads;  /* count and capacity */
  vk_recorder_stats stats;        /* counters since creation */
  vk_profile *profile;            /* MBOLD_VK_PROFILE: per-shader device time (owned; or NULL) */
} vk_recorder;

/* Returns NULL with err filled on failure. */
vk_recorder *vk_recorder_create(vk_runtime *rt, vk_pipelines *pipes, char *err, size_t err_sz);
/* Waits for submitted work and frees everything; r may be NULL. */
void vk_recorder_destroy(vk_recorder *r);

/* Records a dispatch of p with push constants (push_bytes <= 128) over gx * gy * gz workgroups,
 * binding and tracking refs[0..nrefs) (nrefs <= VK_PIPE_MAX_BINDINGS). False with err filled if
 * descriptor memory runs out. */
bool vk_rec_dispatch(vk_recorder *r, const vk_pipeline *p, const void *push, uint32_t push_bytes,
                     const vk_buf_ref *refs, int nrefs, uint32_t gx, uint32_t gy, uint32_t gz,
                     char *err, size_t err_sz);
/* Fills [off, off + size) with a 32-bit pattern (both multiples of 4). */
void vk_rec_fill(vk_recorder *r, vk_block *b, VkDeviceSize off, VkDeviceSize size,
                 uint32_t pattern);
/* Copies size bytes between ranges (they must not overlap when in the same block). */
void vk_rec_copy(vk_recorder *r, vk_block *src, VkDeviceSize src_off, vk_block *dst,
                 VkDeviceSize dst_off, VkDeviceSize size);
/* Copies count runs of run bytes, run i from src_off + i src_stride to dst_off + i dst_stride, as
 * one copy command (no run may overlap another's destination or a source). */
void vk_rec_copy_runs(vk_recorder *r, vk_block *src, VkDeviceSize src_off, VkDeviceSize src_stride,
                      vk_block *dst, VkDeviceSize dst_off, VkDeviceSize dst_stride,
                      VkDeviceSize run, uint32_t count);
/* Host -> device: copies src into staging now and records the staging -> dst copy. */
bool vk_rec_upload(vk_recorder *r, vk_block *dst, VkDeviceSize off, const void *src, size_t bytes,
                   char *err, size_t err_sz);
/* Device -> host: records the copy to staging; dst is written by the next vk_rec_flush(). */
bool vk_rec_download(vk_recorder *r, vk_block *src, VkDeviceSize off, void *dst, size_t bytes,
                     char *err, size_t err_sz);
/* Host address inside staging for size bytes written by the caller now and read by the device in
 * the next submit (the device-side twin is returned in *ref). For uploads that want to convert on
 * the device (e.g. uint8 images). */
void *vk_rec_staging(vk_recorder *r, size_t bytes, vk_buf_ref *ref, char *err, size_t err_sz);

/* Submits what was recorded, waits for it and completes pending downloads. No-op when nothing was
 * recorded. False with err filled when the device is lost. */
bool vk_rec_flush(vk_recorder *r, char *err, size_t err_sz);

#endif
