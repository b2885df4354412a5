/* The video model on the CPU backend: shapes, determinism, the planning path (decode the final
 * step only, one context shared by all rollouts) equals the training path (every step, contexts
 * tiled), parameter gradients against central finite differences for every part, save/load
 * round trip and refusal of foreign or mismatched checkpoints. `test_dyn_model vulkan` also runs
 * the same model on the Vulkan backend (validation layer on) and compares frames, loss and every
 * parameter gradient with the CPU's. */
#include "../test_util.h"
#include "dyn_model.h"
#include "mb_philox.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static cmp_ctx *g_ctx;

static uint8_t *rand_frames(int n, uint32_t tag) {
  uint8_t *f = malloc((size_t)n * DYN_FRAME_BYTES);
  for (size_t i = 0; i < (size_t)n * DYN_FRAME_BYTES; i++)
    f[i] = (uint8_t)(mb_philox_u32(99, tag, i) & 0xff);
  return f;
}

static float *rand_actions(int n, uint32_t tag) {
  float *a = malloc((size_t)n * DYN_ACTION_DIM * sizeof *a);
  for (int i = 0; i < n * DYN_ACTION_DIM; i++) a[i] = 2 * mb_philox_uniform(98, tag, i) - 1;
  return a;
}

static float *download(const cmp_tensor *t) {
  float *v = malloc(cmp_numel(t) * sizeof *v);
  cmp_download(g_ctx, t, v);
  return v;
}

/* The final step of the last rollout, as the planner decodes it: alone, or after every step before
 * it when frames warp the previous one. */
static const cmp_tensor *decode_final(dyn_data *d, int T) {
  const cmp_tensor *y = NULL;
  for (int t = d->model->cfg.warp_prev ? 1 : T; t <= T; t++) y = dyn_decode(d, t, 1);
  return y;
}

/* Every frame of a fresh model of cfg from seed, on contexts ctxf and actions act (also as uint8
 * frames into u8 when given). */
static float *predict_all(const dyn_config *cfg, uint64_t seed, const uint8_t *ctxf,
                          const float *act, int ni, int nr, int T, uint8_t *u8) {
  char err[256];
  dyn_model *m = dyn_model_create(g_ctx, cfg, seed, false, err, sizeof err);
  dyn_data *d = dyn_data_create(m, ni, nr, T, nr * T, false);
  dyn_encode(d, ctxf, ni);
  dyn_rollout(d, act, nr, T);
  const cmp_tensor *y = dyn_decode(d, 1, T);
  float *v = download(&(cmp_tensor){y->buf, y->off, nr * T, 3, 64, 64});
  if (u8) dyn_download_frames(d, u8);
  dyn_data_destroy(d);
  dyn_model_destroy(m);
  return v;
}

