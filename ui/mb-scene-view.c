/* MbSceneView; see mb-scene-view.h. */
#include "mb-scene-view.h"

#include <math.h>
#include <string.h>

#include "mb-draw.h"
#include "mb-ui.h"

/* Frame times kept for the fps measurement: enough for 1 s at 240 Hz. */
#define FPS_RING      256
#define FPS_WINDOW_US G_USEC_PER_SEC
/* How often the fps readout decays while frames stop arriving. */
#define FPS_TIMER_MS 250
/* Vertical field of view assumed for panning before the app sets a projection (MuJoCo's default).
 */
#define DEFAULT_FOVY 45.0

typedef struct {
  float *points; /* world positions (n_points x 3), owned */
  int n_points;  /* number of points */
  GdkRGBA color; /* line colour */
  float width;   /* logical pixels */
} Path;

typedef struct {
  char *name;    /* layer name, owned */
  GArray *paths; /* Path elements, owned (cleared with path_clear) */
} Layer;

typedef enum {
  DRAG_NONE,
  DRAG_ORBIT,
  DRAG_PAN,
} DragMode;

struct _MbSceneView {
  GtkWidget parent_instance;

  GtkWidget *placeholder; /* template: shown until the first frame */
  GtkWidget *badge;       /* template: "Agent view" tag shown in agent view */

  GdkTexture *frame;            /* the frame shown (NULL before the first), owned */
  cairo_surface_t *frame_cairo; /* the same frame for nearest-neighbour drawing; made lazily */
  int frame_w, frame_h;         /* frame size in pixels */
  guint64 frame_serial;         /* counts frames set */
  guint64 shown_serial;         /* serial of the last frame painted */
  gboolean painted_new;         /* a new frame was painted in the current frame clock cycle */

  float view[16], proj[16]; /* overlay camera matrices (column-major) */
  float view_proj[16];      /* proj * view */
  gboolean have_matrices;   /* view/proj are valid */

  GPtrArray *layers;   /* Layer *, in drawing order */
  GArray *markers;     /* MbSceneMarker */
  GArray *screen_segs; /* scratch: projected segments (4 doubles each), reused every draw */

  MbFreeCamera camera;    /* the free camera the mouse moves */
  gboolean agent_view;    /* show the agent image with nearest-neighbour scaling */
  int render_w, render_h; /* wanted frame size in pixels */

  DragMode drag_mode;      /* what the current drag does */
  MbFreeCamera drag_start; /* camera when the drag started */

  gint64 frame_times[FPS_RING]; /* frame clock times of painted new frames, microseconds (ring) */
  int fps_head, fps_count;      /* ring position of the next write and number of entries */
  double fps;                   /* last published frame rate */
  guint fps_timer;              /* decay timer source id, 0 when not running */
  GdkFrameClock *clock;         /* frame clock connected to while realized (not owned) */
  gulong after_paint_id;        /* "after-paint" handler on clock */
};

G_DEFINE_FINAL_TYPE(MbSceneView, mb_scene_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_LOOKAT_X,
  PROP_LOOKAT_Y,
  PROP_LOOKAT_Z,
  PROP_DISTANCE,
  PROP_AZIMUTH,
  PROP_ELEVATION,
  PROP_AGENT_VIEW,
  PROP_RENDER_WIDTH,
  PROP_RENDER_HEIGHT,
  PROP_FPS,
  N_PROPS
};
static GParamSpec *props[N_PROPS];

enum { SIGNAL_CAMERA_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void path_clear(gpointer data) {
  Path *p = data;
  g_free(p->points);
}

static void layer_free(gpointer data) {
  Layer *l = data;
  g_free(l->name);
  g_array_unref(l->paths);
  g_free(l);
}

/* ---- camera ---- */

static void apply_camera(MbSceneView *self, const MbFreeCamera *cam_in) {
  MbFreeCamera cam = *cam_in;
  mb_free_camera_normalise(&cam);
  MbFreeCamera old = self->camera;
  if (!memcmp(&old, &cam, sizeof cam)) return;
  self->camera = cam;
  g_object_freeze_notify(G_OBJECT(self));
  for (int k = 0; k < 3; k++)
    if (old.lookat[k] != cam.lookat[k])
      g_object_notify_by_pspec(G_OBJECT(self), props[PROP_LOOKAT_X + k]);
  if (old.distance != cam.distance) g_object_notify_by_pspec(G_OBJECT(self), props[PROP_DISTANCE]);
  if (old.azimuth != cam.azimuth) g_object_notify_by_pspec(G_OBJECT(self), props[PROP_AZIMUTH]);
  if (old.elevation != cam.elevation)
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_ELEVATION]);
  g_object_thaw_notify(G_OBJECT(self));
  g_signal_emit(self, signals[SIGNAL_CAMERA_CHANGED], 0);
}

