/* mbold bench ops: throughput of the compute core's GEMM-shaped work on one backend: GEMM 1024^3,
 * every conv and linear layer shape of the paper's networks forward and backward (data and
 * weight), with OpenBLAS sgemm on the equivalent GEMM as the reference, and the networks' batched
 * forward passes. Times are the best of several repetitions (a busy machine only adds noise). */
#include "app_cli.h"

#include "cmp.h"
#include "mb_clock.h"
#include "nn_nets.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int app_bench_ops(int argc, char **argv);

typedef struct bench_row {
  char name[96];     /* e.g. "conv2 fwd" */
  char shape[96];    /* human-readable shape */
  double flops;      /* per call */
  double ms;         /* best time per call */
  double cpu_ms;     /* best process CPU time per call (all threads): on a busy machine the
                        share of the cores it got shows in ms, not here */
  double ref_gflops; /* OpenBLAS sgemm on the equivalent GEMM, 0 if none */
} bench_row;

typedef struct bench {
  cmp_ctx *ctx;     /* backend under test */
  cmp_arena *arena; /* tensors */
  double min_s;     /* time budget per measurement */
  bench_row rows[128];
  int nrows;
  bool quiet;      /* JSON mode: no table */
  double last_cpu; /* best CPU seconds per call of the last time_best */
  double ref_cpu;  /* the same for the last OpenBLAS reference */
} bench;

typedef void (*bench_fn)(void *user);

/* Best seconds per call of fn over repetitions filling about min_s (at least 3). */
static double cpu_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Best seconds per call of fn over repetitions filling about min_s (at least 3); the best CPU
 * time per call goes to b->last_cpu. */
static double time_best(bench *b, bench_fn fn, void *user, bool device) {
  fn(user); /* warm-up: scratch sizing, caches, pipelines */
  if (device) cmp_sync(b->ctx);
  double best = 1e30, best_cpu = 1e30, start = mb_now();
  for (int rep = 0; rep < 3 || (mb_now() - start < b->min_s && rep < 1000); rep++) {
    double t0 = mb_now(), c0 = cpu_now();
    fn(user);
    if (device) cmp_sync(b->ctx);
    double dt = mb_now() - t0, dc = cpu_now() - c0;
    if (dt < best) best = dt;
    if (dc < best_cpu) best_cpu = dc;
  }
  b->last_cpu = best_cpu;
  return best;
}

static bench_row *add_row(bench *b, const char *name, const char *shape, double flops, double s,
                          double ref_gflops) {
  bench_row *r = &b->rows[b->nrows++];
  snprintf(r->name, sizeof r->name, "%s", name);
  snprintf(r->shape, sizeof r->shape, "%s", shape);
  r->flops = flops;
  r->ms = s * 1e3;
  r->cpu_ms = b->last_cpu * 1e3;
  r->ref_gflops = ref_gflops;
  if (!b->quiet) {
    if (flops > 0) {
      printf("  %-32s %-38s %9.3f ms (cpu %8.3f) %6.1f GFLOP/s", name, shape, r->ms, r->cpu_ms,
             flops / s * 1e-9);
      if (ref_gflops > 0)
        printf("  (sgemm %6.1f, %3.0f%%)", ref_gflops, 100 * flops / s * 1e-9 / ref_gflops);
      printf("\n");
    } else
      printf("  %-32s %-38s %9.3f ms (cpu %8.3f)\n", name, shape, r->ms, r->cpu_ms);
    fflush(stdout);
  }
  return r;
}

/* ---- OpenBLAS reference ---------------------------------------------------------------------- */

typedef struct sgemm_ref {
  int m, n, k;
  float *a, *b, *c;
} sgemm_ref;

static void run_sgemm(void *u) {
  sgemm_ref *r = u;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r->m, r->n, r->k, 1.0f, r->a, r->k, r->b,
              r->n, 0.0f, r->c, r->n);
}

