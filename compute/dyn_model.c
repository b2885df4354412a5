/* The video prediction model: parameters, forward passes and the backward pass (see dyn_model.h).
 */
#include "dyn_model.h"

#include "cmp_backend.h" /* cmp_die */
#include "mb_err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQ(cond, ...)                                                                             \
  do {                                                                                             \
    if (!(cond)) cmp_die(__VA_ARGS__);                                                             \
  } while (0)

#define LEAKY      0.2f
#define PIX        (1.0f / 255.0f)
#define DEC1_C     32 /* decoder channels at 16 x 16 (= skip16's) */
#define DEC2_C     16 /* at 32 x 32 (= skip32's) */
#define ENC1_C     32
#define ENC2_C     64
#define ENC3_C     64
#define OUT_C      6  /* flow x, flow y, mask, r, g, b; + sharpness with blur */
#define BLUR_MAX_K 33 /* largest blur kernel */
#define IMG_PIXELS (DYN_IMAGE * DYN_IMAGE)

static void make_blur(dyn_model *m);

/* Gaussian kernel size for sigma (0: no blur). */
static int blur_k(float sigma) {
  return sigma > 0 ? 2 * (int)ceilf(3 * sigma) + 1 : 0;
}

static int out_channels(const dyn_config *c) {
  return OUT_C + (c->blur_sigma > 0);
}

dyn_config dyn_config_default(void) {
  dyn_config c = {.context = 2,
                  .latent = 32,
                  .latent_hw = 8,
                  .flow_scale = 2.0f,
                  .mask_bias = 3.0f,
                  .blur_sigma = 3.0f,
                  .warp_prev = false};
  return c;
}

const char *dyn_warp_source_name(bool warp_prev) {
  return warp_prev ? "previous" : "context";
}

bool dyn_parse_warp_source(const char *name, bool *warp_prev) {
  if (strcmp(name, "context") && strcmp(name, "previous")) return false;
  *warp_prev = !strcmp(name, "previous");
  return true;
}

const char *dyn_config_diff(const dyn_config *a, const dyn_config *b) {
  return a->context != b->context         ? "context"
         : a->latent != b->latent         ? "latent"
         : a->latent_hw != b->latent_hw   ? "latent_hw"
         : a->flow_scale != b->flow_scale ? "flow_scale"
         : a->mask_bias != b->mask_bias   ? "mask_bias"
         : a->blur_sigma != b->blur_sigma ? "blur"
         : a->warp_prev != b->warp_prev   ? "warp_source"
                                          : NULL;
}

bool dyn_config_check(const dyn_config *c, char *err, size_t err_sz) {
  if (c->context < 1 || c->context > DYN_MAX_CONTEXT)
    return mb_fail(err, err_sz, "context frames %d (must be 1 or 2)", c->context);
  if (c->latent < 4 || c->latent > 256)
    return mb_fail(err, err_sz, "latent channels %d (must be 4 .. 256)", c->latent);
  if (c->latent_hw != 8 && c->latent_hw != 16)
    return mb_fail(err, err_sz, "latent grid %d (must be 8 or 16)", c->latent_hw);
  if (!(c->flow_scale > 0 && c->flow_scale <= 64))
    return mb_fail(err, err_sz, "flow scale %g (must be in (0, 64])", c->flow_scale);
  if (!(fabsf(c->mask_bias) <= 20))
    return mb_fail(err, err_sz, "mask bias %g (must be in [-20, 20])", c->mask_bias);
  if (!(c->blur_sigma >= 0 && blur_k(c->blur_sigma) <= BLUR_MAX_K))
    return mb_fail(err, err_sz, "blur sigma %g (must be in [0, 5])", c->blur_sigma);
  if (c->warp_prev && c->blur_sigma > 0)
    return mb_fail(err, err_sz,
                   "blur sigma %g with frames warped from the previous frame (the blur would run "
                   "on every predicted frame; use blur 0)",
                   c->blur_sigma);
  return true;
}

/* Multiply-adds x 2 of a convolution with per-output-pixel fan-in cin * k * k, and of a transposed
 * one, which touches every input pixel with cout * k * k taps. */
static double conv_flops(int cin, int cout, int k, int out_pixels) {
  return 2.0 * cin * cout * k * k * out_pixels;
}

dyn_flops dyn_model_flops(const dyn_config *c) {
  int K = c->context, L = c->latent, G = c->latent_hw, lp = G * G;
  dyn_flops f;
  f.encode = conv_flops(3 * K + 2, ENC1_C, 4, 32 * 32) + conv_flops(ENC1_C, ENC2_C, 4, 16 * 16) +
             conv_flops(ENC2_C, DEC1_C, 3, 16 * 16) + conv_flops(ENC1_C, DEC2_C, 3, 32 * 32);
  if (G == 8)
    f.encode += conv_flops(ENC2_C, ENC3_C, 4, 8 * 8) + conv_flops(ENC3_C, L, 3, 8 * 8);
  else
    f.encode += conv_flops(ENC2_C, L, 3, 16 * 16);
  /* FiLM linear, two 3x3 convs, scale/shift/leaky/residual (4 per latent value). */
  f.step = 2.0 * DYN_ACTION_DIM * 2 * L + 2 * conv_flops(L, L, 3, lp) + 4.0 * L * lp;
  /* The first decoder layer (a transposed conv counted over its input pixels, or a 3x3 conv at
   * 16 x 16), two transposed convs, skip adds and leakys, then per output value: warp (4 taps x 2
   * + weights), composite 3, sigmoid ~4 per pixel. */
  f.decode = (G == 8 ? conv_flops(L, DEC1_C, 4, 8 * 8) : conv_flops(L, DEC1_C, 3, 16 * 16)) +
             conv_flops(DEC1_C, DEC2_C, 4, 16 * 16) +
             conv_flops(DEC2_C, out_channels(c), 4, 32 * 32) +
             2.0 * (DEC1_C * 256 + DEC2_C * 1024) + IMG_PIXELS * (3 * (8.0 + 3) + 8 + 4);
  if (c->blur_sigma > 0) {
    int k = blur_k(c->blur_sigma);
    f.encode += conv_flops(3, 3, k, IMG_PIXELS) + 3.0 * IMG_PIXELS;
    f.decode += IMG_PIXELS * (3 * (8.0 + 3) + 4); /* second warp, sharpness mix, sigmoid */
  }
  return f;
}

/* ---- parameters -------------------------------------------------------------------------------
 */

static const cmp_tensor *W(const nn_model *m, int layer) {
  return &m->tensors[m->layers[layer].weight].value;
}
static const cmp_tensor *B(const nn_model *m, int layer) {
  return &m->tensors[m->layers[layer].bias].value;
}
static const cmp_tensor *GW(const nn_model *m, int layer) {
  return &m->tensors[m->layers[layer].weight].grad;
}
static const cmp_tensor *GB(const nn_model *m, int layer) {
  return &m->tensors[m->layers[layer].bias].grad;
}
static const cmp_conv_params *CP(const nn_model *m, int layer) {
  return &m->layers[layer].conv;
}

