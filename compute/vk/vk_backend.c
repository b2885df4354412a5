/* The Vulkan backend: context creation (cmp_vk.h), memory, transfers and the helpers its op files
 * share (vk_backend.h). */
#include "vk_backend.h"

#include "cmp_vk.h"
#include "mb_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Noreturn void vkb_die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("cmp: vulkan: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  fflush(stderr);
  abort();
}

/* ---- bindings and dispatch ------------------------------------------------------------------ */

vk_buf_ref vkb_ssbo_mat(const vk_be *b, vk_mat m, uint64_t count, bool write, int binding,
                        uint32_t *rel) {
  vk_ssbo_at at = vk_ssbo_align(b->rt, m.off);
  *rel = at.rel;
  vk_buf_ref r = {m.block, at.bind,        (at.rel + (count ? count : 1)) * 4,
                  write,   VK_REF_STORAGE, binding};
  return r;
}

vk_buf_ref vkb_ssbo(const vk_be *b, const cmp_tensor *t, bool write, int binding, uint32_t *rel) {
  return vkb_ssbo_mat(b, vkb_mat(t), cmp_numel(t), write, binding, rel);
}

vk_buf_ref vkb_texel(vk_mat m, uint64_t count, bool vec4, int binding) {
  vk_buf_ref r = {
      m.block, m.off * 4, (count ? count : 1) * 4, false, vec4 ? VK_REF_TEXEL4 : VK_REF_TEXEL1,
      binding};
  return r;
}

void vkb_dispatch(vk_be *b, vk_shader_id id, const uint32_t *spec, int nspec, const void *push,
                  uint32_t push_bytes, const vk_buf_ref *refs, int nrefs, uint32_t gx, uint32_t gy,
                  uint32_t gz) {
  char err[512];
  if (!gx || !gy || !gz) return;
  const vk_pipeline *p = vk_pipelines_get(b->pipes, id, spec, nspec, err, sizeof err);
  if (!p || !vk_rec_dispatch(b->rec, p, push, push_bytes, refs, nrefs, gx, gy, gz, err, sizeof err))
    vkb_die("%s", err);
}

void vkb_dispatch_items(vk_be *b, vk_shader_id id, const void *push, uint32_t push_bytes,
                        const vk_buf_ref *refs, int nrefs, uint64_t items) {
  vkb_dispatch_items_spec(b, id, NULL, 0, push, push_bytes, refs, nrefs, items);
}

void vkb_dispatch_items_spec(vk_be *b, vk_shader_id id, const uint32_t *spec, int nspec,
                             const void *push, uint32_t push_bytes, const vk_buf_ref *refs,
                             int nrefs, uint64_t items) {
  uint64_t groups = (items + 63) / 64;
  uint64_t max_x = b->rt->props.limits.maxComputeWorkGroupCount[0];
  uint64_t gx = groups < max_x ? groups : max_x, gy = gx ? (groups + gx - 1) / gx : 0;
  vkb_dispatch(b, id, spec, nspec, push, push_bytes, refs, nrefs, (uint32_t)gx, (uint32_t)gy, 1);
}

/* ---- scratch and reductions ----------------------------------------------------------------- */

void vkb_scratch_begin(vk_be *b, uint64_t floats) {
  char err[512];
  b->scratch_used = 0;
  VkDeviceSize bytes = floats * 4;
  if (bytes <= b->scratch.size) return;
  /* Recorded commands may still use the old range: finish them before giving it back. */
  if (!vk_rec_flush(b->rec, err, sizeof err)) vkb_die("%s", err);
  vk_pool_free(b->scratch_pool, &b->scratch);
  memset(&b->scratch, 0, sizeof b->scratch);
  VkDeviceSize want = bytes < ((VkDeviceSize)4 << 20) ? ((VkDeviceSize)4 << 20) : bytes;
  if (!vk_pool_alloc(b->scratch_pool, want, &b->scratch, err, sizeof err))
    vkb_die("scratch of %llu MiB: %s", (unsigned long long)(want >> 20), err);
}

