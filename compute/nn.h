/* Networks on the compute core: a small tape of layers run forward at any batch size up to the
 * allocated one and backward in reverse, with named parameters in PyTorch names and layouts.
 *
 * An nn_model is a sequential stack (architecture + parameters); an nn_data holds the activations
 * and gradients of one use of a model, so one model can be run several times in one step (e.g. the
 * Q head on the data actions and on 10 random actions per sample) with separate saved activations
 * while parameter gradients accumulate in the model. The paper's networks are built in nn_nets.h.
 *
 * Parameters live in one flat tensor per model (each named tensor a view aligned to
 * CMP_ALIGN_FLOATS), gradients in a second one with the same layout, batch-norm running statistics
 * in a third ("buffers"). So zeroing gradients, Adam, copying and Polyak averaging are one op each.
 *
 * Layer names follow torch.nn.Sequential: the model has a prefix (e.g. "encoder.conv") and every
 * layer, activations included, takes the next index: "encoder.conv.0.weight" [8, 6, 4, 4],
 * "encoder.conv.4.running_mean" [16], "head.0.weight" [128, 1028], "head.0.bias" [128]. */
#ifndef NN_H
#define NN_H

#include "cmp.h"
#include "safetensors.h"

#include <stdbool.h>
#include <stdint.h>

#define NN_MAX_LAYERS  48
#define NN_MAX_TENSORS 96
#define NN_NAME_MAX    96

typedef enum nn_layer_kind {
  NN_CONV,       /* conv2d with bias, weight [out, in, kh, kw] */
  NN_CONVT,      /* transposed conv2d with bias, weight [in, out, kh, kw] (PyTorch layout) */
  NN_LINEAR,     /* fully connected with bias, weight [out, in] */
  NN_LINEAR_CAT, /* first layer only: linear over [x | extra] (concatenated features), see below */
  NN_BN,         /* batch norm over channels (BatchNorm2d) or features (BatchNorm1d) */
  NN_ACT,        /* activation, computed in place */
} nn_layer_kind;

typedef struct nn_layer {
  nn_layer_kind kind;          /* what it computes */
  int in_c, in_h, in_w;        /* per-sample input shape */
  int out_c, out_h, out_w;     /* per-sample output shape */
  int extra;                   /* NN_LINEAR_CAT: width of the extra input (e.g. 4 actions) */
  cmp_conv_params conv;        /* NN_CONV, NN_CONVT */
  cmp_act act;                 /* NN_ACT */
  float alpha;                 /* NN_ACT: leaky slope */
  float momentum, eps;         /* NN_BN: PyTorch defaults 0.1, 1e-5 */
  int weight, bias;            /* tensor indices (weight/gamma, bias/beta), -1 if none */
  int run_mean, run_var;       /* NN_BN: buffer tensor indices */
  int64_t num_batches_tracked; /* NN_BN: training forwards so far (saved as PyTorch's I64) */
} nn_layer;

typedef struct nn_named {
  char name[NN_NAME_MAX]; /* PyTorch state_dict key */
  int ndim;               /* 1 .. 4 */
  int shape[4];           /* PyTorch shape */
  bool trainable;         /* parameter (has a gradient) or buffer (running statistics) */
  cmp_tensor value;       /* view into params (trainable) or buffers */
  cmp_tensor grad;        /* view into grads; buf NULL for buffers or without gradients */
  int fan_in;             /* initialisation: in_c * kh * kw or in features; 0 for BN */
  int init;               /* 0 kaiming-uniform weight, 1 fan-in uniform bias, 2 ones, 3 zeros */
} nn_named;

typedef struct nn_model {
  cmp_ctx *ctx;                     /* backend (not owned) */
  char prefix[NN_NAME_MAX];         /* name prefix, e.g. "encoder.conv" */
  int in_c, in_h, in_w;             /* per-sample input shape */
  int nlayers;                      /* layers[0 .. nlayers) */
  nn_layer layers[NN_MAX_LAYERS];   /* in order */
  int ntensors;                     /* tensors[0 .. ntensors) */
  nn_named tensors[NN_MAX_TENSORS]; /* parameters and buffers in state_dict order */
  bool finished;                    /* storage allocated; no more layers */
  bool with_grads;                  /* grads allocated */
  cmp_arena *arena;                 /* weights memory (owned) */
  cmp_tensor params;                /* all trainable values, flat [1, P] */
  cmp_tensor grads;                 /* their gradients, same layout (buf NULL without grads) */
  cmp_tensor buffers;               /* running statistics, flat [1, Q] (buf NULL if none) */
} nn_model;