void mb_scene_view_get_camera(MbSceneView *self, MbFreeCamera *camera) {
  g_return_if_fail(MB_IS_SCENE_VIEW(self) && camera);
  *camera = self->camera;
}

void mb_scene_view_set_camera(MbSceneView *self, const MbFreeCamera *camera) {
  g_return_if_fail(MB_IS_SCENE_VIEW(self) && camera);
  apply_camera(self, camera);
}

/* Height in pixels that mouse motion is measured against: the shown frame, or the widget. */
static double viewport_height(MbSceneView *self) {
  graphene_rect_t r;
  if (mb_scene_view_get_frame_rect(self, &r) && r.size.height > 0) return r.size.height;
  return MAX(1, gtk_widget_get_height(GTK_WIDGET(self)));
}

static void on_drag_begin(GtkGestureDrag *gesture, double x, double y, MbSceneView *self) {
  (void)x, (void)y;
  guint button = gtk_gesture_single_get_current_button(GTK_GESTURE_SINGLE(gesture));
  if (self->agent_view) {
    /* The agent camera is fixed: moving the hidden free camera would only cost renders. */
    gtk_gesture_set_state(GTK_GESTURE(gesture), GTK_EVENT_SEQUENCE_DENIED);
    self->drag_mode = DRAG_NONE;
    return;
  }
  GdkModifierType mods =
      gtk_event_controller_get_current_event_state(GTK_EVENT_CONTROLLER(gesture));
  if (button == GDK_BUTTON_PRIMARY && !(mods & GDK_SHIFT_MASK))
    self->drag_mode = DRAG_ORBIT;
  else if (button == GDK_BUTTON_SECONDARY || button == GDK_BUTTON_PRIMARY)
    self->drag_mode = DRAG_PAN;
  else {
    self->drag_mode = DRAG_NONE;
    gtk_gesture_set_state(GTK_GESTURE(gesture), GTK_EVENT_SEQUENCE_DENIED);
    return;
  }
  gtk_gesture_set_state(GTK_GESTURE(gesture), GTK_EVENT_SEQUENCE_CLAIMED);
  self->drag_start = self->camera;
  gtk_widget_set_cursor_from_name(GTK_WIDGET(self),
                                  self->drag_mode == DRAG_ORBIT ? "grabbing" : "move");
}

static void on_drag_update(GtkGestureDrag *gesture, double dx, double dy, MbSceneView *self) {
  (void)gesture;
  MbFreeCamera cam = self->drag_start;
  double h = viewport_height(self);
  if (self->drag_mode == DRAG_ORBIT)
    mb_free_camera_orbit(&cam, dx, dy, h);
  else if (self->drag_mode == DRAG_PAN)
    mb_free_camera_pan(&cam, dx, dy, h,
                       mb_projection_fovy(self->have_matrices ? self->proj : NULL, DEFAULT_FOVY));
  else
    return;
  apply_camera(self, &cam);
}

static void on_drag_end(GtkGestureDrag *gesture, double dx, double dy, MbSceneView *self) {
  (void)gesture, (void)dx, (void)dy;
  self->drag_mode = DRAG_NONE;
  gtk_widget_set_cursor(GTK_WIDGET(self), NULL);
}

static gboolean on_scroll(GtkEventControllerScroll *ctl, double dx, double dy, MbSceneView *self) {
  (void)ctl, (void)dx;
  if (dy == 0 || self->agent_view) return FALSE;
  MbFreeCamera cam = self->camera;
  mb_free_camera_zoom(&cam, dy);
  apply_camera(self, &cam);
  return TRUE;
}

/* ---- frames ---- */