static void test_shapes_and_paths(int grid, bool warp_prev) {
  char err[256];
  dyn_config cfg = dyn_config_default();
  cfg.latent_hw = grid;
  cfg.warp_prev = warp_prev;
  if (warp_prev) cfg.blur_sigma = 0.0f;
  dyn_model *m = dyn_model_create(g_ctx, &cfg, 5, false, err, sizeof err);
  CHECK_MSG(m, "%s", err);
  if (!m) return;
  CHECK(dyn_model_param_count(m) > 100000);
  int ni = 2, nr = 6, T = 5;
  dyn_data *d = dyn_data_create(m, ni, nr, T, nr * T, false);
  uint8_t *ctxf = rand_frames(cfg.context * ni, 1);
  float *act = rand_actions(T * nr, 2);
  dyn_encode(d, ctxf, ni);
  dyn_rollout(d, act, nr, T);
  const cmp_tensor *y = dyn_decode(d, 1, T);
  CHECK(y->c == 3 && y->h == 64 && y->w == 64);
  float *all = download(&(cmp_tensor){y->buf, y->off, nr * T, 3, 64, 64});
  int bad = 0;
  for (size_t i = 0; i < (size_t)nr * T * 3 * 4096; i++) bad += !isfinite(all[i]);
  CHECK_MSG(bad == 0, "%d non-finite outputs", bad);

  /* Decoding only the final step (a recurrent model: one step at a time, the chain continuing from
   * decode to decode) gives the same frames as the last rows of decoding all. */
  y = decode_final(d, T);
  float *fin = download(&(cmp_tensor){y->buf, y->off, nr, 3, 64, 64});
  double e = 0;
  for (size_t i = 0; i < (size_t)nr * 3 * 4096; i++)
    e = fmax(e, fabs(fin[i] - all[(size_t)(T - 1) * nr * 3 * 4096 + i]));
  CHECK_MSG(e < 1e-5, "final-step decode differs from the full decode by %g", e);
  if (warp_prev) { /* a chain in two pieces: steps 1..2, then 3..T */
    dyn_decode(d, 1, 2);
    y = dyn_decode(d, 3, T - 2);
    float *rest = download(&(cmp_tensor){y->buf, y->off, nr * (T - 2), 3, 64, 64});
    e = 0;
    for (size_t i = 0; i < (size_t)nr * (T - 2) * 3 * 4096; i++)
      e = fmax(e, fabs(rest[i] - all[(size_t)2 * nr * 3 * 4096 + i]));
    CHECK_MSG(e < 1e-5, "a chain decoded in two pieces differs from one piece by %g", e);
    free(rest);
  }

  /* Rollout n uses context n % ni: a single context tiled by hand gives the same predictions. */
  dyn_data *d1 = dyn_data_create(m, 1, nr / ni, T, nr / ni, false);
  uint8_t *one = malloc((size_t)cfg.context * DYN_FRAME_BYTES);
  for (int k = 0; k < cfg.context; k++) /* context 1 of the pair */
    memcpy(one + (size_t)k * DYN_FRAME_BYTES, ctxf + ((size_t)k * ni + 1) * DYN_FRAME_BYTES,
           DYN_FRAME_BYTES);
  float *act1 = malloc((size_t)T * (nr / ni) * 4 * sizeof *act1);
  for (int t = 0; t < T; t++)
    for (int r = 0; r < nr / ni; r++)
      memcpy(act1 + ((size_t)t * (nr / ni) + r) * 4, act + ((size_t)t * nr + r * ni + 1) * 4,
             4 * sizeof(float));
  dyn_encode(d1, one, 1);
  dyn_rollout(d1, act1, nr / ni, T);
  y = decode_final(d1, T);
  float *sep = download(&(cmp_tensor){y->buf, y->off, nr / ni, 3, 64, 64});
  e = 0;
  for (int r = 0; r < nr / ni; r++)
    for (int i = 0; i < 3 * 4096; i++)
      e = fmax(e, fabs(sep[(size_t)r * 3 * 4096 + i] - fin[(size_t)(r * ni + 1) * 3 * 4096 + i]));
  CHECK_MSG(e < 1e-5, "shared context differs from a separate one by %g", e);

  /* Deterministic: the same seed gives the same weights and the same frames, bit for bit. */
  uint8_t *u8 = malloc((size_t)nr * T * DYN_FRAME_BYTES);
  float *again = predict_all(&cfg, 5, ctxf, act, ni, nr, T, u8);
  CHECK(!memcmp(again, all, (size_t)nr * T * 3 * 4096 * sizeof(float)));
  int off = 0;
  for (int k = 0; k < nr * T; k++)
    for (int c = 0; c < 3; c++)
      for (int i = 0; i < 4096; i++) {
        float v = fminf(fmaxf(all[((size_t)k * 3 + c) * 4096 + i], 0), 1) * 255;
        off += abs((int)u8[(size_t)k * DYN_FRAME_BYTES + 3 * i + c] - (int)lrintf(v)) > 1;
      }
  CHECK_MSG(off == 0, "%d uint8 pixels differ from the rounded floats", off);

  /* A model from another seed predicts differently. */
  float *other = predict_all(&cfg, 6, ctxf, act, ni, nr, T, NULL);
  CHECK(memcmp(other, all, (size_t)nr * T * 3 * 4096 * sizeof(float)) != 0);

  if (warp_prev) {
    /* The same weights warping the context instead: the same first frames (both warp the
     * context), different later ones. */
    dyn_config cc = cfg;
    cc.warp_prev = false;
    float *cv = predict_all(&cc, 5, ctxf, act, ni, nr, T, NULL);
    size_t frame = (size_t)nr * 3 * 4096;
    CHECK(!memcmp(cv, all, frame * sizeof(float)));
    double later = 0;
    for (size_t i = frame; i < (size_t)T * frame; i++) later = fmax(later, fabs(cv[i] - all[i]));
    CHECK_MSG(later > 1e-3, "warping the previous frame changes later frames by only %g", later);
    free(cv);
  }

  free(other), free(u8), free(again), free(sep), free(act1), free(one), free(fin), free(all);
  free(act), free(ctxf);
  dyn_data_destroy(d1), dyn_data_destroy(d);
  dyn_model_destroy(m);
}

