/* MbWindow's state, shared by the files that implement its parts (window-*.c): the goals, the
 * candidates and timeline, the heatmap, training jobs, the demo mode and exports. Only the GTK main
 * thread touches it; the workers (gui_scene, gui_planner, heatmap and job threads) are reached
 * through their own thread-safe interfaces. */
#ifndef MB_WINDOW_PRIVATE_H
#define MB_WINDOW_PRIVATE_H

#include "mb-window.h"

#include "gui_planner.h"
#include "gui_scene.h"
#include "mb-ui.h"
#include "runner.h"
#include "mb_json.h"
#include "sim_goals.h"

#define MB_MAX_GOALS 512

/* A goal the gallery offers. */
typedef struct mb_goal_entry {
  uint8_t image[SIM_IMAGE_BYTES]; /* goal image */
  bool have_pos;                  /* positions known */
  sim_positions pos;              /* goal positions */
  int target;                     /* goal object (-1: hand / unknown) */
  double *start;                  /* state to start from (owned), NULL: keep the current one */
  int start_size;                 /* its length */
  char label[64];                 /* thumbnail label */
} mb_goal_entry;

typedef struct mb_jobs mb_jobs;
typedef struct mb_heatmaps mb_heatmaps;

struct _MbWindow {
  GtkApplicationWindow parent;

  /* template children */
  GtkLabel *status_label;
  GtkButton *run_button;
  GtkToggleButton *demo_button;
  MbSceneView *scene_view;
  GtkLabel *scene_info;
  GtkLabel *outcome_label;
  MbImageView *goal_view;
  MbImageView *frame_view;
  GtkNotebook *bottom_tabs;
  MbFilmstrip *filmstrip;
  MbHistogram *histogram;
  MbPlot *action_plot;
  MbPlot *timeline_plot;
  MbPlot *distance_plot;
  GtkBox *heatmap_box;
  GtkSpinButton *heatmap_grid;
  GtkLabel *heatmap_status;
  GtkBox *training_page;
  GtkGrid *planner_grid;
  GtkGrid *readout_grid;
  GtkWidget *heatmap_button_ref;
  GtkLabel *gallery_label;
  MbGoalGallery *gallery;

  /* planner panel */
  GtkDropDown *task_drop;
  GtkDropDown *dynamics_drop;
  GtkDropDown *cost_drop;
  GtkDropDown *distance_drop;
  GtkSpinButton *samples_spin, *iterations_spin, *elites_spin, *horizon_spin, *per_plan_spin;
  GtkSpinButton *seed_spin;
  GtkScale *playback_scale;
  GtkStringList *distance_runs; /* labels of the distance dropdown */
  GtkStringList *dynamics_runs; /* labels of the dynamics dropdown */
  GPtrArray *distance_paths;    /* run folders, parallel to distance_runs (index 0: none) */
  GPtrArray *dynamics_paths;    /* parallel to dynamics_runs (index 0: oracle) */

  /* readouts */
  GtkLabel *ro_step, *ro_cost, *ro_true, *ro_success, *ro_plan, *ro_fps;

  /* workers */
  gui_scene *scene;
  gui_planner *planner;
  char *assets;     /* assets folder */
  sim_task task;    /* current task */
  bool configuring; /* suppress widget callbacks while filling widgets */

  /* what the widgets show */
  gui_snapshot *shown;         /* the snapshot drawn last (ref) */
  uint64_t shown_scene_seq;    /* scene frame drawn last */
  int shown_replan;            /* replan index the candidates panel shows (-1 none) */
  int shown_iterations;        /* its iterations shown */
  uint64_t shown_episode;      /* episode the timeline shows */
  int shown_step;              /* step the timeline shows */
  uint64_t shown_error_seq;    /* last error reported */
  int scrub_step;              /* -1: live; else the step the scrubber shows */
  gui_scene_frame *last_frame; /* newest scene frame (for screenshots) */
  bool camera_set;             /* the scene's default camera was applied */
  char *last_error;            /* last error shown to the user */
  int errors_shown;            /* error dialogs shown */
  bool loading_goals;          /* a dataset's goals are being read on a worker thread */

  /* goals */
  mb_goal_entry *goals; /* (n_goals) */
  int n_goals;          /* used */
  int current_goal;     /* index, -1 none */
  char *suite_dir;      /* loaded suite folder or NULL */

