/* MbWindow: layout from mb-window.ui; this file builds the planner panel and readouts, runs the
 * frame-clock tick that moves worker results into widgets, and owns the window's actions. The
 * goals, candidates, heatmap, training, demo and export parts live in window-*.c. */
#include "mb-window-private.h"

#include "mb_json.h"
#include "mb_file.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

G_DEFINE_FINAL_TYPE(MbWindow, mb_window, GTK_TYPE_APPLICATION_WINDOW)

static const char *const task_names[] = {"reach", "push1", "push3", "door", NULL};
static const char *const cost_names[] = {"pixel", "q", "regression", NULL};

/* ---- configuration ----------------------------------------------------------------------------
 */

static int spin_int(GtkSpinButton *s) {
  return gtk_spin_button_get_value_as_int(s);
}

app_runner_config mb_window_current_config(MbWindow *win) {
  app_runner_config cfg = app_runner_default_config(win->task, win->assets);
  guint dyn = gtk_drop_down_get_selected(win->dynamics_drop);
  if (dyn != GTK_INVALID_LIST_POSITION && dyn > 0 && dyn < win->dynamics_paths->len) {
    cfg.dynamics = APP_DYNAMICS_LEARNED;
    cfg.dynamics_run = g_ptr_array_index(win->dynamics_paths, dyn);
  }
  guint cost = gtk_drop_down_get_selected(win->cost_drop);
  cfg.cost = cost == 1 ? APP_COST_Q : cost == 2 ? APP_COST_REGRESSION : APP_COST_PIXEL;
  guint dist = gtk_drop_down_get_selected(win->distance_drop);
  if (dist != GTK_INVALID_LIST_POSITION && dist > 0 && dist < win->distance_paths->len)
    cfg.distance_run = g_ptr_array_index(win->distance_paths, dist);
  cfg.cem.samples = spin_int(win->samples_spin);
  cfg.cem.iterations = spin_int(win->iterations_spin);
  cfg.cem.elites = spin_int(win->elites_spin);
  cfg.cem.horizon = spin_int(win->horizon_spin);
  cfg.actions_per_plan = spin_int(win->per_plan_spin);
  if (cfg.cem.elites > cfg.cem.samples) cfg.cem.elites = cfg.cem.samples;
  if (cfg.actions_per_plan > cfg.cem.horizon) cfg.actions_per_plan = cfg.cem.horizon;
  cfg.seed = (uint64_t)spin_int(win->seed_spin);
  cfg.backend = cmp_backend_from_env(CMP_BACKEND_AUTO);
  return cfg;
}

/* Sends the panel's configuration to the planner thread (rebuilding its runner). */
void mb_window_apply_config(MbWindow *win) {
  if (win->configuring) return;
  app_runner_config cfg = mb_window_current_config(win);
  if (cfg.cost != APP_COST_PIXEL && !cfg.distance_run) {
    /* A learned cost needs a run: fall back to pixel and say so. */
    gtk_label_set_text(win->status_label, "the q and regression costs need a distance run: "
                                          "train one (Training tab) or pick one");
    cfg.cost = APP_COST_PIXEL;
  }
  gui_planner_configure(win->planner, &cfg);
  gui_planner_set_playback(win->planner, gtk_range_get_value(GTK_RANGE(win->playback_scale)));
}

static void on_params_changed(MbWindow *win) {
  if (win->configuring) return;
  app_runner_config cfg = mb_window_current_config(win);
  gui_planner_set_params(win->planner, &cfg.cem, cfg.actions_per_plan);
}

static void on_model_changed(GObject *obj, GParamSpec *pspec, MbWindow *win) {
  (void)obj, (void)pspec;
  mb_window_apply_config(win);
}

static void on_task_changed(GObject *obj, GParamSpec *pspec, MbWindow *win) {
  (void)obj, (void)pspec;
  if (win->configuring) return;
  guint i = gtk_drop_down_get_selected(win->task_drop);
  if (i < SIM_TASK_COUNT) mb_window_set_task(win, (sim_task)i, true);
}

static void on_playback_changed(GtkRange *range, MbWindow *win) {
  gui_planner_set_playback(win->planner, gtk_range_get_value(range));
}

void mb_window_set_task(MbWindow *win, sim_task task, bool load_default_suite) {
  win->task = task;
  win->configuring = true;
  gtk_drop_down_set_selected(win->task_drop, (guint)task);
  /* The planner's defaults for the task: the initial std lives in the runner config. */
  win->configuring = false;
  gui_scene_set_task(win->scene, task);
  mb_window_apply_config(win);
  mb_window_heatmap_goal_changed(win);
  if (!load_default_suite) return;
  /* The task's default goal suite. */
  char *dir = g_build_filename(win->assets, "goals", sim_task_name(task), NULL);
  GError *error = NULL;
  if (g_file_test(dir, G_FILE_TEST_IS_DIR) && !mb_window_load_suite(win, dir, &error)) {
    gtk_label_set_text(win->gallery_label, error->message);
    g_error_free(error);
  }
  g_free(dir);
}

/* ---- panel construction -----------------------------------------------------------------------
 */

static GtkWidget *grid_label(GtkGrid *grid, int row, const char *text) {
  GtkWidget *l = gtk_label_new(text);
  gtk_label_set_xalign(GTK_LABEL(l), 0);
  gtk_widget_add_css_class(l, "dim-label");
  gtk_grid_attach(grid, l, 0, row, 1, 1);
  return l;
}

