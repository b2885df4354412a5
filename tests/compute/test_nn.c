/* Networks (compute/nn.h, nn_nets.h) and safetensors on the backends named on the command line
 * (`test_nn cpu`, `test_nn cpu vulkan`):
 *   - the tape against a double-precision reference of the same layers: forward output, and every
 *     parameter and input gradient against central finite differences of that reference;
 *   - gradient accumulation over two uses of one model, input gradients without parameter ones;
 *   - PyTorch's default initialisation, copy, Polyak averaging, Adam over a model;
 *   - safetensors round trip, PyTorch names and shapes, and clear errors for truncated, foreign,
 *     incomplete and mis-shaped files;
 *   - with two or more backends: the paper's Q function forward and backward equal across them. */
#include "op_ref.h"

#include "mb_file.h"
#include "nn_nets.h"

#include <math.h>
#include <unistd.h>

static char g_tmpdir[256]; /* scratch folder for files */

/* ---- a double-precision reference of any sequential model ------------------------------------ */

typedef struct ref_net {
  const nn_model *m;
  double *p;     /* parameters, the layout of m->params */
  double *b;     /* buffers, the layout of m->buffers */
  double *x;     /* input [n, in] */
  double *extra; /* NN_LINEAR_CAT extra input [n * repeat, e] */
  double *r;     /* loss weights [n * repeat, out] */
  int n, repeat;
  bool train;
} ref_net;

static const double *ref_param(const ref_net *rn, int idx) {
  const nn_named *t = &rn->m->tensors[idx];
  return t->trainable ? rn->p + (t->value.off - rn->m->params.off)
                      : rn->b + (t->value.off - rn->m->buffers.off);
}

/* Forward in double; returns the output (caller frees). */
static double *ref_forward(const ref_net *rn) {
  const nn_model *m = rn->m;
  int rows = rn->n;
  size_t sz = (size_t)m->in_c * m->in_h * m->in_w;
  double *cur = dalloc((size_t)rows * sz);
  memcpy(cur, rn->x, (size_t)rows * sz * sizeof(double));
  for (int i = 0; i < m->nlayers; i++) {
    const nn_layer *l = &m->layers[i];
    size_t in_sz = (size_t)l->in_c * l->in_h * l->in_w,
           out_sz = (size_t)l->out_c * l->out_h * l->out_w;
    int out_rows = l->kind == NN_LINEAR_CAT ? rows * rn->repeat : rows;
    double *out = dalloc((size_t)out_rows * out_sz);
    const double *w = l->weight >= 0 ? ref_param(rn, l->weight) : NULL;
    const double *b = l->bias >= 0 ? ref_param(rn, l->bias) : NULL;
    switch (l->kind) {
      case NN_CONV:
        ref_conv(cur, w, b, out, rows, l->in_c, l->in_h, l->in_w, l->out_c, &l->conv);
        break;
      case NN_CONVT:
        ref_convt(cur, w, b, out, rows, l->in_c, l->in_h, l->in_w, l->out_c, &l->conv);
        break;
      case NN_LINEAR:
      case NN_LINEAR_CAT: {
        int e = l->extra;
        for (int r = 0; r < out_rows; r++)
          for (int o = 0; o < l->out_c; o++) {
            double s = b[o];
            const double *xr =
                cur + (size_t)(l->kind == NN_LINEAR_CAT ? r / rn->repeat : r) * in_sz;
            for (size_t k = 0; k < in_sz; k++) s += xr[k] * w[(size_t)o * (in_sz + e) + k];
            for (int k = 0; k < e; k++)
              s += rn->extra[(size_t)r * e + k] * w[(size_t)o * (in_sz + e) + in_sz + k];
            out[(size_t)r * out_sz + o] = s;
          }
      } break;
      case NN_BN: {
        size_t hw = (size_t)l->in_h * l->in_w, cnt = (size_t)rows * hw;
        const double *rm = ref_param(rn, l->run_mean), *rv = ref_param(rn, l->run_var);
        for (int c = 0; c < l->in_c; c++) {
          double mu = rm[c], var = rv[c];
          if (rn->train) {
            double s = 0, ss = 0;
            for (int r = 0; r < rows; r++)
              for (size_t k = 0; k < hw; k++) s += cur[((size_t)r * l->in_c + c) * hw + k];
            mu = s / cnt;
            for (int r = 0; r < rows; r++)
              for (size_t k = 0; k < hw; k++) {
                double d = cur[((size_t)r * l->in_c + c) * hw + k] - mu;
                ss += d * d;
              }
            var = ss / cnt;
          }
          for (int r = 0; r < rows; r++)
            for (size_t k = 0; k < hw; k++) {
              size_t j = ((size_t)r * l->in_c + c) * hw + k;
              out[j] = (cur[j] - mu) / sqrt(var + l->eps) * w[c] + b[c];
            }
        }
      } break;
      case NN_ACT:
        for (size_t j = 0; j < (size_t)rows * in_sz; j++) {
          double v = cur[j];
          out[j] = l->act == CMP_ACT_RELU         ? (v > 0 ? v : 0)
                   : l->act == CMP_ACT_LEAKY_RELU ? (v > 0 ? v : l->alpha * v)
                   : l->act == CMP_ACT_TANH       ? tanh(v)
                                                  : 1 / (1 + exp(-v));
        }
        break;
    }
    free(cur);
    cur = out;
    rows = out_rows;
  }
  return cur;
}

