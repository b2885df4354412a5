/* The Heatmap tab (paper Fig. 6): for the current goal, the distance to the goal over the target
 * block's (x, y) position with the arm fixed, under the Q-function, temporal regression (when runs
 * exist) and pixel l2, side by side. A worker thread sweeps the grid (app/heatmap.h) and hands
 * cells over as they are scored; the tick fills the maps progressively. Clicking a cell moves the
 * block there in the scene. */
#include "mb-window-private.h"

#include "heatmap.h"
#include "gui_priority.h"
#include "heatmap_png.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

struct mb_heatmaps {
  MbHeatmap *maps[APP_HEATMAP_MAX_DISTANCES]; /* one widget per distance */
  int n_maps;                                 /* shown */
  GThread *thread;                            /* the sweep, or NULL */
  atomic_int cancel;                          /* stops the sweep */
  GMutex lock;                                /* guards the fields below */
  app_heatmap_result result;                  /* the sweep's result so far (owned by the worker
                                                 while it runs; read under lock) */
  float *cells;                               /* (D x N x N) values arrived so far */
  bool *arrived;                              /* (N x N) cells arrived */
  bool *shown;                                /* (N x N) cells copied into the widgets */
  int n;                                      /* N */
  int done;                                   /* cells arrived */
  bool finished;                              /* the worker ended */
  char error[512];                            /* its error, if any */
  bool error_reported;                        /* shown to the user */
  /* inputs of the running sweep (owned) */
  app_heatmap_config cfg;                /* distances, task */
  char *runs[APP_HEATMAP_MAX_DISTANCES]; /* run folders of cfg */
  char *assets;                          /* assets folder */
  app_heatmap_goal goal;                 /* what to sweep */
  double *start;                         /* goal.start_state storage */
  uint8_t image[SIM_IMAGE_BYTES];        /* goal.goal_image storage */
  int target;                            /* the block swept */
  double t_start;                        /* when it began */
  app_heatmap_grid grid;                 /* the sweep's grid, known once it started */
  bool have_grid;                        /* grid is valid */
  bool extent_set;                       /* the widgets have the grid's extent */
};

static void on_cell(void *user, int i, int j, const float *values) {
  mb_heatmaps *h = user;
  g_mutex_lock(&h->lock);
  int nn = h->n * h->n;
  for (int d = 0; d < h->cfg.n_distances; d++) h->cells[d * nn + j * h->n + i] = values[d];
  h->arrived[j * h->n + i] = true;
  h->done++;
  g_mutex_unlock(&h->lock);
}

static gpointer sweep_thread(gpointer data) {
  mb_heatmaps *h = data;
  gui_lower_thread_priority(GUI_NICE_WORKER);
  char err[512] = "";
  app_heatmapper *hm = app_heatmapper_create(&h->cfg, err, sizeof err);
  app_heatmap_result res;
  memset(&res, 0, sizeof res);
  bool ok = hm != NULL;
  if (ok) {
    app_heatmap_grid grid = app_heatmap_grid_for(app_heatmapper_model(hm), h->n);
    g_mutex_lock(&h->lock);
    h->grid = grid;
    h->have_grid = true;
    g_mutex_unlock(&h->lock);
    mb_job_hooks hooks = {.cancel = &h->cancel};
    ok = app_heatmapper_run(hm, &h->goal, h->n, on_cell, h, &hooks, &res, err, sizeof err);
    if (!ok && res.cancelled) err[0] = 0;
  }
  app_heatmapper_free(hm);
  g_mutex_lock(&h->lock);
  app_heatmap_result_clear(&h->result);
  h->result = res;
  h->finished = true;
  if (!ok && err[0]) snprintf(h->error, sizeof h->error, "%s", err);
  g_mutex_unlock(&h->lock);
  return NULL;
}

static void stop_sweep(mb_heatmaps *h) {
  if (!h->thread) return;
  atomic_store(&h->cancel, 1);
  g_thread_join(h->thread);
  h->thread = NULL;
}

static void on_cell_clicked(MbHeatmap *map, int i, int j, MbWindow *win) {
  (void)map;
  mb_heatmaps *h = win->heatmaps;
  g_mutex_lock(&h->lock);
  bool have = h->have_grid;
  app_heatmap_grid grid = h->grid;
  int target = h->target;
  g_mutex_unlock(&h->lock);
  if (!have) return;
  double x, y;
  app_heatmap_cell_center(&grid, i, j, &x, &y);
  gui_planner_place_object(win->planner, target, x, y);
  char msg[128];
  snprintf(msg, sizeof msg, "moved block %d to (%.3f, %.3f)", target, x, y);
  gtk_label_set_text(win->heatmap_status, msg);
}

static void reset_maps(MbWindow *win) {
  mb_heatmaps *h = win->heatmaps;
  for (int d = 0; d < h->n_maps; d++) gtk_box_remove(win->heatmap_box, GTK_WIDGET(h->maps[d]));
  h->n_maps = 0;
}