gboolean mb_scene_view_set_frame(MbSceneView *self, const guint8 *pixels, int width, int height,
                                 int stride) {
  g_return_val_if_fail(MB_IS_SCENE_VIEW(self), FALSE);
  if (!pixels || width <= 0 || height <= 0 || stride < 3 * width) return FALSE;
  /* Copy only the rows' pixel bytes: the texture keeps the stride we give it. */
  gsize row = (gsize)width * 3;
  guint8 *copy = g_malloc(row * height);
  for (int y = 0; y < height; y++) memcpy(copy + row * y, pixels + (gsize)stride * y, row);
  GBytes *bytes = g_bytes_new_take(copy, row * height);
  GdkTexture *tex = gdk_memory_texture_new(width, height, GDK_MEMORY_R8G8B8, bytes, row);
  g_bytes_unref(bytes);
  g_set_object(&self->frame, tex);
  g_object_unref(tex);
  g_clear_pointer(&self->frame_cairo, cairo_surface_destroy);
  if (width != self->frame_w || height != self->frame_h) {
    char *text = g_strdup_printf("Agent view · %d×%d", width, height);
    gtk_label_set_text(GTK_LABEL(self->badge), text);
    g_free(text);
    gtk_widget_queue_allocate(GTK_WIDGET(self)); /* the frame rectangle moves the badge */
  }
  self->frame_w = width;
  self->frame_h = height;
  self->frame_serial++;
  gtk_widget_set_visible(self->placeholder, FALSE);
  gtk_widget_queue_draw(GTK_WIDGET(self));
  return TRUE;
}

void mb_scene_view_set_matrices(MbSceneView *self, const float view[16], const float proj[16]) {
  g_return_if_fail(MB_IS_SCENE_VIEW(self));
  if (!view || !proj) {
    self->have_matrices = FALSE;
  } else {
    memcpy(self->view, view, sizeof self->view);
    memcpy(self->proj, proj, sizeof self->proj);
    mb_mat4_mul(self->proj, self->view, self->view_proj);
    self->have_matrices = TRUE;
  }
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void mb_scene_view_set_paths(MbSceneView *self, const char *layer, const MbScenePath *paths,
                             int n_paths) {
  g_return_if_fail(MB_IS_SCENE_VIEW(self) && layer && (n_paths == 0 || paths));
  Layer *found = NULL;
  guint index = 0;
  for (guint i = 0; i < self->layers->len; i++) {
    Layer *l = g_ptr_array_index(self->layers, i);
    if (!strcmp(l->name, layer)) found = l, index = i;
  }
  if (n_paths <= 0) {
    if (found) g_ptr_array_remove_index(self->layers, index);
    gtk_widget_queue_draw(GTK_WIDGET(self));
    return;
  }
  if (!found) {
    found = g_new0(Layer, 1);
    found->name = g_strdup(layer);
    found->paths = g_array_new(FALSE, TRUE, sizeof(Path));
    g_array_set_clear_func(found->paths, path_clear);
    g_ptr_array_add(self->layers, found);
  }
  g_array_set_size(found->paths, 0);
  for (int i = 0; i < n_paths; i++) {
    const MbScenePath *src = &paths[i];
    if (src->n_points < 2 || !src->points) continue;
    Path p = {
        .points = g_memdup2(src->points, sizeof(float) * 3 * (gsize)src->n_points),
        .n_points = src->n_points,
        .color = src->color,
        .width = src->width > 0 ? src->width : 1.0f,
    };
    g_array_append_val(found->paths, p);
  }
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void mb_scene_view_set_markers(MbSceneView *self, const MbSceneMarker *markers, int n_markers) {
  g_return_if_fail(MB_IS_SCENE_VIEW(self) && (n_markers == 0 || markers));
  g_array_set_size(self->markers, 0);
  if (n_markers > 0) g_array_append_vals(self->markers, markers, (guint)n_markers);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void mb_scene_view_clear(MbSceneView *self) {
  g_return_if_fail(MB_IS_SCENE_VIEW(self));
  g_clear_object(&self->frame);
  g_clear_pointer(&self->frame_cairo, cairo_surface_destroy);
  self->frame_w = self->frame_h = 0;
  self->have_matrices = FALSE;
  g_ptr_array_set_size(self->layers, 0);
  g_array_set_size(self->markers, 0);
  gtk_widget_set_visible(self->placeholder, TRUE);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void mb_scene_view_set_agent_view(MbSceneView *self, gboolean agent_view) {
  g_return_if_fail(MB_IS_SCENE_VIEW(self));
  agent_view = !!agent_view;
  if (self->agent_view == agent_view) return;
  self->agent_view = agent_view;
  gtk_widget_set_visible(self->badge, agent_view);
  gtk_widget_queue_draw(GTK_WIDGET(self));
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_AGENT_VIEW]);
}

gboolean mb_scene_view_get_agent_view(MbSceneView *self) {
  g_return_val_if_fail(MB_IS_SCENE_VIEW(self), FALSE);
  return self->agent_view;
}

void mb_scene_view_get_render_size(MbSceneView *self, int *width, int *height) {
  g_return_if_fail(MB_IS_SCENE_VIEW(self));
  if (width) *width = self->render_w;
  if (height) *height = self->render_h;
}

double mb_scene_view_get_fps(MbSceneView *self) {
  g_return_val_if_fail(MB_IS_SCENE_VIEW(self), 0);
  return self->fps;
}

gboolean mb_scene_view_get_frame_rect(MbSceneView *self, graphene_rect_t *rect) {
  g_return_val_if_fail(MB_IS_SCENE_VIEW(self), FALSE);
  if (!self->frame) return FALSE;
  /* Snapped to whole pixels so that the texture is not resampled at a half-pixel offset. */
  graphene_rect_t r =
      mb_fit_rect(0, 0, gtk_widget_get_width(GTK_WIDGET(self)),
                  gtk_widget_get_height(GTK_WIDGET(self)), self->frame_w, self->frame_h, TRUE);
  if (rect) *rect = r;
  return r.size.width > 0 && r.size.height > 0;
}

/* ---- fps ---- */

static void publish_fps(MbSceneView *self, gint64 now) {
  int n = 0;
  for (int i = 0; i < self->fps_count; i++) {
    gint64 t = self->frame_times[(self->fps_head - 1 - i + FPS_RING) % FPS_RING];
    if (now - t >= FPS_WINDOW_US) break;
    n++;
  }
  self->fps_count = n; /* older entries will never count again */
  double fps = (double)n * G_USEC_PER_SEC / FPS_WINDOW_US;
  if (fps != self->fps) {
    self->fps = fps;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_FPS]);
  }
}