static double ref_loss(void *u) {
  ref_net *rn = u;
  double *y = ref_forward(rn), s = 0;
  size_t n = (size_t)rn->n * rn->repeat * nn_model_out_size(rn->m);
  for (size_t i = 0; i < n; i++) s += rn->r[i] * y[i];
  free(y);
  return s;
}

/* Downloads a flat tensor as doubles (empty tensor: one zero). */
static double *down_d(const cmp_tensor *t) {
  if (!t->buf) return dalloc(1);
  float *f = tdown(t);
  double *d = dcopy(f, cmp_numel(t));
  free(f);
  return d;
}

/* A small model with every layer kind: conv, leaky, bn, conv, relu, then a concatenating linear
 * (when cat) with repeat, relu, bn, linear, tanh. */
static nn_model *small_conv_model(uint64_t seed) {
  nn_model *m = nn_model_create(g_ctx, "net", 3, 9, 8);
  nn_add_conv(m, 8, 3, 2, 1);
  nn_add_act(m, CMP_ACT_LEAKY_RELU, 0.2f);
  nn_add_bn(m);
  nn_add_conv(m, 5, 2, 1, 0);
  nn_add_act(m, CMP_ACT_RELU, 0);
  nn_add_linear(m, 6);
  nn_add_act(m, CMP_ACT_TANH, 0);
  nn_model_finish(m, true, seed);
  return m;
}

/* Transposed convolutions (the video model's decoder): upsampling by 2 and a stride-1 one. */
static nn_model *small_convt_model(uint64_t seed) {
  nn_model *m = nn_model_create(g_ctx, "dec", 5, 3, 4);
  nn_add_convt(m, 7, 4, 2, 1);
  nn_add_act(m, CMP_ACT_LEAKY_RELU, 0.2f);
  nn_add_convt(m, 3, 3, 1, 1);
  nn_model_finish(m, true, seed);
  return m;
}

static nn_model *small_cat_model(uint64_t seed) {
  nn_model *m = nn_model_create(g_ctx, "head", 7, 1, 1);
  nn_add_linear_cat(m, 3, 9);
  nn_add_act(m, CMP_ACT_RELU, 0);
  nn_add_bn(m);
  nn_add_linear(m, 4);
  nn_add_act(m, CMP_ACT_SIGMOID, 0);
  nn_add_linear(m, 2);
  nn_model_finish(m, true, seed);
  return m;
}