static GtkSpinButton *grid_spin(MbWindow *win, int row, const char *text, double lo, double hi,
                                double value, const char *tip) {
  grid_label(win->planner_grid, row, text);
  GtkWidget *s = gtk_spin_button_new_with_range(lo, hi, 1);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(s), value);
  gtk_widget_set_hexpand(s, TRUE);
  gtk_widget_set_tooltip_text(s, tip);
  gtk_grid_attach(win->planner_grid, s, 1, row, 1, 1);
  g_signal_connect_swapped(s, "value-changed", G_CALLBACK(on_params_changed), win);
  return GTK_SPIN_BUTTON(s);
}

static GtkDropDown *grid_drop(MbWindow *win, int row, const char *text, GtkStringList *model,
                              const char *tip) {
  grid_label(win->planner_grid, row, text);
  GtkWidget *d = gtk_drop_down_new(G_LIST_MODEL(model), NULL);
  gtk_widget_set_hexpand(d, TRUE);
  gtk_widget_set_tooltip_text(d, tip);
  gtk_grid_attach(win->planner_grid, d, 1, row, 1, 1);
  return GTK_DROP_DOWN(d);
}

static GtkLabel *readout(MbWindow *win, int row, const char *text) {
  GtkWidget *l = gtk_label_new(text);
  gtk_label_set_xalign(GTK_LABEL(l), 0);
  gtk_widget_add_css_class(l, "dim-label");
  gtk_grid_attach(win->readout_grid, l, 0, row, 1, 1);
  GtkWidget *v = gtk_label_new("–");
  gtk_label_set_xalign(GTK_LABEL(v), 0);
  gtk_label_set_selectable(GTK_LABEL(v), FALSE);
  gtk_widget_add_css_class(v, "numeric");
  gtk_widget_set_hexpand(v, TRUE);
  gtk_grid_attach(win->readout_grid, v, 1, row, 1, 1);
  return GTK_LABEL(v);
}

static void build_planner_panel(MbWindow *win) {
  int row = 0;
  win->task_drop = grid_drop(win, row++, "Task", gtk_string_list_new(task_names),
                             "Scene and task (reach, push 1 or 3 blocks, sliding door)");
  win->dynamics_runs = gtk_string_list_new((const char *const[]){"oracle (simulator)", NULL});
  win->dynamics_paths = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(win->dynamics_paths, NULL);
  win->dynamics_drop = grid_drop(win, row++, "Dynamics", win->dynamics_runs,
                                 "Oracle: roll candidates out in the simulator; or a trained "
                                 "video prediction model");
  win->cost_drop = grid_drop(win, row++, "Cost", gtk_string_list_new(cost_names),
                             "How predicted final frames are scored: pixel l2 (Visual "
                             "Foresight), the learned Q distance (MBOLD), temporal regression");
  win->distance_runs = gtk_string_list_new((const char *const[]){"none", NULL});
  win->distance_paths = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(win->distance_paths, NULL);
  win->distance_drop = grid_drop(win, row++, "Distance run", win->distance_runs,
                                 "A trained distance (Training tab, or runs/ folder)");
  win->samples_spin = grid_spin(win, row++, "Samples", 10, 2000, 200, "CEM samples per iteration");
  win->iterations_spin = grid_spin(win, row++, "Iterations", 1, 20, 3, "CEM iterations per replan");
  win->elites_spin = grid_spin(win, row++, "Elites", 1, 200, 10, "Samples that refit the mean/std");
  win->horizon_spin = grid_spin(win, row++, "Horizon", 1, 30, 13, "Actions per candidate");
  win->per_plan_spin =
      grid_spin(win, row++, "Actions/plan", 1, 30, 6, "Actions executed before replanning");
  win->seed_spin = grid_spin(win, row++, "Seed", 0, 1e9, 1, "Reset seed and planner seed");
  grid_label(win->planner_grid, row, "Playback");
  GtkWidget *scale = gtk_scale_new_with_range(GTK_ORIENTATION_HORIZONTAL, 0, 0.5, 0.01);
  gtk_range_set_value(GTK_RANGE(scale), 0.05);
  gtk_scale_set_draw_value(GTK_SCALE(scale), FALSE);
  gtk_widget_set_tooltip_text(scale, "Seconds per executed action, so the scene moves visibly");
  gtk_grid_attach(win->planner_grid, scale, 1, row++, 1, 1);
  win->playback_scale = GTK_SCALE(scale);
  g_signal_connect(scale, "value-changed", G_CALLBACK(on_playback_changed), win);

  win->ro_step = readout(win, 0, "Step");
  win->ro_cost = readout(win, 1, "Distance to goal");
  win->ro_true = readout(win, 2, "True distance");
  win->ro_success = readout(win, 3, "Success");
  win->ro_plan = readout(win, 4, "Plan time");
  win->ro_fps = readout(win, 5, "Scene");
}

static void connect_panel(MbWindow *win) {
  g_signal_connect(win->task_drop, "notify::selected", G_CALLBACK(on_task_changed), win);
  g_signal_connect(win->dynamics_drop, "notify::selected", G_CALLBACK(on_model_changed), win);
  g_signal_connect(win->cost_drop, "notify::selected", G_CALLBACK(on_model_changed), win);
  g_signal_connect(win->distance_drop, "notify::selected", G_CALLBACK(on_model_changed), win);
}