/* ---- gradients against finite differences --------------------------------------------------- */

typedef struct grad_case {
  dyn_model *m;
  dyn_data *d;
  uint8_t *ctxf, *tgt;
  float *act;
  int ni, nr, T;
  double *w;    /* per-pixel loss weights [nr * T][64 x 64] (NULL: all 1) */
  double delta; /* > 0: the Huber loss with this delta (dyn_backward's l1_delta), else squares */
} grad_case;

/* The training loss in double from the float forward (weighted by g->w when set). */
static double case_loss(grad_case *g) {
  dyn_encode(g->d, g->ctxf, g->ni);
  dyn_rollout(g->d, g->act, g->nr, g->T);
  const cmp_tensor *y = dyn_decode(g->d, 1, g->T);
  int n = g->nr * g->T;
  float *v = download(&(cmp_tensor){y->buf, y->off, n, 3, 64, 64});
  double s = 0;
  for (int k = 0; k < n; k++)
    for (int c = 0; c < 3; c++)
      for (int i = 0; i < 4096; i++) {
        double e = v[((size_t)k * 3 + c) * 4096 + i] -
                   g->tgt[(size_t)k * DYN_FRAME_BYTES + 3 * i + c] / 255.0;
        double h = g->delta <= 0         ? e * e
                   : fabs(e) <= g->delta ? e * e / (2 * g->delta)
                                         : fabs(e) - g->delta / 2;
        s += h * (g->w ? g->w[(size_t)k * 4096 + i] : 1.0);
      }
  free(v);
  return s / ((double)n * 3 * 4096);
}

/* The change weights of the prediction now decoded (dyn_backward's rule, written out plainly):
 * 1 + cw where the true or the predicted pixel differs from the rollout's last context frame by
 * more than the threshold in some channel. Returns how many pixels changed. */
static int change_weights(grad_case *g, int K, float cw) {
  int n = g->nr * g->T, changed = 0;
  float *y = download(&(cmp_tensor){g->d->y.buf, g->d->y.off, n, 3, 64, 64});
  g->w = malloc((size_t)n * 4096 * sizeof *g->w);
  for (int k = 0; k < n; k++) {
    const uint8_t *last =
        g->ctxf + ((size_t)(K - 1) * g->ni + (k % g->nr) % g->ni) * DYN_FRAME_BYTES;
    bool *hit = calloc(4096, sizeof *hit);
    for (int i = 0; i < 4096; i++)
      for (int c = 0; c < 3; c++) {
        double l = last[3 * i + c] / 255.0;
        hit[i] |= fabs(y[((size_t)k * 3 + c) * 4096 + i] - l) > DYN_CHANGE_THRESHOLD ||
                  fabs(g->tgt[(size_t)k * DYN_FRAME_BYTES + 3 * i + c] / 255.0 - l) >
                      DYN_CHANGE_THRESHOLD;
      }
    for (int i = 0; i < 4096; i++) {
      g->w[(size_t)k * 4096 + i] = hit[i] ? 1.0 + cw : 1.0;
      changed += hit[i];
    }
    free(hit);
  }
  free(y);
  return changed;
}

/* Backward against central finite differences of the loss; with change_weight > 0, of the loss
 * weighted by the change weights of the unperturbed prediction (the weights are constants of the
 * step, as in dyn_backward); with l1_delta > 0, of the Huber loss. */
