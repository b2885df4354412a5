/* The paper's distance networks (REFERENCE.md "Distance function"), built from nn.h layers.
 *
 * Every network is a conv encoder plus a head:
 *   encoder "encoder.conv" (6 x 64 x 64 -> 64 x 4 x 4 = 1024 features): 4 convs [8, 16, 32, 64],
 *     kernel 4, stride 2, padding 1, each followed by LeakyReLU(0.2) (the last one too, our
 *     choice where the paper says "each intermediate"), batch norm after the 2nd and 3rd
 *     LeakyReLU. PyTorch module indices:
 *     0 conv, 1 leaky, 2 conv, 3 leaky, 4 bn, 5 conv, 6 leaky, 7 bn, 8 conv, 9 leaky.
 *   Q head "head": Linear(1024 + 4 -> 128) on [features | action], then 4 x Linear(128 -> 128),
 *     each of those 5 followed by ReLU then BatchNorm1d, then Linear(128 -> 1). Indices:
 *     0 linear, 1 relu, 2 bn, 3 linear, ..., 14 bn, 15 linear.
 *   Actor head "head": Linear(1024 -> 128), 8 x Linear(128 -> 128), Linear(128 -> 4), ReLU +
 *     BatchNorm1d between, tanh at the end (10 linear layers; indices 0 .. 27, 28 = tanh).
 *   Regression head "head": Linear(1024 -> 256), 3 x Linear(256 -> 256), Linear(256 -> 1), ReLU +
 *     BatchNorm1d between (5 linear layers).
 * A whole network saved alone has the keys "encoder.conv.0.weight", ..., "head.0.weight", ...
 * (nn_net_save); a checkpoint holding several adds its own prefix ("critic1.encoder.conv...").
 *
 * Images enter as uint8 HxWx3: current frame in channels 0..2, goal in 3..5, scaled by 1/255. */
#ifndef NN_NETS_H
#define NN_NETS_H

#include "nn.h"

#define NN_IMAGE_SIZE    64
#define NN_PAIR_CHANNELS 6
#define NN_FEATURES      1024
#define NN_ACTION_DIM    4
#define NN_PIXEL_SCALE   (1.0f / 255.0f)
#define NN_LEAKY_SLOPE   0.2f

typedef enum nn_net_kind {
  NN_NET_Q,          /* Q(s, g, a): head output 1 */
  NN_NET_ACTOR,      /* pi(s, g): head output 4 in [-1, 1] */
  NN_NET_REGRESSION, /* temporal distance regression: head output 1 */
} nn_net_kind;

typedef struct nn_net {
  nn_net_kind kind;  /* which head */
  nn_model *encoder; /* "encoder.conv" (owned) */
  nn_model *head;    /* "head" (owned) */
} nn_net;

const char *nn_net_kind_name(nn_net_kind kind); /* "q", "actor", "regression" */

/* The networks with PyTorch's default initialisation from seed (encoder and head draw from
 * different streams). with_grads: allocate gradients (training). The caller owns the results
 * (nn_model_destroy / nn_net_destroy); ctx must outlive them. */
nn_model *nn_encoder_create(cmp_ctx *ctx, uint64_t seed, bool with_grads);
nn_model *nn_q_head_create(cmp_ctx *ctx, uint64_t seed, bool with_grads);
nn_model *nn_actor_head_create(cmp_ctx *ctx, uint64_t seed, bool with_grads);
nn_model *nn_regression_head_create(cmp_ctx *ctx, uint64_t seed, bool with_grads);

nn_net *nn_net_create(cmp_ctx *ctx, nn_net_kind kind, uint64_t seed, bool with_grads);
void nn_net_destroy(nn_net *net);

/* Whole-network versions of the nn.h parameter-set operations. */
void nn_net_zero_grad(nn_net *net);
void nn_net_copy(nn_net *dst, const nn_net *src);
void nn_net_polyak(nn_net *dst, const nn_net *src, float tau, bool copy_buffers);

/* Tensors as prefix + "encoder.conv...." / prefix + "head....". Reading checks everything before
 * changing anything. */
void nn_net_write(const nn_net *net, st_writer *w, const char *prefix);
bool nn_net_read(nn_net *net, const st_file *f, const char *prefix, char *err, size_t err_sz);
/* A file holding one network (metadata "mbold_net": kind); loading checks the kind. */
bool nn_net_save(const nn_net *net, const char *path, char *err, size_t err_sz);
bool nn_net_load(nn_net *net, const char *path, char *err, size_t err_sz);

/* ---- running a whole network on image pairs -------------------------------------------------- */

typedef struct nn_net_data {
  const nn_net *net; /* (not owned) */
  int max_batch;     /* image pairs */
  nn_data *enc;      /* encoder activations */
  nn_data *head;     /* head activations */
  cmp_tensor pairs;  /* [max_batch, 6, 64, 64] uploaded image pairs */
  cmp_arena *arena;  /* pairs (owned) */
  uint8_t *goal_rep; /* host: a goal image repeated max_batch times (owned) */
} nn_net_data;

/* Activations for max_batch image pairs (caller owns; nn_net_data_destroy, NULL is fine). */
nn_net_data *nn_net_data_create(const nn_net *net, int max_batch);
void nn_net_data_destroy(nn_net_data *d);

/* Uploads n image pairs into d->pairs: cur [n, 64, 64, 3] uint8 and goal [n, 64, 64, 3], or a
 * single goal image for all n when one_goal. Returns the rows [n, 6, 64, 64] of pairs. */
cmp_tensor nn_net_upload_pairs(nn_net_data *d, const uint8_t *cur, const uint8_t *goal, int n,
                               bool one_goal);
/* Runs the network on pairs [n, 6, 64, 64] (and action [n, 4] for the Q function, else NULL).
 * Returns the output [n, out] valid until the next forward on d. */
const cmp_tensor *nn_net_forward(nn_net_data *d, const cmp_tensor *pairs, const cmp_tensor *action,
                                 bool train);

#endif
