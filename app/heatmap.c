#include "heatmap.h"
#include "runner_providers.h"

#include "mb_clock.h"
#include "mb_err.h"
#include "mb_file.h"
#include "sim_render.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BATCH 64
#define MAX_BATCH     256

struct app_heatmapper {
  app_heatmap_config cfg;                             /* as created (run paths owned below) */
  char *runs[APP_HEATMAP_MAX_DISTANCES];              /* owned copies of the run folders */
  sim_model *model;                                   /* the scene (owned) */
  sim_renderer *renderer;                             /* agent views, batch tiles (owned) */
  sim_world **worlds;                                 /* (batch) one swept state each (owned) */
  app_cost_provider costs[APP_HEATMAP_MAX_DISTANCES]; /* one per distance */
  int batch;                                          /* states per pass */
  uint8_t *frames;                                    /* (batch x 64 x 64 x 3) rendered states */
  float *scores;                                      /* (batch) scratch for one distance */
  int *cells;                                         /* (batch) linear cell index of each slot */
};

app_heatmap_config app_heatmap_default_config(sim_task task, const char *assets_dir) {
  app_heatmap_config c;
  memset(&c, 0, sizeof c);
  c.task = task;
  c.assets_dir = assets_dir;
  c.backend = CMP_BACKEND_AUTO;
  c.n_distances = 1;
  c.distances[0].kind = APP_COST_PIXEL;
  return c;
}

/* ---- names --------------------------------------------------------------------------------- */

const char *app_heatmap_title(app_cost_kind k) {
  switch (k) {
    case APP_COST_PIXEL:
      return "pixel MSE";
    case APP_COST_Q:
      return "Q-function";
    case APP_COST_REGRESSION:
      return "temporal regression";
  }
  return "?";
}

const char *app_heatmap_units(app_cost_kind k) {
  return k == APP_COST_PIXEL ? "pixel MSE" : "steps";
}

const char *app_heatmap_column(app_cost_kind k) {
  switch (k) {
    case APP_COST_PIXEL:
      return "pixel_mse";
    case APP_COST_Q:
      return "q_steps";
    case APP_COST_REGRESSION:
      return "regression_steps";
  }
  return "?";
}

/* ---- grid ---------------------------------------------------------------------------------- */

app_heatmap_grid app_heatmap_grid_for(const sim_model *m, int n) {
  double r = sim_model_reset_range(m);
  return (app_heatmap_grid){.n = n, .x0 = -r, .x1 = r, .y0 = -r, .y1 = r};
}

void app_heatmap_cell_center(const app_heatmap_grid *g, int i, int j, double *x, double *y) {
  *x = g->x0 + (i + 0.5) * (g->x1 - g->x0) / g->n;
  *y = g->y0 + (j + 0.5) * (g->y1 - g->y0) / g->n;
}

bool app_heatmap_cell_at(const app_heatmap_grid *g, double x, double y, int *i, int *j) {
  if (!(x >= g->x0 && x <= g->x1 && y >= g->y0 && y <= g->y1)) return false;
  int ci = (int)floor((x - g->x0) / (g->x1 - g->x0) * g->n);
  int cj = (int)floor((y - g->y0) / (g->y1 - g->y0) * g->n);
  *i = ci < g->n ? ci : g->n - 1;
  *j = cj < g->n ? cj : g->n - 1;
  return true;
}

/* ---- results ------------------------------------------------------------------------------- */

void app_heatmap_result_clear(app_heatmap_result *r) {
  free(r->values);
  free(r->blocked);
  memset(r, 0, sizeof *r);
}

float app_heatmap_value(const app_heatmap_result *r, int d, int i, int j) {
  int n = r->grid.n;
  if (!r->values || d < 0 || d >= r->n_distances || i < 0 || j < 0 || i >= n || j >= n) return NAN;
  return r->values[(size_t)d * n * n + (size_t)j * n + i];
}

bool app_heatmap_range(const app_heatmap_result *r, int d, float *lo, float *hi) {
  bool any = false;
  int n = r->grid.n;
  for (int j = 0; j < n; j++)
    for (int i = 0; i < n; i++) {
      float v = app_heatmap_value(r, d, i, j);
      if (!isfinite(v)) continue;
      if (!any || v < *lo) *lo = v;
      if (!any || v > *hi) *hi = v;
      any = true;
    }
  return any;
}

