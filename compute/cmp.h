/* The compute core's public interface: backends, memory, tensors and ops.
 *
 * Every op is issued to a context (cmp_ctx). The CPU backend runs it at once; the Vulkan backend
 * records it into the context's command buffer (inserting barriers itself) and submits when the
 * host needs a result: cmp_download() and cmp_sync(). Ops issued to one context execute in issue
 * order; a context is used by one thread at a time (each worker thread creates its own).
 *
 * Tensors are float32 NCHW views into backend buffers. A matrix [rows, cols] is n = rows, c = cols,
 * h = w = 1; a vector of length k is n = 1, c = k. Views with a smaller n over the same storage
 * give "any batch size up to the allocated one" without reallocating. Shapes are checked by the
 * wrappers in cmp.c (a mismatch is a programming error and aborts with a message naming the op).
 *
 * Backward ops take `beta`: the result is written as out = beta * out + grad, so beta = 0
 * overwrites and beta = 1 accumulates (a weight used twice in one graph, e.g. the Q head seen with
 * data and with random actions). With beta = 0 the old contents are never read (NaN in an output
 * buffer does not leak).
 *
 * Aliasing: an output may share storage with an input only where an op says so (act_fwd,
 * clamp: x == y; binary: y == a); everywhere else outputs and inputs are distinct.
 *
 * Numbers every backend must reproduce (tests compare against double-precision references with a
 * normalised MSE below 1e-6; random numbers must match bit for bit):
 *   relu'(x) = x > 0 ? 1 : 0, leaky'(x) = x > 0 ? 1 : alpha (the sign of y serves as well);
 *   min/max pick a on ties (a <= b, a >= b), also in backward;
 *   batch norm normalises with the biased batch variance, 1/sqrt(var + eps), and updates the
 *   running variance with the unbiased one (m / (m - 1), m = N*H*W > 1);
 *   uniform numbers are lo + (hi - lo) * u, u = mb_philox_uniform(seed, stream, index), computed
 *   as t = hi - lo; lo + t * u without a fused multiply-add (GLSL: `precise`). */
#ifndef CMP_H
#define CMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- backends -------------------------------------------------------------------------------- */

typedef enum cmp_backend_choice {
  CMP_BACKEND_AUTO,   /* a real Vulkan GPU if there is one, else the CPU backend */
  CMP_BACKEND_CPU,    /* plain C + OpenBLAS */
  CMP_BACKEND_VULKAN, /* Vulkan compute shaders (any device, lavapipe included) */
} cmp_backend_choice;

typedef struct cmp_options {
  bool validation;  /* Vulkan: enable VK_LAYER_KHRONOS_validation and count its messages */
  int device_index; /* Vulkan: -1 = best device, else the index in cmp_list_devices() order */
  int threads;      /* CPU: worker threads (the calling thread included); 0 = one per core */
} cmp_options;

/* The defaults: no validation, best device, one CPU thread per core. (A zeroed struct would mean
 * device 0, so start from this.) */
cmp_options cmp_options_default(void);

typedef struct cmp_ctx cmp_ctx;

/* Parses "auto" | "cpu" | "vulkan". Returns false for anything else. */
bool cmp_parse_backend(const char *name, cmp_backend_choice *out);
/* The choice from MBOLD_BACKEND if set and valid, else `fallback`. */
cmp_backend_choice cmp_backend_from_env(cmp_backend_choice fallback);

/* Creates a backend context. AUTO resolves as documented above; `why` (may be NULL) receives one
 * line explaining the choice ("no Vulkan GPU; llvmpipe is a CPU implementation, so the CPU backend
 * is faster"). Returns NULL with err filled when the requested backend cannot start (no Vulkan
 * loader, no device); the CPU backend always starts. opt may be NULL for defaults. */
cmp_ctx *cmp_create(cmp_backend_choice choice, const cmp_options *opt, char *why, size_t why_sz,
                    char *err, size_t err_sz);
void cmp_destroy(cmp_ctx *ctx);

const char *cmp_backend_name(const cmp_ctx *ctx); /* "cpu" or "vulkan" */
const char *cmp_device_name(const cmp_ctx *ctx);  /* e.g. "OpenBLAS 0.3.21 (2 threads)", GPU name */

/* Submits everything recorded so far and waits for it. No-op on the CPU backend. */
void cmp_sync(cmp_ctx *ctx);

