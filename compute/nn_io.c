/* Models and Adam state to and from safetensors (see nn.h). */
#include "nn.h"

#include "cmp_backend.h" /* cmp_die */
#include "mb_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void full_name(char *out, size_t sz, const char *prefix, const char *name,
                      const char *suffix) {
  if ((size_t)snprintf(out, sz, "%s%s%s", prefix ? prefix : "", name, suffix) >= sz)
    cmp_die("nn: tensor name %s%s%s too long", prefix ? prefix : "", name, suffix);
}

static void shape64(const nn_named *t, int64_t *s) {
  for (int i = 0; i < t->ndim; i++) s[i] = t->shape[i];
}

/* Offset of a named tensor's first element inside its flat tensor. */
static size_t flat_off(const nn_model *m, const nn_named *t) {
  const cmp_tensor *flat = t->trainable ? &m->params : &m->buffers;
  return t->value.off - flat->off;
}

static float *download_flat(const nn_model *m, const cmp_tensor *flat) {
  if (!flat->buf) return NULL;
  float *h = malloc(cmp_numel(flat) * sizeof *h);
  if (!h) cmp_die("nn: out of memory");
  cmp_download(m->ctx, flat, h);
  return h;
}

void nn_model_write(const nn_model *m, st_writer *w, const char *prefix) {
  float *p = download_flat(m, &m->params), *b = download_flat(m, &m->buffers);
  char name[256];
  for (int i = 0; i < m->ntensors; i++) {
    const nn_named *t = &m->tensors[i];
    int64_t s[4];
    shape64(t, s);
    full_name(name, sizeof name, prefix, t->name, "");
    st_add_f32(w, name, t->ndim, s, (t->trainable ? p : b) + flat_off(m, t));
  }
  /* PyTorch's BatchNorm also saves its batch counter; keep it so that load_state_dict is strict. */
  for (int i = 0; i < m->nlayers; i++) {
    const nn_layer *l = &m->layers[i];
    if (l->kind != NN_BN) continue;
    char leaf[NN_NAME_MAX + 32];
    snprintf(leaf, sizeof leaf, "%s%s%d.num_batches_tracked", m->prefix, m->prefix[0] ? "." : "",
             i);
    full_name(name, sizeof name, prefix, leaf, "");
    st_add_i64(w, name, 0, NULL, &l->num_batches_tracked);
  }
  free(p);
  free(b);
}

bool nn_model_check(const nn_model *m, const st_file *f, const char *prefix, char *err,
                    size_t err_sz) {
  char name[256], want[128], got[128];
  for (int i = 0; i < m->ntensors; i++) {
    const nn_named *t = &m->tensors[i];
    int64_t s[4];
    shape64(t, s);
    full_name(name, sizeof name, prefix, t->name, "");
    const st_tensor *st = st_find(f, name);
    if (!st) return mb_fail(err, err_sz, "%s: no tensor %s", f->path, name);
    if (strcmp(st->dtype, "F32"))
      return mb_fail(err, err_sz, "%s: tensor %s is %s, expected F32", f->path, name, st->dtype);
    bool same = st->ndim == t->ndim;
    for (int d = 0; same && d < t->ndim; d++) same = st->shape[d] == s[d];
    if (!same) {
      st_shape_str(st->ndim, st->shape, got, sizeof got);
      st_shape_str(t->ndim, s, want, sizeof want);
      return mb_fail(err, err_sz, "%s: tensor %s has shape %s, expected %s", f->path, name, got,
                     want);
    }
  }
  return true;
}

