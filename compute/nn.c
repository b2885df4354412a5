/* Layers, models, activations and the backward tape (see nn.h). */
#include "nn.h"

#include "cmp_backend.h" /* cmp_die */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQ(cond, ...)                                                                             \
  do {                                                                                             \
    if (!(cond)) cmp_die(__VA_ARGS__);                                                             \
  } while (0)

/* ---- building -------------------------------------------------------------------------------- */

nn_model *nn_model_create(cmp_ctx *ctx, const char *prefix, int in_c, int in_h, int in_w) {
  REQ(in_c > 0 && in_h > 0 && in_w > 0, "nn_model_create: input [%d, %d, %d]", in_c, in_h, in_w);
  nn_model *m = calloc(1, sizeof *m);
  REQ(m, "nn_model_create: out of memory");
  m->ctx = ctx;
  snprintf(m->prefix, sizeof m->prefix, "%s", prefix ? prefix : "");
  m->in_c = in_c, m->in_h = in_h, m->in_w = in_w;
  return m;
}

void nn_model_out_shape(const nn_model *m, int *c, int *h, int *w) {
  if (m->nlayers == 0)
    *c = m->in_c, *h = m->in_h, *w = m->in_w;
  else {
    const nn_layer *l = &m->layers[m->nlayers - 1];
    *c = l->out_c, *h = l->out_h, *w = l->out_w;
  }
}

int nn_model_out_size(const nn_model *m) {
  int c, h, w;
  nn_model_out_shape(m, &c, &h, &w);
  return c * h * w;
}

static nn_layer *new_layer(nn_model *m, nn_layer_kind kind, const char *what) {
  REQ(!m->finished, "%s: model %s is finished", what, m->prefix);
  REQ(m->nlayers < NN_MAX_LAYERS, "%s: more than %d layers in %s", what, NN_MAX_LAYERS, m->prefix);
  nn_layer *l = &m->layers[m->nlayers];
  memset(l, 0, sizeof *l);
  l->kind = kind;
  nn_model_out_shape(m, &l->in_c, &l->in_h, &l->in_w);
  l->out_c = l->in_c, l->out_h = l->in_h, l->out_w = l->in_w;
  l->weight = l->bias = l->run_mean = l->run_var = -1;
  return l;
}

static int add_tensor(nn_model *m, int layer, const char *leaf, int ndim, const int *shape,
                      bool trainable, int fan_in, int init) {
  REQ(m->ntensors < NN_MAX_TENSORS, "nn: more than %d tensors in %s", NN_MAX_TENSORS, m->prefix);
  nn_named *t = &m->tensors[m->ntensors];
  memset(t, 0, sizeof *t);
  int len = m->prefix[0] ? snprintf(t->name, sizeof t->name, "%s.%d.%s", m->prefix, layer, leaf)
                         : snprintf(t->name, sizeof t->name, "%d.%s", layer, leaf);
  REQ(len > 0 && (size_t)len < sizeof t->name, "nn: name %s.%d.%s too long", m->prefix, layer,
      leaf);
  t->ndim = ndim;
  for (int i = 0; i < 4; i++) t->shape[i] = i < ndim ? shape[i] : 1;
  t->trainable = trainable;
  t->fan_in = fan_in;
  t->init = init;
  return m->ntensors++;
}

enum { INIT_KAIMING, INIT_FAN_IN_BIAS, INIT_ONES, INIT_ZEROS };

int nn_add_conv(nn_model *m, int out_c, int k, int stride, int pad) {
  int idx = m->nlayers;
  nn_layer *l = new_layer(m, NN_CONV, "nn_add_conv");
  l->conv = (cmp_conv_params){k, k, stride, stride, pad, pad};
  REQ(out_c > 0 && k > 0 && stride > 0 && pad >= 0 && l->in_h + 2 * pad >= k &&
          l->in_w + 2 * pad >= k,
      "nn_add_conv: %d channels, kernel %d, stride %d, padding %d on input [%d, %d, %d]", out_c, k,
      stride, pad, l->in_c, l->in_h, l->in_w);
  l->out_c = out_c;
  l->out_h = cmp_conv_out(l->in_h, k, stride, pad);
  l->out_w = cmp_conv_out(l->in_w, k, stride, pad);
  int fan_in = l->in_c * k * k;
  l->weight =
      add_tensor(m, idx, "weight", 4, (int[]){out_c, l->in_c, k, k}, true, fan_in, INIT_KAIMING);
  l->bias = add_tensor(m, idx, "bias", 1, (int[]){out_c}, true, fan_in, INIT_FAN_IN_BIAS);
  m->nlayers++;
  return idx;
}