/* Forward + backward on the backend against the reference and finite differences. */
static void check_tape(const char *name, nn_model *m, int n, int repeat) {
  bool cat = m->layers[0].kind == NN_LINEAR_CAT;
  int e = cat ? m->layers[0].extra : 0, out = nn_model_out_size(m), rows = n * repeat;
  size_t in_sz = (size_t)m->in_c * m->in_h * m->in_w;
  float *hx, *hextra = NULL, *hr;
  cmp_tensor x = trand(n, m->in_c, m->in_h, m->in_w, 900, -1, 1, &hx);
  cmp_tensor extra = cat ? trand(rows, e, 1, 1, 901, -1, 1, &hextra) : (cmp_tensor){0};
  cmp_tensor r = trand(rows, out, 1, 1, 902, -1, 1, &hr);
  cmp_tensor dx = tens(n, m->in_c, m->in_h, m->in_w);
  cmp_tensor dextra = cat ? tens(rows, e, 1, 1) : (cmp_tensor){0};
  nn_data *d = nn_data_create(m, rows, n);
  nn_zero_grad(m);
  const cmp_tensor *y = cat ? nn_forward_cat(d, &x, &extra, repeat, true) : nn_forward(d, &x, true);
  CHECK(y->n == rows && (int)cmp_sample_size(y) == out);
  nn_backward(d, &r, true, &dx, 0.0f, cat ? &dextra : NULL, 0.0f);

  ref_net rn = {m,
                down_d(&m->params),
                down_d(&m->buffers),
                dcopy(hx, (size_t)n * in_sz),
                cat ? dcopy(hextra, (size_t)rows * e) : NULL,
                dcopy(hr, (size_t)rows * out),
                n,
                repeat,
                true};
  double *ry = ref_forward(&rn);
  char msg[160];
  snprintf(msg, sizeof msg, "%s forward", name);
  CHECK_TENSOR(msg, *y, ry);
  /* Every trainable tensor's gradient and the input gradients against finite differences. */
  float *g = tdown(&m->grads);
  for (int i = 0; i < m->ntensors; i++) {
    const nn_named *t = &m->tensors[i];
    if (!t->trainable) continue;
    size_t off = t->value.off - m->params.off, len = cmp_numel(&t->value);
    snprintf(msg, sizeof msg, "%s d%s (finite differences)", name, t->name);
    check_fd_h(msg, rn.p + off, len, g + off, ref_loss, &rn, 6, 1e-6);
  }
  float *gx = tdown(&dx);
  snprintf(msg, sizeof msg, "%s dx (finite differences)", name);
  check_fd_h(msg, rn.x, (size_t)n * in_sz, gx, ref_loss, &rn, 12, 1e-6);
  if (cat) {
    float *ge = tdown(&dextra);
    snprintf(msg, sizeof msg, "%s dextra (finite differences)", name);
    check_fd_h(msg, rn.extra, (size_t)rows * e, ge, ref_loss, &rn, 12, 1e-6);
    free(ge);
  }
  /* Eval mode uses the running statistics the train forward just updated. */
  cmp_tensor y2 = tens(rows, out, 1, 1);
  const cmp_tensor *ye =
      cat ? nn_forward_cat(d, &x, &extra, repeat, false) : nn_forward(d, &x, false);
  cmp_axpby(g_ctx, ye, &y2, 1.0f, 0.0f);
  free(rn.b);
  rn.b = down_d(&m->buffers);
  rn.train = false;
  double *re = ref_forward(&rn);
  snprintf(msg, sizeof msg, "%s forward (eval)", name);
  CHECK_TENSOR(msg, y2, re);
  free(re), free(ry), free(g), free(gx), free(rn.p), free(rn.b), free(rn.x), free(rn.extra);
  free(rn.r), free(hx), free(hextra), free(hr);
  nn_data_destroy(d);
}

static void test_tape(void) {
  nn_model *m = small_conv_model(5);
  check_tape("conv model batch 4", m, 4, 1);
  check_tape("conv model batch 2", m, 2, 1);
  nn_model_destroy(m);
  m = small_convt_model(8);
  CHECK(m->layers[0].out_h == 6 && m->layers[0].out_w == 8 && m->layers[2].out_c == 3);
  /* PyTorch's ConvTranspose2d: weight [in, out, k, k], fan_in from its second dimension. */
  CHECK(m->tensors[0].shape[0] == 5 && m->tensors[0].shape[1] == 7 &&
        m->tensors[0].fan_in == 7 * 16);
  check_tape("convT model batch 3", m, 3, 1);
  nn_model_destroy(m);
  m = small_cat_model(6);
  check_tape("cat model repeat 1", m, 5, 1);
  check_tape("cat model repeat 3", m, 4, 3);
  nn_model_destroy(m);
}