/* GFLOP/s of OpenBLAS sgemm on [m x k] x [k x n] with its own threads, one per core. */
static double sgemm_gflops(bench *b, int m, int n, int k) {
  sgemm_ref r = {
      m, n, k, calloc((size_t)m * k, 4), calloc((size_t)k * n, 4), calloc((size_t)m * n, 4)};
  for (size_t i = 0; i < (size_t)m * k; i++) r.a[i] = (float)(i % 7) * 0.1f;
  for (size_t i = 0; i < (size_t)k * n; i++) r.b[i] = (float)(i % 5) * 0.1f;
  int prev = openblas_get_num_threads();
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  openblas_set_num_threads(cores > 0 ? (int)cores : 1);
  double keep = b->last_cpu; /* the reference must not replace the measured op's CPU time */
  double s = time_best(b, run_sgemm, &r, false);
  b->ref_cpu = b->last_cpu;
  b->last_cpu = keep;
  openblas_set_num_threads(prev);
  free(r.a), free(r.b), free(r.c);
  return 2.0 * m * n * k / s * 1e-9;
}

/* ---- GEMM ------------------------------------------------------------------------------------ */

typedef struct gemm_case {
  bench *b;
  int m, n, k;
  cmp_tensor a, bb, c;
} gemm_case;

static void run_gemm(void *u) {
  gemm_case *g = u;
  cmp_gemm(g->b->ctx, false, false, g->m, g->n, g->k, 1.0f, &g->a, g->k, &g->bb, g->n, 0.0f, &g->c,
           g->n);
}

static void bench_gemm(bench *b) {
  const int n = 1024;
  gemm_case g = {b,
                 n,
                 n,
                 n,
                 cmp_arena_tensor(b->arena, n, n, 1, 1),
                 cmp_arena_tensor(b->arena, n, n, 1, 1),
                 cmp_arena_tensor(b->arena, n, n, 1, 1)};
  cmp_rng_uniform(b->ctx, &g.a, 1, 0, 0, -1, 1);
  cmp_rng_uniform(b->ctx, &g.bb, 1, 1, 0, -1, 1);
  double ref = sgemm_gflops(b, n, n, n);
  add_row(b, "gemm", "1024x1024x1024", 2.0 * n * n * n, time_best(b, run_gemm, &g, true), ref);
  /* The reference itself, on every backend: this machine's CPU as a yardstick. */
  char shape[64];
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  snprintf(shape, sizeof shape, "1024x1024x1024, %ld OpenBLAS threads", cores);
  b->last_cpu = b->ref_cpu;
  add_row(b, "openblas sgemm", shape, 2.0 * n * n * n, 2.0 * n * n * n / (ref * 1e9), 0);
}

/* ---- conv layers ----------------------------------------------------------------------------- */

typedef struct conv_case {
  bench *b;
  cmp_tensor x, w, bias, y, dy, dx, dw, db;
  cmp_conv_params p;
} conv_case;

static void run_conv_fwd(void *u) {
  conv_case *c = u;
  cmp_conv2d_fwd(c->b->ctx, &c->x, &c->w, &c->bias, &c->y, &c->p);
}
static void run_conv_bwd_data(void *u) {
  conv_case *c = u;
  cmp_conv2d_bwd_data(c->b->ctx, &c->dy, &c->w, &c->dx, &c->p, 0.0f);
}
static void run_conv_bwd_weight(void *u) {
  conv_case *c = u;
  cmp_conv2d_bwd_weight(c->b->ctx, &c->dy, &c->x, &c->dw, &c->db, &c->p, 0.0f);
}

