/* Training the video model on the CPU backend: a synthetic video (a square moved by the action) is
 * learned well enough to predict several steps ahead far better than copying the last frame; an
 * interrupted and resumed run equals an uninterrupted one bit for bit; the planner's dynamics load
 * a run and predict; damaged, foreign or mismatched inputs are clear errors; the evaluation's
 * moving-object metrics on drawn frames. */
#include "../test_util.h"
#include "dyn_eval.h"
#include "dyn_plan.h"
#include "dyn_train.h"
#include "mb_file.h"
#include "mb_philox.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static cmp_ctx *g_ctx;
static char g_tmp[256];

/* ---- a synthetic video ----------------------------------------------------------------------- */

#define SQ       8 /* square side, pixels */
#define SQ_SPEED 3 /* pixels per unit action and step */

typedef struct synth {
  dyn_episodes ep;
  uint8_t *img;
  float *act;
} synth;

static void draw(uint8_t *f, int x0, int y0) {
  for (int y = 0; y < 64; y++)
    for (int x = 0; x < 64; x++) {
      bool in = x >= x0 && x < x0 + SQ && y >= y0 && y < y0 + SQ;
      uint8_t *p = f + (y * 64 + x) * 3;
      p[0] = in ? 230 : 60, p[1] = in ? 200 : 90, p[2] = in ? 40 : 120;
    }
}