static uint64_t part_seed(uint64_t seed, uint64_t part) {
  return seed * 0x9E3779B97F4A7C15ull + 0x5D1Bull * part;
}

/* Adds `delta` to element i of a bias vector (initialisation only). */
static void bias_add(cmp_ctx *ctx, const cmp_tensor *b, int i0, int count, float delta) {
  float *h = malloc(cmp_numel(b) * sizeof *h);
  REQ(h, "dyn_model_create: out of memory");
  cmp_download(ctx, b, h);
  for (int i = i0; i < i0 + count; i++) h[i] += delta;
  cmp_upload(ctx, b, h);
  free(h);
}

static void init_tweaks(dyn_model *m) {
  int L = m->cfg.latent;
  /* FiLM scale s(a) = 1 + ..., so an untrained cell sees its conv output unscaled. */
  bias_add(m->ctx, B(m->film, 0), 0, L, 1.0f);
  /* A positive mask logit starts the model near copy-the-last-frame. */
  bias_add(m->ctx, B(m->decoder, 4), 2, 1, m->cfg.mask_bias);
}

dyn_model *dyn_model_create(cmp_ctx *ctx, const dyn_config *cfg, uint64_t seed, bool with_grads,
                            char *err, size_t err_sz) {
  if (!dyn_config_check(cfg, err, err_sz)) return NULL;
  dyn_model *m = calloc(1, sizeof *m);
  if (!m) return mb_fail_null(err, err_sz, "out of memory");
  m->ctx = ctx;
  m->cfg = *cfg;
  m->with_grads = with_grads;
  int K = cfg->context, L = cfg->latent;

  m->encoder = nn_model_create(ctx, "encoder", 3 * K + 2, DYN_IMAGE, DYN_IMAGE);
  nn_add_conv(m->encoder, ENC1_C, 4, 2, 1);
  nn_add_act(m->encoder, CMP_ACT_LEAKY_RELU, LEAKY);
  nn_add_conv(m->encoder, ENC2_C, 4, 2, 1);
  nn_add_act(m->encoder, CMP_ACT_LEAKY_RELU, LEAKY);
  if (cfg->latent_hw == 8) {
    nn_add_conv(m->encoder, ENC3_C, 4, 2, 1);
    nn_add_act(m->encoder, CMP_ACT_LEAKY_RELU, LEAKY);
  }
  nn_add_conv(m->encoder, L, 3, 1, 1);

  m->skip16 = nn_model_create(ctx, "skip16", ENC2_C, 16, 16);
  nn_add_conv(m->skip16, DEC1_C, 3, 1, 1);
  m->skip32 = nn_model_create(ctx, "skip32", ENC1_C, 32, 32);
  nn_add_conv(m->skip32, DEC2_C, 3, 1, 1);

  int G = cfg->latent_hw;
  m->cell = nn_model_create(ctx, "cell", L, G, G);
  nn_add_conv(m->cell, L, 3, 1, 1);
  nn_add_act(m->cell, CMP_ACT_LEAKY_RELU, LEAKY);
  nn_add_conv(m->cell, L, 3, 1, 1);
  m->film = nn_model_create(ctx, "film", DYN_ACTION_DIM, 1, 1);
  nn_add_linear(m->film, 2 * L);

  m->decoder = nn_model_create(ctx, "decoder", L, G, G);
  if (G == 8)
    nn_add_convt(m->decoder, DEC1_C, 4, 2, 1);
  else
    nn_add_conv(m->decoder, DEC1_C, 3, 1, 1);
  nn_add_act(m->decoder, CMP_ACT_LEAKY_RELU, LEAKY);
  nn_add_convt(m->decoder, DEC2_C, 4, 2, 1);
  nn_add_act(m->decoder, CMP_ACT_LEAKY_RELU, LEAKY);
  nn_add_convt(m->decoder, out_channels(cfg), 4, 2, 1);

  nn_model *parts[DYN_PARTS] = {m->encoder, m->skip16, m->skip32, m->cell, m->film, m->decoder};
  for (int i = 0; i < DYN_PARTS; i++) {
    m->parts[i] = parts[i];
    nn_model_finish(parts[i], with_grads, part_seed(seed, (uint64_t)i + 1));
  }
  init_tweaks(m);

  m->arena = cmp_arena_create(ctx, CMP_ARENA_WEIGHTS, 4 * IMG_PIXELS + 9 * BLUR_MAX_K * BLUR_MAX_K);
  m->coords = cmp_arena_tensor(m->arena, 1, 2, DYN_IMAGE, DYN_IMAGE);
  if (cfg->blur_sigma > 0) make_blur(m);
  float *c = malloc(2 * IMG_PIXELS * sizeof *c);
  if (!c) {
    dyn_model_destroy(m);
    return mb_fail_null(err, err_sz, "out of memory");
  }
  for (int y = 0; y < DYN_IMAGE; y++)
    for (int x = 0; x < DYN_IMAGE; x++) {
      c[y * DYN_IMAGE + x] = -1.0f + 2.0f * (float)x / (DYN_IMAGE - 1);
      c[IMG_PIXELS + y * DYN_IMAGE + x] = -1.0f + 2.0f * (float)y / (DYN_IMAGE - 1);
    }
  cmp_upload(ctx, &m->coords, c);
  free(c);
  return m;
}

/* The blur: a Gaussian per channel as a 3 -> 3 convolution with zero padding, and the inverse of
 * the blurred all-ones image, so that pixels near the border are averages of the image only. */
static void make_blur(dyn_model *m) {
  int k = blur_k(m->cfg.blur_sigma), r = k / 2;
  m->blur_w = cmp_arena_tensor(m->arena, 3, 3, k, k);
  m->blur_norm = cmp_arena_tensor(m->arena, 1, 1, DYN_IMAGE, DYN_IMAGE);
  m->blur_conv = (cmp_conv_params){k, k, 1, 1, r, r};
  float *w = calloc((size_t)9 * k * k, sizeof *w), g[BLUR_MAX_K];
  float *norm = malloc(IMG_PIXELS * sizeof *norm);
  REQ(w && norm, "dyn_model_create: out of memory");
  double sum = 0;
  for (int i = 0; i < k; i++)
    sum += g[i] = expf(-(float)((i - r) * (i - r)) / (2 * m->cfg.blur_sigma * m->cfg.blur_sigma));
  for (int i = 0; i < k; i++) g[i] = (float)(g[i] / sum);
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < k; y++)
      for (int x = 0; x < k; x++) w[((size_t)(c * 3 + c) * k + y) * k + x] = g[y] * g[x];
  cmp_upload(m->ctx, &m->blur_w, w);
  /* 1 / (sum of the kernel weights that fall inside the image) per pixel: separable. */
  for (int y = 0; y < DYN_IMAGE; y++)
    for (int x = 0; x < DYN_IMAGE; x++) {
      double sy = 0, sx = 0;
      for (int i = 0; i < k; i++) {
        if (y + i - r >= 0 && y + i - r < DYN_IMAGE) sy += g[i];
        if (x + i - r >= 0 && x + i - r < DYN_IMAGE) sx += g[i];
      }
      norm[y * DYN_IMAGE + x] = (float)(1.0 / (sy * sx));
    }
  cmp_upload(m->ctx, &m->blur_norm, norm);
  free(w);
  free(norm);
}