vk_mat vkb_scratch(vk_be *b, uint64_t floats) {
  VkDeviceSize bytes = vkb_scratch_size(floats) * 4;
  if (b->scratch_used + bytes > b->scratch.size)
    vkb_die("scratch overrun (%llu + %llu of %llu bytes)", (unsigned long long)b->scratch_used,
            (unsigned long long)bytes, (unsigned long long)b->scratch.size);
  vk_mat m = {b->scratch.block, (b->scratch.off + b->scratch_used) / 4};
  b->scratch_used += bytes;
  return m;
}

/* When there are few outputs, one invocation per output would leave most lanes idle on a long
 * reduction; cut r into slices summed in a first pass. */
static uint64_t reduce_parts(uint64_t outer, uint64_t r, uint64_t inner) {
  uint64_t outputs = outer * inner;
  if (outputs >= 256 || r < 1024) return 1;
  uint64_t parts = (512 + outputs - 1) / outputs;
  if (parts > r / 64) parts = r / 64;
  return parts > 1 ? parts : 1;
}

uint64_t vkb_reduce_scratch(uint64_t outer, uint64_t r, uint64_t inner) {
  uint64_t parts = reduce_parts(outer, r, inner);
  return parts > 1 ? vkb_scratch_size(outer * parts * inner) : 0;
}

static void reduce_pass(vk_be *b, vk_mat xm, uint64_t outer, uint64_t r, uint64_t inner,
                        uint64_t parts, float scale, vk_mat ym, float beta) {
  uint64_t chunk = (r + parts - 1) / parts;
  /* Contiguous runs (inner 1) read as RGBA32F texels: slices of whole texels. */
  bool vec = inner == 1 && vkb_al4(r) && vkb_al4(xm.off);
  if (vec) chunk = (chunk + 3) / 4 * 4;
  vk_push_reduce pc = {(uint32_t)xm.off,
                       0,
                       (uint32_t)outer,
                       (uint32_t)r,
                       (uint32_t)inner,
                       (uint32_t)parts,
                       (uint32_t)chunk,
                       scale,
                       beta};
  vk_buf_ref refs[3] = {vkb_texel(xm, outer * r * inner, false, 9),
                        vkb_ssbo_mat(b, ym, outer * parts * inner, true, 1, &pc.y_off),
                        vkb_texel(xm, outer * r * inner, true, 8)};
  uint32_t spec[1] = {vec};
  vkb_dispatch_items_spec(b, VK_SHADER_REDUCE, spec, 1, &pc, sizeof pc, refs, 3,
                          outer * parts * inner);
}

void vkb_reduce(vk_be *b, vk_mat xm, uint64_t outer, uint64_t r, uint64_t inner, float scale,
                vk_mat ym, float beta) {
  uint64_t parts = reduce_parts(outer, r, inner);
  if (parts == 1) {
    reduce_pass(b, xm, outer, r, inner, 1, scale, ym, beta);
    return;
  }
  vk_mat part = vkb_scratch(b, outer * parts * inner);
  reduce_pass(b, xm, outer, r, inner, parts, 1.0f, part, 0.0f);
  reduce_pass(b, part, outer, parts, inner, 1, scale, ym, beta);
}

/* ---- memory and transfers ------------------------------------------------------------------- */

static void flush_or_die(vk_be *b) {
  char err[512];
  if (!vk_rec_flush(b->rec, err, sizeof err)) vkb_die("%s", err);
}

static cmp_buffer *vkb_buffer_alloc(cmp_ctx *ctx, cmp_arena_kind kind, size_t floats, char *err,
                                    size_t err_sz) {
  vk_be *b = vkb(ctx);
  cmp_buffer *buf = calloc(1, sizeof *buf);
  vk_alloc *a = calloc(1, sizeof *a);
  if (!buf || !a) {
    free(buf), free(a);
    return mb_fail_null(err, err_sz, "out of host memory");
  }
  if (!vk_pool_alloc(b->pools[kind], (VkDeviceSize)floats * 4, a, err, err_sz)) {
    free(buf), free(a);
    return NULL;
  }
  buf->ctx = ctx;
  buf->kind = kind;
  buf->floats = floats;
  buf->impl = a;
  if (a->block->mapped) {
    /* Host-visible staging: nothing pending can use a range the pool hands out (frees wait). */
    buf->host = (float *)(a->block->mapped + a->off);
    memset(buf->host, 0, floats * 4);
  } else {
    vk_rec_fill(b->rec, a->block, a->off, (VkDeviceSize)floats * 4, 0);
  }
  return buf;
}