bool app_heatmap_argmin(const app_heatmap_result *r, int d, int *bi, int *bj) {
  bool any = false;
  float best = 0;
  int n = r->grid.n;
  for (int j = 0; j < n; j++)
    for (int i = 0; i < n; i++) {
      float v = app_heatmap_value(r, d, i, j);
      if (!isfinite(v) || (any && v >= best)) continue;
      best = v, *bi = i, *bj = j, any = true;
    }
  return any;
}

bool app_heatmap_write_csv(const app_heatmap_result *r, const char *path, char *err,
                           size_t err_sz) {
  mb_atomic_file f;
  if (!mb_atomic_open(&f, path, err, err_sz)) return false;
  fprintf(f.fp, "i,j,x,y");
  for (int d = 0; d < r->n_distances; d++) fprintf(f.fp, ",%s", app_heatmap_column(r->kinds[d]));
  fputc('\n', f.fp);
  int n = r->grid.n;
  for (int j = 0; j < n; j++)
    for (int i = 0; i < n; i++) {
      double x, y;
      app_heatmap_cell_center(&r->grid, i, j, &x, &y);
      fprintf(f.fp, "%d,%d,%.6f,%.6f", i, j, x, y);
      for (int d = 0; d < r->n_distances; d++) {
        float v = app_heatmap_value(r, d, i, j);
        if (isfinite(v))
          fprintf(f.fp, ",%.9g", v);
        else
          fputc(',', f.fp);
      }
      fputc('\n', f.fp);
    }
  if (ferror(f.fp)) {
    mb_atomic_abort(&f);
    return mb_fail(err, err_sz, "%s: write error", path);
  }
  return mb_atomic_commit(&f, err, err_sz);
}

/* ---- suite goals --------------------------------------------------------------------------- */

static bool task_has_blocks(sim_task t) {
  return t == SIM_TASK_PUSH1 || t == SIM_TASK_PUSH3;
}

#define NO_BLOCKS "task %s has no block to sweep (heatmaps need push1 or push3)"

void app_heatmap_suite_goal_clear(app_heatmap_suite_goal *g) {
  sim_suite_free(g->suite);
  memset(g, 0, sizeof *g);
}

bool app_heatmap_suite_goal_load(app_heatmap_suite_goal *g, const char *dir, int index,
                                 sim_task task, const sim_model *m, char *err, size_t err_sz) {
  memset(g, 0, sizeof *g);
  if (!task_has_blocks(task)) return mb_fail(err, err_sz, NO_BLOCKS, sim_task_name(task));
  g->suite = sim_suite_load(dir, (int)task, err, err_sz);
  if (!g->suite) return false;
  if (m && !sim_suite_check_model(g->suite, m, err, err_sz)) return false;
  if (index < 0 || index >= g->suite->count)
    return mb_fail(err, err_sz, "%s: goal %d out of range (the suite has goals 0..%d)", dir, index,
                   g->suite->count - 1);
  const sim_goal *sg = &g->suite->goals[index];
  int k = sim_task_get(task)->num_objects;
  if (sg->target < 0 || sg->target >= k)
    return mb_fail(err, err_sz, "%s: goal %d has no target block (target %d)", dir, index,
                   sg->target);
  if (!sim_suite_goal_image(g->suite, index, g->goal_image, err, err_sz)) return false;
  g->index = index;
  g->goal = (app_heatmap_goal){
      .start_state = sg->start_state,
      .state_size = g->suite->state_size,
      .goal_image = g->goal_image,
      .target = sg->target,
      .have_goal_xy = true,
      .goal_xy = {sg->goal.object[sg->target][0], sg->goal.object[sg->target][1]},
  };
  return true;
}

/* ---- the heatmapper ------------------------------------------------------------------------ */

void app_heatmapper_free(app_heatmapper *h) {
  if (!h) return;
  for (int d = 0; d < APP_HEATMAP_MAX_DISTANCES; d++) {
    if (h->costs[d].destroy) h->costs[d].destroy(h->costs[d].self);
    free(h->runs[d]);
  }
  if (h->worlds)
    for (int b = 0; b < h->batch; b++) sim_world_free(h->worlds[b]);
  free(h->worlds);
  sim_renderer_free(h->renderer);
  sim_model_free(h->model);
  free(h->frames);
  free(h->scores);
  free(h->cells);
  free(h);
}