static void bench_conv(bench *b, const char *name, int n, int c, int hw, int o) {
  cmp_conv_params p = {4, 4, 2, 2, 1, 1};
  int ho = cmp_conv_out(hw, 4, 2, 1);
  size_t mark = cmp_arena_mark(b->arena);
  conv_case cc = {b};
  cmp_arena *a = b->arena;
  cc.p = p;
  cc.x = cmp_arena_tensor(a, n, c, hw, hw);
  cc.w = cmp_arena_tensor(a, o, c, 4, 4);
  cc.bias = cmp_arena_tensor(a, 1, o, 1, 1);
  cc.y = cmp_arena_tensor(a, n, o, ho, ho);
  cc.dy = cmp_arena_tensor(a, n, o, ho, ho);
  cc.dx = cmp_arena_tensor(a, n, c, hw, hw);
  cc.dw = cmp_arena_tensor(a, o, c, 4, 4);
  cc.db = cmp_arena_tensor(a, 1, o, 1, 1);
  cmp_rng_uniform(b->ctx, &cc.x, 2, 0, 0, -1, 1);
  cmp_rng_uniform(b->ctx, &cc.w, 2, 1, 0, -0.1f, 0.1f);
  cmp_rng_uniform(b->ctx, &cc.dy, 2, 2, 0, -1, 1);
  int m = o, nn = n * ho * ho, k = c * 16;
  double flops = 2.0 * m * nn * k;
  char shape[96], row[96];
  snprintf(shape, sizeof shape, "%dx%dx%dx%d -> %dx%dx%d", n, c, hw, hw, o, ho, ho);
  double ref = sgemm_gflops(b, m, nn, k);
  snprintf(row, sizeof row, "%s fwd", name);
  add_row(b, row, shape, flops, time_best(b, run_conv_fwd, &cc, true), ref);
  ref = sgemm_gflops(b, k, nn, m);
  snprintf(row, sizeof row, "%s bwd data", name);
  add_row(b, row, shape, flops, time_best(b, run_conv_bwd_data, &cc, true), ref);
  ref = sgemm_gflops(b, m, k, nn);
  snprintf(row, sizeof row, "%s bwd weight", name);
  add_row(b, row, shape, flops, time_best(b, run_conv_bwd_weight, &cc, true), ref);
  cmp_arena_reset(b->arena, mark);
}

/* ---- linear layers --------------------------------------------------------------------------- */

typedef struct lin_case {
  bench *b;
  cmp_tensor x, w, bias, y, dy, dx, dw, db;
} lin_case;

static void run_lin_fwd(void *u) {
  lin_case *c = u;
  cmp_linear_fwd(c->b->ctx, &c->x, &c->w, &c->bias, &c->y);
}
static void run_lin_bwd_data(void *u) {
  lin_case *c = u;
  cmp_linear_bwd_data(c->b->ctx, &c->dy, &c->w, &c->dx, 0.0f);
}
static void run_lin_bwd_weight(void *u) {
  lin_case *c = u;
  cmp_linear_bwd_weight(c->b->ctx, &c->dy, &c->x, &c->dw, &c->db, 0.0f);
}

static void bench_linear(bench *b, const char *name, int n, int k, int m) {
  size_t mark = cmp_arena_mark(b->arena);
  cmp_arena *a = b->arena;
  lin_case lc = {b,
                 cmp_arena_tensor(a, n, k, 1, 1),
                 cmp_arena_tensor(a, m, k, 1, 1),
                 cmp_arena_tensor(a, 1, m, 1, 1),
                 cmp_arena_tensor(a, n, m, 1, 1),
                 cmp_arena_tensor(a, n, m, 1, 1),
                 cmp_arena_tensor(a, n, k, 1, 1),
                 cmp_arena_tensor(a, m, k, 1, 1),
                 cmp_arena_tensor(a, 1, m, 1, 1)};
  cmp_rng_uniform(b->ctx, &lc.x, 3, 0, 0, -1, 1);
  cmp_rng_uniform(b->ctx, &lc.w, 3, 1, 0, -0.1f, 0.1f);
  cmp_rng_uniform(b->ctx, &lc.dy, 3, 2, 0, -1, 1);
  double flops = 2.0 * n * k * m;
  char shape[96], row[96];
  snprintf(shape, sizeof shape, "%d x %d -> %d", n, k, m);
  /* References first: each add_row takes the CPU time of the time_best just before it. */
  double ref_f = sgemm_gflops(b, n, m, k), ref_d = sgemm_gflops(b, n, k, m),
         ref_w = sgemm_gflops(b, m, k, n);
  snprintf(row, sizeof row, "%s fwd", name);
  add_row(b, row, shape, flops, time_best(b, run_lin_fwd, &lc, true), ref_f);
  snprintf(row, sizeof row, "%s bwd data", name);
  add_row(b, row, shape, flops, time_best(b, run_lin_bwd_data, &lc, true), ref_d);
  snprintf(row, sizeof row, "%s bwd weight", name);
  add_row(b, row, shape, flops, time_best(b, run_lin_bwd_weight, &lc, true), ref_w);
  cmp_arena_reset(b->arena, mark);
}

