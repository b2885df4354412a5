/* The video model as the planner's dynamics (see dyn_plan.h). */
#include "dyn_plan.h"

#include "cmp_backend.h" /* cmp_die */
#include "mb_clock.h"
#include "mb_err.h"
#include "mb_philox.h"
#include "train_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

dyn_planner *dyn_planner_create(dyn_model *model, int max_samples, int horizon) {
  if (max_samples < 1 || horizon < 1)
    cmp_die("dyn_planner_create: %d samples, horizon %d", max_samples, horizon);
  dyn_planner *p = calloc(1, sizeof *p);
  if (!p) cmp_die("dyn_planner_create: out of memory");
  p->model = model;
  p->max_samples = max_samples;
  p->horizon = horizon;
  p->data = dyn_data_create(model, 1, max_samples, horizon, max_samples, false);
  p->actions_tm = malloc((size_t)horizon * max_samples * DYN_ACTION_DIM * sizeof(float));
  p->frames = malloc((size_t)max_samples * DYN_FRAME_BYTES);
  if (!p->actions_tm || !p->frames) cmp_die("dyn_planner_create: out of memory");
  return p;
}

dyn_model *dyn_model_load_run(cmp_ctx *ctx, const char *run_dir, int64_t *step, char *checkpoint,
                              size_t checkpoint_sz, char *err, size_t err_sz) {
  int64_t s = 0;
  char *ckpt = train_run_latest_checkpoint(run_dir, &s, err, err_sz);
  if (!ckpt) return NULL;
  st_file *f = st_open(ckpt, err, err_sz);
  dyn_config cfg;
  dyn_model *m = NULL;
  if (f && dyn_read_meta(f, &cfg, err, err_sz) &&
      (m = dyn_model_create(ctx, &cfg, 0, false, err, err_sz)) &&
      !dyn_model_read(m, f, "", err, err_sz)) {
    dyn_model_destroy(m);
    m = NULL;
  }
  if (m && step) *step = s;
  if (m && checkpoint) snprintf(checkpoint, checkpoint_sz, "%s", ckpt);
  st_close(f);
  free(ckpt);
  return m;
}

dyn_planner *dyn_planner_load(cmp_ctx *ctx, const char *run_dir, int max_samples, int horizon,
                              char *err, size_t err_sz) {
  int64_t step;
  char ckpt[512];
  dyn_model *m = dyn_model_load_run(ctx, run_dir, &step, ckpt, sizeof ckpt, err, err_sz);
  if (!m) return NULL;
  dyn_planner *p = dyn_planner_create(m, max_samples, horizon);
  p->owns_model = true;
  p->step = step;
  snprintf(p->checkpoint, sizeof p->checkpoint, "%s", ckpt);
  return p;
}

void dyn_planner_destroy(dyn_planner *p) {
  if (!p) return;
  dyn_data_destroy(p->data);
  if (p->owns_model) dyn_model_destroy(p->model);
  free(p->actions_tm);
  free(p->frames);
  free(p);
}

void dyn_planner_set_context(dyn_planner *p, const uint8_t *current, const uint8_t *previous) {
  int K = p->model->cfg.context;
  /* Context-major frames, oldest first; one context. */
  uint8_t *ctxf = p->context;
  if (K == 2) {
    memcpy(ctxf, previous ? previous : current, DYN_FRAME_BYTES);
    memcpy(ctxf + DYN_FRAME_BYTES, current, DYN_FRAME_BYTES);
  } else
    memcpy(ctxf, current, DYN_FRAME_BYTES);
  dyn_encode(p->data, ctxf, 1);
  p->has_context = true;
}

bool dyn_planner_predict(dyn_planner *p, const float *actions, int n, int horizon,
                         uint8_t *final_frames, uint8_t *all_frames, char *err, size_t err_sz) {
  if (!p->has_context)
    return mb_fail(err, err_sz, "dynamics: no observation to predict from (set the context first)");
  if (horizon < 1) return mb_fail(err, err_sz, "dynamics: horizon %d", horizon);
  if (horizon > p->horizon) { /* the planner's horizon grew: a rare settings change, not per plan */
    dyn_data *d = dyn_data_create(p->model, 1, p->max_samples, horizon, p->max_samples, false);
    float *a =
        realloc(p->actions_tm, (size_t)horizon * p->max_samples * DYN_ACTION_DIM * sizeof(float));
    if (!a) cmp_die("dyn_planner_predict: out of memory");
    p->actions_tm = a;
    dyn_data_destroy(p->data);
    p->data = d;
    p->horizon = horizon;
    if (p->has_context) dyn_encode(p->data, p->context, 1);
  }
  if (n < 1) return mb_fail(err, err_sz, "dynamics: %d action sequences", n);
  for (int c0 = 0; c0 < n; c0 += p->max_samples) {
    int nc = n - c0 < p->max_samples ? n - c0 : p->max_samples;
    /* Candidate-major in, time-major for the model. */
    for (int t = 0; t < horizon; t++)
      for (int i = 0; i < nc; i++)
        memcpy(p->actions_tm + ((size_t)t * nc + i) * DYN_ACTION_DIM,
               actions + ((size_t)(c0 + i) * horizon + t) * DYN_ACTION_DIM,
               DYN_ACTION_DIM * sizeof(float));
    dyn_rollout(p->data, p->actions_tm, nc, horizon);
    if (!all_frames) {
      /* A recurrent model's final frame needs every frame before it. */
      int t0 = p->model->cfg.warp_prev ? 1 : horizon;
      for (int t = t0; t <= horizon; t++) dyn_decode(p->data, t, 1);
      dyn_download_frames(p->data, final_frames + (size_t)c0 * DYN_FRAME_BYTES);
      continue;
    }
    for (int t = 1; t <= horizon; t++) {
      dyn_decode(p->data, t, 1);
      dyn_download_frames(p->data, p->frames);
      for (int i = 0; i < nc; i++) {
        const uint8_t *src = p->frames + (size_t)i * DYN_FRAME_BYTES;
        memcpy(all_frames + ((size_t)(c0 + i) * horizon + (t - 1)) * DYN_FRAME_BYTES, src,
               DYN_FRAME_BYTES);
        if (t == horizon)
          memcpy(final_frames + (size_t)(c0 + i) * DYN_FRAME_BYTES, src, DYN_FRAME_BYTES);
      }
    }
  }
  return true;
}

