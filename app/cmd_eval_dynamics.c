/* mbold eval-dynamics: PSNR and SSIM per predicted step of a trained video model on a dataset's val
 * split, over all pixels and the pixels that change, against copy-the-last-frame
 * (compute/dyn_eval.h defines the metrics); JSON results and an optional filmstrip PNG (true and
 * predicted rows). */
#include "app_cli.h"
#include "app_dyn_data.h"
#include "app_interrupt.h"
#include "app_progress.h"

#include "dyn_eval.h"
#include "dyn_plan.h"
#include "mb_blob.h"
#include "mb_err.h"
#include "mb_file.h"
#include "mb_json.h"
#include "sim_dataset.h"
#include "sim_png.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int app_cmd_eval_dynamics(int argc, char **argv);

#define STRIP_GAP 2 /* pixels between a window's two rows and the next window */

static void metrics_json(mb_jw *w, const dyn_eval *e, bool copy) {
  const char *keys[4] = {"psnr", "ssim", "psnr_changed", "ssim_changed"};
  for (int k = 0; k < 4; k++) {
    mb_jw_key(w, keys[k]);
    mb_jw_begin_array(w);
    for (int t = 0; t < e->horizon; t++) {
      dyn_metrics m = dyn_eval_get(e, t, copy);
      double v = k == 0 ? m.psnr : k == 1 ? m.ssim : k == 2 ? m.psnr_changed : m.ssim_changed;
      mb_jw_double(w, round(v * 10000) / 10000);
    }
    mb_jw_end_array(w);
  }
}

/* The moving-object metrics per step (dyn_eval.h). */
static void objects_json(mb_jw *w, const dyn_eval *e) {
  const char *keys[8] = {"moved",         "found",      "tracked", "error_px",
                         "copy_error_px", "mass_ratio", "still",   "still_mass_ratio"};
  mb_jw_key(w, "objects");
  mb_jw_begin_object(w);
  char def[400];
  snprintf(def, sizeof def,
           "each object found by its colour (chromaticity within %.2f); pairs (window, object) "
           "visible (mass >= %.0f) in the last context and the true frame; moved: true centroid "
           "%.0f px or more from the context's; found: drawn with at least half the true mass; "
           "tracked: found and nearer the true centroid than the context's",
           MB_BLOB_RADIUS, DYN_VISIBLE_MASS, DYN_MOVED_PX);
  mb_jw_kv_string(w, "definition", def);
  mb_jw_kv_int(w, "count", e->objects);
  for (int k = 0; k < 8; k++) {
    mb_jw_key(w, keys[k]);
    mb_jw_begin_array(w);
    for (int t = 0; t < e->horizon; t++) {
      dyn_object_metrics m = dyn_eval_get_objects(e, t);
      double v = (double[8]){m.moved,       m.found,      m.tracked, m.err_px,
                             m.copy_err_px, m.mass_ratio, m.still,   m.still_mass_ratio}[k];
      mb_jw_double(w, round(v * 1e4) / 1e4);
    }
    mb_jw_end_array(w);
  }
  mb_jw_end_object(w);
}

static void objects_table(const dyn_eval *e) {
  printf("moving objects: step   moved   found  tracked   error px model/copy   mass ratio moved "
         "/ still\n");
  for (int t = 0; t < e->horizon; t++) {
    dyn_object_metrics m = dyn_eval_get_objects(e, t);
    printf("                %4d  %6.0f   %5.3f    %5.3f     %6.2f / %6.2f         %5.3f / %5.3f\n",
           t + 1, m.moved, m.found, m.tracked, m.err_px, m.copy_err_px, m.mass_ratio,
           m.still_mass_ratio);
  }
}

/* Windows for the filmstrip: the ones whose object moves most (distinct episodes), and the first
 * window; all among the windows dyn_eval_run visits. */
typedef struct strip_pick {
  int64_t episode; /* index into the loaded split */
  int start;       /* first context frame */
  double moved;    /* object displacement over the window, metres */
} strip_pick;

static int by_moved(const void *a, const void *b) {
  double x = ((const strip_pick *)a)->moved, y = ((const strip_pick *)b)->moved;
  return x < y ? 1 : x > y ? -1 : 0;
}