/* Two uses of one model accumulate into the same gradients; param_grads = false leaves them. */
static void test_accumulation(void) {
  nn_model *m = small_cat_model(7);
  int n = 4, e = 3;
  cmp_tensor x = trand(n, 7, 1, 1, 910, -1, 1, NULL);
  cmp_tensor a1 = trand(n, e, 1, 1, 911, -1, 1, NULL), a2 = trand(3 * n, e, 1, 1, 912, -1, 1, NULL);
  cmp_tensor r1 = trand(n, 2, 1, 1, 913, -1, 1, NULL), r2 = trand(3 * n, 2, 1, 1, 914, -1, 1, NULL);
  cmp_tensor dx = tens(n, 7, 1, 1), dx1 = tens(n, 7, 1, 1), dx2 = tens(n, 7, 1, 1);
  nn_data *d1 = nn_data_create(m, n, n), *d2 = nn_data_create(m, 3 * n, n);
  size_t np = cmp_numel(&m->params);
  /* g1, g2 separately. */
  nn_zero_grad(m);
  nn_forward_cat(d1, &x, &a1, 1, true);
  nn_backward(d1, &r1, true, &dx1, 0.0f, NULL, 0.0f);
  float *g1 = tdown(&m->grads);
  nn_zero_grad(m);
  nn_forward_cat(d2, &x, &a2, 3, true);
  nn_backward(d2, &r2, true, &dx2, 0.0f, NULL, 0.0f);
  float *g2 = tdown(&m->grads);
  /* Both forwards first, then both backwards into the same gradients, dx accumulated. */
  nn_zero_grad(m);
  nn_forward_cat(d1, &x, &a1, 1, true);
  nn_forward_cat(d2, &x, &a2, 3, true);
  nn_backward(d1, &r1, true, &dx, 0.0f, NULL, 0.0f);
  nn_backward(d2, &r2, true, &dx, 1.0f, NULL, 0.0f);
  double *want = dalloc(np);
  for (size_t i = 0; i < np; i++) want[i] = (double)g1[i] + g2[i];
  CHECK_TENSOR("accumulated parameter gradients", m->grads, want);
  float *f1 = tdown(&dx1), *f2 = tdown(&dx2);
  double *wdx = dalloc((size_t)n * 7);
  for (int i = 0; i < n * 7; i++) wdx[i] = (double)f1[i] + f2[i];
  CHECK_TENSOR("accumulated input gradient", dx, wdx);
  /* The actor's case: the extra input's gradient only, the model's gradients untouched. */
  cmp_tensor da = tens(n, e, 1, 1);
  float *before = tdown(&m->grads);
  nn_forward_cat(d1, &x, &a1, 1, true);
  nn_backward(d1, &r1, false, NULL, 0.0f, &da, 0.0f);
  float *after = tdown(&m->grads);
  CHECK_MSG(!memcmp(before, after, np * sizeof(float)), "param_grads = false changed gradients");
  float *fa = tdown(&da);
  double s = 0;
  for (int i = 0; i < n * e; i++) s += fabsf(fa[i]);
  CHECK_MSG(s > 0, "no gradient reached the extra input");
  /* Data created with equal batches still serves a repeated forward (it used to abort). */
  nn_data *d3 = nn_data_create(m, 3 * n, 3 * n);
  const cmp_tensor *y3 = nn_forward_cat(d3, &x, &a2, 3, true);
  CHECK(y3->n == 3 * n);
  nn_data_destroy(d3);
  free(g1), free(g2), free(want), free(f1), free(f2), free(wdx), free(before), free(after),
      free(fa);
  nn_data_destroy(d1), nn_data_destroy(d2);
  nn_model_destroy(m);
}

/* ---- initialisation, copies, optimiser ------------------------------------------------------- */

static uint32_t fnv(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
  return h;
}