static bool predict_cb(void *user, const float *actions, int n, int horizon, uint8_t *final_frames,
                       uint8_t *all_frames, char *err, size_t err_sz) {
  return dyn_planner_predict(user, actions, n, horizon, final_frames, all_frames, err, err_sz);
}

cem_dynamics dyn_planner_dynamics(dyn_planner *p) {
  cem_dynamics d = {predict_cb, p};
  return d;
}

/* ---- timing --------------------------------------------------------------------------------- */

static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

bool dyn_bench_rollout(cmp_ctx *ctx, const char *run_dir, int samples, int horizon, int reps,
                       dyn_bench_result *out, char *err, size_t err_sz) {
  if (samples < 1 || horizon < 1 || reps < 1)
    return mb_fail(err, err_sz, "bench: %d samples, horizon %d, %d repetitions", samples, horizon,
                   reps);
  dyn_planner *p;
  dyn_model *m = NULL;
  memset(out, 0, sizeof *out);
  if (run_dir) {
    if (!(p = dyn_planner_load(ctx, run_dir, samples, horizon, err, err_sz))) return false;
    snprintf(out->model, sizeof out->model, "%s", p->checkpoint);
  } else {
    dyn_config cfg = dyn_config_default();
    if (!(m = dyn_model_create(ctx, &cfg, 1, false, err, err_sz))) return false;
    p = dyn_planner_create(m, samples, horizon);
    snprintf(out->model, sizeof out->model, "untrained, latent %d, %d context frames", cfg.latent,
             cfg.context);
  }
  uint8_t *frame = malloc(2 * DYN_FRAME_BYTES), *final = malloc((size_t)samples * DYN_FRAME_BYTES);
  float *act = malloc((size_t)samples * horizon * DYN_ACTION_DIM * sizeof(float));
  double *ms = malloc((size_t)reps * 2 * sizeof(double)), *cpu = ms + reps;
  if (!frame || !final || !act || !ms) cmp_die("dyn_bench_rollout: out of memory");
  for (int i = 0; i < 2 * DYN_FRAME_BYTES; i++)
    frame[i] = (uint8_t)mb_philox_u32(3, 0, (uint64_t)i);
  for (int i = 0; i < samples * horizon * DYN_ACTION_DIM; i++)
    act[i] = 2 * mb_philox_uniform(3, 1, (uint64_t)i) - 1;
  bool ok = true;
  out->ms_context = 1e30;
  for (int r = -1; r < reps && ok; r++) { /* r = -1: warm-up (scratch sizing, caches) */
    double t0 = mb_now();
    dyn_planner_set_context(p, frame + DYN_FRAME_BYTES, frame);
    cmp_sync(ctx);
    double t1 = mb_now(), c1 = cpu_seconds();
    ok = dyn_planner_predict(p, act, samples, horizon, final, NULL, err, err_sz);
    cmp_sync(ctx);
    double t2 = mb_now(), c2 = cpu_seconds();
    if (r >= 0) {
      ms[r] = (t2 - t1) * 1e3;
      cpu[r] = (c2 - c1) * 1e3;
      if ((t1 - t0) * 1e3 < out->ms_context) out->ms_context = (t1 - t0) * 1e3;
    }
  }
  if (ok) {
    qsort(ms, (size_t)reps, sizeof *ms, cmp_double);
    qsort(cpu, (size_t)reps, sizeof *cpu, cmp_double);
    out->cpu_ms_median = cpu[reps / 2];
    out->samples = samples;
    out->horizon = horizon;
    out->reps = reps;
    out->ms_best = ms[0];
    out->ms_median = ms[reps / 2];
    dyn_flops fl = dyn_model_flops(&p->model->cfg);
    int decodes = p->model->cfg.warp_prev ? horizon : 1; /* see dyn_planner_predict */
    out->gflop = (double)samples * (horizon * fl.step + decodes * fl.decode) * 1e-9;
  }
  free(frame), free(final), free(act), free(ms);
  dyn_planner_destroy(p);
  dyn_model_destroy(m);
  return ok;
}