app_heatmapper *app_heatmapper_create(const app_heatmap_config *cfg, char *err, size_t err_sz) {
  if (!sim_task_get(cfg->task)) return mb_fail_null(err, err_sz, "unknown task %d", cfg->task);
  if (!task_has_blocks(cfg->task))
    return mb_fail_null(err, err_sz, NO_BLOCKS, sim_task_name(cfg->task));
  if (cfg->n_distances < 1 || cfg->n_distances > APP_HEATMAP_MAX_DISTANCES)
    return mb_fail_null(err, err_sz, "heatmap: %d distances (1..%d)", cfg->n_distances,
                        APP_HEATMAP_MAX_DISTANCES);
  if (cfg->batch < 0 || cfg->batch > MAX_BATCH)
    return mb_fail_null(err, err_sz, "heatmap: batch %d out of range 0..%d", cfg->batch, MAX_BATCH);
  for (int d = 0; d < cfg->n_distances; d++) {
    const app_heatmap_distance *dist = &cfg->distances[d];
    if (dist->kind != APP_COST_PIXEL && !dist->run)
      return mb_fail_null(err, err_sz, "heatmap: the %s distance needs a run folder",
                          app_cost_name(dist->kind));
    for (int e = 0; e < d; e++)
      if (cfg->distances[e].kind == dist->kind)
        return mb_fail_null(err, err_sz, "heatmap: the %s distance is listed twice",
                            app_cost_name(dist->kind));
  }
  app_heatmapper *h = calloc(1, sizeof *h);
  if (!h) return mb_fail_null(err, err_sz, "out of memory");
  h->cfg = *cfg;
  h->batch = cfg->batch ? cfg->batch : DEFAULT_BATCH;
  for (int d = 0; d < cfg->n_distances; d++) {
    const char *run = cfg->distances[d].run;
    h->runs[d] = run ? strdup(run) : NULL;
    h->cfg.distances[d].run = h->runs[d];
  }
  h->model = sim_model_load(cfg->task, cfg->assets_dir, err, err_sz);
  if (!h->model) goto fail;
  h->renderer = sim_renderer_create(h->model, SIM_IMAGE_SIZE, SIM_IMAGE_SIZE, h->batch,
                                    SIM_QUALITY_AGENT, err, err_sz);
  if (!h->renderer) goto fail;
  h->worlds = calloc((size_t)h->batch, sizeof *h->worlds);
  h->frames = malloc((size_t)h->batch * SIM_IMAGE_BYTES);
  h->scores = malloc(sizeof(float) * (size_t)h->batch);
  h->cells = malloc(sizeof(int) * (size_t)h->batch);
  if (!h->worlds || !h->frames || !h->scores || !h->cells) {
    mb_fail(err, err_sz, "out of memory for the heatmap");
    goto fail;
  }
  for (int b = 0; b < h->batch; b++)
    if (!(h->worlds[b] = sim_world_create(h->model, err, err_sz))) goto fail;
  /* The planner's own cost providers: a distance scores here exactly as it does in planning. */
  for (int d = 0; d < cfg->n_distances; d++) {
    app_runner_config rc = app_runner_default_config(cfg->task, cfg->assets_dir);
    rc.cost = cfg->distances[d].kind;
    rc.distance_run = h->runs[d];
    rc.backend = cfg->backend;
    if (!app_cost_provider_make(&h->costs[d], &rc, err, err_sz)) goto fail;
  }
  return h;
fail:
  app_heatmapper_free(h);
  return NULL;
}

const sim_model *app_heatmapper_model(const app_heatmapper *h) {
  return h->model;
}

const app_heatmap_config *app_heatmapper_config(const app_heatmapper *h) {
  return &h->cfg;
}

/* Whether the target at (x, y) would touch another block of the start state. */
static bool cell_blocked(const sim_positions *start, int K, int target, double x, double y) {
  for (int k = 0; k < K; k++)
    if (k != target &&
        hypot(x - start->object[k][0], y - start->object[k][1]) < APP_HEATMAP_BLOCK_CLEARANCE)
      return true;
  return false;
}