static void test_gradients(float blur, float change_weight, int grid, bool warp_prev,
                           float l1_delta) {
  char err[256];
  dyn_config cfg = dyn_config_default();
  cfg.latent = 8;
  cfg.latent_hw = grid;
  cfg.mask_bias = 0.5f; /* both branches matter */
  cfg.flow_scale = 3.0f;
  cfg.blur_sigma = blur;
  cfg.warp_prev = warp_prev;
  grad_case g = {.ni = 2, .nr = 4, .T = 3, .delta = l1_delta};
  g.m = dyn_model_create(g_ctx, &cfg, 17, true, err, sizeof err);
  g.d = dyn_data_create(g.m, g.ni, g.nr, g.T, g.nr * g.T, true);
  /* Smooth images, so that the warp's bilinear kinks stay small next to the finite steps. */
  int nctx = cfg.context * g.ni, ntg = g.nr * g.T;
  g.ctxf = malloc((size_t)nctx * DYN_FRAME_BYTES);
  g.tgt = rand_frames(ntg, 4);
  for (int k = 0; k < nctx; k++)
    for (int y = 0; y < 64; y++)
      for (int x = 0; x < 64; x++)
        for (int c = 0; c < 3; c++)
          g.ctxf[(size_t)k * DYN_FRAME_BYTES + (y * 64 + x) * 3 + c] =
              (uint8_t)(127 + 100 * sin(0.11 * x * (c + 1) + 0.07 * y * (k + 1) + c));
  g.act = rand_actions(g.T * g.nr, 5);

  dyn_model_zero_grad(g.m);
  dyn_encode(g.d, g.ctxf, g.ni);
  dyn_rollout(g.d, g.act, g.nr, g.T);
  dyn_decode(g.d, 1, g.T);
  /* The warp sources of a recurrent model are detached (constants of the step): they stay as this
   * decode made them while the weights are perturbed below. */
  g.d->hold_src = true;
  g.delta = 0;
  double ref = case_loss(&g); /* decodes again: the same prediction; dyn_backward returns the mse */
  if (change_weight > 0) {
    /* Targets: the context for half the frames (only predicted changes count there), random for
     * the rest; both kinds of weight must occur. */
    for (int k = 0; k < ntg / 2; k++)
      memcpy(g.tgt + (size_t)k * DYN_FRAME_BYTES,
             g.ctxf + ((size_t)(cfg.context - 1) * g.ni + (k % g.nr) % g.ni) * DYN_FRAME_BYTES,
             DYN_FRAME_BYTES);
    ref = case_loss(&g);
    int changed = change_weights(&g, cfg.context, change_weight);
    CHECK_MSG(changed > 0 && changed < ntg * 4096, "%d of %d pixels change", changed, ntg * 4096);
  }
  float loss = dyn_backward(g.d, g.tgt, change_weight, l1_delta);
  CHECK_NEAR(loss, ref, 1e-6 * ref + 1e-9);
  g.delta = l1_delta;
  if (l1_delta > 0) { /* both pieces of the Huber loss occur */
    float *y = download(&(cmp_tensor){g.d->y.buf, g.d->y.off, g.nr * g.T, 3, 64, 64});
    int inside = 0, n = g.nr * g.T * 3 * 4096;
    for (int k = 0; k < g.nr * g.T; k++)
      for (int c = 0; c < 3; c++)
        for (int i = 0; i < 4096; i++)
          inside += fabs(y[((size_t)k * 3 + c) * 4096 + i] -
                         g.tgt[(size_t)k * DYN_FRAME_BYTES + 3 * i + c] / 255.0) <= l1_delta;
    CHECK_MSG(inside > n / 50 && inside < n - n / 50, "%d of %d errors within delta", inside, n);
    free(y);
  }

  for (int p = 0; p < DYN_PARTS; p++) {
    nn_model *part = g.m->parts[p];
    int np = part->params.c;
    float *w = download(&part->params), *gr = download(&part->grads);
    /* The largest gradient of every tensor (a tensor whose gradient is missing has none), the
     * largest few of the part, and a few spread-out ones. */
    int idx[8 + NN_MAX_TENSORS], ni = 0;
    for (int t = 0; t < part->ntensors; t++) {
      const nn_named *nt = &part->tensors[t];
      if (!nt->trainable) continue;
      int o = (int)(nt->value.off - part->params.off), sz = (int)cmp_numel(&nt->value), best = o;
      for (int i = o; i < o + sz; i++)
        if (fabsf(gr[i]) > fabsf(gr[best])) best = i;
      CHECK_MSG(gr[best] != 0.0f, "%s: no gradient reaches %s", part->prefix, nt->name);
      idx[ni++] = best;
    }
    for (int k = 0; k < 4; k++) {
      int best = -1;
      for (int i = 0; i < np; i++) {
        bool used = false;
        for (int j = 0; j < ni; j++) used |= idx[j] == i;
        if (!used && (best < 0 || fabsf(gr[i]) > fabsf(gr[best]))) best = i;
      }
      idx[ni++] = best;
    }
    for (int k = 0; k < 4; k++) idx[ni++] = (int)(((size_t)k * 7919 + 13) % (size_t)np);
    double gmax = 0;
    for (int k = 0; k < ni; k++) gmax = fmax(gmax, fabs(gr[idx[k]]));
    int bad = 0;
    for (int k = 0; k < ni; k++) {
      int i = idx[k];
      float w0 = w[i], h = 1e-2f * fmaxf(fabsf(w0), 0.1f);
      w[i] = w0 + h;
      cmp_upload(g_ctx, &part->params, w);
      double lp = case_loss(&g);
      w[i] = w0 - h;
      cmp_upload(g_ctx, &part->params, w);
      double lm = case_loss(&g);
      w[i] = w0;
      cmp_upload(g_ctx, &part->params, w);
      double fd = (lp - lm) / (2.0 * ((double)(w0 + h) - (double)(w0 - h)) / 2.0);
      if (fabs(fd - gr[i]) > 0.03 * fabs(fd) + 0.01 * gmax + 1e-9) {
        if (bad++ < 3)
          fprintf(stderr, "%s param %d: backward %.6g, finite differences %.6g\n", part->prefix, i,
                  gr[i], fd);
      }
    }
    CHECK_MSG(bad == 0, "%s: %d of %d gradients disagree with finite differences", part->prefix,
              bad, ni);
    CHECK_MSG(gmax > 0, "%s: all gradients are zero", part->prefix);
    free(w), free(gr);
  }
  free(g.ctxf), free(g.tgt), free(g.act), free(g.w);
  dyn_data_destroy(g.d);
  dyn_model_destroy(g.m);
}

