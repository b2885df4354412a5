/* The paper's networks (see nn_nets.h). */
#include "nn_nets.h"

#include "cmp_backend.h" /* cmp_die */
#include "mb_err.h"

#include <stdlib.h>
#include <string.h>

const char *nn_net_kind_name(nn_net_kind kind) {
  switch (kind) {
    case NN_NET_Q:
      return "q";
    case NN_NET_ACTOR:
      return "actor";
    default:
      return "regression";
  }
}

/* Different seeds for the encoder and the head of one network: their names already differ, but
 * keep them apart from other networks built from neighbouring seeds too. */
static uint64_t sub_seed(uint64_t seed, uint64_t part) {
  return seed * 0x9E3779B97F4A7C15ull + part;
}

nn_model *nn_encoder_create(cmp_ctx *ctx, uint64_t seed, bool with_grads) {
  nn_model *m =
      nn_model_create(ctx, "encoder.conv", NN_PAIR_CHANNELS, NN_IMAGE_SIZE, NN_IMAGE_SIZE);
  const int filters[4] = {8, 16, 32, 64};
  for (int i = 0; i < 4; i++) {
    nn_add_conv(m, filters[i], 4, 2, 1);
    nn_add_act(m, CMP_ACT_LEAKY_RELU, NN_LEAKY_SLOPE);
    if (i == 1 || i == 2) nn_add_bn(m);
  }
  nn_model_finish(m, with_grads, sub_seed(seed, 1));
  return m;
}

/* Linear layers of `width` with ReLU + batch norm between, the last one to `out`. */
static void mlp(nn_model *m, int layers, int width, int out) {
  for (int i = 1; i < layers; i++) {
    nn_add_act(m, CMP_ACT_RELU, 0.0f);
    nn_add_bn(m);
    nn_add_linear(m, i == layers - 1 ? out : width);
  }
}

nn_model *nn_q_head_create(cmp_ctx *ctx, uint64_t seed, bool with_grads) {
  nn_model *m = nn_model_create(ctx, "head", NN_FEATURES, 1, 1);
  nn_add_linear_cat(m, NN_ACTION_DIM, 128);
  mlp(m, 6, 128, 1);
  nn_model_finish(m, with_grads, sub_seed(seed, 2));
  return m;
}

nn_model *nn_actor_head_create(cmp_ctx *ctx, uint64_t seed, bool with_grads) {
  nn_model *m = nn_model_create(ctx, "head", NN_FEATURES, 1, 1);
  nn_add_linear(m, 128);
  mlp(m, 10, 128, NN_ACTION_DIM);
  nn_add_act(m, CMP_ACT_TANH, 0.0f);
  nn_model_finish(m, with_grads, sub_seed(seed, 3));
  return m;
}

nn_model *nn_regression_head_create(cmp_ctx *ctx, uint64_t seed, bool with_grads) {
  nn_model *m = nn_model_create(ctx, "head", NN_FEATURES, 1, 1);
  nn_add_linear(m, 256);
  mlp(m, 5, 256, 1);
  nn_model_finish(m, with_grads, sub_seed(seed, 4));
  return m;
}

nn_net *nn_net_create(cmp_ctx *ctx, nn_net_kind kind, uint64_t seed, bool with_grads) {
  nn_net *n = calloc(1, sizeof *n);
  if (!n) cmp_die("nn_net_create: out of memory");
  n->kind = kind;
  n->encoder = nn_encoder_create(ctx, seed, with_grads);
  switch (kind) {
    case NN_NET_Q:
      n->head = nn_q_head_create(ctx, seed, with_grads);
      break;
    case NN_NET_ACTOR:
      n->head = nn_actor_head_create(ctx, seed, with_grads);
      break;
    default:
      n->head = nn_regression_head_create(ctx, seed, with_grads);
      break;
  }
  return n;
}

void nn_net_destroy(nn_net *net) {
  if (!net) return;
  nn_model_destroy(net->encoder);
  nn_model_destroy(net->head);
  free(net);
}

void nn_net_zero_grad(nn_net *net) {
  nn_zero_grad(net->encoder);
  nn_zero_grad(net->head);
}

void nn_net_copy(nn_net *dst, const nn_net *src) {
  nn_copy(dst->encoder, src->encoder);
  nn_copy(dst->head, src->head);
}

void nn_net_polyak(nn_net *dst, const nn_net *src, float tau, bool copy_buffers) {
  nn_polyak(dst->encoder, src->encoder, tau, copy_buffers);
  nn_polyak(dst->head, src->head, tau, copy_buffers);
}