bool app_heatmapper_run(app_heatmapper *h, const app_heatmap_goal *goal, int n,
                        app_heatmap_cell_fn on_cell, void *user, const mb_job_hooks *hooks,
                        app_heatmap_result *out, char *err, size_t err_sz) {
  memset(out, 0, sizeof *out);
  int K = sim_model_num_objects(h->model), D = h->cfg.n_distances;
  if (n < 1 || n > APP_HEATMAP_MAX_GRID)
    return mb_fail(err, err_sz, "heatmap: grid %d out of range 1..%d", n, APP_HEATMAP_MAX_GRID);
  if (goal->target < 0 || goal->target >= K)
    return mb_fail(err, err_sz, "heatmap: target block %d does not exist in %s (it has %d)",
                   goal->target, sim_task_name(h->cfg.task), K);
  if (!goal->start_state || !goal->goal_image)
    return mb_fail(err, err_sz, "heatmap: no start state or goal image");
  /* Every slot starts from the start state; placing the target later changes only its x, y. */
  for (int b = 0; b < h->batch; b++)
    if (!sim_world_set_state(h->worlds[b], goal->start_state, goal->state_size, err, err_sz))
      return false;
  for (int d = 0; d < D; d++)
    if (!h->costs[d].set_goal(h->costs[d].self, goal->goal_image, err, err_sz)) return false;

  size_t cells = (size_t)n * n;
  out->grid = app_heatmap_grid_for(h->model, n);
  out->n_distances = D;
  for (int d = 0; d < D; d++) out->kinds[d] = h->cfg.distances[d].kind;
  out->values = malloc(sizeof(float) * (size_t)D * cells);
  out->blocked = calloc(cells, sizeof(bool));
  if (!out->values || !out->blocked) {
    app_heatmap_result_clear(out);
    return mb_fail(err, err_sz, "out of memory for a %d x %d heatmap", n, n);
  }
  for (size_t c = 0; c < (size_t)D * cells; c++) out->values[c] = NAN;
  out->target = goal->target;
  out->have_goal_xy = goal->have_goal_xy;
  out->goal_xy[0] = goal->goal_xy[0];
  out->goal_xy[1] = goal->goal_xy[1];
  memcpy(out->goal_image, goal->goal_image, SIM_IMAGE_BYTES);
  sim_positions start;
  sim_world_positions(h->worlds[0], &start);
  out->hand_xy[0] = start.ee[0];
  out->hand_xy[1] = start.ee[1];

  double t0 = mb_now();
  float vals[APP_HEATMAP_MAX_DISTANCES];
  size_t next = 0;
  mb_job_progress(hooks, 0, (int64_t)cells, NULL);
  while (next < cells) {
    if (mb_job_wait_if_paused(hooks) || mb_job_cancelled(hooks)) {
      out->cancelled = true;
      out->seconds = mb_now() - t0;
      return mb_fail(err, err_sz, "heatmap cancelled after %d of %zu cells", out->cells_done,
                     cells);
    }
    /* Fill the batch with unblocked cells; blocked ones are reported as they are passed. */
    size_t first = next;
    int used = 0;
    while (next < cells && used < h->batch) {
      int c = (int)next++, i = c % n, j = c / n;
      double x, y;
      app_heatmap_cell_center(&out->grid, i, j, &x, &y);
      if (cell_blocked(&start, K, goal->target, x, y)) {
        out->blocked[c] = true;
        continue;
      }
      if (!sim_world_place_object(h->worlds[used], goal->target, x, y, err, err_sz)) return false;
      h->cells[used++] = c;
    }
    if (used > 0) {
      if (!sim_render_agent_batch(h->renderer, h->worlds, NULL, used, h->frames, err, err_sz))
        return false;
      for (int d = 0; d < D; d++) {
        const cem_cost *cost = &h->costs[d].cost;
        if (!cost->score(cost->user, h->frames, used, h->scores, err, err_sz)) return false;
        for (int b = 0; b < used; b++) out->values[(size_t)d * cells + h->cells[b]] = h->scores[b];
      }
    }
    for (size_t c = first; c < next; c++) {
      for (int d = 0; d < D; d++) vals[d] = out->values[(size_t)d * cells + c];
      out->cells_done++;
      if (on_cell) on_cell(user, (int)(c % n), (int)(c / n), vals);
    }
    mb_job_progress(hooks, out->cells_done, (int64_t)cells, NULL);
  }
  out->seconds = mb_now() - t0;
  return true;
}