/* ---- building -------------------------------------------------------------------------------- */

/* A model for per-sample inputs [in_c, in_h, in_w] (features: in_c, 1, 1). Add layers, then
 * nn_model_finish. The caller owns the model (nn_model_destroy, NULL is fine); the model does not
 * own ctx, which must outlive it. prefix may be NULL or "" (names then start with the index). */
nn_model *nn_model_create(cmp_ctx *ctx, const char *prefix, int in_c, int in_h, int in_w);
/* Layers; each returns the layer index. Misuse (shape errors, too many layers) aborts. */
int nn_add_conv(nn_model *m, int out_c, int k, int stride, int pad);
/* ConvTranspose2d: output size (in - 1) * stride - 2 pad + k; initialised as PyTorch does (fan_in =
 * out_c * k * k, from the weight's second dimension). */
int nn_add_convt(nn_model *m, int out_c, int k, int stride, int pad);
int nn_add_linear(nn_model *m, int out);
/* As the first layer: y = W [x | extra] + b with W [out, in + extra] in PyTorch layout, where x is
 * the model input and extra a second input (nn_forward_cat). */
int nn_add_linear_cat(nn_model *m, int extra, int out);
int nn_add_bn(nn_model *m);                            /* not as the first layer */
int nn_add_act(nn_model *m, cmp_act act, float alpha); /* not first; leaky needs alpha > 0 */
/* Allocates parameters (and gradients when with_grads) and initialises them from seed like
 * PyTorch's defaults: conv/linear weights kaiming-uniform(a = sqrt(5)), i.e.
 * uniform(+-1/sqrt(fan_in)), biases uniform(+-1/sqrt(fan_in)), batch norm weight 1, bias 0, running
 * mean 0, var 1. Each tensor draws from its own Philox stream (a hash of its name), so numbers do
 * not depend on the backend or on other models. Twin networks need different seeds. */
void nn_model_finish(nn_model *m, bool with_grads, uint64_t seed);
void nn_model_destroy(nn_model *m);

/* Re-initialises every parameter and buffer from seed (as nn_model_finish does). */
void nn_model_init(nn_model *m, uint64_t seed);

/* Per-sample output shape and size. */
void nn_model_out_shape(const nn_model *m, int *c, int *h, int *w);
int nn_model_out_size(const nn_model *m);
/* Number of trainable scalars (without alignment padding). */
size_t nn_model_param_count(const nn_model *m);
/* The named tensor, or NULL. */
const nn_named *nn_model_find(const nn_model *m, const char *name);

/* ---- running --------------------------------------------------------------------------------- */

typedef struct nn_data {
  const nn_model *model;            /* the model it runs (not owned) */
  int max_batch;                    /* rows allocated (after any repeat of NN_LINEAR_CAT) */
  int batch;                        /* rows of the last forward (output rows) */
  int in_batch;                     /* rows of the last forward's x */
  int repeat;                       /* NN_LINEAR_CAT repeat of the last forward (1 otherwise) */
  bool train;                       /* mode of the last forward */
  cmp_tensor x;                     /* the last forward's input (caller's storage) */
  cmp_tensor y;                     /* the last forward's output: a view of out[nlayers - 1] */
  cmp_tensor extra;                 /* the last forward's extra input (caller's), NN_LINEAR_CAT */
  cmp_tensor out[NN_MAX_LAYERS];    /* layer outputs [max_batch, ...] (activations alias input) */
  cmp_tensor dout[NN_MAX_LAYERS];   /* gradients with respect to the layer outputs */
  cmp_tensor mean[NN_MAX_LAYERS];   /* NN_BN: saved batch mean [C] */
  cmp_tensor invstd[NN_MAX_LAYERS]; /* NN_BN: saved 1/sqrt(var + eps) [C] */
  cmp_tensor cat_tmp;               /* NN_LINEAR_CAT with repeat: W_x x + b [max_in_batch, out] */
  cmp_tensor cat_dtmp;              /* its gradient */
  cmp_arena *arena;                 /* activations memory (owned) */
} nn_data;

/* Activations for up to max_batch output rows; max_in_batch bounds the rows of x (equal to
 * max_batch unless the first layer is NN_LINEAR_CAT used with repeat > 1). The caller owns the
 * result (nn_data_destroy, NULL is fine); the model must outlive it. All memory is allocated here:
 * forward and backward allocate nothing. */
