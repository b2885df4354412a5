/* MbWindow: the workbench's main window. It wires the ui/ widgets to the scene renderer thread,
 * the planner thread, the heatmap worker and training jobs. */
#ifndef MB_WINDOW_H
#define MB_WINDOW_H

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MB_TYPE_WINDOW (mb_window_get_type())
G_DECLARE_FINAL_TYPE(MbWindow, mb_window, MB, WINDOW, GtkApplicationWindow)

typedef struct mb_window_options {
  const char *assets_dir; /* scenes, default goal suites */
  const char *task;       /* initial task name (NULL: push1) */
  const char *goals_dir;  /* a goal suite folder or a dataset file to load goals from (NULL: the
                             task's default suite) */
  const char *distance;   /* a distance run to select (may be NULL) */
  const char *dynamics;   /* a dynamics run to select (may be NULL) */
  gboolean stats;         /* measure frame rate and main-loop stalls; print them on exit */
} mb_window_options;

MbWindow *mb_window_new(GtkApplication *app, const mb_window_options *opt);
/* Starts / stops the demo mode (also the win.demo action). */
void mb_window_set_demo(MbWindow *win, gboolean on);
/* Prints the --stats report (scene fps, longest main-loop stall) to stdout. */
void mb_window_print_stats(MbWindow *win);
/* Number of jobs still running (the app asks before quitting). */
int mb_window_jobs_running(MbWindow *win);
void mb_window_cancel_all_jobs(MbWindow *win);

G_END_DECLS

#endif
