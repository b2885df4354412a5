/* The compute core's public entry points: backend choice, contexts, arenas, and the op wrappers
 * that check shapes (a mismatch is a programming error: abort naming the op) before calling
 * through the backend's table (cmp_backend.h). */
#include "cmp.h"

#include "cmp_backend.h"
#include "cmp_cpu.h"
#include "cmp_vk.h"
#include "mb_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors ---------------------------------------------------------------------------------- */

_Noreturn void cmp_die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("cmp: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  fflush(stderr);
  abort();
}

#define REQ(cond, ...)                                                                             \
  do {                                                                                             \
    if (!(cond)) cmp_die(__VA_ARGS__);                                                             \
  } while (0)

/* "[n,c,h,w]" of a tensor, in one of a few rotating static buffers (messages only). */
static const char *shape_str(const cmp_tensor *t) {
  static _Thread_local char bufs[4][64];
  static _Thread_local int next;
  char *s = bufs[next++ & 3];
  if (!t)
    snprintf(s, 64, "NULL");
  else
    snprintf(s, 64, "[%d,%d,%d,%d]", t->n, t->c, t->h, t->w);
  return s;
}

/* A tensor that an op reads or writes: has storage of this context, positive dims, in bounds. */
static void chk(cmp_ctx *ctx, const char *op, const char *name, const cmp_tensor *t) {
  REQ(t, "%s: %s is NULL", op, name);
  REQ(t->buf, "%s: %s %s has no storage", op, name, shape_str(t));
  REQ(t->n > 0 && t->c > 0 && t->h > 0 && t->w > 0, "%s: %s has shape %s", op, name, shape_str(t));
  REQ(t->buf->ctx == ctx, "%s: %s belongs to another context", op, name);
  REQ(t->off + cmp_numel(t) <= t->buf->floats,
      "%s: %s %s at offset %zu overruns its buffer (%zu floats)", op, name, shape_str(t), t->off,
      t->buf->floats);
}
static void chk_opt(cmp_ctx *ctx, const char *op, const char *name, const cmp_tensor *t) {
  if (t) chk(ctx, op, name, t);
}
static void chk_numel(const char *op, const char *na, const cmp_tensor *a, const char *nb,
                      const cmp_tensor *b) {
  REQ(cmp_numel(a) == cmp_numel(b), "%s: %s %s and %s %s differ in size", op, na, shape_str(a), nb,
      shape_str(b));
}
static void chk_len(const char *op, const char *name, const cmp_tensor *t, size_t len) {
  REQ(cmp_numel(t) == len, "%s: %s %s must have %zu elements", op, name, shape_str(t), len);
}
/* The backend's entry for an op, or an abort naming the op when the backend lacks it. */
#define OPFN(ctx, fn)                                                                              \
  (*((ctx)->ops->fn ? (ctx)->ops->fn : (unsupported((ctx), #fn), (ctx)->ops->fn)))
static void unsupported(const cmp_ctx *ctx, const char *fn) {
  cmp_die("cmp_%s: not supported by the %s backend", fn, ctx->backend);
}

/* ---- contexts and backend choice ------------------------------------------------------------- */

cmp_options cmp_options_default(void) {
  cmp_options o = {.validation = false, .device_index = -1, .threads = 0};
  return o;
}

cmp_options cmp_options_or_default(const cmp_options *opt) {
  return opt ? *opt : cmp_options_default();
}

cmp_ctx *cmp_ctx_new(const cmp_backend_ops *ops, void *impl, const char *backend,
                     const char *device) {
  cmp_ctx *ctx = calloc(1, sizeof *ctx);
  if (!ctx) return NULL;
  ctx->ops = ops;
  ctx->impl = impl;
  snprintf(ctx->backend, sizeof ctx->backend, "%s", backend);
  snprintf(ctx->device, sizeof ctx->device, "%s", device);
  return ctx;
}

bool cmp_parse_backend(const char *name, cmp_backend_choice *out) {
  if (!name) return false;
  if (!strcmp(name, "auto"))
    *out = CMP_BACKEND_AUTO;
  else if (!strcmp(name, "cpu"))
    *out = CMP_BACKEND_CPU;
  else if (!strcmp(name, "vulkan"))
    *out = CMP_BACKEND_VULKAN;
  else
    return false;
  return true;
}

cmp_backend_choice cmp_backend_from_env(cmp_backend_choice fallback) {
  cmp_backend_choice c;
  const char *env = getenv("MBOLD_BACKEND");
  return env && cmp_parse_backend(env, &c) ? c : fallback;
}

static void say(char *why, size_t why_sz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t why_sz, const char *fmt, ...) {
  if (!why || !why_sz) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, why_sz, fmt, ap);
  va_end(ap);
}

static bool is_gpu_type(const char *type) {
  return strcmp(type, "cpu") && strcmp(type, "other");
}

cmp_ctx *cmp_create(cmp_backend_choice choice, const cmp_options *opt, char *why, size_t why_sz,
                    char *err, size_t err_sz) {
  cmp_options o = cmp_options_or_default(opt);
  say(why, why_sz, "%s", "");
  if (choice == CMP_BACKEND_CPU) {
    cmp_ctx *ctx = cmp_cpu_create(&o, err, err_sz);
    if (ctx) say(why, why_sz, "CPU backend as requested (%s)", ctx->device);
    return ctx;
  }
  if (choice == CMP_BACKEND_VULKAN) {
    cmp_ctx *ctx = cmp_vk_create(&o, err, err_sz);
    if (ctx) say(why, why_sz, "Vulkan backend as requested (%s)", ctx->device);
    return ctx;
  }
  /* AUTO: a real GPU if there is one (or the device the caller named), else the CPU backend. */
  enum { MAX_DEV = 16 };
  cmp_device_info dev[MAX_DEV];
  char verr[256] = "";
  int n = cmp_vk_list_devices(dev, MAX_DEV, verr, sizeof verr);
  if (n > MAX_DEV) n = MAX_DEV;
  int gpu = -1;
  for (int i = 0; i < n && gpu < 0; i++)
    if (is_gpu_type(dev[i].type)) gpu = i;
  char reason[512];
  if (n < 0)
    snprintf(reason, sizeof reason, "no Vulkan (%s), so the CPU backend", verr);
  else if (n == 0)
    snprintf(reason, sizeof reason, "no Vulkan device, so the CPU backend");
  else if (gpu < 0 && o.device_index < 0)
    snprintf(reason, sizeof reason,
             "no Vulkan GPU; %s is a CPU implementation, so the CPU backend is faster",
             dev[0].name);
  else {
    char vkerr[256] = "";
    cmp_ctx *ctx = cmp_vk_create(&o, vkerr, sizeof vkerr);
    if (ctx) {
      say(why, why_sz, "Vulkan GPU %s", ctx->device);
      return ctx;
    }
    snprintf(reason, sizeof reason, "the Vulkan device failed to start (%s), so the CPU backend",
             vkerr);
  }
  cmp_ctx *ctx = cmp_cpu_create(&o, err, err_sz);
  if (ctx) say(why, why_sz, "%s (%s)", reason, ctx->device);
  return ctx;
}

void cmp_destroy(cmp_ctx *ctx) {
  if (!ctx) return;
  ctx->ops->destroy(ctx);
  free(ctx);
}

const char *cmp_backend_name(const cmp_ctx *ctx) {
  return ctx->backend;
}
const char *cmp_device_name(const cmp_ctx *ctx) {
  return ctx->device;
}
void cmp_sync(cmp_ctx *ctx) {
  ctx->ops->sync(ctx);
}

int cmp_validation_message_count(const cmp_ctx *ctx) {
  return ctx->ops->validation_message_count ? ctx->ops->validation_message_count(ctx) : 0;
}

int cmp_list_devices(cmp_device_info *out, int max, char *err, size_t err_sz) {
  int n = cmp_vk_list_devices(out, max, err, err_sz);
  return n > max ? max : n;
}

/* ---- views ----------------------------------------------------------------------------------- */

cmp_tensor cmp_reshape(cmp_tensor t, int n, int c, int h, int w) {
  cmp_tensor r = {t.buf, t.off, n, c, h, w};
  REQ(n > 0 && c > 0 && h > 0 && w > 0 && cmp_numel(&r) == cmp_numel(&t),
      "cmp_reshape: %s cannot be seen as [%d,%d,%d,%d]", shape_str(&t), n, c, h, w);
  return r;
}

cmp_tensor cmp_rows(cmp_tensor t, int n0, int count) {
  REQ(n0 >= 0 && count > 0 && n0 + count <= t.n, "cmp_rows: rows [%d, %d) of %s", n0, n0 + count,
      shape_str(&t));
  cmp_tensor r = t;
  r.off = t.off + (size_t)n0 * cmp_sample_size(&t);
  r.n = count;
  return r;
}

/* ---- arenas ---------------------------------------------------------------------------------- */

typedef struct arena_block {
  cmp_buffer *buf; /* backend storage of cap floats */
  size_t cap;      /* floats */
  size_t used;     /* floats handed out (the next tensor starts here) */
  size_t dirty;    /* [0, dirty) has been handed out at some time and may be non-zero */
} arena_block;

struct cmp_arena {
  cmp_ctx *ctx;        /* owner of the buffers */
  cmp_arena_kind kind; /* pool */
  size_t block_floats; /* default block size */
  arena_block *blocks; /* [nblocks] */
  int nblocks;         /* blocks allocated */
  int cap_blocks;      /* capacity of blocks[] */
  int cur;             /* block that serves the next tensor; -1 before the first */
  size_t base;         /* sum of cap over blocks before cur (mark = base + used of cur) */
};

static size_t round_up(size_t x, size_t a) {
  return (x + a - 1) / a * a;
}

cmp_arena *cmp_arena_create(cmp_ctx *ctx, cmp_arena_kind kind, size_t block_floats) {
  cmp_arena *a = calloc(1, sizeof *a);
  REQ(a, "cmp_arena_create: out of memory");
  a->ctx = ctx;
  a->kind = kind;
  a->block_floats = round_up(block_floats ? block_floats : 1, CMP_ALIGN_FLOATS);
  a->cur = -1;
  return a;
}

void cmp_arena_destroy(cmp_arena *a) {
  if (!a) return;
  for (int i = 0; i < a->nblocks; i++) a->ctx->ops->buffer_free(a->ctx, a->blocks[i].buf);
  free(a->blocks);
  free(a);
}

static void zero_range(cmp_ctx *ctx, cmp_buffer *buf, size_t off, size_t len) {
  if (!len) return;
  cmp_tensor t = {buf, off, 1, 1, 1, 1};
  /* A flat view; split so that every dimension fits an int. */
  size_t done = 0;
  while (done < len) {
    size_t chunk = len - done < (1u << 30) ? len - done : (1u << 30);
    t.off = off + done;
    t.c = (int)chunk;
    ctx->ops->fill(ctx, &t, 0.0f);
    done += chunk;
  }
}

cmp_tensor cmp_arena_tensor(cmp_arena *a, int n, int c, int h, int w) {
  REQ(n > 0 && c > 0 && h > 0 && w > 0, "cmp_arena_tensor: shape [%d,%d,%d,%d]", n, c, h, w);
  size_t need = round_up((size_t)n * c * h * w, CMP_ALIGN_FLOATS);
  for (;;) {
    if (a->cur >= 0 && a->blocks[a->cur].used + need <= a->blocks[a->cur].cap) break;
    /* Move on to the next block, allocating one when there is none. */
    if (a->cur >= 0) a->base += a->blocks[a->cur].cap;
    a->cur++;
    if (a->cur == a->nblocks) {
      if (a->nblocks == a->cap_blocks) {
        a->cap_blocks = a->cap_blocks ? 2 * a->cap_blocks : 8;
        a->blocks = realloc(a->blocks, (size_t)a->cap_blocks * sizeof *a->blocks);
        REQ(a->blocks, "cmp_arena_tensor: out of memory");
      }
      size_t cap = need > a->block_floats ? need : a->block_floats;
      char err[256] = "";
      cmp_buffer *buf = a->ctx->ops->buffer_alloc(a->ctx, a->kind, cap, err, sizeof err);
      REQ(buf, "cmp_arena_tensor: cannot allocate %zu MiB on %s: %s", cap * 4 >> 20, a->ctx->device,
          err);
      a->blocks[a->nblocks++] = (arena_block){buf, cap, 0, 0};
    }
    a->blocks[a->cur].used = 0;
  }
  arena_block *b = &a->blocks[a->cur];
  size_t off = b->used;
  b->used += need;
  if (off < b->dirty)
    zero_range(a->ctx, b->buf, off, (b->dirty < b->used ? b->dirty : b->used) - off);
  if (b->dirty < b->used) b->dirty = b->used;
  cmp_tensor t = {b->buf, off, n, c, h, w};
  return t;
}

size_t cmp_arena_mark(const cmp_arena *a) {
  return a->cur < 0 ? 0 : a->base + a->blocks[a->cur].used;
}

void cmp_arena_reset(cmp_arena *a, size_t mark) {
  REQ(mark <= cmp_arena_mark(a), "cmp_arena_reset: mark %zu is beyond the arena's use %zu", mark,
      cmp_arena_mark(a));
  if (a->cur < 0) return;
  /* The last block starting at or before mark holds it. */
  size_t base = 0;
  int i = 0;
  while (i + 1 <= a->cur && base + a->blocks[i].cap <= mark) base += a->blocks[i++].cap;
  if (i > a->cur) i = a->cur;
  a->cur = i;
  a->base = base;
  a->blocks[i].used = mark - base;
}

size_t cmp_arena_bytes(const cmp_arena *a) {
  size_t s = 0;
  for (int i = 0; i < a->nblocks; i++) s += a->blocks[i].cap;
  return s * sizeof(float);
}

/* ---- transfers ------------------------------------------------------------------------------- */

void cmp_upload(cmp_ctx *ctx, const cmp_tensor *dst, const float *src) {
  chk(ctx, "cmp_upload", "dst", dst);
  REQ(src, "cmp_upload: src is NULL");
  OPFN(ctx, upload)(ctx, dst, src);
}

void cmp_upload_u8_hwc(cmp_ctx *ctx, const cmp_tensor *dst, int c0, const uint8_t *src, float scale,
                       float bias) {
  chk(ctx, "cmp_upload_u8_hwc", "dst", dst);
  REQ(src, "cmp_upload_u8_hwc: src is NULL");
  REQ(c0 >= 0 && c0 + 3 <= dst->c, "cmp_upload_u8_hwc: channels [%d, %d) of %s", c0, c0 + 3,
      shape_str(dst));
  OPFN(ctx, upload_u8_hwc)(ctx, dst, c0, src, scale, bias);
}

void cmp_download(cmp_ctx *ctx, const cmp_tensor *src, float *dst) {
  chk(ctx, "cmp_download", "src", src);
  REQ(dst, "cmp_download: dst is NULL");
  OPFN(ctx, download)(ctx, src, dst);
}

/* ---- elementwise and data movement ----------------------------------------------------------- */

void cmp_fill(cmp_ctx *ctx, const cmp_tensor *t, float value) {
  chk(ctx, "cmp_fill", "t", t);
  OPFN(ctx, fill)(ctx, t, value);
}

void cmp_axpby(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y, float alpha, float beta) {
  chk(ctx, "cmp_axpby", "x", x);
  chk(ctx, "cmp_axpby", "y", y);
  chk_numel("cmp_axpby", "x", x, "y", y);
  OPFN(ctx, axpby)(ctx, x, y, alpha, beta);
}

void cmp_clamp(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y, float lo, float hi) {
  chk(ctx, "cmp_clamp", "x", x);
  chk(ctx, "cmp_clamp", "y", y);
  chk_numel("cmp_clamp", "x", x, "y", y);
  OPFN(ctx, clamp)(ctx, x, y, lo, hi);
}

void cmp_copy_channels(cmp_ctx *ctx, const cmp_tensor *src, int src_c0, const cmp_tensor *dst,
                       int dst_c0, int nc, float beta) {
  const char *op = "cmp_copy_channels";
  chk(ctx, op, "src", src);
  chk(ctx, op, "dst", dst);
  REQ(src->n == dst->n && src->h == dst->h && src->w == dst->w,
      "%s: src %s and dst %s differ in n, h or w", op, shape_str(src), shape_str(dst));
  REQ(nc > 0 && src_c0 >= 0 && src_c0 + nc <= src->c && dst_c0 >= 0 && dst_c0 + nc <= dst->c,
      "%s: channels [%d, %d) of src %s to [%d, %d) of dst %s", op, src_c0, src_c0 + nc,
      shape_str(src), dst_c0, dst_c0 + nc, shape_str(dst));
  OPFN(ctx, copy_channels)(ctx, src, src_c0, dst, dst_c0, nc, beta);
}

void cmp_act_fwd(cmp_ctx *ctx, cmp_act act, const cmp_tensor *x, const cmp_tensor *y, float alpha) {
  chk(ctx, "cmp_act_fwd", "x", x);
  chk(ctx, "cmp_act_fwd", "y", y);
  chk_numel("cmp_act_fwd", "x", x, "y", y);
  REQ(act >= CMP_ACT_RELU && act <= CMP_ACT_SIGMOID, "cmp_act_fwd: unknown activation %d", act);
  OPFN(ctx, act_fwd)(ctx, act, x, y, alpha);
}

void cmp_act_bwd(cmp_ctx *ctx, cmp_act act, const cmp_tensor *x, const cmp_tensor *y,
                 const cmp_tensor *dy, const cmp_tensor *dx, float alpha, float beta) {
  const char *op = "cmp_act_bwd";
  REQ(act >= CMP_ACT_RELU && act <= CMP_ACT_SIGMOID, "%s: unknown activation %d", op, act);
  chk(ctx, op, "dy", dy);
  chk(ctx, op, "dx", dx);
  chk_numel(op, "dy", dy, "dx", dx);
  if (act == CMP_ACT_RELU || act == CMP_ACT_LEAKY_RELU) {
    chk(ctx, op, "x", x);
    chk_numel(op, "x", x, "dy", dy);
    chk_opt(ctx, op, "y", y);
  } else {
    chk(ctx, op, "y", y);
    chk_numel(op, "y", y, "dy", dy);
    chk_opt(ctx, op, "x", x);
  }
  OPFN(ctx, act_bwd)(ctx, act, x, y, dy, dx, alpha, beta);
}

static void chk_bcast(const char *op, const cmp_tensor *a, const cmp_tensor *b) {
  REQ((b->n == a->n || b->n == 1) && (b->c == a->c || b->c == 1) && (b->h == a->h || b->h == 1) &&
          (b->w == a->w || b->w == 1),
      "%s: b %s does not broadcast to a %s", op, shape_str(b), shape_str(a));
}
static void chk_same_shape(const char *op, const char *na, const cmp_tensor *a, const char *nb,
                           const cmp_tensor *b) {
  REQ(a->n == b->n && a->c == b->c && a->h == b->h && a->w == b->w,
      "%s: %s %s and %s %s differ in shape", op, na, shape_str(a), nb, shape_str(b));
}

void cmp_binary(cmp_ctx *ctx, cmp_binop op_, const cmp_tensor *a, const cmp_tensor *b,
                const cmp_tensor *y) {
  const char *op = "cmp_binary";
  REQ(op_ >= CMP_ADD && op_ <= CMP_MAX, "%s: unknown op %d", op, op_);
  chk(ctx, op, "a", a);
  chk(ctx, op, "b", b);
  chk(ctx, op, "y", y);
  chk_bcast(op, a, b);
  chk_same_shape(op, "a", a, "y", y);
  OPFN(ctx, binary)(ctx, op_, a, b, y);
}

void cmp_binary_bwd(cmp_ctx *ctx, cmp_binop op_, const cmp_tensor *a, const cmp_tensor *b,
                    const cmp_tensor *dy, const cmp_tensor *da, const cmp_tensor *db, float beta) {
  const char *op = "cmp_binary_bwd";
  REQ(op_ >= CMP_ADD && op_ <= CMP_MAX, "%s: unknown op %d", op, op_);
  chk(ctx, op, "a", a);
  chk(ctx, op, "b", b);
  chk(ctx, op, "dy", dy);
  chk_opt(ctx, op, "da", da);
  chk_opt(ctx, op, "db", db);
  chk_bcast(op, a, b);
  chk_same_shape(op, "a", a, "dy", dy);
  if (da) chk_same_shape(op, "a", a, "da", da);
  if (db) chk_same_shape(op, "b", b, "db", db);
  if (!da && !db) return;
  OPFN(ctx, binary_bwd)(ctx, op_, a, b, dy, da, db, beta);
}

static size_t reduce_outer(const char *op, const cmp_tensor *big, int r, int inner) {
  REQ(r > 0 && inner > 0, "%s: r %d, inner %d", op, r, inner);
  size_t group = (size_t)r * (size_t)inner;
  REQ(cmp_numel(big) % group == 0, "%s: %s is not a whole number of [r %d x inner %d] groups", op,
      shape_str(big), r, inner);
  return cmp_numel(big) / group;
}

void cmp_reduce(cmp_ctx *ctx, const cmp_tensor *x, int r, int inner, bool mean, const cmp_tensor *y,
                float beta) {
  chk(ctx, "cmp_reduce", "x", x);
  chk(ctx, "cmp_reduce", "y", y);
  size_t outer = reduce_outer("cmp_reduce", x, r, inner);
  chk_len("cmp_reduce", "y", y, outer * (size_t)inner);
  OPFN(ctx, reduce)(ctx, x, r, inner, mean, y, beta);
}

void cmp_broadcast(cmp_ctx *ctx, const cmp_tensor *x, int r, int inner, bool mean,
                   const cmp_tensor *y, float beta) {
  chk(ctx, "cmp_broadcast", "x", x);
  chk(ctx, "cmp_broadcast", "y", y);
  size_t outer = reduce_outer("cmp_broadcast", y, r, inner);
  chk_len("cmp_broadcast", "x", x, outer * (size_t)inner);
  OPFN(ctx, broadcast)(ctx, x, r, inner, mean, y, beta);
}

/* ---- dense layers ---------------------------------------------------------------------------- */

/* Floats spanned by a row-major rows x cols matrix with leading dimension ld. */
static void chk_matrix(const char *op, const char *name, const cmp_tensor *t, int rows, int cols,
                       int ld) {
  REQ(rows > 0 && cols > 0 && ld >= cols, "%s: %s is %d x %d with leading dimension %d", op, name,
      rows, cols, ld);
  size_t span = (size_t)(rows - 1) * (size_t)ld + (size_t)cols;
  REQ(span <= cmp_numel(t), "%s: %s (%d x %d, ld %d) needs %zu floats, tensor %s has %zu", op, name,
      rows, cols, ld, span, shape_str(t), cmp_numel(t));
}

void cmp_gemm(cmp_ctx *ctx, bool trans_a, bool trans_b, int m, int n, int k, float alpha,
              const cmp_tensor *a, int lda, const cmp_tensor *b, int ldb, float beta,
              const cmp_tensor *c, int ldc) {
  const char *op = "cmp_gemm";
  chk(ctx, op, "a", a);
  chk(ctx, op, "b", b);
  chk(ctx, op, "c", c);
  chk_matrix(op, "a", a, trans_a ? k : m, trans_a ? m : k, lda);
  chk_matrix(op, "b", b, trans_b ? n : k, trans_b ? k : n, ldb);
  chk_matrix(op, "c", c, m, n, ldc);
  OPFN(ctx, gemm)(ctx, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* w is [M, K] with M = w->n, K its sample size. */
static void chk_linear(cmp_ctx *ctx, const char *op, const cmp_tensor *x, const char *xname,
                       const cmp_tensor *w, const cmp_tensor *y, const char *yname) {
  chk(ctx, op, xname, x);
  chk(ctx, op, "w", w);
  chk(ctx, op, yname, y);
  REQ(cmp_sample_size(x) == cmp_sample_size(w),
      "%s: %s %s has %zu features per sample, w %s expects %zu", op, xname, shape_str(x),
      cmp_sample_size(x), shape_str(w), cmp_sample_size(w));
  REQ(y->n == x->n && cmp_sample_size(y) == (size_t)w->n,
      "%s: %s %s must be [%d, %d] for %s %s and w %s", op, yname, shape_str(y), x->n, w->n, xname,
      shape_str(x), shape_str(w));
}

static void chk_fused_act(const char *op, const cmp_fused_act *act) {
  REQ(!act || act->act == CMP_ACT_RELU || act->act == CMP_ACT_LEAKY_RELU,
      "%s: activation %d cannot be fused (ReLU and leaky ReLU can)", op, act ? (int)act->act : 0);
}

void cmp_linear_fwd_act(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *b,
                        const cmp_tensor *y, const cmp_fused_act *act) {
  chk_linear(ctx, "cmp_linear_fwd", x, "x", w, y, "y");
  if (b) chk(ctx, "cmp_linear_fwd", "b", b), chk_len("cmp_linear_fwd", "b", b, (size_t)w->n);
  chk_fused_act("cmp_linear_fwd_act", act);
  OPFN(ctx, linear_fwd)(ctx, x, w, b, y, act);
}

void cmp_linear_fwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *b,
                    const cmp_tensor *y) {
  cmp_linear_fwd_act(ctx, x, w, b, y, NULL);
}

void cmp_linear_bwd_data(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *w,
                         const cmp_tensor *dx, float beta) {
  chk_linear(ctx, "cmp_linear_bwd_data", dx, "dx", w, dy, "dy");
  OPFN(ctx, linear_bwd_data)(ctx, dy, w, dx, beta);
}

void cmp_linear_bwd_weight(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *x,
                           const cmp_tensor *dw, const cmp_tensor *db, float beta) {
  chk_linear(ctx, "cmp_linear_bwd_weight", x, "x", dw, dy, "dy");
  if (db)
    chk(ctx, "cmp_linear_bwd_weight", "db", db),
        chk_len("cmp_linear_bwd_weight", "db", db, (size_t)dw->n);
  OPFN(ctx, linear_bwd_weight)(ctx, dy, x, dw, db, beta);
}

/* ---- convolutions ---------------------------------------------------------------------------- */

static void chk_conv_params(const char *op, const cmp_conv_params *p) {
  REQ(p, "%s: params are NULL", op);
  REQ(p->kh > 0 && p->kw > 0 && p->sh > 0 && p->sw > 0 && p->ph >= 0 && p->pw >= 0,
      "%s: kernel %dx%d stride %dx%d padding %dx%d", op, p->kh, p->kw, p->sh, p->sw, p->ph, p->pw);
}

/* x [N, C, H, W] convolved by w [O, C, kh, kw] gives y [N, O, Ho, Wo]. */
static void chk_conv(cmp_ctx *ctx, const char *op, const cmp_tensor *x, const char *xn,
                     const cmp_tensor *w, const char *wn, const cmp_tensor *y, const char *yn,
                     const cmp_conv_params *p) {
  chk_conv_params(op, p);
  chk(ctx, op, xn, x);
  chk(ctx, op, wn, w);
  chk(ctx, op, yn, y);
  REQ(w->c == x->c && w->h == p->kh && w->w == p->kw,
      "%s: %s %s does not fit %s %s and kernel %dx%d", op, wn, shape_str(w), xn, shape_str(x),
      p->kh, p->kw);
  int ho = cmp_conv_out(x->h, p->kh, p->sh, p->ph), wo = cmp_conv_out(x->w, p->kw, p->sw, p->pw);
  REQ(x->h + 2 * p->ph >= p->kh && x->w + 2 * p->pw >= p->kw,
      "%s: %s %s is smaller than the kernel", op, xn, shape_str(x));
  REQ(y->n == x->n && y->c == w->n && y->h == ho && y->w == wo, "%s: %s %s must be [%d,%d,%d,%d]",
      op, yn, shape_str(y), x->n, w->n, ho, wo);
}

void cmp_conv2d_fwd_act(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *b,
                        const cmp_tensor *y, const cmp_conv_params *p, const cmp_fused_act *act) {
  chk_conv(ctx, "cmp_conv2d_fwd", x, "x", w, "w", y, "y", p);
  if (b) chk(ctx, "cmp_conv2d_fwd", "b", b), chk_len("cmp_conv2d_fwd", "b", b, (size_t)w->n);
  chk_fused_act("cmp_conv2d_fwd_act", act);
  OPFN(ctx, conv2d_fwd)(ctx, x, w, b, y, p, act);
}

void cmp_conv2d_fwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *b,
                    const cmp_tensor *y, const cmp_conv_params *p) {
  cmp_conv2d_fwd_act(ctx, x, w, b, y, p, NULL);
}

void cmp_conv2d_bwd_data(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *w,
                         const cmp_tensor *dx, const cmp_conv_params *p, float beta) {
  chk_conv(ctx, "cmp_conv2d_bwd_data", dx, "dx", w, "w", dy, "dy", p);
  OPFN(ctx, conv2d_bwd_data)(ctx, dy, w, dx, p, beta);
}

void cmp_conv2d_bwd_weight(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *x,
                           const cmp_tensor *dw, const cmp_tensor *db, const cmp_conv_params *p,
                           float beta) {
  chk_conv(ctx, "cmp_conv2d_bwd_weight", x, "x", dw, "dw", dy, "dy", p);
  if (db)
    chk(ctx, "cmp_conv2d_bwd_weight", "db", db),
        chk_len("cmp_conv2d_bwd_weight", "db", db, (size_t)dw->n);
  OPFN(ctx, conv2d_bwd_weight)(ctx, dy, x, dw, db, p, beta);
}

/* Transposed: x [N, Ci, H, W], w [Ci, Co, kh, kw], y [N, Co, Ho, Wo], Ho = cmp_convt_out(H...). */
static void chk_convt(cmp_ctx *ctx, const char *op, const cmp_tensor *x, const char *xn,
                      const cmp_tensor *w, const char *wn, const cmp_tensor *y, const char *yn,
                      const cmp_conv_params *p) {
  chk_conv_params(op, p);
  chk(ctx, op, xn, x);
  chk(ctx, op, wn, w);
  chk(ctx, op, yn, y);
  REQ(w->n == x->c && w->h == p->kh && w->w == p->kw,
      "%s: %s %s does not fit %s %s and kernel %dx%d", op, wn, shape_str(w), xn, shape_str(x),
      p->kh, p->kw);
  int ho = cmp_convt_out(x->h, p->kh, p->sh, p->ph), wo = cmp_convt_out(x->w, p->kw, p->sw, p->pw);
  REQ(ho > 0 && wo > 0 && y->n == x->n && y->c == w->c && y->h == ho && y->w == wo,
      "%s: %s %s must be [%d,%d,%d,%d]", op, yn, shape_str(y), x->n, w->c, ho, wo);
  /* Every output pixel must map back onto the input grid as a forward convolution of y would. */
  REQ(cmp_conv_out(ho, p->kh, p->sh, p->ph) == x->h &&
          cmp_conv_out(wo, p->kw, p->sw, p->pw) == x->w,
      "%s: padding %dx%d too large for kernel %dx%d", op, p->ph, p->pw, p->kh, p->kw);
}

void cmp_convt2d_fwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *b,
                     const cmp_tensor *y, const cmp_conv_params *p) {
  chk_convt(ctx, "cmp_convt2d_fwd", x, "x", w, "w", y, "y", p);
  if (b) chk(ctx, "cmp_convt2d_fwd", "b", b), chk_len("cmp_convt2d_fwd", "b", b, (size_t)w->c);
  OPFN(ctx, convt2d_fwd)(ctx, x, w, b, y, p);
}

void cmp_convt2d_bwd_data(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *w,
                          const cmp_tensor *dx, const cmp_conv_params *p, float beta) {
  chk_convt(ctx, "cmp_convt2d_bwd_data", dx, "dx", w, "w", dy, "dy", p);
  OPFN(ctx, convt2d_bwd_data)(ctx, dy, w, dx, p, beta);
}

void cmp_convt2d_bwd_weight(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *x,
                            const cmp_tensor *dw, const cmp_tensor *db, const cmp_conv_params *p,
                            float beta) {
  chk_convt(ctx, "cmp_convt2d_bwd_weight", x, "x", dw, "dw", dy, "dy", p);
  if (db)
    chk(ctx, "cmp_convt2d_bwd_weight", "db", db),
        chk_len("cmp_convt2d_bwd_weight", "db", db, (size_t)dw->c);
  OPFN(ctx, convt2d_bwd_weight)(ctx, dy, x, dw, db, p, beta);
}

/* ---- batch normalisation --------------------------------------------------------------------- */

static void chk_channel_vec(cmp_ctx *ctx, const char *op, const char *name, const cmp_tensor *t,
                            int c) {
  chk(ctx, op, name, t);
  chk_len(op, name, t, (size_t)c);
}

void cmp_bn_fwd_train(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *gamma,
                      const cmp_tensor *beta_, const cmp_tensor *run_mean,
                      const cmp_tensor *run_var, float momentum, float eps, const cmp_tensor *y,
                      const cmp_tensor *save_mean, const cmp_tensor *save_invstd) {
  const char *op = "cmp_bn_fwd_train";
  chk(ctx, op, "x", x);
  chk(ctx, op, "y", y);
  chk_same_shape(op, "x", x, "y", y);
  REQ((size_t)x->n * x->h * x->w > 1, "%s: x %s has one value per channel (PyTorch refuses too)",
      op, shape_str(x));
  chk_channel_vec(ctx, op, "gamma", gamma, x->c);
  chk_channel_vec(ctx, op, "beta", beta_, x->c);
  chk_channel_vec(ctx, op, "run_mean", run_mean, x->c);
  chk_channel_vec(ctx, op, "run_var", run_var, x->c);
  chk_channel_vec(ctx, op, "save_mean", save_mean, x->c);
  chk_channel_vec(ctx, op, "save_invstd", save_invstd, x->c);
  OPFN(ctx, bn_fwd_train)
  (ctx, x, gamma, beta_, run_mean, run_var, momentum, eps, y, save_mean, save_invstd);
}

void cmp_bn_fwd_eval(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *gamma,
                     const cmp_tensor *beta_, const cmp_tensor *run_mean, const cmp_tensor *run_var,
                     float eps, const cmp_tensor *y) {
  const char *op = "cmp_bn_fwd_eval";
  chk(ctx, op, "x", x);
  chk(ctx, op, "y", y);
  chk_same_shape(op, "x", x, "y", y);
  chk_channel_vec(ctx, op, "gamma", gamma, x->c);
  chk_channel_vec(ctx, op, "beta", beta_, x->c);
  chk_channel_vec(ctx, op, "run_mean", run_mean, x->c);
  chk_channel_vec(ctx, op, "run_var", run_var, x->c);
  OPFN(ctx, bn_fwd_eval)(ctx, x, gamma, beta_, run_mean, run_var, eps, y);
}

void cmp_bn_bwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *dy, const cmp_tensor *gamma,
                const cmp_tensor *save_mean, const cmp_tensor *save_invstd, const cmp_tensor *dx,
                const cmp_tensor *dgamma, const cmp_tensor *dbeta, float beta) {
  cmp_bn_bwd_ex(ctx, x, dy, gamma, save_mean, save_invstd, dx, dgamma, dbeta, NULL, beta, beta,
                NULL);
}

void cmp_bn_bwd_ex(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *dy, const cmp_tensor *gamma,
                   const cmp_tensor *save_mean, const cmp_tensor *save_invstd, const cmp_tensor *dx,
                   const cmp_tensor *dgamma, const cmp_tensor *dbeta, const cmp_tensor *dsum,
                   float dx_beta, float param_beta, const cmp_fused_act *act) {
  const char *op = "cmp_bn_bwd";
  chk(ctx, op, "x", x);
  chk(ctx, op, "dy", dy);
  chk(ctx, op, "dx", dx);
  chk_same_shape(op, "x", x, "dy", dy);
  chk_same_shape(op, "x", x, "dx", dx);
  chk_channel_vec(ctx, op, "gamma", gamma, x->c);
  chk_channel_vec(ctx, op, "save_mean", save_mean, x->c);
  chk_channel_vec(ctx, op, "save_invstd", save_invstd, x->c);
  if (dgamma) chk_channel_vec(ctx, op, "dgamma", dgamma, x->c);
  if (dbeta) chk_channel_vec(ctx, op, "dbeta", dbeta, x->c);
  if (dsum) {
    chk_channel_vec(ctx, op, "dsum", dsum, x->c);
    REQ(x->h == 1 && x->w == 1 && dx_beta == 0.0f,
        "%s: dsum needs features (h = w = 1, got %dx%d) and dx_beta 0 (got %g)", op, x->h, x->w,
        dx_beta);
  }
  chk_fused_act(op, act);
  OPFN(ctx, bn_bwd)
  (ctx, x, dy, gamma, save_mean, save_invstd, dx, dgamma, dbeta, dsum, dx_beta, param_beta, act);
}

/* ---- losses ---------------------------------------------------------------------------------- */

void cmp_mse_fwd(cmp_ctx *ctx, const cmp_tensor *a, const cmp_tensor *b, const cmp_tensor *out) {
  chk(ctx, "cmp_mse_fwd", "a", a);
  chk(ctx, "cmp_mse_fwd", "b", b);
  chk(ctx, "cmp_mse_fwd", "out", out);
  chk_numel("cmp_mse_fwd", "a", a, "b", b);
  chk_len("cmp_mse_fwd", "out", out, 1);
  OPFN(ctx, mse_fwd)(ctx, a, b, out);
}

void cmp_mse_bwd(cmp_ctx *ctx, const cmp_tensor *a, const cmp_tensor *b, float scale,
                 const cmp_tensor *da, float beta) {
  chk(ctx, "cmp_mse_bwd", "a", a);
  chk(ctx, "cmp_mse_bwd", "b", b);
  chk(ctx, "cmp_mse_bwd", "da", da);
  chk_numel("cmp_mse_bwd", "a", a, "b", b);
  chk_numel("cmp_mse_bwd", "a", a, "da", da);
  OPFN(ctx, mse_bwd)(ctx, a, b, scale, da, beta);
}

void cmp_logsumexp_fwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y) {
  chk(ctx, "cmp_logsumexp_fwd", "x", x);
  chk(ctx, "cmp_logsumexp_fwd", "y", y);
  chk_len("cmp_logsumexp_fwd", "y", y, (size_t)x->n);
  OPFN(ctx, logsumexp_fwd)(ctx, x, y);
}