/* Vulkan validation messages (errors + warnings) seen so far by this context; 0 for CPU. */
int cmp_validation_message_count(const cmp_ctx *ctx);

/* Every Vulkan physical device, for `mbold info`. Returns the count (up to max) or -1 with err
 * filled when there is no Vulkan loader or instance. */
typedef struct cmp_device_info {
  char name[256];       /* VkPhysicalDeviceProperties.deviceName */
  char type[32];        /* "discrete-gpu", "integrated-gpu", "virtual-gpu", "cpu", "other" */
  char driver[256];     /* driver name and info, e.g. "llvmpipe / Mesa 22.3.6 (LLVM 15.0.6)" */
  char api_version[32]; /* e.g. "1.3.230" */
} cmp_device_info;
int cmp_list_devices(cmp_device_info *out, int max, char *err, size_t err_sz);

/* ---- memory ---------------------------------------------------------------------------------- */

typedef struct cmp_buffer cmp_buffer; /* backend-owned storage */

typedef struct cmp_tensor {
  cmp_buffer *buf; /* storage; NULL for an empty tensor */
  size_t off;     /* offset into buf in floats (a multiple of CMP_ALIGN_FLOATS for arena tensors) */
  int n, c, h, w; /* shape (N x C x H x W) */
} cmp_tensor;

#define CMP_ALIGN_FLOATS 64 /* 256 bytes: any storage-buffer offset alignment and vec4 loads */

static inline size_t cmp_numel(const cmp_tensor *t) {
  return (size_t)t->n * (size_t)t->c * (size_t)t->h * (size_t)t->w;
}
/* Elements per sample (C x H x W). */
static inline size_t cmp_sample_size(const cmp_tensor *t) {
  return (size_t)t->c * (size_t)t->h * (size_t)t->w;
}
/* The same storage seen with another shape of equal element count (flatten/reshape). */
cmp_tensor cmp_reshape(cmp_tensor t, int n, int c, int h, int w);
/* Samples [n0, n0 + count) of t. */
cmp_tensor cmp_rows(cmp_tensor t, int n0, int count);

/* Arenas: memory for one purpose, allocated at init and reset or freed as a whole, never in the
 * step/plan loop. Weights, activations and staging come from separate arenas (the Vulkan backend
 * uses device-local memory for the first two and host-visible memory for staging). An arena grows
 * by whole blocks; a tensor never spans blocks. */
typedef enum cmp_arena_kind {
  CMP_ARENA_WEIGHTS,     /* parameters, gradients, optimiser moments */
  CMP_ARENA_ACTIVATIONS, /* forward/backward intermediates */
  CMP_ARENA_STAGING,     /* host-visible */
} cmp_arena_kind;

typedef struct cmp_arena cmp_arena;
cmp_arena *cmp_arena_create(cmp_ctx *ctx, cmp_arena_kind kind, size_t block_floats);
void cmp_arena_destroy(cmp_arena *a);
/* A new zero-filled tensor. Aborts with a message if memory cannot be allocated. */
cmp_tensor cmp_arena_tensor(cmp_arena *a, int n, int c, int h, int w);
size_t cmp_arena_mark(const cmp_arena *a);       /* floats used so far */
void cmp_arena_reset(cmp_arena *a, size_t mark); /* frees every tensor allocated after mark */
size_t cmp_arena_bytes(const cmp_arena *a);      /* bytes reserved (for memory reports) */

/* ---- transfers ------------------------------------------------------------------------------- */

/* Copies numel floats from host memory; src may be reused as soon as the call returns. */
void cmp_upload(cmp_ctx *ctx, const cmp_tensor *dst, const float *src);
/* Uploads dst->n images stored as uint8 H x W x 3 (interleaved, top row first) into channels
 * [c0, c0 + 3) of dst, converting each byte v to v * scale + bias. dst->h, dst->w give the size. */
void cmp_upload_u8_hwc(cmp_ctx *ctx, const cmp_tensor *dst, int c0, const uint8_t *src, float scale,
                       float bias);
/* Waits for all work issued so far and copies numel floats to host memory. */
void cmp_download(cmp_ctx *ctx, const cmp_tensor *src, float *dst);

/* ---- elementwise and data movement ----------------------------------------------------------- */

