/* What the planner thinks: each CEM iteration's elites as filmstrips with their costs, the cost
 * histogram of all samples per iteration, the action mean and std over the horizon, the episode
 * timeline with its scrubber, and the scene overlays (executed path, elite paths, goal marker). */
#include "mb-window-private.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const action_names[4] = {"dx", "dy", "dz", "gripper"};

/* The replan whose candidates are shown: the one current at the scrubbed step, else the latest. */
static const gui_replan *shown_replan(MbWindow *win, const gui_snapshot *s) {
  if (!s->ready || s->replans == 0) return NULL;
  int idx = s->replans - 1;
  if (win->scrub_step >= 0 && win->scrub_step <= s->step && s->step_replan[win->scrub_step] >= 0)
    idx = s->step_replan[win->scrub_step];
  return idx >= 0 && idx < s->replans ? s->replan[idx] : NULL;
}

static void on_frame_clicked(MbFilmstrip *strip, int group, int row, int column, MbWindow *win) {
  (void)strip;
  const gui_snapshot *s = win->shown;
  const gui_replan *rp = s ? shown_replan(win, s) : NULL;
  if (!rp || group < 0 || group >= rp->iterations) return;
  const cem_trace *t = rp->traces[group];
  if (!t->elite_frames || row < 0 || row >= t->elites || column < 0 || column >= t->horizon) return;
  const uint8_t *frame = t->elite_frames + ((size_t)row * t->horizon + column) * SIM_IMAGE_BYTES;
  mb_image_view_set_image(win->frame_view, frame, SIM_IMAGE_SIZE, SIM_IMAGE_SIZE,
                          SIM_IMAGE_SIZE * 3);
  char cap[128];
  snprintf(cap, sizeof cap, "Predicted: iteration %d, elite %d, frame %d (cost %.4g)", group + 1,
           row + 1, column + 1, t->costs[t->elite_idx[row]]);
  mb_image_view_set_caption(win->frame_view, cap);
}

static void on_cursor_moved(MbPlot *plot, double x, MbWindow *win) {
  (void)plot;
  const gui_snapshot *s = win->shown;
  if (!s || !s->ready) return;
  int step = (int)lround(x);
  if (step < 0) step = 0;
  if (step > s->step) step = s->step;
  win->scrub_step = step == s->step && !s->running ? -1 : step;
  if (s->running) win->scrub_step = -1; /* live while running */
  mb_window_candidates_update(win, s, true);
  mb_window_overlays_update(win, s);
  mb_image_view_set_image(win->frame_view, s->frames[step], SIM_IMAGE_SIZE, SIM_IMAGE_SIZE,
                          SIM_IMAGE_SIZE * 3);
  char cap[64];
  snprintf(cap, sizeof cap, "Replay: step %d", step);
  mb_image_view_set_caption(win->frame_view, cap);
}

void mb_window_candidates_init(MbWindow *win) {
  mb_filmstrip_set_frame_size(win->filmstrip, 44); /* 13 frames fit beside the histogram */
  g_signal_connect(win->filmstrip, "frame-clicked", G_CALLBACK(on_frame_clicked), win);
  mb_histogram_set_title(win->histogram, "Costs of all samples");
  mb_histogram_set_axis_labels(win->histogram, "cost", "samples");
  mb_plot_set_title(win->action_plot, "Action mean ± std over the horizon");
  mb_plot_set_axis_labels(win->action_plot, "step of the plan", "action");
  mb_plot_set_title(win->timeline_plot, "Planner's predicted cost per step");
  mb_plot_set_axis_labels(win->timeline_plot, "episode step", "best plan cost");
  mb_plot_set_title(win->distance_plot, "True distance to the goal (drag to replay)");
  mb_plot_set_axis_labels(win->distance_plot, "episode step", "cm");
  mb_plot_set_cursor_visible(win->distance_plot, TRUE);
  g_signal_connect(win->distance_plot, "cursor-moved", G_CALLBACK(on_cursor_moved), win);
}

void mb_window_candidates_update(MbWindow *win, const gui_snapshot *s, bool force) {
  const gui_replan *rp = shown_replan(win, s);
  int idx = rp ? rp->index : -1, iters = rp ? rp->iterations : 0;
  if (!force && idx == win->shown_replan && iters == win->shown_iterations) return;
  win->shown_replan = idx;
  win->shown_iterations = iters;
  mb_filmstrip_clear(win->filmstrip);
  mb_histogram_clear(win->histogram);
  mb_plot_clear(win->action_plot);
  if (!rp || rp->iterations == 0) return; /* a replan that has just begun */
  char title[128];
  for (int it = 0; it < rp->iterations; it++) {
    const cem_trace *t = rp->traces[it];
    snprintf(title, sizeof title, "Replan %d from step %d, iteration %d: best %.4g, %.0f ms",
             rp->index + 1, rp->step, it + 1, t->costs[t->elite_idx[0]], 1000 * t->seconds);
    int g = mb_filmstrip_add_group(win->filmstrip, title);
    int frames = t->horizon < MB_FILMSTRIP_MAX_FRAMES ? t->horizon : MB_FILMSTRIP_MAX_FRAMES;
    for (int e = 0; e < t->elites && t->elite_frames; e++)
      mb_filmstrip_add_row(win->filmstrip, g, t->costs[t->elite_idx[e]],
                           t->elite_frames + (size_t)e * t->horizon * SIM_IMAGE_BYTES, frames,
                           SIM_IMAGE_SIZE, SIM_IMAGE_SIZE, SIM_IMAGE_SIZE * 3);
    snprintf(title, sizeof title, "iteration %d", it + 1);
    /* NaN costs (a broken prediction) are left out of the histogram. */
    float costs[4096];
    int n = 0;
    for (int i = 0; i < t->samples && n < 4096; i++)
      if (isfinite(t->costs[i])) costs[n++] = t->costs[i];
    mb_histogram_add_series(win->histogram, title, costs, n);
  }
  const cem_trace *last = rp->traces[rp->iterations - 1];
  int h = last->horizon, a = last->act_dim;
  float x[64], mean[64], std[64];
  for (int d = 0; d < a && d < 4; d++) {
    for (int k = 0; k < h && k < 64; k++) {
      x[k] = (float)(k + 1);
      mean[k] = last->mean[k * a + d];
      std[k] = last->std[k * a + d];
    }
    int series = mb_plot_add_series(win->action_plot, action_names[d], x, mean, h < 64 ? h : 64);
    mb_plot_set_series_std(win->action_plot, series, std, h < 64 ? h : 64);
  }
  mb_plot_set_y_range(win->action_plot, -1.2, 1.2);
}