/* The blurred context keeps a flat image flat up to the border (normalised), and blurs an edge. */
static void test_blur(void) {
  char err[256];
  dyn_config cfg = dyn_config_default();
  cfg.blur_sigma = 2.0f;
  cfg.context = 1;
  dyn_model *m = dyn_model_create(g_ctx, &cfg, 1, false, err, sizeof err);
  CHECK_MSG(m, "%s", err);
  if (!m) return;
  dyn_data *d = dyn_data_create(m, 2, 2, 1, 2, false);
  uint8_t *f = malloc(2 * DYN_FRAME_BYTES);
  for (int i = 0; i < DYN_FRAME_BYTES; i++) {
    f[i] = 200;                                           /* flat */
    f[DYN_FRAME_BYTES + i] = (i / 3) % 64 < 32 ? 0 : 255; /* a vertical edge at x = 32 */
  }
  dyn_encode(d, f, 2);
  float *b = download(&(cmp_tensor){d->lastb.buf, d->lastb.off, 2, 3, 64, 64});
  double flat = 0;
  for (int i = 0; i < 3 * 4096; i++) flat = fmax(flat, fabs(b[i] - 200 / 255.0));
  CHECK_MSG(flat < 1e-5, "a flat image blurs to %g off", flat);
  const float *e = b + 3 * 4096;
  CHECK(e[10 * 64 + 0] < 1e-4 && e[10 * 64 + 63] > 1 - 1e-4);
  CHECK(e[10 * 64 + 31] > 0.2 && e[10 * 64 + 31] < 0.5 && e[10 * 64 + 32] > 0.5 &&
        e[10 * 64 + 32] < 0.8);
  free(b), free(f);
  dyn_data_destroy(d);
  dyn_model_destroy(m);
}

/* ---- saving and loading ---------------------------------------------------------------------- */

