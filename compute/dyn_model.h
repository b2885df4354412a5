/* The action-conditioned video prediction model (paper Eq. 1): given K context frames and T
 * actions, predict the T next 64 x 64 RGB frames. Designed to plan on a CPU: the context is encoded
 * once per replan (every candidate shares it), the rollout runs in a small spatial latent
 * conditioned on the actions, and a frame is only decoded to pixels when someone asks for it (the
 * planner scores the final frame only).
 *
 * Architecture (L latent channels on a G x G grid, G = 8 by default, leaky = LeakyReLU(0.2);
 * PyTorch names and layouts):
 * - encoder: [3K + 2, 64, 64] = the context frames (oldest first, pixels / 255) and x, y
 *   coordinates in [-1, 1]. "encoder": 0 conv 4x4/2 -> 32 @ 32x32, 1 leaky (= s32), 2 conv 4x4/2
 *   -> 64 @ 16x16, 3 leaky (= s16), 4 conv 4x4/2 -> 64 @ 8x8, 5 leaky, 6 conv 3x3 -> L @ 8x8 = h_0.
 *   G = 16 stops a stage earlier: 4 conv 3x3 of s16 -> L @ 16x16 = h_0.
 * - skips: "skip16" conv 3x3 of s16 -> 32 @ 16x16 and "skip32" conv 3x3 of s32 -> 16 @ 32x32,
 *   once per context, added inside the decoder of every frame of that context (a conv over
 *   [decoded | skip] is the sum of two convs, and the skip half does not change over time).
 * - cell: h_(t+1) = h_t + conv3x3(leaky(conv3x3(h_t) * s(a_t) + b(a_t))); "cell": 0 conv,
 *   1 leaky, 2 conv; "film": 0 linear 4 -> 2L = [s | b] per channel (s's bias starts at 1).
 * - decoder: "decoder": 0 convT 4x4/2 L -> 32 @ 16x16 (G = 16: conv 3x3, same output) (+ skip16),
 *   1 leaky, 2 convT 32 -> 16 @ 32x32 (+ skip32), 3 leaky, 4 convT 16 -> 6 @ 64x64 = [flow x,
 *   flow y, mask, r, g, b], and a 7th channel, sharpness, with blur.
 * - frame: W = warp(last context frame, flow_scale * flow) (cmp_warp_fwd), m = sigmoid(mask),
 *   frame = m * W + (1 - m) * [r, g, b]: the static background and anything that only moves is
 *   copied sharp from the context; what appears is generated. With blur_sigma > 0,
 *   W = s * W + (1 - s) * warp(blurred context, flow), s = sigmoid(sharpness): the blurred copy
 *   gives the flow a gradient from afar (a bilinear warp of a sharp image only feels motion
 *   within a pixel), and s moves to the sharp copy once the flow is right.
 * - warp_prev ("--warp-source previous"; the authors' released model works this way): frame t
 *   warps predicted frame t - 1 instead of the context (frame 1 still warps the context), so a
 *   step's flow is one step's motion, a pixel or two, where the context's flow must carry the whole
 *   displacement since the context; a pushed block travels with the flow from frame to frame
 *   instead of having to be found again in the context. The warp source is detached: training
 *   sends no gradient through the previous frame into earlier steps (they get theirs from their
 *   own frames' loss; the latent recurrence is trained through time as before), which needs no
 *   image gradient of the warp. Decoding a step then needs the step before it decoded: planning
 *   decodes every step (13 x the decoder's work for the final frame), and the blur, which would
 *   run on every predicted frame, is off.
 * Frames, rollouts and their latents are laid out time-major: row t * N + n is step t of rollout n,
 * and rollout n belongs to context n % ni, so one context serves all candidates of a plan and a
 * batch of contexts serves its windows without copies.
 *
 * FLOPs (a multiply-add counts 2; dyn_model_flops), defaults: per predicted step per rollout
 * the cell's two 3x3 convs, 2 x 64 px x L x L x 9 x 2 = 2.36 M at L = 32 (+ FiLM and elementwise:
 * 2.37 M); decoding one frame 2.1 M + 4.2 M + 3.7 M of transposed convs + 0.3 M of warps and
 * compositing = 10.4 M (9.7 M without blur); encoding a context 55 M + 27 M of blur, once per
 * replan. A plan of 200 x 13 with only the final frames decoded: 200 x (13 x 2.37 + 10.4) M =
 * 8.2 GFLOP, i.e. 3.2 MFLOP per predicted step per candidate; the budget of 300 ms holds at 28
 * GFLOP/s, about a third of what the CPU backend reaches on these layers on 2 idle cores.
 * With warp_prev every frame is decoded: 200 x 13 x (2.37 + 9.7) M = 31 GFLOP, about 4 times that.
 * G = 16 with L = 16 has the same cell cost (4 times the pixels, a quarter of L^2): a latent cell
 * covers 4 x 4 pixels instead of 8 x 8, for the position of small objects such as a pushed block.
 *
 * Training (dyn_decode of every step after dyn_rollout, then dyn_backward) rolls out from the
 * context exactly as planning does: the model always continues from its own latent predictions,
 * never from the true frames (no teacher forcing), and the loss is the mean squared error over
 * all T frames. */
