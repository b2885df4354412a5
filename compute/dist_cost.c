#include "dist_cost.h"

#include "dist_nets.h"
#include "mb_err.h"
#include "safetensors.h"
#include "train_run.h"

#include <stdlib.h>
#include <string.h>

struct dist_cost {
  dist_nets *nets;                /* loaded networks (owned) */
  dist_infer *infer;              /* their activations (owned) */
  int64_t step;                   /* checkpoint step */
  uint8_t goal[DIST_IMAGE_BYTES]; /* current goal image */
};

dist_cost *dist_cost_load(cmp_ctx *ctx, const char *run_dir, int want_method, int max_batch,
                          char *err, size_t err_sz) {
  int64_t step = 0;
  char *path = train_run_latest_checkpoint(run_dir, &step, err, err_sz);
  if (!path) return NULL;
  st_file *f = st_open(path, err, err_sz);
  if (!f) {
    free(path);
    return NULL;
  }
  dist_method m;
  const char *mname = st_metadata(f, "mbold_distance_method");
  dist_cost *c = NULL;
  if (!dist_method_parse(mname, &m)) {
    mb_fail(err, err_sz, "%s: not a distance checkpoint (no mbold_distance_method)", path);
  } else if (want_method >= 0 && (dist_method)want_method != m) {
    mb_fail(err, err_sz, "%s: a %s run, but a %s run is needed here", run_dir, dist_method_name(m),
            dist_method_name((dist_method)want_method));
  } else {
    c = calloc(1, sizeof *c);
    if (!c) {
      mb_fail(err, err_sz, "out of memory");
    } else {
      c->nets = dist_nets_create(ctx, m, 0, false);
      c->step = step;
      if (!dist_nets_read(c->nets, f, "", err, err_sz)) {
        dist_nets_destroy(c->nets);
        free(c);
        c = NULL;
      } else {
        c->infer = dist_infer_create(c->nets, max_batch > 0 ? max_batch : DIST_COST_BATCH);
      }
    }
  }
  st_close(f);
  free(path);
  return c;
}

void dist_cost_destroy(dist_cost *c) {
  if (!c) return;
  dist_infer_destroy(c->infer);
  dist_nets_destroy(c->nets);
  free(c);
}

dist_method dist_cost_method(const dist_cost *c) {
  return c->nets->method;
}

int64_t dist_cost_step(const dist_cost *c) {
  return c->step;
}

void dist_cost_set_goal(dist_cost *c, const uint8_t *goal) {
  memcpy(c->goal, goal, DIST_IMAGE_BYTES);
}

static bool score(void *user, const uint8_t *frames, int n, float *costs, char *err,
                  size_t err_sz) {
  dist_cost *c = user;
  return dist_infer_run(c->infer, frames, c->goal, n, true, costs, NULL, err, err_sz);
}

cem_cost dist_cost_cem(dist_cost *c) {
  cem_cost cc = {score, c};
  return cc;
}

bool dist_cost_pairs(dist_cost *c, const uint8_t *images, const uint8_t *goals, int n,
                     bool one_goal, float *steps, char *err, size_t err_sz) {
  return dist_infer_run(c->infer, images, goals, n, one_goal, steps, NULL, err, err_sz);
}

bool dist_cost_rank(dist_cost *c, const uint8_t *images, const uint8_t *goals, int n, float *score,
                    char *err, size_t err_sz) {
  return dist_infer_rank(c->infer, images, goals, n, false, score, err, err_sz);
}