static void test_save_load(void) {
  char err[512], path[] = "/tmp/test_dyn_model_XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  dyn_config cfg = dyn_config_default();
  cfg.latent = 12;
  cfg.latent_hw = 16;
  cfg.blur_sigma = 0.0f;
  cfg.warp_prev = true;
  dyn_model *a = dyn_model_create(g_ctx, &cfg, 1, false, err, sizeof err);
  st_writer *w = st_writer_create();
  dyn_write_meta(&cfg, w);
  dyn_model_write(a, w, "");
  CHECK(st_writer_save(w, path, err, sizeof err));
  st_writer_destroy(w);

  st_file *f = st_open(path, err, sizeof err);
  CHECK_MSG(f, "%s", err);
  dyn_config got;
  CHECK(f && dyn_read_meta(f, &got, err, sizeof err));
  CHECK(got.latent == 12 && got.latent_hw == 16 && got.context == cfg.context &&
        got.flow_scale == cfg.flow_scale && got.warp_prev && !dyn_config_diff(&got, &cfg));
  dyn_model *b = dyn_model_create(g_ctx, &got, 2, false, err, sizeof err);
  CHECK_MSG(dyn_model_read(b, f, "", err, sizeof err), "%s", err);
  for (int p = 0; p < DYN_PARTS; p++) {
    float *va = download(&a->parts[p]->params), *vb = download(&b->parts[p]->params);
    CHECK(!memcmp(va, vb, cmp_numel(&a->parts[p]->params) * sizeof(float)));
    free(va), free(vb);
  }
  /* Another architecture is refused naming the tensor, and changes nothing. */
  dyn_config big = cfg;
  big.latent = 16;
  dyn_model *c = dyn_model_create(g_ctx, &big, 3, false, err, sizeof err);
  float *before = download(&c->encoder->params);
  CHECK(!dyn_model_read(c, f, "", err, sizeof err));
  CHECK_MSG(strstr(err, "encoder.4.weight") != NULL, "error names the tensor: %s", err);
  float *after = download(&c->encoder->params);
  CHECK(!memcmp(before, after, cmp_numel(&c->encoder->params) * sizeof(float)));
  st_close(f);

  /* A file without the architecture is not a dynamics checkpoint. */
  w = st_writer_create();
  dyn_model_write(a, w, "");
  CHECK(st_writer_save(w, path, err, sizeof err));
  st_writer_destroy(w);
  f = st_open(path, err, sizeof err);
  CHECK(f && !dyn_read_meta(f, &got, err, sizeof err));
  CHECK_MSG(strstr(err, "not a dynamics model") != NULL, "%s", err);
  st_close(f);

  /* Invalid configurations. */
  dyn_config bad = cfg;
  bad.context = 3;
  CHECK(!dyn_model_create(g_ctx, &bad, 1, false, err, sizeof err) && strstr(err, "context"));
  bad = cfg;
  bad.latent = 0;
  CHECK(!dyn_config_check(&bad, err, sizeof err) && strstr(err, "latent"));
  bad = cfg;
  bad.latent_hw = 4;
  CHECK(!dyn_config_check(&bad, err, sizeof err) && strstr(err, "latent grid"));
  CHECK(dyn_config_diff(&cfg, &big) && !strcmp(dyn_config_diff(&cfg, &big), "latent"));
  big = cfg;
  big.latent_hw = 8;
  CHECK(dyn_config_diff(&cfg, &big) && !strcmp(dyn_config_diff(&cfg, &big), "latent_hw"));
  big = cfg;
  big.warp_prev = false;
  CHECK(dyn_config_diff(&cfg, &big) && !strcmp(dyn_config_diff(&cfg, &big), "warp_source"));
  bad = cfg; /* the blur would run on every predicted frame */
  bad.blur_sigma = 1.0f;
  CHECK(!dyn_config_check(&bad, err, sizeof err) && strstr(err, "previous frame"));
  bool wp = false;
  CHECK(dyn_parse_warp_source("previous", &wp) && wp);
  CHECK(dyn_parse_warp_source("context", &wp) && !wp);
  CHECK(!dyn_parse_warp_source("next", &wp));
  CHECK(!strcmp(dyn_warp_source_name(true), "previous"));

  free(before), free(after);
  dyn_model_destroy(a), dyn_model_destroy(b), dyn_model_destroy(c);
  unlink(path);
}

/* ---- another backend against the CPU ------------------------------------------------------- */

static double rel_err(const float *a, const float *b, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    double d = (double)a[i] - b[i];
    num += d * d, den += (double)b[i] * b[i];
  }
  return den > 0 ? sqrt(num / den) : sqrt(num);
}