#ifndef DYN_MODEL_H
#define DYN_MODEL_H

#include "cmp.h"
#include "nn.h"
#include "safetensors.h"

#include <stdbool.h>
#include <stdint.h>

#define DYN_IMAGE       64 /* frames are DYN_IMAGE x DYN_IMAGE x 3 uint8 */
#define DYN_FRAME_BYTES (DYN_IMAGE * DYN_IMAGE * 3)
#define DYN_ACTION_DIM  4
#define DYN_MAX_CONTEXT 2

typedef struct dyn_config {
  int context;      /* K: context frames (1 or 2) */
  int latent;       /* L: latent channels (4 .. 256) */
  int latent_hw;    /* G: latent grid, 8 (three stride-2 stages) or 16 (two) */
  float flow_scale; /* pixels of displacement per unit of the flow output */
  float mask_bias;  /* initial bias of the mask logit (> 0 starts near copy-the-last-frame) */
  float blur_sigma; /* > 0: also warp a Gaussian-blurred context (pixels), mixed in per pixel */
  bool warp_prev;   /* frame t warps predicted frame t - 1 (step 1: the context); needs blur 0 */
} dyn_config;

/* The defaults: K = 2, L = 32, G = 8, flow scale 2, mask bias 3, blur sigma 3 (pixels), every
 * frame warped from the context. */
dyn_config dyn_config_default(void);
/* "context" or "previous", the names of warp_prev false and true (CLI, run configs). */
const char *dyn_warp_source_name(bool warp_prev);
bool dyn_parse_warp_source(const char *name, bool *warp_prev); /* false: neither name */
/* One line naming the first invalid field, or true. */
bool dyn_config_check(const dyn_config *c, char *err, size_t err_sz);
/* The first field in which two architectures differ ("context", "latent", "latent_hw",
 * "flow_scale", "mask_bias", "blur", "warp_source"), or NULL when they are the same. */
const char *dyn_config_diff(const dyn_config *a, const dyn_config *b);

/* Floating-point operations (a multiply-add counts 2) of the pieces of a prediction. */
typedef struct dyn_flops {
  double encode; /* one context: encoder and skips */
  double step;   /* one rollout step of one rollout: FiLM and the cell */
  double decode; /* one frame: decoder, warp and compositing */
} dyn_flops;
dyn_flops dyn_model_flops(const dyn_config *c);

#define DYN_PARTS 6

/* Architecture and weights (immutable while running; one model serves many dyn_data). */
typedef struct dyn_model {
  cmp_ctx *ctx;               /* backend (not owned) */
  dyn_config cfg;             /* architecture */
  nn_model *encoder;          /* "encoder" (owned) */
  nn_model *skip16, *skip32;  /* "skip16", "skip32" (owned) */
  nn_model *cell, *film;      /* "cell", "film" (owned) */
  nn_model *decoder;          /* "decoder" (owned) */
  nn_model *parts[DYN_PARTS]; /* the six above, in this order (state_dict order) */
  bool with_grads;            /* gradients allocated */
  cmp_arena *arena;           /* constants (owned) */
  cmp_tensor coords;          /* [1, 2, 64, 64] x then y coordinate channels */
  cmp_tensor blur_w;          /* [3, 3, k, k] per-channel Gaussian (blur only) */
  cmp_tensor blur_norm;       /* [1, 1, 64, 64] 1 / blurred all-ones image (blur only) */
  cmp_conv_params blur_conv;  /* k x k, padding k / 2 */
} dyn_model;

/* A model with PyTorch's default initialisation from seed (then the FiLM scale bias + 1 and the
 * mask bias). Returns NULL with err for an invalid config. with_grads: training. */
dyn_model *dyn_model_create(cmp_ctx *ctx, const dyn_config *cfg, uint64_t seed, bool with_grads,
                            char *err, size_t err_sz);
void dyn_model_destroy(dyn_model *m);
size_t dyn_model_param_count(const dyn_model *m);
void dyn_model_zero_grad(dyn_model *m);

