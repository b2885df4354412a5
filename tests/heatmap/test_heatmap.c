/* Distance heatmaps: the cell/extent convention round-trips; the pixel distance to a goal image
 * rendered with the block at a known cell has its minimum at that cell (so the sweep, the
 * rendering order and the (i, j) convention agree); the per-cell callback sees every cell once in
 * values order; cancel stops early; blocks that would touch are left out; the figure puts each
 * cell's colour where MbHeatmap would; the CSV holds the numbers; bad inputs are one-line errors.
 * Usage: test_heatmap [ARTEFACT_DIR] */
#include "../test_util.h"
#include "heatmap.h"
#include "heatmap_png.h"

#include "mb-colormap.h"
#include "mb_file.h"
#include "sim_render.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

static const char *assets(void) {
  const char *e = getenv("MBOLD_ASSETS");
  return e && *e ? e : MBOLD_SOURCE_ASSETS;
}

static void test_grid_convention(void) {
  char err[256];
  sim_model *m = sim_model_load(SIM_TASK_PUSH1, assets(), err, sizeof err);
  CHECK_MSG(m != NULL, "%s", err);
  if (!m) return;
  double r = sim_model_reset_range(m);
  app_heatmap_grid g = app_heatmap_grid_for(m, 7);
  CHECK(g.n == 7 && g.x0 == -r && g.x1 == r && g.y0 == -r && g.y1 == r);
  /* Cell (i, j): i along x from the left, j along y from the bottom; centres round-trip. */
  for (int j = 0; j < g.n; j++)
    for (int i = 0; i < g.n; i++) {
      double x, y;
      app_heatmap_cell_center(&g, i, j, &x, &y);
      CHECK_NEAR(x, -r + (i + 0.5) * 2 * r / 7, 1e-12);
      CHECK_NEAR(y, -r + (j + 0.5) * 2 * r / 7, 1e-12);
      int ci = -1, cj = -1;
      CHECK(app_heatmap_cell_at(&g, x, y, &ci, &cj) && ci == i && cj == j);
    }
  int i, j;
  CHECK(app_heatmap_cell_at(&g, -r, -r, &i, &j) && i == 0 && j == 0);
  CHECK(app_heatmap_cell_at(&g, r, r, &i, &j) && i == 6 && j == 6); /* upper edges: last cell */
  CHECK(app_heatmap_cell_at(&g, r - 1e-9, -r, &i, &j) && i == 6 && j == 0);
  CHECK(!app_heatmap_cell_at(&g, r + 1e-6, 0, &i, &j));
  CHECK(!app_heatmap_cell_at(&g, 0, -r - 1e-6, &i, &j));
  sim_model_free(m);
}

/* A start state of the task (reset seed) and the goal image with the target at (gx, gy). */
static bool make_goal(sim_task task, uint64_t seed, int target, double gx, double gy,
                      double **start, int *n, uint8_t *goal_img) {
  char err[256];
  sim_model *m = sim_model_load(task, assets(), err, sizeof err);
  CHECK_MSG(m != NULL, "%s", err);
  if (!m) return false;
  sim_world *w = sim_world_create(m, err, sizeof err);
  sim_renderer *r = sim_renderer_create(m, 64, 64, 1, SIM_QUALITY_AGENT, err, sizeof err);
  CHECK_MSG(w && r, "%s", err);
  bool ok = w && r;
  if (ok) {
    sim_world_reset(w, seed);
    *n = sim_model_state_size(m);
    *start = malloc(sizeof(double) * (size_t)*n);
    sim_world_get_state(w, *start);
    ok = sim_world_place_object(w, target, gx, gy, err, sizeof err) &&
         sim_render_agent(r, w, goal_img, err, sizeof err);
    CHECK_MSG(ok, "%s", err);
  }
  sim_renderer_free(r);
  sim_world_free(w);
  sim_model_free(m);
  return ok;
}