nn_data *nn_data_create(const nn_model *m, int max_batch, int max_in_batch);
void nn_data_destroy(nn_data *d);

/* Runs the model on x [N, in_c, in_h, in_w] (any tensor with that per-sample size). x must stay
 * unchanged until backward. train: batch statistics (and running-average updates) for batch norm;
 * else running statistics. Returns the output [N, out_c, out_h, out_w], valid until the next
 * forward on d. */
const cmp_tensor *nn_forward(nn_data *d, const cmp_tensor *x, bool train);
/* For a model whose first layer is NN_LINEAR_CAT: input row r of [x | extra] is
 * [x[r / repeat] | extra[r]], so x [N, in] is repeated `repeat` times (rows r*repeat .. r*repeat +
 * repeat - 1 share x[r]) and extra has N * repeat rows. The x part of the first layer is computed
 * once per row of x. Output rows: N * repeat. */
const cmp_tensor *nn_forward_cat(nn_data *d, const cmp_tensor *x, const cmp_tensor *extra,
                                 int repeat, bool train);
const cmp_tensor *nn_output(const nn_data *d);

/* Backward of the last forward (which must have been in train mode when the model has batch norm)
 * from dy (the output's shape). Parameter gradients are accumulated into the model's grads
 * (beta = 1; zero them with nn_zero_grad at the start of a step) when param_grads, else left
 * untouched (e.g. the actor's loss through the critic). dx (x's shape) receives the input
 * gradient as dx = grad + dx_beta * dx; dextra likewise for NN_LINEAR_CAT's extra input. Either
 * may be NULL, which skips work (the encoder's first convolution needs no data gradient). */
void nn_backward(nn_data *d, const cmp_tensor *dy, bool param_grads, const cmp_tensor *dx,
                 float dx_beta, const cmp_tensor *dextra, float dextra_beta);

/* ---- parameter sets -------------------------------------------------------------------------- */

void nn_zero_grad(nn_model *m);
/* dst = src: parameters, running statistics and batch counters (same architecture). */
void nn_copy(nn_model *dst, const nn_model *src);
/* Polyak averaging of the parameters: dst = tau * dst + (1 - tau) * src. Running statistics are
 * copied when copy_buffers (else left to the target's own training forwards). */
void nn_polyak(nn_model *dst, const nn_model *src, float tau, bool copy_buffers);
/* True when both models have the same architecture (layer kinds and shapes). */
bool nn_same_arch(const nn_model *a, const nn_model *b);

/* Adam over a model's parameters (PyTorch's torch.optim.Adam without weight decay). */
typedef struct nn_adam {
  cmp_tensor m, v;       /* moments, the layout of the model's params */
  int64_t t;             /* steps taken */
  float lr, b1, b2, eps; /* hyperparameters */
  cmp_arena *arena;      /* (owned) */
} nn_adam;
/* The caller owns the optimiser (nn_adam_destroy, NULL is fine); moments start at zero, t at 0. */
nn_adam *nn_adam_create(const nn_model *model, float lr, float b1, float b2, float eps);
void nn_adam_destroy(nn_adam *a);
/* One step from the model's grads. */
void nn_adam_step(nn_adam *a, nn_model *model);

/* ---- saving and loading (safetensors) -------------------------------------------------------- */

/* Adds the model's tensors to w as prefix + PyTorch name (prefix may be ""): parameters and
 * running statistics as F32, each batch norm's num_batches_tracked as an I64 scalar. Waits for
 * the device. */
void nn_model_write(const nn_model *m, st_writer *w, const char *prefix);
/* Loads every tensor of the model from f (num_batches_tracked optional). On error (missing tensor,
 * other shape or dtype) nothing is changed and err names the file and the tensor. */
bool nn_model_read(nn_model *m, const st_file *f, const char *prefix, char *err, size_t err_sz);
/* Checks that f holds every parameter and buffer of m with the right dtype and shape. */
bool nn_model_check(const nn_model *m, const st_file *f, const char *prefix, char *err,
                    size_t err_sz);
/* Adam state as prefix + name + ".exp_avg" / ".exp_avg_sq" per parameter and prefix + "step". */
void nn_adam_write(const nn_adam *a, const nn_model *m, st_writer *w, const char *prefix);
bool nn_adam_read(nn_adam *a, const nn_model *m, const st_file *f, const char *prefix, char *err,
                  size_t err_sz);

#endif