/* ---- networks -------------------------------------------------------------------------------- */

typedef struct net_case {
  bench *b;
  nn_net *q, *actor;    /* planning: Q + actor */
  nn_net_data *qd, *ad; /* their activations */
  cmp_tensor pairs;     /* [n, 6, 64, 64] */
  uint8_t *cur, *goal;  /* host images */
  int n;                /* batch */
} net_case;

static void run_q_actor(void *u) {
  net_case *c = u;
  const cmp_tensor *a = nn_net_forward(c->ad, &c->pairs, NULL, false);
  nn_net_forward(c->qd, &c->pairs, a, false);
}

static void run_q_actor_upload(void *u) {
  net_case *c = u;
  c->pairs = nn_net_upload_pairs(c->qd, c->cur, c->goal, c->n, true);
  run_q_actor(u);
  float q[4];
  cmp_tensor head = cmp_rows(*nn_output(c->qd->head), 0, 1);
  cmp_download(c->b->ctx, &head, q);
}

/* The compute of issue 4's training step at batch B: both critics (encoder once, head on the data
 * action and on 10 random actions per sample, backward into shared gradients, Adam), target critics
 * and target actor forward on s', the actor's update through critic 1 every 2nd step and Polyak
 * averaging of the targets. Loss arithmetic (a handful of elementwise ops) is left out. */
typedef struct train_case {
  bench *b;
  int B;                         /* batch */
  nn_net *critic[2], *target[2]; /* twin critics and their targets */
  nn_net *actor, *target_actor;  /* actor and its target */
  nn_data *enc[2], *head_data[2], *head_rand[2], *head_pi;
  nn_net_data *tq[2], *ta, *pi; /* target forwards and actor */
  nn_adam *adam_enc[2], *adam_head[2], *adam_actor_enc, *adam_actor_head;
  cmp_tensor s, s2, act, rand_act, dq, dq_rand, dfeat, dfeat_pi, da;
  int step;
} train_case;

static void run_train_step(void *u) {
  train_case *t = u;
  cmp_ctx *ctx = t->b->ctx;
  /* Targets on s'. */
  const cmp_tensor *a2 = nn_net_forward(t->ta, &t->s2, NULL, true);
  for (int k = 0; k < 2; k++) nn_net_forward(t->tq[k], &t->s2, a2, true);
  /* Critics. */
  for (int k = 0; k < 2; k++) {
    nn_net *c = t->critic[k];
    nn_net_zero_grad(c);
    const cmp_tensor *feat = nn_forward(t->enc[k], &t->s, true);
    cmp_tensor f = cmp_reshape(*feat, t->B, NN_FEATURES, 1, 1);
    nn_forward_cat(t->head_data[k], &f, &t->act, 1, true);
    nn_forward_cat(t->head_rand[k], &f, &t->rand_act, 10, true);
    nn_backward(t->head_data[k], &t->dq, true, &t->dfeat, 0.0f, NULL, 0.0f);
    nn_backward(t->head_rand[k], &t->dq_rand, true, &t->dfeat, 1.0f, NULL, 0.0f);
    nn_backward(t->enc[k], &t->dfeat, true, NULL, 0.0f, NULL, 0.0f);
    nn_adam_step(t->adam_enc[k], c->encoder);
    nn_adam_step(t->adam_head[k], c->head);
  }
  /* Actor and target updates every 2nd step. */
  if (t->step++ % 2 == 0) {
    nn_net_zero_grad(t->actor);
    const cmp_tensor *api = nn_net_forward(t->pi, &t->s, NULL, true);
    cmp_tensor f = cmp_reshape(*nn_output(t->enc[0]), t->B, NN_FEATURES, 1, 1);
    nn_forward_cat(t->head_pi, &f, api, 1, true);
    nn_backward(t->head_pi, &t->dq, false, NULL, 0.0f, &t->da, 0.0f);
    nn_backward(t->pi->head, &t->da, true, &t->dfeat_pi, 0.0f, NULL, 0.0f);
    nn_backward(t->pi->enc, &t->dfeat_pi, true, NULL, 0.0f, NULL, 0.0f);
    nn_adam_step(t->adam_actor_enc, t->actor->encoder);
    nn_adam_step(t->adam_actor_head, t->actor->head);
    for (int k = 0; k < 2; k++) nn_net_polyak(t->target[k], t->critic[k], 0.995f, false);
    nn_net_polyak(t->target_actor, t->actor, 0.995f, false);
  }
  (void)ctx;
}