bool nn_model_read(nn_model *m, const st_file *f, const char *prefix, char *err, size_t err_sz) {
  size_t np = m->params.buf ? cmp_numel(&m->params) : 0;
  size_t nb = m->buffers.buf ? cmp_numel(&m->buffers) : 0;
  float *p = calloc(np + 1, sizeof *p), *b = calloc(nb + 1, sizeof *b);
  int64_t counts[NN_MAX_LAYERS] = {0};
  char name[256];
  bool ok = p && b;
  if (!ok) mb_fail(err, err_sz, "%s: out of memory", f->path);
  for (int i = 0; ok && i < m->ntensors; i++) {
    const nn_named *t = &m->tensors[i];
    int64_t s[4];
    shape64(t, s);
    full_name(name, sizeof name, prefix, t->name, "");
    ok = st_read_f32(f, name, t->ndim, s, (t->trainable ? p : b) + flat_off(m, t), err, err_sz);
  }
  for (int i = 0; ok && i < m->nlayers; i++) {
    if (m->layers[i].kind != NN_BN) continue;
    char leaf[NN_NAME_MAX + 32];
    snprintf(leaf, sizeof leaf, "%s%s%d.num_batches_tracked", m->prefix, m->prefix[0] ? "." : "",
             i);
    full_name(name, sizeof name, prefix, leaf, "");
    if (st_find(f, name)) ok = st_read_i64_scalar(f, name, &counts[i], err, err_sz);
  }
  if (ok) {
    if (np) cmp_upload(m->ctx, &m->params, p);
    if (nb) cmp_upload(m->ctx, &m->buffers, b);
    for (int i = 0; i < m->nlayers; i++) m->layers[i].num_batches_tracked = counts[i];
  }
  free(p);
  free(b);
  return ok;
}

void nn_adam_write(const nn_adam *a, const nn_model *m, st_writer *w, const char *prefix) {
  float *hm = malloc(cmp_numel(&a->m) * sizeof *hm), *hv = malloc(cmp_numel(&a->v) * sizeof *hv);
  if (!hm || !hv) cmp_die("nn: out of memory");
  cmp_download(m->ctx, &a->m, hm);
  cmp_download(m->ctx, &a->v, hv);
  char name[256];
  for (int i = 0; i < m->ntensors; i++) {
    const nn_named *t = &m->tensors[i];
    if (!t->trainable) continue;
    int64_t s[4];
    shape64(t, s);
    full_name(name, sizeof name, prefix, t->name, ".exp_avg");
    st_add_f32(w, name, t->ndim, s, hm + flat_off(m, t));
    full_name(name, sizeof name, prefix, t->name, ".exp_avg_sq");
    st_add_f32(w, name, t->ndim, s, hv + flat_off(m, t));
  }
  full_name(name, sizeof name, prefix, "step", "");
  st_add_i64(w, name, 0, NULL, &a->t);
  free(hm);
  free(hv);
}

bool nn_adam_read(nn_adam *a, const nn_model *m, const st_file *f, const char *prefix, char *err,
                  size_t err_sz) {
  size_t n = cmp_numel(&a->m);
  float *hm = calloc(n, sizeof *hm), *hv = calloc(n, sizeof *hv);
  char name[256];
  bool ok = hm && hv;
  if (!ok) mb_fail(err, err_sz, "%s: out of memory", f->path);
  for (int i = 0; ok && i < m->ntensors; i++) {
    const nn_named *t = &m->tensors[i];
    if (!t->trainable) continue;
    int64_t s[4];
    shape64(t, s);
    full_name(name, sizeof name, prefix, t->name, ".exp_avg");
    ok = st_read_f32(f, name, t->ndim, s, hm + flat_off(m, t), err, err_sz);
    full_name(name, sizeof name, prefix, t->name, ".exp_avg_sq");
    if (ok) ok = st_read_f32(f, name, t->ndim, s, hv + flat_off(m, t), err, err_sz);
  }
  int64_t step = 0;
  full_name(name, sizeof name, prefix, "step", "");
  if (ok) ok = st_read_i64_scalar(f, name, &step, err, err_sz);
  if (ok && step < 0) ok = mb_fail(err, err_sz, "%s: %s is negative", f->path, name);
  if (ok) {
    cmp_upload(m->ctx, &a->m, hm);
    cmp_upload(m->ctx, &a->v, hv);
    a->t = step;
  }
  free(hm);
  free(hv);
  return ok;
}