void dyn_model_destroy(dyn_model *m) {
  if (!m) return;
  for (int i = 0; i < DYN_PARTS; i++) nn_model_destroy(m->parts[i]);
  cmp_arena_destroy(m->arena);
  free(m);
}

size_t dyn_model_param_count(const dyn_model *m) {
  size_t n = 0;
  for (int i = 0; i < DYN_PARTS; i++) n += nn_model_param_count(m->parts[i]);
  return n;
}

void dyn_model_zero_grad(dyn_model *m) {
  for (int i = 0; i < DYN_PARTS; i++) nn_zero_grad(m->parts[i]);
}

void dyn_model_write(const dyn_model *m, st_writer *w, const char *prefix) {
  for (int i = 0; i < DYN_PARTS; i++) nn_model_write(m->parts[i], w, prefix);
}

void dyn_write_meta(const dyn_config *c, st_writer *w) {
  char v[64];
  st_add_metadata(w, "mbold_net", "dynamics");
  snprintf(v, sizeof v, "%d", c->context);
  st_add_metadata(w, "dyn_context", v);
  snprintf(v, sizeof v, "%d", c->latent);
  st_add_metadata(w, "dyn_latent", v);
  snprintf(v, sizeof v, "%d", c->latent_hw);
  st_add_metadata(w, "dyn_latent_hw", v);
  snprintf(v, sizeof v, "%.9g", c->flow_scale);
  st_add_metadata(w, "dyn_flow_scale", v);
  snprintf(v, sizeof v, "%.9g", c->mask_bias);
  st_add_metadata(w, "dyn_mask_bias", v);
  snprintf(v, sizeof v, "%.9g", c->blur_sigma);
  st_add_metadata(w, "dyn_blur_sigma", v);
  st_add_metadata(w, "dyn_warp_prev", c->warp_prev ? "1" : "0");
}

static bool meta_number(const st_file *f, const char *key, double *out, char *err, size_t err_sz) {
  const char *s = st_metadata(f, key);
  if (!s)
    return mb_fail(err, err_sz, "%s: no metadata '%s' (not a dynamics checkpoint)", f->path, key);
  char *end;
  *out = strtod(s, &end);
  if (end == s || *end)
    return mb_fail(err, err_sz, "%s: metadata %s = '%s' is not a number", f->path, key, s);
  return true;
}

bool dyn_read_meta(const st_file *f, dyn_config *c, char *err, size_t err_sz) {
  const char *kind = st_metadata(f, "mbold_net");
  if (!kind || strcmp(kind, "dynamics"))
    return mb_fail(err, err_sz, "%s: holds %s%s, not a dynamics model", f->path,
                   kind ? "a network of kind " : "no MBOLD network", kind ? kind : "");
  double k = 0, l = 0, fs = 0, mb = 0, bs = 0, g = 8, wp = 0;
  if (!meta_number(f, "dyn_context", &k, err, err_sz) ||
      !meta_number(f, "dyn_latent", &l, err, err_sz) ||
      !meta_number(f, "dyn_flow_scale", &fs, err, err_sz) ||
      !meta_number(f, "dyn_mask_bias", &mb, err, err_sz))
    return false;
  /* Checkpoints from before the blurred warp existed have no blur. */
  if (st_metadata(f, "dyn_blur_sigma") && !meta_number(f, "dyn_blur_sigma", &bs, err, err_sz))
    return false;
  /* ... and those from before the 16 x 16 grid, an 8 x 8 one. */
  if (st_metadata(f, "dyn_latent_hw") && !meta_number(f, "dyn_latent_hw", &g, err, err_sz))
    return false;
  /* ... and those from before the recurrent warp, the context as every frame's warp source. */
  if (st_metadata(f, "dyn_warp_prev") && !meta_number(f, "dyn_warp_prev", &wp, err, err_sz))
    return false;
  if (wp != 0 && wp != 1)
    return mb_fail(err, err_sz, "%s: metadata dyn_warp_prev = %g (must be 0 or 1)", f->path, wp);
  dyn_config r = {.context = (int)k,
                  .latent = (int)l,
                  .latent_hw = (int)g,
                  .flow_scale = (float)fs,
                  .mask_bias = (float)mb,
                  .blur_sigma = (float)bs,
                  .warp_prev = wp == 1};
  char why[256];
  if (k != (int)k || l != (int)l || g != (int)g || !dyn_config_check(&r, why, sizeof why))
    return mb_fail(err, err_sz, "%s: invalid architecture: %s", f->path, why);
  *c = r;
  return true;
}

bool dyn_model_read(dyn_model *m, const st_file *f, const char *prefix, char *err, size_t err_sz) {
  for (int i = 0; i < DYN_PARTS; i++)
    if (!nn_model_check(m->parts[i], f, prefix, err, err_sz)) return false;
  for (int i = 0; i < DYN_PARTS; i++)
    if (!nn_model_read(m->parts[i], f, prefix, err, err_sz)) return false;
  return true;
}

/* ---- activations ------------------------------------------------------------------------------
 */