static int pick_windows(sim_dataset *ds, const app_dyn_split *val, int K, int T, int stride,
                        int want, strip_pick *out, char *err, size_t err_sz) {
  const sim_dataset_meta *meta = sim_dataset_get_meta(ds);
  int per = (val->ep.frames - (K + T)) / stride + 1, n = 0;
  out[n++] = (strip_pick){0, 0, 0};
  if (meta->num_objects == 0 || want < 2 || val->ep.count < 2) return n;
  size_t ep_floats = sim_dataset_episode_bytes(ds, SIM_DS_OBJECT_POS) / sizeof(float);
  float *pos = malloc(ep_floats * sizeof *pos);
  strip_pick *top = malloc((size_t)val->ep.count * sizeof *top);
  int64_t ntop = 0;
  for (int64_t e = 1; pos && top && e < val->ep.count; e++) {
    if (!sim_dataset_read(ds, SIM_DS_OBJECT_POS, val->index[e], 1, pos, err, err_sz)) break;
    strip_pick t = {e, 0, -1};
    for (int w = 0; w < per; w++) {
      int s = w * stride, a = s + K - 1, b = s + K + T - 1;
      for (int o = 0; o < meta->num_objects; o++) {
        const float *p0 = pos + ((size_t)a * meta->num_objects + o) * 3,
                    *p1 = pos + ((size_t)b * meta->num_objects + o) * 3;
        double d = hypot(p1[0] - p0[0], p1[1] - p0[1]);
        if (d > t.moved) t = (strip_pick){e, s, d};
      }
    }
    top[ntop++] = t;
  }
  if (top) qsort(top, (size_t)ntop, sizeof *top, by_moved);
  for (int64_t i = 0; i < ntop && n < want; i++) out[n++] = top[i];
  free(top);
  free(pos);
  return n;
}

static bool write_strip(const char *path, dyn_model *m, const app_dyn_split *val,
                        const strip_pick *picks, int n, int T, int scale, char *err,
                        size_t err_sz) {
  int K = m->cfg.context, cols = T + 1, tile = 64 * scale;
  int width = cols * tile + (cols - 1) * STRIP_GAP;
  int height = n * 2 * tile + (n - 1) * 2 * STRIP_GAP + n * STRIP_GAP;
  uint8_t *img = malloc((size_t)width * height * 3), *pred = malloc((size_t)T * DYN_FRAME_BYTES);
  if (!img || !pred) {
    free(img), free(pred);
    return mb_fail(err, err_sz, "out of memory");
  }
  memset(img, 255, (size_t)width * height * 3);
  for (int i = 0; i < n; i++) {
    dyn_predict_window(m, &val->ep, picks[i].episode, picks[i].start, T, pred);
    const uint8_t *frames =
        val->ep.images +
        ((size_t)picks[i].episode * val->ep.frames + picks[i].start) * DYN_FRAME_BYTES;
    for (int row = 0; row < 2; row++)
      for (int c = 0; c < cols; c++) {
        /* Column 0: the last context frame; then true (row 0) or predicted (row 1) frames. */
        const uint8_t *src = c == 0     ? frames + (size_t)(K - 1) * DYN_FRAME_BYTES
                             : row == 0 ? frames + (size_t)(K - 1 + c) * DYN_FRAME_BYTES
                                        : pred + (size_t)(c - 1) * DYN_FRAME_BYTES;
        int x0 = c * (tile + STRIP_GAP),
            y0 = i * (2 * tile + 3 * STRIP_GAP) + row * (tile + STRIP_GAP);
        for (int y = 0; y < tile; y++)
          for (int x = 0; x < tile; x++)
            memcpy(img + ((size_t)(y0 + y) * width + x0 + x) * 3,
                   src + ((size_t)(y / scale) * 64 + x / scale) * 3, 3);
      }
  }
  bool ok = sim_png_write(path, img, width, height, err, err_sz);
  free(img), free(pred);
  return ok;
}

