/* The distance trainer on the compute core: resume equals uninterrupted (bit for bit, through the
 * shared training loop and run folder), the NaN guard keeps the last good checkpoint, the costs
 * load a run's latest checkpoint and agree with the trainer, and the first steps' losses agree on
 * the CPU and Vulkan backends (skipped when no Vulkan backend can start). */
#include "../test_util.h"
#include "chain.h"
#include "dist_cost.h"
#include "dist_steps.h"
#include "dist_train.h"
#include "mb_file.h"
#include "train_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 12, T = 8, L = 6, B = 8 };

static dist_hparams small(dist_method m) {
  dist_hparams h = dist_hparams_default(m, 30.0f);
  h.batch = B;
  h.seed = 3;
  return h;
}

typedef struct job {
  dist_trainer *t;
  float losses[64][DIST_MAX_LOSSES]; /* per step, for comparisons */
} job;

static bool job_step(void *user, int64_t step, float *losses, char *err, size_t err_sz) {
  job *j = user;
  bool ok = dist_trainer_step(j->t, step, losses, err, err_sz);
  if (ok && step < 64) memcpy(j->losses[step], losses, sizeof j->losses[step]);
  return ok;
}

static bool job_save(void *user, const char *path, char *err, size_t err_sz) {
  return dist_trainer_save(((job *)user)->t, path, err, err_sz);
}

static train_result run_loop(job *j, train_run *r, int64_t total, const atomic_int *cancel) {
  train_loop loop = {.total_steps = total,
                     .log_every = 1,
                     .checkpoint_every = 2,
                     .step = job_step,
                     .save = job_save,
                     .user = j};
  loop.n_losses = dist_trainer_loss_names(j->t, loop.loss_names);
  mb_job_hooks hooks = {.cancel = cancel};
  char err[512];
  train_result res = train_loop_run(r, &loop, &hooks, err, sizeof err);
  if (res != TRAIN_DONE) fprintf(stderr, "train loop: %s\n", err);
  return res;
}

static void *slurp(const char *path, size_t *n) {
  return mb_read_file(path, n, NULL, 0);
}

/* Interrupted at step 3 (checkpoint at 2... and the cancel's own at 3), resumed to 7: the same
 * losses and the same final checkpoint bytes as 7 uninterrupted steps. */