int nn_add_convt(nn_model *m, int out_c, int k, int stride, int pad) {
  int idx = m->nlayers;
  nn_layer *l = new_layer(m, NN_CONVT, "nn_add_convt");
  l->conv = (cmp_conv_params){k, k, stride, stride, pad, pad};
  l->out_c = out_c;
  l->out_h = cmp_convt_out(l->in_h, k, stride, pad);
  l->out_w = cmp_convt_out(l->in_w, k, stride, pad);
  REQ(out_c > 0 && k > 0 && stride > 0 && pad >= 0 && l->out_h > 0 && l->out_w > 0 &&
          cmp_conv_out(l->out_h, k, stride, pad) == l->in_h &&
          cmp_conv_out(l->out_w, k, stride, pad) == l->in_w,
      "nn_add_convt: %d channels, kernel %d, stride %d, padding %d on input [%d, %d, %d]", out_c, k,
      stride, pad, l->in_c, l->in_h, l->in_w);
  /* PyTorch computes fan_in from weight.size(1), which is out_c for a transposed convolution. */
  int fan_in = out_c * k * k;
  l->weight =
      add_tensor(m, idx, "weight", 4, (int[]){l->in_c, out_c, k, k}, true, fan_in, INIT_KAIMING);
  l->bias = add_tensor(m, idx, "bias", 1, (int[]){out_c}, true, fan_in, INIT_FAN_IN_BIAS);
  m->nlayers++;
  return idx;
}

static int add_linear(nn_model *m, nn_layer_kind kind, int extra, int out) {
  int idx = m->nlayers;
  nn_layer *l = new_layer(m, kind, "nn_add_linear");
  int in = l->in_c * l->in_h * l->in_w;
  REQ(out > 0 && extra >= 0, "nn_add_linear: %d outputs, %d extra inputs", out, extra);
  l->extra = extra;
  l->out_c = out, l->out_h = 1, l->out_w = 1;
  l->weight =
      add_tensor(m, idx, "weight", 2, (int[]){out, in + extra}, true, in + extra, INIT_KAIMING);
  l->bias = add_tensor(m, idx, "bias", 1, (int[]){out}, true, in + extra, INIT_FAN_IN_BIAS);
  m->nlayers++;
  return idx;
}

int nn_add_linear(nn_model *m, int out) {
  return add_linear(m, NN_LINEAR, 0, out);
}

int nn_add_linear_cat(nn_model *m, int extra, int out) {
  REQ(m->nlayers == 0, "nn_add_linear_cat: must be the first layer of %s", m->prefix);
  REQ(extra > 0, "nn_add_linear_cat: %d extra inputs", extra);
  return add_linear(m, NN_LINEAR_CAT, extra, out);
}

int nn_add_bn(nn_model *m) {
  REQ(m->nlayers > 0, "nn_add_bn: batch norm cannot be the first layer of %s", m->prefix);
  int idx = m->nlayers;
  nn_layer *l = new_layer(m, NN_BN, "nn_add_bn");
  l->momentum = 0.1f;
  l->eps = 1e-5f;
  int c = l->in_c;
  l->weight = add_tensor(m, idx, "weight", 1, (int[]){c}, true, 0, INIT_ONES);
  l->bias = add_tensor(m, idx, "bias", 1, (int[]){c}, true, 0, INIT_ZEROS);
  l->run_mean = add_tensor(m, idx, "running_mean", 1, (int[]){c}, false, 0, INIT_ZEROS);
  l->run_var = add_tensor(m, idx, "running_var", 1, (int[]){c}, false, 0, INIT_ONES);
  m->nlayers++;
  return idx;
}

