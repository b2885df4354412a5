#include "dist_train.h"

#include "cmp_backend.h" /* cmp_die */
#include "dist_steps.h"
#include "mb_clock.h"
#include "mb_err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Philox streams of the device-side draws (the sampler's are in dist_sampler.c). */
#define STREAM_TARGET_NOISE 0x44540001u
#define STREAM_CQL_ACTIONS  0x44540002u
#define ALPHA_MAX           1e6f /* CQL's clamp of the multiplier */
#define INFER_BATCH         200  /* pairs per inference pass (metrics) */
/* Rows of the Q-function's read-back scalars (dist_trainer.scalars). */
enum { SC_BELL = 0, SC_GAP = 2, SC_ACTOR = 4, SC_QDATA = 5, SC_COUNT = 6 };
/* The critics' output bias starts in the middle of the values Q can take, (5 + 10) / 2, instead
 * of PyTorch's uniform(+-1/sqrt(128)): with batch norm before the last layer the batch mean of Q
 * is that bias plus w . beta, which Adam would otherwise spend its first thousand steps raising. */
/* Batch-norm calibration: batches of training data whose cumulative statistics replace the running
 * averages before any inference (see calibrate()). Drawn once, from the sampler's batches numbered
 * from CALIB_STEP0 (never reached by training). */
#define CALIB_BATCHES 16
#define CALIB_STEP0   ((int64_t)1 << 40)
#define Q_BIAS_INIT   ((DIST_REWARD_STEP / (1.0f - DIST_GAMMA) + DIST_REWARD_GOAL) / 2)

/* ---- hyperparameters ------------------------------------------------------------------------- */

dist_hparams dist_hparams_default(dist_method method, float cql_tau) {
  dist_hparams h = {
      .method = method,
      .seed = 0,
      .batch = 64,
      .lr = 3e-4f,
      .adam_b1 = 0.9f,
      .adam_b2 = 0.999f,
      .adam_eps = 1e-8f,
      .polyak = 0.995f,
      .policy_delay = 2,
      .policy_noise = 0.1f,
      .noise_clip = 0.2f,
      .cql = method == DIST_METHOD_Q,
      .cql_actions = 10,
      .cql_tau = cql_tau,
      .cql_alpha_lr = 1e-3f,
      .cql_log_alpha_init = 0.0f,
      .sampler = dist_sampler_params_default(),
  };
  return h;
}

float dist_cql_tau_for_task(const char *task) {
  return task && !strcmp(task, "door") ? 10.0f : 30.0f;
}

bool dist_hparams_check(const dist_hparams *h, char *err, size_t err_sz) {
  if (h->batch < 2 || h->batch > 4096)
    return mb_fail(err, err_sz, "batch %d outside 2..4096", h->batch);
  if (!(h->lr > 0) || !(h->adam_eps > 0) || !(h->adam_b1 >= 0 && h->adam_b1 < 1) ||
      !(h->adam_b2 >= 0 && h->adam_b2 < 1))
    return mb_fail(err, err_sz, "Adam settings lr %g, betas %g %g, eps %g are invalid", h->lr,
                   h->adam_b1, h->adam_b2, h->adam_eps);
  if (!(h->polyak >= 0 && h->polyak <= 1) || h->policy_delay < 1 || !(h->policy_noise >= 0) ||
      !(h->noise_clip >= 0))
    return mb_fail(err, err_sz, "TD3 settings polyak %g, delay %d, noise %g clip %g are invalid",
                   h->polyak, h->policy_delay, h->policy_noise, h->noise_clip);
  if (h->cql && (h->cql_actions < 1 || h->cql_actions > 64 || !(h->cql_alpha_lr > 0) ||
                 !isfinite(h->cql_tau) || !isfinite(h->cql_log_alpha_init)))
    return mb_fail(err, err_sz, "CQL settings (%d actions, tau %g, lr %g) are invalid",
                   h->cql_actions, h->cql_tau, h->cql_alpha_lr);
  return true;
}

void dist_hparams_write(const dist_hparams *h, mb_jw *w) {
  mb_jw_kv_string(w, "method", dist_method_name(h->method));
  mb_jw_kv_int(w, "seed", (int64_t)h->seed);
  mb_jw_kv_int(w, "batch", h->batch);
  mb_jw_key(w, "lr"), mb_jw_float(w, h->lr);
  mb_jw_key(w, "adam_b1"), mb_jw_float(w, h->adam_b1);
  mb_jw_key(w, "adam_b2"), mb_jw_float(w, h->adam_b2);
  mb_jw_key(w, "adam_eps"), mb_jw_float(w, h->adam_eps);
  /* Constants of the reward design (dist_steps.h), written so that the file says everything. */
  mb_jw_key(w, "gamma"), mb_jw_float(w, DIST_GAMMA);
  mb_jw_key(w, "reward_step"), mb_jw_float(w, DIST_REWARD_STEP);
  mb_jw_key(w, "reward_goal"), mb_jw_float(w, DIST_REWARD_GOAL);
  mb_jw_key(w, "polyak"), mb_jw_float(w, h->polyak);
  mb_jw_kv_int(w, "policy_delay", h->policy_delay);
  mb_jw_key(w, "policy_noise"), mb_jw_float(w, h->policy_noise);
  mb_jw_key(w, "noise_clip"), mb_jw_float(w, h->noise_clip);
  mb_jw_kv_bool(w, "cql", h->cql);
  mb_jw_kv_int(w, "cql_actions", h->cql_actions);
  mb_jw_key(w, "cql_tau"), mb_jw_float(w, h->cql_tau);
  mb_jw_key(w, "cql_alpha_lr"), mb_jw_float(w, h->cql_alpha_lr);
  mb_jw_key(w, "cql_log_alpha_init"), mb_jw_float(w, h->cql_log_alpha_init);
  mb_jw_key(w, "goal_geom_p"), mb_jw_float(w, h->sampler.geom_p);
  mb_jw_key(w, "negative_fraction"), mb_jw_float(w, h->sampler.negative_fraction);
  mb_jw_kv_int(w, "knn_max_points", h->sampler.knn_max_points);
  mb_jw_kv_int(w, "knn_k", h->sampler.knn_k);
  mb_jw_kv_int(w, "negative_choices", h->sampler.negative_choices);
  mb_jw_kv_int(w, "regression_max", h->sampler.regression_max);
  mb_jw_kv_string(w, "encoder",
                  "conv 6->8->16->32->64, k4 s2 p1, LeakyReLU(0.2) each, BN after 2nd and 3rd");
  mb_jw_kv_string(w, "q_head", "6 linear (1028->128, 4x 128->128, 128->1), ReLU+BN between");
  mb_jw_kv_string(w, "actor_head", "10 linear (1024->128, 8x 128->128, 128->4), ReLU+BN, tanh");
  mb_jw_kv_string(w, "regression_head", "5 linear (1024->256, 3x 256->256, 256->1), ReLU+BN");
}