dyn_data *dyn_data_create(dyn_model *m, int max_ctx, int max_rollouts, int horizon, int max_decode,
                          bool train) {
  REQ(max_ctx > 0 && max_rollouts >= max_ctx && horizon > 0 && max_decode > 0,
      "dyn_data_create: contexts %d, rollouts %d, horizon %d, decode %d", max_ctx, max_rollouts,
      horizon, max_decode);
  REQ(!train || m->with_grads, "dyn_data_create: training needs a model with gradients");
  dyn_data *d = calloc(1, sizeof *d);
  REQ(d, "dyn_data_create: out of memory");
  d->model = m;
  d->max_ctx = max_ctx;
  d->max_rollouts = max_rollouts;
  d->horizon = horizon;
  d->max_decode = max_decode;
  d->train = train;
  int K = m->cfg.context, L = m->cfg.latent, G = m->cfg.latent_hw, C = max_ctx, R = max_rollouts,
      D = max_decode;
  int S = train ? horizon : 1;
  cmp_arena *a = d->arena = cmp_arena_create(m->ctx, CMP_ARENA_ACTIVATIONS, 1u << 22);
  d->x = cmp_arena_tensor(a, C, 3 * K + 2, DYN_IMAGE, DYN_IMAGE);
  d->last = cmp_arena_tensor(a, C, 3, DYN_IMAGE, DYN_IMAGE);
  bool blur = m->cfg.blur_sigma > 0;
  if (blur) d->lastb = cmp_arena_tensor(a, C, 3, DYN_IMAGE, DYN_IMAGE);
  d->s32 = cmp_arena_tensor(a, C, ENC1_C, 32, 32);
  d->s16 = cmp_arena_tensor(a, C, ENC2_C, 16, 16);
  d->e8 = cmp_arena_tensor(a, C, ENC3_C, 8, 8);
  d->h0 = cmp_arena_tensor(a, C, L, G, G);
  d->k16 = cmp_arena_tensor(a, C, DEC1_C, 16, 16);
  d->k32 = cmp_arena_tensor(a, C, DEC2_C, 32, 32);
  d->act = cmp_arena_tensor(a, horizon * R, DYN_ACTION_DIM, 1, 1);
  d->h = cmp_arena_tensor(a, (horizon + 1) * R, L, G, G);
  d->fa = cmp_arena_tensor(a, S * R, 2 * L, 1, 1);
  d->fs = cmp_arena_tensor(a, S * R, L, 1, 1);
  d->fb = cmp_arena_tensor(a, S * R, L, 1, 1);
  d->u = cmp_arena_tensor(a, S * R, L, G, G);
  d->z = cmp_arena_tensor(a, S * R, L, G, G);
  d->p1 = cmp_arena_tensor(a, D, DEC1_C, 16, 16);
  d->p2 = cmp_arena_tensor(a, D, DEC2_C, 32, 32);
  d->o = cmp_arena_tensor(a, D, out_channels(&m->cfg), DYN_IMAGE, DYN_IMAGE);
  d->flow = cmp_arena_tensor(a, D, 2, DYN_IMAGE, DYN_IMAGE);
  d->mask = cmp_arena_tensor(a, D, 1, DYN_IMAGE, DYN_IMAGE);
  d->gen = cmp_arena_tensor(a, D, 3, DYN_IMAGE, DYN_IMAGE);
  d->diff = cmp_arena_tensor(a, D, 3, DYN_IMAGE, DYN_IMAGE);
  d->y = cmp_arena_tensor(a, D, 3, DYN_IMAGE, DYN_IMAGE);
  if (m->cfg.warp_prev) d->src = cmp_arena_tensor(a, D, 3, DYN_IMAGE, DYN_IMAGE);
  if (blur) {
    d->wb = cmp_arena_tensor(a, D, 3, DYN_IMAGE, DYN_IMAGE);
    d->sb = cmp_arena_tensor(a, D, 3, DYN_IMAGE, DYN_IMAGE);
    d->m2 = cmp_arena_tensor(a, D, 1, DYN_IMAGE, DYN_IMAGE);
  }
  d->target = cmp_arena_tensor(a, D, 3, DYN_IMAGE, DYN_IMAGE);
  d->loss = cmp_arena_tensor(a, 1, 1, 1, 1);
  if (train) {
    d->dy = cmp_arena_tensor(a, D, 3, DYN_IMAGE, DYN_IMAGE);
    d->weight = cmp_arena_tensor(a, D, 1, DYN_IMAGE, DYN_IMAGE);
    d->ddiff = cmp_arena_tensor(a, D, 3, DYN_IMAGE, DYN_IMAGE);
    d->dgen = cmp_arena_tensor(a, D, 3, DYN_IMAGE, DYN_IMAGE);
    d->dflow = cmp_arena_tensor(a, D, 2, DYN_IMAGE, DYN_IMAGE);
    d->dmask = cmp_arena_tensor(a, D, 1, DYN_IMAGE, DYN_IMAGE);
    d->dlogit = cmp_arena_tensor(a, D, 1, DYN_IMAGE, DYN_IMAGE);
    d->dout = cmp_arena_tensor(a, D, out_channels(&m->cfg), DYN_IMAGE, DYN_IMAGE);
    if (blur) {
      d->dsb = cmp_arena_tensor(a, D, 3, DYN_IMAGE, DYN_IMAGE);
      d->dwb = cmp_arena_tensor(a, D, 3, DYN_IMAGE, DYN_IMAGE);
      d->dm2 = cmp_arena_tensor(a, D, 1, DYN_IMAGE, DYN_IMAGE);
      d->dlogit2 = cmp_arena_tensor(a, D, 1, DYN_IMAGE, DYN_IMAGE);
    }
    d->dp2 = cmp_arena_tensor(a, D, DEC2_C, 32, 32);
    d->dq2 = cmp_arena_tensor(a, D, DEC2_C, 32, 32);
    d->dp1 = cmp_arena_tensor(a, D, DEC1_C, 16, 16);
    d->dq1 = cmp_arena_tensor(a, D, DEC1_C, 16, 16);
    d->dh = cmp_arena_tensor(a, (horizon + 1) * R, L, G, G);
    d->dz = cmp_arena_tensor(a, R, L, G, G);
    d->dv = cmp_arena_tensor(a, R, L, G, G);
    d->du = cmp_arena_tensor(a, R, L, G, G);
    d->dfs = cmp_arena_tensor(a, R, L, 1, 1);
    d->dfb = cmp_arena_tensor(a, R, L, 1, 1);
    d->dfa = cmp_arena_tensor(a, R, 2 * L, 1, 1);
    d->dh0 = cmp_arena_tensor(a, C, L, G, G);
    d->dk16 = cmp_arena_tensor(a, C, DEC1_C, 16, 16);
    d->dk32 = cmp_arena_tensor(a, C, DEC2_C, 32, 32);
    d->de8 = cmp_arena_tensor(a, C, ENC3_C, 8, 8);
    d->dq8 = cmp_arena_tensor(a, C, ENC3_C, 8, 8);
    d->ds16 = cmp_arena_tensor(a, C, ENC2_C, 16, 16);
    d->dq16 = cmp_arena_tensor(a, C, ENC2_C, 16, 16);
    d->ds32 = cmp_arena_tensor(a, C, ENC1_C, 32, 32);
    d->dq32 = cmp_arena_tensor(a, C, ENC1_C, 32, 32);
  }
  size_t nf = (size_t)D * 3 * IMG_PIXELS, na = (size_t)horizon * R * DYN_ACTION_DIM;
  d->host = malloc((nf > na ? nf : na) * sizeof(float));
  REQ(d->host, "dyn_data_create: out of memory");
  if (train) { /* change weights: the weights, then the last context frames */
    d->host_w = malloc(((size_t)D + 3 * (size_t)C) * IMG_PIXELS * sizeof(float));
    REQ(d->host_w, "dyn_data_create: out of memory");
  }
  /* The coordinate channels of every context slot, once. */
  for (int i = 0; i < C; i++) {
    cmp_tensor xi = cmp_rows(d->x, i, 1), co = m->coords;
    cmp_copy_channels(m->ctx, &co, 0, &xi, 3 * K, 2, 0.0f);
  }
  return d;
}

void dyn_data_destroy(dyn_data *d) {
  if (!d) return;
  cmp_arena_destroy(d->arena);
  free(d->host);
  free(d->host_w);
  free(d);
}