int nn_add_act(nn_model *m, cmp_act act, float alpha) {
  REQ(m->nlayers > 0, "nn_add_act: an activation cannot be the first layer (it runs in place)");
  REQ(act != CMP_ACT_LEAKY_RELU || alpha > 0,
      "nn_add_act: leaky slope %g must be positive (backward reads the sign of the output)", alpha);
  int idx = m->nlayers;
  nn_layer *l = new_layer(m, NN_ACT, "nn_add_act");
  l->act = act;
  l->alpha = alpha;
  m->nlayers++;
  return idx;
}

static size_t round_up(size_t x) {
  return (x + CMP_ALIGN_FLOATS - 1) / CMP_ALIGN_FLOATS * CMP_ALIGN_FLOATS;
}

static size_t named_numel(const nn_named *t) {
  return (size_t)t->shape[0] * t->shape[1] * t->shape[2] * t->shape[3];
}

/* A view of `len` floats at offset `off` of a flat tensor, shaped like the named tensor. */
static cmp_tensor view_of(const cmp_tensor *flat, size_t off, const nn_named *t) {
  cmp_tensor v = {flat->buf, flat->off + off, 1, 1, 1, 1};
  if (t->ndim == 1)
    v.c = t->shape[0];
  else
    v.n = t->shape[0], v.c = t->shape[1], v.h = t->shape[2], v.w = t->shape[3];
  return v;
}

/* Stable 32-bit FNV-1a of a name: each tensor's Philox stream. */
static uint32_t name_stream(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
  return h;
}

void nn_model_init(nn_model *m, uint64_t seed) {
  for (int i = 0; i < m->ntensors; i++) {
    nn_named *t = &m->tensors[i];
    float bound = t->fan_in > 0 ? 1.0f / sqrtf((float)t->fan_in) : 0.0f;
    switch (t->init) {
      case INIT_KAIMING:
      case INIT_FAN_IN_BIAS:
        cmp_rng_uniform(m->ctx, &t->value, seed, name_stream(t->name), 0, -bound, bound);
        break;
      case INIT_ONES:
        cmp_fill(m->ctx, &t->value, 1.0f);
        break;
      default:
        cmp_fill(m->ctx, &t->value, 0.0f);
        break;
    }
  }
  for (int i = 0; i < m->nlayers; i++) m->layers[i].num_batches_tracked = 0;
}

void nn_model_finish(nn_model *m, bool with_grads, uint64_t seed) {
  REQ(!m->finished, "nn_model_finish: %s finished twice", m->prefix);
  REQ(m->nlayers > 0, "nn_model_finish: %s has no layers", m->prefix);
  size_t np = 0, nb = 0;
  for (int i = 0; i < m->ntensors; i++) {
    if (m->tensors[i].trainable)
      np += round_up(named_numel(&m->tensors[i]));
    else
      nb += round_up(named_numel(&m->tensors[i]));
  }
  m->arena = cmp_arena_create(m->ctx, CMP_ARENA_WEIGHTS, (np * (with_grads ? 2 : 1) + nb) + 64);
  if (np) m->params = cmp_arena_tensor(m->arena, 1, (int)np, 1, 1);
  if (np && with_grads) m->grads = cmp_arena_tensor(m->arena, 1, (int)np, 1, 1);
  if (nb) m->buffers = cmp_arena_tensor(m->arena, 1, (int)nb, 1, 1);
  size_t op = 0, ob = 0;
  for (int i = 0; i < m->ntensors; i++) {
    nn_named *t = &m->tensors[i];
    if (t->trainable) {
      t->value = view_of(&m->params, op, t);
      if (with_grads) t->grad = view_of(&m->grads, op, t);
      op += round_up(named_numel(t));
    } else {
      t->value = view_of(&m->buffers, ob, t);
      ob += round_up(named_numel(t));
    }
  }
  m->with_grads = with_grads;
  m->finished = true;
  nn_model_init(m, seed);
}

