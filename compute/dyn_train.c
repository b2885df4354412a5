/* Training the video model (see dyn_train.h). */
#include "dyn_train.h"

#include "cmp_backend.h" /* cmp_die */
#include "mb_clock.h"
#include "mb_err.h"
#include "mb_json.h"
#include "mb_philox.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STREAM_BATCH 0xBA7C4u /* Philox stream of the window draws */
#define STREAM_PICK  0xBA7C5u /* Philox stream of the interaction draws */

uint64_t dyn_hash_bytes(uint64_t h, const void *data, size_t n) {
  if (!h) h = 1469598103934665603ull;
  const uint8_t *p = data;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

dyn_train_params dyn_train_defaults(void) {
  dyn_train_params p = {.model = dyn_config_default(),
                        .horizon = 13,
                        .batch = 16,
                        .lr = 1e-3f,
                        .steps = 20000,
                        .seed = 0,
                        .log_every = 50,
                        .checkpoint_every = 500,
                        .eval_every = 500,
                        .val_windows = 128,
                        .interaction = 0.5f,
                        .interaction_m = 0.01f,
                        .lr_decay_start = 0.5f};
  return p;
}

const char *dyn_pixel_loss_name(bool l1) {
  return l1 ? "l1" : "l2";
}

bool dyn_parse_pixel_loss(const char *name, bool *l1) {
  if (strcmp(name, "l1") && strcmp(name, "l2")) return false;
  *l1 = !strcmp(name, "l1");
  return true;
}

bool dyn_train_params_check(const dyn_train_params *p, char *err, size_t err_sz) {
  if (!dyn_config_check(&p->model, err, err_sz)) return false;
  if (p->horizon < 1 || p->horizon > 64)
    return mb_fail(err, err_sz, "horizon %d (must be 1 .. 64)", p->horizon);
  if (p->batch < 1 || p->batch > 4096)
    return mb_fail(err, err_sz, "batch %d (must be 1 .. 4096)", p->batch);
  if (!(p->lr > 0 && p->lr < 1)) return mb_fail(err, err_sz, "learning rate %g", p->lr);
  if (p->steps < 1)
    return mb_fail(err, err_sz, "steps %lld (must be positive)", (long long)p->steps);
  if (p->log_every < 1 || p->checkpoint_every < 1 || p->eval_every < 0 || p->val_windows < 1)
    return mb_fail(err, err_sz, "log/checkpoint intervals must be positive, eval >= 0");
  if (!(p->interaction >= 0 && p->interaction <= 1) || !(p->interaction_m > 0))
    return mb_fail(err, err_sz, "interaction share %g (must be in [0, 1]), distance %g m",
                   p->interaction, p->interaction_m);
  if (!(p->lr_decay_start >= 0 && p->lr_decay_start <= 1))
    return mb_fail(err, err_sz, "lr decay start %g (must be in [0, 1])", p->lr_decay_start);
  if (!(p->change_weight >= 0 && p->change_weight <= 1000))
    return mb_fail(err, err_sz, "change weight %g (must be in [0, 1000])", p->change_weight);
  return true;
}

float dyn_train_lr(const dyn_train_params *p, int64_t step) {
  double s0 = (double)p->lr_decay_start * (double)p->steps;
  if ((double)step <= s0 || p->lr_decay_start >= 1) return p->lr;
  double f = ((double)step - s0) / ((double)p->steps - s0);
  return (float)(p->lr * (1.0 - 0.9 * (f > 1 ? 1 : f)));
}

/* ---- batches, prepared one step ahead on a thread ---------------------------------------------
 */

typedef struct batch_buf {
  uint8_t *ctx; /* [K][B] frames */
  uint8_t *tgt; /* [T][B] frames */
  float *act;   /* [T][B][4] */
} batch_buf;

typedef struct prefetch {
  pthread_t thread;       /* the worker */
  pthread_mutex_t mu;     /* guards want, have, quit */
  pthread_cond_t cv;      /* signalled on every change */
  int64_t want[2];        /* step wanted in each slot (0: none) */
  int64_t have[2];        /* step held by each slot */
  bool quit;              /* stop the worker */
  batch_buf slot[2];      /* the two buffers */
  const dyn_episodes *ep; /* train episodes */
  int K, T, B;            /* window shape */
  uint64_t seed;          /* draws */
  float interaction;      /* share drawn from moving windows */
  const int64_t *moving;  /* (nmoving) episode * windows + start of windows where objects move */
  int64_t nmoving;        /* their count */
} prefetch;

/* Window i of step `step`: episode and start frame. */
static void draw_window(const prefetch *pf, int64_t step, int i, int64_t *ep, int *start) {
  uint64_t idx = ((uint64_t)step * (uint64_t)pf->B + (uint64_t)i) * 2;
  int nwin = pf->ep->frames - (pf->K + pf->T) + 1;
  if (pf->nmoving > 0 && mb_philox_uniform(pf->seed, STREAM_PICK, idx) < pf->interaction) {
    int64_t w = pf->moving[mb_philox_u32(pf->seed, STREAM_PICK, idx + 1) % (uint64_t)pf->nmoving];
    *ep = w / nwin;
    *start = (int)(w % nwin);
    return;
  }
  *ep = (int64_t)(mb_philox_u32(pf->seed, STREAM_BATCH, idx) % (uint64_t)pf->ep->count);
  *start = (int)(mb_philox_u32(pf->seed, STREAM_BATCH, idx + 1) % (uint32_t)nwin);
}

/* Windows (episode * windows + start) in which some object ends up more than `dist` from where it
 * was in the last context frame, at some target frame. */
static int64_t find_moving(const dyn_episodes *ep, int K, int T, float dist, int64_t *out) {
  if (!ep->object_xy || ep->objects < 1) return 0;
  int nwin = ep->frames - (K + T) + 1, no = ep->objects;
  int64_t n = 0;
  for (int64_t e = 0; e < ep->count; e++)
    for (int s = 0; s < nwin; s++) {
      const float *xy = ep->object_xy + (size_t)e * ep->frames * no * 2;
      const float *c = xy + (size_t)(s + K - 1) * no * 2;
      bool moves = false;
      for (int t = s + K; t < s + K + T && !moves; t++)
        for (int o = 0; o < no && !moves; o++) {
          const float *p = xy + ((size_t)t * no + o) * 2;
          moves = hypotf(p[0] - c[2 * o], p[1] - c[2 * o + 1]) > dist;
        }
      if (moves) {
        if (out) out[n] = e * nwin + s;
        n++;
      }
    }
  return n;
}

/* Copies window (episode, start) into column i of a batch with B columns. */
static void fill_window(const dyn_episodes *ep, int K, int T, int B, int64_t e, int start, int i,
                        batch_buf *b) {
  const uint8_t *img = ep->images + (size_t)e * ep->frames * DYN_FRAME_BYTES;
  const float *act = ep->actions + (size_t)e * (ep->frames - 1) * DYN_ACTION_DIM;
  for (int k = 0; k < K; k++)
    memcpy(b->ctx + ((size_t)k * B + i) * DYN_FRAME_BYTES,
           img + (size_t)(start + k) * DYN_FRAME_BYTES, DYN_FRAME_BYTES);
  for (int t = 0; t < T; t++) {
    memcpy(b->tgt + ((size_t)t * B + i) * DYN_FRAME_BYTES,
           img + (size_t)(start + K + t) * DYN_FRAME_BYTES, DYN_FRAME_BYTES);
    memcpy(b->act + ((size_t)t * B + i) * DYN_ACTION_DIM,
           act + (size_t)(start + K - 1 + t) * DYN_ACTION_DIM, DYN_ACTION_DIM * sizeof(float));
  }
}

static void fill_batch(prefetch *pf, int64_t step, batch_buf *b) {
  for (int i = 0; i < pf->B; i++) {
    int64_t e;
    int s;
    draw_window(pf, step, i, &e, &s);
    fill_window(pf->ep, pf->K, pf->T, pf->B, e, s, i, b);
  }
}

static void *prefetch_main(void *arg) {
  prefetch *pf = arg;
  pthread_mutex_lock(&pf->mu);
  while (!pf->quit) {
    int s = pf->want[0] != pf->have[0] ? 0 : pf->want[1] != pf->have[1] ? 1 : -1;
    if (s < 0) {
      pthread_cond_wait(&pf->cv, &pf->mu);
      continue;
    }
    int64_t step = pf->want[s];
    pthread_mutex_unlock(&pf->mu);
    fill_batch(pf, step, &pf->slot[s]);
    pthread_mutex_lock(&pf->mu);
    pf->have[s] = step;
    pthread_cond_broadcast(&pf->cv);
  }
  pthread_mutex_unlock(&pf->mu);
  return NULL;
}

static void request(prefetch *pf, int64_t step) {
  int s = (int)(step & 1);
  if (pf->want[s] != step) {
    pf->want[s] = step;
    pthread_cond_broadcast(&pf->cv);
  }
}

/* The batch of `step` (waits for it), and asks for the next one. Valid until the call for step + 2.
 */
static const batch_buf *prefetch_get(prefetch *pf, int64_t step) {
  int s = (int)(step & 1);
  pthread_mutex_lock(&pf->mu);
  request(pf, step);
  while (pf->have[s] != step) pthread_cond_wait(&pf->cv, &pf->mu);
  request(pf, step + 1);
  pthread_mutex_unlock(&pf->mu);
  return &pf->slot[s];
}

static bool batch_alloc(batch_buf *b, int K, int T, int B) {
  b->ctx = malloc((size_t)K * B * DYN_FRAME_BYTES);
  b->tgt = malloc((size_t)T * B * DYN_FRAME_BYTES);
  b->act = malloc((size_t)T * B * DYN_ACTION_DIM * sizeof(float));
  return b->ctx && b->tgt && b->act;
}

static void batch_free(batch_buf *b) {
  free(b->ctx), free(b->tgt), free(b->act);
}

/* ---- the trainer ------------------------------------------------------------------------------
 */

struct dyn_trainer {
  cmp_ctx *ctx;              /* backend (not owned) */
  dyn_train_params p;        /* hyperparameters */
  const dyn_episodes *train; /* borrowed */
  const dyn_episodes *val;   /* borrowed, may be NULL */
  dyn_model *model;          /* with gradients (owned) */
  dyn_data *data;            /* B contexts, B rollouts, T steps (owned) */
  nn_adam *adam[DYN_PARTS];  /* one per model part (owned) */
  prefetch pf;               /* batches */
  int64_t *moving;           /* windows where objects move (owned; NULL when none) */
  bool thread_started;       /* pf.thread runs */
  batch_buf val_buf;         /* validation staging */
};

static bool episodes_ok(const dyn_episodes *e, const char *what, int K, int T, char *err,
                        size_t err_sz) {
  if (!e || e->count < 1 || !e->images || !e->actions)
    return mb_fail(err, err_sz, "no %s episodes", what);
  if (e->frames < K + T)
    return mb_fail(err, err_sz, "%s episodes have %d frames, a window needs %d (%d context + %d)",
                   what, e->frames, K + T, K, T);
  return true;
}

dyn_trainer *dyn_trainer_create(cmp_ctx *ctx, const dyn_train_params *p, const dyn_episodes *train,
                                const dyn_episodes *val, char *err, size_t err_sz) {
  if (!dyn_train_params_check(p, err, err_sz)) return NULL;
  int K = p->model.context, T = p->horizon, B = p->batch;
  if (!episodes_ok(train, "train", K, T, err, err_sz)) return NULL;
  if (val && !episodes_ok(val, "val", K, T, err, err_sz)) return NULL;
  dyn_trainer *t = calloc(1, sizeof *t);
  if (!t) return mb_fail_null(err, err_sz, "out of memory");
  t->ctx = ctx;
  t->p = *p;
  t->train = train;
  t->val = val;
  if (!(t->model = dyn_model_create(ctx, &p->model, p->seed, true, err, err_sz))) {
    free(t);
    return NULL;
  }
  t->data = dyn_data_create(t->model, B, B, T, B * T, true);
  for (int i = 0; i < DYN_PARTS; i++)
    t->adam[i] = nn_adam_create(t->model->parts[i], p->lr, 0.9f, 0.999f, 1e-8f);
  prefetch *pf = &t->pf;
  pf->ep = train, pf->K = K, pf->T = T, pf->B = B, pf->seed = p->seed;
  pf->interaction = p->interaction;
  if (p->interaction > 0 && (pf->nmoving = find_moving(train, K, T, p->interaction_m, NULL)) > 0) {
    t->moving = malloc((size_t)pf->nmoving * sizeof *t->moving);
    if (t->moving)
      find_moving(train, K, T, p->interaction_m, t->moving);
    else
      pf->nmoving = 0;
    pf->moving = t->moving;
  }
  bool ok = batch_alloc(&pf->slot[0], K, T, B) && batch_alloc(&pf->slot[1], K, T, B) &&
            batch_alloc(&t->val_buf, K, T, B);
  pthread_mutex_init(&pf->mu, NULL);
  pthread_cond_init(&pf->cv, NULL);
  if (ok && pthread_create(&pf->thread, NULL, prefetch_main, pf) == 0)
    t->thread_started = true;
  else {
    dyn_trainer_destroy(t);
    return mb_fail_null(err, err_sz, ok ? "cannot start the batch thread" : "out of memory");
  }
  return t;
}

void dyn_trainer_destroy(dyn_trainer *t) {
  if (!t) return;
  if (t->thread_started) {
    pthread_mutex_lock(&t->pf.mu);
    t->pf.quit = true;
    pthread_cond_broadcast(&t->pf.cv);
    pthread_mutex_unlock(&t->pf.mu);
    pthread_join(t->pf.thread, NULL);
  }
  pthread_mutex_destroy(&t->pf.mu);
  pthread_cond_destroy(&t->pf.cv);
  batch_free(&t->pf.slot[0]), batch_free(&t->pf.slot[1]), batch_free(&t->val_buf);
  free(t->moving);
  for (int i = 0; i < DYN_PARTS; i++) nn_adam_destroy(t->adam[i]);
  dyn_data_destroy(t->data);
  dyn_model_destroy(t->model);
  free(t);
}

dyn_model *dyn_trainer_model(dyn_trainer *t) {
  return t->model;
}

void dyn_trainer_window(const dyn_trainer *t, int64_t step, int i, int64_t *episode, int *start) {
  draw_window(&t->pf, step, i, episode, start);
}

int64_t dyn_trainer_interaction_windows(const dyn_trainer *t) {
  return t->pf.nmoving;
}

bool dyn_trainer_step(dyn_trainer *t, int64_t step, float *mse, char *err, size_t err_sz) {
  if (step < 1) return mb_fail(err, err_sz, "step %lld (counts from 1)", (long long)step);
  const batch_buf *b = prefetch_get(&t->pf, step);
  int B = t->p.batch, T = t->p.horizon;
  dyn_model_zero_grad(t->model);
  dyn_encode(t->data, b->ctx, B);
  dyn_rollout(t->data, b->act, B, T);
  dyn_decode(t->data, 1, T);
  *mse = dyn_backward(t->data, b->tgt, t->p.change_weight, t->p.loss_l1 ? DYN_L1_DELTA : 0.0f);
  float lr = dyn_train_lr(&t->p, step);
  for (int i = 0; i < DYN_PARTS; i++) {
    t->adam[i]->lr = lr;
    nn_adam_step(t->adam[i], t->model->parts[i]);
  }
  return true;
}

bool dyn_trainer_validate(dyn_trainer *t, double *mse, double *copy_mse, char *err, size_t err_sz) {
  if (!t->val) return mb_fail(err, err_sz, "no validation episodes");
  int K = t->p.model.context, T = t->p.horizon, B = t->p.batch, n = t->p.val_windows;
  int nwin = t->val->frames - (K + T) + 1;
  double se = 0, se_copy = 0;
  for (int w0 = 0; w0 < n; w0 += B) {
    int nb = n - w0 < B ? n - w0 : B;
    /* A fixed list: episodes in turn, starts spread over the episode. */
    for (int i = 0; i < nb; i++) {
      int w = w0 + i;
      int64_t e = w % t->val->count;
      int start = (int)((w / t->val->count) * 7 + w * 3) % nwin;
      fill_window(t->val, K, T, nb, e, start, i, &t->val_buf);
    }
    dyn_encode(t->data, t->val_buf.ctx, nb);
    dyn_rollout(t->data, t->val_buf.act, nb, T);
    dyn_decode(t->data, 1, T);
    se += (double)dyn_loss(t->data, t->val_buf.tgt) * nb;
    const uint8_t *last = t->val_buf.ctx + (size_t)(K - 1) * nb * DYN_FRAME_BYTES;
    double s = 0;
    for (int k = 0; k < T; k++)
      for (int i = 0; i < nb; i++) {
        const uint8_t *a = t->val_buf.tgt + ((size_t)k * nb + i) * DYN_FRAME_BYTES,
                      *c = last + (size_t)i * DYN_FRAME_BYTES;
        for (int j = 0; j < DYN_FRAME_BYTES; j++) {
          double d = (a[j] - c[j]) / 255.0;
          s += d * d;
        }
      }
    se_copy += s / ((double)T * DYN_FRAME_BYTES);
  }
  *mse = se / n;
  *copy_mse = se_copy / n;
  return true;
}

static void adam_prefix(const dyn_trainer *t, int i, char *out, size_t sz) {
  snprintf(out, sz, "adam.%s.", t->model->parts[i]->prefix);
}

bool dyn_trainer_save(dyn_trainer *t, const char *path, char *err, size_t err_sz) {
  st_writer *w = st_writer_create();
  st_add_metadata(w, "format", "pt");
  dyn_write_meta(&t->p.model, w);
  dyn_model_write(t->model, w, "");
  for (int i = 0; i < DYN_PARTS; i++) {
    char prefix[NN_NAME_MAX + 16];
    adam_prefix(t, i, prefix, sizeof prefix);
    nn_adam_write(t->adam[i], t->model->parts[i], w, prefix);
  }
  bool ok = st_writer_save(w, path, err, err_sz);
  st_writer_destroy(w);
  return ok;
}

bool dyn_trainer_load(dyn_trainer *t, const char *path, char *err, size_t err_sz) {
  st_file *f = st_open(path, err, err_sz);
  if (!f) return false;
  dyn_config c;
  bool ok = dyn_read_meta(f, &c, err, err_sz);
  const char *differs = ok ? dyn_config_diff(&c, &t->p.model) : NULL;
  if (differs)
    ok = mb_fail(err, err_sz,
                 "%s: architecture (context %d, latent %d on %dx%d) differs from the run's (%s)",
                 path, c.context, c.latent, c.latent_hw, c.latent_hw, differs);
  if (ok) ok = dyn_model_read(t->model, f, "", err, err_sz);
  for (int i = 0; ok && i < DYN_PARTS; i++) {
    char prefix[NN_NAME_MAX + 16];
    adam_prefix(t, i, prefix, sizeof prefix);
    ok = nn_adam_read(t->adam[i], t->model->parts[i], f, prefix, err, err_sz);
  }
  st_close(f);
  return ok;
}

/* ---- the run ----------------------------------------------------------------------------------
 */

static char *config_json(const dyn_train_params *p, const dyn_data_id *id, const cmp_ctx *ctx) {
  mb_jw w;
  mb_jw_init(&w, true);
  mb_jw_begin_object(&w);
  mb_jw_kv_string(&w, "trainer", "dynamics");
  mb_jw_key(&w, "model");
  mb_jw_begin_object(&w);
  mb_jw_kv_int(&w, "context", p->model.context);
  mb_jw_kv_int(&w, "latent", p->model.latent);
  mb_jw_kv_int(&w, "latent_hw", p->model.latent_hw);
  mb_jw_key(&w, "flow_scale");
  mb_jw_float(&w, p->model.flow_scale);
  mb_jw_key(&w, "mask_bias");
  mb_jw_float(&w, p->model.mask_bias);
  mb_jw_key(&w, "blur_sigma");
  mb_jw_float(&w, p->model.blur_sigma);
  mb_jw_kv_string(&w, "warp_source", dyn_warp_source_name(p->model.warp_prev));
  mb_jw_end_object(&w);
  mb_jw_kv_int(&w, "horizon", p->horizon);
  mb_jw_kv_int(&w, "batch", p->batch);
  mb_jw_key(&w, "lr");
  mb_jw_float(&w, p->lr);
  mb_jw_kv_string(&w, "optimizer", "adam(0.9, 0.999, 1e-8), one per model part");
  char loss[128];
  if (p->loss_l1)
    snprintf(loss, sizeof loss,
             "mean Huber loss (l1 beyond %g) over all predicted frames, pixels / 255",
             (double)DYN_L1_DELTA);
  else
    snprintf(loss, sizeof loss, "mean squared error over all predicted frames, pixels / 255");
  mb_jw_kv_string(&w, "loss", loss);
  mb_jw_kv_string(&w, "pixel_loss", dyn_pixel_loss_name(p->loss_l1));
  mb_jw_kv_string(&w, "rollout", "from the context in latent space, no teacher forcing");
  mb_jw_kv_int(&w, "steps", p->steps);
  mb_jw_kv_int(&w, "seed", (int64_t)p->seed);
  mb_jw_kv_int(&w, "log_every", p->log_every);
  mb_jw_kv_int(&w, "checkpoint_every", p->checkpoint_every);
  mb_jw_kv_int(&w, "eval_every", p->eval_every);
  mb_jw_kv_int(&w, "val_windows", p->val_windows);
  mb_jw_key(&w, "interaction");
  mb_jw_float(&w, p->interaction);
  mb_jw_key(&w, "interaction_m");
  mb_jw_float(&w, p->interaction_m);
  mb_jw_key(&w, "lr_decay_start");
  mb_jw_float(&w, p->lr_decay_start);
  mb_jw_key(&w, "change_weight");
  mb_jw_float(&w, p->change_weight);
  mb_jw_kv_string(&w, "init", p->init);
  mb_jw_kv_string(&w, "backend", cmp_backend_name(ctx));
  mb_jw_kv_string(&w, "device", cmp_device_name(ctx));
  mb_jw_key(&w, "data");
  mb_jw_begin_object(&w);
  mb_jw_kv_string(&w, "path", id->path);
  mb_jw_kv_string(&w, "task", id->task);
  mb_jw_kv_int(&w, "seed", (int64_t)id->seed);
  mb_jw_kv_string(&w, "scene_version", id->scene_version);
  mb_jw_kv_int(&w, "episodes", id->episodes);
  mb_jw_kv_int(&w, "train_episodes", id->train_episodes);
  mb_jw_kv_int(&w, "val_episodes", id->val_episodes);
  char hash[32];
  snprintf(hash, sizeof hash, "%016llx", (unsigned long long)id->actions_hash);
  mb_jw_kv_string(&w, "train_actions_fnv1a", hash);
  mb_jw_end_object(&w);
  mb_jw_end_object(&w);
  return mb_jw_take(&w);
}

static bool get_num(const mb_json *j, const char *key, double *out, const char *dir, char *err,
                    size_t err_sz) {
  if (!mb_json_as_number(mb_json_get(j, key), out))
    return mb_fail(err, err_sz, "%s/config.json: '%s' is missing or not a number", dir, key);
  return true;
}

bool dyn_train_params_same(const dyn_train_params *a, const dyn_train_params *b, char *what,
                           size_t what_sz) {
  const char *w = dyn_config_diff(&a->model, &b->model);
  if (!w)
    w = a->horizon != b->horizon                 ? "horizon"
        : a->batch != b->batch                   ? "batch"
        : a->lr != b->lr                         ? "lr"
        : a->seed != b->seed                     ? "seed"
        : a->interaction != b->interaction       ? "interaction"
        : a->interaction_m != b->interaction_m   ? "interaction_m"
        : a->lr_decay_start != b->lr_decay_start ? "lr_decay_start"
        : a->change_weight != b->change_weight   ? "change_weight"
        : a->loss_l1 != b->loss_l1               ? "pixel_loss"
        : strcmp(a->init, b->init)               ? "init"
                                                 : NULL;
  if (w && what) snprintf(what, what_sz, "%s", w);
  return !w;
}

bool dyn_train_params_from_run(const char *run_dir, dyn_train_params *p, char *err, size_t err_sz) {
  mb_json *j = train_run_config(run_dir, err, err_sz);
  if (!j) return false;
  const char *trainer = mb_json_as_string(mb_json_get(j, "trainer"));
  dyn_train_params r = dyn_train_defaults();
  const mb_json *m = mb_json_get(j, "model");
  double v[13];
  bool ok = trainer && !strcmp(trainer, "dynamics");
  if (!ok)
    mb_fail(err, err_sz, "%s: not a dynamics run (trainer '%s')", run_dir, trainer ? trainer : "?");
  ok = ok && get_num(m, "context", &v[0], run_dir, err, err_sz) &&
       get_num(m, "latent", &v[1], run_dir, err, err_sz) &&
       get_num(m, "flow_scale", &v[2], run_dir, err, err_sz) &&
       get_num(m, "mask_bias", &v[3], run_dir, err, err_sz) &&
       get_num(m, "blur_sigma", &v[12], run_dir, err, err_sz) &&
       get_num(j, "horizon", &v[4], run_dir, err, err_sz) &&
       get_num(j, "batch", &v[5], run_dir, err, err_sz) &&
       get_num(j, "lr", &v[6], run_dir, err, err_sz) &&
       get_num(j, "steps", &v[7], run_dir, err, err_sz) &&
       get_num(j, "seed", &v[8], run_dir, err, err_sz) &&
       get_num(j, "log_every", &v[9], run_dir, err, err_sz) &&
       get_num(j, "checkpoint_every", &v[10], run_dir, err, err_sz) &&
       get_num(j, "eval_every", &v[11], run_dir, err, err_sz);
  double vw = r.val_windows, inter = 0, inter_m = r.interaction_m, decay = 1, cw = 0, grid = 8;
  /* Runs from before interaction sampling, the decay and change weights trained uniformly at a
   * constant rate on the plain loss, from PyTorch's initialisation. */
  if (ok) {
    mb_json_as_number(mb_json_get(m, "latent_hw"), &grid); /* 8 x 8 before it was a choice */
    const char *ws = mb_json_as_string(mb_json_get(m, "warp_source")); /* the context before */
    if (ws && !dyn_parse_warp_source(ws, &r.model.warp_prev))
      ok = mb_fail(err, err_sz, "%s/config.json: warp_source '%s' (must be context or previous)",
                   run_dir, ws);
    mb_json_as_number(mb_json_get(j, "change_weight"), &cw);
    const char *pl = mb_json_as_string(mb_json_get(j, "pixel_loss")); /* l2 before */
    if (pl && !dyn_parse_pixel_loss(pl, &r.loss_l1))
      ok = mb_fail(err, err_sz, "%s/config.json: pixel_loss '%s' (must be l2 or l1)", run_dir, pl);
    const char *init = mb_json_as_string(mb_json_get(j, "init"));
    snprintf(r.init, sizeof r.init, "%s", init ? init : "");
    mb_json_as_number(mb_json_get(j, "val_windows"), &vw);
    mb_json_as_number(mb_json_get(j, "interaction"), &inter);
    mb_json_as_number(mb_json_get(j, "interaction_m"), &inter_m);
    mb_json_as_number(mb_json_get(j, "lr_decay_start"), &decay);
  }
  mb_json_free(j);
  if (!ok) return false;
  r.model.context = (int)v[0];
  r.model.latent = (int)v[1];
  r.model.latent_hw = (int)grid;
  r.model.flow_scale = (float)v[2];
  r.model.mask_bias = (float)v[3];
  r.model.blur_sigma = (float)v[12];
  r.horizon = (int)v[4];
  r.batch = (int)v[5];
  r.lr = (float)v[6];
  r.steps = (int64_t)v[7];
  r.seed = (uint64_t)v[8];
  r.log_every = (int)v[9];
  r.checkpoint_every = (int)v[10];
  r.eval_every = (int)v[11];
  r.val_windows = (int)vw;
  r.interaction = (float)inter;
  r.interaction_m = (float)inter_m;
  r.lr_decay_start = (float)decay;
  r.change_weight = (float)cw;
  char why[256];
  if (!dyn_train_params_check(&r, why, sizeof why))
    return mb_fail(err, err_sz, "%s/config.json: %s", run_dir, why);
  *p = r;
  return true;
}

/* Compares a resumed run's config with what this call was asked to do; steps may differ. */
static bool config_matches(const mb_json *have, const mb_json *want, const char *dir, char *err,
                           size_t err_sz) {
  const char *keys[] = {"trainer", "model", "horizon",     "batch",         "lr",
                        "seed",    "data",  "interaction", "interaction_m", "lr_decay_start"};
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
    const mb_json *a = mb_json_get(have, keys[i]), *b = mb_json_get(want, keys[i]);
    if (!a || !b) return mb_fail(err, err_sz, "%s/config.json: no '%s'", dir, keys[i]);
    /* Same type and text: compare leaves recursively. */
    if (a->type != b->type) goto differ;
    if (a->type == MB_JSON_OBJECT) {
      if (a->count != b->count) goto differ;
      for (int k = 0; k < a->count; k++) {
        const mb_json *x = &a->items[k], *y = mb_json_get(b, a->keys[k]);
        if (!y || x->type != y->type) goto differ;
        if (!strcmp(keys[i], "data") && !strcmp(a->keys[k], "path")) continue; /* may move */
        if (x->type == MB_JSON_NUMBER && x->number != y->number) goto differ;
        if (x->type == MB_JSON_STRING && strcmp(x->string, y->string)) goto differ;
      }
    } else if ((a->type == MB_JSON_NUMBER && a->number != b->number) ||
               (a->type == MB_JSON_STRING && strcmp(a->string, b->string)))
      goto differ;
    continue;
  differ:
    return mb_fail(err, err_sz,
                   "%s: the run was started with other '%s' settings or data than asked now "
                   "(see its config.json); resume with the same options and dataset",
                   dir, keys[i]);
  }
  return true;
}