/* ---- forward ----------------------------------------------------------------------------------
 */

static cmp_tensor rows(const cmp_tensor *t, int n0, int n) {
  return cmp_rows(*t, n0, n);
}

static void leaky(cmp_ctx *ctx, const cmp_tensor *t) {
  cmp_act_fwd(ctx, CMP_ACT_LEAKY_RELU, t, t, LEAKY);
}
static const cmp_fused_act LEAKY_FUSED = {CMP_ACT_LEAKY_RELU, LEAKY}; /* conv + leaky in one op */

void dyn_encode(dyn_data *d, const uint8_t *frames, int ni) {
  dyn_model *m = d->model;
  cmp_ctx *ctx = m->ctx;
  int K = m->cfg.context;
  REQ(ni > 0 && ni <= d->max_ctx, "dyn_encode: %d contexts for %d allocated", ni, d->max_ctx);
  cmp_tensor x = rows(&d->x, 0, ni), last = rows(&d->last, 0, ni);
  for (int k = 0; k < K; k++)
    cmp_upload_u8_hwc(ctx, &x, 3 * k, frames + (size_t)k * ni * DYN_FRAME_BYTES, PIX, 0.0f);
  cmp_upload_u8_hwc(ctx, &last, 0, frames + (size_t)(K - 1) * ni * DYN_FRAME_BYTES, PIX, 0.0f);
  if (m->cfg.blur_sigma > 0) {
    cmp_tensor lastb = rows(&d->lastb, 0, ni);
    cmp_conv2d_fwd(ctx, &last, &m->blur_w, NULL, &lastb, &m->blur_conv);
    cmp_binary(ctx, CMP_MUL, &lastb, &m->blur_norm, &lastb);
  }
  cmp_tensor s32 = rows(&d->s32, 0, ni), s16 = rows(&d->s16, 0, ni), e8 = rows(&d->e8, 0, ni),
             h0 = rows(&d->h0, 0, ni), k16 = rows(&d->k16, 0, ni), k32 = rows(&d->k32, 0, ni);
  const nn_model *e = m->encoder;
  cmp_conv2d_fwd_act(ctx, &x, W(e, 0), B(e, 0), &s32, CP(e, 0), &LEAKY_FUSED);
  cmp_conv2d_fwd_act(ctx, &s32, W(e, 2), B(e, 2), &s16, CP(e, 2), &LEAKY_FUSED);
  if (m->cfg.latent_hw == 8) {
    cmp_conv2d_fwd_act(ctx, &s16, W(e, 4), B(e, 4), &e8, CP(e, 4), &LEAKY_FUSED);
    cmp_conv2d_fwd(ctx, &e8, W(e, 6), B(e, 6), &h0, CP(e, 6));
  } else
    cmp_conv2d_fwd(ctx, &s16, W(e, 4), B(e, 4), &h0, CP(e, 4));
  cmp_conv2d_fwd(ctx, &s16, W(m->skip16, 0), B(m->skip16, 0), &k16, CP(m->skip16, 0));
  cmp_conv2d_fwd(ctx, &s32, W(m->skip32, 0), B(m->skip32, 0), &k32, CP(m->skip32, 0));
  d->ni = ni;
  d->nr = 0;
  d->dec_count = 0;
}

/* Per-sample size of a tensor as a broadcast "inner" for ni contexts laid out consecutively. */
static int ctx_inner(const cmp_tensor *t, int ni) {
  return (int)cmp_sample_size(t) * ni;
}

void dyn_rollout(dyn_data *d, const float *actions, int nr, int steps) {
  dyn_model *m = d->model;
  cmp_ctx *ctx = m->ctx;
  int L = m->cfg.latent, ni = d->ni;
  REQ(ni > 0, "dyn_rollout: no context encoded");
  REQ(nr > 0 && nr <= d->max_rollouts && nr % ni == 0,
      "dyn_rollout: %d rollouts for %d contexts (%d allocated)", nr, ni, d->max_rollouts);
  REQ(steps > 0 && steps <= d->horizon, "dyn_rollout: %d steps for a horizon of %d", steps,
      d->horizon);
  cmp_tensor act = rows(&d->act, 0, steps * nr);
  cmp_upload(ctx, &act, actions);
  cmp_tensor h0c = rows(&d->h0, 0, ni), hr0 = rows(&d->h, 0, nr);
  cmp_broadcast(ctx, &h0c, nr / ni, ctx_inner(&h0c, ni), false, &hr0, 0.0f);
  for (int t = 0; t < steps; t++) {
    int slot = d->train ? t : 0;
    cmp_tensor hin = rows(&d->h, t * nr, nr), hout = rows(&d->h, (t + 1) * nr, nr);
    cmp_tensor at = rows(&d->act, t * nr, nr), fa = rows(&d->fa, slot * nr, nr),
               fs = rows(&d->fs, slot * nr, nr), fb = rows(&d->fb, slot * nr, nr),
               u = rows(&d->u, slot * nr, nr), z = rows(&d->z, slot * nr, nr);
    cmp_linear_fwd(ctx, &at, W(m->film, 0), B(m->film, 0), &fa);
    cmp_copy_channels(ctx, &fa, 0, &fs, 0, L, 0.0f);
    cmp_copy_channels(ctx, &fa, L, &fb, 0, L, 0.0f);
    cmp_conv2d_fwd(ctx, &hin, W(m->cell, 0), B(m->cell, 0), &u, CP(m->cell, 0));
    cmp_binary(ctx, CMP_MUL, &u, &fs, &z);
    cmp_binary(ctx, CMP_ADD, &z, &fb, &z);
    leaky(ctx, &z);
    cmp_conv2d_fwd(ctx, &z, W(m->cell, 2), B(m->cell, 2), &hout, CP(m->cell, 2));
    cmp_axpby(ctx, &hin, &hout, 1.0f, 1.0f);
  }
  d->nr = nr;
  d->steps = steps;
  d->dec_count = 0;
}

/* y = gen + mask * (W - gen), W arriving in diff (overwritten). */
static void composite(cmp_ctx *ctx, const cmp_tensor *diff, const cmp_tensor *mask,
                      const cmp_tensor *gen, const cmp_tensor *y) {
  cmp_binary(ctx, CMP_SUB, diff, gen, diff);
  cmp_binary(ctx, CMP_MUL, diff, mask, y);
  cmp_binary(ctx, CMP_ADD, y, gen, y);
}

/* warp_prev: the frames of steps first .. first + count - 1 one after the other, each warping the
 * frame before it (copied into its block of `src`, which the backward pass reads), step 1 the
 * context. The previous decode's last frame (block prev_block of y) starts a chain that goes on. */
