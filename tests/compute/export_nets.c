/* Writes the paper's three networks, a batch of inputs and our outputs to safetensors files for
 * tests/compute/pytorch_check.py, which rebuilds the networks in PyTorch, loads our weights with
 * load_state_dict(strict=True) and compares the outputs (the peer check of "PyTorch names and
 * layouts"; it needs python3-torch, so it is run by hand, not by meson test).
 *
 *   export_nets DIR     writes DIR/{q,actor,regression}.safetensors and DIR/io.safetensors */
#include "mb_err.h"
#include "mb_file.h"
#include "mb_philox.h"
#include "nn_nets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float *download(cmp_ctx *ctx, const cmp_tensor *t) {
  float *h = malloc(cmp_numel(t) * sizeof *h);
  cmp_download(ctx, t, h);
  return h;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: export_nets DIR\n");
    return 2;
  }
  char err[512];
  if (!mb_mkdir_p(argv[1], err, sizeof err)) {
    fprintf(stderr, "export_nets: %s\n", err);
    return 1;
  }
  cmp_ctx *ctx = cmp_create(CMP_BACKEND_CPU, NULL, NULL, 0, err, sizeof err);
  if (!ctx) {
    fprintf(stderr, "export_nets: %s\n", err);
    return 1;
  }
  const int B = 6;
  const size_t img = 64 * 64 * 3;
  uint8_t *cur = malloc(img * B), *goal = malloc(img * B);
  for (size_t i = 0; i < img * B; i++) {
    cur[i] = (uint8_t)(mb_philox_u32(1, 0, i) >> 24);
    goal[i] = (uint8_t)(mb_philox_u32(1, 1, i) >> 24);
  }
  st_writer *io = st_writer_create();
  float *pairs_h = NULL, *act_h = NULL;
  const nn_net_kind kinds[3] = {NN_NET_Q, NN_NET_ACTOR, NN_NET_REGRESSION};
  for (int k = 0; k < 3; k++) {
    nn_net *net = nn_net_create(ctx, kinds[k], 100 + k, true);
    nn_net_data *d = nn_net_data_create(net, B);
    cmp_tensor pairs = nn_net_upload_pairs(d, cur, goal, B, false);
    cmp_arena *a = cmp_arena_create(ctx, CMP_ARENA_ACTIVATIONS, 64);
    cmp_tensor act = cmp_arena_tensor(a, B, NN_ACTION_DIM, 1, 1);
    cmp_rng_uniform(ctx, &act, 2, 0, 0, -1, 1);
    if (!pairs_h) {
      pairs_h = download(ctx, &pairs);
      act_h = download(ctx, &act);
      st_add_f32(io, "pairs", 4, (int64_t[]){B, 6, 64, 64}, pairs_h);
      st_add_f32(io, "action", 2, (int64_t[]){B, NN_ACTION_DIM}, act_h);
    }
    const char *name = nn_net_kind_name(kinds[k]);
    const cmp_tensor *act_in = kinds[k] == NN_NET_Q ? &act : NULL;
    /* Two training forwards (batch statistics; running averages move), then one in eval mode. */
    char key[64];
    nn_net_forward(d, &pairs, act_in, true);
    float *train = download(ctx, nn_net_forward(d, &pairs, act_in, true));
    float *eval = download(ctx, nn_net_forward(d, &pairs, act_in, false));
    int out = nn_model_out_size(net->head);
    snprintf(key, sizeof key, "%s.train", name);
    st_add_f32(io, key, 2, (int64_t[]){B, out}, train);
    snprintf(key, sizeof key, "%s.eval", name);
    st_add_f32(io, key, 2, (int64_t[]){B, out}, eval);
    /* The weights and running statistics that produced the eval output. */
    char file[64];
    snprintf(file, sizeof file, "%s.safetensors", name);
    char *path = mb_path_join(argv[1], file);
    if (!nn_net_save(net, path, err, sizeof err)) {
      fprintf(stderr, "export_nets: %s\n", err);
      return 1;
    }
    /* Gradients of sum(dy * out) from a training forward, for autograd to compare. */
    cmp_tensor dy = cmp_arena_tensor(a, B, out, 1, 1), dact = cmp_arena_tensor(a, B, 4, 1, 1);
    cmp_rng_uniform(ctx, &dy, 3, (uint32_t)k, 0, -1, 1);
    float *dy_h = download(ctx, &dy);
    snprintf(key, sizeof key, "%s.dy", name);
    st_add_f32(io, key, 2, (int64_t[]){B, out}, dy_h);
    nn_net_zero_grad(net);
    nn_net_forward(d, &pairs, act_in, true);
    cmp_tensor feat = cmp_arena_tensor(a, B, NN_FEATURES, 1, 1);
    nn_backward(d->head, &dy, true, &feat, 0.0f, kinds[k] == NN_NET_Q ? &dact : NULL, 0.0f);
    nn_backward(d->enc, &feat, true, NULL, 0.0f, NULL, 0.0f);
    const nn_model *parts[2] = {net->encoder, net->head};
    for (int p = 0; p < 2; p++) {
      float *g = download(ctx, &parts[p]->grads);
      for (int t = 0; t < parts[p]->ntensors; t++) {
        const nn_named *nt = &parts[p]->tensors[t];
        if (!nt->trainable) continue;
        int64_t shape[4];
        for (int i = 0; i < nt->ndim; i++) shape[i] = nt->shape[i];
        snprintf(key, sizeof key, "%s.grad.%s", name, nt->name);
        st_add_f32(io, key, nt->ndim, shape, g + (nt->grad.off - parts[p]->grads.off));
      }
      free(g);
    }
    if (kinds[k] == NN_NET_Q) {
      float *da = download(ctx, &dact);
      st_add_f32(io, "q.grad.action", 2, (int64_t[]){B, 4}, da);
      free(da);
    }
    free(dy_h);
    free(path), free(train), free(eval);
    cmp_arena_destroy(a);
    nn_net_data_destroy(d);
    nn_net_destroy(net);
  }
  char *path = mb_path_join(argv[1], "io.safetensors");
  if (!st_writer_save(io, path, err, sizeof err)) {
    fprintf(stderr, "export_nets: %s\n", err);
    return 1;
  }
  free(path), free(pairs_h), free(act_h), free(cur), free(goal);
  st_writer_destroy(io);
  cmp_destroy(ctx);
  return 0;
}