static void vkb_buffer_free(cmp_ctx *ctx, cmp_buffer *buf) {
  vk_be *b = vkb(ctx);
  if (!buf) return;
  flush_or_die(b); /* recorded commands may still use it */
  vk_pool_free(b->pools[buf->kind], buf->impl);
  free(buf->impl);
  free(buf);
}

static void vkb_sync(cmp_ctx *ctx) {
  flush_or_die(vkb(ctx));
}

static int vkb_validation_count(const cmp_ctx *ctx) {
  return vk_runtime_validation_count(vkb(ctx)->rt);
}

static void vkb_upload(cmp_ctx *ctx, const cmp_tensor *dst, const float *src) {
  vk_be *b = vkb(ctx);
  char err[512];
  if (!vk_rec_upload(b->rec, vkb_block(dst), vkb_off(dst) * 4, src, cmp_numel(dst) * 4, err,
                     sizeof err))
    vkb_die("upload: %s", err);
}

static void vkb_download(cmp_ctx *ctx, const cmp_tensor *src, float *dst) {
  vk_be *b = vkb(ctx);
  char err[512];
  if (!vk_rec_download(b->rec, vkb_block(src), vkb_off(src) * 4, dst, cmp_numel(src) * 4, err,
                       sizeof err))
    vkb_die("download: %s", err);
  flush_or_die(b);
}

/* The bytes go to staging as they are; u8_hwc.comp converts them on the device. */
static void vkb_upload_u8_hwc(cmp_ctx *ctx, const cmp_tensor *dst, int c0, const uint8_t *src,
                              float scale, float bias) {
  vk_be *b = vkb(ctx);
  char err[512];
  size_t hw = (size_t)dst->h * dst->w, bytes = (size_t)dst->n * hw * 3;
  vk_buf_ref s;
  uint8_t *p = vk_rec_staging(b->rec, (bytes + 3) / 4 * 4, &s, err, sizeof err);
  if (!p) vkb_die("upload_u8_hwc: %s", err);
  memcpy(p, src, bytes);
  vk_push_u8_hwc pc = {
      0,     0,   (uint32_t)((size_t)dst->n * hw), (uint32_t)hw, (uint32_t)((size_t)dst->c * hw),
      scale, bias};
  vk_mat d = vkb_mat(dst);
  d.off += (uint64_t)c0 * hw;
  vk_buf_ref refs[2] = {
      s, vkb_ssbo_mat(b, d, cmp_numel(dst) - (uint64_t)c0 * hw, true, 1, &pc.dst_off)};
  refs[0].size = (bytes + 3) / 4 * 4;
  uint32_t vec = hw % 4 == 0 && vkb_al4(d.off);
  vkb_dispatch_items_spec(b, VK_SHADER_U8_HWC, &vec, 1, &pc, sizeof pc, refs, 2,
                          ((uint64_t)dst->n * hw + 3) / 4);
}

/* ---- context -------------------------------------------------------------------------------- */

static void vkb_destroy(cmp_ctx *ctx) {
  vk_be *b = vkb(ctx);
  if (!b) return;
  if (b->rec) vk_rec_flush(b->rec, NULL, 0);
  vk_recorder_destroy(b->rec);
  if (b->scratch_pool) vk_pool_free(b->scratch_pool, &b->scratch);
  vk_pool_destroy(b->scratch_pool);
  for (int i = 0; i < 3; i++) vk_pool_destroy(b->pools[i]);
  vk_pipelines_destroy(b->pipes);
  vk_runtime_destroy(b->rt);
  free(b);
  ctx->impl = NULL;
}