static gboolean fps_timer_cb(gpointer data) {
  MbSceneView *self = data;
  publish_fps(self, g_get_monotonic_time());
  if (self->fps_count == 0) {
    self->fps_timer = 0;
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

static void on_after_paint(GdkFrameClock *clock, MbSceneView *self) {
  if (!self->painted_new) return;
  self->painted_new = FALSE;
  gint64 t = gdk_frame_clock_get_frame_time(clock);
  self->frame_times[self->fps_head] = t;
  self->fps_head = (self->fps_head + 1) % FPS_RING;
  if (self->fps_count < FPS_RING) self->fps_count++;
  publish_fps(self, t);
  if (!self->fps_timer) self->fps_timer = g_timeout_add(FPS_TIMER_MS, fps_timer_cb, self);
}

/* ---- drawing ---- */

static void extend_bounds(double b[4], double x, double y, double pad) {
  b[0] = MIN(b[0], x - pad), b[1] = MIN(b[1], y - pad);
  b[2] = MAX(b[2], x + pad), b[3] = MAX(b[3], y + pad);
}

/* Projects every path into screen_segs (x0, y0, x1, y1 per visible segment; a segment with
 * NAN x0 separates paths) and returns the screen bounding box of paths and markers. */
static gboolean project_overlays(MbSceneView *self, const MbViewport *vp, double bounds[4]) {
  bounds[0] = bounds[1] = INFINITY;
  bounds[2] = bounds[3] = -INFINITY;
  g_array_set_size(self->screen_segs, 0);
  for (guint li = 0; li < self->layers->len; li++) {
    Layer *l = g_ptr_array_index(self->layers, li);
    for (guint pi = 0; pi < l->paths->len; pi++) {
      Path *p = &g_array_index(l->paths, Path, pi);
      double pad = p->width + 2;
      for (int i = 0; i + 1 < p->n_points; i++) {
        double seg[4];
        if (!mb_project_segment(self->view_proj, vp, p->points + 3 * i, p->points + 3 * (i + 1),
                                seg, seg + 2)) {
          continue;
        }
        g_array_append_vals(self->screen_segs, seg, 4);
        extend_bounds(bounds, seg[0], seg[1], pad);
        extend_bounds(bounds, seg[2], seg[3], pad);
      }
      double sep[4] = {NAN, NAN, NAN, NAN};
      g_array_append_vals(self->screen_segs, sep, 4);
    }
  }
  for (guint i = 0; i < self->markers->len; i++) {
    MbSceneMarker *m = &g_array_index(self->markers, MbSceneMarker, i);
    double s[2];
    if (mb_project_point(self->view_proj, vp, m->position, s))
      extend_bounds(bounds, s[0], s[1], m->radius + 4);
  }
  return bounds[2] > bounds[0] && bounds[3] > bounds[1];
}

static void stroke_with_halo(cairo_t *cr, const GdkRGBA *color, double width) {
  /* A dark halo under every overlay keeps thin bright lines readable on any scene colour. */
  cairo_set_source_rgba(cr, 0, 0, 0, 0.35 * color->alpha);
  cairo_set_line_width(cr, width + 2.0);
  cairo_stroke_preserve(cr);
  mb_cairo_set_rgba(cr, color);
  cairo_set_line_width(cr, width);
  cairo_stroke(cr);
}

static void draw_overlays(MbSceneView *self, cairo_t *cr, const MbViewport *vp) {
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  const double *segs = (const double *)(void *)self->screen_segs->data;
  guint n_segs = self->screen_segs->len / 4, s = 0;
  for (guint li = 0; li < self->layers->len; li++) {
    Layer *l = g_ptr_array_index(self->layers, li);
    for (guint pi = 0; pi < l->paths->len; pi++) {
      Path *p = &g_array_index(l->paths, Path, pi);
      gboolean pen = FALSE;
      double last[2] = {0, 0};
      cairo_new_path(cr);
      for (; s < n_segs && !isnan(segs[4 * s]); s++) {
        const double *g = segs + 4 * s;
        /* Consecutive unclipped segments share end points: join them into one polyline. */
        if (!pen || fabs(g[0] - last[0]) > 1e-6 || fabs(g[1] - last[1]) > 1e-6)
          cairo_move_to(cr, g[0], g[1]);
        cairo_line_to(cr, g[2], g[3]);
        last[0] = g[2], last[1] = g[3];
        pen = TRUE;
      }
      s++; /* the separator */
      stroke_with_halo(cr, &p->color, p->width);
    }
  }
  for (guint i = 0; i < self->markers->len; i++) {
    MbSceneMarker *m = &g_array_index(self->markers, MbSceneMarker, i);
    double c[2];
    if (!mb_project_point(self->view_proj, vp, m->position, c)) continue;
    double r = m->radius > 0 ? m->radius : 8;
    cairo_new_path(cr);
    if (m->shape == MB_MARKER_RING || m->shape == MB_MARKER_RING_CROSS) {
      cairo_new_sub_path(cr);
      cairo_arc(cr, c[0], c[1], r, 0, 2 * M_PI);
    }
    if (m->shape == MB_MARKER_CROSS || m->shape == MB_MARKER_RING_CROSS) {
      double k = (m->shape == MB_MARKER_CROSS ? 1.0 : 0.55) * r;
      cairo_move_to(cr, c[0] - k, c[1] - k);
      cairo_line_to(cr, c[0] + k, c[1] + k);
      cairo_move_to(cr, c[0] + k, c[1] - k);
      cairo_line_to(cr, c[0] - k, c[1] + k);
    }
    stroke_with_halo(cr, &m->color, 2.5);
  }
}

static void mb_scene_view_snapshot(GtkWidget *widget, GtkSnapshot *snapshot) {
  MbSceneView *self = MB_SCENE_VIEW(widget);
  graphene_rect_t rect;
  if (mb_scene_view_get_frame_rect(self, &rect)) {
    if (self->agent_view) {
      if (!self->frame_cairo) {
        /* gdk_texture_download writes Cairo's ARGB32 layout. */
        self->frame_cairo =
            cairo_image_surface_create(CAIRO_FORMAT_ARGB32, self->frame_w, self->frame_h);
        cairo_surface_flush(self->frame_cairo);
        gdk_texture_download(self->frame, cairo_image_surface_get_data(self->frame_cairo),
                             (gsize)cairo_image_surface_get_stride(self->frame_cairo));
        cairo_surface_mark_dirty(self->frame_cairo);
      }
      cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &rect);
      mb_draw_image(cr, self->frame_cairo, rect.origin.x, rect.origin.y, rect.size.width,
                    rect.size.height, TRUE);
      cairo_destroy(cr);
    } else {
      gtk_snapshot_append_texture(snapshot, self->frame, &rect);
    }
    if (self->frame_serial != self->shown_serial) {
      self->shown_serial = self->frame_serial;
      self->painted_new = TRUE;
    }
    if (self->have_matrices && (self->layers->len || self->markers->len)) {
      MbViewport vp = {rect.origin.x, rect.origin.y, rect.size.width, rect.size.height};
      double b[4];
      if (project_overlays(self, &vp, b)) {
        /* Only the overlays' bounding box (within the frame) becomes a Cairo node: uploading a
         * frame-sized image every frame would cost more than the scene itself. */
        double x0 = floor(MAX(b[0], rect.origin.x)), y0 = floor(MAX(b[1], rect.origin.y));
        double x1 = ceil(MIN(b[2], rect.origin.x + rect.size.width));
        double y1 = ceil(MIN(b[3], rect.origin.y + rect.size.height));
        if (x1 > x0 && y1 > y0) {
          graphene_rect_t ob = GRAPHENE_RECT_INIT(x0, y0, x1 - x0, y1 - y0);
          cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &ob);
          draw_overlays(self, cr, &vp);
          cairo_destroy(cr);
        }
      }
    }
  }
  for (GtkWidget *c = gtk_widget_get_first_child(widget); c; c = gtk_widget_get_next_sibling(c))
    gtk_widget_snapshot_child(widget, c, snapshot);
}

