#include "dist_nets.h"

#include "cmp_backend.h" /* cmp_die */
#include "dist_steps.h"
#include "mb_err.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const NAMES[3] = {"critic1.", "critic2.", "actor."};

dist_nets *dist_nets_create(cmp_ctx *ctx, dist_method method, uint64_t seed, bool with_grads) {
  dist_nets *n = calloc(1, sizeof *n);
  if (!n) cmp_die("dist_nets_create: out of memory");
  n->method = method;
  if (method == DIST_METHOD_Q) {
    n->critic[0] = nn_net_create(ctx, NN_NET_Q, seed * 4 + 1, with_grads);
    n->critic[1] = nn_net_create(ctx, NN_NET_Q, seed * 4 + 2, with_grads);
    n->actor = nn_net_create(ctx, NN_NET_ACTOR, seed * 4 + 3, with_grads);
  } else {
    n->regression = nn_net_create(ctx, NN_NET_REGRESSION, seed * 4 + 1, with_grads);
  }
  return n;
}

void dist_nets_destroy(dist_nets *n) {
  if (!n) return;
  nn_net_destroy(n->critic[0]);
  nn_net_destroy(n->critic[1]);
  nn_net_destroy(n->actor);
  nn_net_destroy(n->regression);
  free(n);
}

/* The networks in file order with their name prefixes. */
static int list(const dist_nets *n, nn_net **nets, const char **names) {
  if (n->method == DIST_METHOD_Q) {
    for (int i = 0; i < 3; i++) names[i] = NAMES[i];
    nets[0] = n->critic[0], nets[1] = n->critic[1], nets[2] = n->actor;
    return 3;
  }
  names[0] = "regression.";
  nets[0] = n->regression;
  return 1;
}

void dist_nets_copy(dist_nets *dst, const dist_nets *src) {
  nn_net *a[3], *b[3];
  const char *na[3];
  int k = list(dst, a, na);
  list(src, b, na);
  for (int i = 0; i < k; i++) nn_net_copy(a[i], b[i]);
}

void dist_nets_write(const dist_nets *n, st_writer *w, const char *prefix) {
  nn_net *nets[3];
  const char *names[3];
  int k = list(n, nets, names);
  for (int i = 0; i < k; i++) {
    char full[128];
    snprintf(full, sizeof full, "%s%s", prefix, names[i]);
    nn_net_write(nets[i], w, full);
  }
}

bool dist_nets_read(dist_nets *n, const st_file *f, const char *prefix, char *err, size_t err_sz) {
  nn_net *nets[3];
  const char *names[3];
  int k = list(n, nets, names);
  char full[3][128];
  for (int i = 0; i < k; i++) {
    snprintf(full[i], sizeof full[i], "%s%s", prefix, names[i]);
    if (!nn_model_check(nets[i]->encoder, f, full[i], err, err_sz) ||
        !nn_model_check(nets[i]->head, f, full[i], err, err_sz))
      return false;
  }
  for (int i = 0; i < k; i++)
    if (!nn_net_read(nets[i], f, full[i], err, err_sz)) return false;
  return true;
}

/* ---- inference ------------------------------------------------------------------------------- */

dist_infer *dist_infer_create(const dist_nets *nets, int max_batch) {
  dist_infer *inf = calloc(1, sizeof *inf);
  if (!inf) cmp_die("dist_infer_create: out of memory");
  inf->nets = nets;
  inf->max_batch = max_batch;
  nn_net *list_[3];
  const char *names[3];
  int k = list(nets, list_, names);
  for (int i = 0; i < k; i++) inf->data[i] = nn_net_data_create(list_[i], max_batch);
  inf->arena = cmp_arena_create(list_[0]->encoder->ctx, CMP_ARENA_ACTIVATIONS,
                                (size_t)max_batch + CMP_ALIGN_FLOATS);
  inf->vmin = cmp_arena_tensor(inf->arena, max_batch, 1, 1, 1);
  inf->host = malloc((size_t)max_batch * sizeof *inf->host);
  if (!inf->host) cmp_die("dist_infer_create: out of memory");
  return inf;
}

void dist_infer_destroy(dist_infer *inf) {
  if (!inf) return;
  for (int i = 0; i < 3; i++) nn_net_data_destroy(inf->data[i]);
  cmp_arena_destroy(inf->arena);
  free(inf->host);
  free(inf);
}

bool dist_infer_rank(dist_infer *inf, const uint8_t *cur, const uint8_t *goal, int n, bool one_goal,
                     float *score, char *err, size_t err_sz) {
  if (!dist_infer_run(inf, cur, goal, n, one_goal, NULL, score, err, err_sz)) return false;
  if (inf->nets->method == DIST_METHOD_Q)
    for (int i = 0; i < n; i++) score[i] = -score[i];
  return true;
}

bool dist_infer_run(dist_infer *inf, const uint8_t *cur, const uint8_t *goal, int n, bool one_goal,
                    float *steps, float *raw, char *err, size_t err_sz) {
  if (n < 0 || !cur || !goal || (!steps && !raw))
    return mb_fail(err, err_sz, "distance inference: bad arguments (%d pairs)", n);
  cmp_ctx *ctx = inf->data[0]->net->encoder->ctx;
  const bool q = inf->nets->method == DIST_METHOD_Q;
  for (int i0 = 0; i0 < n; i0 += inf->max_batch) {
    int m = n - i0 < inf->max_batch ? n - i0 : inf->max_batch;
    const uint8_t *g = one_goal ? goal : goal + (size_t)i0 * DIST_IMAGE_BYTES;
    cmp_tensor pairs =
        nn_net_upload_pairs(inf->data[0], cur + (size_t)i0 * DIST_IMAGE_BYTES, g, m, one_goal);
    cmp_tensor out;
    if (q) {
      const cmp_tensor *a = nn_net_forward(inf->data[2], &pairs, NULL, false);
      const cmp_tensor *q1 = nn_net_forward(inf->data[0], &pairs, a, false);
      const cmp_tensor *q2 = nn_net_forward(inf->data[1], &pairs, a, false);
      out = cmp_rows(inf->vmin, 0, m);
      cmp_binary(ctx, CMP_MIN, q1, q2, &out);
    } else {
      out = *nn_net_forward(inf->data[0], &pairs, NULL, false);
    }
    cmp_download(ctx, &out, inf->host);
    for (int i = 0; i < m; i++) {
      float v = inf->host[i];
      if (raw) raw[i0 + i] = v;
      if (steps) steps[i0 + i] = q ? dist_q_to_steps(v) : v;
    }
  }
  return true;
}