static const cmp_backend_ops vk_ops = {
    .destroy = vkb_destroy,
    .buffer_alloc = vkb_buffer_alloc,
    .buffer_free = vkb_buffer_free,
    .sync = vkb_sync,
    .validation_message_count = vkb_validation_count,
    .upload = vkb_upload,
    .upload_u8_hwc = vkb_upload_u8_hwc,
    .download = vkb_download,
    .fill = vkb_fill,
    .axpby = vkb_axpby,
    .clamp = vkb_clamp,
    .copy_channels = vkb_copy_channels,
    .act_fwd = vkb_act_fwd,
    .act_bwd = vkb_act_bwd,
    .binary = vkb_binary,
    .binary_bwd = vkb_binary_bwd,
    .reduce = vkb_reduce_op,
    .broadcast = vkb_broadcast,
    .gemm = vkb_gemm_op,
    .linear_fwd = vkb_linear_fwd,
    .linear_bwd_data = vkb_linear_bwd_data,
    .linear_bwd_weight = vkb_linear_bwd_weight,
    .conv2d_fwd = vkb_conv2d_fwd,
    .conv2d_bwd_data = vkb_conv2d_bwd_data,
    .conv2d_bwd_weight = vkb_conv2d_bwd_weight,
    .convt2d_fwd = vkb_convt2d_fwd,
    .convt2d_bwd_data = vkb_convt2d_bwd_data,
    .convt2d_bwd_weight = vkb_convt2d_bwd_weight,
    .bn_fwd_train = vkb_bn_fwd_train,
    .bn_fwd_eval = vkb_bn_fwd_eval,
    .bn_bwd = vkb_bn_bwd,
    .mse_fwd = vkb_mse_fwd,
    .mse_bwd = vkb_mse_bwd,
    .logsumexp_fwd = vkb_logsumexp_fwd,
    .logsumexp_bwd = vkb_logsumexp_bwd,
    .adam_step = vkb_adam_step,
    .polyak = vkb_polyak,
    .rng_uniform = vkb_rng_uniform,
    .rng_normal = vkb_rng_normal,
    .warp_fwd = vkb_warp_fwd,
    .warp_bwd = vkb_warp_bwd,
};

cmp_ctx *cmp_vk_create(const cmp_options *opt, char *err, size_t err_sz) {
  vk_runtime_options ro = {.validation = opt->validation, .device_index = opt->device_index};
  vk_be *b = calloc(1, sizeof *b);
  if (!b) return mb_fail_null(err, err_sz, "out of host memory");
  b->rt = vk_runtime_create(&ro, err, err_sz);
  if (b->rt) b->pipes = vk_pipelines_create(b->rt, err, err_sz);
  if (b->pipes) b->rec = vk_recorder_create(b->rt, b->pipes, err, err_sz);
  if (b->rec) {
    b->pools[CMP_ARENA_WEIGHTS] = vk_pool_create(b->rt, VK_MEM_DEVICE, 0);
    b->pools[CMP_ARENA_ACTIVATIONS] = vk_pool_create(b->rt, VK_MEM_DEVICE, 0);
    b->pools[CMP_ARENA_STAGING] = vk_pool_create(b->rt, VK_MEM_HOST, 0);
    b->scratch_pool = vk_pool_create(b->rt, VK_MEM_DEVICE, 0);
  }
  cmp_ctx *ctx = NULL;
  if (b->rec) {
    if (b->pools[0] && b->pools[1] && b->pools[2] && b->scratch_pool)
      ctx = cmp_ctx_new(&vk_ops, b, "vulkan", b->rt->desc.name);
    if (!ctx) mb_fail(err, err_sz, "out of host memory");
  }
  if (!ctx) {
    cmp_ctx tmp = {.impl = b};
    vkb_destroy(&tmp);
  }
  return ctx;
}

int cmp_vk_list_devices(cmp_device_info *out, int max, char *err, size_t err_sz) {
  enum { MAX = 16 };
  vk_device_desc d[MAX];
  int n = vk_list_devices(d, MAX, err, err_sz);
  for (int i = 0; i < n && i < max && i < MAX; i++) {
    _Static_assert(sizeof out->name == sizeof d->name && sizeof out->type == sizeof d->type &&
                       sizeof out->driver == sizeof d->driver &&
                       sizeof out->api_version == sizeof d->api_version,
                   "cmp_device_info mirrors vk_device_desc");
    memcpy(out[i].name, d[i].name, sizeof out[i].name);
    memcpy(out[i].type, d[i].type, sizeof out[i].type);
    memcpy(out[i].driver, d[i].driver, sizeof out[i].driver);
    memcpy(out[i].api_version, d[i].api_version, sizeof out[i].api_version);
  }
  return n;
}
