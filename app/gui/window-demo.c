/* Demo mode: cycles through the goal gallery on its own (each goal from its start state, the
 * planner's candidates live, the outcome and a running success count), for talks and booth demos.
 * Any key or click stops it. */
#include "mb-window-private.h"

#include <stdio.h>

#define DEMO_PAUSE_MS 2500 /* outcome shown before the next goal */

static void demo_run_goal(MbWindow *win) {
  if (win->n_goals == 0) return;
  win->demo_goal %= win->n_goals;
  win->demo_episode = win->shown ? win->shown->episode_id : 0;
  win->demo_counted = false;
  win->demo_waiting = true;
  gtk_widget_set_visible(GTK_WIDGET(win->outcome_label), FALSE);
  mb_window_pick_goal(win, win->demo_goal);
  gui_planner_run(win->planner);
}

static gboolean on_demo_next(gpointer data) {
  MbWindow *win = data;
  win->demo_timeout = 0;
  if (!win->demo) return G_SOURCE_REMOVE;
  win->demo_goal++;
  demo_run_goal(win);
  return G_SOURCE_REMOVE;
}

void mb_window_demo_start(MbWindow *win) {
  if (win->n_goals == 0) {
    mb_window_show_error(win, "No goals for the demo", "Load a goal suite first.");
    return;
  }
  win->demo = true;
  win->demo_runs = win->demo_successes = 0;
  win->demo_goal = win->current_goal >= 0 ? win->current_goal : 0;
  demo_run_goal(win);
}

void mb_window_demo_stop(MbWindow *win) {
  win->demo = false;
  if (win->demo_timeout) g_source_remove(win->demo_timeout);
  win->demo_timeout = 0;
  gui_planner_pause(win->planner);
  gtk_widget_set_visible(GTK_WIDGET(win->outcome_label), FALSE);
}

void mb_window_demo_tick(MbWindow *win, const gui_snapshot *s) {
  if (!win->demo) return;
  if (win->demo_waiting) {
    /* The goal's new episode has started once the snapshot's episode id moves on. */
    if (s->episode_id == win->demo_episode) return;
    win->demo_episode = s->episode_id;
    win->demo_waiting = false;
  }
  if (s->episode_id != win->demo_episode || win->demo_counted) return;
  if (!s->ready || s->step < s->episode_steps || s->running || s->planning) return;
  win->demo_counted = true;
  win->demo_runs++;
  win->demo_successes += s->success;
  char text[256];
  if (s->have_goal_pos)
    snprintf(text, sizeof text, "Goal %d: %s (%.1f cm)   ·   %d of %d reached", win->demo_goal,
             s->success ? "reached" : "missed", 100 * s->goal_distance, win->demo_successes,
             win->demo_runs);
  else
    snprintf(text, sizeof text, "Goal %d done   ·   %d goals shown", win->demo_goal,
             win->demo_runs);
  gtk_label_set_text(win->outcome_label, text);
  gtk_widget_remove_css_class(GTK_WIDGET(win->outcome_label), "mb-success");
  gtk_widget_remove_css_class(GTK_WIDGET(win->outcome_label), "mb-failure");
  gtk_widget_add_css_class(GTK_WIDGET(win->outcome_label),
                           s->success ? "mb-success" : "mb-failure");
  gtk_widget_set_visible(GTK_WIDGET(win->outcome_label), TRUE);
  win->demo_timeout = g_timeout_add(DEMO_PAUSE_MS, on_demo_next, win);
}