static bool get_num(const mb_json *o, const char *key, double *v, char *err, size_t err_sz) {
  if (!mb_json_as_number(mb_json_get(o, key), v))
    return mb_fail(err, err_sz, "config: missing or non-numeric \"%s\"", key);
  return true;
}

static bool get_f(const mb_json *o, const char *key, float *v, char *err, size_t err_sz) {
  double d;
  if (!get_num(o, key, &d, err, err_sz)) return false;
  *v = (float)d;
  return true;
}

static bool get_i(const mb_json *o, const char *key, int *v, char *err, size_t err_sz) {
  int64_t i;
  if (!mb_json_as_int64(mb_json_get(o, key), &i) || i < INT32_MIN || i > INT32_MAX)
    return mb_fail(err, err_sz, "config: missing or non-integer \"%s\"", key);
  *v = (int)i;
  return true;
}

bool dist_hparams_read(const mb_json *o, dist_hparams *h, char *err, size_t err_sz) {
  memset(h, 0, sizeof *h);
  const char *m = mb_json_as_string(mb_json_get(o, "method"));
  if (!dist_method_parse(m, &h->method))
    return mb_fail(err, err_sz, "config: missing or unknown \"method\"");
  int64_t seed;
  if (!mb_json_as_int64(mb_json_get(o, "seed"), &seed))
    return mb_fail(err, err_sz, "config: missing \"seed\"");
  h->seed = (uint64_t)seed;
  h->sampler.seed = h->seed;
  if (!mb_json_as_bool(mb_json_get(o, "cql"), &h->cql))
    return mb_fail(err, err_sz, "config: missing \"cql\"");
  return get_i(o, "batch", &h->batch, err, err_sz) && get_f(o, "lr", &h->lr, err, err_sz) &&
         get_f(o, "adam_b1", &h->adam_b1, err, err_sz) &&
         get_f(o, "adam_b2", &h->adam_b2, err, err_sz) &&
         get_f(o, "adam_eps", &h->adam_eps, err, err_sz) &&
         get_f(o, "polyak", &h->polyak, err, err_sz) &&
         get_i(o, "policy_delay", &h->policy_delay, err, err_sz) &&
         get_f(o, "policy_noise", &h->policy_noise, err, err_sz) &&
         get_f(o, "noise_clip", &h->noise_clip, err, err_sz) &&
         get_i(o, "cql_actions", &h->cql_actions, err, err_sz) &&
         get_f(o, "cql_tau", &h->cql_tau, err, err_sz) &&
         get_f(o, "cql_alpha_lr", &h->cql_alpha_lr, err, err_sz) &&
         get_f(o, "cql_log_alpha_init", &h->cql_log_alpha_init, err, err_sz) &&
         get_f(o, "goal_geom_p", &h->sampler.geom_p, err, err_sz) &&
         get_f(o, "negative_fraction", &h->sampler.negative_fraction, err, err_sz) &&
         get_i(o, "knn_max_points", &h->sampler.knn_max_points, err, err_sz) &&
         get_i(o, "knn_k", &h->sampler.knn_k, err, err_sz) &&
         get_i(o, "negative_choices", &h->sampler.negative_choices, err, err_sz) &&
         get_i(o, "regression_max", &h->sampler.regression_max, err, err_sz) &&
         dist_hparams_check(h, err, err_sz);
}

/* ---- the trainer ----------------------------------------------------------------------------- */

enum { MAX_ADAM = 6 };