void nn_model_destroy(nn_model *m) {
  if (!m) return;
  cmp_arena_destroy(m->arena);
  free(m);
}

size_t nn_model_param_count(const nn_model *m) {
  size_t n = 0;
  for (int i = 0; i < m->ntensors; i++)
    if (m->tensors[i].trainable) n += named_numel(&m->tensors[i]);
  return n;
}

const nn_named *nn_model_find(const nn_model *m, const char *name) {
  for (int i = 0; i < m->ntensors; i++)
    if (!strcmp(m->tensors[i].name, name)) return &m->tensors[i];
  return NULL;
}

/* ---- activations ----------------------------------------------------------------------------- */

nn_data *nn_data_create(const nn_model *m, int max_batch, int max_in_batch) {
  REQ(m->finished, "nn_data_create: model %s is not finished", m->prefix);
  REQ(max_batch > 0 && max_in_batch > 0, "nn_data_create: batch %d, input batch %d", max_batch,
      max_in_batch);
  nn_data *d = calloc(1, sizeof *d);
  REQ(d, "nn_data_create: out of memory");
  d->model = m;
  d->max_batch = max_batch;
  d->arena = cmp_arena_create(m->ctx, CMP_ARENA_ACTIVATIONS, 1u << 20);
  for (int i = 0; i < m->nlayers; i++) {
    const nn_layer *l = &m->layers[i];
    if (l->kind == NN_ACT)
      d->out[i] = d->out[i - 1]; /* in place */
    else
      d->out[i] = cmp_arena_tensor(d->arena, max_batch, l->out_c, l->out_h, l->out_w);
    d->dout[i] = cmp_arena_tensor(d->arena, max_batch, l->out_c, l->out_h, l->out_w);
    if (l->kind == NN_BN) {
      d->mean[i] = cmp_arena_tensor(d->arena, 1, l->out_c, 1, 1);
      d->invstd[i] = cmp_arena_tensor(d->arena, 1, l->out_c, 1, 1);
    }
    if (l->kind == NN_LINEAR_CAT) { /* the x part of the first layer, before any repeat */
      d->cat_tmp = cmp_arena_tensor(d->arena, max_in_batch, l->out_c, 1, 1);
      d->cat_dtmp = cmp_arena_tensor(d->arena, max_in_batch, l->out_c, 1, 1);
    }
  }
  return d;
}

void nn_data_destroy(nn_data *d) {
  if (!d) return;
  cmp_arena_destroy(d->arena);
  free(d);
}

/* ---- forward --------------------------------------------------------------------------------- */

static cmp_tensor rows_of(const cmp_tensor *t, int n) {
  return cmp_rows(*t, 0, n);
}

/* A flat view of t starting `skip` floats in (the extra columns of a [out, in + extra] weight). */
static cmp_tensor skip_view(const cmp_tensor *t, size_t skip) {
  cmp_tensor v = {t->buf, t->off + skip, 1, (int)(cmp_numel(t) - skip), 1, 1};
  return v;
}

static void linear_cat_fwd(nn_data *d, const nn_layer *l, const cmp_tensor *x,
                           const cmp_tensor *extra, int repeat, const cmp_tensor *y) {
  const nn_model *m = d->model;
  cmp_ctx *ctx = m->ctx;
  const cmp_tensor *w = &m->tensors[l->weight].value, *b = &m->tensors[l->bias].value;
  int nin = x->n, nout = nin * repeat, f = l->in_c * l->in_h * l->in_w, e = l->extra,
      out = l->out_c;
  /* t = x W_x^T + b on the rows of x, then repeated, then + extra W_e^T. */
  cmp_tensor t = repeat == 1 ? *y : rows_of(&d->cat_tmp, nin);
  cmp_broadcast(ctx, b, nin, out, false, &t, 0.0f);
  cmp_gemm(ctx, false, true, nin, out, f, 1.0f, x, f, w, f + e, 1.0f, &t, out);
  if (repeat > 1) cmp_broadcast(ctx, &t, repeat, out, false, y, 0.0f);
  cmp_tensor we = skip_view(w, (size_t)f);
  cmp_gemm(ctx, false, true, nout, out, e, 1.0f, extra, e, &we, f + e, 1.0f, y, out);
}

