/* The goal picker: goals from a suite, from dataset episodes (final frame, started from the
 * episode's own start state), captured from the current scene, or loaded from a PNG. */
#include "mb-window-private.h"

#include "sim_dataset.h"
#include "sim_png.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DATASET_GOALS 24 /* val episodes offered as goals */

static GQuark goals_error_quark(void) {
  return g_quark_from_static_string("mb-goals-error");
}

void mb_window_show_error(MbWindow *win, const char *title, const char *message) {
  g_free(win->last_error);
  win->last_error = g_strdup(message);
  win->errors_shown++;
  GtkWidget *dialog =
      gtk_message_dialog_new(GTK_WINDOW(win), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                             GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE, "%s", title);
  gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(dialog), "%s", message);
  g_signal_connect(dialog, "response", G_CALLBACK(gtk_window_destroy), NULL);
  gtk_window_present(GTK_WINDOW(dialog));
  mb_window_write_test_state(win);
}

static void clear_goals(MbWindow *win) {
  for (int i = 0; i < win->n_goals; i++) free(win->goals[i].start);
  win->n_goals = 0;
  win->current_goal = -1;
  mb_goal_gallery_clear(win->gallery);
}

static mb_goal_entry *add_goal(MbWindow *win) {
  if (!win->goals) win->goals = calloc(MB_MAX_GOALS, sizeof(mb_goal_entry));
  if (!win->goals || win->n_goals >= MB_MAX_GOALS) return NULL;
  mb_goal_entry *g = &win->goals[win->n_goals++];
  memset(g, 0, sizeof *g);
  g->target = -1;
  return g;
}

static void show_goal_in_gallery(MbWindow *win, const mb_goal_entry *g) {
  mb_goal_gallery_append(win->gallery, g->image, SIM_IMAGE_SIZE, SIM_IMAGE_SIZE, SIM_IMAGE_SIZE * 3,
                         g->label);
}

void mb_window_pick_goal(MbWindow *win, int index) {
  if (index < 0 || index >= win->n_goals) return;
  const mb_goal_entry *g = &win->goals[index];
  win->current_goal = index;
  mb_goal_gallery_set_selected(win->gallery, index);
  gui_planner_set_goal(win->planner, g->image, g->have_pos ? &g->pos : NULL, g->target, g->start,
                       g->start_size);
  mb_window_heatmap_goal_changed(win);
}

static void on_goal_picked(MbGoalGallery *gallery, int index, MbWindow *win) {
  (void)gallery;
  if (win->demo) mb_window_set_demo(win, FALSE);
  mb_window_pick_goal(win, index);
}

void mb_window_goals_init(MbWindow *win) {
  g_signal_connect(win->gallery, "goal-picked", G_CALLBACK(on_goal_picked), win);
}

void mb_window_goals_dispose(MbWindow *win) {
  if (win->goals) {
    for (int i = 0; i < win->n_goals; i++) free(win->goals[i].start);
    free(win->goals);
  }
  win->goals = NULL;
  win->n_goals = 0;
  g_clear_pointer(&win->suite_dir, g_free);
}

bool mb_window_load_suite(MbWindow *win, const char *dir, GError **error) {
  char err[1024];
  sim_suite *s = sim_suite_load(dir, -1, err, sizeof err);
  if (!s) {
    g_set_error(error, goals_error_quark(), 1, "%s", err);
    return false;
  }
  /* A suite of another task switches the workbench to that task. */
  if (s->task != win->task) mb_window_set_task(win, s->task, false);
  clear_goals(win);
  int loaded = 0;
  for (int i = 0; i < s->count; i++) {
    mb_goal_entry *g = add_goal(win);
    if (!g) break;
    if (!sim_suite_goal_image(s, i, g->image, err, sizeof err)) {
      win->n_goals--;
      g_set_error(error, goals_error_quark(), 2, "%s", err);
      clear_goals(win);
      sim_suite_free(s);
      return false;
    }
    g->have_pos = true;
    g->pos = s->goals[i].goal;
    g->target = s->goals[i].target;
    g->start_size = s->state_size;
    g->start = malloc(sizeof(double) * (size_t)s->state_size);
    memcpy(g->start, s->goals[i].start_state, sizeof(double) * (size_t)s->state_size);
    snprintf(g->label, sizeof g->label, "goal %d", i);
    show_goal_in_gallery(win, g);
    loaded++;
  }
  char *base = g_path_get_basename(dir);
  char text[256];
  snprintf(text, sizeof text, "%s: %d %s%s goals", base, loaded, sim_task_name(s->task),
           s->hard ? " hard" : "");
  gtk_label_set_text(win->gallery_label, text);
  g_free(base);
  g_free(win->suite_dir);
  win->suite_dir = g_strdup(dir);
  sim_suite_free(s);
  return true;
}