/* ---- size ---- */

static void update_render_size(MbSceneView *self) {
  int scale = gtk_widget_get_scale_factor(GTK_WIDGET(self));
  int rw = gtk_widget_get_width(GTK_WIDGET(self)) * scale;
  int rh = gtk_widget_get_height(GTK_WIDGET(self)) * scale;
  g_object_freeze_notify(G_OBJECT(self));
  if (rw != self->render_w) {
    self->render_w = rw;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_RENDER_WIDTH]);
  }
  if (rh != self->render_h) {
    self->render_h = rh;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_RENDER_HEIGHT]);
  }
  g_object_thaw_notify(G_OBJECT(self));
}

static void mb_scene_view_measure(GtkWidget *widget, GtkOrientation orientation, int for_size,
                                  int *minimum, int *natural, int *minimum_baseline,
                                  int *natural_baseline) {
  (void)for_size;
  int cmin = 0, cnat = 0;
  for (GtkWidget *c = gtk_widget_get_first_child(widget); c; c = gtk_widget_get_next_sibling(c)) {
    int m, n;
    gtk_widget_measure(c, orientation, -1, &m, &n, NULL, NULL);
    cmin = MAX(cmin, m), cnat = MAX(cnat, n);
  }
  *minimum = MAX(cmin, 64);
  *natural = MAX(cnat, orientation == GTK_ORIENTATION_HORIZONTAL ? 640 : 480);
  *minimum_baseline = *natural_baseline = -1;
}