static void test_init(void) {
  nn_model *a = nn_encoder_create(g_ctx, 3, false), *b = nn_encoder_create(g_ctx, 3, false);
  nn_model *c = nn_encoder_create(g_ctx, 4, false);
  float *pa = tdown(&a->params), *pb = tdown(&b->params), *pc = tdown(&c->params);
  size_t np = cmp_numel(&a->params);
  CHECK_MSG(!memcmp(pa, pb, np * sizeof(float)), "same seed, different parameters");
  CHECK_MSG(memcmp(pa, pc, np * sizeof(float)), "different seeds, same parameters");
  /* PyTorch's scheme: weights and biases uniform(+-1/sqrt(fan_in)), batch norm 1 / 0 / 0 / 1. */
  CHECK(nn_model_param_count(a) == 8 * 6 * 16 + 8 + 16 * 8 * 16 + 16 + 2 * 16 + 32 * 16 * 16 + 32 +
                                       2 * 32 + 64 * 32 * 16 + 64);
  for (int i = 0; i < a->ntensors; i++) {
    const nn_named *t = &a->tensors[i];
    float *v = tdown(&t->value);
    size_t n = cmp_numel(&t->value);
    if (t->fan_in) {
      double bound = 1 / sqrt((double)t->fan_in), mx = 0, mean = 0;
      for (size_t k = 0; k < n; k++) mx = fmax(mx, fabs(v[k])), mean += v[k];
      CHECK_MSG(mx <= bound && mx > 0.8 * bound, "%s: max |w| %g for bound %g", t->name, mx, bound);
      if (n > 1000) CHECK_MSG(fabs(mean / n) < 0.05 * bound, "%s: mean %g", t->name, mean / n);
    } else {
      bool ones = strstr(t->name, "running_var") || strstr(t->name, ".weight");
      for (size_t k = 0; k < n; k++)
        CHECK_MSG(v[k] == (ones ? 1.0f : 0.0f), "%s[%zu] = %g", t->name, k, v[k]);
    }
    free(v);
  }
  /* The numbers are Philox's: element 0 of the first weight. */
  const nn_named *w0 = nn_model_find(a, "encoder.conv.0.weight");
  CHECK(w0 && w0->ndim == 4 && w0->shape[0] == 8 && w0->shape[1] == 6 && w0->shape[2] == 4);
  if (w0) {
    float *v = tdown(&w0->value);
    float bound = 1.0f / sqrtf(96.0f);
    float want = -bound + (bound - -bound) * mb_philox_uniform(3 * 0x9E3779B97F4A7C15ull + 1,
                                                               fnv("encoder.conv.0.weight"), 5);
    CHECK_NEAR(v[5], want, 1e-7);
    free(v);
  }
  free(pa), free(pb), free(pc);
  nn_model_destroy(a), nn_model_destroy(b), nn_model_destroy(c);
}

static void test_copy_polyak_adam(void) {
  nn_model *s = small_cat_model(11), *t = small_cat_model(12);
  size_t np = cmp_numel(&s->params), nb = cmp_numel(&s->buffers);
  cmp_rng_uniform(g_ctx, &s->buffers, 9, 9, 0, 0.5f, 1.5f);
  float *ps = tdown(&s->params), *pt = tdown(&t->params), *bt = tdown(&t->buffers);
  nn_polyak(t, s, 0.995f, false);
  double *want = dalloc(np);
  for (size_t i = 0; i < np; i++) want[i] = 0.995 * pt[i] + 0.005 * ps[i];
  CHECK_TENSOR("nn_polyak parameters", t->params, want);
  double *wb = dcopy(bt, nb);
  CHECK_TENSOR("nn_polyak leaves running statistics", t->buffers, wb);
  nn_copy(t, s);
  float *bs = tdown(&s->buffers);
  double *ws = dcopy(ps, np), *wbs = dcopy(bs, nb);
  CHECK_TENSOR("nn_copy parameters", t->params, ws);
  CHECK_TENSOR("nn_copy running statistics", t->buffers, wbs);
  /* Adam over the model: one step from given gradients moves each parameter by about lr. */
  nn_adam *adam = nn_adam_create(s, 0.01f, 0.9f, 0.999f, 1e-8f);
  float *g = hrand(np, 920, -1, 1);
  cmp_upload(g_ctx, &s->grads, g);
  nn_adam_step(adam, s);
  CHECK(adam->t == 1);
  double *wa = dalloc(np);
  for (size_t i = 0; i < np; i++) wa[i] = ps[i] - (g[i] > 0 ? 0.01 : g[i] < 0 ? -0.01 : 0);
  CHECK_TENSOR("nn_adam_step", s->params, wa);
  nn_adam_destroy(adam);
  free(ps), free(pt), free(bt), free(bs), free(want), free(wb), free(ws), free(wbs), free(g),
      free(wa);
  nn_model_destroy(s), nn_model_destroy(t);
}

/* ---- safetensors ----------------------------------------------------------------------------- */

static char *tmp_path(const char *name) {
  return mb_path_join(g_tmpdir, name);
}