/* Goals read from a dataset, off the main thread: the last frames of up to DATASET_GOALS episodes
 * of its val split (train when it has none). Plain data, no GTK. */
typedef struct dataset_goals {
  char *path;       /* the file */
  sim_task task;    /* its task */
  sim_split split;  /* where the episodes came from */
  int count;        /* goals read */
  mb_goal_entry *g; /* [count], start states owned */
  char err[1024];   /* why reading failed */
} dataset_goals;

static void dataset_goals_free(dataset_goals *dg) {
  if (!dg) return;
  for (int i = 0; i < dg->count; i++) free(dg->g[i].start);
  free(dg->g);
  g_free(dg->path);
  free(dg);
}

/* HDF5 as Debian builds it is not thread-safe: one reader at a time (the workbench opens datasets
 * only here; collection and training run as child processes). */
G_LOCK_DEFINE_STATIC(dataset_read);

/* Reads the goals; false with dg->err. */
static bool read_dataset_goals(dataset_goals *dg) {
  char *err = dg->err;
  size_t err_sz = sizeof dg->err;
  G_LOCK(dataset_read);
  sim_dataset *ds = sim_dataset_open(dg->path, err, err_sz);
  if (!ds) {
    G_UNLOCK(dataset_read);
    return false;
  }
  const sim_dataset_meta *meta = sim_dataset_get_meta(ds);
  dg->task = meta->task;
  dg->split = sim_dataset_split_episodes(ds, SIM_SPLIT_VAL, NULL) ? SIM_SPLIT_VAL : SIM_SPLIT_TRAIN;
  int64_t n = sim_dataset_split_episodes(ds, dg->split, NULL);
  int64_t *eps = malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1));
  if (eps) sim_dataset_split_episodes(ds, dg->split, eps);
  int k = meta->num_objects, take = n < DATASET_GOALS ? (int)n : DATASET_GOALS;
  uint8_t *images = malloc(sim_dataset_episode_bytes(ds, SIM_DS_IMAGES));
  float *ee = malloc(sim_dataset_episode_bytes(ds, SIM_DS_EE_POS));
  float *obj = k ? malloc(sim_dataset_episode_bytes(ds, SIM_DS_OBJECT_POS)) : NULL;
  double *start = malloc(sim_dataset_episode_bytes(ds, SIM_DS_START_STATE));
  dg->g = calloc(take > 0 ? (size_t)take : 1, sizeof *dg->g);
  bool ok = n > 0 && eps && images && ee && start && (!k || obj) && dg->g;
  if (n <= 0)
    snprintf(err, err_sz, "%s: the dataset has no episodes", dg->path);
  else if (!ok)
    snprintf(err, err_sz, "out of memory");
  int last = SIM_EPISODE_FRAMES - 1;
  for (int i = 0; ok && i < take; i++) {
    ok = sim_dataset_read(ds, SIM_DS_IMAGES, eps[i], 1, images, err, err_sz) &&
         sim_dataset_read(ds, SIM_DS_EE_POS, eps[i], 1, ee, err, err_sz) &&
         (!k || sim_dataset_read(ds, SIM_DS_OBJECT_POS, eps[i], 1, obj, err, err_sz)) &&
         sim_dataset_read(ds, SIM_DS_START_STATE, eps[i], 1, start, err, err_sz);
    if (!ok) break;
    mb_goal_entry *g = &dg->g[dg->count++];
    g->target = -1;
    memcpy(g->image, images + (size_t)last * SIM_IMAGE_BYTES, SIM_IMAGE_BYTES);
    g->have_pos = true;
    for (int d = 0; d < 3; d++) g->pos.ee[d] = ee[last * 3 + d];
    double moved = -1;
    for (int o = 0; o < k; o++) {
      double m2 = 0;
      for (int d = 0; d < 3; d++) {
        g->pos.object[o][d] = obj[(last * k + o) * 3 + d];
        double dd = obj[(last * k + o) * 3 + d] - obj[o * 3 + d];
        m2 += dd * dd;
      }
      if (m2 > moved) moved = m2, g->target = o; /* the block this episode moved most */
    }
    g->start_size = meta->state_size;
    g->start = malloc(sizeof(double) * (size_t)meta->state_size);
    if (!g->start) {
      snprintf(err, err_sz, "out of memory");
      ok = false;
      break;
    }
    memcpy(g->start, start, sizeof(double) * (size_t)meta->state_size);
    snprintf(g->label, sizeof g->label, "ep %lld", (long long)eps[i]);
  }
  free(images), free(ee), free(obj), free(start), free(eps);
  sim_dataset_close(ds);
  G_UNLOCK(dataset_read);
  return ok;
}