static void test_backend(const char *name) {
  char err[512], why[256];
  cmp_backend_choice choice;
  if (!cmp_parse_backend(name, &choice)) {
    CHECK_MSG(false, "unknown backend %s", name);
    return;
  }
  cmp_options opt = cmp_options_default();
  opt.validation = true;
  cmp_ctx *other = cmp_create(choice, &opt, why, sizeof why, err, sizeof err);
  CHECK_MSG(other, "cannot start %s: %s", name, err);
  if (!other) return;
  fprintf(stderr, "test_dyn_model: comparing %s (%s) with the CPU\n", cmp_backend_name(other),
          cmp_device_name(other));
  /* No blur, blur, blur on the 16 x 16 grid, frames warped from the previous frame. */
  for (int blur = 0; blur < 4; blur++) {
    dyn_config cfg = dyn_config_default();
    cfg.latent = 8;
    cfg.latent_hw = blur == 2 ? 16 : 8;
    cfg.mask_bias = 0.5f;
    cfg.blur_sigma = blur == 1 || blur == 2 ? 2.0f : 0.0f;
    cfg.warp_prev = blur == 3;
    int ni = 2, nr = 4, T = 3;
    cmp_ctx *ctxs[2] = {g_ctx, other};
    float *frames[2], *grads[2][DYN_PARTS], loss[2];
    uint8_t *ctxf = rand_frames(cfg.context * ni, 20), *tgt = rand_frames(nr * T, 21);
    float *act = rand_actions(T * nr, 22);
    for (int k = 0; k < 2; k++) {
      dyn_model *m = dyn_model_create(ctxs[k], &cfg, 9, true, err, sizeof err);
      dyn_data *d = dyn_data_create(m, ni, nr, T, nr * T, true);
      dyn_model_zero_grad(m);
      dyn_encode(d, ctxf, ni);
      dyn_rollout(d, act, nr, T);
      const cmp_tensor *y = dyn_decode(d, 1, T);
      frames[k] = malloc((size_t)nr * T * 3 * 4096 * sizeof(float));
      cmp_download(ctxs[k], &(cmp_tensor){y->buf, y->off, nr * T, 3, 64, 64}, frames[k]);
      loss[k] = dyn_backward(d, tgt, 0.0f, 0.0f);
      for (int p = 0; p < DYN_PARTS; p++) {
        grads[k][p] = malloc(cmp_numel(&m->parts[p]->grads) * sizeof(float));
        cmp_download(ctxs[k], &m->parts[p]->grads, grads[k][p]);
      }
      if (k == 1) {
        for (int p = 0; p < DYN_PARTS; p++) {
          double e = rel_err(grads[1][p], grads[0][p], cmp_numel(&m->parts[p]->grads));
          CHECK_MSG(e < 1e-3, "%s, blur %d: %s gradients differ from the CPU's by %.3g", name, blur,
                    m->parts[p]->prefix, e);
        }
      }
      dyn_data_destroy(d);
      dyn_model_destroy(m);
    }
    double e = rel_err(frames[1], frames[0], (size_t)nr * T * 3 * 4096);
    CHECK_MSG(e < 1e-5, "%s, blur %d: frames differ from the CPU's by %.3g", name, blur, e);
    CHECK_NEAR(loss[1], loss[0], 1e-5 * loss[0]);
    for (int k = 0; k < 2; k++) {
      free(frames[k]);
      for (int p = 0; p < DYN_PARTS; p++) free(grads[k][p]);
    }
    free(ctxf), free(tgt), free(act);
  }
  cmp_sync(other);
  int msgs = cmp_validation_message_count(other);
  CHECK_MSG(msgs == 0, "%d validation message(s)", msgs);
  cmp_destroy(other);
}

int main(int argc, char **argv) {
  char err[256];
  cmp_options opt = cmp_options_default();
  opt.threads = 2;
  g_ctx = cmp_create(CMP_BACKEND_CPU, &opt, NULL, 0, err, sizeof err);
  if (!g_ctx) {
    fprintf(stderr, "test_dyn_model: %s\n", err);
    return 1;
  }
  test_shapes_and_paths(8, false);
  test_shapes_and_paths(16, false);
  test_shapes_and_paths(8, true);
  test_gradients(0.0f, 0.0f, 8, false, 0.0f);
  test_gradients(1.5f, 0.0f, 8, false, 0.0f);
  test_gradients(1.5f, 10.0f, 8, false, 0.0f);
  test_gradients(1.5f, 0.0f, 16, false, 0.0f);
  test_gradients(0.0f, 0.0f, 8, true, 0.0f);
  test_gradients(0.0f, 10.0f, 16, true, 0.0f);
  test_gradients(1.5f, 10.0f, 8, false, 0.05f); /* the l1 (Huber) loss, weighted */
  test_blur();
  test_save_load();
  for (int i = 1; i < argc; i++) test_backend(argv[i]);
  cmp_destroy(g_ctx);
  return test_exit_code("test_dyn_model");
}