typedef struct cell_log {
  int n;               /* grid side */
  int calls;           /* callbacks so far */
  int *seen;           /* (n x n) callbacks per cell */
  int next_expected;   /* values order: the linear index the next call must have */
  bool in_order;       /* every call came in values order */
  float *first_values; /* (n x n) value of distance 0 as reported */
} cell_log;

static void on_cell(void *user, int i, int j, const float *values) {
  cell_log *l = user;
  if (i < 0 || j < 0 || i >= l->n || j >= l->n) return;
  int c = j * l->n + i;
  l->seen[c]++;
  l->first_values[c] = values[0];
  if (c != l->next_expected) l->in_order = false;
  l->next_expected = c + 1;
  l->calls++;
}

/* Checks that the figure paints cell (i, j) of map d in the colour of its value. */
static void check_figure_cell(cairo_surface_t *s, const app_heatmap_result *r,
                              const app_heatmap_png_options *opt, int d, int i, int j) {
  double mx, my, side;
  CHECK(app_heatmap_png_map_rect(r, opt, d, &mx, &my, &side));
  double cell = side / r->grid.n, scale = opt->scale > 0 ? opt->scale : 1;
  /* A quarter into the cell: clear of the markers drawn at centres and the minimum's outline. */
  int px = (int)((mx + (i + 0.3) * cell) * scale);
  int py = (int)((my + (r->grid.n - 1 - j + 0.3) * cell) * scale);
  unsigned char *data = cairo_image_surface_get_data(s);
  int stride = cairo_image_surface_get_stride(s);
  uint32_t pix = *(uint32_t *)(data + (size_t)py * stride + (size_t)px * 4);
  unsigned char got[3] = {(pix >> 16) & 255, (pix >> 8) & 255, pix & 255};
  float lo, hi;
  CHECK(app_heatmap_range(r, d, &lo, &hi));
  float v = app_heatmap_value(r, d, i, j);
  unsigned char want[3];
  mb_viridis_rgb8(hi > lo ? (v - lo) / (hi - lo) : 0.5, want);
  CHECK_MSG(abs(got[0] - want[0]) <= 1 && abs(got[1] - want[1]) <= 1 && abs(got[2] - want[2]) <= 1,
            "cell (%d, %d) of map %d drawn as %d %d %d, its value's colour is %d %d %d", i, j, d,
            got[0], got[1], got[2], want[0], want[1], want[2]);
}