struct dist_trainer {
  cmp_ctx *ctx;                      /* backend (borrowed) */
  dist_hparams h;                    /* settings */
  const dist_dataset *data;          /* train split (borrowed) */
  dist_sampler *sampler;             /* batches (owned) */
  dist_prefetch *prefetch;           /* the batch thread (owned) */
  dist_nets *nets;                   /* online networks (owned) */
  dist_nets *targets;                /* Q: target critics and actor (owned), else NULL */
  nn_model *models[MAX_ADAM];        /* the models Adam updates, in checkpoint order (borrowed) */
  const char *optim_names[MAX_ADAM]; /* their optimiser prefixes in the checkpoint */
  nn_adam *adam[MAX_ADAM];           /* one optimiser per model (owned) */
  int n_models;                      /* models[0 .. n_models) */
  /* Q activations (owned) */
  nn_data *enc[2];           /* critic encoders on (s, g) */
  nn_data *head_data[2];     /* critic heads on the data actions, batch B */
  nn_data *head_rand[2];     /* critic heads on the CQL actions, batch K x B from B features */
  nn_data *head_pi;          /* critic 1's head on data and actor actions, 2B rows from B */
  nn_net_data *targ_data[3]; /* target critic 1, 2, target actor on (s', g) */
  nn_net_data *pi_data;      /* the actor on (s, g) */
  nn_net_data *reg_data;     /* regression network on (s_i, s_g) */
  /* device tensors (owned by arena) */
  cmp_arena *arena;          /* everything below */
  cmp_tensor pairs_s;        /* [B, 6, 64, 64] (s, g) */
  cmp_tensor pairs_s2;       /* [B, 6, 64, 64] (s', g) */
  cmp_tensor act;            /* [B, 4] data actions */
  cmp_tensor rew, disc;      /* [B, 1] reward, gamma * (1 - terminal) */
  cmp_tensor label;          /* [B, 1] regression labels */
  cmp_tensor noise;          /* [B, 4] target-policy noise */
  cmp_tensor a2;             /* [B, 4] noisy target action */
  cmp_tensor y;              /* [B, 1] Bellman target */
  cmp_tensor rand_act;       /* [K B, 4] CQL actions: rows b K .. b K + K - 1 belong to sample b */
  cmp_tensor dq[2];          /* [B, 1] gradient of each critic's loss w.r.t. Q(s, a, g) */
  cmp_tensor dq_rand;        /* [K B, 1] gradient w.r.t. the random-action Q-values */
  cmp_tensor lse, dlse, gap; /* [B, 1] logsumexp, its gradient, per-sample CQL gap */
  cmp_tensor cst;            /* [B, 1] constant gradient term */
  cmp_tensor dfeat;          /* [B, 1024] gradient w.r.t. encoder features */
  cmp_tensor pi_actions;     /* [2B, 4] rows 2b: data action of sample b, 2b + 1: pi(s_b, g_b) */
  cmp_tensor dpi_actions;    /* [2B, 4] gradient of the actor loss w.r.t. pi_actions */
  cmp_tensor q_pi;           /* [B, 1] Q1(s, pi(s, g), g) */
  cmp_tensor dq_pi;          /* [2B, 1] constant: 0 on data rows, -1/B on actor rows */
  cmp_tensor da;             /* [B, 4] ... w.r.t. the actor's action */
  cmp_tensor dfeat_pi;       /* [B, 1024] ... w.r.t. the actor's features */
  cmp_tensor dout;           /* [B, 1] regression loss gradient */
  /* The Q-function's scalars read back after a step, rows of one tensor so that a step reads
   * them in one download (on Vulkan each download of its own is a submit and a wait). */
  cmp_tensor scalars;                               /* [SC_COUNT, 1] */
  cmp_tensor s_bell[2], s_gap[2], s_actor, s_qdata; /* its rows */
  cmp_tensor s_l2;                                  /* [1, 1] the regression's loss */
  /* batch-norm calibration (see calibrate()) */
  int32_t *calib_ep, *calib_t;     /* (CALIB_BATCHES x B) frames of the calibration batches */
  int32_t *calib_gep, *calib_gt;   /* (CALIB_BATCHES x B) their goals */
  float *calib_act;                /* (CALIB_BATCHES x B x 4) their actions */
  uint8_t *calib_cur, *calib_goal; /* (B x 64 x 64 x 3) host staging */
  int64_t last_step;               /* the last step trained (or loaded) */
  int64_t calibrated_step;         /* last_step when the statistics were calibrated, or -1 */
  /* CQL multiplier (host; saved in checkpoints) */
  float log_alpha;        /* log alpha */
  float alpha_m, alpha_v; /* its Adam moments */
  int64_t alpha_t;        /* its Adam steps */
  float last_actor;       /* latest actor loss (reported on steps without an actor update) */
  dist_infer *infer;      /* eval-mode inference on the online networks (lazy, owned) */
  double *prof;           /* per-phase seconds, or NULL */
  double t_phase;         /* start of the current phase */
};

static void free_calibration(dist_trainer *t) {
  free(t->calib_ep), free(t->calib_t), free(t->calib_gep), free(t->calib_gt), free(t->calib_act);
  free(t->calib_cur), free(t->calib_goal);
}

/* Records the frames, goals and actions of the calibration batches (images are gathered again when
 * calibrating, so only indices are kept). */
static bool draw_calibration(dist_trainer *t, char *err, size_t err_sz) {
  const int B = t->h.batch, n = CALIB_BATCHES * B;
  t->calib_ep = malloc((size_t)n * sizeof(int32_t));
  t->calib_t = malloc((size_t)n * sizeof(int32_t));
  t->calib_gep = malloc((size_t)n * sizeof(int32_t));
  t->calib_gt = malloc((size_t)n * sizeof(int32_t));
  t->calib_act = malloc((size_t)n * DIST_ACTION_DIM * sizeof(float));
  t->calib_cur = malloc((size_t)B * DIST_IMAGE_BYTES);
  t->calib_goal = malloc((size_t)B * DIST_IMAGE_BYTES);
  dist_batch b;
  if (!t->calib_ep || !t->calib_t || !t->calib_gep || !t->calib_gt || !t->calib_act ||
      !t->calib_cur || !t->calib_goal || !dist_batch_alloc(&b, B, t->sampler))
    return mb_fail(err, err_sz, "out of memory");
  bool ok = true;
  for (int k = 0; ok && k < CALIB_BATCHES; k++) {
    ok = dist_sampler_fill(t->sampler, CALIB_STEP0 + k, &b, err, err_sz);
    size_t o = (size_t)k * B;
    memcpy(t->calib_ep + o, b.ep, (size_t)B * sizeof(int32_t));
    memcpy(t->calib_t + o, b.t, (size_t)B * sizeof(int32_t));
    memcpy(t->calib_gep + o, b.goal_ep, (size_t)B * sizeof(int32_t));
    memcpy(t->calib_gt + o, b.goal_t, (size_t)B * sizeof(int32_t));
    if (t->h.method == DIST_METHOD_Q)
      memcpy(t->calib_act + o * DIST_ACTION_DIM, b.action,
             (size_t)B * DIST_ACTION_DIM * sizeof(float));
  }
  dist_batch_free(&b);
  return ok;
}