void cmp_fill(cmp_ctx *ctx, const cmp_tensor *t, float value);
/* y = alpha * x + beta * y (same numel). */
void cmp_axpby(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y, float alpha, float beta);
/* y = clamp(x, lo, hi); x == y allowed. */
void cmp_clamp(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y, float lo, float hi);
/* For every sample n: dst[n, dst_c0 + i] = src[n, src_c0 + i] + beta * dst[...] for i < nc channels
 * (each channel h x w; src and dst have equal n, h, w). Concatenation along channels or features is
 * two of these; its backward is the same copy the other way. */
void cmp_copy_channels(cmp_ctx *ctx, const cmp_tensor *src, int src_c0, const cmp_tensor *dst,
                       int dst_c0, int nc, float beta);

typedef enum cmp_act {
  CMP_ACT_RELU,
  CMP_ACT_LEAKY_RELU, /* slope alpha for x < 0 */
  CMP_ACT_TANH,
  CMP_ACT_SIGMOID,
} cmp_act;
/* y = act(x); x == y allowed. */
void cmp_act_fwd(cmp_ctx *ctx, cmp_act act, const cmp_tensor *x, const cmp_tensor *y, float alpha);
/* dx = act'(.) * dy + beta * dx. ReLU/leaky use x (y may be NULL); tanh/sigmoid use y (x may be
 * NULL). */
void cmp_act_bwd(cmp_ctx *ctx, cmp_act act, const cmp_tensor *x, const cmp_tensor *y,
                 const cmp_tensor *dy, const cmp_tensor *dx, float alpha, float beta);

typedef enum cmp_binop { CMP_ADD, CMP_SUB, CMP_MUL, CMP_MIN, CMP_MAX } cmp_binop;
/* y = a (op) b with broadcasting: each dimension of b equals a's or is 1. y has a's shape; y may
 * alias a. */
void cmp_binary(cmp_ctx *ctx, cmp_binop op, const cmp_tensor *a, const cmp_tensor *b,
                const cmp_tensor *y);
/* Gradients of cmp_binary: da (a's shape) and db (b's shape, summed over broadcast dimensions),
 * either may be NULL. MIN/MAX send the gradient to the selected input (a on ties). */
void cmp_binary_bwd(cmp_ctx *ctx, cmp_binop op, const cmp_tensor *a, const cmp_tensor *b,
                    const cmp_tensor *dy, const cmp_tensor *da, const cmp_tensor *db, float beta);

/* Views x as [outer, r, inner] (r and inner given, outer = numel(x) / (r * inner), which must
 * divide; y has outer * inner elements) and writes y[o, i] = beta * y[o, i] + s * sum_k x[o, k, i],
 * s = 1 (sum) or 1/r (mean). E.g. x [10B, 1] with r = 10, inner = 1 gives the per-sample sum of
 * 10 consecutive rows; x [N, F] with r = N, inner = F sums over the batch. */
void cmp_reduce(cmp_ctx *ctx, const cmp_tensor *x, int r, int inner, bool mean, const cmp_tensor *y,
                float beta);
/* The adjoint of cmp_reduce: y[o, k, i] = s * x[o, i] + beta * y[o, k, i] (repeat rows/groups),
 * with outer = numel(x) / inner and y of outer * r * inner elements. E.g. features x [B, F] with r
 * = 10, inner = F give y [10B, F] where rows 10b .. 10b + 9 repeat sample b. */
void cmp_broadcast(cmp_ctx *ctx, const cmp_tensor *x, int r, int inner, bool mean,
                   const cmp_tensor *y, float beta);

/* ---- dense layers ---------------------------------------------------------------------------- */

/* C = alpha * op(A) * op(B) + beta * C, row-major, op(X) = X or X^T. A, B, C are the tensors'
 * storage seen as row-major matrices with leading dimensions lda, ldb, ldc (in floats). */
void cmp_gemm(cmp_ctx *ctx, bool trans_a, bool trans_b, int m, int n, int k, float alpha,
              const cmp_tensor *a, int lda, const cmp_tensor *b, int ldb, float beta,
              const cmp_tensor *c, int ldc);

/* y[N, M] = x[N, K] w[M, K]^T + b[M] (b may be NULL). x is any tensor with K = C*H*W per sample. */
void cmp_linear_fwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *b,
                    const cmp_tensor *y);
/* An activation fused into a layer's forward pass: the layer stores act(output) instead of its
 * output, what cmp_act_fwd in place afterwards would give, without the second pass over memory
 * (on Vulkan, one dispatch instead of two). ReLU and leaky ReLU only. */