/* ---- scene camera -----------------------------------------------------------------------------
 */

static void send_camera(MbWindow *win) {
  MbFreeCamera cam;
  mb_scene_view_get_camera(win->scene_view, &cam);
  sim_free_camera sc;
  memcpy(sc.lookat, cam.lookat, sizeof sc.lookat);
  sc.distance = cam.distance;
  sc.azimuth = cam.azimuth;
  sc.elevation = cam.elevation;
  int w = 0, h = 0;
  mb_scene_view_get_render_size(win->scene_view, &w, &h);
  if (w < 16 || h < 16) w = 640, h = 480;
  gui_scene_set_camera(win->scene, &sc, w, h);
}

static void on_camera_changed(MbSceneView *view, MbWindow *win) {
  (void)view;
  send_camera(win);
}

static void on_render_size(GObject *obj, GParamSpec *pspec, MbWindow *win) {
  (void)obj, (void)pspec;
  send_camera(win);
}

/* ---- the tick: worker results into widgets ----------------------------------------------------
 */

static void update_readouts(MbWindow *win, const gui_snapshot *s) {
  char buf[128];
  if (!s->ready) {
    gtk_label_set_text(win->ro_step, "–");
    gtk_label_set_text(win->ro_cost, "–");
    gtk_label_set_text(win->ro_true, "–");
    gtk_label_set_text(win->ro_success, "–");
  } else {
    snprintf(buf, sizeof buf, "%d / %d  (replan %d)", s->step, s->episode_steps, s->replans);
    gtk_label_set_text(win->ro_step, buf);
    if (isnan(s->cost_now))
      snprintf(buf, sizeof buf, "–");
    else if (s->cost == APP_COST_PIXEL)
      snprintf(buf, sizeof buf, "%.5f pixel MSE", s->cost_now);
    else
      snprintf(buf, sizeof buf, "%.1f steps (%s)", s->cost_now, app_cost_name(s->cost));
    gtk_label_set_text(win->ro_cost, buf);
    if (s->have_goal_pos) {
      snprintf(buf, sizeof buf, "%.1f cm", 100 * s->goal_distance);
      gtk_label_set_text(win->ro_true, buf);
      gtk_label_set_text(win->ro_success, s->success ? "yes" : "no");
    } else {
      gtk_label_set_text(win->ro_true, "unknown (goal image only)");
      gtk_label_set_text(win->ro_success, "–");
    }
  }
  if (s->last_plan_seconds > 0) {
    snprintf(buf, sizeof buf, "%.0f ms per replan", 1000 * s->last_plan_seconds);
    gtk_label_set_text(win->ro_plan, buf);
  }
  gtk_label_set_text(win->status_label, s->status);
  gtk_button_set_icon_name(win->run_button, s->running ? "media-playback-pause-symbolic"
                                                       : "media-playback-start-symbolic");
}

static void update_scene_info(MbWindow *win) {
  double fps = 0, ms = 0;
  gui_scene_rates(win->scene, &fps, &ms);
  double shown = mb_scene_view_get_fps(win->scene_view);
  char buf[160];
  snprintf(buf, sizeof buf, "%.0f fps rendered (%.1f ms), %.0f fps shown", fps, ms, shown);
  gtk_label_set_text(win->ro_fps, buf);
  gtk_label_set_text(win->scene_info, mb_scene_view_get_agent_view(win->scene_view)
                                          ? "agent camera, 64 x 64"
                                          : "drag: orbit · right-drag: pan · scroll: zoom");
}

static void show_frames(MbWindow *win, const gui_snapshot *s) {
  if (!s->ready) return;
  int step = win->scrub_step >= 0 && win->scrub_step <= s->step ? win->scrub_step : s->step;
  mb_image_view_set_image(win->frame_view, s->frames[step], SIM_IMAGE_SIZE, SIM_IMAGE_SIZE,
                          SIM_IMAGE_SIZE * 3);
  char cap[96];
  snprintf(cap, sizeof cap, "%s: step %d", win->scrub_step >= 0 ? "Replay" : "Now", step);
  mb_image_view_set_caption(win->frame_view, cap);
  if (mb_scene_view_get_agent_view(win->scene_view))
    mb_scene_view_set_frame(win->scene_view, s->frames[step], SIM_IMAGE_SIZE, SIM_IMAGE_SIZE,
                            SIM_IMAGE_SIZE * 3);
}

static void apply_snapshot(MbWindow *win, gui_snapshot *s) {
  bool new_episode = !win->shown || win->shown->episode_id != s->episode_id;
  if (new_episode) {
    win->scrub_step = -1;
    if (s->ready) {
      mb_image_view_set_image(win->goal_view, s->goal, SIM_IMAGE_SIZE, SIM_IMAGE_SIZE,
                              SIM_IMAGE_SIZE * 3);
      mb_image_view_set_caption(win->goal_view, "Goal");
    }
  }
  update_readouts(win, s);
  show_frames(win, s);
  if (s->state_size > 0) gui_scene_set_state(win->scene, s->task, s->state, s->state_size);
  mb_window_candidates_update(win, s, new_episode);
  mb_window_timeline_update(win, s);
  mb_window_overlays_update(win, s);
  if (s->error_seq != win->shown_error_seq) {
    win->shown_error_seq = s->error_seq;
    if (s->error[0]) mb_window_show_error(win, "The planner stopped", s->error);
  }
  mb_window_demo_tick(win, s);
  gui_snapshot_unref(win->shown);
  win->shown = s;
}