static cmp_tensor tensor(dist_trainer *t, int n, int c) {
  return cmp_arena_tensor(t->arena, n, c, 1, 1);
}

static void add_model(dist_trainer *t, nn_model *m, const char *optim_name) {
  const dist_hparams *h = &t->h;
  t->models[t->n_models] = m;
  t->optim_names[t->n_models] = optim_name;
  t->adam[t->n_models] = nn_adam_create(m, h->lr, h->adam_b1, h->adam_b2, h->adam_eps);
  t->n_models++;
}

dist_trainer *dist_trainer_create(cmp_ctx *ctx, const dist_hparams *hp, const dist_dataset *data,
                                  char *err, size_t err_sz) {
  if (!dist_hparams_check(hp, err, err_sz)) return NULL;
  dist_trainer *t = calloc(1, sizeof *t);
  if (!t) return mb_fail_null(err, err_sz, "out of memory");
  t->ctx = ctx;
  t->h = *hp;
  t->h.sampler.seed = hp->seed;
  t->data = data;
  const int B = t->h.batch, K = t->h.cql_actions;
  t->sampler = dist_sampler_create(data, t->h.method, &t->h.sampler, err, err_sz);
  if (!t->sampler) {
    free(t);
    return NULL;
  }
  if (!draw_calibration(t, err, err_sz) ||
      !(t->prefetch = dist_prefetch_create(t->sampler, B, err, err_sz))) {
    free_calibration(t);
    dist_sampler_destroy(t->sampler);
    free(t);
    return NULL;
  }
  t->calibrated_step = -1;
  t->nets = dist_nets_create(ctx, t->h.method, t->h.seed, true);
  t->arena = cmp_arena_create(ctx, CMP_ARENA_ACTIVATIONS, (size_t)1 << 22);
  t->pairs_s = cmp_arena_tensor(t->arena, B, NN_PAIR_CHANNELS, NN_IMAGE_SIZE, NN_IMAGE_SIZE);
  t->dfeat = tensor(t, B, NN_FEATURES);
  if (t->h.method == DIST_METHOD_Q) {
    for (int k = 0; k < 2; k++) {
      const nn_model *head = t->nets->critic[k]->head;
      cmp_fill(ctx, &head->tensors[head->layers[head->nlayers - 1].bias].value, Q_BIAS_INIT);
    }
    t->targets = dist_nets_create(ctx, DIST_METHOD_Q, t->h.seed, false);
    dist_nets_copy(t->targets, t->nets);
    for (int k = 0; k < 2; k++) {
      nn_net *c = t->nets->critic[k];
      t->enc[k] = nn_data_create(c->encoder, B, B);
      t->head_data[k] = nn_data_create(c->head, B, B);
      if (t->h.cql) t->head_rand[k] = nn_data_create(c->head, K * B, B);
      t->targ_data[k] = nn_net_data_create(t->targets->critic[k], B);
    }
    t->targ_data[2] = nn_net_data_create(t->targets->actor, B);
    t->head_pi = nn_data_create(t->nets->critic[0]->head, 2 * B, B);
    t->pi_data = nn_net_data_create(t->nets->actor, B);
    add_model(t, t->nets->critic[0]->encoder, "optim.critic1.enc.");
    add_model(t, t->nets->critic[0]->head, "optim.critic1.head.");
    add_model(t, t->nets->critic[1]->encoder, "optim.critic2.enc.");
    add_model(t, t->nets->critic[1]->head, "optim.critic2.head.");
    add_model(t, t->nets->actor->encoder, "optim.actor.enc.");
    add_model(t, t->nets->actor->head, "optim.actor.head.");
    t->pairs_s2 = cmp_arena_tensor(t->arena, B, NN_PAIR_CHANNELS, NN_IMAGE_SIZE, NN_IMAGE_SIZE);
    t->act = tensor(t, B, NN_ACTION_DIM);
    t->rew = tensor(t, B, 1);
    t->disc = tensor(t, B, 1);
    t->noise = tensor(t, B, NN_ACTION_DIM);
    t->a2 = tensor(t, B, NN_ACTION_DIM);
    t->y = tensor(t, B, 1);
    if (t->h.cql) {
      t->rand_act = tensor(t, K * B, NN_ACTION_DIM);
      t->dq_rand = tensor(t, K * B, 1);
    }
    t->scalars = tensor(t, SC_COUNT, 1);
    for (int k = 0; k < 2; k++) {
      t->dq[k] = tensor(t, B, 1);
      t->s_bell[k] = cmp_rows(t->scalars, SC_BELL + k, 1);
      t->s_gap[k] = cmp_rows(t->scalars, SC_GAP + k, 1);
    }
    t->lse = tensor(t, B, 1);
    t->dlse = tensor(t, B, 1);
    t->gap = tensor(t, B, 1);
    t->cst = tensor(t, B, 1);
    t->pi_actions = tensor(t, 2 * B, NN_ACTION_DIM);
    t->dpi_actions = tensor(t, 2 * B, NN_ACTION_DIM);
    t->q_pi = tensor(t, B, 1);
    t->dq_pi = tensor(t, 2 * B, 1);
    float *g = calloc((size_t)(2 * B), sizeof *g);
    if (!g) cmp_die("dist_trainer_create: out of memory");
    for (int b = 0; b < B; b++) g[2 * b + 1] = -1.0f / (float)B;
    cmp_upload(ctx, &t->dq_pi, g);
    free(g);
    t->da = tensor(t, B, NN_ACTION_DIM);
    t->dfeat_pi = tensor(t, B, NN_FEATURES);
    t->s_actor = cmp_rows(t->scalars, SC_ACTOR, 1);
    t->s_qdata = cmp_rows(t->scalars, SC_QDATA, 1);
    t->log_alpha = t->h.cql_log_alpha_init;
  } else {
    t->reg_data = nn_net_data_create(t->nets->regression, B);
    add_model(t, t->nets->regression->encoder, "optim.regression.enc.");
    add_model(t, t->nets->regression->head, "optim.regression.head.");
    t->label = tensor(t, B, 1);
    t->dout = tensor(t, B, 1);
    t->s_l2 = tensor(t, 1, 1);
  }
  return t;
}