int app_cmd_eval_dynamics(int argc, char **argv) {
  const char *cmd = "eval-dynamics";
  gchar *run = NULL, *data = NULL, *json = NULL, *png = NULL, *backend = NULL;
  gint64 episodes = 0;
  gint stride = 8, horizon = 13, threads = 0, strips = 5, scale = 2;
  GOptionEntry entries[] = {
      {"dynamics", 0, 0, G_OPTION_ARG_FILENAME, &run, "run folder (mbold train dynamics)", "RUN"},
      {"data", 'd', 0, G_OPTION_ARG_FILENAME, &data, "dataset; its val split is used", "FILE.h5"},
      {"json", 0, 0, G_OPTION_ARG_FILENAME, &json, "results file", "OUT"},
      {"png", 0, 0, G_OPTION_ARG_FILENAME, &png, "filmstrip: true and predicted rows", "FILE"},
      {"episodes", 'n', 0, G_OPTION_ARG_INT64, &episodes, "val episodes (default all)", "N"},
      {"stride", 0, 0, G_OPTION_ARG_INT, &stride, "frames between window starts (default 8)", "S"},
      {"horizon", 0, 0, G_OPTION_ARG_INT, &horizon, "predicted frames (default 13)", "T"},
      {"strips", 0, 0, G_OPTION_ARG_INT, &strips, "windows in the filmstrip (default 5)", "N"},
      {"scale", 0, 0, G_OPTION_ARG_INT, &scale, "filmstrip pixel scale (default 2)", "K"},
      {"backend", 0, 0, G_OPTION_ARG_STRING, &backend, "auto, cpu or vulkan (default: auto)", "B"},
      {"threads", 'j', 0, G_OPTION_ARG_INT, &threads, "CPU backend threads (default: all cores)",
       "K"},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int rc = app_parse_options(cmd, "",
                             "PSNR and SSIM per predicted step of a video model on the val split, "
                             "over all and over changed pixels, against copy-the-last-frame.",
                             entries, &argc, &argv);
  if (rc >= 0) goto done;
  rc = APP_EXIT_BAD_INPUT;
  if (argc > 1) {
    app_bad_input(cmd, "unexpected argument '%s'", argv[1]);
    goto done;
  }
  if (!app_require(cmd, "--dynamics", run) || !app_require(cmd, "--data", data) ||
      !app_require(cmd, "--json", json))
    goto done;
  cmp_backend_choice choice;
  if (!app_backend_option(cmd, backend, &choice)) goto done;
  if (stride < 1 || horizon < 1 || horizon > 64 || episodes < 0 || threads < 0 || strips < 1 ||
      scale < 1 || scale > 8) {
    app_bad_input(cmd, "--stride, --horizon (<= 64), --strips and --scale (<= 8) must be positive");
    goto done;
  }
  char err[1024], why[512];
  /* An unwritable --json is bad input before any work. */
  mb_atomic_file probe;
  if (!mb_atomic_open(&probe, json, err, sizeof err)) {
    app_bad_input(cmd, "%s", err);
    goto done;
  }
  mb_atomic_abort(&probe);
  cmp_options opt = cmp_options_default();
  opt.threads = threads;
  cmp_ctx *ctx = cmp_create(choice, &opt, why, sizeof why, err, sizeof err);
  if (!ctx) {
    rc = app_failure(cmd, "%s", err);
    goto done;
  }
  int64_t step = 0;
  char ckpt[512];
  dyn_model *m = dyn_model_load_run(ctx, run, &step, ckpt, sizeof ckpt, err, sizeof err);
  sim_dataset *ds = NULL;
  app_dyn_split val = {0};
  dyn_eval *e = NULL;
  if (!m) {
    app_bad_input(cmd, "%s", err);
    goto out;
  }
  if (!(ds = sim_dataset_open(data, err, sizeof err)) ||
      !app_dyn_load_split(ds, data, SIM_SPLIT_VAL, episodes, &val, err, sizeof err)) {
    app_bad_input(cmd, "%s", err);
    goto out;
  }
  int K = m->cfg.context;
  if (val.ep.frames < K + horizon) {
    app_bad_input(cmd, "%s: episodes of %d frames are too short for %d context + %d predicted",
                  data, val.ep.frames, K, horizon);
    goto out;
  }
  int64_t nwin = dyn_eval_window_count(&val.ep, K, horizon, stride, 0);
  printf("%s (step %lld) on %lld val windows of %s; %s\n", ckpt, (long long)step, (long long)nwin,
         data, why);
  fflush(stdout);
  e = dyn_eval_create(horizon);
  const sim_task_info *task = sim_task_get(sim_dataset_get_meta(ds)->task);
  dyn_eval_set_objects(e, task->num_objects, (const float(*)[3])task->object_rgb);
  app_progress prog;
  app_progress_init(&prog, "eval-dynamics", "windows");
  mb_job_hooks hooks = {
      .progress = app_progress_cb, .user = &prog, .cancel = app_interrupt_install()};
  bool ok = dyn_eval_run(m, &val.ep, stride, 0, 32, e, &hooks, err, sizeof err);
  app_progress_finish(&prog);
  if (!ok) {
    rc = app_failure(cmd, "%s", err);
    goto out;
  }

  /* Results. */
  bool beats = true;
  for (int t = 0; t < horizon; t++) {
    dyn_metrics a = dyn_eval_get(e, t, false), b = dyn_eval_get(e, t, true);
    beats = beats && a.psnr_changed > b.psnr_changed;
  }
  mb_jw w;
  mb_jw_init(&w, true);
  mb_jw_begin_object(&w);
  mb_jw_kv_string(&w, "dynamics", run);
  mb_jw_kv_string(&w, "checkpoint", ckpt);
  mb_jw_kv_int(&w, "step", step);
  mb_jw_kv_string(&w, "data", data);
  mb_jw_kv_string(&w, "split", "val");
  mb_jw_kv_int(&w, "episodes", val.ep.count);
  mb_jw_kv_int(&w, "windows", e->windows);
  mb_jw_kv_int(&w, "context", K);
  mb_jw_kv_int(&w, "horizon", horizon);
  mb_jw_kv_int(&w, "stride", stride);
  mb_jw_kv_string(&w, "backend", cmp_backend_name(ctx));
  char def[256];
  snprintf(def, sizeof def,
           "true frame differs from the last context frame by more than %d/255 in some channel, "
           "dilated 3x3",
           DYN_CHANGE_LEVELS);
  mb_jw_kv_string(&w, "changed_pixels", def);
  mb_jw_kv_string(&w, "psnr", "10 log10(1 / MSE), MSE pooled over windows, pixels / 255");
  mb_jw_kv_string(&w, "ssim", "Gaussian 11x11 sigma 1.5, averaged over channels and pixels");
  mb_jw_key(&w, "changed_fraction");
  mb_jw_begin_array(&w);
  for (int t = 0; t < horizon; t++)
    mb_jw_double(&w, round(dyn_eval_get(e, t, false).changed_fraction * 1e5) / 1e5);
  mb_jw_end_array(&w);
  mb_jw_key(&w, "model");
  mb_jw_begin_object(&w);
  metrics_json(&w, e, false);
  mb_jw_end_object(&w);
  mb_jw_key(&w, "copy_last");
  mb_jw_begin_object(&w);
  metrics_json(&w, e, true);
  mb_jw_end_object(&w);
  mb_jw_kv_bool(&w, "beats_copy_last_on_changed_psnr_every_step", beats);
  if (e->objects > 0) objects_json(&w, e);
  mb_jw_end_object(&w);
  char *text = mb_jw_take(&w);
  ok = text && mb_write_file_atomic(json, text, strlen(text), err, sizeof err);
  free(text);
  if (!ok) {
    rc = app_bad_input(cmd, "%s", err);
    goto out;
  }

  printf("%s, step %lld: %lld windows of %lld val episodes\n", run, (long long)step,
         (long long)e->windows, (long long)val.ep.count);
  printf("step   PSNR model/copy   SSIM model/copy   changed PSNR model/copy   changed SSIM "
         "model/copy\n");
  for (int t = 0; t < horizon; t++) {
    dyn_metrics a = dyn_eval_get(e, t, false), b = dyn_eval_get(e, t, true);
    printf("%4d   %6.2f / %6.2f   %6.4f / %6.4f   %10.2f / %6.2f       %10.4f / %6.4f\n", t + 1,
           a.psnr, b.psnr, a.ssim, b.ssim, a.psnr_changed, b.psnr_changed, a.ssim_changed,
           b.ssim_changed);
  }
  printf("beats copy-last on changed-pixel PSNR at every step: %s\n", beats ? "yes" : "no");
  if (e->objects > 0) objects_table(e);

  if (png) {
    strip_pick picks[32];
    int want = strips < 32 ? strips : 32;
    int n = pick_windows(ds, &val, K, horizon, stride, want, picks, err, sizeof err);
    if (!write_strip(png, m, &val, picks, n, horizon, scale, err, sizeof err)) {
      rc = app_bad_input(cmd, "%s", err);
      goto out;
    }
    printf("filmstrip: %s (%d windows: rows true / predicted, column 0 the last context frame)\n",
           png, n);
  }
  rc = APP_EXIT_OK;
out:
  dyn_eval_destroy(e);
  app_dyn_split_free(&val);
  sim_dataset_close(ds);
  dyn_model_destroy(m);
  cmp_destroy(ctx);
done:
  g_free(run);
  g_free(data);
  g_free(json);
  g_free(png);
  g_free(backend);
  return rc;
}
