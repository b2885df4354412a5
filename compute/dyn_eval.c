/* PSNR, SSIM, changed-pixel masks and the evaluation loop of the video model (see dyn_eval.h). */
#include "dyn_eval.h"

#include "cmp_backend.h" /* cmp_die */
#include "mb_blob.h"
#include "mb_err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S DYN_IMAGE

void dyn_changed_mask(const uint8_t *last, const uint8_t *truth, uint8_t *mask) {
  uint8_t raw[S * S];
  for (int i = 0; i < S * S; i++) {
    int d = 0;
    for (int c = 0; c < 3; c++) {
      int v = abs((int)last[3 * i + c] - (int)truth[3 * i + c]);
      if (v > d) d = v;
    }
    raw[i] = d > DYN_CHANGE_LEVELS;
  }
  for (int y = 0; y < S; y++)
    for (int x = 0; x < S; x++) {
      uint8_t m = 0;
      for (int dy = -1; dy <= 1 && !m; dy++)
        for (int dx = -1; dx <= 1 && !m; dx++) {
          int yy = y + dy, xx = x + dx;
          if (yy >= 0 && yy < S && xx >= 0 && xx < S) m = raw[yy * S + xx];
        }
      mask[y * S + x] = m;
    }
}

/* Separable Gaussian filtering of a 64 x 64 plane with weights renormalised at the border. */
#define SSIM_R 5
static void gauss(const float *in, float *out, const float *g, const float *norm) {
  float tmp[S * S];
  for (int y = 0; y < S; y++)
    for (int x = 0; x < S; x++) {
      float s = 0;
      for (int k = -SSIM_R; k <= SSIM_R; k++) {
        int xx = x + k;
        if (xx >= 0 && xx < S) s += g[k + SSIM_R] * in[y * S + xx];
      }
      tmp[y * S + x] = s * norm[x];
    }
  for (int y = 0; y < S; y++)
    for (int x = 0; x < S; x++) {
      float s = 0;
      for (int k = -SSIM_R; k <= SSIM_R; k++) {
        int yy = y + k;
        if (yy >= 0 && yy < S) s += g[k + SSIM_R] * tmp[yy * S + x];
      }
      out[y * S + x] = s * norm[y];
    }
}

void dyn_ssim_map(const uint8_t *a, const uint8_t *b, float *map) {
  float g[2 * SSIM_R + 1], norm[S];
  double sum = 0;
  for (int k = -SSIM_R; k <= SSIM_R; k++)
    sum += g[k + SSIM_R] = expf(-(float)(k * k) / (2 * 1.5f * 1.5f));
  for (int k = 0; k < 2 * SSIM_R + 1; k++) g[k] = (float)(g[k] / sum);
  for (int i = 0; i < S; i++) {
    float s = 0;
    for (int k = -SSIM_R; k <= SSIM_R; k++)
      if (i + k >= 0 && i + k < S) s += g[k + SSIM_R];
    norm[i] = 1.0f / s;
  }
  const float c1 = 0.01f * 0.01f, c2 = 0.03f * 0.03f;
  float x[S * S], y[S * S], xx[S * S], yy[S * S], xy[S * S];
  float mx[S * S], my[S * S], sxx[S * S], syy[S * S], sxy[S * S];
  for (int i = 0; i < S * S; i++) map[i] = 0;
  for (int c = 0; c < 3; c++) {
    for (int i = 0; i < S * S; i++) {
      x[i] = a[3 * i + c] / 255.0f, y[i] = b[3 * i + c] / 255.0f;
      xx[i] = x[i] * x[i], yy[i] = y[i] * y[i], xy[i] = x[i] * y[i];
    }
    gauss(x, mx, g, norm), gauss(y, my, g, norm);
    gauss(xx, sxx, g, norm), gauss(yy, syy, g, norm), gauss(xy, sxy, g, norm);
    for (int i = 0; i < S * S; i++) {
      float vx = sxx[i] - mx[i] * mx[i], vy = syy[i] - my[i] * my[i], cv = sxy[i] - mx[i] * my[i];
      map[i] += (2 * mx[i] * my[i] + c1) * (2 * cv + c2) /
                ((mx[i] * mx[i] + my[i] * my[i] + c1) * (vx + vy + c2)) / 3.0f;
    }
  }
}

dyn_eval *dyn_eval_create(int horizon) {
  dyn_eval *e = calloc(1, sizeof *e);
  if (!e) cmp_die("dyn_eval_create: out of memory");
  e->horizon = horizon;
  e->model = calloc((size_t)horizon, sizeof *e->model);
  e->copy = calloc((size_t)horizon, sizeof *e->copy);
  e->obj = calloc((size_t)horizon, sizeof *e->obj);
  if (!e->model || !e->copy || !e->obj) cmp_die("dyn_eval_create: out of memory");
  return e;
}