static void test_resume(cmp_ctx *ctx, const chain *ch, dist_method m, const char *base) {
  char a[512], b[512], err[512];
  snprintf(a, sizeof a, "%s/%s-a", base, dist_method_name(m));
  snprintf(b, sizeof b, "%s/%s-b", base, dist_method_name(m));
  dist_hparams h = small(m);
  job ja = {0}, jb = {0};
  train_run r;
  ja.t = dist_trainer_create(ctx, &h, &ch->d, err, sizeof err);
  CHECK_MSG(ja.t != NULL, "%s", err);
  CHECK(train_run_create(&r, a, "{}", err, sizeof err));
  CHECK(run_loop(&ja, &r, 7, NULL) == TRAIN_DONE);
  train_run_close(&r);
  dist_trainer_destroy(ja.t);

  /* The first trainer stops after 3 steps (cancelled), a fresh one resumes. */
  atomic_int cancel = 0;
  jb.t = dist_trainer_create(ctx, &h, &ch->d, err, sizeof err);
  CHECK(train_run_create(&r, b, "{}", err, sizeof err));
  CHECK(run_loop(&jb, &r, 3, &cancel) == TRAIN_DONE);
  train_run_close(&r);
  dist_trainer_destroy(jb.t);
  job jc = {0};
  jc.t = dist_trainer_create(ctx, &h, &ch->d, err, sizeof err);
  CHECK(train_run_resume(&r, b, err, sizeof err));
  CHECK(r.step == 3 && r.checkpoint);
  CHECK_MSG(dist_trainer_load(jc.t, r.checkpoint, err, sizeof err), "%s", err);
  CHECK(run_loop(&jc, &r, 7, NULL) == TRAIN_DONE);
  train_run_close(&r);
  for (int s = 1; s <= 3; s++)
    CHECK_MSG(!memcmp(ja.losses[s], jb.losses[s], sizeof ja.losses[s]), "%s step %d differs",
              dist_method_name(m), s);
  for (int s = 4; s <= 7; s++)
    CHECK_MSG(!memcmp(ja.losses[s], jc.losses[s], sizeof ja.losses[s]),
              "%s step %d differs after resuming", dist_method_name(m), s);
  char *ca = train_run_latest_checkpoint(a, NULL, err, sizeof err);
  char *cb = train_run_latest_checkpoint(b, NULL, err, sizeof err);
  size_t na = 0, nb = 0;
  void *da = ca ? slurp(ca, &na) : NULL, *db = cb ? slurp(cb, &nb) : NULL;
  CHECK_MSG(da && db && na == nb && !memcmp(da, db, na), "%s: final checkpoints differ",
            dist_method_name(m));
  free(da), free(db), free(ca), free(cb);

  /* The costs load the run's latest checkpoint and agree with the trainer's own distances. */
  dist_cost *c = dist_cost_load(ctx, b, (int)m, 5, err, sizeof err);
  CHECK_MSG(c != NULL, "%s", err);
  if (c) {
    CHECK(dist_cost_method(c) == m && dist_cost_step(c) == 7);
    const int n = 12;
    float d1[12], d2[12], d3[12];
    const uint8_t *imgs = ch->images, *goal = dist_frame(&ch->d, 3, 5);
    CHECK(dist_cost_pairs(c, imgs, goal, n, true, d1, err, sizeof err));
    CHECK(dist_trainer_distances(jc.t, imgs, goal, n, true, d2, err, sizeof err));
    dist_cost_set_goal(c, goal);
    cem_cost cc = dist_cost_cem(c);
    CHECK(cc.score(cc.user, imgs, n, d3, err, sizeof err));
    for (int i = 0; i < n; i++) {
      CHECK_NEAR(d1[i], d2[i], 1e-5 * (1 + fabs(d2[i])));
      CHECK(d1[i] == d3[i]);
      CHECK(isfinite(d1[i]) && (m != DIST_METHOD_Q || (d1[i] >= 0 && d1[i] <= DIST_MAX_STEPS)));
    }
    dist_cost_destroy(c);
  }
  /* Asking for the other method is a clear error. */
  int other = m == DIST_METHOD_Q ? DIST_METHOD_REGRESSION : DIST_METHOD_Q;
  CHECK(dist_cost_load(ctx, b, other, 0, err, sizeof err) == NULL && strstr(err, "is needed"));
  /* Loading a Q state into a regression trainer (or back) is refused. */
  dist_hparams ho = small((dist_method)other);
  dist_trainer *to = dist_trainer_create(ctx, &ho, &ch->d, err, sizeof err);
  char *ck = train_run_latest_checkpoint(b, NULL, err, sizeof err);
  CHECK(ck && !dist_trainer_load(to, ck, err, sizeof err) && strstr(err, "not a"));
  free(ck);
  dist_trainer_destroy(to);
  dist_trainer_destroy(jc.t);
}

/* A learning rate that blows the weights up: the loop stops with TRAIN_DIVERGED at the first
 * non-finite loss and the last good checkpoint stays loadable. */