/* The sweep puts the pixel distance's minimum where the goal image has the block. */
static void test_minimum_at_goal_cell(int n, int i0, int j0, int batch, const char *artefacts) {
  double *start = NULL;
  int ns = 0;
  static uint8_t goal_img[SIM_IMAGE_BYTES];
  char err[512] = "";
  app_heatmap_config cfg = app_heatmap_default_config(SIM_TASK_PUSH1, assets());
  cfg.batch = batch;
  app_heatmapper *h = app_heatmapper_create(&cfg, err, sizeof err);
  CHECK_MSG(h != NULL, "%s", err);
  if (!h) return;
  app_heatmap_grid g = app_heatmap_grid_for(app_heatmapper_model(h), n);
  double gx, gy;
  app_heatmap_cell_center(&g, i0, j0, &gx, &gy);
  if (!make_goal(SIM_TASK_PUSH1, 11, 0, gx, gy, &start, &ns, goal_img)) {
    app_heatmapper_free(h);
    return;
  }
  app_heatmap_goal goal = {.start_state = start,
                           .state_size = ns,
                           .goal_image = goal_img,
                           .target = 0,
                           .have_goal_xy = true,
                           .goal_xy = {gx, gy}};
  cell_log log = {.n = n, .in_order = true};
  log.seen = calloc((size_t)n * n, sizeof(int));
  log.first_values = calloc((size_t)n * n, sizeof(float));
  app_heatmap_result res;
  CHECK_MSG(app_heatmapper_run(h, &goal, n, on_cell, &log, NULL, &res, err, sizeof err), "%s", err);
  CHECK(res.grid.n == n && res.n_distances == 1 && res.kinds[0] == APP_COST_PIXEL);
  CHECK(res.cells_done == n * n && !res.cancelled);
  CHECK(res.target == 0 && res.have_goal_xy && res.goal_xy[0] == gx && res.goal_xy[1] == gy);
  CHECK(memcmp(res.goal_image, goal_img, SIM_IMAGE_BYTES) == 0);
  /* Every cell reported exactly once, in values order, with the value stored. */
  CHECK(log.calls == n * n && log.in_order);
  for (int c = 0; c < n * n; c++) {
    CHECK_MSG(log.seen[c] == 1, "cell %d reported %d times", c, log.seen[c]);
    CHECK(log.first_values[c] == res.values[c]);
    CHECK(!res.blocked[c] && isfinite(res.values[c]));
  }
  int bi = -1, bj = -1;
  CHECK(app_heatmap_argmin(&res, 0, &bi, &bj));
  CHECK_MSG(bi == i0 && bj == j0, "minimum at (%d, %d), the goal has the block at (%d, %d)", bi, bj,
            i0, j0);
  /* The goal cell renders the goal image itself (up to the batch tile's rasterisation). */
  float vmin = app_heatmap_value(&res, 0, i0, j0), lo, hi;
  CHECK(app_heatmap_range(&res, 0, &lo, &hi) && lo == vmin && hi > lo);
  CHECK_MSG(vmin < 1e-4f, "pixel MSE at the goal cell %g", vmin);
  for (int j = 0; j < n; j++)
    for (int i = 0; i < n; i++)
      if (i != i0 || j != j0) CHECK(app_heatmap_value(&res, 0, i, j) > vmin);
  CHECK(isnan(app_heatmap_value(&res, 0, n, 0)) && isnan(app_heatmap_value(&res, 1, 0, 0)));

  /* The figure paints each cell where MbHeatmap would, in the colour of its value. */
  app_heatmap_png_options opt = {.subtitle = "test", .scale = 1};
  cairo_surface_t *s = app_heatmap_png_draw(&res, &opt, err, sizeof err);
  CHECK_MSG(s != NULL, "%s", err);
  if (s) {
    check_figure_cell(s, &res, &opt, 0, i0, j0);
    check_figure_cell(s, &res, &opt, 0, 0, 0);
    check_figure_cell(s, &res, &opt, 0, n - 1, 0);
    check_figure_cell(s, &res, &opt, 0, 0, n - 1);
    check_figure_cell(s, &res, &opt, 0, n - 1, n - 2);
    cairo_surface_destroy(s);
  }
  if (artefacts) {
    char name[64];
    snprintf(name, sizeof name, "push1-minimum-%d-%d.png", i0, j0);
    char *path = mb_path_join(artefacts, name);
    CHECK_MSG(app_heatmap_png_write(&res, &opt, path, err, sizeof err), "%s", err);
    cairo_surface_t *back = cairo_image_surface_create_from_png(path);
    CHECK(cairo_surface_status(back) == CAIRO_STATUS_SUCCESS &&
          cairo_image_surface_get_width(back) > 300);
    cairo_surface_destroy(back);
    free(path);
  }

  /* The CSV: a header and one line per cell, in values order, with centres and values. */
  gchar *dir = g_dir_make_tmp("mbold-heatmap-XXXXXX", NULL);
  char *csv = mb_path_join(dir, "h.csv");
  CHECK_MSG(app_heatmap_write_csv(&res, csv, err, sizeof err), "%s", err);
  size_t size = 0;
  char *text = mb_read_file(csv, &size, err, sizeof err);
  CHECK(text != NULL);
  if (text) {
    char *line = strtok(text, "\n");
    CHECK(line && !strcmp(line, "i,j,x,y,pixel_mse"));
    int lines = 0;
    while ((line = strtok(NULL, "\n"))) {
      int ci, cj;
      double x, y, v;
      CHECK(sscanf(line, "%d,%d,%lf,%lf,%lf", &ci, &cj, &x, &y, &v) == 5);
      double ex, ey;
      app_heatmap_cell_center(&res.grid, ci, cj, &ex, &ey);
      CHECK(ci == lines % n && cj == lines / n);
      CHECK_NEAR(x, ex, 1e-6);
      CHECK_NEAR(y, ey, 1e-6);
      CHECK_NEAR(v, app_heatmap_value(&res, 0, ci, cj), 1e-7);
      lines++;
    }
    CHECK(lines == n * n);
    free(text);
  }
  g_unlink(csv);
  g_rmdir(dir);
  free(csv);
  g_free(dir);

  app_heatmap_result_clear(&res);
  CHECK(res.values == NULL && res.grid.n == 0);
  free(log.seen);
  free(log.first_values);
  free(start);
  app_heatmapper_free(h);
}