static void decode_chain(dyn_data *d, int first, int count, int prev_block) {
  dyn_model *m = d->model;
  cmp_ctx *ctx = m->ctx;
  int nr = d->nr;
  cmp_tensor last = rows(&d->last, 0, d->ni);
  for (int j = 0; j < count; j++) {
    cmp_tensor flow = rows(&d->flow, j * nr, nr), mask = rows(&d->mask, j * nr, nr),
               gen = rows(&d->gen, j * nr, nr), diff = rows(&d->diff, j * nr, nr),
               y = rows(&d->y, j * nr, nr), src = rows(&d->src, j * nr, nr);
    if (first + j > 1 && !d->hold_src) {
      cmp_tensor prev = rows(&d->y, (j > 0 ? j - 1 : prev_block) * nr, nr);
      cmp_copy_channels(ctx, &prev, 0, &src, 0, 3, 0.0f);
    }
    cmp_warp_fwd(ctx, first + j > 1 ? &src : &last, &flow, m->cfg.flow_scale, &diff);
    composite(ctx, &diff, &mask, &gen, &y);
  }
}

const cmp_tensor *dyn_decode(dyn_data *d, int first, int count) {
  dyn_model *m = d->model;
  cmp_ctx *ctx = m->ctx;
  int nr = d->nr, ni = d->ni, n = count * nr;
  REQ(nr > 0, "dyn_decode: no rollout");
  REQ(first >= 1 && count >= 1 && first + count - 1 <= d->steps,
      "dyn_decode: steps [%d, %d] of a %d-step rollout", first, first + count - 1, d->steps);
  REQ(n <= d->max_decode, "dyn_decode: %d frames for %d allocated", n, d->max_decode);
  REQ(!m->cfg.warp_prev || first == 1 || (d->dec_count > 0 && first == d->dec_first + d->dec_count),
      "dyn_decode: step %d of a recurrent model needs step %d decoded last", first, first - 1);
  const nn_model *dc = m->decoder;
  cmp_tensor hs = rows(&d->h, first * nr, n), p1 = rows(&d->p1, 0, n), p2 = rows(&d->p2, 0, n),
             o = rows(&d->o, 0, n), flow = rows(&d->flow, 0, n), mask = rows(&d->mask, 0, n),
             gen = rows(&d->gen, 0, n), diff = rows(&d->diff, 0, n), y = rows(&d->y, 0, n),
             k16 = rows(&d->k16, 0, ni), k32 = rows(&d->k32, 0, ni), last = rows(&d->last, 0, ni);
  if (m->cfg.latent_hw == 8)
    cmp_convt2d_fwd(ctx, &hs, W(dc, 0), B(dc, 0), &p1, CP(dc, 0));
  else
    cmp_conv2d_fwd(ctx, &hs, W(dc, 0), B(dc, 0), &p1, CP(dc, 0));
  cmp_broadcast(ctx, &k16, n / ni, ctx_inner(&k16, ni), false, &p1, 1.0f);
  leaky(ctx, &p1);
  cmp_convt2d_fwd(ctx, &p1, W(dc, 2), B(dc, 2), &p2, CP(dc, 2));
  cmp_broadcast(ctx, &k32, n / ni, ctx_inner(&k32, ni), false, &p2, 1.0f);
  leaky(ctx, &p2);
  cmp_convt2d_fwd(ctx, &p2, W(dc, 4), B(dc, 4), &o, CP(dc, 4));
  cmp_copy_channels(ctx, &o, 0, &flow, 0, 2, 0.0f);
  cmp_copy_channels(ctx, &o, 2, &mask, 0, 1, 0.0f);
  cmp_copy_channels(ctx, &o, 3, &gen, 0, 3, 0.0f);
  cmp_act_fwd(ctx, CMP_ACT_SIGMOID, &mask, &mask, 0.0f);
  if (m->cfg.warp_prev) {
    decode_chain(d, first, count, d->dec_count - 1);
    d->dec_first = first;
    d->dec_count = count;
    return &d->y;
  }
  cmp_warp_fwd(ctx, &last, &flow, m->cfg.flow_scale, &diff);
  if (m->cfg.blur_sigma > 0) { /* diff = wb + m2 * (diff - wb) */
    cmp_tensor lastb = rows(&d->lastb, 0, ni), wb = rows(&d->wb, 0, n), sb = rows(&d->sb, 0, n),
               m2 = rows(&d->m2, 0, n);
    cmp_warp_fwd(ctx, &lastb, &flow, m->cfg.flow_scale, &wb);
    cmp_copy_channels(ctx, &o, OUT_C, &m2, 0, 1, 0.0f);
    cmp_act_fwd(ctx, CMP_ACT_SIGMOID, &m2, &m2, 0.0f);
    cmp_binary(ctx, CMP_SUB, &diff, &wb, &sb);
    cmp_binary(ctx, CMP_MUL, &sb, &m2, &diff);
    cmp_binary(ctx, CMP_ADD, &diff, &wb, &diff);
  }
  composite(ctx, &diff, &mask, &gen, &y);
  d->dec_first = first;
  d->dec_count = count;
  return &d->y;
}

void dyn_download_frames(dyn_data *d, uint8_t *out) {
  REQ(d->dec_count > 0, "dyn_download_frames: nothing decoded");
  int n = d->dec_count * d->nr;
  cmp_tensor y = rows(&d->y, 0, n);
  cmp_download(d->model->ctx, &y, d->host);
  for (int k = 0; k < n; k++) {
    const float *src = d->host + (size_t)k * 3 * IMG_PIXELS;
    uint8_t *dst = out + (size_t)k * DYN_FRAME_BYTES;
    for (int c = 0; c < 3; c++)
      for (int i = 0; i < IMG_PIXELS; i++) {
        float v = src[c * IMG_PIXELS + i] * 255.0f + 0.5f;
        dst[3 * i + c] = v <= 0.0f ? 0 : v >= 255.0f ? 255 : (uint8_t)v;
      }
  }
}

/* ---- backward ---------------------------------------------------------------------------------
 */

static void leaky_bwd(cmp_ctx *ctx, const cmp_tensor *y, const cmp_tensor *dy,
                      const cmp_tensor *dx) {
  /* The forward ran in place: the output has the input's sign, which is all leaky ReLU needs. */
  cmp_act_bwd(ctx, CMP_ACT_LEAKY_RELU, y, y, dy, dx, LEAKY, 0.0f);
}

float dyn_loss(dyn_data *d, const uint8_t *targets) {
  REQ(d->dec_count > 0, "dyn_loss: nothing decoded");
  cmp_ctx *ctx = d->model->ctx;
  int n = d->dec_count * d->nr;
  cmp_tensor y = rows(&d->y, 0, n), target = rows(&d->target, 0, n);
  cmp_upload_u8_hwc(ctx, &target, 0, targets, PIX, 0.0f);
  cmp_mse_fwd(ctx, &y, &target, &d->loss);
  float loss;
  cmp_download(ctx, &d->loss, &loss);
  return loss;
}

/* The loss weights of the last decode's n frames (dyn_backward): 1, plus change_weight where the
 * true or the predicted frame differs from its rollout's last context frame by more than
 * DYN_CHANGE_THRESHOLD in some channel. Computed on the host (a few pixel compares per pixel) and
 * uploaded to d->weight. */