void nn_net_write(const nn_net *net, st_writer *w, const char *prefix) {
  nn_model_write(net->encoder, w, prefix);
  nn_model_write(net->head, w, prefix);
}

bool nn_net_read(nn_net *net, const st_file *f, const char *prefix, char *err, size_t err_sz) {
  /* Check both parts first so that a failure leaves the network untouched. */
  return nn_model_check(net->encoder, f, prefix, err, err_sz) &&
         nn_model_check(net->head, f, prefix, err, err_sz) &&
         nn_model_read(net->encoder, f, prefix, err, err_sz) &&
         nn_model_read(net->head, f, prefix, err, err_sz);
}

bool nn_net_save(const nn_net *net, const char *path, char *err, size_t err_sz) {
  st_writer *w = st_writer_create();
  st_add_metadata(w, "format", "pt");
  st_add_metadata(w, "mbold_net", nn_net_kind_name(net->kind));
  nn_net_write(net, w, "");
  bool ok = st_writer_save(w, path, err, err_sz);
  st_writer_destroy(w);
  return ok;
}

bool nn_net_load(nn_net *net, const char *path, char *err, size_t err_sz) {
  st_file *f = st_open(path, err, err_sz);
  if (!f) return false;
  const char *kind = st_metadata(f, "mbold_net");
  bool ok = true;
  if (kind && strcmp(kind, nn_net_kind_name(net->kind)))
    ok = mb_fail(err, err_sz, "%s: holds network kind '%s', expected '%s'", path, kind,
                 nn_net_kind_name(net->kind));
  if (ok) ok = nn_net_read(net, f, "", err, err_sz);
  st_close(f);
  return ok;
}

/* ---- running --------------------------------------------------------------------------------- */

nn_net_data *nn_net_data_create(const nn_net *net, int max_batch) {
  nn_net_data *d = calloc(1, sizeof *d);
  if (!d) cmp_die("nn_net_data_create: out of memory");
  d->net = net;
  d->max_batch = max_batch;
  d->enc = nn_data_create(net->encoder, max_batch, max_batch);
  d->head = nn_data_create(net->head, max_batch, max_batch);
  d->arena = cmp_arena_create(net->encoder->ctx, CMP_ARENA_ACTIVATIONS,
                              (size_t)max_batch * NN_PAIR_CHANNELS * NN_IMAGE_SIZE * NN_IMAGE_SIZE);
  d->pairs = cmp_arena_tensor(d->arena, max_batch, NN_PAIR_CHANNELS, NN_IMAGE_SIZE, NN_IMAGE_SIZE);
  return d;
}

void nn_net_data_destroy(nn_net_data *d) {
  if (!d) return;
  nn_data_destroy(d->enc);
  nn_data_destroy(d->head);
  cmp_arena_destroy(d->arena);
  free(d->goal_rep);
  free(d);
}

cmp_tensor nn_net_upload_pairs(nn_net_data *d, const uint8_t *cur, const uint8_t *goal, int n,
                               bool one_goal) {
  if (n < 1 || n > d->max_batch)
    cmp_die("nn_net_upload_pairs: %d pairs for a batch of %d", n, d->max_batch);
  cmp_ctx *ctx = d->net->encoder->ctx;
  cmp_tensor rows = cmp_rows(d->pairs, 0, n);
  const size_t img = (size_t)NN_IMAGE_SIZE * NN_IMAGE_SIZE * 3;
  if (one_goal && n > 1) {
    if (!d->goal_rep && !(d->goal_rep = malloc(img * (size_t)d->max_batch)))
      cmp_die("nn_net_upload_pairs: out of memory");
    for (int i = 0; i < n; i++) memcpy(d->goal_rep + img * (size_t)i, goal, img);
    goal = d->goal_rep;
  }
  cmp_upload_u8_hwc(ctx, &rows, 0, cur, NN_PIXEL_SCALE, 0.0f);
  cmp_upload_u8_hwc(ctx, &rows, 3, goal, NN_PIXEL_SCALE, 0.0f);
  return rows;
}

const cmp_tensor *nn_net_forward(nn_net_data *d, const cmp_tensor *pairs, const cmp_tensor *action,
                                 bool train) {
  const cmp_tensor *feat = nn_forward(d->enc, pairs, train);
  cmp_tensor f = cmp_reshape(*feat, feat->n, NN_FEATURES, 1, 1);
  if (d->net->kind == NN_NET_Q) {
    if (!action) cmp_die("nn_net_forward: the Q function needs actions");
    return nn_forward_cat(d->head, &f, action, 1, train);
  }
  return nn_forward(d->head, &f, train);
}