/* Weights as prefix + "encoder.0.weight", ... and the architecture as metadata (dyn_write_meta). */
void dyn_model_write(const dyn_model *m, st_writer *w, const char *prefix);
void dyn_write_meta(const dyn_config *c, st_writer *w);
/* The architecture recorded in a file's metadata; false with err when absent or invalid. */
bool dyn_read_meta(const st_file *f, dyn_config *c, char *err, size_t err_sz);
/* Loads every weight; on error (missing tensor, other shape) nothing changes and err names the file
 * and the tensor. */
bool dyn_model_read(dyn_model *m, const st_file *f, const char *prefix, char *err, size_t err_sz);

/* ---- running ------------------------------------------------------------------------------------
 */

/* Activations (and their gradients when training) of one use of a model, sized at creation:
 * up to max_ctx contexts, max_rollouts rollouts of up to `horizon` steps, and up to max_decode
 * frames decoded at once. Nothing is allocated after creation. Every step's latent is kept, so any
 * step can be decoded after a rollout. */
typedef struct dyn_data {
  dyn_model *model; /* not owned (training accumulates into its gradients) */
  int max_ctx;      /* contexts */
  int max_rollouts; /* rollouts */
  int horizon;      /* steps */
  int max_decode;   /* frames per decode */
  bool train;       /* gradients allocated; every step's cell activations kept */
  int ni;           /* contexts of the last encode (0: none yet) */
  int nr;           /* rollouts of the last rollout (0: none yet) */
  int steps;        /* steps of the last rollout */
  int dec_first;    /* first step of the last decode (1-based) */
  int dec_count;    /* steps of the last decode (0: none yet) */
  cmp_arena *arena; /* every tensor below (owned) */
  /* encoder, per context */
  cmp_tensor x;     /* [max_ctx, 3K + 2, 64, 64] input (coordinates filled at creation) */
  cmp_tensor last;  /* [max_ctx, 3, 64, 64] the last context frame (what the warp moves) */
  cmp_tensor lastb; /* [max_ctx, 3, 64, 64] it blurred (blur only) */
  cmp_tensor s32;   /* [max_ctx, 32, 32, 32] encoder layer 1 output */
  cmp_tensor s16;   /* [max_ctx, 64, 16, 16] encoder layer 3 output */
  cmp_tensor e8;    /* [max_ctx, 64, 8, 8] encoder layer 5 output (G = 8 only) */
  cmp_tensor h0;    /* [max_ctx, L, G, G] the context's latent */
  cmp_tensor k16;   /* [max_ctx, 32, 16, 16] skip16 */
  cmp_tensor k32;   /* [max_ctx, 16, 32, 32] skip32 */
  /* rollout, time-major */
  cmp_tensor act;    /* [horizon * max_rollouts, 4] actions */
  cmp_tensor h;      /* [(horizon + 1) * max_rollouts, L, G, G] latents h_0 .. h_T */
  cmp_tensor fa;     /* [S * max_rollouts, 2L] FiLM outputs; S = horizon (train) or 1 */
  cmp_tensor fs, fb; /* [S * max_rollouts, L, 1, 1] FiLM scale and shift */
  cmp_tensor u;      /* [S * max_rollouts, L, G, G] cell conv 0 output */
  cmp_tensor z;      /* [S * max_rollouts, L, G, G] leaky(u * fs + fb) */
  /* decoder, max_decode frames */
  cmp_tensor p1;   /* [max_decode, 32, 16, 16] decoder layer 1 output */
  cmp_tensor p2;   /* [max_decode, 16, 32, 32] decoder layer 3 output */
  cmp_tensor o;    /* [max_decode, 6 or 7, 64, 64] decoder output */
  cmp_tensor flow; /* [max_decode, 2, 64, 64] */
  cmp_tensor mask; /* [max_decode, 1, 64, 64] sigmoid of the mask logit */
  cmp_tensor gen;  /* [max_decode, 3, 64, 64] generated pixels */
  cmp_tensor diff; /* [max_decode, 3, 64, 64] warped context minus gen */
  cmp_tensor wb;   /* [max_decode, 3, 64, 64] warped blurred context (blur only) */
  cmp_tensor sb;   /* [max_decode, 3, 64, 64] sharp minus blurred warp (blur only) */
  cmp_tensor m2;   /* [max_decode, 1, 64, 64] sigmoid of the sharpness logit (blur only) */
  cmp_tensor y;    /* [max_decode, 3, 64, 64] predicted frames */
  cmp_tensor src;  /* warp_prev: [max_decode, 3, 64, 64] each frame's warp source (frame t - 1) */
  bool hold_src;   /* warp_prev, for gradient checks: decodes keep `src` as the last one left it
                    * (the detached sources stay constant while the weights are perturbed) */
  /* gradients (train only; buf NULL otherwise) */
  cmp_tensor target;                           /* [max_decode, 3, 64, 64] true frames */
  cmp_tensor loss;                             /* [1] */
  cmp_tensor dy, ddiff, dgen;                  /* [max_decode, 3, 64, 64] */
  cmp_tensor weight;                           /* [max_decode, 1, 64, 64] change weights */
  cmp_tensor dflow, dmask, dlogit, dout;       /* [max_decode, 2 | 1 | 1 | 6, 64, 64] */
  cmp_tensor dp2, dq2, dp1, dq1;               /* decoder: after / before each leaky */
  cmp_tensor dh;                               /* [(horizon + 1) * max_rollouts, L, G, G] */
  cmp_tensor dz, dv, du, dfs, dfb, dfa;        /* one step's cell gradients [max_rollouts, ...] */
  cmp_tensor dh0, dk16, dk32;                  /* [max_ctx, ...] */
  cmp_tensor dsb, dwb, dm2, dlogit2;           /* blur only: gradients of sb, wb, m2, its logit */
  cmp_tensor de8, dq8, ds16, dq16, ds32, dq32; /* encoder: after / before each leaky */
  float *host;   /* [max(max_decode * 3 * 64 * 64, horizon * max_rollouts * 4)] (owned) */
  float *host_w; /* train: [(max_decode + 3 max_ctx) * 64 * 64] change weights (owned) */
} dyn_data;