static void record_stats(MbWindow *win, gint64 now_us, bool busy) {
  if (win->last_tick_us) {
    double gap = (now_us - win->last_tick_us) / 1000.0;
    if (busy && gap > win->max_stall_ms) win->max_stall_ms = gap;
    if (!busy && gap > win->max_stall_idle_ms) win->max_stall_idle_ms = gap;
  }
  win->last_tick_us = now_us;
  if (busy) {
    double fps = 0;
    gui_scene_rates(win->scene, &fps, NULL);
    if (fps > 0) {
      win->fps_sum += fps;
      win->fps_samples++;
      if (fps > win->scene_fps_max) win->scene_fps_max = fps;
    }
  }
}

/* The scene's default camera arrives from its thread once the scene is loaded. */
static void apply_default_camera(MbWindow *win) {
  sim_free_camera cam;
  if (win->camera_set || !gui_scene_default_camera(win->scene, &cam)) return;
  MbFreeCamera mc;
  memcpy(mc.lookat, cam.lookat, sizeof mc.lookat);
  mc.distance = cam.distance;
  mc.azimuth = cam.azimuth;
  mc.elevation = cam.elevation;
  mb_scene_view_set_camera(win->scene_view, &mc);
  win->camera_set = true;
  send_camera(win);
}

static gboolean on_tick(GtkWidget *widget, GdkFrameClock *clock, gpointer data) {
  (void)widget;
  MbWindow *win = data;
  apply_default_camera(win);
  gui_scene_frame *f = gui_scene_take_frame(win->scene);
  if (f) {
    if (!mb_scene_view_get_agent_view(win->scene_view)) {
      mb_scene_view_set_frame(win->scene_view, f->rgb, f->width, f->height, f->width * 3);
      mb_scene_view_set_matrices(win->scene_view, f->view, f->proj);
    } else {
      mb_scene_view_set_matrices(win->scene_view, f->agent_view, f->agent_proj);
    }
    gui_scene_frame_free(win->last_frame);
    win->last_frame = f;
  }
  char *scene_err = gui_scene_take_error(win->scene);
  if (scene_err) {
    mb_window_show_error(win, "The scene cannot be rendered", scene_err);
    g_free(scene_err);
  }
  gui_snapshot *s = gui_planner_snapshot(win->planner);
  if (!win->shown || s->seq != win->shown->seq)
    apply_snapshot(win, s);
  else
    gui_snapshot_unref(s);
  bool busy = win->shown && (win->shown->running || win->shown->planning);
  gui_scene_set_live(win->scene, busy || mb_window_running_jobs(win) > 0 || win->demo);
  if (win->stats) record_stats(win, gdk_frame_clock_get_frame_time(clock), busy);
  static gint64 last_info = 0;
  gint64 now = g_get_monotonic_time();
  if (now - last_info > 500000) {
    last_info = now;
    update_scene_info(win);
    mb_window_write_test_state(win);
  }
  mb_window_heatmap_tick(win);
  mb_window_training_tick(win);
  return G_SOURCE_CONTINUE;
}

/* A 10 ms heartbeat on the main loop: its lateness is the longest stall, whether or not GTK is
 * drawing frames (the frame clock stops when nothing changes). */
static gboolean on_beat(gpointer data) {
  MbWindow *win = data;
  gint64 now = g_get_monotonic_time();
  if (win->last_beat_us) {
    double late = (now - win->last_beat_us) / 1000.0 - 10.0;
    bool busy = win->shown && (win->shown->running || win->shown->planning);
    if (busy && late > win->max_stall_ms) win->max_stall_ms = late;
    if (!busy && late > win->max_stall_idle_ms) win->max_stall_idle_ms = late;
  }
  win->last_beat_us = now;
  return G_SOURCE_CONTINUE;
}

void mb_window_print_stats(MbWindow *win) {
  double fps = win->fps_samples ? win->fps_sum / win->fps_samples : 0;
  printf("{\"scene_fps_while_planning_mean\": %.1f, \"scene_fps_while_planning_best\": %.1f, "
         "\"longest_stall_while_planning_ms\": %.1f, \"longest_stall_idle_ms\": %.1f}\n",
         fps, win->scene_fps_max, win->max_stall_ms, win->max_stall_idle_ms);
  fflush(stdout);
}

/* ---- test / automation state --------------------------------------------------------------------
 */

/* A widget's rectangle in the window surface's coordinates (what X11 tools see), as
 * "name": [x, y, width, height]; nothing when it is not on screen. */
void mb_window_json_rect(MbWindow *win, mb_jw *w, const char *name, GtkWidget *widget) {
  graphene_rect_t r;
  if (!widget || !gtk_widget_get_mapped(widget) ||
      !gtk_widget_compute_bounds(widget, GTK_WIDGET(win), &r))
    return;
  double sx = 0, sy = 0; /* client-side decorations shift the window inside its surface */
  gtk_native_get_surface_transform(GTK_NATIVE(win), &sx, &sy);
  mb_jw_key(w, name);
  double v[4] = {r.origin.x + sx, r.origin.y + sy, r.size.width, r.size.height};
  mb_jw_double_array(w, v, 4);
}