  /* parts */
  mb_jobs *jobs;                 /* training / collection jobs */
  mb_heatmaps *heatmaps;         /* the heatmap tab */
  bool demo;                     /* demo mode on */
  int demo_goal;                 /* goal the demo runs */
  int demo_successes, demo_runs; /* running count */
  guint demo_timeout;            /* pause between demo goals */
  uint64_t demo_episode;         /* episode the demo started */
  bool demo_waiting;             /* the demo's goal was sent; its episode has not started yet */
  bool demo_counted;             /* the demo episode's outcome was counted */

  /* --stats */
  bool stats;               /* measure and print on exit */
  gint64 last_tick_us;      /* previous frame-clock tick */
  gint64 last_beat_us;      /* previous heartbeat */
  double max_stall_ms;      /* longest main-loop stall while planning */
  double max_stall_idle_ms; /* longest while not planning */
  double fps_sum;           /* scene fps samples while planning */
  int fps_samples;          /* their count */
  double scene_fps_max;     /* best one-second scene fps */
  guint beat_source;        /* heartbeat timer */
};

/* window-goals.c */
void mb_window_goals_init(MbWindow *win);
void mb_window_goals_dispose(MbWindow *win);
bool mb_window_load_suite(MbWindow *win, const char *dir, GError **error);
/* Goals from a dataset: the last frames of up to 24 episodes of its val split (train when it has
 * none), read on a worker thread (a large file takes a few hundred ms); the gallery says it is
 * reading, then shows the goals, or an error dialog names what is wrong. */
void mb_window_load_dataset_goals_async(MbWindow *win, const char *path);
bool mb_window_open_goal_png(MbWindow *win, const char *path, GError **error);
void mb_window_pick_goal(MbWindow *win, int index);
void mb_window_capture_goal(MbWindow *win);
void mb_window_show_error(MbWindow *win, const char *title, const char *message);

/* window-candidates.c */
void mb_window_candidates_init(MbWindow *win);
void mb_window_candidates_update(MbWindow *win, const gui_snapshot *s, bool force);
void mb_window_timeline_update(MbWindow *win, const gui_snapshot *s);
void mb_window_overlays_update(MbWindow *win, const gui_snapshot *s);

/* window-heatmap.c */
void mb_window_heatmap_init(MbWindow *win);
void mb_window_heatmap_dispose(MbWindow *win);
void mb_window_heatmap_compute(MbWindow *win);
void mb_window_heatmap_tick(MbWindow *win);
int mb_window_heatmap_cells_done(MbWindow *win);
/* Saves the side-by-side heatmap PNG at path and the CSV beside it (.csv). */
gboolean mb_window_heatmap_save(MbWindow *win, const char *path, GError **error);
void mb_window_heatmap_goal_changed(MbWindow *win);

/* window-training.c */
void mb_window_training_init(MbWindow *win);
void mb_window_training_dispose(MbWindow *win);
void mb_window_training_tick(MbWindow *win);
int mb_window_running_jobs(MbWindow *win);
void mb_window_cancel_jobs(MbWindow *win);
void mb_window_refresh_runs(MbWindow *win);
/* Selects the given run folders in the model choosers (adding them if not listed). */
void mb_window_select_runs(MbWindow *win, const char *distance, const char *dynamics);
void mb_window_training_test_rects(MbWindow *win, mb_jw *w);
void mb_window_training_test_state(MbWindow *win, mb_jw *w);

/* window-demo.c */
void mb_window_demo_start(MbWindow *win);
void mb_window_demo_stop(MbWindow *win);
void mb_window_demo_tick(MbWindow *win, const gui_snapshot *s);

/* window-export.c */
void mb_window_export_scene(MbWindow *win);
void mb_window_export_heatmap(MbWindow *win);
void mb_window_export_filmstrip(MbWindow *win);

/* mb-window.c */
void mb_window_apply_config(MbWindow *win);
app_runner_config mb_window_current_config(MbWindow *win);
/* Switches task (scene, planner); load_default_suite: show the task's shipped goal suite. */
void mb_window_set_task(MbWindow *win, sim_task task, bool load_default_suite);
/* Adds "name": [x, y, w, h] of widget in window-surface coordinates to the open JSON object. */
void mb_window_json_rect(MbWindow *win, mb_jw *w, const char *name, GtkWidget *widget);
/* Writes the test/automation state file (MBOLD_TEST_STATE), if asked for. */
void mb_window_write_test_state(MbWindow *win);

#endif