typedef struct cancel_after {
  atomic_int flag; /* the hooks' cancel flag */
  int64_t at;      /* raise it once this many cells are done */
  int64_t last;    /* last progress seen */
} cancel_after;

static void cancel_progress(void *user, int64_t done, int64_t total, const char *detail) {
  (void)total, (void)detail;
  cancel_after *c = user;
  c->last = done;
  if (done >= c->at) atomic_store(&c->flag, 1);
}

static void test_cancel(void) {
  double *start = NULL;
  int ns = 0;
  static uint8_t goal_img[SIM_IMAGE_BYTES];
  if (!make_goal(SIM_TASK_PUSH1, 3, 0, 0.1, -0.05, &start, &ns, goal_img)) return;
  char err[512] = "";
  app_heatmap_config cfg = app_heatmap_default_config(SIM_TASK_PUSH1, assets());
  cfg.batch = 8;
  app_heatmapper *h = app_heatmapper_create(&cfg, err, sizeof err);
  CHECK_MSG(h != NULL, "%s", err);
  if (!h) return;
  const int n = 12;
  cancel_after ca = {.at = 20};
  mb_job_hooks hooks = {.progress = cancel_progress, .user = &ca, .cancel = &ca.flag};
  cell_log log = {.n = n, .in_order = true};
  log.seen = calloc((size_t)n * n, sizeof(int));
  log.first_values = calloc((size_t)n * n, sizeof(float));
  app_heatmap_goal goal = {
      .start_state = start, .state_size = ns, .goal_image = goal_img, .target = 0};
  app_heatmap_result res;
  bool ok = app_heatmapper_run(h, &goal, n, on_cell, &log, &hooks, &res, err, sizeof err);
  CHECK(!ok && res.cancelled && strstr(err, "cancelled"));
  /* Stopped at the first check after the flag: the batch of 8 that crossed 20 cells. */
  CHECK_MSG(res.cells_done == 24 && log.calls == 24, "%d cells done, %d reported", res.cells_done,
            log.calls);
  CHECK(ca.last == 24);
  int computed = 0;
  for (int c = 0; c < n * n; c++) computed += isfinite(res.values[c]);
  CHECK(computed == 24);
  app_heatmap_result_clear(&res);

  /* The same heatmapper sweeps again after a cancel. */
  atomic_store(&ca.flag, 0);
  ca.at = 1 << 30;
  memset(log.seen, 0, sizeof(int) * (size_t)n * n);
  log.calls = 0, log.next_expected = 0;
  CHECK_MSG(app_heatmapper_run(h, &goal, n, on_cell, &log, &hooks, &res, err, sizeof err), "%s",
            err);
  CHECK(res.cells_done == n * n && log.calls == n * n && log.in_order && ca.last == n * n);
  app_heatmap_result_clear(&res);

  /* Bad input to a sweep. */
  CHECK(!app_heatmapper_run(h, &goal, 0, NULL, NULL, NULL, &res, err, sizeof err) &&
        strstr(err, "grid 0"));
  goal.target = 1;
  CHECK(!app_heatmapper_run(h, &goal, 4, NULL, NULL, NULL, &res, err, sizeof err) &&
        strstr(err, "target block 1"));
  goal.target = 0;
  goal.state_size = ns - 1;
  CHECK(!app_heatmapper_run(h, &goal, 4, NULL, NULL, NULL, &res, err, sizeof err));
  app_heatmap_result_clear(&res);
  free(log.seen);
  free(log.first_values);
  free(start);
  app_heatmapper_free(h);
}