void mb_window_write_test_state(MbWindow *win) {
  const char *path = g_getenv("MBOLD_TEST_STATE");
  if (!path || !*path) return;
  mb_jw w;
  mb_jw_init(&w, true);
  mb_jw_begin_object(&w);
  mb_jw_key(&w, "widgets");
  mb_jw_begin_object(&w);
  mb_window_json_rect(win, &w, "scene", GTK_WIDGET(win->scene_view));
  mb_window_json_rect(win, &w, "gallery", GTK_WIDGET(win->gallery));
  mb_window_json_rect(win, &w, "filmstrip", GTK_WIDGET(win->filmstrip));
  mb_window_json_rect(win, &w, "goal", GTK_WIDGET(win->goal_view));
  mb_window_json_rect(win, &w, "tabs", GTK_WIDGET(win->bottom_tabs));
  mb_window_json_rect(win, &w, "heatmap_button", GTK_WIDGET(win->heatmap_button_ref));
  mb_window_json_rect(win, &w, "heatmaps", GTK_WIDGET(win->heatmap_box));
  for (int i = 0; i < mb_goal_gallery_get_n_items(win->gallery) && i < 64; i++) {
    char name[32];
    snprintf(name, sizeof name, "thumb%d", i);
    mb_window_json_rect(win, &w, name, mb_goal_gallery_get_thumbnail(win->gallery, i));
  }
  for (int i = 0; i < gtk_notebook_get_n_pages(win->bottom_tabs); i++) {
    GtkWidget *page = gtk_notebook_get_nth_page(win->bottom_tabs, i);
    char name[32];
    snprintf(name, sizeof name, "tab%d", i);
    mb_window_json_rect(win, &w, name, gtk_notebook_get_tab_label(win->bottom_tabs, page));
  }
  mb_window_training_test_rects(win, &w);
  mb_jw_end_object(&w);
  const gui_snapshot *s = win->shown;
  mb_jw_kv_string(&w, "task", sim_task_name(win->task));
  mb_jw_kv_int(&w, "goals", win->n_goals);
  mb_jw_kv_int(&w, "current_goal", win->current_goal);
  mb_jw_kv_int(&w, "step", s ? s->step : 0);
  mb_jw_kv_int(&w, "replans", s ? s->replans : 0);
  mb_jw_kv_bool(&w, "running", s && s->running);
  mb_jw_kv_bool(&w, "planning", s && s->planning);
  mb_jw_kv_string(&w, "status", s ? s->status : "");
  mb_jw_kv_int(&w, "filmstrip_groups", mb_filmstrip_get_n_groups(win->filmstrip));
  mb_jw_kv_string(&w, "last_error", win->last_error ? win->last_error : "");
  mb_jw_kv_int(&w, "errors_shown", win->errors_shown);
  mb_jw_kv_int(&w, "heatmap_cells", mb_window_heatmap_cells_done(win));
  mb_jw_kv_bool(&w, "demo", win->demo);
  mb_jw_kv_bool(&w, "agent_view", mb_scene_view_get_agent_view(win->scene_view));
  mb_jw_kv_int(&w, "tab", gtk_notebook_get_current_page(win->bottom_tabs));
  mb_window_training_test_state(win, &w);
  double fps = 0;
  gui_scene_rates(win->scene, &fps, NULL);
  mb_jw_kv_double(&w, "scene_fps", fps);
  mb_jw_kv_double(&w, "scene_shown_fps", mb_scene_view_get_fps(win->scene_view));
  mb_jw_end_object(&w);
  char *text = mb_jw_take(&w);
  /* Replaced by rename so a reader never sees half a file; no fsync: this runs on the main
   * thread twice a second and must not wait for the disk. */
  char *tmp = g_strconcat(path, ".tmp", NULL);
  FILE *f = text ? fopen(tmp, "w") : NULL;
  if (f) {
    fputs(text, f);
    if (fclose(f) == 0) rename(tmp, path);
  }
  g_free(tmp);
  free(text);
}

/* ---- actions -------------------------------------------------------------------------------- */

static void act_run_pause(GSimpleAction *a, GVariant *p, gpointer data) {
  (void)a, (void)p;
  MbWindow *win = data;
  if (win->demo) mb_window_set_demo(win, FALSE);
  if (win->shown && (win->shown->running))
    gui_planner_pause(win->planner);
  else
    gui_planner_run(win->planner);
}

static void act_step(GSimpleAction *a, GVariant *p, gpointer data) {
  (void)a, (void)p;
  MbWindow *win = data;
  if (win->demo) mb_window_set_demo(win, FALSE);
  gui_planner_step(win->planner);
}

static void act_reset(GSimpleAction *a, GVariant *p, gpointer data) {
  (void)a, (void)p;
  MbWindow *win = data;
  if (win->demo) mb_window_set_demo(win, FALSE);
  if (win->current_goal >= 0 && win->goals[win->current_goal].start)
    mb_window_pick_goal(win, win->current_goal); /* back to the goal's own start */
  else
    gui_planner_reset(win->planner, (uint64_t)spin_int(win->seed_spin));
}