typedef struct run_user {
  dyn_trainer *t; /* the trainer */
  float last;     /* loss of the last step */
} run_user;

static bool loop_step(void *user, int64_t step, float *losses, char *err, size_t err_sz) {
  run_user *u = user;
  bool ok = dyn_trainer_step(u->t, step, &losses[0], err, err_sz);
  u->last = losses[0];
  return ok;
}

static bool loop_eval(void *user, int64_t step, mb_jw *w, char *err, size_t err_sz) {
  run_user *u = user;
  (void)step;
  double mse, copy;
  if (!dyn_trainer_validate(u->t, &mse, &copy, err, err_sz)) return false;
  mb_jw_kv_double(w, "val_mse", mse);
  mb_jw_kv_double(w, "val_copy_mse", copy);
  return true;
}

static bool loop_save(void *user, const char *path, char *err, size_t err_sz) {
  run_user *u = user;
  return dyn_trainer_save(u->t, path, err, err_sz);
}

/* The latest checkpoint of the run a new run starts from (fine-tuning), opened, once its
 * architecture is checked to be `want`; NULL + err otherwise. The optimiser starts afresh. */
static st_file *open_init(const char *dir, const dyn_config *want, char *err, size_t err_sz) {
  char *ckpt = train_run_latest_checkpoint(dir, NULL, err, err_sz);
  if (!ckpt) return NULL;
  st_file *f = st_open(ckpt, err, err_sz);
  dyn_config have;
  bool ok = f && dyn_read_meta(f, &have, err, err_sz);
  const char *differs = ok ? dyn_config_diff(&have, want) : NULL;
  if (differs)
    ok = mb_fail(err, err_sz,
                 "--init %s: its model (context %d, latent %d on %dx%d, blur %g) is not the one "
                 "asked for (context %d, latent %d on %dx%d, blur %g): %s differs",
                 ckpt, have.context, have.latent, have.latent_hw, have.latent_hw, have.blur_sigma,
                 want->context, want->latent, want->latent_hw, want->latent_hw, want->blur_sigma,
                 differs);
  free(ckpt);
  if (!ok) st_close(f);
  return ok ? f : NULL;
}