static void expect_load_error(nn_net *net, const char *path, const char *needle1,
                              const char *needle2) {
  char err[512] = "";
  float *before = tdown(&net->head->params);
  bool ok = nn_net_load(net, path, err, sizeof err);
  CHECK_MSG(!ok, "loading %s succeeded", path);
  CHECK_MSG(strstr(err, path) && strstr(err, needle1) && (!needle2 || strstr(err, needle2)),
            "error '%s' lacks '%s' / '%s'", err, needle1, needle2 ? needle2 : "");
  CHECK_MSG(!strchr(err, '\n'), "error is more than one line: %s", err);
  float *after = tdown(&net->head->params);
  CHECK_MSG(!memcmp(before, after, cmp_numel(&net->head->params) * sizeof(float)),
            "a failed load changed the network");
  free(before), free(after);
}

static void test_safetensors(void) {
  char err[512] = "";
  nn_net *q = nn_net_create(g_ctx, NN_NET_Q, 21, true),
         *q2 = nn_net_create(g_ctx, NN_NET_Q, 22, false);
  /* Some training so that running statistics and counters are not at their initial values. */
  nn_net_data *d = nn_net_data_create(q, 3);
  cmp_tensor pairs = cmp_rows(d->pairs, 0, 3), act = trand(3, 4, 1, 1, 930, -1, 1, NULL);
  cmp_rng_uniform(g_ctx, &pairs, 1, 2, 0, 0, 1);
  nn_net_forward(d, &pairs, &act, true);
  char *path = tmp_path("q.safetensors");
  CHECK_MSG(nn_net_save(q, path, err, sizeof err), "%s", err);
  CHECK_MSG(nn_net_load(q2, path, err, sizeof err), "%s", err);
  const nn_model *pairs_of[2][2] = {{q->encoder, q2->encoder}, {q->head, q2->head}};
  for (int k = 0; k < 2; k++) {
    float *a = tdown(&pairs_of[k][0]->params), *b = tdown(&pairs_of[k][1]->params);
    float *ba = tdown(&pairs_of[k][0]->buffers), *bb = tdown(&pairs_of[k][1]->buffers);
    CHECK_MSG(!memcmp(a, b, cmp_numel(&pairs_of[k][0]->params) * 4), "round trip: parameters");
    CHECK_MSG(!memcmp(ba, bb, cmp_numel(&pairs_of[k][0]->buffers) * 4), "round trip: buffers");
    for (int l = 0; l < pairs_of[k][0]->nlayers; l++)
      CHECK(pairs_of[k][0]->layers[l].num_batches_tracked ==
            pairs_of[k][1]->layers[l].num_batches_tracked);
    free(a), free(b), free(ba), free(bb);
  }
  CHECK(q->encoder->layers[4].num_batches_tracked == 1);
  /* The file as PyTorch sees it. */
  st_file *f = st_open(path, err, sizeof err);
  CHECK_MSG(f, "%s", err);
  if (f) {
    const st_tensor *t = st_find(f, "encoder.conv.0.weight");
    CHECK(t && !strcmp(t->dtype, "F32") && t->ndim == 4 && t->shape[0] == 8 && t->shape[1] == 6 &&
          t->shape[2] == 4 && t->shape[3] == 4);
    t = st_find(f, "head.0.weight");
    CHECK(t && t->ndim == 2 && t->shape[0] == 128 && t->shape[1] == 1028);
    t = st_find(f, "head.15.weight");
    CHECK(t && t->ndim == 2 && t->shape[0] == 1 && t->shape[1] == 128);
    t = st_find(f, "encoder.conv.4.running_var");
    CHECK(t && t->ndim == 1 && t->shape[0] == 16);
    t = st_find(f, "encoder.conv.7.num_batches_tracked");
    CHECK(t && !strcmp(t->dtype, "I64") && t->ndim == 0);
    CHECK(st_metadata(f, "mbold_net") && !strcmp(st_metadata(f, "mbold_net"), "q"));
    /* 8 + header is a multiple of 8 and the data starts right after it. */
    uint64_t hlen = 0;
    for (int i = 0; i < 8; i++) hlen |= (uint64_t)f->bytes[i] << (8 * i);
    CHECK(hlen % 8 == 0 && f->bytes[8] == '{');
    /* Truncated: cut the data. */
    char *cut = tmp_path("cut.safetensors");
    CHECK(mb_write_file_atomic(cut, f->bytes, f->size - 100, err, sizeof err));
    expect_load_error(q2, cut, "truncated", NULL);
    CHECK(mb_write_file_atomic(cut, f->bytes, 5, err, sizeof err));
    expect_load_error(q2, cut, "truncated", NULL);
    CHECK(mb_write_file_atomic(cut, f->bytes, 8 + hlen / 2, err, sizeof err));
    expect_load_error(q2, cut, "truncated", NULL);
    free(cut);
    st_close(f);
  }
  /* Foreign files. */
  char *foreign = tmp_path("foreign.png");
  const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x40\0\0\0\x40\x08\x02\0\0\0";
  CHECK(mb_write_file_atomic(foreign, png, sizeof png - 1, err, sizeof err));
  expect_load_error(q2, foreign, "not a safetensors file", NULL);
  const char json[] = "\x10\0\0\0\0\0\0\0[1, 2, 3, 4, 5]  ";
  CHECK(mb_write_file_atomic(foreign, json, sizeof json - 1, err, sizeof err));
  expect_load_error(q2, foreign, "not a safetensors file", NULL);
  char *missing = tmp_path("missing.safetensors");
  expect_load_error(q2, missing, "missing.safetensors", NULL);
  /* A missing tensor, a mis-shaped one, another dtype, another network kind. */
  char *bad = tmp_path("bad.safetensors");
  nn_net *actor = nn_net_create(g_ctx, NN_NET_ACTOR, 23, false);
  CHECK(nn_net_save(actor, bad, err, sizeof err));
  expect_load_error(q2, bad, "holds network kind 'actor', expected 'q'", NULL);
  st_writer *w = st_writer_create();
  nn_model_write(q->encoder, w, "");
  CHECK(st_writer_save(w, bad, err, sizeof err));
  st_writer_destroy(w);
  expect_load_error(q2, bad, "no tensor head.0.weight", NULL);
  w = st_writer_create();
  nn_model_write(q->encoder, w, "");
  nn_model_write(actor->head, w, ""); /* head.0.weight is [128, 1024] in the actor */
  CHECK(st_writer_save(w, bad, err, sizeof err));
  st_writer_destroy(w);
  expect_load_error(q2, bad, "tensor head.0.weight has shape [128, 1024], expected [128, 1028]",
                    NULL);
  w = st_writer_create();
  nn_model_write(q->encoder, w, "");
  st_writer *w2 = st_writer_create();
  nn_model_write(q->head, w2, "");
  CHECK(st_writer_save(w2, bad, err, sizeof err));
  st_file *hf = st_open(bad, err, sizeof err);
  for (int i = 0; hf && i < hf->count; i++) {
    const st_tensor *t = &hf->tensors[i];
    if (!strcmp(t->name, "head.3.bias")) {
      int64_t *iv = calloc(t->shape[0], sizeof *iv);
      st_add_i64(w, t->name, t->ndim, t->shape, iv);
      free(iv);
    } else if (!strcmp(t->dtype, "F32"))
      st_add_f32(w, t->name, t->ndim, t->shape, (const float *)t->data);
  }
  st_close(hf);
  CHECK(st_writer_save(w, bad, err, sizeof err));
  st_writer_destroy(w), st_writer_destroy(w2);
  expect_load_error(q2, bad, "head.3.bias is I64, expected F32", NULL);
  free(bad), free(missing), free(foreign), free(path);
  nn_net_destroy(actor);
  nn_net_data_destroy(d);
  nn_net_destroy(q), nn_net_destroy(q2);
}