static void act_fullscreen(GSimpleAction *a, GVariant *p, gpointer data) {
  (void)p;
  MbWindow *win = data;
  GVariant *state = g_action_get_state(G_ACTION(a));
  gboolean on = !g_variant_get_boolean(state);
  g_variant_unref(state);
  g_simple_action_set_state(a, g_variant_new_boolean(on));
  if (on)
    gtk_window_fullscreen(GTK_WINDOW(win));
  else
    gtk_window_unfullscreen(GTK_WINDOW(win));
}

static void act_agent_view(GSimpleAction *a, GVariant *p, gpointer data) {
  (void)p;
  MbWindow *win = data;
  GVariant *state = g_action_get_state(G_ACTION(a));
  gboolean on = !g_variant_get_boolean(state);
  g_variant_unref(state);
  g_simple_action_set_state(a, g_variant_new_boolean(on));
  mb_scene_view_set_agent_view(win->scene_view, on);
  if (win->shown) show_frames(win, win->shown);
  if (!on && win->last_frame) {
    mb_scene_view_set_frame(win->scene_view, win->last_frame->rgb, win->last_frame->width,
                            win->last_frame->height, win->last_frame->width * 3);
    mb_scene_view_set_matrices(win->scene_view, win->last_frame->view, win->last_frame->proj);
  } else if (on && win->last_frame) {
    mb_scene_view_set_matrices(win->scene_view, win->last_frame->agent_view,
                               win->last_frame->agent_proj);
  }
  if (win->shown) mb_window_overlays_update(win, win->shown);
}

static void act_demo(GSimpleAction *a, GVariant *p, gpointer data) {
  (void)a, (void)p;
  MbWindow *win = data;
  mb_window_set_demo(win, !win->demo);
}

static void act_heatmap(GSimpleAction *a, GVariant *p, gpointer data) {
  (void)a, (void)p;
  mb_window_heatmap_compute(data);
}

static void act_capture(GSimpleAction *a, GVariant *p, gpointer data) {
  (void)a, (void)p;
  mb_window_capture_goal(data);
}

static void act_export_scene(GSimpleAction *a, GVariant *p, gpointer data) {
  (void)a, (void)p;
  mb_window_export_scene(data);
}

static void act_export_heatmap(GSimpleAction *a, GVariant *p, gpointer data) {
  (void)a, (void)p;
  mb_window_export_heatmap(data);
}

static void act_export_filmstrip(GSimpleAction *a, GVariant *p, gpointer data) {
  (void)a, (void)p;
  mb_window_export_filmstrip(data);
}

/* File choosers (GtkFileChooserNative: GTK 4.8 has no GtkFileDialog yet). */
typedef enum chooser_purpose { CHOOSE_GOAL_PNG, CHOOSE_SUITE, CHOOSE_DATASET } chooser_purpose;

static void on_chooser_response(GtkNativeDialog *dialog, int response, gpointer data) {
  MbWindow *win = data;
  chooser_purpose what = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(dialog), "purpose"));
  if (response == GTK_RESPONSE_ACCEPT) {
    GFile *file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
    char *path = file ? g_file_get_path(file) : NULL;
    GError *error = NULL;
    bool ok = true;
    if (path && what == CHOOSE_GOAL_PNG)
      ok = mb_window_open_goal_png(win, path, &error);
    else if (path && what == CHOOSE_SUITE)
      ok = mb_window_load_suite(win, path, &error);
    else if (path && what == CHOOSE_DATASET)
      mb_window_load_dataset_goals_async(win, path); /* reports its own errors */
    if (!ok) {
      mb_window_show_error(
          win, what == CHOOSE_GOAL_PNG ? "Cannot use this goal image" : "Cannot load goals",
          error->message);
      g_error_free(error);
    }
    g_free(path);
    if (file) g_object_unref(file);
  }
  g_object_unref(dialog);
}

static void open_chooser(MbWindow *win, chooser_purpose what) {
  static const char *titles[] = {"Open Goal Image (64 x 64 PNG)", "Load Goal Suite Folder",
                                 "Goals From Dataset (HDF5)"};
  GtkFileChooserAction mode =
      what == CHOOSE_SUITE ? GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER : GTK_FILE_CHOOSER_ACTION_OPEN;
  GtkFileChooserNative *dialog =
      gtk_file_chooser_native_new(titles[what], GTK_WINDOW(win), mode, "_Open", "_Cancel");
  if (what == CHOOSE_GOAL_PNG) {
    GtkFileFilter *f = gtk_file_filter_new();
    gtk_file_filter_set_name(f, "PNG images");
    gtk_file_filter_add_pattern(f, "*.png");
    gtk_file_filter_add_pattern(f, "*");
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(dialog), f);
  }
  g_object_set_data(G_OBJECT(dialog), "purpose", GINT_TO_POINTER(what));
  gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(dialog), TRUE);
  g_signal_connect(dialog, "response", G_CALLBACK(on_chooser_response), win);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(dialog));
}

static void act_open_goal(GSimpleAction *a, GVariant *p, gpointer data) {
  (void)a, (void)p;
  open_chooser(data, CHOOSE_GOAL_PNG);
}

