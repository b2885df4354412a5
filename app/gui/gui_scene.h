/* The scene renderer thread of the workbench: renders the latest true simulator state with the free
 * camera at the scene view's size (and keeps the agent camera's matrices), so the GTK main thread
 * only uploads finished pixels. Owns its own model, world and EGL renderer. */
#ifndef GUI_SCENE_H
#define GUI_SCENE_H

#include "sim_render.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct gui_scene gui_scene;

/* One rendered frame; owned by whoever took it (gui_scene_frame_free). */
typedef struct gui_scene_frame {
  uint8_t *rgb;         /* width x height x 3, top row first */
  int width, height;    /* pixels */
  float view[16];       /* free camera, column-major */
  float proj[16];       /* free camera projection for width x height */
  float agent_view[16]; /* the task's agent camera */
  float agent_proj[16]; /* agent camera projection for a square image */
  double render_ms;     /* time the render took */
  uint64_t seq;         /* increases with every frame */
} gui_scene_frame;

void gui_scene_frame_free(gui_scene_frame *f);

/* Starts the thread. The task's model is loaded on the thread; errors arrive with
 * gui_scene_take_error. */
gui_scene *gui_scene_new(const char *assets_dir, sim_task task);
void gui_scene_free(gui_scene *s);                    /* stops and joins */
void gui_scene_set_task(gui_scene *s, sim_task task); /* reloads the scene */
void gui_scene_set_state(gui_scene *s, sim_task task, const double *state, int n); /* copied */
void gui_scene_set_camera(gui_scene *s, const sim_free_camera *cam, int width, int height);
/* Frames per second to render at while `live` (e.g. while planning or training runs); otherwise a
 * frame is rendered only when the state, camera or size changed. */
void gui_scene_set_live(gui_scene *s, bool live);
/* The newest frame if there is one not taken yet (caller frees), else NULL. */
gui_scene_frame *gui_scene_take_frame(gui_scene *s);
/* A one-line error (no EGL, bad scene) not yet reported, or NULL; caller g_frees. */
char *gui_scene_take_error(gui_scene *s);
/* The default free camera of the current scene (valid once the scene loaded). */
bool gui_scene_default_camera(gui_scene *s, sim_free_camera *cam);
/* Frames rendered per second over the last second, and the mean render time (ms). */
void gui_scene_rates(gui_scene *s, double *fps, double *render_ms);

#endif