typedef struct cmp_fused_act {
  cmp_act act; /* CMP_ACT_RELU or CMP_ACT_LEAKY_RELU */
  float alpha; /* leaky ReLU's slope */
} cmp_fused_act;
/* y = act(x w^T + b); act NULL: cmp_linear_fwd. */
void cmp_linear_fwd_act(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *b,
                        const cmp_tensor *y, const cmp_fused_act *act);
/* dx = dy w + beta * dx. */
void cmp_linear_bwd_data(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *w,
                         const cmp_tensor *dx, float beta);
/* dw = dy^T x + beta * dw; db = sum_n dy + beta * db (db may be NULL). */
void cmp_linear_bwd_weight(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *x,
                           const cmp_tensor *dw, const cmp_tensor *db, float beta);

/* ---- convolutions ---------------------------------------------------------------------------- */

typedef struct cmp_conv_params {
  int kh, kw; /* kernel */
  int sh, sw; /* stride */
  int ph, pw; /* zero padding on each side */
} cmp_conv_params;

/* Output size of a convolution along one axis: (in + 2p - k) / s + 1. */
static inline int cmp_conv_out(int in, int k, int s, int p) {
  return (in + 2 * p - k) / s + 1;
}
/* Output size of a transposed convolution: (in - 1) * s - 2p + k. */
static inline int cmp_convt_out(int in, int k, int s, int p) {
  return (in - 1) * s - 2 * p + k;
}

/* y[N, O, Ho, Wo] = conv(x[N, C, H, W], w[O, C, kh, kw]) + b[O] (b may be NULL). */
void cmp_conv2d_fwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *b,
                    const cmp_tensor *y, const cmp_conv_params *p);
/* y = act(conv(x, w) + b) (cmp_fused_act); act NULL: cmp_conv2d_fwd. */
void cmp_conv2d_fwd_act(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *b,
                        const cmp_tensor *y, const cmp_conv_params *p, const cmp_fused_act *act);
void cmp_conv2d_bwd_data(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *w,
                         const cmp_tensor *dx, const cmp_conv_params *p, float beta);
/* db may be NULL. */
void cmp_conv2d_bwd_weight(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *x,
                           const cmp_tensor *dw, const cmp_tensor *db, const cmp_conv_params *p,
                           float beta);

/* Transposed convolution, PyTorch layout: w[C_in, C_out, kh, kw];
 * y[N, C_out, Ho, Wo] with Ho = cmp_convt_out(H, kh, sh, ph). */
void cmp_convt2d_fwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *b,
                     const cmp_tensor *y, const cmp_conv_params *p);
void cmp_convt2d_bwd_data(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *w,
                          const cmp_tensor *dx, const cmp_conv_params *p, float beta);
void cmp_convt2d_bwd_weight(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *x,
                            const cmp_tensor *dw, const cmp_tensor *db, const cmp_conv_params *p,
                            float beta);

/* ---- batch normalisation (per channel over N x H x W; [N, F] features have h = w = 1) -------- */

/* Training: normalise with the batch statistics, save mean and 1/sqrt(var + eps) for backward, and
 * update the running averages as PyTorch does (run = (1 - momentum) * run + momentum * batch, the
 * running variance unbiased). */
void cmp_bn_fwd_train(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *gamma,
                      const cmp_tensor *beta_, const cmp_tensor *run_mean,
                      const cmp_tensor *run_var, float momentum, float eps, const cmp_tensor *y,
                      const cmp_tensor *save_mean, const cmp_tensor *save_invstd);
/* Inference: normalise with the running averages. */
void cmp_bn_fwd_eval(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *gamma,
                     const cmp_tensor *beta_, const cmp_tensor *run_mean, const cmp_tensor *run_var,
                     float eps, const cmp_tensor *y);
/* Backward of the training forward. dgamma, dbeta may be NULL (no parameter gradients wanted).
 * dx, dgamma and dbeta are each new + beta * old. */
void cmp_bn_bwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *dy, const cmp_tensor *gamma,
                const cmp_tensor *save_mean, const cmp_tensor *save_invstd, const cmp_tensor *dx,
                const cmp_tensor *dgamma, const cmp_tensor *dbeta, float beta);