static void act_load_suite(GSimpleAction *a, GVariant *p, gpointer data) {
  (void)a, (void)p;
  open_chooser(data, CHOOSE_SUITE);
}

static void act_dataset_goals(GSimpleAction *a, GVariant *p, gpointer data) {
  (void)a, (void)p;
  open_chooser(data, CHOOSE_DATASET);
}

static const GActionEntry win_actions[] = {
    {"run-pause", act_run_pause, NULL, NULL, NULL, {0}},
    {"step", act_step, NULL, NULL, NULL, {0}},
    {"reset", act_reset, NULL, NULL, NULL, {0}},
    {"open-goal", act_open_goal, NULL, NULL, NULL, {0}},
    {"load-suite", act_load_suite, NULL, NULL, NULL, {0}},
    {"goals-from-dataset", act_dataset_goals, NULL, NULL, NULL, {0}},
    {"capture-goal", act_capture, NULL, NULL, NULL, {0}},
    {"demo", act_demo, NULL, NULL, NULL, {0}},
    {"fullscreen", act_fullscreen, NULL, "false", NULL, {0}},
    {"agent-view", act_agent_view, NULL, "false", NULL, {0}},
    {"heatmap", act_heatmap, NULL, NULL, NULL, {0}},
    {"export-scene", act_export_scene, NULL, NULL, NULL, {0}},
    {"export-heatmap", act_export_heatmap, NULL, NULL, NULL, {0}},
    {"export-filmstrip", act_export_filmstrip, NULL, NULL, NULL, {0}},
};

void mb_window_set_demo(MbWindow *win, gboolean on) {
  if (on == win->demo) return;
  if (on)
    mb_window_demo_start(win);
  else
    mb_window_demo_stop(win);
  gtk_toggle_button_set_active(win->demo_button, win->demo);
}

int mb_window_jobs_running(MbWindow *win) {
  return mb_window_running_jobs(win);
}
void mb_window_cancel_all_jobs(MbWindow *win) {
  mb_window_cancel_jobs(win);
}

/* Any user input stops the demo ("any input pauses it"). */
static gboolean on_any_key(GtkEventControllerKey *c, guint keyval, guint code, GdkModifierType st,
                           gpointer data) {
  (void)c, (void)keyval, (void)code, (void)st;
  MbWindow *win = data;
  if (win->demo && keyval != GDK_KEY_F11) mb_window_set_demo(win, FALSE);
  return FALSE;
}

/* One-key shortcuts, seen before the focused widget (capture phase) unless that widget edits text:
 * typing in an entry or a spin button never triggers them, and a thumbnail or tab that took the
 * focus on a click does not swallow space (buttons still activate with Enter). */
static gboolean on_shortcut_key(GtkEventControllerKey *c, guint keyval, guint code,
                                GdkModifierType state, gpointer data) {
  (void)c, (void)code;
  MbWindow *win = data;
  if (state & (GDK_CONTROL_MASK | GDK_ALT_MASK | GDK_SUPER_MASK)) return FALSE;
  GtkWidget *focus = gtk_root_get_focus(GTK_ROOT(win));
  if (focus && (GTK_IS_EDITABLE(focus) || GTK_IS_TEXT_VIEW(focus))) return FALSE;
  const char *action = NULL;
  switch (keyval) {
    case GDK_KEY_space:
      action = "run-pause";
      break;
    case GDK_KEY_n:
      action = "step";
      break;
    case GDK_KEY_r:
      action = "reset";
      break;
    case GDK_KEY_a:
      action = "agent-view";
      break;
    case GDK_KEY_h:
      action = "heatmap";
      break;
    case GDK_KEY_d:
      action = "demo";
      break;
    default:
      return FALSE;
  }
  g_action_group_activate_action(G_ACTION_GROUP(win), action, NULL);
  return TRUE;
}

/* A legacy controller sees button presses without taking part in gesture recognition, so the
 * widgets below keep working (a capture-phase click gesture here stole notebook tab clicks). */
static gboolean on_any_event(GtkEventControllerLegacy *c, GdkEvent *event, gpointer data) {
  (void)c;
  MbWindow *win = data;
  if (win->demo && gdk_event_get_event_type(event) == GDK_BUTTON_PRESS)
    mb_window_set_demo(win, FALSE);
  return FALSE;
}

/* ---- GObject ----------------------------------------------------------------------------------
 */

static void mb_window_dispose(GObject *obj) {
  MbWindow *win = MB_WINDOW(obj);
  if (win->beat_source) g_source_remove(win->beat_source);
  win->beat_source = 0;
  if (win->demo_timeout) g_source_remove(win->demo_timeout);
  win->demo_timeout = 0;
  mb_window_training_dispose(win);
  mb_window_heatmap_dispose(win);
  if (win->planner) gui_planner_free(win->planner);
  win->planner = NULL;
  if (win->scene) gui_scene_free(win->scene);
  win->scene = NULL;
  gui_snapshot_unref(win->shown);
  win->shown = NULL;
  gui_scene_frame_free(win->last_frame);
  win->last_frame = NULL;
  mb_window_goals_dispose(win);
  g_clear_pointer(&win->distance_paths, g_ptr_array_unref);
  g_clear_pointer(&win->dynamics_paths, g_ptr_array_unref);
  g_clear_pointer(&win->assets, g_free);
  g_clear_pointer(&win->last_error, g_free);
  gtk_widget_dispose_template(GTK_WIDGET(win), MB_TYPE_WINDOW);
  G_OBJECT_CLASS(mb_window_parent_class)->dispose(obj);
}