dyn_data *dyn_data_create(dyn_model *m, int max_ctx, int max_rollouts, int horizon, int max_decode,
                          bool train);
void dyn_data_destroy(dyn_data *d);

/* 1. Encodes ni contexts: frames uint8 [K][ni][64 x 64 x 3] (context-major: all contexts' oldest
 *    frame first, then the next; the last is the frame the warp moves). */
void dyn_encode(dyn_data *d, const uint8_t *frames, int ni);
/* 2. Rolls out nr (a multiple of ni) action sequences for `steps` steps from the encoded contexts:
 *    actions float [steps][nr][4] (time-major; rollout n uses context n % ni). */
void dyn_rollout(dyn_data *d, const float *actions, int nr, int steps);
/* 3. Decodes steps [first, first + count) (1-based: step 1 is the first predicted frame) of every
 *    rollout; count * nr <= max_decode. Returns the frames [count * nr, 3, 64, 64] (time-major,
 *    pixels / 255), valid until the next decode. With warp_prev, first is 1 or the step after the
 *    last decode's last (the chain of frames goes on from there). */
const cmp_tensor *dyn_decode(dyn_data *d, int first, int count);
/* Downloads the last decode as uint8 frames [count * nr][64 x 64 x 3] (rounded, clamped). */
void dyn_download_frames(dyn_data *d, uint8_t *out);

/* The mean squared error (pixels / 255) of the last decode against the true frames, uint8
 * [count * nr][64 x 64 x 3] in the decode's time-major order. */
float dyn_loss(dyn_data *d, const uint8_t *targets);

/* A pixel "changes" when it differs from the last context frame by more than this (pixels / 255)
 * in some channel. */
#define DYN_CHANGE_THRESHOLD 0.1f

/* Training: the mean squared error of the last decode (which must cover steps 1..T of the rollout)
 * against targets uint8 [T][nr][64 x 64 x 3], then the gradient of the training loss accumulated
 * into the model's gradients (zero them first). Returns the mean squared error (the logged and
 * validated figure, whatever the training loss).
 * The training loss is that error (paper Eq. 1) when l1_delta is 0; with l1_delta > 0 it is the
 * mean Huber loss of the pixel errors d: d^2 / (2 l1_delta) within l1_delta, |d| - l1_delta / 2
 * beyond, i.e. an l1 loss rounded off near 0 (SAVP trains on l1). Where the model cannot tell
 * whether a block is pushed, the squared error is least for the average of both outcomes, a
 * block faded at both places; the absolute error is least for the likelier outcome drawn sharp.
 * change_weight > 0 weights the loss: every pixel's error counts 1 + change_weight times where the
 * true or the predicted frame changes (DYN_CHANGE_THRESHOLD) from the context. The moving arm and
 * a pushed block are a few percent of a frame's pixels, so under the plain loss a model gains
 * little by getting them right; counting the predicted changes too makes a change where none
 * happens (a fading block) as costly as a missed one. */
float dyn_backward(dyn_data *d, const uint8_t *targets, float change_weight, float l1_delta);

/* The l1_delta of `mbold train dynamics --loss l1` (pixels / 255: errors past 2.55 levels count
 * linearly). */
#define DYN_L1_DELTA 0.01f

#endif