void dyn_eval_destroy(dyn_eval *e) {
  if (!e) return;
  free(e->model);
  free(e->copy);
  free(e->obj);
  free(e);
}

static void add_one(dyn_metric_sums *s, const uint8_t *truth, const uint8_t *pred,
                    const uint8_t *mask, float *map) {
  dyn_ssim_map(truth, pred, map);
  for (int i = 0; i < S * S; i++) {
    double se = 0;
    for (int c = 0; c < 3; c++) {
      double d = ((int)truth[3 * i + c] - (int)pred[3 * i + c]) / 255.0;
      se += d * d;
    }
    s->se += se, s->ssim += map[i], s->pixels += 1;
    if (mask[i]) s->se_ch += se, s->ssim_ch += map[i], s->pixels_ch += 1;
  }
}

void dyn_eval_set_objects(dyn_eval *e, int n, const float (*rgb)[3]) {
  if (n < 0 || n > DYN_MAX_OBJECTS) cmp_die("dyn_eval_set_objects: %d objects", n);
  e->objects = n;
  memcpy(e->object_rgb, rgb, (size_t)n * sizeof *rgb);
}

static void add_objects(dyn_eval *e, dyn_object_sums *s, const uint8_t *last, const uint8_t *truth,
                        const uint8_t *pred) {
  for (int k = 0; k < e->objects; k++) {
    mb_blob c = mb_blob_find(last, S, S, e->object_rgb[k]),
            t = mb_blob_find(truth, S, S, e->object_rgb[k]);
    if (c.mass < DYN_VISIBLE_MASS || t.mass < DYN_VISIBLE_MASS) continue;
    mb_blob p = mb_blob_find(pred, S, S, e->object_rgb[k]);
    double ratio = p.mass / t.mass < 2 ? p.mass / t.mass : 2;
    double moved = hypot(t.x - c.x, t.y - c.y);
    if (moved < DYN_MOVED_PX) {
      s->still += 1, s->still_mass_ratio += ratio;
      continue;
    }
    s->moved += 1, s->mass_ratio += ratio;
    if (p.mass < 0.5 * t.mass) continue;
    double err = hypot(p.x - t.x, p.y - t.y);
    s->found += 1, s->err += err, s->copy_err += moved;
    if (err < moved) s->tracked += 1;
  }
}

void dyn_eval_add(dyn_eval *e, int step, const uint8_t *last, const uint8_t *truth,
                  const uint8_t *pred) {
  if (step < 0 || step >= e->horizon) cmp_die("dyn_eval_add: step %d of %d", step, e->horizon);
  dyn_changed_mask(last, truth, e->mask);
  add_one(&e->model[step], truth, pred, e->mask, e->map);
  add_one(&e->copy[step], truth, last, e->mask, e->map);
  add_objects(e, &e->obj[step], last, truth, pred);
  if (step == 0) e->windows++;
}

static double ratio_or_nan(double a, double b) {
  return b > 0 ? a / b : NAN;
}

dyn_object_metrics dyn_eval_get_objects(const dyn_eval *e, int step) {
  const dyn_object_sums *s = &e->obj[step];
  dyn_object_metrics m = {
      .moved = s->moved,
      .found = ratio_or_nan(s->found, s->moved),
      .tracked = ratio_or_nan(s->tracked, s->moved),
      .err_px = ratio_or_nan(s->err, s->found),
      .copy_err_px = ratio_or_nan(s->copy_err, s->found),
      .mass_ratio = ratio_or_nan(s->mass_ratio, s->moved),
      .still = s->still,
      .still_mass_ratio = ratio_or_nan(s->still_mass_ratio, s->still),
  };
  return m;
}

static double psnr(double se, double values) {
  return values > 0 ? (se > 0 ? 10.0 * log10(values / se) : INFINITY) : NAN;
}

dyn_metrics dyn_eval_get(const dyn_eval *e, int step, bool copy_last) {
  const dyn_metric_sums *s = copy_last ? &e->copy[step] : &e->model[step];
  dyn_metrics m;
  m.psnr = psnr(s->se, 3 * s->pixels);
  m.ssim = s->pixels > 0 ? s->ssim / s->pixels : NAN;
  m.psnr_changed = psnr(s->se_ch, 3 * s->pixels_ch);
  m.ssim_changed = s->pixels_ch > 0 ? s->ssim_ch / s->pixels_ch : NAN;
  m.changed_fraction = s->pixels > 0 ? s->pixels_ch / s->pixels : NAN;
  return m;
}

/* ---- the loop ------------------------------------------------------------------------------- */