static void change_weights(dyn_data *d, const uint8_t *targets, float change_weight, int n) {
  cmp_ctx *ctx = d->model->ctx;
  int ni = d->ni, nr = d->nr;
  cmp_tensor y = rows(&d->y, 0, n), last = rows(&d->last, 0, ni), w = rows(&d->weight, 0, n);
  float *wt = d->host_w, *lastf = d->host_w + (size_t)n * IMG_PIXELS;
  cmp_download(ctx, &y, d->host);
  cmp_download(ctx, &last, lastf);
  const float thr = DYN_CHANGE_THRESHOLD;
  for (int k = 0; k < n; k++) {
    const float *yk = d->host + (size_t)k * 3 * IMG_PIXELS;
    const float *lk = lastf + (size_t)((k % nr) % ni) * 3 * IMG_PIXELS;
    const uint8_t *tk = targets + (size_t)k * DYN_FRAME_BYTES;
    float *wk = wt + (size_t)k * IMG_PIXELS;
    for (int i = 0; i < IMG_PIXELS; i++) {
      bool changed = false;
      for (int c = 0; c < 3 && !changed; c++) {
        float l = lk[c * IMG_PIXELS + i];
        changed = fabsf(yk[c * IMG_PIXELS + i] - l) > thr || fabsf(tk[3 * i + c] * PIX - l) > thr;
      }
      wk[i] = changed ? 1.0f + change_weight : 1.0f;
    }
  }
  cmp_upload(ctx, &w, wt);
}