/* Whether layer l is an activation another op can carry out (cmp_fused_act): ReLU or leaky ReLU,
 * which the convolution and linear forwards store directly and the batch-norm backward takes the
 * gradient back through. */
static bool fusable_act(const nn_layer *l, cmp_fused_act *out) {
  if (l->kind != NN_ACT || (l->act != CMP_ACT_RELU && l->act != CMP_ACT_LEAKY_RELU)) return false;
  *out = (cmp_fused_act){l->act, l->alpha};
  return true;
}

static const cmp_tensor *forward(nn_data *d, const cmp_tensor *x, const cmp_tensor *extra,
                                 int repeat, bool train) {
  nn_model *m = (nn_model *)d->model; /* batch norm running statistics are updated */
  cmp_ctx *ctx = m->ctx;
  size_t in_size = (size_t)m->in_c * m->in_h * m->in_w;
  REQ(cmp_sample_size(x) == in_size, "nn_forward %s: input %dx%dx%d per sample, model wants %zu",
      m->prefix, x->c, x->h, x->w, in_size);
  int nout = x->n * repeat;
  REQ(nout <= d->max_batch, "nn_forward %s: batch %d over the allocated %d", m->prefix, nout,
      d->max_batch);
  REQ(repeat == 1 || (d->cat_tmp.buf && x->n <= d->cat_tmp.n),
      "nn_forward %s: repeat %d with an input batch %d over the allocated one", m->prefix, repeat,
      x->n);
  d->batch = nout;
  d->in_batch = x->n;
  d->repeat = repeat;
  d->train = train;
  d->x = cmp_reshape(*x, x->n, m->in_c, m->in_h, m->in_w);
  if (extra) d->extra = *extra;
  for (int i = 0; i < m->nlayers; i++) {
    nn_layer *l = &m->layers[i];
    cmp_tensor in = i == 0 ? d->x : rows_of(&d->out[i - 1], nout);
    cmp_tensor y = rows_of(&d->out[i], nout);
    const nn_named *w = l->weight >= 0 ? &m->tensors[l->weight] : NULL;
    const nn_named *b = l->bias >= 0 ? &m->tensors[l->bias] : NULL;
    /* A ReLU after a convolution or a linear layer runs in place on its output: the layer stores
     * the activated values itself, and the activation layer is skipped. */
    cmp_fused_act fused;
    const cmp_fused_act *act = (l->kind == NN_CONV || l->kind == NN_LINEAR) && i + 1 < m->nlayers &&
                                       fusable_act(&m->layers[i + 1], &fused)
                                   ? &fused
                                   : NULL;
    switch (l->kind) {
      case NN_CONV:
        cmp_conv2d_fwd_act(ctx, &in, &w->value, &b->value, &y, &l->conv, act);
        break;
      case NN_CONVT:
        cmp_convt2d_fwd(ctx, &in, &w->value, &b->value, &y, &l->conv);
        break;
      case NN_LINEAR:
        cmp_linear_fwd_act(ctx, &in, &w->value, &b->value, &y, act);
        break;
      case NN_LINEAR_CAT:
        linear_cat_fwd(d, l, &in, extra, repeat, &y);
        break;
      case NN_BN: {
        const cmp_tensor *rm = &m->tensors[l->run_mean].value, *rv = &m->tensors[l->run_var].value;
        if (train) {
          cmp_bn_fwd_train(ctx, &in, &w->value, &b->value, rm, rv, l->momentum, l->eps, &y,
                           &d->mean[i], &d->invstd[i]);
          l->num_batches_tracked++;
        } else
          cmp_bn_fwd_eval(ctx, &in, &w->value, &b->value, rm, rv, l->eps, &y);
      } break;
      case NN_ACT:
        cmp_act_fwd(ctx, l->act, &in, &y, l->alpha);
        break;
    }
    if (act) i++; /* the activation ran with the layer */
  }
  d->y = rows_of(&d->out[m->nlayers - 1], nout);
  return &d->y;
}