static int windows_per_episode(const dyn_episodes *ep, int context, int horizon, int stride) {
  int last = ep->frames - (context + horizon);
  return last < 0 ? 0 : last / stride + 1;
}

int64_t dyn_eval_window_count(const dyn_episodes *ep, int context, int horizon, int stride,
                              int64_t max_windows) {
  int64_t n = ep->count * windows_per_episode(ep, context, horizon, stride);
  return max_windows > 0 && max_windows < n ? max_windows : n;
}

bool dyn_eval_run(dyn_model *m, const dyn_episodes *ep, int stride, int64_t max_windows, int batch,
                  dyn_eval *e, const mb_job_hooks *hooks, char *err, size_t err_sz) {
  int K = m->cfg.context, T = e->horizon;
  if (stride < 1 || batch < 1) return mb_fail(err, err_sz, "stride %d, batch %d", stride, batch);
  int per = windows_per_episode(ep, K, T, stride);
  if (per < 1)
    return mb_fail(err, err_sz, "episodes of %d frames hold no window of %d", ep->frames, K + T);
  int64_t n = dyn_eval_window_count(ep, K, T, stride, max_windows);
  dyn_data *d = dyn_data_create(m, batch, batch, T, batch * T, false);
  uint8_t *ctxf = malloc((size_t)K * batch * DYN_FRAME_BYTES);
  uint8_t *pred = malloc((size_t)T * batch * DYN_FRAME_BYTES);
  float *act = malloc((size_t)T * batch * DYN_ACTION_DIM * sizeof *act);
  const uint8_t **truth = malloc((size_t)batch * sizeof *truth);
  if (!ctxf || !pred || !act || !truth) cmp_die("dyn_eval_run: out of memory");
  bool ok = true;
  for (int64_t w0 = 0; w0 < n && ok; w0 += batch) {
    if (mb_job_cancelled(hooks)) {
      ok = mb_fail(err, err_sz, "cancelled");
      break;
    }
    int nb = n - w0 < batch ? (int)(n - w0) : batch;
    for (int i = 0; i < nb; i++) {
      int64_t w = w0 + i, epi = w / per;
      int start = (int)(w % per) * stride;
      const uint8_t *img = ep->images + (size_t)epi * ep->frames * DYN_FRAME_BYTES;
      const float *a = ep->actions + (size_t)epi * (ep->frames - 1) * DYN_ACTION_DIM;
      for (int k = 0; k < K; k++)
        memcpy(ctxf + ((size_t)k * nb + i) * DYN_FRAME_BYTES,
               img + (size_t)(start + k) * DYN_FRAME_BYTES, DYN_FRAME_BYTES);
      for (int t = 0; t < T; t++)
        memcpy(act + ((size_t)t * nb + i) * DYN_ACTION_DIM,
               a + (size_t)(start + K - 1 + t) * DYN_ACTION_DIM, DYN_ACTION_DIM * sizeof *act);
      truth[i] = img + (size_t)(start + K) * DYN_FRAME_BYTES;
    }
    dyn_encode(d, ctxf, nb);
    dyn_rollout(d, act, nb, T);
    dyn_decode(d, 1, T);
    dyn_download_frames(d, pred);
    for (int i = 0; i < nb; i++) {
      const uint8_t *last = ctxf + ((size_t)(K - 1) * nb + i) * DYN_FRAME_BYTES;
      for (int t = 0; t < T; t++)
        dyn_eval_add(e, t, last, truth[i] + (size_t)t * DYN_FRAME_BYTES,
                     pred + ((size_t)t * nb + i) * DYN_FRAME_BYTES);
    }
    mb_job_progress(hooks, w0 + nb, n, "windows");
  }
  free(ctxf), free(pred), free(act), free(truth);
  dyn_data_destroy(d);
  return ok;
}

void dyn_predict_window(dyn_model *m, const dyn_episodes *ep, int64_t episode, int start,
                        int horizon, uint8_t *out) {
  int K = m->cfg.context;
  if (episode < 0 || episode >= ep->count || start < 0 || start + K + horizon > ep->frames)
    cmp_die("dyn_predict_window: episode %lld start %d", (long long)episode, start);
  const uint8_t *img = ep->images + (size_t)episode * ep->frames * DYN_FRAME_BYTES;
  const float *a = ep->actions + (size_t)episode * (ep->frames - 1) * DYN_ACTION_DIM;
  dyn_data *d = dyn_data_create(m, 1, 1, horizon, horizon, false);
  dyn_encode(d, img + (size_t)start * DYN_FRAME_BYTES, 1);
  dyn_rollout(d, a + (size_t)(start + K - 1) * DYN_ACTION_DIM, 1, horizon);
  dyn_decode(d, 1, horizon);
  dyn_download_frames(d, out);
  dyn_data_destroy(d);
}