static void mb_window_class_init(MbWindowClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  oc->dispose = mb_window_dispose;
  gtk_widget_class_set_template_from_resource(wc, "/org/mbold/Workbench/app/mb-window.ui");
#define BIND(name) gtk_widget_class_bind_template_child(wc, MbWindow, name)
  BIND(status_label);
  BIND(run_button);
  BIND(demo_button);
  BIND(scene_view);
  BIND(scene_info);
  BIND(outcome_label);
  BIND(goal_view);
  BIND(frame_view);
  BIND(bottom_tabs);
  BIND(filmstrip);
  BIND(histogram);
  BIND(action_plot);
  BIND(timeline_plot);
  BIND(distance_plot);
  BIND(heatmap_box);
  BIND(heatmap_grid);
  BIND(heatmap_status);
  BIND(training_page);
  BIND(planner_grid);
  BIND(readout_grid);
  BIND(gallery_label);
  BIND(gallery);
#undef BIND
  gtk_widget_class_bind_template_child_full(wc, "heatmap_button", FALSE,
                                            G_STRUCT_OFFSET(MbWindow, heatmap_button_ref));
}

static void mb_window_init(MbWindow *win) {
  mb_ui_register_types();
  gtk_widget_init_template(GTK_WIDGET(win));
  win->current_goal = -1;
  win->shown_replan = -1;
  win->scrub_step = -1;
  g_action_map_add_action_entries(G_ACTION_MAP(win), win_actions, G_N_ELEMENTS(win_actions), win);
}

MbWindow *mb_window_new(GtkApplication *app, const mb_window_options *opt) {
  MbWindow *win = g_object_new(MB_TYPE_WINDOW, "application", app, NULL);
  win->assets = g_strdup(opt->assets_dir);
  win->stats = opt->stats;
  sim_task task = SIM_TASK_PUSH1;
  if (opt->task) sim_task_parse(opt->task, &task);
  win->task = task;
  mb_image_view_set_display_size(win->goal_view, 232);
  mb_image_view_set_display_size(win->frame_view, 232);
  mb_image_view_set_placeholder(win->goal_view, "No goal yet: pick one on the right");
  mb_image_view_set_caption(win->goal_view, "Goal");
  mb_image_view_set_placeholder(win->frame_view, "The agent's view appears here");
  mb_image_view_set_caption(win->frame_view, "Now");

  win->scene = gui_scene_new(win->assets, task);
  win->planner = gui_planner_new();
  win->configuring = true;
  build_planner_panel(win);
  gtk_drop_down_set_selected(win->task_drop, (guint)task);
  win->configuring = false;
  mb_window_candidates_init(win);
  mb_window_goals_init(win);
  mb_window_heatmap_init(win);
  mb_window_training_init(win);
  mb_window_refresh_runs(win);
  if (opt->distance || opt->dynamics) mb_window_select_runs(win, opt->distance, opt->dynamics);
  connect_panel(win);

  g_signal_connect(win->scene_view, "camera-changed", G_CALLBACK(on_camera_changed), win);
  g_signal_connect(win->scene_view, "notify::render-width", G_CALLBACK(on_render_size), win);
  g_signal_connect(win->scene_view, "notify::render-height", G_CALLBACK(on_render_size), win);
  GtkEventController *keys = gtk_event_controller_key_new();
  gtk_event_controller_set_propagation_phase(keys, GTK_PHASE_CAPTURE);
  g_signal_connect(keys, "key-pressed", G_CALLBACK(on_any_key), win);
  gtk_widget_add_controller(GTK_WIDGET(win), keys);
  GtkEventController *shortcuts = gtk_event_controller_key_new();
  gtk_event_controller_set_propagation_phase(shortcuts, GTK_PHASE_CAPTURE);
  g_signal_connect(shortcuts, "key-pressed", G_CALLBACK(on_shortcut_key), win);
  gtk_widget_add_controller(GTK_WIDGET(win), shortcuts);
  GtkEventController *legacy = gtk_event_controller_legacy_new();
  gtk_event_controller_set_propagation_phase(legacy, GTK_PHASE_CAPTURE);
  g_signal_connect(legacy, "event", G_CALLBACK(on_any_event), win);
  gtk_widget_add_controller(GTK_WIDGET(win), legacy);

  gtk_widget_add_tick_callback(GTK_WIDGET(win), on_tick, win, NULL);
  if (win->stats) win->beat_source = g_timeout_add(10, on_beat, win);

  mb_window_set_task(win, task, opt->goals_dir == NULL);
  if (opt->goals_dir && g_file_test(opt->goals_dir, G_FILE_TEST_IS_REGULAR)) {
    mb_window_load_dataset_goals_async(win, opt->goals_dir); /* a dataset file */
  } else if (opt->goals_dir) {
    GError *error = NULL;
    if (!mb_window_load_suite(win, opt->goals_dir, &error)) {
      mb_window_show_error(win, "Cannot load goals", error->message);
      g_error_free(error);
    }
  }
  send_camera(win);
  return win;
}