void mb_window_heatmap_init(MbWindow *win) {
  mb_heatmaps *h = g_new0(mb_heatmaps, 1);
  g_mutex_init(&h->lock);
  win->heatmaps = h;
}

void mb_window_heatmap_dispose(MbWindow *win) {
  mb_heatmaps *h = win->heatmaps;
  if (!h) return;
  stop_sweep(h);
  app_heatmap_result_clear(&h->result);
  g_free(h->cells);
  g_free(h->arrived);
  g_free(h->shown);
  g_free(h->start);
  g_free(h->assets);
  for (int d = 0; d < APP_HEATMAP_MAX_DISTANCES; d++) g_free(h->runs[d]);
  g_mutex_clear(&h->lock);
  g_free(h);
  win->heatmaps = NULL;
}

void mb_window_heatmap_goal_changed(MbWindow *win) {
  mb_heatmaps *h = win->heatmaps;
  if (!h) return;
  stop_sweep(h);
  reset_maps(win);
  h->n = 0;
  h->done = 0;
  gtk_label_set_text(win->heatmap_status,
                     "Distance over the target block's position for the current goal (paper "
                     "Fig. 6). Click a cell to move the block there.");
}

/* The distances to draw: Q and regression for every kind of distance run available (the selected
 * one first), and pixel l2. */
static void choose_distances(MbWindow *win, app_heatmap_config *cfg, char **runs) {
  cfg->n_distances = 0;
  const app_cost_kind learned[2] = {APP_COST_Q, APP_COST_REGRESSION};
  guint selected = gtk_drop_down_get_selected(win->distance_drop);
  for (int k = 0; k < 2; k++) {
    const char *run = NULL;
    for (guint i = 1; i < win->distance_paths->len; i++) {
      const char *dir = g_ptr_array_index(win->distance_paths, i);
      GtkStringObject *o = g_list_model_get_item(G_LIST_MODEL(win->distance_runs), i);
      const char *label = gtk_string_object_get_string(o);
      bool is_reg = strstr(label, "(regression)") != NULL;
      g_object_unref(o);
      if (is_reg != (learned[k] == APP_COST_REGRESSION)) continue;
      if (!run || i == selected) run = dir;
    }
    if (!run) continue;
    runs[cfg->n_distances] = g_strdup(run);
    cfg->distances[cfg->n_distances].kind = learned[k];
    cfg->distances[cfg->n_distances].run = runs[cfg->n_distances];
    cfg->n_distances++;
  }
  cfg->distances[cfg->n_distances].kind = APP_COST_PIXEL;
  cfg->distances[cfg->n_distances].run = NULL;
  cfg->n_distances++;
}

void mb_window_heatmap_compute(MbWindow *win) {
  mb_heatmaps *h = win->heatmaps;
  if (win->task != SIM_TASK_PUSH1 && win->task != SIM_TASK_PUSH3) {
    mb_window_show_error(win, "No heatmap for this task",
                         "Heatmaps sweep a block's position: choose push1 or push3.");
    return;
  }
  if (win->current_goal < 0 || !win->goals[win->current_goal].start) {
    mb_window_show_error(win, "No goal with a start state",
                         "Pick a goal from a suite or a dataset: the sweep starts from the goal's "
                         "start state with the arm fixed.");
    return;
  }
  stop_sweep(h);
  const mb_goal_entry *g = &win->goals[win->current_goal];
  reset_maps(win);
  for (int d = 0; d < APP_HEATMAP_MAX_DISTANCES; d++) g_clear_pointer(&h->runs[d], g_free);
  g_free(h->assets);
  h->assets = g_strdup(win->assets);
  h->cfg = app_heatmap_default_config(win->task, h->assets);
  h->cfg.backend = cmp_backend_from_env(CMP_BACKEND_AUTO);
  choose_distances(win, &h->cfg, h->runs);
  g_free(h->start);
  h->start = g_memdup2(g->start, sizeof(double) * (size_t)g->start_size);
  memcpy(h->image, g->image, SIM_IMAGE_BYTES);
  h->target = g->target >= 0 ? g->target : 0;
  h->goal = (app_heatmap_goal){.start_state = h->start,
                               .state_size = g->start_size,
                               .goal_image = h->image,
                               .target = h->target,
                               .have_goal_xy = g->have_pos};
  if (g->have_pos) {
    h->goal.goal_xy[0] = g->pos.object[h->target][0];
    h->goal.goal_xy[1] = g->pos.object[h->target][1];
  }
  h->n = gtk_spin_button_get_value_as_int(win->heatmap_grid);
  int nn = h->n * h->n;
  g_free(h->cells);
  g_free(h->arrived);
  g_free(h->shown);
  h->cells = g_new(float, (size_t)nn * h->cfg.n_distances);
  h->arrived = g_new0(bool, nn);
  h->shown = g_new0(bool, nn);
  h->done = 0;
  h->finished = false;
  h->error[0] = 0;
  h->error_reported = false;
  app_heatmap_result_clear(&h->result);
  /* The grid's extent is the task's reset range: ask a grid of the same size. */
  for (int d = 0; d < h->cfg.n_distances; d++) {
    MbHeatmap *m = MB_HEATMAP(mb_heatmap_new());
    mb_heatmap_set_size(m, h->n);
    mb_heatmap_set_title(m, app_heatmap_title(h->cfg.distances[d].kind));
    mb_heatmap_set_units(m, app_heatmap_units(h->cfg.distances[d].kind));
    if (g->have_pos) mb_heatmap_set_marker(m, h->goal.goal_xy[0], h->goal.goal_xy[1]);
    gtk_widget_set_hexpand(GTK_WIDGET(m), TRUE);
    gtk_widget_set_vexpand(GTK_WIDGET(m), TRUE);
    g_signal_connect(m, "cell-clicked", G_CALLBACK(on_cell_clicked), win);
    gtk_box_append(win->heatmap_box, GTK_WIDGET(m));
    h->maps[h->n_maps++] = m;
  }
  h->extent_set = false;
  h->have_grid = false;
  atomic_store(&h->cancel, 0);
  h->t_start = g_get_monotonic_time() / 1e6;
  h->thread = g_thread_new("heatmap", sweep_thread, h);
  gtk_notebook_set_current_page(win->bottom_tabs, 2);
  gtk_label_set_text(win->heatmap_status, "computing…");
}