static void mb_scene_view_size_allocate(GtkWidget *widget, int width, int height, int baseline) {
  MbSceneView *self = MB_SCENE_VIEW(widget);
  gtk_widget_allocate(self->placeholder, width, height, baseline, NULL);
  /* The badge sits in the corner of the image, not of the widget. */
  graphene_rect_t r;
  if (mb_scene_view_get_frame_rect(self, &r)) {
    GskTransform *t = gsk_transform_translate(NULL, &r.origin);
    gtk_widget_allocate(self->badge, (int)r.size.width, (int)r.size.height, -1, t);
  } else {
    gtk_widget_allocate(self->badge, width, height, baseline, NULL);
  }
  update_render_size(self);
}

static void on_scale_factor(GObject *obj, GParamSpec *pspec, gpointer data) {
  (void)pspec, (void)data;
  update_render_size(MB_SCENE_VIEW(obj));
}

static void mb_scene_view_realize(GtkWidget *widget) {
  MbSceneView *self = MB_SCENE_VIEW(widget);
  GTK_WIDGET_CLASS(mb_scene_view_parent_class)->realize(widget);
  self->clock = gtk_widget_get_frame_clock(widget);
  if (self->clock)
    self->after_paint_id =
        g_signal_connect(self->clock, "after-paint", G_CALLBACK(on_after_paint), self);
}