/* ---- the Q function on several backends ------------------------------------------------------ */

typedef struct q_result {
  float *q, *q_rand, *grads_enc, *grads_head, *dact;
  size_t n_enc, n_head;
} q_result;

/* The trainer's pattern at a small batch: encoder once, head on the data actions and on 3 random
 * actions per sample, both backward into the same gradients, then the encoder backward. */
static q_result run_q(void) {
  const int B = 5, R = 3;
  nn_net *q = nn_net_create(g_ctx, NN_NET_Q, 31, true);
  nn_data *enc = nn_data_create(q->encoder, B, B), *hd = nn_data_create(q->head, B, B);
  nn_data *hr = nn_data_create(q->head, B * R, B);
  uint8_t *img = malloc((size_t)2 * B * 64 * 64 * 3);
  for (int i = 0; i < 2 * B * 64 * 64 * 3; i++) img[i] = (uint8_t)(mb_philox_u32(7, 1, i) >> 24);
  cmp_tensor pairs = tens(B, 6, 64, 64);
  cmp_upload_u8_hwc(g_ctx, &pairs, 0, img, NN_PIXEL_SCALE, 0);
  cmp_upload_u8_hwc(g_ctx, &pairs, 3, img + (size_t)B * 64 * 64 * 3, NN_PIXEL_SCALE, 0);
  cmp_tensor act = tens(B, 4, 1, 1), ract = tens(B * R, 4, 1, 1);
  cmp_rng_uniform(g_ctx, &act, 8, 0, 0, -1, 1);
  cmp_rng_uniform(g_ctx, &ract, 8, 1, 0, -1, 1);
  cmp_tensor dq = tens(B, 1, 1, 1), dqr = tens(B * R, 1, 1, 1);
  cmp_rng_uniform(g_ctx, &dq, 8, 2, 0, -1, 1);
  cmp_rng_uniform(g_ctx, &dqr, 8, 3, 0, -1, 1);
  cmp_tensor df = tens(B, NN_FEATURES, 1, 1), da = tens(B, 4, 1, 1);
  nn_net_zero_grad(q);
  const cmp_tensor *feat = nn_forward(enc, &pairs, true);
  cmp_tensor f = cmp_reshape(*feat, B, NN_FEATURES, 1, 1);
  q_result r = {0};
  r.q = tdown(nn_forward_cat(hd, &f, &act, 1, true));
  r.q_rand = tdown(nn_forward_cat(hr, &f, &ract, R, true));
  nn_backward(hd, &dq, true, &df, 0.0f, &da, 0.0f);
  nn_backward(hr, &dqr, true, &df, 1.0f, NULL, 0.0f);
  nn_backward(enc, &df, true, NULL, 0.0f, NULL, 0.0f);
  r.grads_enc = tdown(&q->encoder->grads);
  r.grads_head = tdown(&q->head->grads);
  r.dact = tdown(&da);
  r.n_enc = cmp_numel(&q->encoder->grads);
  r.n_head = cmp_numel(&q->head->grads);
  free(img);
  nn_data_destroy(enc), nn_data_destroy(hd), nn_data_destroy(hr);
  nn_net_destroy(q);
  return r;
}