/* push3: cells where the target would touch another block are left out (NaN, blocked). */
static void test_blocked_cells(const char *artefacts) {
  double *start = NULL;
  int ns = 0;
  static uint8_t goal_img[SIM_IMAGE_BYTES];
  if (!make_goal(SIM_TASK_PUSH3, 4, 1, 0.05, 0.1, &start, &ns, goal_img)) return;
  char err[512] = "";
  app_heatmap_config cfg = app_heatmap_default_config(SIM_TASK_PUSH3, assets());
  app_heatmapper *h = app_heatmapper_create(&cfg, err, sizeof err);
  CHECK_MSG(h != NULL, "%s", err);
  if (!h) return;
  const int n = 16;
  app_heatmap_goal goal = {.start_state = start,
                           .state_size = ns,
                           .goal_image = goal_img,
                           .target = 1,
                           .have_goal_xy = true,
                           .goal_xy = {0.05, 0.1}};
  cell_log log = {.n = n, .in_order = true};
  log.seen = calloc((size_t)n * n, sizeof(int));
  log.first_values = calloc((size_t)n * n, sizeof(float));
  app_heatmap_result res;
  CHECK_MSG(app_heatmapper_run(h, &goal, n, on_cell, &log, NULL, &res, err, sizeof err), "%s", err);
  /* Where the start state has the other blocks. */
  sim_world *w = sim_world_create(app_heatmapper_model(h), err, sizeof err);
  sim_positions p;
  CHECK(sim_world_state_positions(w, start, ns, &p, err, sizeof err));
  int blocked = 0;
  for (int j = 0; j < n; j++)
    for (int i = 0; i < n; i++) {
      double x, y;
      app_heatmap_cell_center(&res.grid, i, j, &x, &y);
      bool near = false;
      for (int k = 0; k < 3; k++)
        if (k != 1 && hypot(x - p.object[k][0], y - p.object[k][1]) < APP_HEATMAP_BLOCK_CLEARANCE)
          near = true;
      int c = j * n + i;
      CHECK(res.blocked[c] == near);
      CHECK(isnan(res.values[c]) == near && isnan(log.first_values[c]) == near);
      CHECK(log.seen[c] == 1);
      blocked += near;
    }
  CHECK_MSG(blocked > 0 && blocked < n * n / 4, "%d blocked cells", blocked);
  CHECK(res.cells_done == n * n && log.calls == n * n);
  if (artefacts) {
    char *path = mb_path_join(artefacts, "push3-blocked.png");
    app_heatmap_png_options opt = {.subtitle = "push3, block 1, other blocks fixed"};
    CHECK_MSG(app_heatmap_png_write(&res, &opt, path, err, sizeof err), "%s", err);
    free(path);
  }
  sim_world_free(w);
  app_heatmap_result_clear(&res);
  free(log.seen);
  free(log.first_values);
  free(start);
  app_heatmapper_free(h);
}