void mb_window_timeline_update(MbWindow *win, const gui_snapshot *s) {
  if (win->shown_episode == s->episode_id && win->shown_step == s->step && win->shown &&
      win->shown->ready == s->ready)
    return;
  win->shown_episode = s->episode_id;
  win->shown_step = s->step;
  mb_plot_clear(win->timeline_plot);
  mb_plot_clear(win->distance_plot);
  if (!s->ready) return;
  int n = s->step;
  float x[GUI_MAX_STEPS + 1], cost[GUI_MAX_STEPS + 1], dist[GUI_MAX_STEPS + 1];
  for (int i = 0; i < n; i++) {
    x[i] = (float)(i + 1);
    cost[i] = s->records[i].predicted_cost;
    dist[i] = (float)(100 * s->records[i].goal_distance);
  }
  mb_plot_set_axis_labels(win->timeline_plot, "episode step",
                          s->cost == APP_COST_PIXEL ? "pixel MSE" : "steps to the goal");
  mb_plot_set_x_range(win->timeline_plot, 0, s->episode_steps);
  mb_plot_set_x_range(win->distance_plot, 0, s->episode_steps);
  if (n > 0) mb_plot_add_series(win->timeline_plot, "predicted (best plan)", x, cost, n);
  if (n > 0 && s->have_goal_pos) {
    mb_plot_add_series(win->distance_plot, "object to goal", x, dist, n);
    float tx[2] = {0, (float)s->episode_steps};
    const sim_task_info *info = sim_task_get(s->task);
    float thr = info ? (float)(100 * info->success_threshold) : 5;
    float ty[2] = {thr, thr};
    int t = mb_plot_add_series(win->distance_plot, "success radius", tx, ty, 2);
    mb_plot_set_series_dashed(win->distance_plot, t, TRUE);
  }
  if (win->scrub_step < 0) mb_plot_set_cursor_x(win->distance_plot, n);
}

void mb_window_overlays_update(MbWindow *win, const gui_snapshot *s) {
  if (!s->ready) {
    mb_scene_view_set_paths(win->scene_view, "executed", NULL, 0);
    mb_scene_view_set_paths(win->scene_view, "candidates", NULL, 0);
    mb_scene_view_set_markers(win->scene_view, NULL, 0);
    return;
  }
  int upto = win->scrub_step >= 0 && win->scrub_step <= s->step ? win->scrub_step : s->step;
  MbScenePath exec = {.points = &s->ee[0][0], .n_points = upto + 1, .width = 3};
  gdk_rgba_parse(&exec.color, "rgba(255,200,40,0.95)");
  mb_scene_view_set_paths(win->scene_view, "executed", &exec, 1);

  const gui_replan *rp = shown_replan(win, s);
  MbScenePath paths[64];
  int n = 0;
  if (rp && rp->iterations > 0 && rp->elite_paths[rp->iterations - 1]) {
    const cem_trace *t = rp->traces[rp->iterations - 1];
    for (int e = t->elites - 1; e >= 0 && n < 64; e--) { /* best drawn last, on top */
      MbScenePath *p = &paths[n++];
      p->points = rp->elite_paths[rp->iterations - 1] + (size_t)e * (t->horizon + 1) * 3;
      p->n_points = t->horizon + 1;
      p->width = e == 0 ? 3 : 1.5f;
      gdk_rgba_parse(&p->color, e == 0 ? "rgba(80,220,255,1)" : "rgba(80,200,255,0.45)");
    }
  }
  mb_scene_view_set_paths(win->scene_view, "candidates", paths, n);

  if (s->have_goal_pos) {
    MbSceneMarker m = {.radius = 12, .shape = MB_MARKER_RING_CROSS};
    const double *p = s->target >= 0 ? s->goal_pos.object[s->target] : s->goal_pos.ee;
    if (s->task == SIM_TASK_DOOR) p = s->goal_pos.ee; /* the slide is a scalar, not a place */
    for (int d = 0; d < 3; d++) m.position[d] = (float)p[d];
    gdk_rgba_parse(&m.color, "rgba(60,230,120,1)");
    mb_scene_view_set_markers(win->scene_view, &m, 1);
  } else {
    mb_scene_view_set_markers(win->scene_view, NULL, 0);
  }
}