static int clampi(int v, int lo, int hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

/* Episodes of `frames` frames: a square at a random start, moved by round(SQ_SPEED * a) per step
 * (actions uniform in [-1, 1]; dimensions 2 and 3 do nothing), stopped by the border. */
static synth make_synth(int episodes, int frames, uint32_t tag) {
  synth s;
  s.img = malloc((size_t)episodes * frames * DYN_FRAME_BYTES);
  s.act = malloc((size_t)episodes * (frames - 1) * 4 * sizeof(float));
  for (int e = 0; e < episodes; e++) {
    int x = (int)(mb_philox_u32(7, tag, (uint64_t)e * 2) % (64 - SQ));
    int y = (int)(mb_philox_u32(7, tag, (uint64_t)e * 2 + 1) % (64 - SQ));
    for (int t = 0; t < frames; t++) {
      draw(s.img + ((size_t)e * frames + t) * DYN_FRAME_BYTES, x, y);
      if (t == frames - 1) break;
      float *a = s.act + ((size_t)e * (frames - 1) + t) * 4;
      for (int k = 0; k < 4; k++)
        a[k] = 2 * mb_philox_uniform(8, tag, ((uint64_t)e * frames + t) * 4 + k) - 1;
      x = clampi(x + (int)lrintf(SQ_SPEED * a[0]), 0, 64 - SQ);
      y = clampi(y + (int)lrintf(SQ_SPEED * a[1]), 0, 64 - SQ);
    }
  }
  s.ep = (dyn_episodes){episodes, frames, s.img, s.act};
  return s;
}

static void free_synth(synth *s) {
  free(s->img);
  free(s->act);
}

static dyn_train_params small_params(void) {
  dyn_train_params p = dyn_train_defaults();
  p.model.latent = 16;
  p.model.context = 1;
  p.horizon = 4;
  p.batch = 4;
  p.lr = 2e-3f;
  p.seed = 3;
  return p;
}

/* The model learns the square: several steps ahead, far better than copy-the-last-frame. */
static void test_learns_square(void) {
  char err[512];
  synth tr = make_synth(64, 12, 1), va = make_synth(16, 12, 2);
  dyn_train_params p = small_params();
  dyn_trainer *t = dyn_trainer_create(g_ctx, &p, &tr.ep, &va.ep, err, sizeof err);
  CHECK_MSG(t, "%s", err);
  if (!t) return;
  float first = 0, mse = 0;
  for (int s = 1; s <= 400; s++) {
    CHECK(dyn_trainer_step(t, s, &mse, err, sizeof err));
    if (s == 1) first = mse;
  }
  /* Per-step metrics on held-out episodes. */
  dyn_eval *e = dyn_eval_create(p.horizon);
  CHECK_MSG(dyn_eval_run(dyn_trainer_model(t), &va.ep, 2, 0, 8, e, NULL, err, sizeof err), "%s",
            err);
  fprintf(stderr, "square: first mse %.5f, after 400 steps %.5f\n", first, mse);
  for (int k = 0; k < p.horizon; k++) {
    dyn_metrics a = dyn_eval_get(e, k, false), b = dyn_eval_get(e, k, true);
    fprintf(stderr, "  step %d: changed PSNR %.2f (copy %.2f), PSNR %.2f (copy %.2f)\n", k + 1,
            a.psnr_changed, b.psnr_changed, a.psnr, b.psnr);
    CHECK_MSG(a.psnr_changed > b.psnr_changed + 4.5,
              "step %d: changed-pixel PSNR %.2f is not far above copy-last's %.2f", k + 1,
              a.psnr_changed, b.psnr_changed);
  }
  double val, copy;
  CHECK(dyn_trainer_validate(t, &val, &copy, err, sizeof err));
  CHECK_MSG(val < 0.4 * copy, "validation mse %.5f vs copy-last %.5f", val, copy);
  dyn_eval_destroy(e);
  dyn_trainer_destroy(t);
  free_synth(&tr), free_synth(&va);
}

/* ---- moving-object metrics of the evaluation ---------------------------------------------------
 */

/* A table-coloured frame with a red 4 x 4 block at (x, y) drawn with weight `a` (1 sharp, 0.5 a
 * ghost half blended into the table), and optionally a second one. */
static void table_frame(uint8_t *f, int x, int y, double a, int x2, int y2, double a2) {
  const int table[3] = {184, 148, 113}, red[3] = {230, 40, 32};
  for (int i = 0; i < 64 * 64; i++)
    for (int c = 0; c < 3; c++) f[3 * i + c] = (uint8_t)table[c];
  for (int b = 0; b < 2; b++) {
    int bx = b ? x2 : x, by = b ? y2 : y;
    double w = b ? a2 : a;
    if (w <= 0) continue;
    for (int yy = by; yy < by + 4; yy++)
      for (int xx = bx; xx < bx + 4; xx++)
        for (int c = 0; c < 3; c++)
          f[(yy * 64 + xx) * 3 + c] = (uint8_t)lround(w * red[c] + (1 - w) * table[c]);
  }
}

/* A block moved 3 px: predicted where it went (tracked), left where it was (found, not tracked),
 * faded at both places (neither); a block that stays, kept or faded. */
static void test_object_metrics(void) {
  static uint8_t last[DYN_FRAME_BYTES], truth[DYN_FRAME_BYTES], pred[DYN_FRAME_BYTES];
  const float red[1][3] = {{0.85f, 0.15f, 0.12f}};
  dyn_eval *e = dyn_eval_create(3);
  dyn_eval_set_objects(e, 1, red);
  table_frame(last, 10, 20, 1, 0, 0, 0);
  table_frame(truth, 13, 20, 1, 0, 0, 0);
  table_frame(pred, 13, 20, 1, 0, 0, 0);
  dyn_eval_add(e, 0, last, truth, pred);
  table_frame(pred, 10, 20, 1, 0, 0, 0);
  dyn_eval_add(e, 1, last, truth, pred);
  table_frame(pred, 10, 20, 0.5, 13, 20, 0.5);
  dyn_eval_add(e, 2, last, truth, pred);
  /* still blocks: kept at step 0, faded at step 1 */
  table_frame(last, 40, 40, 1, 0, 0, 0);
  dyn_eval_add(e, 0, last, last, last);
  table_frame(pred, 40, 40, 0.5, 0, 0, 0);
  dyn_eval_add(e, 1, last, last, pred);

  dyn_object_metrics m0 = dyn_eval_get_objects(e, 0), m1 = dyn_eval_get_objects(e, 1),
                     m2 = dyn_eval_get_objects(e, 2);
  CHECK(m0.moved == 1 && m0.found == 1 && m0.tracked == 1 && m0.still == 1);
  CHECK_NEAR(m0.err_px, 0, 1e-9);
  CHECK_NEAR(m0.copy_err_px, 3, 1e-9);
  CHECK_NEAR(m0.mass_ratio, 1, 1e-9);
  CHECK_NEAR(m0.still_mass_ratio, 1, 1e-9);
  CHECK(m1.moved == 1 && m1.found == 1 && m1.tracked == 0);
  CHECK_NEAR(m1.err_px, 3, 1e-9);
  CHECK_NEAR(m1.still_mass_ratio, 0, 1e-9);
  CHECK(m2.moved == 1 && m2.found == 0 && m2.tracked == 0 && isnan(m2.err_px) && m2.still == 0);
  CHECK_NEAR(m2.mass_ratio, 0, 1e-9);
  CHECK(isnan(m2.still_mass_ratio));
  dyn_eval_destroy(e);
}

/* ---- runs: resume equals uninterrupted ---------------------------------------------------------
 */

static char *path_in(const char *dir, const char *name) {
  return mb_path_join(dir, name);
}

static dyn_data_id synth_id(const synth *s) {
  dyn_data_id id = {0};
  snprintf(id.path, sizeof id.path, "synthetic");
  snprintf(id.task, sizeof id.task, "square");
  id.episodes = s->ep.count;
  id.train_episodes = s->ep.count;
  id.actions_hash = dyn_hash_bytes(0, s->act, (size_t)s->ep.count * (s->ep.frames - 1) * 16);
  return id;
}

static atomic_int g_cancel;
static int64_t g_cancel_at;
static void cancel_cb(void *user, int64_t done, int64_t total, const char *detail) {
  (void)user, (void)total, (void)detail;
  if (g_cancel_at && done >= g_cancel_at) atomic_store(&g_cancel, 1);
}

static void test_resume(void) {
  char err[512];
  synth tr = make_synth(16, 10, 3), va = make_synth(4, 10, 4);
  dyn_train_params p = small_params();
  p.horizon = 3;
  p.batch = 4;
  p.steps = 8;
  p.log_every = 1;
  p.checkpoint_every = 3;
  p.eval_every = 4;
  p.val_windows = 6;
  dyn_data_id id = synth_id(&tr);
  char *a = path_in(g_tmp, "run-a"), *b = path_in(g_tmp, "run-b");
  dyn_train_summary sum;
  CHECK(dyn_train_run(g_ctx, a, false, &p, &id, &tr.ep, &va.ep, NULL, &sum, err, sizeof err) ==
        DYN_TRAIN_DONE);
  CHECK(sum.last_step == 8);
  /* Interrupted at step 5 (cancel saves a checkpoint there), then resumed to 8. */
  g_cancel_at = 5;
  atomic_store(&g_cancel, 0);
  mb_job_hooks hooks = {.progress = cancel_cb, .cancel = &g_cancel};
  dyn_train_status st =
      dyn_train_run(g_ctx, b, false, &p, &id, &tr.ep, &va.ep, &hooks, &sum, err, sizeof err);
  CHECK_MSG(st == DYN_TRAIN_CANCELLED && sum.last_step == 5, "status %d at step %lld: %s", st,
            (long long)sum.last_step, err);
  g_cancel_at = 0;
  atomic_store(&g_cancel, 0);
  st = dyn_train_run(g_ctx, b, true, &p, &id, &tr.ep, &va.ep, &hooks, &sum, err, sizeof err);
  CHECK_MSG(st == DYN_TRAIN_DONE && sum.first_step == 5 && sum.last_step == 8, "%s", err);

  /* Same checkpoint bytes (weights and Adam state) and the same log. */
  char *ca = path_in(a, "checkpoint-00000008.safetensors"),
       *cb = path_in(b, "checkpoint-00000008.safetensors");
  size_t na = 0, nb = 0;
  char *fa = mb_read_file(ca, &na, err, sizeof err), *fb = mb_read_file(cb, &nb, err, sizeof err);
  CHECK_MSG(fa && fb && na == nb && !memcmp(fa, fb, na),
            "the resumed run's checkpoint differs from the uninterrupted one");
  char *la = path_in(a, "log.jsonl"), *lb = path_in(b, "log.jsonl");
  char *ta = mb_read_file(la, &na, err, sizeof err), *tb = mb_read_file(lb, &nb, err, sizeof err);
  /* Lines agree except for the speed field. */
  int lines_a = 0, lines_b = 0, same = 0;
  for (char *s = ta, *u = tb; s && u && *s && *u;) {
    char *es = strchr(s, '\n'), *eu = strchr(u, '\n');
    if (!es || !eu) break;
    char *ps = strstr(s, "\"steps_per_s\""), *pu = strstr(u, "\"steps_per_s\"");
    size_t ls = (size_t)((ps && ps < es ? ps : es) - s),
           lu = (size_t)((pu && pu < eu ? pu : eu) - u);
    same += ls == lu && !memcmp(s, u, ls);
    char *vs = strstr(s, "\"val_mse\""), *vu = strstr(u, "\"val_mse\"");
    if (vs && vs < es) same -= !(vu && vu < eu && !strncmp(vs, vu, (size_t)(es - vs)));
    lines_a++, lines_b++;
    s = es + 1, u = eu + 1;
  }
  CHECK_MSG(lines_a == 8 && same == 8, "log lines: %d, identical up to speed: %d", lines_a, same);
  (void)lines_b;

  /* The planner loads the run and predicts 13 steps (past the training horizon) for a few
   * candidates, final and all frames consistent. */
  dyn_planner *pl = dyn_planner_load(g_ctx, a, 3, 4, err, sizeof err);
  CHECK_MSG(pl, "%s", err);
  if (pl) {
    CHECK(pl->step == 8);
    uint8_t *fin = malloc(3 * DYN_FRAME_BYTES), *all = malloc(3 * 4 * DYN_FRAME_BYTES),
            *fin2 = malloc(3 * DYN_FRAME_BYTES);
    float act[3 * 4 * 4];
    for (int i = 0; i < 48; i++) act[i] = 2 * mb_philox_uniform(4, 4, (uint64_t)i) - 1;
    cem_dynamics dyn = dyn_planner_dynamics(pl);
    CHECK(!dyn.predict(dyn.user, act, 3, 4, fin, NULL, err, sizeof err)); /* no context yet */
    CHECK(strstr(err, "context") != NULL);
    dyn_planner_set_context(pl, tr.img, NULL);
    CHECK_MSG(dyn.predict(dyn.user, act, 3, 4, fin, all, err, sizeof err), "%s", err);
    CHECK(dyn.predict(dyn.user, act, 3, 4, fin2, NULL, err, sizeof err));
    CHECK(!memcmp(fin, fin2, 3 * DYN_FRAME_BYTES));
    for (int i = 0; i < 3; i++)
      CHECK(!memcmp(fin + (size_t)i * DYN_FRAME_BYTES, all + ((size_t)i * 4 + 3) * DYN_FRAME_BYTES,
                    DYN_FRAME_BYTES));
    /* A longer horizon than allocated: the planner grows once and predicts its first 4 steps as
     * before (rollouts are causal). */
    float act5[3 * 5 * 4];
    for (int i = 0; i < 3; i++)
      for (int t = 0; t < 5; t++)
        for (int k = 0; k < 4; k++)
          act5[(i * 5 + t) * 4 + k] = t < 4 ? act[(i * 4 + t) * 4 + k] : 0.5f;
    uint8_t *all5 = malloc(3 * 5 * DYN_FRAME_BYTES), *fin5 = malloc(3 * DYN_FRAME_BYTES);
    CHECK_MSG(dyn.predict(dyn.user, act5, 3, 5, fin5, all5, err, sizeof err), "%s", err);
    CHECK(pl->horizon == 5);
    for (int i = 0; i < 3; i++)
      CHECK(!memcmp(all5 + ((size_t)i * 5 + 3) * DYN_FRAME_BYTES,
                    all + ((size_t)i * 4 + 3) * DYN_FRAME_BYTES, DYN_FRAME_BYTES));
    free(all5), free(fin5);
    /* More candidates than one pass holds: done in passes, same answers. */
    dyn_planner *p2 = dyn_planner_load(g_ctx, a, 2, 4, err, sizeof err);
    dyn_planner_set_context(p2, tr.img, NULL);
    CHECK(dyn_planner_predict(p2, act, 3, 4, fin2, NULL, err, sizeof err));
    CHECK(!memcmp(fin, fin2, 3 * DYN_FRAME_BYTES));
    dyn_planner_destroy(p2);
    free(fin), free(all), free(fin2);
    dyn_planner_destroy(pl);
  }

  /* Resuming with other settings or data is refused and changes nothing. */
  dyn_train_params q = p;
  q.batch = 5;
  q.steps = 9;
  st = dyn_train_run(g_ctx, a, true, &q, &id, &tr.ep, &va.ep, NULL, &sum, err, sizeof err);
  CHECK_MSG(st == DYN_TRAIN_BAD_INPUT && strstr(err, "batch"), "%d: %s", st, err);
  dyn_data_id other = id;
  other.actions_hash ^= 1;
  q = p;
  q.steps = 9;
  st = dyn_train_run(g_ctx, a, true, &q, &other, &tr.ep, &va.ep, NULL, &sum, err, sizeof err);
  CHECK_MSG(st == DYN_TRAIN_BAD_INPUT && strstr(err, "data"), "%d: %s", st, err);
  /* A new run over an existing one is refused. */
  st = dyn_train_run(g_ctx, a, false, &p, &id, &tr.ep, &va.ep, NULL, &sum, err, sizeof err);
  CHECK_MSG(st == DYN_TRAIN_BAD_INPUT, "%d: %s", st, err);
  char *c9 = path_in(a, "checkpoint-00000009.safetensors");
  CHECK(!mb_file_exists(c9));

  free(c9), free(ca), free(cb), free(fa), free(fb), free(la), free(lb), free(ta), free(tb);
  free(a), free(b);
  free_synth(&tr), free_synth(&va);
}

/* ---- interaction sampling and the learning-rate schedule ------------------------------------ */

static void test_sampling(void) {
  char err[512];
  /* 10 episodes of 12 frames, one object; only episode 6 moves it, between frames 7 and 8. */
  synth s = make_synth(10, 12, 6);
  float *xy = calloc(10 * 12 * 2, sizeof *xy);
  for (int t = 8; t < 12; t++) xy[(6 * 12 + t) * 2] = 0.05f;
  s.ep.objects = 1;
  s.ep.object_xy = xy;
  dyn_train_params p = small_params(); /* K = 1, T = 4: windows start 0 .. 7 */
  p.interaction = 0.5f;
  dyn_trainer *t = dyn_trainer_create(g_ctx, &p, &s.ep, NULL, err, sizeof err);
  CHECK_MSG(t, "%s", err);
  if (!t) return;
  /* Windows whose targets (start + 1 .. start + 4) reach frame 8: starts 4 .. 7 of episode 6. */
  CHECK(dyn_trainer_interaction_windows(t) == 4);
  int moving = 0, total = 0;
  for (int64_t step = 1; step <= 200; step++)
    for (int i = 0; i < p.batch; i++) {
      int64_t e, e2;
      int st, st2;
      dyn_trainer_window(t, step, i, &e, &st);
      dyn_trainer_window(t, step, i, &e2, &st2);
      CHECK(e == e2 && st == st2 && e >= 0 && e < 10 && st >= 0 && st <= 7);
      moving += e == 6 && st >= 4;
      total++;
    }
  /* Half drawn among the 4 moving windows, plus uniform draws that hit them (4 of 80). */
  double share = (double)moving / total, want = 0.5 + 0.5 * 4.0 / 80.0;
  CHECK_MSG(fabs(share - want) < 0.05, "moving windows drawn %.3f of the time, expected %.3f",
            share, want);
  dyn_trainer_destroy(t);
  /* Without object positions every draw is uniform. */
  s.ep.objects = 0, s.ep.object_xy = NULL;
  t = dyn_trainer_create(g_ctx, &p, &s.ep, NULL, err, sizeof err);
  CHECK(t && dyn_trainer_interaction_windows(t) == 0);
  dyn_trainer_destroy(t);
  free(xy);
  free_synth(&s);

  /* Constant, then linear to a tenth over the second half. */
  p.lr = 1e-3f, p.steps = 1000, p.lr_decay_start = 0.5f;
  CHECK_NEAR(dyn_train_lr(&p, 1), 1e-3, 1e-9);
  CHECK_NEAR(dyn_train_lr(&p, 500), 1e-3, 1e-9);
  CHECK_NEAR(dyn_train_lr(&p, 750), 0.55e-3, 1e-8);
  CHECK_NEAR(dyn_train_lr(&p, 1000), 1e-4, 1e-9);
  p.lr_decay_start = 1;
  CHECK_NEAR(dyn_train_lr(&p, 1000), 1e-3, 1e-9);
}

/* ---- bad inputs --------------------------------------------------------------------------------
 */

static void test_bad_inputs(void) {
  char err[512];
  synth tr = make_synth(4, 10, 5);
  dyn_train_params p = small_params();
  /* Episodes too short for a window; invalid parameters. */
  dyn_episodes short_ep = tr.ep;
  short_ep.frames = 3;
  CHECK(!dyn_trainer_create(g_ctx, &p, &short_ep, NULL, err, sizeof err) && strstr(err, "window"));
  dyn_train_params bad = p;
  bad.batch = 0;
  CHECK(!dyn_trainer_create(g_ctx, &bad, &tr.ep, NULL, err, sizeof err) && strstr(err, "batch"));

  /* Loading a model from things that are not dynamics runs. */
  int64_t step;
  char *none = path_in(g_tmp, "no-such-run");
  CHECK(!dyn_model_load_run(g_ctx, none, &step, NULL, 0, err, sizeof err) &&
        strstr(err, "no-such-run"));
  char *empty = path_in(g_tmp, "empty-run");
  mkdir(empty, 0755);
  CHECK(!dyn_model_load_run(g_ctx, empty, &step, NULL, 0, err, sizeof err));

  /* A run whose checkpoint is damaged: truncated, then garbage, then another network's file. */
  p.steps = 2;
  p.checkpoint_every = 2;
  p.eval_every = 0;
  dyn_data_id id = synth_id(&tr);
  char *run = path_in(g_tmp, "run-bad");
  dyn_train_summary sum;
  CHECK(dyn_train_run(g_ctx, run, false, &p, &id, &tr.ep, NULL, NULL, &sum, err, sizeof err) ==
        DYN_TRAIN_DONE);
  char *ck = path_in(run, "checkpoint-00000002.safetensors");
  size_t n = 0;
  char *bytes = mb_read_file(ck, &n, err, sizeof err);
  CHECK(bytes && n > 1000);
  CHECK(mb_write_file_atomic(ck, bytes, n / 2, err, sizeof err));
  CHECK(!dyn_model_load_run(g_ctx, run, &step, NULL, 0, err, sizeof err));
  CHECK_MSG(strstr(err, "checkpoint-00000002") != NULL, "names the file: %s", err);
  memset(bytes, 'x', 64);
  CHECK(mb_write_file_atomic(ck, bytes, n, err, sizeof err));
  CHECK(!dyn_model_load_run(g_ctx, run, &step, NULL, 0, err, sizeof err));
  st_writer *w = st_writer_create();
  st_add_metadata(w, "mbold_net", "q");
  float one = 1;
  st_add_f32(w, "head.0.bias", 1, (int64_t[]){1}, &one);
  CHECK(st_writer_save(w, ck, err, sizeof err));
  st_writer_destroy(w);
  CHECK(!dyn_model_load_run(g_ctx, run, &step, NULL, 0, err, sizeof err) &&
        strstr(err, "not a dynamics model"));
  /* Resuming from it fails the same way, with the run untouched. */
  p.steps = 3;
  CHECK(dyn_train_run(g_ctx, run, true, &p, &id, &tr.ep, NULL, NULL, &sum, err, sizeof err) ==
        DYN_TRAIN_BAD_INPUT);
  char *c3 = path_in(run, "checkpoint-00000003.safetensors");
  CHECK(!mb_file_exists(c3));
  free(c3), free(bytes), free(ck), free(run), free(empty), free(none);
  free_synth(&tr);
}

int main(void) {
  char err[256];
  cmp_options opt = cmp_options_default();
  opt.threads = 2;
  g_ctx = cmp_create(CMP_BACKEND_CPU, &opt, NULL, 0, err, sizeof err);
  if (!g_ctx) {
    fprintf(stderr, "test_dyn_train: %s\n", err);
    return 1;
  }
  snprintf(g_tmp, sizeof g_tmp, "/tmp/test_dyn_train_XXXXXX");
  if (!mkdtemp(g_tmp)) return 1;
  test_object_metrics();
  test_bad_inputs();
  test_sampling();
  test_resume();
  test_learns_square();
  cmp_destroy(g_ctx);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmp);
  return test_exit_code("test_dyn_train");
}