bool dyn_train_check_init(const dyn_train_params *p, char *err, size_t err_sz) {
  if (!p->init[0]) return true;
  st_file *f = open_init(p->init, &p->model, err, err_sz);
  st_close(f);
  return f != NULL;
}

dyn_train_status dyn_train_run(cmp_ctx *ctx, const char *run_dir, bool resume,
                               const dyn_train_params *p, const dyn_data_id *id,
                               const dyn_episodes *train, const dyn_episodes *val,
                               const mb_job_hooks *hooks, dyn_train_summary *summary, char *err,
                               size_t err_sz) {
  memset(summary, 0, sizeof *summary);
  if (!dyn_train_params_check(p, err, err_sz)) return DYN_TRAIN_BAD_INPUT;
  char *cfg = config_json(p, id, ctx);
  if (!cfg) {
    mb_fail(err, err_sz, "out of memory");
    return DYN_TRAIN_FAILED;
  }
  dyn_train_status st = DYN_TRAIN_FAILED;
  train_run run = {0};
  dyn_trainer *t = NULL;
  bool run_open = false;
  st_file *init = NULL; /* checked before anything is written */
  if (!resume && p->init[0] && !(init = open_init(p->init, &p->model, err, err_sz))) {
    st = DYN_TRAIN_BAD_INPUT;
    goto done;
  }
  if (resume) {
    mb_json *have = NULL, *want = NULL;
    if (!(have = train_run_config(run_dir, err, err_sz)) ||
        !(want = mb_json_parse(cfg, strlen(cfg), err, err_sz)) ||
        !config_matches(have, want, run_dir, err, err_sz)) {
      mb_json_free(have), mb_json_free(want);
      st = DYN_TRAIN_BAD_INPUT;
      goto done;
    }
    mb_json_free(have), mb_json_free(want);
    if (!train_run_resume(&run, run_dir, err, err_sz)) {
      st = DYN_TRAIN_BAD_INPUT;
      goto done;
    }
  } else if (!train_run_create(&run, run_dir, cfg, err, err_sz)) {
    st = DYN_TRAIN_BAD_INPUT;
    goto done;
  }
  run_open = true;
  if (!(t = dyn_trainer_create(ctx, p, train, val, err, err_sz))) {
    st = DYN_TRAIN_BAD_INPUT;
    goto done;
  }
  /* A resumed run with no checkpoint yet starts where a new one would. */
  if (!run.checkpoint && p->init[0] && !init) init = open_init(p->init, &p->model, err, err_sz);
  if (run.checkpoint ? !dyn_trainer_load(t, run.checkpoint, err, err_sz)
                     : p->init[0] && (!init || !dyn_model_read(t->model, init, "", err, err_sz))) {
    st = DYN_TRAIN_BAD_INPUT;
    goto done;
  }
  if (run.step >= p->steps) {
    summary->first_step = summary->last_step = run.step;
    st = DYN_TRAIN_DONE;
    goto done;
  }
  run_user u = {t, NAN};
  train_loop loop = {.total_steps = p->steps,
                     .log_every = p->log_every,
                     .checkpoint_every = p->checkpoint_every,
                     .eval_every = val ? p->eval_every : 0,
                     .n_losses = 1,
                     .loss_names = {"mse"},
                     .step = loop_step,
                     .evaluate = val ? loop_eval : NULL,
                     .save = loop_save,
                     .user = &u};
  summary->first_step = run.step;
  summary->interaction_windows = dyn_trainer_interaction_windows(t);
  double t0 = mb_now();
  train_result r = train_loop_run(&run, &loop, hooks, err, err_sz);
  summary->wall_s = mb_now() - t0;
  summary->last_step = run.step;
  summary->last_mse = u.last;
  st = r == TRAIN_DONE        ? DYN_TRAIN_DONE
       : r == TRAIN_CANCELLED ? DYN_TRAIN_CANCELLED
       : r == TRAIN_DIVERGED  ? DYN_TRAIN_DIVERGED
                              : DYN_TRAIN_FAILED;
done:
  st_close(init);
  dyn_trainer_destroy(t);
  if (run_open) train_run_close(&run);
  free(cfg);
  return st;
}