void mb_window_heatmap_tick(MbWindow *win) {
  mb_heatmaps *h = win->heatmaps;
  if (!h || h->n_maps == 0) return;
  g_mutex_lock(&h->lock);
  int nn = h->n * h->n, done = h->done;
  for (int c = 0; c < nn; c++) {
    if (!h->arrived[c] || h->shown[c]) continue;
    h->shown[c] = true;
    for (int d = 0; d < h->n_maps; d++)
      mb_heatmap_set_cell(h->maps[d], c % h->n, c / h->n, h->cells[d * nn + c]);
  }
  bool finished = h->finished;
  char error[512];
  snprintf(error, sizeof error, "%s", h->error);
  app_heatmap_grid grid = h->grid;
  bool have_grid = h->have_grid;
  g_mutex_unlock(&h->lock);
  if (!h->extent_set && have_grid) {
    for (int d = 0; d < h->n_maps; d++)
      mb_heatmap_set_extent(h->maps[d], grid.x0, grid.x1, grid.y0, grid.y1);
    h->extent_set = true;
  }
  char msg[640];
  if (finished && h->thread) {
    g_thread_join(h->thread);
    h->thread = NULL;
  }
  if (finished && error[0]) {
    if (!h->error_reported) {
      h->error_reported = true;
      mb_window_show_error(win, "The heatmap could not be computed", error);
    }
    snprintf(msg, sizeof msg, "failed: %s", error);
  } else if (finished) {
    snprintf(msg, sizeof msg,
             "%d x %d cells in %.1f s. Hover for values; click a cell to move "
             "the block there.",
             h->n, h->n, h->result.seconds);
  } else {
    snprintf(msg, sizeof msg, "computing: %d of %d cells", done, nn);
  }
  gtk_label_set_text(win->heatmap_status, msg);
}

int mb_window_heatmap_cells_done(MbWindow *win) {
  mb_heatmaps *h = win->heatmaps;
  if (!h) return 0;
  g_mutex_lock(&h->lock);
  int d = h->done;
  g_mutex_unlock(&h->lock);
  return d;
}

gboolean mb_window_heatmap_save(MbWindow *win, const char *path, GError **error) {
  mb_heatmaps *h = win->heatmaps;
  char err[512] = "";
  g_mutex_lock(&h->lock);
  bool ok = h->finished && h->result.grid.n > 0;
  if (!ok) snprintf(err, sizeof err, "the heatmap is still being computed");
  if (ok) {
    app_heatmap_png_options opt = {.subtitle = sim_task_name(win->task)};
    ok = app_heatmap_png_write(&h->result, &opt, path, err, sizeof err);
  }
  if (ok) {
    char *csv = g_strconcat(path, ".csv", NULL);
    if (g_str_has_suffix(path, ".png")) {
      g_free(csv);
      char *stem = g_strndup(path, strlen(path) - 4);
      csv = g_strconcat(stem, ".csv", NULL);
      g_free(stem);
    }
    ok = app_heatmap_write_csv(&h->result, csv, err, sizeof err);
    g_free(csv);
  }
  g_mutex_unlock(&h->lock);
  if (!ok) g_set_error(error, g_quark_from_static_string("mb-heatmap"), 1, "%s", err);
  return ok;
}
