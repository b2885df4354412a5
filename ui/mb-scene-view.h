/* MbSceneView: the live scene. Shows RGB frames rendered elsewhere (by the app, off the main
 * thread) scaled to the widget, owns a MuJoCo-style free camera that the mouse moves, and draws
 * overlays (3D polylines and markers) projected with the camera matrices of the frame shown.
 *
 * Mouse: left-drag orbits, right-drag or shift+left-drag pans, the scroll wheel zooms (not in
 * agent view, whose camera is fixed).
 *
 * Properties:
 *   "lookat-x", "lookat-y", "lookat-z", "distance", "azimuth", "elevation" (double, read-write):
 *       the free camera, with MuJoCo's meaning (degrees; elevation < 0 looks down).
 *   "agent-view" (boolean, read-write): show a small agent image (e.g. 64x64) upscaled with nearest
 *       neighbour instead of the free camera's frame; the app then sets the agent camera's
 * matrices. "render-width", "render-height" (int, read-only): the frame size in pixels the app
 * should render at (the widget's size times its scale factor); notified when the size changes.
 *   "fps" (double, read-only): frames displayed per second (distinct frames set with
 *       mb_scene_view_set_frame and painted), measured on the frame clock over the last second.
 *
 * Signals:
 *   "camera-changed" (void): the free camera changed (mouse input or a setter); render a new frame.
 */
#ifndef MB_SCENE_VIEW_H
#define MB_SCENE_VIEW_H

#include <gtk/gtk.h>

#include "mb-camera.h"

G_BEGIN_DECLS

#define MB_TYPE_SCENE_VIEW (mb_scene_view_get_type())
G_DECLARE_FINAL_TYPE(MbSceneView, mb_scene_view, MB, SCENE_VIEW, GtkWidget)

typedef enum {
  MB_MARKER_RING,       /* a circle */
  MB_MARKER_CROSS,      /* an x */
  MB_MARKER_RING_CROSS, /* both: the goal marker */
} MbMarkerShape;

/* A 3D polyline to draw over the frame. */
typedef struct {
  const float *points; /* world positions, metres (n_points x 3); copied by the setter */
  int n_points;        /* number of points; fewer than 2 draws nothing */
  GdkRGBA color;       /* line colour, with alpha */
  float width;         /* line width in logical pixels */
} MbScenePath;

/* A marker at a 3D point, drawn at a constant screen size. */
typedef struct {
  float position[3];   /* world position, metres */
  GdkRGBA color;       /* stroke colour */
  float radius;        /* logical pixels */
  MbMarkerShape shape; /* what to draw */
} MbSceneMarker;

GtkWidget *mb_scene_view_new(void);

/* Copies an RGB8 frame (rows top to bottom, stride bytes apart, stride >= 3 * width) and queues a
 * redraw; cheap enough for every frame at 60 Hz. Returns FALSE (and keeps the previous frame) when
 * pixels is NULL or the sizes are invalid. */
gboolean mb_scene_view_set_frame(MbSceneView *self, const guint8 *pixels, int width, int height,
                                 int stride);

/* The camera matrices the shown frame was rendered with (column-major float[16], OpenGL
 * convention), used to project the overlays. Set them together with each frame. Either NULL
 * hides the overlays until matrices are set again. */
void mb_scene_view_set_matrices(MbSceneView *self, const float view[16], const float proj[16]);

/* Replaces the polylines of one named layer (e.g. "executed", "candidates"); n_paths == 0 removes
 * the layer. Layers are drawn in the order they were first set. Everything is copied. */
void mb_scene_view_set_paths(MbSceneView *self, const char *layer, const MbScenePath *paths,
                             int n_paths);

/* Replaces all markers (copied); n_markers == 0 removes them. */
void mb_scene_view_set_markers(MbSceneView *self, const MbSceneMarker *markers, int n_markers);

/* Removes every frame, matrix and overlay: back to the "waiting for a frame" state. */
void mb_scene_view_clear(MbSceneView *self);

void mb_scene_view_get_camera(MbSceneView *self, MbFreeCamera *camera);
/* Sets the camera (normalised as mb_free_camera_normalise does), notifies the properties that
 * changed and emits "camera-changed" once if anything changed. */
void mb_scene_view_set_camera(MbSceneView *self, const MbFreeCamera *camera);

void mb_scene_view_set_agent_view(MbSceneView *self, gboolean agent_view);
gboolean mb_scene_view_get_agent_view(MbSceneView *self);

/* The frame size the app should render at, in pixels (the "render-width"/"render-height"
 * properties); 0 x 0 before the widget is allocated. */
void mb_scene_view_get_render_size(MbSceneView *self, int *width, int *height);

double mb_scene_view_get_fps(MbSceneView *self);

/* Where the current frame is drawn, in widget coordinates: the overlays' viewport. Returns FALSE
 * when no frame is shown. */
gboolean mb_scene_view_get_frame_rect(MbSceneView *self, graphene_rect_t *rect);

G_END_DECLS

#endif