void dist_trainer_destroy(dist_trainer *t) {
  if (!t) return;
  dist_prefetch_destroy(t->prefetch);
  dist_sampler_destroy(t->sampler);
  dist_infer_destroy(t->infer);
  for (int k = 0; k < 2; k++) {
    nn_data_destroy(t->enc[k]);
    nn_data_destroy(t->head_data[k]);
    nn_data_destroy(t->head_rand[k]);
  }
  for (int k = 0; k < 3; k++) nn_net_data_destroy(t->targ_data[k]);
  nn_data_destroy(t->head_pi);
  nn_net_data_destroy(t->pi_data);
  nn_net_data_destroy(t->reg_data);
  for (int i = 0; i < t->n_models; i++) nn_adam_destroy(t->adam[i]);
  free_calibration(t);
  cmp_arena_destroy(t->arena);
  dist_nets_destroy(t->targets);
  dist_nets_destroy(t->nets);
  free(t);
}

int dist_trainer_loss_names(const dist_trainer *t, const char **names) {
  if (t->h.method == DIST_METHOD_REGRESSION) {
    names[0] = "l2";
    return 1;
  }
  names[0] = "bellman", names[1] = "cql_gap", names[2] = "alpha", names[3] = "actor";
  names[4] = "q_data";
  return 5;
}

const dist_nets *dist_trainer_nets(const dist_trainer *t) {
  return t->nets;
}
const dist_sampler *dist_trainer_sampler(const dist_trainer *t) {
  return t->sampler;
}

void dist_trainer_profile(dist_trainer *t, double *times) {
  t->prof = times;
}

static void phase_start(dist_trainer *t) {
  if (t->prof) {
    cmp_sync(t->ctx);
    t->t_phase = mb_now();
  }
}

static void phase_end(dist_trainer *t, int phase) {
  if (t->prof) {
    cmp_sync(t->ctx);
    double now = mb_now();
    t->prof[phase] += now - t->t_phase;
    t->t_phase = now;
  }
}

static float read_scalar(dist_trainer *t, const cmp_tensor *s) {
  float v;
  cmp_download(t->ctx, s, &v);
  return v;
}

static bool upload_batch(dist_trainer *t, int64_t step, char *err, size_t err_sz) {
  const dist_batch *b = dist_prefetch_get(t->prefetch, step, err, err_sz);
  if (!b) return false;
  cmp_ctx *ctx = t->ctx;
  cmp_upload_u8_hwc(ctx, &t->pairs_s, 0, b->cur, NN_PIXEL_SCALE, 0.0f);
  cmp_upload_u8_hwc(ctx, &t->pairs_s, 3, b->goal, NN_PIXEL_SCALE, 0.0f);
  if (t->h.method == DIST_METHOD_Q) {
    cmp_upload_u8_hwc(ctx, &t->pairs_s2, 0, b->next, NN_PIXEL_SCALE, 0.0f);
    /* The same goals: a device-side copy of the converted ones (cheaper than converting again). */
    cmp_copy_channels(ctx, &t->pairs_s, 3, &t->pairs_s2, 3, 3, 0.0f);
    cmp_upload(ctx, &t->act, b->action);
    cmp_upload(ctx, &t->rew, b->reward);
    cmp_upload(ctx, &t->disc, b->discount);
  } else {
    cmp_upload(ctx, &t->label, b->label);
  }
  return true;
}

/* y = r + gamma (1 - terminal) min(Q1', Q2')(s', clip(pi'(s', g) + clip(noise), +-1), g). */
static void targets(dist_trainer *t, int64_t step) {
  cmp_ctx *ctx = t->ctx;
  const dist_hparams *h = &t->h;
  const int B = h->batch;
  const cmp_tensor *a2 = nn_net_forward(t->targ_data[2], &t->pairs_s2, NULL, true);
  cmp_rng_normal(ctx, &t->noise, h->seed, STREAM_TARGET_NOISE,
                 (uint64_t)step * (uint64_t)B * NN_ACTION_DIM, 0.0f, h->policy_noise);
  cmp_clamp(ctx, &t->noise, &t->noise, -h->noise_clip, h->noise_clip);
  cmp_binary(ctx, CMP_ADD, a2, &t->noise, &t->a2);
  cmp_clamp(ctx, &t->a2, &t->a2, -1.0f, 1.0f);
  const cmp_tensor *q1 = nn_net_forward(t->targ_data[0], &t->pairs_s2, &t->a2, true);
  const cmp_tensor *q2 = nn_net_forward(t->targ_data[1], &t->pairs_s2, &t->a2, true);
  cmp_binary(ctx, CMP_MIN, q1, q2, &t->y);
  cmp_binary(ctx, CMP_MUL, &t->y, &t->disc, &t->y);
  cmp_binary(ctx, CMP_ADD, &t->y, &t->rew, &t->y);
}