const cmp_tensor *nn_forward(nn_data *d, const cmp_tensor *x, bool train) {
  REQ(d->model->layers[0].kind != NN_LINEAR_CAT,
      "nn_forward: %s starts with a concatenation; use nn_forward_cat", d->model->prefix);
  return forward(d, x, NULL, 1, train);
}

const cmp_tensor *nn_forward_cat(nn_data *d, const cmp_tensor *x, const cmp_tensor *extra,
                                 int repeat, bool train) {
  const nn_layer *l = &d->model->layers[0];
  REQ(l->kind == NN_LINEAR_CAT, "nn_forward_cat: %s does not start with a concatenation",
      d->model->prefix);
  REQ(repeat >= 1 && extra && extra->n == x->n * repeat && (int)cmp_sample_size(extra) == l->extra,
      "nn_forward_cat %s: extra input [%d, %zu] for %d x %d rows of %d", d->model->prefix,
      extra ? extra->n : 0, extra ? cmp_sample_size(extra) : 0, x->n, repeat, l->extra);
  return forward(d, x, extra, repeat, train);
}

const cmp_tensor *nn_output(const nn_data *d) {
  return &d->y;
}

/* ---- backward -------------------------------------------------------------------------------- */

static void linear_cat_bwd(nn_data *d, const nn_layer *l, const cmp_tensor *gy, bool param_grads,
                           bool bias_done, const cmp_tensor *dx, float dx_beta,
                           const cmp_tensor *dextra, float dextra_beta) {
  nn_model *m = (nn_model *)d->model;
  cmp_ctx *ctx = m->ctx;
  const nn_named *w = &m->tensors[l->weight], *b = &m->tensors[l->bias];
  int nin = d->in_batch, nout = d->batch, f = l->in_c * l->in_h * l->in_w, e = l->extra,
      out = l->out_c;
  /* The x part saw each row of x `repeat` times: its gradient sums those rows. */
  cmp_tensor dt = *gy;
  if (d->repeat > 1) {
    dt = rows_of(&d->cat_dtmp, nin);
    cmp_reduce(ctx, gy, d->repeat, out, false, &dt, 0.0f);
  }
  cmp_tensor x = cmp_reshape(d->x, nin, f, 1, 1);
  if (param_grads) {
    cmp_tensor dwe = skip_view(&w->grad, (size_t)f);
    cmp_gemm(ctx, true, false, out, f, nin, 1.0f, &dt, out, &x, f, 1.0f, &w->grad, f + e);
    cmp_gemm(ctx, true, false, out, e, nout, 1.0f, gy, out, &d->extra, e, 1.0f, &dwe, f + e);
    if (!bias_done) cmp_reduce(ctx, &dt, nin, out, false, &b->grad, 1.0f);
  }
  if (dx)
    cmp_gemm(ctx, false, false, nin, f, out, 1.0f, &dt, out, &w->value, f + e, dx_beta, dx, f);
  if (dextra) {
    cmp_tensor we = skip_view(&w->value, (size_t)f);
    cmp_gemm(ctx, false, false, nout, e, out, 1.0f, gy, out, &we, f + e, dextra_beta, dextra, e);
  }
}