static void mb_scene_view_unrealize(GtkWidget *widget) {
  MbSceneView *self = MB_SCENE_VIEW(widget);
  if (self->clock && self->after_paint_id)
    g_signal_handler_disconnect(self->clock, self->after_paint_id);
  self->clock = NULL;
  self->after_paint_id = 0;
  g_clear_handle_id(&self->fps_timer, g_source_remove);
  GTK_WIDGET_CLASS(mb_scene_view_parent_class)->unrealize(widget);
}

/* ---- GObject ---- */

static void mb_scene_view_get_property(GObject *object, guint id, GValue *value,
                                       GParamSpec *pspec) {
  MbSceneView *self = MB_SCENE_VIEW(object);
  switch (id) {
    case PROP_LOOKAT_X:
    case PROP_LOOKAT_Y:
    case PROP_LOOKAT_Z:
      g_value_set_double(value, self->camera.lookat[id - PROP_LOOKAT_X]);
      break;
    case PROP_DISTANCE:
      g_value_set_double(value, self->camera.distance);
      break;
    case PROP_AZIMUTH:
      g_value_set_double(value, self->camera.azimuth);
      break;
    case PROP_ELEVATION:
      g_value_set_double(value, self->camera.elevation);
      break;
    case PROP_AGENT_VIEW:
      g_value_set_boolean(value, self->agent_view);
      break;
    case PROP_RENDER_WIDTH:
      g_value_set_int(value, self->render_w);
      break;
    case PROP_RENDER_HEIGHT:
      g_value_set_int(value, self->render_h);
      break;
    case PROP_FPS:
      g_value_set_double(value, self->fps);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void mb_scene_view_set_property(GObject *object, guint id, const GValue *value,
                                       GParamSpec *pspec) {
  MbSceneView *self = MB_SCENE_VIEW(object);
  MbFreeCamera cam = self->camera;
  switch (id) {
    case PROP_LOOKAT_X:
    case PROP_LOOKAT_Y:
    case PROP_LOOKAT_Z:
      cam.lookat[id - PROP_LOOKAT_X] = g_value_get_double(value);
      break;
    case PROP_DISTANCE:
      cam.distance = g_value_get_double(value);
      break;
    case PROP_AZIMUTH:
      cam.azimuth = g_value_get_double(value);
      break;
    case PROP_ELEVATION:
      cam.elevation = g_value_get_double(value);
      break;
    case PROP_AGENT_VIEW:
      mb_scene_view_set_agent_view(self, g_value_get_boolean(value));
      return;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
      return;
  }
  apply_camera(self, &cam);
}

static void mb_scene_view_dispose(GObject *object) {
  MbSceneView *self = MB_SCENE_VIEW(object);
  g_clear_handle_id(&self->fps_timer, g_source_remove);
  gtk_widget_dispose_template(GTK_WIDGET(self), MB_TYPE_SCENE_VIEW);
  G_OBJECT_CLASS(mb_scene_view_parent_class)->dispose(object);
}

static void mb_scene_view_finalize(GObject *object) {
  MbSceneView *self = MB_SCENE_VIEW(object);
  g_clear_object(&self->frame);
  g_clear_pointer(&self->frame_cairo, cairo_surface_destroy);
  g_ptr_array_unref(self->layers);
  g_array_unref(self->markers);
  g_array_unref(self->screen_segs);
  G_OBJECT_CLASS(mb_scene_view_parent_class)->finalize(object);
}

static GParamSpec *double_prop(const char *name, const char *nick, double lo, double hi,
                               double def) {
  return g_param_spec_double(name, nick, NULL, lo, hi, def,
                             G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
}

static void mb_scene_view_class_init(MbSceneViewClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  object_class->get_property = mb_scene_view_get_property;
  object_class->set_property = mb_scene_view_set_property;
  object_class->dispose = mb_scene_view_dispose;
  object_class->finalize = mb_scene_view_finalize;
  widget_class->snapshot = mb_scene_view_snapshot;
  widget_class->measure = mb_scene_view_measure;
  widget_class->size_allocate = mb_scene_view_size_allocate;
  widget_class->realize = mb_scene_view_realize;
  widget_class->unrealize = mb_scene_view_unrealize;

  props[PROP_LOOKAT_X] = double_prop("lookat-x", "Look-at x", -G_MAXDOUBLE, G_MAXDOUBLE, 0);
  props[PROP_LOOKAT_Y] = double_prop("lookat-y", "Look-at y", -G_MAXDOUBLE, G_MAXDOUBLE, 0);
  props[PROP_LOOKAT_Z] = double_prop("lookat-z", "Look-at z", -G_MAXDOUBLE, G_MAXDOUBLE, 0);
  props[PROP_DISTANCE] = double_prop("distance", "Distance", MB_FREE_CAMERA_MIN_DISTANCE,
                                     MB_FREE_CAMERA_MAX_DISTANCE, 2.0);
  props[PROP_AZIMUTH] = double_prop("azimuth", "Azimuth", -G_MAXDOUBLE, G_MAXDOUBLE, 90.0);
  props[PROP_ELEVATION] = double_prop("elevation", "Elevation", -90.0, 90.0, -45.0);
  props[PROP_AGENT_VIEW] =
      g_param_spec_boolean("agent-view", "Agent view", NULL, FALSE,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  props[PROP_RENDER_WIDTH] = g_param_spec_int("render-width", "Render width", NULL, 0, G_MAXINT, 0,
                                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_RENDER_HEIGHT] = g_param_spec_int("render-height", "Render height", NULL, 0, G_MAXINT,
                                               0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_FPS] = g_param_spec_double("fps", "Frames per second", NULL, 0, G_MAXDOUBLE, 0,
                                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);

  signals[SIGNAL_CAMERA_CHANGED] =
      g_signal_new("camera-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                   NULL, G_TYPE_NONE, 0);

  mb_ui_ensure_resources();
  gtk_widget_class_set_template_from_resource(widget_class,
                                              MB_UI_RESOURCE_PREFIX "ui/mb-scene-view.ui");
  gtk_widget_class_bind_template_child(widget_class, MbSceneView, placeholder);
  gtk_widget_class_bind_template_child(widget_class, MbSceneView, badge);
  gtk_widget_class_set_css_name(widget_class, "mbsceneview");
}

static void mb_scene_view_init(MbSceneView *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  mb_ui_ensure_style();
  self->camera =
      (MbFreeCamera){.lookat = {0, 0, 0}, .distance = 2.0, .azimuth = 90.0, .elevation = -45.0};
  self->layers = g_ptr_array_new_with_free_func(layer_free);
  self->markers = g_array_new(FALSE, TRUE, sizeof(MbSceneMarker));
  self->screen_segs = g_array_new(FALSE, FALSE, sizeof(double));

  GtkGesture *drag = gtk_gesture_drag_new();
  gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(drag), 0);
  g_signal_connect(drag, "drag-begin", G_CALLBACK(on_drag_begin), self);
  g_signal_connect(drag, "drag-update", G_CALLBACK(on_drag_update), self);
  g_signal_connect(drag, "drag-end", G_CALLBACK(on_drag_end), self);
  gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(drag));

  GtkEventController *scroll =
      gtk_event_controller_scroll_new(GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  g_signal_connect(scroll, "scroll", G_CALLBACK(on_scroll), self);
  gtk_widget_add_controller(GTK_WIDGET(self), scroll);

  g_signal_connect(self, "notify::scale-factor", G_CALLBACK(on_scale_factor), NULL);
  gtk_widget_set_overflow(GTK_WIDGET(self), GTK_OVERFLOW_HIDDEN);
}

GtkWidget *mb_scene_view_new(void) {
  return g_object_new(MB_TYPE_SCENE_VIEW, NULL);
}