/* A figure of three distances (values made up: the layout and the drawing, not the networks). */
static void test_three_panel_figure(const char *artefacts) {
  app_heatmap_result r;
  memset(&r, 0, sizeof r);
  const int n = 20;
  r.grid = (app_heatmap_grid){n, -0.2, 0.2, -0.2, 0.2};
  r.n_distances = 3;
  r.kinds[0] = APP_COST_Q, r.kinds[1] = APP_COST_REGRESSION, r.kinds[2] = APP_COST_PIXEL;
  r.values = malloc(sizeof(float) * 3 * n * n);
  r.blocked = calloc((size_t)n * n, sizeof(bool));
  r.have_goal_xy = true;
  r.goal_xy[0] = 0.1, r.goal_xy[1] = -0.05;
  for (int c = 0; c < SIM_IMAGE_BYTES; c++) r.goal_image[c] = (uint8_t)(c * 7);
  for (int j = 0; j < n; j++)
    for (int i = 0; i < n; i++) {
      double x, y;
      app_heatmap_cell_center(&r.grid, i, j, &x, &y);
      double d = hypot(x - 0.1, y + 0.05);
      r.values[0 * n * n + j * n + i] = (float)(1 + 40 * d);
      r.values[1 * n * n + j * n + i] = (float)(10 - 9 * exp(-d * d / 0.002));
      r.values[2 * n * n + j * n + i] = (float)(0.012 + 0.002 * d + 0.001 * (y > 0.1));
    }
  r.values[2 * n * n + 3] = NAN; /* a cell not computed */
  r.cells_done = n * n;
  app_heatmap_png_options opt = {.subtitle = "synthetic values", .scale = 2};
  char err[256];
  cairo_surface_t *s = app_heatmap_png_draw(&r, &opt, err, sizeof err);
  CHECK_MSG(s != NULL, "%s", err);
  if (s) {
    for (int d = 0; d < 3; d++) {
      check_figure_cell(s, &r, &opt, d, 2, 17);
      check_figure_cell(s, &r, &opt, d, 15, 4);
    }
    double x0, x1, y, side;
    CHECK(app_heatmap_png_map_rect(&r, &opt, 0, &x0, &y, &side) &&
          app_heatmap_png_map_rect(&r, &opt, 1, &x1, &y, &side) && x1 > x0 + side);
    CHECK(!app_heatmap_png_map_rect(&r, &opt, 3, &x0, &y, &side));
    CHECK(cairo_image_surface_get_width(s) >= (int)(2 * (x0 + 3 * side)));
    cairo_surface_destroy(s);
  }
  if (artefacts) {
    char *path = mb_path_join(artefacts, "three-panels.png");
    CHECK_MSG(app_heatmap_png_write(&r, &opt, path, err, sizeof err), "%s", err);
    free(path);
  }
  /* An unwritable path is an error and leaves nothing behind. */
  CHECK(!app_heatmap_png_write(&r, &opt, "/nonexistent-folder/h.png", err, sizeof err) &&
        strstr(err, "/nonexistent-folder"));
  app_heatmap_result_clear(&r);
  CHECK(app_heatmap_png_draw(&r, &opt, err, sizeof err) == NULL && strstr(err, "no values"));
}