static void bench_networks(bench *b) {
  cmp_ctx *ctx = b->ctx;
  const int n = 200;
  net_case c = {b};
  c.n = n;
  c.q = nn_net_create(ctx, NN_NET_Q, 1, false);
  c.actor = nn_net_create(ctx, NN_NET_ACTOR, 2, false);
  c.qd = nn_net_data_create(c.q, n);
  c.ad = nn_net_data_create(c.actor, n);
  size_t img = (size_t)NN_IMAGE_SIZE * NN_IMAGE_SIZE * 3;
  c.cur = malloc(img * n);
  c.goal = malloc(img);
  for (size_t i = 0; i < img * n; i++) c.cur[i] = (uint8_t)(i * 2654435761u >> 24);
  for (size_t i = 0; i < img; i++) c.goal[i] = (uint8_t)(i * 40503u >> 8);
  c.pairs = nn_net_upload_pairs(c.qd, c.cur, c.goal, n, true);
  double flops = 0;
  const nn_model *ms[4] = {c.q->encoder, c.q->head, c.actor->encoder, c.actor->head};
  for (int i = 0; i < 4; i++)
    for (int l = 0; l < ms[i]->nlayers; l++) {
      const nn_layer *ly = &ms[i]->layers[l];
      if (ly->kind == NN_CONV)
        flops += 2.0 * n * ly->out_c * ly->out_h * ly->out_w * ly->in_c * ly->conv.kh * ly->conv.kw;
      else if (ly->kind == NN_LINEAR || ly->kind == NN_LINEAR_CAT)
        flops += 2.0 * n * ly->out_c * (ly->in_c * ly->in_h * ly->in_w + ly->extra);
    }
  add_row(b, "Q + actor forward", "batch 200, eval", flops, time_best(b, run_q_actor, &c, true), 0);
  add_row(b, "Q + actor forward + io", "batch 200, upload + download", flops,
          time_best(b, run_q_actor_upload, &c, true), 0);
  nn_net_data_destroy(c.qd), nn_net_data_destroy(c.ad);
  nn_net_destroy(c.q), nn_net_destroy(c.actor);
  free(c.cur), free(c.goal);

  /* Training step at batch 64. */
  train_case *t = calloc(1, sizeof *t);
  const int B = 64;
  t->b = b;
  t->B = B;
  for (int k = 0; k < 2; k++) {
    t->critic[k] = nn_net_create(ctx, NN_NET_Q, 10 + k, true);
    t->target[k] = nn_net_create(ctx, NN_NET_Q, 10 + k, false);
    t->enc[k] = nn_data_create(t->critic[k]->encoder, B, B);
    t->head_data[k] = nn_data_create(t->critic[k]->head, B, B);
    t->head_rand[k] = nn_data_create(t->critic[k]->head, 10 * B, B);
    t->tq[k] = nn_net_data_create(t->target[k], B);
    t->adam_enc[k] = nn_adam_create(t->critic[k]->encoder, 3e-4f, 0.9f, 0.999f, 1e-8f);
    t->adam_head[k] = nn_adam_create(t->critic[k]->head, 3e-4f, 0.9f, 0.999f, 1e-8f);
  }
  t->actor = nn_net_create(ctx, NN_NET_ACTOR, 20, true);
  t->target_actor = nn_net_create(ctx, NN_NET_ACTOR, 20, false);
  t->pi = nn_net_data_create(t->actor, B);
  t->ta = nn_net_data_create(t->target_actor, B);
  t->head_pi = nn_data_create(t->critic[0]->head, B, B);
  t->adam_actor_enc = nn_adam_create(t->actor->encoder, 3e-4f, 0.9f, 0.999f, 1e-8f);
  t->adam_actor_head = nn_adam_create(t->actor->head, 3e-4f, 0.9f, 0.999f, 1e-8f);
  cmp_arena *a = b->arena;
  size_t mark = cmp_arena_mark(a);
  t->s = cmp_arena_tensor(a, B, NN_PAIR_CHANNELS, NN_IMAGE_SIZE, NN_IMAGE_SIZE);
  t->s2 = cmp_arena_tensor(a, B, NN_PAIR_CHANNELS, NN_IMAGE_SIZE, NN_IMAGE_SIZE);
  t->act = cmp_arena_tensor(a, B, NN_ACTION_DIM, 1, 1);
  t->rand_act = cmp_arena_tensor(a, 10 * B, NN_ACTION_DIM, 1, 1);
  t->dq = cmp_arena_tensor(a, B, 1, 1, 1);
  t->dq_rand = cmp_arena_tensor(a, 10 * B, 1, 1, 1);
  t->dfeat = cmp_arena_tensor(a, B, NN_FEATURES, 1, 1);
  t->dfeat_pi = cmp_arena_tensor(a, B, NN_FEATURES, 1, 1);
  t->da = cmp_arena_tensor(a, B, NN_ACTION_DIM, 1, 1);
  cmp_rng_uniform(ctx, &t->s, 5, 0, 0, 0, 1);
  cmp_rng_uniform(ctx, &t->s2, 5, 1, 0, 0, 1);
  cmp_rng_uniform(ctx, &t->act, 5, 2, 0, -1, 1);
  cmp_rng_uniform(ctx, &t->rand_act, 5, 3, 0, -1, 1);
  cmp_rng_uniform(ctx, &t->dq, 5, 4, 0, -0.1f, 0.1f);
  cmp_rng_uniform(ctx, &t->dq_rand, 5, 5, 0, -0.01f, 0.01f);
  add_row(b, "distance train step", "batch 64 (issue 4 networks, emulated)", 0,
          time_best(b, run_train_step, t, true), 0);
  cmp_arena_reset(a, mark);
  for (int k = 0; k < 2; k++) {
    nn_data_destroy(t->enc[k]), nn_data_destroy(t->head_data[k]), nn_data_destroy(t->head_rand[k]);
    nn_net_data_destroy(t->tq[k]);
    nn_adam_destroy(t->adam_enc[k]), nn_adam_destroy(t->adam_head[k]);
    nn_net_destroy(t->critic[k]), nn_net_destroy(t->target[k]);
  }
  nn_net_data_destroy(t->pi), nn_net_data_destroy(t->ta), nn_data_destroy(t->head_pi);
  nn_adam_destroy(t->adam_actor_enc), nn_adam_destroy(t->adam_actor_head);
  nn_net_destroy(t->actor), nn_net_destroy(t->target_actor);
  free(t);
}