/* Forward, losses and backward of critic k (gradients into the critic's grads). */
static void critic(dist_trainer *t, int k, float alpha) {
  cmp_ctx *ctx = t->ctx;
  const dist_hparams *h = &t->h;
  const int B = h->batch, K = h->cql_actions;
  nn_net_zero_grad(t->nets->critic[k]);
  const cmp_tensor *feat = nn_forward(t->enc[k], &t->pairs_s, true);
  cmp_tensor f = cmp_reshape(*feat, B, NN_FEATURES, 1, 1);
  const cmp_tensor *q = nn_forward_cat(t->head_data[k], &f, &t->act, 1, true);
  cmp_mse_fwd(ctx, q, &t->y, &t->s_bell[k]);
  cmp_mse_bwd(ctx, q, &t->y, 1.0f, &t->dq[k], 0.0f);
  if (k == 0) cmp_reduce(ctx, q, B, 1, true, &t->s_qdata, 0.0f);
  if (h->cql) {
    const cmp_tensor *qr = nn_forward_cat(t->head_rand[k], &f, &t->rand_act, K, true);
    cmp_tensor qr_b = cmp_reshape(*qr, B, K, 1, 1);
    cmp_logsumexp_fwd(ctx, &qr_b, &t->lse);
    cmp_binary(ctx, CMP_SUB, &t->lse, q, &t->gap);
    cmp_reduce(ctx, &t->gap, B, 1, true, &t->s_gap[k], 0.0f);
    /* d/dQ(s, a, g) of alpha * mean(gap) is -alpha / B; d/dQ(s, a_j, g) is alpha / B softmax_j. */
    cmp_fill(ctx, &t->cst, -alpha / (float)B);
    cmp_axpby(ctx, &t->cst, &t->dq[k], 1.0f, 1.0f);
    cmp_fill(ctx, &t->dlse, alpha / (float)B);
    cmp_tensor dqr_b = cmp_reshape(t->dq_rand, B, K, 1, 1);
    cmp_logsumexp_bwd(ctx, &qr_b, &t->lse, &t->dlse, &dqr_b, 0.0f);
  }
  nn_backward(t->head_data[k], &t->dq[k], true, &t->dfeat, 0.0f, NULL, 0.0f);
  if (h->cql) nn_backward(t->head_rand[k], &t->dq_rand, true, &t->dfeat, 1.0f, NULL, 0.0f);
  nn_backward(t->enc[k], &t->dfeat, true, NULL, 0.0f, NULL, 0.0f);
}

/* -mean Q1(s, pi(s, g), g) through critic 1's head on this step's critic-1 features.
 *
 * Batch norm in training mode normalises over the batch, so the batch mean of a head's output is
 * b + w . beta whatever the inputs, and a batch of actor actions alone would give the actor exactly
 * zero gradient. The head therefore sees each sample twice, with the data action and with the
 * actor's action (rows 2b and 2b + 1, one batch-norm batch of 2B), and the loss is the mean over
 * the actor's rows: the actor is pushed towards actions the critic values above the data's. */
static void actor(dist_trainer *t) {
  cmp_ctx *ctx = t->ctx;
  const int B = t->h.batch;
  nn_net_zero_grad(t->nets->actor);
  const cmp_tensor *api = nn_net_forward(t->pi_data, &t->pairs_s, NULL, true);
  cmp_tensor pair_view = cmp_reshape(t->pi_actions, B, 2 * NN_ACTION_DIM, 1, 1);
  cmp_copy_channels(ctx, &t->act, 0, &pair_view, 0, NN_ACTION_DIM, 0.0f);
  cmp_copy_channels(ctx, api, 0, &pair_view, NN_ACTION_DIM, NN_ACTION_DIM, 0.0f);
  cmp_tensor f1 = cmp_reshape(*nn_output(t->enc[0]), B, NN_FEATURES, 1, 1);
  const cmp_tensor *qpi = nn_forward_cat(t->head_pi, &f1, &t->pi_actions, 2, true);
  cmp_tensor q_pairs = cmp_reshape(*qpi, B, 2, 1, 1);
  cmp_copy_channels(ctx, &q_pairs, 1, &t->q_pi, 0, 1, 0.0f);
  cmp_reduce(ctx, &t->q_pi, B, 1, true, &t->s_actor, 0.0f);
  nn_backward(t->head_pi, &t->dq_pi, false, NULL, 0.0f, &t->dpi_actions, 0.0f);
  cmp_tensor dpair_view = cmp_reshape(t->dpi_actions, B, 2 * NN_ACTION_DIM, 1, 1);
  cmp_copy_channels(ctx, &dpair_view, NN_ACTION_DIM, &t->da, 0, NN_ACTION_DIM, 0.0f);
  nn_backward(t->pi_data->head, &t->da, true, &t->dfeat_pi, 0.0f, NULL, 0.0f);
  nn_backward(t->pi_data->enc, &t->dfeat_pi, true, NULL, 0.0f, NULL, 0.0f);
}

/* One Adam step on log alpha with gradient -alpha (gap - tau) (PyTorch's Adam, in double from the
 * saved float state so that a resumed run computes the same floats). */
static void alpha_update(dist_trainer *t, float alpha, float gap) {
  const dist_hparams *h = &t->h;
  const double b1 = h->adam_b1, b2 = h->adam_b2;
  double g = -(double)alpha * ((double)gap - (double)h->cql_tau);
  t->alpha_t++;
  t->alpha_m = (float)(b1 * t->alpha_m + (1 - b1) * g);
  t->alpha_v = (float)(b2 * t->alpha_v + (1 - b2) * g * g);
  double mhat = t->alpha_m / (1 - pow(b1, (double)t->alpha_t));
  double vhat = t->alpha_v / (1 - pow(b2, (double)t->alpha_t));
  t->log_alpha = (float)(t->log_alpha - h->cql_alpha_lr * mhat / (sqrt(vhat) + h->adam_eps));
}