static void test_nan_guard(cmp_ctx *ctx, const chain *ch, const char *base) {
  char dir[512], err[512];
  snprintf(dir, sizeof dir, "%s/nan", base);
  dist_hparams h = small(DIST_METHOD_Q);
  h.lr = 1e30f;
  job j = {0};
  j.t = dist_trainer_create(ctx, &h, &ch->d, err, sizeof err);
  train_run r;
  CHECK(train_run_create(&r, dir, "{}", err, sizeof err));
  train_loop loop = {.total_steps = 20,
                     .log_every = 1,
                     .checkpoint_every = 1,
                     .step = job_step,
                     .save = job_save,
                     .user = &j};
  loop.n_losses = dist_trainer_loss_names(j.t, loop.loss_names);
  train_result res = train_loop_run(&r, &loop, NULL, err, sizeof err);
  CHECK_MSG(res == TRAIN_DIVERGED, "result %d: %s", (int)res, err);
  int64_t good = r.step;
  CHECK_MSG(good >= 1 && strstr(err, "last good checkpoint"), "%s", err);
  train_run_close(&r);
  int64_t step = -1;
  char *ck = train_run_latest_checkpoint(dir, &step, err, sizeof err);
  CHECK(ck && step == good);
  dist_trainer *t2 = dist_trainer_create(ctx, &h, &ch->d, err, sizeof err);
  CHECK_MSG(ck && dist_trainer_load(t2, ck, err, sizeof err), "%s", err);
  free(ck);
  dist_trainer_destroy(t2);
  dist_trainer_destroy(j.t);
}

/* The actor learns: its gradient through critic 1 is not zero. (Batch norm in training mode makes
 * the batch mean of a head's output independent of the head's inputs, so a loss on a batch of actor
 * actions alone gave the actor a zero gradient: each actor row is now normalised together with the
 * data action of the same sample.) */
static double grad_norm(cmp_ctx *ctx, const nn_model *m) {
  size_t n = cmp_numel(&m->grads);
  float *g = malloc(n * sizeof *g);
  cmp_download(ctx, &m->grads, g);
  double s = 0;
  for (size_t i = 0; i < n; i++) s += (double)g[i] * g[i];
  free(g);
  return sqrt(s);
}

static void test_actor_gradient(cmp_ctx *ctx, const chain *ch) {
  char err[512];
  dist_hparams h = small(DIST_METHOD_Q);
  dist_trainer *t = dist_trainer_create(ctx, &h, &ch->d, err, sizeof err);
  float losses[DIST_MAX_LOSSES];
  const dist_nets *nets = dist_trainer_nets(t);
  double head = 0, enc = 0;
  for (int s = 1; s <= 6; s++) {
    CHECK(dist_trainer_step(t, s, losses, err, sizeof err));
    if (s % 2 == 0) { /* an actor step: the gradients of this step are still in the model */
      head += grad_norm(ctx, nets->actor->head);
      enc += grad_norm(ctx, nets->actor->encoder);
    }
  }
  CHECK_MSG(head > 1e-2 && enc > 1e-2, "actor gradient norms: head %g, encoder %g", head, enc);
  dist_trainer_destroy(t);
}

/* After fast training the inference-time (eval-mode) values of the networks follow the
 * training-mode ones on training data: the running statistics are recalibrated from the current
 * weights (the momentum-0.1 averages trail fast-moving weights). */