void nn_backward(nn_data *d, const cmp_tensor *dy, bool param_grads, const cmp_tensor *dx,
                 float dx_beta, const cmp_tensor *dextra, float dextra_beta) {
  nn_model *m = (nn_model *)d->model;
  cmp_ctx *ctx = m->ctx;
  int n = d->batch;
  REQ(d->batch > 0, "nn_backward %s: no forward to go back through", m->prefix);
  REQ(!param_grads || m->with_grads, "nn_backward %s: the model has no gradients", m->prefix);
  REQ(cmp_numel(dy) == (size_t)n * nn_model_out_size(m),
      "nn_backward %s: dy has %zu elements, the output %zu", m->prefix, cmp_numel(dy),
      (size_t)n * nn_model_out_size(m));
  REQ(!dx || cmp_numel(dx) == cmp_numel(&d->x), "nn_backward %s: dx has %zu elements, x %zu",
      m->prefix, dx ? cmp_numel(dx) : 0, cmp_numel(&d->x));
  REQ(!dextra || m->layers[0].kind == NN_LINEAR_CAT, "nn_backward %s: no extra input", m->prefix);
  int bias_done = -1; /* a linear layer whose bias gradient a batch norm's backward added */
  for (int i = m->nlayers - 1; i >= 0; i--) {
    const nn_layer *l = &m->layers[i];
    const nn_named *w = l->weight >= 0 ? &m->tensors[l->weight] : NULL;
    const nn_named *b = l->bias >= 0 ? &m->tensors[l->bias] : NULL;
    cmp_tensor gy = i == m->nlayers - 1 ? cmp_reshape(*dy, n, l->out_c, l->out_h, l->out_w)
                                        : rows_of(&d->dout[i], n);
    cmp_tensor in = i == 0 ? d->x : rows_of(&d->out[i - 1], n);
    /* A batch norm whose input is a ReLU's output (run in place) takes the gradient back through
     * the ReLU too (cmp_bn_bwd_ex), and the ReLU layer is skipped. */
    cmp_fused_act fused;
    const cmp_fused_act *act =
        l->kind == NN_BN && i >= 1 && fusable_act(&m->layers[i - 1], &fused) ? &fused : NULL;
    /* Where the input gradient goes: the output gradient of the layer before (before the fused
     * activation), or the caller's dx. */
    int below = act ? i - 1 : i;
    cmp_tensor gx_store;
    const cmp_tensor *gx = NULL;
    float beta = 0.0f;
    if (below > 0)
      gx_store = rows_of(&d->dout[below - 1], n), gx = &gx_store;
    else if (dx)
      gx_store = cmp_reshape(*dx, d->x.n, d->x.c, d->x.h, d->x.w), gx = &gx_store, beta = dx_beta;
    switch (l->kind) {
      case NN_CONV:
        if (param_grads) cmp_conv2d_bwd_weight(ctx, &gy, &in, &w->grad, &b->grad, &l->conv, 1.0f);
        if (gx) cmp_conv2d_bwd_data(ctx, &gy, &w->value, gx, &l->conv, beta);
        break;
      case NN_CONVT:
        if (param_grads) cmp_convt2d_bwd_weight(ctx, &gy, &in, &w->grad, &b->grad, &l->conv, 1.0f);
        if (gx) cmp_convt2d_bwd_data(ctx, &gy, &w->value, gx, &l->conv, beta);
        break;
      case NN_LINEAR:
        if (param_grads)
          cmp_linear_bwd_weight(ctx, &gy, &in, &w->grad, bias_done == i ? NULL : &b->grad, 1.0f);
        if (gx) cmp_linear_bwd_data(ctx, &gy, &w->value, gx, beta);
        break;
      case NN_LINEAR_CAT:
        linear_cat_bwd(d, l, &gy, param_grads, bias_done == i, dx, dx_beta, dextra, dextra_beta);
        break;
      case NN_BN:
        REQ(d->train, "nn_backward %s: batch norm layer %d ran in eval mode", m->prefix, i);
        if (!gx && !param_grads) break;
        /* gx is NULL only when nothing below wants a gradient; cmp_bn_bwd_ex computes dx anyway,
         * so give it the layer's own scratch. */
        if (!gx) gx_store = rows_of(&d->dout[i - 1], n), gx = &gx_store, beta = 0.0f;
        /* The ReLU's input gradient is the output gradient of a linear layer below it: the
         * batch norm's walk over the columns sums it into that layer's bias gradient too. */
        const nn_named *lb = NULL;
        if (param_grads && act && below > 0 && beta == 0.0f &&
            (m->layers[below - 1].kind == NN_LINEAR ||
             m->layers[below - 1].kind == NN_LINEAR_CAT) &&
            m->layers[below - 1].bias >= 0) {
          lb = &m->tensors[m->layers[below - 1].bias];
          bias_done = below - 1;
        }
        cmp_bn_bwd_ex(ctx, &in, &gy, &w->value, &d->mean[i], &d->invstd[i], gx,
                      param_grads ? &w->grad : NULL, param_grads ? &b->grad : NULL,
                      lb ? &lb->grad : NULL, beta, 1.0f, act);
        break;
      case NN_ACT:
        if (gx) /* the forward ran in place: the output carries the sign the derivative needs */
          cmp_act_bwd(ctx, l->act, &in, &in, &gy, gx, l->alpha, beta);
        break;
    }
    if (act) i--; /* the activation went back with the batch norm */
  }
}