/* ---- output ---------------------------------------------------------------------------------- */

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      fprintf(f, "\\%c", *s);
    else if ((unsigned char)*s < 0x20)
      fprintf(f, "\\u%04x", *s);
    else
      fputc(*s, f);
  }
  fputc('"', f);
}

static void print_json(const bench *b) {
  printf("{\n  \"benchmark\": \"ops\",\n  \"backend\": ");
  json_string(stdout, cmp_backend_name(b->ctx));
  printf(",\n  \"device\": ");
  json_string(stdout, cmp_device_name(b->ctx));
  printf(",\n  \"results\": [\n");
  for (int i = 0; i < b->nrows; i++) {
    const bench_row *r = &b->rows[i];
    printf("    {\"name\": ");
    json_string(stdout, r->name);
    printf(", \"shape\": ");
    json_string(stdout, r->shape);
    printf(", \"ms\": %.4f, \"cpu_ms\": %.4f", r->ms, r->cpu_ms);
    if (r->flops > 0) printf(", \"gflops\": %.2f", r->flops / r->ms * 1e-6);
    if (r->ref_gflops > 0)
      printf(", \"sgemm_gflops\": %.2f, \"fraction_of_sgemm\": %.3f", r->ref_gflops,
             r->flops / r->ms * 1e-6 / r->ref_gflops);
    printf("}%s\n", i + 1 < b->nrows ? "," : "");
  }
  printf("  ]\n}\n");
}