/* Replaces the gallery with the goals read (their start states move to the window). */
static void apply_dataset_goals(MbWindow *win, dataset_goals *dg) {
  if (dg->task != win->task) mb_window_set_task(win, dg->task, false);
  clear_goals(win);
  for (int i = 0; i < dg->count; i++) {
    mb_goal_entry *g = add_goal(win);
    if (!g) break;
    *g = dg->g[i];
    dg->g[i].start = NULL;
    show_goal_in_gallery(win, g);
  }
  char *base = g_path_get_basename(dg->path);
  char text[256];
  snprintf(text, sizeof text, "%s: last frames of %d %s episodes", base, win->n_goals,
           sim_split_name(dg->split));
  gtk_label_set_text(win->gallery_label, text);
  g_free(base);
}

static void read_dataset_goals_thread(GTask *task, gpointer source, gpointer data,
                                      GCancellable *cancel) {
  (void)source, (void)cancel;
  dataset_goals *dg = data;
  g_task_return_boolean(task, read_dataset_goals(dg));
}

static void dataset_goals_read(GObject *source, GAsyncResult *res, gpointer data) {
  (void)data;
  MbWindow *win = MB_WINDOW(source);
  dataset_goals *dg = g_task_get_task_data(G_TASK(res));
  win->loading_goals = false;
  if (!gtk_widget_get_realized(GTK_WIDGET(win))) return; /* closed meanwhile */
  if (g_task_propagate_boolean(G_TASK(res), NULL))
    apply_dataset_goals(win, dg);
  else {
    gtk_label_set_text(win->gallery_label, "");
    mb_window_show_error(win, "Cannot load goals", dg->err);
  }
  mb_window_write_test_state(win);
}

void mb_window_load_dataset_goals_async(MbWindow *win, const char *path) {
  if (win->loading_goals) return; /* one load at a time */
  dataset_goals *dg = calloc(1, sizeof *dg);
  if (!dg) {
    mb_window_show_error(win, "Cannot load goals", "out of memory");
    return;
  }
  dg->path = g_strdup(path);
  win->loading_goals = true;
  char *base = g_path_get_basename(path), text[256];
  snprintf(text, sizeof text, "Reading goals from %s...", base);
  g_free(base);
  gtk_label_set_text(win->gallery_label, text);
  /* The task holds the window until the read is back, so the callback always has it. */
  GTask *task = g_task_new(win, NULL, dataset_goals_read, NULL);
  g_task_set_task_data(task, dg, (GDestroyNotify)dataset_goals_free);
  g_task_run_in_thread(task, read_dataset_goals_thread);
  g_object_unref(task);
}

bool mb_window_open_goal_png(MbWindow *win, const char *path, GError **error) {
  char err[1024];
  uint8_t image[SIM_IMAGE_BYTES];
  if (!sim_png_read_goal(path, image, err, sizeof err)) {
    g_set_error(error, goals_error_quark(), 1, "%s", err);
    return false;
  }
  mb_goal_entry *g = add_goal(win);
  if (!g) {
    g_set_error(error, goals_error_quark(), 3, "too many goals in the gallery (%d)", MB_MAX_GOALS);
    return false;
  }
  memcpy(g->image, image, SIM_IMAGE_BYTES);
  char *base = g_path_get_basename(path);
  snprintf(g->label, sizeof g->label, "%s", base);
  g_free(base);
  show_goal_in_gallery(win, g);
  mb_window_pick_goal(win, win->n_goals - 1);
  return true;
}

void mb_window_capture_goal(MbWindow *win) {
  const gui_snapshot *s = win->shown;
  if (!s || !s->have_now) {
    mb_window_show_error(win, "No scene yet", "The simulator is still loading.");
    return;
  }
  mb_goal_entry *g = add_goal(win);
  if (!g) return;
  memcpy(g->image, s->now, SIM_IMAGE_BYTES);
  g->have_pos = true;
  g->pos = s->now_pos;
  g->target = -1;
  snprintf(g->label, sizeof g->label, "captured %d", win->n_goals);
  show_goal_in_gallery(win, g);
  win->current_goal = win->n_goals - 1;
  mb_goal_gallery_set_selected(win->gallery, win->current_goal);
  /* The goal is the state now: the episode starts here; reset or move a block to make it a task. */
  gui_planner_set_goal(win->planner, g->image, &g->pos, g->target, NULL, 0);
  mb_window_heatmap_goal_changed(win);
}