void cmp_logsumexp_bwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y, const cmp_tensor *dy,
                       const cmp_tensor *dx, float beta) {
  const char *op = "cmp_logsumexp_bwd";
  chk(ctx, op, "x", x);
  chk(ctx, op, "y", y);
  chk(ctx, op, "dy", dy);
  chk(ctx, op, "dx", dx);
  chk_len(op, "y", y, (size_t)x->n);
  chk_len(op, "dy", dy, (size_t)x->n);
  chk_numel(op, "x", x, "dx", dx);
  OPFN(ctx, logsumexp_bwd)(ctx, x, y, dy, dx, beta);
}

/* ---- image warping --------------------------------------------------------------------------- */

static void chk_warp(cmp_ctx *ctx, const char *op, const cmp_tensor *img, const cmp_tensor *flow,
                     const cmp_tensor *t, const char *tn) {
  chk(ctx, op, "img", img);
  chk(ctx, op, "flow", flow);
  chk(ctx, op, tn, t);
  REQ(flow->c == 2 && flow->h == img->h && flow->w == img->w && flow->n % img->n == 0,
      "%s: flow %s must be [k * %d, 2, %d, %d] for img %s", op, shape_str(flow), img->n, img->h,
      img->w, shape_str(img));
}

void cmp_warp_fwd(cmp_ctx *ctx, const cmp_tensor *img, const cmp_tensor *flow, float scale,
                  const cmp_tensor *out) {
  const char *op = "cmp_warp_fwd";
  chk_warp(ctx, op, img, flow, out, "out");
  REQ(out->n == flow->n && out->c == img->c && out->h == img->h && out->w == img->w,
      "%s: out %s must be [%d,%d,%d,%d]", op, shape_str(out), flow->n, img->c, img->h, img->w);
  OPFN(ctx, warp_fwd)(ctx, img, flow, scale, out);
}