float dyn_backward(dyn_data *d, const uint8_t *targets, float change_weight, float l1_delta) {
  dyn_model *m = d->model;
  cmp_ctx *ctx = m->ctx;
  REQ(d->train, "dyn_backward: the data was not created for training");
  REQ(d->dec_count > 0 && d->dec_first == 1 && d->dec_count == d->steps,
      "dyn_backward: the last decode must cover steps 1..%d", d->steps);
  int nr = d->nr, ni = d->ni, n = d->steps * nr;
  const nn_model *dc = m->decoder, *e = m->encoder, *cell = m->cell;

  /* Loss and its gradient. */
  float loss = dyn_loss(d, targets);
  cmp_tensor y = rows(&d->y, 0, n), target = rows(&d->target, 0, n), dy = rows(&d->dy, 0, n);
  REQ(l1_delta >= 0, "dyn_backward: l1_delta %g", l1_delta);
  if (l1_delta > 0) { /* Huber: clamp(d / delta, -1, 1) / numel, from the mse's 2 d / numel */
    float g1 = 1.0f / (float)cmp_numel(&y);
    cmp_mse_bwd(ctx, &y, &target, 0.5f / l1_delta, &dy, 0.0f);
    cmp_clamp(ctx, &dy, &dy, -g1, g1);
  } else
    cmp_mse_bwd(ctx, &y, &target, 1.0f, &dy, 0.0f);
  if (change_weight > 0) {
    change_weights(d, targets, change_weight, n);
    cmp_tensor w = rows(&d->weight, 0, n);
    cmp_binary(ctx, CMP_MUL, &dy, &w, &dy);
  }

  /* y = gen + mask * (W - gen). */
  cmp_tensor diff = rows(&d->diff, 0, n), mask = rows(&d->mask, 0, n), flow = rows(&d->flow, 0, n),
             ddiff = rows(&d->ddiff, 0, n), dmask = rows(&d->dmask, 0, n),
             dgen = rows(&d->dgen, 0, n), dflow = rows(&d->dflow, 0, n),
             dlogit = rows(&d->dlogit, 0, n), dout = rows(&d->dout, 0, n),
             last = rows(&d->last, 0, ni);
  cmp_binary_bwd(ctx, CMP_MUL, &diff, &mask, &dy, &ddiff, &dmask, 0.0f);
  cmp_binary(ctx, CMP_SUB, &dy, &ddiff, &dgen);
  if (m->cfg.blur_sigma > 0) { /* ddiff is the gradient of wb + m2 * (sharp - wb) */
    cmp_tensor lastb = rows(&d->lastb, 0, ni), sb = rows(&d->sb, 0, n), m2 = rows(&d->m2, 0, n),
               dsb = rows(&d->dsb, 0, n), dwb = rows(&d->dwb, 0, n), dm2 = rows(&d->dm2, 0, n),
               dlogit2 = rows(&d->dlogit2, 0, n);
    cmp_binary_bwd(ctx, CMP_MUL, &sb, &m2, &ddiff, &dsb, &dm2, 0.0f);
    cmp_binary(ctx, CMP_SUB, &ddiff, &dsb, &dwb);
    cmp_warp_bwd(ctx, &last, &flow, m->cfg.flow_scale, &dsb, &dflow, 0.0f);
    cmp_warp_bwd(ctx, &lastb, &flow, m->cfg.flow_scale, &dwb, &dflow, 1.0f);
    cmp_act_bwd(ctx, CMP_ACT_SIGMOID, NULL, &m2, &dm2, &dlogit2, 0.0f, 0.0f);
    cmp_copy_channels(ctx, &dlogit2, 0, &dout, OUT_C, 1, 0.0f);
  } else if (m->cfg.warp_prev) { /* step by step from each frame's (detached) source */
    for (int j = 0; j < d->steps; j++) {
      cmp_tensor fj = rows(&d->flow, j * nr, nr), dj = rows(&d->ddiff, j * nr, nr),
                 gj = rows(&d->dflow, j * nr, nr), sj = rows(&d->src, j * nr, nr);
      cmp_warp_bwd(ctx, j > 0 ? &sj : &last, &fj, m->cfg.flow_scale, &dj, &gj, 0.0f);
    }
  } else
    cmp_warp_bwd(ctx, &last, &flow, m->cfg.flow_scale, &ddiff, &dflow, 0.0f);
  cmp_act_bwd(ctx, CMP_ACT_SIGMOID, NULL, &mask, &dmask, &dlogit, 0.0f, 0.0f);
  cmp_copy_channels(ctx, &dflow, 0, &dout, 0, 2, 0.0f);
  cmp_copy_channels(ctx, &dlogit, 0, &dout, 2, 1, 0.0f);
  cmp_copy_channels(ctx, &dgen, 0, &dout, 3, 3, 0.0f);

  /* Decoder. */
  cmp_tensor p1 = rows(&d->p1, 0, n), p2 = rows(&d->p2, 0, n), hs = rows(&d->h, nr, n),
             dp2 = rows(&d->dp2, 0, n), dq2 = rows(&d->dq2, 0, n), dp1 = rows(&d->dp1, 0, n),
             dq1 = rows(&d->dq1, 0, n), dk16 = rows(&d->dk16, 0, ni), dk32 = rows(&d->dk32, 0, ni);
  cmp_convt2d_bwd_weight(ctx, &dout, &p2, GW(dc, 4), GB(dc, 4), CP(dc, 4), 1.0f);
  cmp_convt2d_bwd_data(ctx, &dout, W(dc, 4), &dp2, CP(dc, 4), 0.0f);
  leaky_bwd(ctx, &p2, &dp2, &dq2);
  cmp_reduce(ctx, &dq2, n / ni, ctx_inner(&dk32, ni), false, &dk32, 0.0f);
  cmp_convt2d_bwd_weight(ctx, &dq2, &p1, GW(dc, 2), GB(dc, 2), CP(dc, 2), 1.0f);
  cmp_convt2d_bwd_data(ctx, &dq2, W(dc, 2), &dp1, CP(dc, 2), 0.0f);
  leaky_bwd(ctx, &p1, &dp1, &dq1);
  cmp_reduce(ctx, &dq1, n / ni, ctx_inner(&dk16, ni), false, &dk16, 0.0f);
  cmp_tensor dhs = rows(&d->dh, nr, n), dh0r = rows(&d->dh, 0, nr);
  if (m->cfg.latent_hw == 8) {
    cmp_convt2d_bwd_weight(ctx, &dq1, &hs, GW(dc, 0), GB(dc, 0), CP(dc, 0), 1.0f);
    cmp_convt2d_bwd_data(ctx, &dq1, W(dc, 0), &dhs, CP(dc, 0), 0.0f);
  } else {
    cmp_conv2d_bwd_weight(ctx, &dq1, &hs, GW(dc, 0), GB(dc, 0), CP(dc, 0), 1.0f);
    cmp_conv2d_bwd_data(ctx, &dq1, W(dc, 0), &dhs, CP(dc, 0), 0.0f);
  }
  cmp_fill(ctx, &dh0r, 0.0f);

  /* The cell, backwards through time: dh holds the full gradient of h_(t+1) when step t runs. */
  cmp_tensor dz = rows(&d->dz, 0, nr), dv = rows(&d->dv, 0, nr), du = rows(&d->du, 0, nr),
             dfs = rows(&d->dfs, 0, nr), dfb = rows(&d->dfb, 0, nr), dfa = rows(&d->dfa, 0, nr);
  for (int t = d->steps - 1; t >= 0; t--) {
    cmp_tensor gh = rows(&d->dh, (t + 1) * nr, nr), dht = rows(&d->dh, t * nr, nr),
               ht = rows(&d->h, t * nr, nr), at = rows(&d->act, t * nr, nr),
               u = rows(&d->u, t * nr, nr), z = rows(&d->z, t * nr, nr),
               fs = rows(&d->fs, t * nr, nr), fb = rows(&d->fb, t * nr, nr);
    cmp_conv2d_bwd_weight(ctx, &gh, &z, GW(cell, 2), GB(cell, 2), CP(cell, 2), 1.0f);
    cmp_conv2d_bwd_data(ctx, &gh, W(cell, 2), &dz, CP(cell, 2), 0.0f);
    leaky_bwd(ctx, &z, &dz, &dv);
    cmp_binary_bwd(ctx, CMP_ADD, &z, &fb, &dv, NULL, &dfb, 0.0f);
    cmp_binary_bwd(ctx, CMP_MUL, &u, &fs, &dv, &du, &dfs, 0.0f);
    cmp_copy_channels(ctx, &dfs, 0, &dfa, 0, m->cfg.latent, 0.0f);
    cmp_copy_channels(ctx, &dfb, 0, &dfa, m->cfg.latent, m->cfg.latent, 0.0f);
    cmp_linear_bwd_weight(ctx, &dfa, &at, GW(m->film, 0), GB(m->film, 0), 1.0f);
    cmp_conv2d_bwd_weight(ctx, &du, &ht, GW(cell, 0), GB(cell, 0), CP(cell, 0), 1.0f);
    cmp_conv2d_bwd_data(ctx, &du, W(cell, 0), &dht, CP(cell, 0), 1.0f);
    cmp_axpby(ctx, &gh, &dht, 1.0f, 1.0f);
  }

  /* h_0 of every rollout is its context's latent. */
  cmp_tensor dh0 = rows(&d->dh0, 0, ni);
  cmp_reduce(ctx, &dh0r, nr / ni, ctx_inner(&dh0, ni), false, &dh0, 0.0f);

  /* Encoder and skips. */
  cmp_tensor x = rows(&d->x, 0, ni), s32 = rows(&d->s32, 0, ni), s16 = rows(&d->s16, 0, ni),
             e8 = rows(&d->e8, 0, ni), de8 = rows(&d->de8, 0, ni), dq8 = rows(&d->dq8, 0, ni),
             ds16 = rows(&d->ds16, 0, ni), dq16 = rows(&d->dq16, 0, ni),
             ds32 = rows(&d->ds32, 0, ni), dq32 = rows(&d->dq32, 0, ni);
  if (m->cfg.latent_hw == 8) {
    cmp_conv2d_bwd_weight(ctx, &dh0, &e8, GW(e, 6), GB(e, 6), CP(e, 6), 1.0f);
    cmp_conv2d_bwd_data(ctx, &dh0, W(e, 6), &de8, CP(e, 6), 0.0f);
    leaky_bwd(ctx, &e8, &de8, &dq8);
    cmp_conv2d_bwd_weight(ctx, &dq8, &s16, GW(e, 4), GB(e, 4), CP(e, 4), 1.0f);
    cmp_conv2d_bwd_data(ctx, &dq8, W(e, 4), &ds16, CP(e, 4), 0.0f);
  } else {
    cmp_conv2d_bwd_weight(ctx, &dh0, &s16, GW(e, 4), GB(e, 4), CP(e, 4), 1.0f);
    cmp_conv2d_bwd_data(ctx, &dh0, W(e, 4), &ds16, CP(e, 4), 0.0f);
  }
  cmp_conv2d_bwd_weight(ctx, &dk16, &s16, GW(m->skip16, 0), GB(m->skip16, 0), CP(m->skip16, 0),
                        1.0f);
  cmp_conv2d_bwd_data(ctx, &dk16, W(m->skip16, 0), &ds16, CP(m->skip16, 0), 1.0f);
  leaky_bwd(ctx, &s16, &ds16, &dq16);
  cmp_conv2d_bwd_weight(ctx, &dq16, &s32, GW(e, 2), GB(e, 2), CP(e, 2), 1.0f);
  cmp_conv2d_bwd_data(ctx, &dq16, W(e, 2), &ds32, CP(e, 2), 0.0f);
  cmp_conv2d_bwd_weight(ctx, &dk32, &s32, GW(m->skip32, 0), GB(m->skip32, 0), CP(m->skip32, 0),
                        1.0f);
  cmp_conv2d_bwd_data(ctx, &dk32, W(m->skip32, 0), &ds32, CP(m->skip32, 0), 1.0f);
  leaky_bwd(ctx, &s32, &ds32, &dq32);
  cmp_conv2d_bwd_weight(ctx, &dq32, &x, GW(e, 0), GB(e, 0), CP(e, 0), 1.0f);
  return loss;
}