int app_bench_ops(int argc, char **argv) {
  const char *cmd = "bench ops";
  gchar *backend = NULL;
  gboolean json = FALSE;
  gint batch = 64;
  gdouble min_s = 0.3;
  gchar *only = NULL;
  gint threads = 0;
  GOptionEntry entries[] = {
      {"backend", 0, 0, G_OPTION_ARG_STRING, &backend, "auto, cpu or vulkan (default: auto)", "B"},
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON instead of a table", NULL},
      {"batch", 0, 0, G_OPTION_ARG_INT, &batch, "batch of the layer benchmarks (default 64)", "N"},
      {"seconds", 0, 0, G_OPTION_ARG_DOUBLE, &min_s, "time per measurement (default 0.3)", "S"},
      {"only", 0, 0, G_OPTION_ARG_STRING, &only, "one group: networks, gemm, conv or linear", "G"},
      {"threads", 0, 0, G_OPTION_ARG_INT, &threads, "CPU backend threads (default: one per core)",
       "N"},
      {NULL, 0, 0, 0, NULL, NULL, NULL},
  };
  int rc =
      app_parse_options(cmd, "", "Throughput of the compute core's layers.", entries, &argc, &argv);
  if (rc >= 0) return rc;
  if (argc > 1) return app_bad_input(cmd, "unexpected argument '%s'", argv[1]);
  if (only && strcmp(only, "networks") && strcmp(only, "gemm") && strcmp(only, "conv") &&
      strcmp(only, "linear"))
    return app_bad_input(cmd, "--only: '%s' is not networks, gemm, conv or linear", only);
  cmp_backend_choice choice = cmp_backend_from_env(CMP_BACKEND_AUTO);
  if (backend && !cmp_parse_backend(backend, &choice))
    return app_bad_input(cmd, "--backend: '%s' is not auto, cpu or vulkan", backend);
  if (batch < 2 || batch > 4096)
    return app_bad_input(cmd, "--batch: %d is not in [2, 4096]", batch);
  if (threads < 0 || threads > 64)
    return app_bad_input(cmd, "--threads: %d is not in [0, 64]", threads);
  char why[512] = "", err[512] = "";
  bench *b = calloc(1, sizeof *b);
  cmp_options opt = cmp_options_default();
  opt.threads = threads;
  b->ctx = cmp_create(choice, &opt, why, sizeof why, err, sizeof err);
  if (!b->ctx) {
    free(b);
    return app_failure(cmd, "%s", err);
  }
  b->arena = cmp_arena_create(b->ctx, CMP_ARENA_ACTIVATIONS, 16u << 20);
  b->min_s = min_s;
  b->quiet = json;
  if (!json)
    printf("backend %s: %s\nbest of repeated runs: wall time, (process CPU time, all threads)\n",
           cmp_backend_name(b->ctx), why);
#define GROUP(name) (!only || !strcmp(only, name))
  if (GROUP("networks")) bench_networks(b);
  if (GROUP("gemm")) bench_gemm(b);
  if (GROUP("conv")) {
    bench_conv(b, "enc.conv0", batch, 6, 64, 8);
    bench_conv(b, "enc.conv1", batch, 8, 32, 16);
    bench_conv(b, "enc.conv2", batch, 16, 16, 32);
    bench_conv(b, "enc.conv3", batch, 32, 8, 64);
  }
  if (GROUP("linear")) bench_linear(b, "q.fc0", batch, 1028, 128);
  if (GROUP("linear")) {
    bench_linear(b, "q.fc0 (10 actions)", 10 * batch, 1028, 128);
    bench_linear(b, "q.fc1..4", batch, 128, 128);
    bench_linear(b, "q.fc1..4 (10 actions)", 10 * batch, 128, 128);
    bench_linear(b, "q.out", batch, 128, 1);
    bench_linear(b, "actor.fc0", batch, 1024, 128);
    bench_linear(b, "actor.out", batch, 128, 4);
    bench_linear(b, "reg.fc0", batch, 1024, 256);
    bench_linear(b, "reg.fc1..3", batch, 256, 256);
  }
#undef GROUP
  if (json) print_json(b);
  cmp_arena_destroy(b->arena);
  cmp_destroy(b->ctx);
  free(b);
  g_free(backend);
  g_free(only);
  return APP_EXIT_OK;
}
