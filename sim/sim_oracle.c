#include "sim_oracle.h"
#include "sim_render.h"

#include "mb_err.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREADS 64

typedef struct oracle_worker {
  struct sim_oracle *o;                               /* owner */
  pthread_t tid;                                      /* the thread */
  sim_renderer *renderer;                             /* made on this thread */
  sim_world *worlds[SIM_ORACLE_BATCH];                /* one per tile */
  uint8_t frames[SIM_ORACLE_BATCH * SIM_IMAGE_BYTES]; /* one rendered batch */
} oracle_worker;

struct sim_oracle {
  const sim_model *model;        /* borrowed */
  int nthreads;                  /* workers */
  oracle_worker *workers;        /* nthreads */
  pthread_mutex_t mu;            /* guards the fields below */
  pthread_cond_t cv;             /* job posted, worker ready or finished */
  int ready;                     /* workers that finished starting */
  int failed_start;              /* workers whose start failed */
  char err[512];                 /* first worker error */
  uint64_t generation;           /* incremented per posted job */
  int active;                    /* workers still on the current job */
  bool quit;                     /* workers exit */
  const sim_oracle_request *req; /* current job */
  atomic_int next_batch;         /* next batch of the job to claim */
  bool job_failed;               /* a worker failed on this job */
};

static void set_err(sim_oracle *o, const char *msg) {
  if (!o->err[0]) snprintf(o->err, sizeof o->err, "%s", msg);
}

static void store_ee(const sim_world *w, float *dst) {
  sim_positions p;
  sim_world_positions(w, &p);
  for (int i = 0; i < 3; i++) dst[i] = (float)p.ee[i];
}

static bool run_batch(oracle_worker *wk, const sim_oracle_request *r, int b, char *err,
                      size_t err_sz) {
  int lo = b * SIM_ORACLE_BATCH, n = r->n - lo < SIM_ORACLE_BATCH ? r->n - lo : SIM_ORACLE_BATCH;
  int tiles[SIM_ORACLE_BATCH];
  const int H = r->horizon;
  for (int i = 0; i < n; i++) {
    int j = lo + i;
    tiles[i] = j % SIM_ORACLE_BATCH;
    if (!sim_world_set_state(wk->worlds[i], r->start_state, r->state_size, err, err_sz))
      return false;
    if (r->ee_paths) store_ee(wk->worlds[i], r->ee_paths + (size_t)j * (H + 1) * 3);
  }
  for (int t = 0; t < H; t++) {
    for (int i = 0; i < n; i++) {
      int j = lo + i;
      sim_world_step(wk->worlds[i], r->actions + ((size_t)j * H + t) * SIM_ACTION_DIM);
      if (r->ee_paths) store_ee(wk->worlds[i], r->ee_paths + ((size_t)j * (H + 1) + t + 1) * 3);
    }
    bool last = t == H - 1;
    if (r->all_frames || (last && r->final_frames)) {
      if (!sim_render_agent_batch(wk->renderer, wk->worlds, tiles, n, wk->frames, err, err_sz))
        return false;
      for (int i = 0; i < n; i++) {
        int j = lo + i;
        const uint8_t *src = wk->frames + (size_t)i * SIM_IMAGE_BYTES;
        if (r->all_frames)
          memcpy(r->all_frames + ((size_t)j * H + t) * SIM_IMAGE_BYTES, src, SIM_IMAGE_BYTES);
        if (last && r->final_frames)
          memcpy(r->final_frames + (size_t)j * SIM_IMAGE_BYTES, src, SIM_IMAGE_BYTES);
      }
    }
  }
  if (r->final_positions)
    for (int i = 0; i < n; i++) sim_world_positions(wk->worlds[i], &r->final_positions[lo + i]);
  return true;
}