void cmp_warp_bwd(cmp_ctx *ctx, const cmp_tensor *img, const cmp_tensor *flow, float scale,
                  const cmp_tensor *dout, const cmp_tensor *dflow, float beta) {
  const char *op = "cmp_warp_bwd";
  chk_warp(ctx, op, img, flow, dout, "dout");
  chk(ctx, op, "dflow", dflow);
  REQ(dout->n == flow->n && dout->c == img->c && dout->h == img->h && dout->w == img->w,
      "%s: dout %s must be [%d,%d,%d,%d]", op, shape_str(dout), flow->n, img->c, img->h, img->w);
  chk_same_shape(op, "flow", flow, "dflow", dflow);
  OPFN(ctx, warp_bwd)(ctx, img, flow, scale, dout, dflow, beta);
}

/* ---- optimisers and random numbers ----------------------------------------------------------- */

void cmp_adam_step(cmp_ctx *ctx, const cmp_tensor *param, const cmp_tensor *grad,
                   const cmp_tensor *m, const cmp_tensor *v, float lr, float b1, float b2,
                   float eps, int64_t t) {
  const char *op = "cmp_adam_step";
  chk(ctx, op, "param", param);
  chk(ctx, op, "grad", grad);
  chk(ctx, op, "m", m);
  chk(ctx, op, "v", v);
  chk_numel(op, "param", param, "grad", grad);
  chk_numel(op, "param", param, "m", m);
  chk_numel(op, "param", param, "v", v);
  REQ(t >= 1, "%s: step %lld (counts from 1)", op, (long long)t);
  OPFN(ctx, adam_step)(ctx, param, grad, m, v, lr, b1, b2, eps, t);
}

void cmp_polyak(cmp_ctx *ctx, const cmp_tensor *target, const cmp_tensor *source, float tau) {
  chk(ctx, "cmp_polyak", "target", target);
  chk(ctx, "cmp_polyak", "source", source);
  chk_numel("cmp_polyak", "target", target, "source", source);
  OPFN(ctx, polyak)(ctx, target, source, tau);
}

void cmp_rng_uniform(cmp_ctx *ctx, const cmp_tensor *t, uint64_t seed, uint32_t stream,
                     uint64_t index0, float lo, float hi) {
  chk(ctx, "cmp_rng_uniform", "t", t);
  OPFN(ctx, rng_uniform)(ctx, t, seed, stream, index0, lo, hi);
}

void cmp_rng_normal(cmp_ctx *ctx, const cmp_tensor *t, uint64_t seed, uint32_t stream,
                    uint64_t index0, float mean, float std) {
  chk(ctx, "cmp_rng_normal", "t", t);
  OPFN(ctx, rng_normal)(ctx, t, seed, stream, index0, mean, std);
}