static bool step_q(dist_trainer *t, int64_t step, float *losses, char *err, size_t err_sz) {
  const dist_hparams *h = &t->h;
  phase_start(t);
  if (!upload_batch(t, step, err, err_sz)) return false;
  phase_end(t, DIST_PHASE_BATCH);
  targets(t, step);
  phase_end(t, DIST_PHASE_TARGETS);
  float alpha = 0.0f;
  if (h->cql) {
    alpha = expf(t->log_alpha);
    if (!(alpha <= ALPHA_MAX)) alpha = ALPHA_MAX;
    cmp_rng_uniform(t->ctx, &t->rand_act, h->seed, STREAM_CQL_ACTIONS,
                    (uint64_t)step * (uint64_t)(h->batch * h->cql_actions) * NN_ACTION_DIM, -1.0f,
                    1.0f);
  }
  critic(t, 0, alpha);
  critic(t, 1, alpha);
  phase_end(t, DIST_PHASE_CRITICS);
  bool actor_step = step % h->policy_delay == 0;
  if (actor_step) actor(t);
  phase_end(t, DIST_PHASE_ACTOR);
  int n_update = actor_step ? 6 : 4;
  for (int i = 0; i < n_update; i++) nn_adam_step(t->adam[i], t->models[i]);
  if (actor_step) {
    for (int k = 0; k < 2; k++)
      nn_net_polyak(t->targets->critic[k], t->nets->critic[k], h->polyak, false);
    nn_net_polyak(t->targets->actor, t->nets->actor, h->polyak, false);
  }
  float sc[SC_COUNT];
  cmp_download(t->ctx, &t->scalars, sc);
  float gap = h->cql ? 0.5f * (sc[SC_GAP] + sc[SC_GAP + 1]) : 0.0f;
  if (actor_step) t->last_actor = -sc[SC_ACTOR]; /* written on actor steps only */
  losses[0] = 0.5f * (sc[SC_BELL] + sc[SC_BELL + 1]);
  losses[1] = gap;
  losses[2] = alpha;
  losses[3] = t->last_actor;
  losses[4] = sc[SC_QDATA];
  if (h->cql) alpha_update(t, alpha, gap);
  phase_end(t, DIST_PHASE_UPDATE);
  return true;
}

static bool step_regression(dist_trainer *t, int64_t step, float *losses, char *err,
                            size_t err_sz) {
  cmp_ctx *ctx = t->ctx;
  phase_start(t);
  if (!upload_batch(t, step, err, err_sz)) return false;
  phase_end(t, DIST_PHASE_BATCH);
  nn_net_zero_grad(t->nets->regression);
  const cmp_tensor *out = nn_net_forward(t->reg_data, &t->pairs_s, NULL, true);
  cmp_mse_fwd(ctx, out, &t->label, &t->s_l2);
  cmp_mse_bwd(ctx, out, &t->label, 1.0f, &t->dout, 0.0f);
  nn_backward(t->reg_data->head, &t->dout, true, &t->dfeat, 0.0f, NULL, 0.0f);
  nn_backward(t->reg_data->enc, &t->dfeat, true, NULL, 0.0f, NULL, 0.0f);
  phase_end(t, DIST_PHASE_CRITICS);
  for (int i = 0; i < t->n_models; i++) nn_adam_step(t->adam[i], t->models[i]);
  losses[0] = read_scalar(t, &t->s_l2);
  phase_end(t, DIST_PHASE_UPDATE);
  return true;
}

/* Batch-norm calibration ("precise BN"). Training runs batch norm in training mode and updates the
 * running averages with momentum 0.1, so they trail the weights by about ten steps; a channel with
 * a small spread (much of a table-top image is constant) then gets an inference-time mean that is
 * many of its own standard deviations off. Seen on push1: inference-time Q-values uncorrelated with
 * the training-mode ones. Before every inference and every save, the running statistics of the
 * networks used at inference (critics, actor, regression) are therefore recomputed from the current
 * weights as the plain average over CALIB_BATCHES fixed batches of training data (momentum 1/k for
 * the k-th). They depend only on the weights, so a resumed run still equals an uninterrupted one;
 * training itself never reads them. The batch counters are left as training set them. */
static void set_bn_momentum(nn_model *m, float momentum) {
  for (int i = 0; i < m->nlayers; i++)
    if (m->layers[i].kind == NN_BN) m->layers[i].momentum = momentum;
}

static void calibrate(dist_trainer *t) {
  if (t->calibrated_step == t->last_step) return;
  const int B = t->h.batch;
  const bool q = t->h.method == DIST_METHOD_Q;
  nn_model *models[6];
  int nm = 0;
  if (q) {
    for (int k = 0; k < 2; k++)
      models[nm++] = t->nets->critic[k]->encoder, models[nm++] = t->nets->critic[k]->head;
    models[nm++] = t->nets->actor->encoder, models[nm++] = t->nets->actor->head;
  } else {
    models[nm++] = t->nets->regression->encoder, models[nm++] = t->nets->regression->head;
  }
  int64_t counters[6][NN_MAX_LAYERS];
  for (int m = 0; m < nm; m++)
    for (int i = 0; i < models[m]->nlayers; i++)
      counters[m][i] = models[m]->layers[i].num_batches_tracked;
  for (int k = 0; k < CALIB_BATCHES; k++) {
    for (int m = 0; m < nm; m++) set_bn_momentum(models[m], 1.0f / (float)(k + 1));
    size_t o = (size_t)k * B;
    for (int i = 0; i < B; i++) {
      memcpy(t->calib_cur + (size_t)i * DIST_IMAGE_BYTES,
             dist_frame(t->data, t->calib_ep[o + i], t->calib_t[o + i]), DIST_IMAGE_BYTES);
      memcpy(t->calib_goal + (size_t)i * DIST_IMAGE_BYTES,
             dist_frame(t->data, t->calib_gep[o + i], t->calib_gt[o + i]), DIST_IMAGE_BYTES);
    }
    cmp_upload_u8_hwc(t->ctx, &t->pairs_s, 0, t->calib_cur, NN_PIXEL_SCALE, 0.0f);
    cmp_upload_u8_hwc(t->ctx, &t->pairs_s, 3, t->calib_goal, NN_PIXEL_SCALE, 0.0f);
    if (q) {
      cmp_upload(t->ctx, &t->act, t->calib_act + o * DIST_ACTION_DIM);
      for (int c = 0; c < 2; c++) {
        const cmp_tensor *feat = nn_forward(t->enc[c], &t->pairs_s, true);
        cmp_tensor f = cmp_reshape(*feat, B, NN_FEATURES, 1, 1);
        nn_forward_cat(t->head_data[c], &f, &t->act, 1, true);
      }
      nn_net_forward(t->pi_data, &t->pairs_s, NULL, true);
    } else {
      nn_net_forward(t->reg_data, &t->pairs_s, NULL, true);
    }
  }
  for (int m = 0; m < nm; m++) {
    set_bn_momentum(models[m], 0.1f);
    for (int i = 0; i < models[m]->nlayers; i++)
      models[m]->layers[i].num_batches_tracked = counters[m][i];
  }
  t->calibrated_step = t->last_step;
}