static void *worker_main(void *arg) {
  oracle_worker *wk = arg;
  sim_oracle *o = wk->o;
  char err[512] = "";
  bool ok = true;
  wk->renderer = sim_renderer_create(o->model, SIM_IMAGE_SIZE, SIM_IMAGE_SIZE, SIM_ORACLE_BATCH,
                                     SIM_QUALITY_AGENT, err, sizeof err);
  ok = wk->renderer != NULL;
  for (int i = 0; i < SIM_ORACLE_BATCH && ok; i++)
    ok = (wk->worlds[i] = sim_world_create(o->model, err, sizeof err)) != NULL;
  pthread_mutex_lock(&o->mu);
  o->ready++;
  if (!ok) {
    o->failed_start++;
    set_err(o, err);
  }
  pthread_cond_broadcast(&o->cv);
  uint64_t seen = o->generation;
  while (ok) {
    while (!o->quit && o->generation == seen) pthread_cond_wait(&o->cv, &o->mu);
    if (o->quit) break;
    seen = o->generation;
    const sim_oracle_request *r = o->req;
    pthread_mutex_unlock(&o->mu);
    int nb = (r->n + SIM_ORACLE_BATCH - 1) / SIM_ORACLE_BATCH;
    bool job_ok = true;
    for (;;) {
      int b = atomic_fetch_add(&o->next_batch, 1);
      if (b >= nb) break;
      if (!run_batch(wk, r, b, err, sizeof err)) {
        job_ok = false;
        break;
      }
    }
    pthread_mutex_lock(&o->mu);
    if (!job_ok) {
      o->job_failed = true;
      set_err(o, err);
    }
    o->active--;
    pthread_cond_broadcast(&o->cv);
  }
  pthread_mutex_unlock(&o->mu);
  for (int i = 0; i < SIM_ORACLE_BATCH; i++) sim_world_free(wk->worlds[i]);
  sim_renderer_free(wk->renderer);
  return NULL;
}

sim_oracle *sim_oracle_create(const sim_model *m, int threads, char *err, size_t err_sz) {
  if (threads < 1 || threads > MAX_THREADS)
    return mb_fail_null(err, err_sz, "oracle threads must be 1..%d (got %d)", MAX_THREADS, threads);
  sim_oracle *o = calloc(1, sizeof *o);
  if (!o || !(o->workers = calloc((size_t)threads, sizeof(oracle_worker)))) {
    free(o);
    return mb_fail_null(err, err_sz, "out of memory");
  }
  o->model = m;
  pthread_mutex_init(&o->mu, NULL);
  pthread_cond_init(&o->cv, NULL);
  for (int i = 0; i < threads; i++) {
    o->workers[i].o = o;
    if (pthread_create(&o->workers[i].tid, NULL, worker_main, &o->workers[i]) != 0) {
      set_err(o, "cannot start an oracle thread");
      break;
    }
    o->nthreads++;
  }
  pthread_mutex_lock(&o->mu);
  while (o->ready < o->nthreads) pthread_cond_wait(&o->cv, &o->mu);
  bool ok = o->failed_start == 0 && o->nthreads == threads;
  pthread_mutex_unlock(&o->mu);
  if (!ok) {
    mb_fail(err, err_sz, "%s", o->err);
    sim_oracle_free(o);
    return NULL;
  }
  return o;
}

void sim_oracle_free(sim_oracle *o) {
  if (!o) return;
  pthread_mutex_lock(&o->mu);
  o->quit = true;
  pthread_cond_broadcast(&o->cv);
  pthread_mutex_unlock(&o->mu);
  for (int i = 0; i < o->nthreads; i++) pthread_join(o->workers[i].tid, NULL);
  pthread_cond_destroy(&o->cv);
  pthread_mutex_destroy(&o->mu);
  free(o->workers);
  free(o);
}

bool sim_oracle_rollout(sim_oracle *o, const sim_oracle_request *req, char *err, size_t err_sz) {
  if (req->n < 0 || req->horizon < 1 || (req->n > 0 && !req->actions) || !req->start_state)
    return mb_fail(err, err_sz,
                   "oracle request needs a start state, n >= 0, horizon >= 1 and "
                   "actions");
  if (req->state_size != sim_model_state_size(o->model))
    return mb_fail(err, err_sz, "oracle start state has %d values, the scene needs %d",
                   req->state_size, sim_model_state_size(o->model));
  if (req->n == 0) return true;
  pthread_mutex_lock(&o->mu);
  o->req = req;
  o->err[0] = 0;
  o->job_failed = false;
  atomic_store(&o->next_batch, 0);
  o->active = o->nthreads;
  o->generation++;
  pthread_cond_broadcast(&o->cv);
  while (o->active > 0) pthread_cond_wait(&o->cv, &o->mu);
  bool ok = !o->job_failed;
  if (!ok) mb_fail(err, err_sz, "%s", o->err);
  o->req = NULL;
  pthread_mutex_unlock(&o->mu);
  return ok;
}
