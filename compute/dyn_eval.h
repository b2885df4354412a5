/* Evaluating the video model: PSNR and SSIM per predicted step, over all pixels and over the pixels
 * that change, for the model and for the copy-the-last-frame baseline.
 *
 * Windows: for every episode, windows of K + T frames starting at 0, stride, 2 stride, ... (while
 * they fit); the model predicts the T frames after the K context frames from the T actions.
 * Changed pixels of a target frame: pixels where the true frame differs from the last context frame
 * by more than DYN_CHANGE_LEVELS (of 255) in some channel, dilated by one pixel (3 x 3), so the
 * mask covers where the arm and the objects are and were, plus their edges. Rendering is
 * noise-free; the small threshold only skips shading changes too faint to see. PSNR: 10 log10(1 /
 * MSE) with the MSE pooled over every window's pixels and channels at that step (pixels / 255), so
 * a perfect frame does not make the mean infinite. SSIM: Wang et al. (2004) with an 11 x 11
 * Gaussian window (sigma 1.5, weights renormalised at the image border), C1 = 0.01^2, C2 = 0.03^2,
 * per channel, averaged over channels and then over the pixels (all, or changed).
 *
 * Moving objects (the pushed block; tasks with objects): each object is found in the last context
 * frame, the true and the predicted frame by its colour (mb_blob.h: mass and centroid of the pixels
 * drawn in its colour, ghosts of a faded object not counted). A (window, object) at a step counts
 * when the object is visible in the context and the true frame (mass >= DYN_VISIBLE_MASS); it has
 * moved when its true centroid is DYN_MOVED_PX or more from the context's, else it is still. For
 * the moved ones: the share the model draws (mass >= half the true mass: "found"), the share it
 * draws nearer its true place than where it was ("tracked": what copying the last frame never
 * does), the mean centroid error of the found ones against their displacement (the copy-last
 * error of the same ones), and the mean mass ratio predicted / true (1: drawn as sharp as it is,
 * 0: faded away; capped at 2). For the still ones, the mass ratio alone (does the model keep a
 * block that stays put?). */
#ifndef DYN_EVAL_H
#define DYN_EVAL_H

#include "dyn_model.h"
#include "dyn_train.h"
#include "mb_job.h"

#include <stdbool.h>
#include <stdint.h>

#define DYN_CHANGE_LEVELS 4
#define DYN_VISIBLE_MASS  4.0 /* an object of fewer (weighted) pixels is not measured */
#define DYN_MOVED_PX      1.0 /* true centroid displacement from the context that counts as moved */
#define DYN_MAX_OBJECTS   3

/* Pixel masks and SSIM maps of 64 x 64 x 3 uint8 frames. */
void dyn_changed_mask(const uint8_t *last, const uint8_t *truth, uint8_t *mask /* 64 x 64 */);
void dyn_ssim_map(const uint8_t *a, const uint8_t *b, float *map /* 64 x 64 */);

/* Sums over windows for one step and one predictor. */
typedef struct dyn_metric_sums {
  double se, ssim, pixels;          /* all pixels: squared error (over channels), SSIM, count */
  double se_ch, ssim_ch, pixels_ch; /* changed pixels */
} dyn_metric_sums;

typedef struct dyn_metrics {
  double psnr, ssim;                 /* all pixels */
  double psnr_changed, ssim_changed; /* changed pixels (NaN when none changed) */
  double changed_fraction;           /* changed pixels / all pixels */
} dyn_metrics;

/* Sums over (window, object) pairs for one step (see the header comment). */
typedef struct dyn_object_sums {
  double moved, found, tracked; /* counts */
  double err, copy_err;         /* centroid errors (pixels) of the found ones */
  double mass_ratio;            /* over the moved ones */
  double still, still_mass_ratio;
} dyn_object_sums;

typedef struct dyn_object_metrics {
  double moved;               /* (window, object) pairs that moved */
  double found, tracked;      /* shares of them (NaN when none moved) */
  double err_px, copy_err_px; /* mean centroid error of the found ones, model and copy-last */
  double mass_ratio;          /* mean over the moved ones */
  double still, still_mass_ratio;
} dyn_object_metrics;

typedef struct dyn_eval {
  int horizon;            /* steps */
  int64_t windows;        /* windows added */
  dyn_metric_sums *model; /* (horizon) */
  dyn_metric_sums *copy;  /* (horizon) copy-the-last-frame */
  int objects;            /* tracked objects (0: none) */
  float object_rgb[DYN_MAX_OBJECTS][3];
  dyn_object_sums *obj;  /* (horizon) */
  uint8_t mask[64 * 64]; /* scratch */
  float map[64 * 64];    /* scratch */
} dyn_eval;

dyn_eval *dyn_eval_create(int horizon);
void dyn_eval_destroy(dyn_eval *e);
/* Adds one window's frame at `step` (0-based): the last context frame, the true and the predicted
 * frame. */
void dyn_eval_add(dyn_eval *e, int step, const uint8_t *last, const uint8_t *truth,
                  const uint8_t *pred);
dyn_metrics dyn_eval_get(const dyn_eval *e, int step, bool copy_last);
/* Objects to follow from now on: n (<= DYN_MAX_OBJECTS) material colours (sim_task_info). */
void dyn_eval_set_objects(dyn_eval *e, int n, const float (*rgb)[3]);
dyn_object_metrics dyn_eval_get_objects(const dyn_eval *e, int step);

/* Predicts every window of `ep` (starts 0, stride, ...; at most max_windows, <= 0 for all) with the
 * model and adds it to e (horizon = e->horizon). Batches of `batch` windows; progress in windows.
 */
bool dyn_eval_run(dyn_model *m, const dyn_episodes *ep, int stride, int64_t max_windows, int batch,
                  dyn_eval *e, const mb_job_hooks *hooks, char *err, size_t err_sz);
/* Windows dyn_eval_run visits for these sizes. */
int64_t dyn_eval_window_count(const dyn_episodes *ep, int context, int horizon, int stride,
                              int64_t max_windows);

/* Predicts one window: episode e, frames start .. start + K + T - 1 -> out (T x 64 x 64 x 3). */
void dyn_predict_window(dyn_model *m, const dyn_episodes *ep, int64_t episode, int start,
                        int horizon, uint8_t *out);

#endif