bool dist_trainer_step(dist_trainer *t, int64_t step, float *losses, char *err, size_t err_sz) {
  bool ok = t->h.method == DIST_METHOD_Q ? step_q(t, step, losses, err, err_sz)
                                         : step_regression(t, step, losses, err, err_sz);
  t->last_step = step;
  return ok;
}

/* ---- checkpoints ----------------------------------------------------------------------------- */

static void add_scalar(st_writer *w, const char *name, float v) {
  int64_t shape[1] = {1};
  st_add_f32(w, name, 1, shape, &v);
}

static bool read_scalar_f(const st_file *f, const char *name, float *v, char *err, size_t err_sz) {
  int64_t shape[1] = {1};
  return st_read_f32(f, name, 1, shape, v, err, err_sz);
}

bool dist_trainer_save(dist_trainer *t, const char *path, char *err, size_t err_sz) {
  calibrate(t);
  st_writer *w = st_writer_create();
  st_add_metadata(w, "format", "pt");
  st_add_metadata(w, "mbold_distance_method", dist_method_name(t->h.method));
  char stepbuf[32];
  snprintf(stepbuf, sizeof stepbuf, "%lld", (long long)t->last_step);
  st_add_metadata(w, "mbold_step", stepbuf);
  dist_nets_write(t->nets, w, "");
  if (t->targets) dist_nets_write(t->targets, w, "target_");
  for (int i = 0; i < t->n_models; i++)
    nn_adam_write(t->adam[i], t->models[i], w, t->optim_names[i]);
  if (t->h.method == DIST_METHOD_Q) {
    add_scalar(w, "cql.log_alpha", t->log_alpha);
    add_scalar(w, "cql.adam.exp_avg", t->alpha_m);
    add_scalar(w, "cql.adam.exp_avg_sq", t->alpha_v);
    st_add_i64(w, "cql.adam.step", 0, NULL, &t->alpha_t);
    add_scalar(w, "train.last_actor_loss", t->last_actor);
  }
  bool ok = st_writer_save(w, path, err, err_sz);
  st_writer_destroy(w);
  return ok;
}

bool dist_trainer_load(dist_trainer *t, const char *path, char *err, size_t err_sz) {
  st_file *f = st_open(path, err, err_sz);
  if (!f) return false;
  const char *m = st_metadata(f, "mbold_distance_method");
  bool ok = true;
  if (!m || strcmp(m, dist_method_name(t->h.method)))
    ok = mb_fail(err, err_sz, "%s: not a %s distance training state", path,
                 dist_method_name(t->h.method));
  if (ok) ok = dist_nets_read(t->nets, f, "", err, err_sz);
  if (ok && t->targets) ok = dist_nets_read(t->targets, f, "target_", err, err_sz);
  for (int i = 0; ok && i < t->n_models; i++)
    ok = nn_adam_read(t->adam[i], t->models[i], f, t->optim_names[i], err, err_sz);
  if (ok && t->h.method == DIST_METHOD_Q) {
    float la, am, av, last;
    int64_t at;
    ok = read_scalar_f(f, "cql.log_alpha", &la, err, err_sz) &&
         read_scalar_f(f, "cql.adam.exp_avg", &am, err, err_sz) &&
         read_scalar_f(f, "cql.adam.exp_avg_sq", &av, err, err_sz) &&
         st_read_i64_scalar(f, "cql.adam.step", &at, err, err_sz) &&
         read_scalar_f(f, "train.last_actor_loss", &last, err, err_sz);
    if (ok)
      t->log_alpha = la, t->alpha_m = am, t->alpha_v = av, t->alpha_t = at, t->last_actor = last;
  }
  st_close(f);
  return ok;
}

bool dist_trainer_distances(dist_trainer *t, const uint8_t *cur, const uint8_t *goal, int n,
                            bool one_goal, float *steps, char *err, size_t err_sz) {
  calibrate(t);
  if (!t->infer) t->infer = dist_infer_create(t->nets, INFER_BATCH);
  return dist_infer_run(t->infer, cur, goal, n, one_goal, steps, NULL, err, err_sz);
}

bool dist_trainer_rank(dist_trainer *t, const uint8_t *cur, const uint8_t *goal, int n,
                       float *score, char *err, size_t err_sz) {
  calibrate(t);
  if (!t->infer) t->infer = dist_infer_create(t->nets, INFER_BATCH);
  return dist_infer_rank(t->infer, cur, goal, n, false, score, err, err_sz);
}