/* ---- parameter sets -------------------------------------------------------------------------- */

void nn_zero_grad(nn_model *m) {
  REQ(m->with_grads, "nn_zero_grad: %s has no gradients", m->prefix);
  if (m->grads.buf) cmp_fill(m->ctx, &m->grads, 0.0f);
}

bool nn_same_arch(const nn_model *a, const nn_model *b) {
  if (a->nlayers != b->nlayers || a->ntensors != b->ntensors || a->in_c != b->in_c ||
      a->in_h != b->in_h || a->in_w != b->in_w)
    return false;
  for (int i = 0; i < a->nlayers; i++) {
    const nn_layer *x = &a->layers[i], *y = &b->layers[i];
    if (x->kind != y->kind || x->out_c != y->out_c || x->out_h != y->out_h ||
        x->out_w != y->out_w || x->extra != y->extra || memcmp(&x->conv, &y->conv, sizeof x->conv))
      return false;
  }
  return true;
}

void nn_copy(nn_model *dst, const nn_model *src) {
  REQ(nn_same_arch(dst, src), "nn_copy: %s and %s differ in architecture", dst->prefix,
      src->prefix);
  if (src->params.buf) cmp_axpby(dst->ctx, &src->params, &dst->params, 1.0f, 0.0f);
  if (src->buffers.buf) cmp_axpby(dst->ctx, &src->buffers, &dst->buffers, 1.0f, 0.0f);
  for (int i = 0; i < src->nlayers; i++)
    dst->layers[i].num_batches_tracked = src->layers[i].num_batches_tracked;
}

void nn_polyak(nn_model *dst, const nn_model *src, float tau, bool copy_buffers) {
  REQ(nn_same_arch(dst, src), "nn_polyak: %s and %s differ in architecture", dst->prefix,
      src->prefix);
  if (src->params.buf) cmp_polyak(dst->ctx, &dst->params, &src->params, tau);
  if (copy_buffers && src->buffers.buf)
    cmp_axpby(dst->ctx, &src->buffers, &dst->buffers, 1.0f, 0.0f);
}

nn_adam *nn_adam_create(const nn_model *model, float lr, float b1, float b2, float eps) {
  REQ(model->with_grads && model->params.buf, "nn_adam_create: %s has no gradients", model->prefix);
  nn_adam *a = calloc(1, sizeof *a);
  REQ(a, "nn_adam_create: out of memory");
  a->arena = cmp_arena_create(model->ctx, CMP_ARENA_WEIGHTS, 2 * cmp_numel(&model->params) + 64);
  a->m = cmp_arena_tensor(a->arena, 1, model->params.c, 1, 1);
  a->v = cmp_arena_tensor(a->arena, 1, model->params.c, 1, 1);
  a->lr = lr, a->b1 = b1, a->b2 = b2, a->eps = eps;
  return a;
}

void nn_adam_destroy(nn_adam *a) {
  if (!a) return;
  cmp_arena_destroy(a->arena);
  free(a);
}

void nn_adam_step(nn_adam *a, nn_model *model) {
  REQ(cmp_numel(&a->m) == cmp_numel(&model->params), "nn_adam_step: moments of another model");
  a->t++;
  cmp_adam_step(model->ctx, &model->params, &model->grads, &a->m, &a->v, a->lr, a->b1, a->b2,
                a->eps, a->t);
}