/* The same with the accumulation of dx (dx_beta) and of dgamma, dbeta (param_beta) chosen apart,
 * so that a network's layer writes a fresh input gradient while adding into its parameters'
 * gradients; and, with act (may be NULL), x taken to be the output of that activation run in
 * place: dx is carried back through it too (dx = act'(x) * dxhat), what a following
 * cmp_act_bwd would do. A network's ReLU + batch norm pair costs one backward op instead of two,
 * and no copies of the parameter gradients (on Vulkan: 3 dispatches instead of 6).
 * dsum (may be NULL; features only, h = w = 1, with dx_beta 0): per channel, the sum of dx over
 * the batch, + param_beta * dsum: the bias gradient of the linear layer before the activation,
 * which the batch norm's walk over its columns gets almost for free (a reduction less). */
void cmp_bn_bwd_ex(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *dy, const cmp_tensor *gamma,
                   const cmp_tensor *save_mean, const cmp_tensor *save_invstd, const cmp_tensor *dx,
                   const cmp_tensor *dgamma, const cmp_tensor *dbeta, const cmp_tensor *dsum,
                   float dx_beta, float param_beta, const cmp_fused_act *act);

/* ---- losses ---------------------------------------------------------------------------------- */

/* out[0] = mean over all elements of (a - b)^2 (out is a 1-element tensor). */
void cmp_mse_fwd(cmp_ctx *ctx, const cmp_tensor *a, const cmp_tensor *b, const cmp_tensor *out);
/* da = scale * 2 (a - b) / numel + beta * da (the gradient of scale * mse w.r.t. a). */
void cmp_mse_bwd(cmp_ctx *ctx, const cmp_tensor *a, const cmp_tensor *b, float scale,
                 const cmp_tensor *da, float beta);
/* y[n] = log sum_k exp(x[n, k]) over the C*H*W elements of each sample (numerically stable). */
void cmp_logsumexp_fwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y);
/* dx[n, k] = dy[n] * softmax(x[n])_k + beta * dx. y is the forward output. */
void cmp_logsumexp_bwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *y, const cmp_tensor *dy,
                       const cmp_tensor *dx, float beta);

/* ---- image warping (the video model's flow transform) -------------------------------------- */

/* Backward warping with bilinear interpolation: out[n, c, y, x] = img[n % ni, c] sampled at
 * (x + scale * flow[n, 0, y, x], y + scale * flow[n, 1, y, x]) in pixels, the sample point clamped
 * to the image (edge pixels repeat). img [ni, C, H, W]; flow [N, 2, H, W] with N a multiple of ni
 * (sample n uses image n % ni, so one context image serves every candidate of a plan, or each of a
 * batch of contexts serves its frames laid out time-major); out [N, C, H, W]. */
void cmp_warp_fwd(cmp_ctx *ctx, const cmp_tensor *img, const cmp_tensor *flow, float scale,
                  const cmp_tensor *out);
/* The flow gradient of cmp_warp_fwd: dflow = d(sum dout * out) / dflow + beta * dflow, zero where
 * the sample point was clamped (outside the image). The image gets no gradient: it is data (the
 * context frame), never a network output. */
void cmp_warp_bwd(cmp_ctx *ctx, const cmp_tensor *img, const cmp_tensor *flow, float scale,
                  const cmp_tensor *dout, const cmp_tensor *dflow, float beta);

/* ---- optimisers and random numbers ----------------------------------------------------------- */

/* Adam with bias correction, step t >= 1 (PyTorch's formulation, no weight decay). The CPU backend
 * computes step = lr / (1 - b1^t) and c2 = sqrt(1 - b2^t) in double on the host, then per element
 * m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g g; p -= step * (m / (sqrt(v) / c2 + eps)), i.e.:
 * m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) +
 * eps). */
void cmp_adam_step(cmp_ctx *ctx, const cmp_tensor *param, const cmp_tensor *grad,
                   const cmp_tensor *m, const cmp_tensor *v, float lr, float b1, float b2,
                   float eps, int64_t t);
/* Polyak averaging: target = tau * target + (1 - tau) * source. */
void cmp_polyak(cmp_ctx *ctx, const cmp_tensor *target, const cmp_tensor *source, float tau);
/* Counter-based random numbers (base/mb_philox.h): element i of t gets number index0 + i of
 * (seed, stream): uniform in [lo, hi) or normal(mean, std). Identical on every backend (normals to
 * within float rounding of the transcendentals). */
void cmp_rng_uniform(cmp_ctx *ctx, const cmp_tensor *t, uint64_t seed, uint32_t stream,
                     uint64_t index0, float lo, float hi);
void cmp_rng_normal(cmp_ctx *ctx, const cmp_tensor *t, uint64_t seed, uint32_t stream,
                    uint64_t index0, float mean, float std);

#endif