static void compare(const char *what, const float *a, const float *b, size_t n, const char *b1,
                    const char *b2) {
  double *ref = dcopy(a, n);
  double e = nmse(b, ref, n);
  CHECK_MSG(e < 1e-6, "Q function %s: %s vs %s normalised MSE %.3g", what, b1, b2, e);
  free(ref);
}

static void free_q(q_result *r) {
  free(r->q), free(r->q_rand), free(r->grads_enc), free(r->grads_head), free(r->dact);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: test_nn BACKEND [BACKEND...] (cpu, vulkan)\n");
    return 2;
  }
  snprintf(g_tmpdir, sizeof g_tmpdir, "%s/test_nn-%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
           (int)getpid());
  char err[256];
  if (!mb_mkdir_p(g_tmpdir, err, sizeof err)) {
    fprintf(stderr, "test_nn: %s\n", err);
    return 1;
  }
  q_result first = {0};
  for (int b = 1; b < argc; b++) {
    char *args[2] = {argv[0], argv[b]};
    int rc = test_open(2, args, "test_nn");
    if (rc) return rc;
    test_tape();
    test_accumulation();
    test_init();
    test_copy_polyak_adam();
    test_safetensors();
    q_result r = run_q();
    if (b == 1)
      first = r;
    else {
      compare("Q(s, g, a)", first.q, r.q, 5, argv[1], argv[b]);
      compare("Q on random actions", first.q_rand, r.q_rand, 15, argv[1], argv[b]);
      compare("encoder gradients", first.grads_enc, r.grads_enc, r.n_enc, argv[1], argv[b]);
      compare("head gradients", first.grads_head, r.grads_head, r.n_head, argv[1], argv[b]);
      compare("action gradient", first.dact, r.dact, 20, argv[1], argv[b]);
      free_q(&r);
    }
    cmp_sync(g_ctx);
    int msgs = cmp_validation_message_count(g_ctx);
    CHECK_MSG(msgs == 0, "%s: %d Vulkan validation message(s)", argv[b], msgs);
    cmp_arena_destroy(g_arena);
    cmp_destroy(g_ctx);
  }
  free_q(&first);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "test_nn: could not remove %s\n", g_tmpdir);
  return test_exit_code("test_nn");
}