static void test_suite_goals_and_bad_configs(void) {
  char err[512] = "";
  gchar *dir = g_dir_make_tmp("mbold-heatmap-suite-XXXXXX", NULL);
  char *suite = mb_path_join(dir, "push1");
  CHECK_MSG(sim_goals_generate(SIM_TASK_PUSH1, assets(), 3, 5, false, false, suite, NULL, err,
                               sizeof err) == SIM_STATUS_OK,
            "%s", err);
  app_heatmap_suite_goal g;
  CHECK_MSG(app_heatmap_suite_goal_load(&g, suite, 2, SIM_TASK_PUSH1, NULL, err, sizeof err), "%s",
            err);
  if (g.suite) {
    const sim_goal *sg = &g.suite->goals[2];
    CHECK(g.index == 2 && g.goal.target == sg->target && g.goal.have_goal_xy);
    CHECK(g.goal.goal_xy[0] == sg->goal.object[sg->target][0]);
    CHECK(g.goal.goal_xy[1] == sg->goal.object[sg->target][1]);
    CHECK(g.goal.start_state == sg->start_state && g.goal.state_size == g.suite->state_size);
    uint8_t img[SIM_IMAGE_BYTES];
    CHECK(sim_suite_goal_image(g.suite, 2, img, err, sizeof err) &&
          memcmp(img, g.goal.goal_image, SIM_IMAGE_BYTES) == 0);
  }
  app_heatmap_suite_goal_clear(&g);
  CHECK(!app_heatmap_suite_goal_load(&g, suite, 3, SIM_TASK_PUSH1, NULL, err, sizeof err) &&
        strstr(err, "goal 3 out of range"));
  app_heatmap_suite_goal_clear(&g);
  CHECK(!app_heatmap_suite_goal_load(&g, suite, 0, SIM_TASK_PUSH3, NULL, err, sizeof err));
  app_heatmap_suite_goal_clear(&g);
  CHECK(!app_heatmap_suite_goal_load(&g, suite, 0, SIM_TASK_REACH, NULL, err, sizeof err) &&
        strstr(err, "no block to sweep"));
  app_heatmap_suite_goal_clear(&g);
  char *missing = mb_path_join(dir, "none");
  CHECK(!app_heatmap_suite_goal_load(&g, missing, 0, SIM_TASK_PUSH1, NULL, err, sizeof err) &&
        strstr(err, "none"));
  app_heatmap_suite_goal_clear(&g);
  free(missing);
  char *json = mb_path_join(suite, "suite.json");
  g_unlink(json);
  for (int i = 0; i < 3; i++) {
    char name[32];
    snprintf(name, sizeof name, "goal-%03d.png", i);
    char *png = mb_path_join(suite, name);
    g_unlink(png);
    free(png);
  }
  g_rmdir(suite);
  g_rmdir(dir);
  free(json);
  free(suite);
  g_free(dir);

  app_heatmap_config cfg = app_heatmap_default_config(SIM_TASK_REACH, assets());
  CHECK(!app_heatmapper_create(&cfg, err, sizeof err) && strstr(err, "no block to sweep"));
  cfg = app_heatmap_default_config(SIM_TASK_DOOR, assets());
  CHECK(!app_heatmapper_create(&cfg, err, sizeof err) && strstr(err, "no block to sweep"));
  cfg = app_heatmap_default_config(SIM_TASK_PUSH1, assets());
  cfg.distances[1] = (app_heatmap_distance){APP_COST_Q, NULL};
  cfg.n_distances = 2;
  CHECK(!app_heatmapper_create(&cfg, err, sizeof err) && strstr(err, "needs a run folder"));
  cfg.distances[1] = (app_heatmap_distance){APP_COST_PIXEL, NULL};
  CHECK(!app_heatmapper_create(&cfg, err, sizeof err) && strstr(err, "listed twice"));
  cfg.n_distances = 0;
  CHECK(!app_heatmapper_create(&cfg, err, sizeof err) && strstr(err, "0 distances"));
  cfg.n_distances = 1;
  cfg.batch = 1000;
  CHECK(!app_heatmapper_create(&cfg, err, sizeof err) && strstr(err, "batch"));
  cfg.batch = 0;
  cfg.assets_dir = "/nonexistent-assets";
  CHECK(!app_heatmapper_create(&cfg, err, sizeof err) && strstr(err, "/nonexistent-assets"));
}

int main(int argc, char **argv) {
  const char *artefacts = argc > 1 ? argv[1] : NULL;
  char err[256];
  if (artefacts && !mb_mkdir_p(artefacts, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  test_grid_convention();
  /* Asymmetric cells, so a swapped or flipped axis cannot pass; batches that do and do not divide
   * the grid. */
  test_minimum_at_goal_cell(8, 6, 1, 5, artefacts);
  test_minimum_at_goal_cell(9, 2, 6, 0, artefacts);
  test_cancel();
  test_blocked_cells(artefacts);
  test_three_panel_figure(artefacts);
  test_suite_goals_and_bad_configs();
  return test_exit_code("test_heatmap");
}