static void test_calibration(cmp_ctx *ctx, const chain *ch) {
  char err[512];
  dist_hparams h = small(DIST_METHOD_Q);
  h.batch = 16;
  h.lr = 3e-3f;
  dist_trainer *t = dist_trainer_create(ctx, &h, &ch->d, err, sizeof err);
  float losses[DIST_MAX_LOSSES], score[4];
  for (int s = 1; s <= 40; s++) CHECK(dist_trainer_step(t, s, losses, err, sizeof err));
  CHECK(dist_trainer_rank(t, ch->images, ch->images, 4, score, err, sizeof err));
  const dist_nets *nets = dist_trainer_nets(t);
  dist_batch b;
  CHECK(dist_batch_alloc(&b, 64, dist_trainer_sampler(t)));
  CHECK(dist_sampler_fill(dist_trainer_sampler(t), 12345, &b, err, sizeof err));
  cmp_arena *a = cmp_arena_create(ctx, CMP_ARENA_ACTIVATIONS, 1024);
  cmp_tensor act = cmp_arena_tensor(a, 64, 4, 1, 1);
  cmp_upload(ctx, &act, b.action);
  for (int k = 0; k < 2; k++) {
    nn_net_data *d = nn_net_data_create(nets->critic[k], 64);
    cmp_tensor pairs = nn_net_upload_pairs(d, b.cur, b.goal, 64, false);
    float ev[64], tr[64];
    cmp_download(ctx, nn_net_forward(d, &pairs, &act, false), ev);
    cmp_download(ctx, nn_net_forward(d, &pairs, &act, true), tr);
    double diff = 0, mean = 0, var = 0;
    for (int i = 0; i < 64; i++) diff += fabs(ev[i] - tr[i]) / 64, mean += tr[i] / 64;
    for (int i = 0; i < 64; i++) var += (tr[i] - mean) * (tr[i] - mean) / 64;
    /* Measured: 0.15-0.25 sd calibrated, 0.6-0.7 sd with the training averages. */
    CHECK_MSG(diff < 0.35 * sqrt(var),
              "critic %d: inference differs from training by %.3f (sd %.3f)", k + 1, diff,
              sqrt(var));
    nn_net_data_destroy(d);
  }
  cmp_arena_destroy(a);
  dist_batch_free(&b);
  dist_trainer_destroy(t);
}

/* The first steps' losses on the CPU and Vulkan backends (same seeds, same batches). */
static void test_backends(const chain *ch) {
  char err[512];
  cmp_ctx *vk = cmp_create(CMP_BACKEND_VULKAN, NULL, NULL, 0, err, sizeof err);
  if (!vk) {
    fprintf(stderr, "test_dist_train: backends: skipped, no Vulkan backend (%s)\n", err);
    return;
  }
  cmp_ctx *cpu = cmp_create(CMP_BACKEND_CPU, NULL, NULL, 0, err, sizeof err);
  for (int m = 0; m < 2; m++) {
    dist_hparams h = small((dist_method)m);
    dist_trainer *a = dist_trainer_create(cpu, &h, &ch->d, err, sizeof err);
    dist_trainer *b = dist_trainer_create(vk, &h, &ch->d, err, sizeof err);
    const char *names[DIST_MAX_LOSSES];
    int nl = dist_trainer_loss_names(a, names);
    for (int s = 1; s <= 2; s++) {
      float la[DIST_MAX_LOSSES], lb[DIST_MAX_LOSSES];
      CHECK(dist_trainer_step(a, s, la, err, sizeof err));
      CHECK(dist_trainer_step(b, s, lb, err, sizeof err));
      for (int i = 0; i < nl; i++)
        CHECK_MSG(fabsf(la[i] - lb[i]) <= 1e-3f * (1 + fabsf(la[i])),
                  "%s step %d %s: cpu %.7g, vulkan %.7g", dist_method_name((dist_method)m), s,
                  names[i], la[i], lb[i]);
    }
    dist_trainer_destroy(a);
    dist_trainer_destroy(b);
  }
  CHECK(cmp_validation_message_count(vk) == 0);
  cmp_destroy(vk);
  cmp_destroy(cpu);
}

int main(void) {
  char base[] = "/tmp/mbold-dist-train-XXXXXX";
  CHECK(mkdtemp(base) != NULL);
  chain ch;
  chain_make(&ch, N, T, L, 21);
  char err[512];
  cmp_ctx *ctx = cmp_create(CMP_BACKEND_CPU, NULL, NULL, 0, err, sizeof err);
  test_resume(ctx, &ch, DIST_METHOD_Q, base);
  test_resume(ctx, &ch, DIST_METHOD_REGRESSION, base);
  test_nan_guard(ctx, &ch, base);
  test_actor_gradient(ctx, &ch);
  test_calibration(ctx, &ch);
  cmp_destroy(ctx);
  test_backends(&ch);
  chain_free(&ch);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
  CHECK(system(cmd) == 0);
  return test_exit_code("test_dist_train");
}
