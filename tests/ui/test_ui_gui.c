/* ui/ in a real window under X (Xvfb): every widget is built with synthetic data, rendered and
 * saved to PNG (test artefacts), and its pixels are checked where the data says they must be;
 * mouse input is real (xdotool through the X server): clicks, drags, hovers and scrolls.
 *
 * usage: test_ui_gui ARTEFACT_DIR   (run under xvfb-run -a -s "-screen 0 1600x1000x24") */
#include "../test_util.h"
#include "mb-ui.h"
#include "mb_philox.h"

#include <cglm/cglm.h>
#include <gdk/x11/gdkx.h>
#include <math.h>
#include <string.h>

static const char *artefacts;

/* ---- main loop, windows, input ---- */

static void settle(int ms) {
  gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
  while (g_get_monotonic_time() < end) {
    while (g_main_context_iteration(NULL, FALSE)) {
    }
    g_usleep(2000);
  }
}

/* Runs the main loop until *flag becomes non-zero or timeout_ms passes. A generous timeout: this
 * waits for events, it does not measure speed. */
static gboolean wait_flag(const int *flag, int timeout_ms) {
  gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  while (!*flag && g_get_monotonic_time() < end) {
    while (g_main_context_iteration(NULL, FALSE)) {
    }
    if (!*flag) g_usleep(2000);
  }
  return *flag != 0;
}

static GtkWidget *show_in_window(GtkWidget *child, int width, int height, const char *title) {
  GtkWidget *win = gtk_window_new();
  gtk_window_set_title(GTK_WINDOW(win), title);
  gtk_window_set_default_size(GTK_WINDOW(win), width, height);
  gtk_window_set_decorated(GTK_WINDOW(win), FALSE);
  gtk_window_set_child(GTK_WINDOW(win), child);
  gtk_window_present(GTK_WINDOW(win));
  gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
  while ((!gtk_widget_get_mapped(win) || gtk_widget_get_width(child) <= 0) &&
         g_get_monotonic_time() < end) {
    while (g_main_context_iteration(NULL, FALSE)) {
    }
    g_usleep(2000);
  }
  CHECK_MSG(gtk_widget_get_mapped(win), "window '%s' was never mapped", title);
  settle(150);
  return win;
}

/* Point (x, y) of widget in its X window's coordinates: widget -> window widget -> surface. */
static void to_surface(GtkWidget *widget, double x, double y, int *sx, int *sy) {
  GtkNative *native = gtk_widget_get_native(widget);
  graphene_point_t p = GRAPHENE_POINT_INIT(x, y), q;
  if (!gtk_widget_compute_point(widget, GTK_WIDGET(native), &p, &q)) q = p;
  double tx = 0, ty = 0;
  gtk_native_get_surface_transform(native, &tx, &ty);
  *sx = (int)lround(q.x + tx);
  *sy = (int)lround(q.y + ty);
}

static char *xid_of(GtkWidget *widget) {
  GdkSurface *surface = gtk_native_get_surface(gtk_widget_get_native(widget));
  return g_strdup_printf("%lu", (unsigned long)gdk_x11_surface_get_xid(surface));
}

/* Runs xdotool with the words of cmd (NULL-terminated varargs after it) and checks it succeeded. */
static void xdotool(const char *first, ...) {
  GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(argv, g_strdup("xdotool"));
  va_list ap;
  va_start(ap, first);
  for (const char *a = first; a; a = va_arg(ap, const char *)) g_ptr_array_add(argv, g_strdup(a));
  va_end(ap);
  g_ptr_array_add(argv, NULL);
  int status = 0;
  GError *error = NULL;
  gboolean ok = g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                             NULL, NULL, &status, &error);
  CHECK_MSG(ok && g_spawn_check_wait_status(status, NULL), "xdotool failed: %s",
            error ? error->message : "non-zero exit");
  g_clear_error(&error);
  g_ptr_array_unref(argv);
}

static void pointer_to(GtkWidget *widget, double x, double y) {
  int sx, sy;
  to_surface(widget, x, y, &sx, &sy);
  char *xid = xid_of(widget);
  char bx[16], by[16];
  g_snprintf(bx, sizeof bx, "%d", sx);
  g_snprintf(by, sizeof by, "%d", sy);
  /* No --sync: it waits 15 s when the pointer is already there. Each xdotool run ends with
   * XCloseDisplay, which waits for the server, so the next run sees the move. */
  xdotool("mousemove", "--window", xid, bx, by, NULL);
  g_free(xid);
}

typedef struct {
  double x, y; /* last pointer position the window saw, window coordinates */
} MotionRec;

static void on_window_motion(GtkEventControllerMotion *c, double x, double y, MotionRec *r) {
  (void)c;
  r->x = x, r->y = y;
}

/* Waits until GTK has handled every input event sent so far: X delivers events in order, so once
 * a final pointer move to a sentinel spot of the window has arrived, everything before it has. */
static void sync_input(GtkWidget *widget) {
  GtkWidget *root = GTK_WIDGET(gtk_widget_get_native(widget));
  MotionRec *rec = g_object_get_data(G_OBJECT(root), "test-motion");
  if (!rec) {
    rec = g_new0(MotionRec, 1);
    g_object_set_data_full(G_OBJECT(root), "test-motion", rec, g_free);
    GtkEventController *m = gtk_event_controller_motion_new();
    gtk_event_controller_set_propagation_phase(m, GTK_PHASE_CAPTURE);
    g_signal_connect(m, "motion", G_CALLBACK(on_window_motion), rec);
    gtk_widget_add_controller(root, m);
  }
  static int flip;
  double sx = 3 + (flip ^= 1), sy = 3;
  pointer_to(root, sx, sy);
  gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
  while ((fabs(rec->x - sx) > 0.5 || fabs(rec->y - sy) > 0.5) && g_get_monotonic_time() < end) {
    while (g_main_context_iteration(NULL, FALSE)) {
    }
    g_usleep(2000);
  }
  CHECK_MSG(fabs(rec->x - sx) <= 0.5 && fabs(rec->y - sy) <= 0.5, "input events never arrived");
}

static void click_at(GtkWidget *widget, double x, double y, const char *button) {
  pointer_to(widget, x, y);
  settle(30);
  xdotool("click", button, NULL);
}

static void drag(GtkWidget *widget, double x, double y, double dx, double dy, const char *button) {
  pointer_to(widget, x, y);
  settle(30);
  xdotool("mousedown", button, NULL);
  settle(30);
  pointer_to(widget, x + dx / 2, y + dy / 2);
  settle(30);
  pointer_to(widget, x + dx, y + dy);
  settle(30);
  xdotool("mouseup", button, NULL);
}

/* ---- pixels ---- */

typedef struct {
  int width, height; /* texture size */
  gsize stride;      /* bytes per row */
  guint8 *data;      /* Cairo ARGB32 layout (premultiplied, native endian) */
} Shot;

/* Renders widget, saves it as ARTEFACTS/name.png and keeps the pixels for checks. */
static Shot shoot(GtkWidget *widget, const char *name) {
  Shot s = {0};
  GError *error = NULL;
  GdkTexture *tex = mb_widget_render_texture(widget, &error);
  CHECK_MSG(tex != NULL, "render %s: %s", name, error ? error->message : "?");
  g_clear_error(&error);
  if (!tex) return s;
  s.width = gdk_texture_get_width(tex), s.height = gdk_texture_get_height(tex);
  s.stride = (gsize)s.width * 4;
  s.data = g_malloc(s.stride * s.height);
  gdk_texture_download(tex, s.data, s.stride);
  g_object_unref(tex);
  char *path = g_strdup_printf("%s/%s.png", artefacts, name);
  CHECK_MSG(mb_widget_save_png(widget, path, &error), "save %s: %s", path,
            error ? error->message : "?");
  g_clear_error(&error);
  CHECK(g_file_test(path, G_FILE_TEST_IS_REGULAR));
  g_free(path);
  return s;
}

static void pixel(const Shot *s, double x, double y, int rgb[3]) {
  int ix = (int)floor(x), iy = (int)floor(y);
  if (!s->data || ix < 0 || iy < 0 || ix >= s->width || iy >= s->height) {
    rgb[0] = rgb[1] = rgb[2] = -1000;
    return;
  }
  guint32 p = *(const guint32 *)(const void *)(s->data + (gsize)iy * s->stride + (gsize)ix * 4);
  int a = p >> 24;
  int c[3] = {(p >> 16) & 255, (p >> 8) & 255, p & 255};
  for (int k = 0; k < 3; k++) rgb[k] = a ? c[k] * 255 / a : 0; /* un-premultiply */
}

static int color_dist(const int a[3], int r, int g, int b) {
  return MAX(abs(a[0] - r), MAX(abs(a[1] - g), abs(a[2] - b)));
}

#define CHECK_COLOR(shot, x, y, r, g, b, tol)                                                      \
  do {                                                                                             \
    int px_[3];                                                                                    \
    pixel(shot, x, y, px_);                                                                        \
    CHECK_MSG(color_dist(px_, r, g, b) <= (tol),                                                   \
              "pixel (%.0f, %.0f) is (%d, %d, %d), want "                                          \
              "(%d, %d, %d) +- %d",                                                                \
              (double)(x), (double)(y), px_[0], px_[1], px_[2], r, g, b, tol);                     \
  } while (0)

/* Number of pixels within tol of the colour in the rectangle. */
static int count_color(const Shot *s, int x0, int y0, int x1, int y1, int r, int g, int b,
                       int tol) {
  int n = 0, c[3];
  for (int y = MAX(0, y0); y < MIN(s->height, y1); y++)
    for (int x = MAX(0, x0); x < MIN(s->width, x1); x++) {
      pixel(s, x, y, c);
      if (color_dist(c, r, g, b) <= tol) n++;
    }
  return n;
}

static int to8(double v) {
  return (int)lround(v * 255);
}

/* ---- synthetic data ---- */

static guint8 *gradient_frame(int w, int h) {
  guint8 *p = g_malloc((gsize)w * h * 3);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      guint8 *q = p + ((gsize)y * w + x) * 3;
      q[0] = (guint8)(40 + 60 * x / w), q[1] = (guint8)(60 + 80 * y / h), q[2] = 110;
    }
  return p;
}

/* A 64x64 checkerboard of single pixels: any smoothing turns it grey. */
static guint8 *checker64(void) {
  guint8 *p = g_malloc(64 * 64 * 3);
  for (int y = 0; y < 64; y++)
    for (int x = 0; x < 64; x++) memset(p + (y * 64 + x) * 3, ((x + y) & 1) ? 255 : 0, 3);
  return p;
}

/* A small "scene" thumbnail: a coloured block on a table at a position given by index. */
static guint8 *block_image(int index, int w, int h) {
  guint8 *p = g_malloc((gsize)w * h * 3);
  int bx = 8 + (index * 11) % (w - 24), by = 10 + (index * 7) % (h - 24);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      guint8 *q = p + ((gsize)y * w + x) * 3;
      gboolean block = x >= bx && x < bx + 14 && y >= by && y < by + 14;
      q[0] = block ? 220 : (guint8)(150 + y / 2);
      q[1] = block ? (guint8)(40 + index * 20) : (guint8)(140 + y / 3);
      q[2] = block ? 60 : 120;
    }
  return p;
}

/* ---- signal recorders ---- */

typedef struct {
  int count;   /* emissions */
  int a, b, c; /* last int arguments */
  double d;    /* last double argument */
} Rec;

static void rec_int1(GtkWidget *w, int a, Rec *r) {
  (void)w, r->count++, r->a = a;
}
static void rec_int2(GtkWidget *w, int a, int b, Rec *r) {
  (void)w, r->count++, r->a = a, r->b = b;
}
static void rec_int3(GtkWidget *w, int a, int b, int c, Rec *r) {
  (void)w, r->count++, r->a = a, r->b = b, r->c = c;
}
static void rec_bool(GtkWidget *w, gboolean a, Rec *r) {
  (void)w, r->count++, r->a = a;
}
static void rec_void(GtkWidget *w, Rec *r) {
  (void)w, r->count++;
}
static void rec_double(GtkWidget *w, double d, Rec *r) {
  (void)w, r->count++, r->d = d;
}

/* ---- scene view ---- */

/* Where OpenGL puts a world point in the frame rectangle: clip = P V p, NDC = clip / w, y up. An
 * independent reference for the widget's overlay projection. */
static void gl_project(const float view[16], const float proj[16], const graphene_rect_t *r,
                       const float p[3], double out[2]) {
  mat4 v, pr, m;
  memcpy(v, view, sizeof v);
  memcpy(pr, proj, sizeof pr);
  glm_mat4_mul(pr, v, m);
  vec4 in = {p[0], p[1], p[2], 1}, c;
  glm_mat4_mulv(m, in, c);
  out[0] = r->origin.x + (c[0] / c[3] + 1) / 2 * r->size.width;
  out[1] = r->origin.y + (1 - c[1] / c[3]) / 2 * r->size.height;
}

typedef struct {
  MbSceneView *view;
  guint8 *pixels;
  int n;
} FrameFeeder;

static gboolean feed_frame(gpointer data) {
  FrameFeeder *f = data;
  f->pixels[(f->n++ % 100) * 3] ^= 0xff; /* a different frame each time */
  mb_scene_view_set_frame(f->view, f->pixels, 640, 480, 640 * 3);
  return G_SOURCE_CONTINUE;
}

static void test_scene_view(void) {
  GtkWidget *sv = mb_scene_view_new();
  GtkWidget *win = show_in_window(sv, 640, 480, "scene view");
  MbSceneView *view = MB_SCENE_VIEW(sv);
  int rw, rh;
  mb_scene_view_get_render_size(view, &rw, &rh);
  int scale = gtk_widget_get_scale_factor(sv);
  CHECK(rw == gtk_widget_get_width(sv) * scale && rh == gtk_widget_get_height(sv) * scale);
  CHECK(rw > 0 && rh > 0);

  /* Frame + overlays projected with a known camera. */
  guint8 *frame = gradient_frame(640, 480);
  CHECK(!mb_scene_view_set_frame(view, frame, 640, 480, 10)); /* stride too small */
  CHECK(mb_scene_view_set_frame(view, frame, 640, 480, 640 * 3));
  MbFreeCamera cam = {.lookat = {0, 0, 0}, .distance = 1.5, .azimuth = 90, .elevation = -40};
  float viewm[16], proj[16];
  mb_free_camera_view_matrix(&cam, viewm);
  mat4 p;
  glm_perspective(glm_rad(45.0f), 640.0f / 480.0f, 0.01f, 50.0f, p);
  memcpy(proj, p, sizeof proj);
  mb_scene_view_set_matrices(view, viewm, proj);
  float line[] = {-0.3f, -0.1f, 0, 0.3f, -0.1f, 0}; /* off-centre: below the middle row */
  float arc[3 * 20];
  for (int k = 0; k < 20; k++) {
    double t = k / 19.0 * M_PI;
    arc[3 * k] = (float)(0.25 * cos(t)), arc[3 * k + 1] = (float)(0.25 * sin(t)),
            arc[3 * k + 2] = 0.05f;
  }
  MbScenePath paths[] = {
      {line, 2, {1, 0, 0, 1}, 4},
      {arc, 20, {1, 0.8f, 0, 1}, 2.5f},
  };
  mb_scene_view_set_paths(view, "candidates", paths, 2);
  MbSceneMarker goal = {{0.1f, -0.2f, 0}, {0.1f, 1, 0.3f, 1}, 10, MB_MARKER_RING_CROSS};
  mb_scene_view_set_markers(view, &goal, 1);
  settle(100);
  graphene_rect_t fr;
  CHECK(mb_scene_view_get_frame_rect(view, &fr));
  CHECK(fr.size.width == 640 && fr.size.height == 480);
  Shot s = shoot(sv, "scene-view");
  float pts[][3] = {{0, -0.1f, 0}, {0.15f, -0.1f, 0}, {-0.2f, -0.1f, 0}};
  for (int k = 0; k < 3; k++) {
    double xy[2];
    gl_project(viewm, proj, &fr, pts[k], xy);
    CHECK_COLOR(&s, xy[0], xy[1], 255, 0, 0, 8);
  }
  double xy[2];
  /* The look-at point is the frame's centre. */
  float centre[3] = {0, 0, 0};
  gl_project(viewm, proj, &fr, centre, xy);
  CHECK_NEAR(xy[0], fr.origin.x + fr.size.width / 2, 0.01);
  CHECK_NEAR(xy[1], fr.origin.y + fr.size.height / 2, 0.01);
  float off[3] = {0, 0.4f, 0}; /* nothing drawn there: the frame's own gradient shows */
  gl_project(viewm, proj, &fr, off, xy);
  int bx = (int)(xy[0] - fr.origin.x), by = (int)(xy[1] - fr.origin.y);
  CHECK_COLOR(&s, xy[0], xy[1], 40 + 60 * bx / 640, 60 + 80 * by / 480, 110, 6);
  /* The goal marker's ring passes radius px right of its centre. */
  gl_project(viewm, proj, &fr, goal.position, xy);
  CHECK(count_color(&s, (int)xy[0] + 8, (int)xy[1] - 2, (int)xy[0] + 13, (int)xy[1] + 3, 26, 255,
                    77, 30) > 0);
  g_free(s.data);

  /* Mouse: left-drag orbits, right-drag pans, the wheel zooms. */
  Rec changed = {0};
  g_signal_connect(sv, "camera-changed", G_CALLBACK(rec_void), &changed);
  MbFreeCamera before;
  mb_scene_view_get_camera(view, &before);
  drag(sv, 320, 240, 120, 0, "1");
  sync_input(sv);
  MbFreeCamera after;
  mb_scene_view_get_camera(view, &after);
  CHECK(changed.count > 0);
  CHECK_NEAR(after.azimuth, before.azimuth - 180.0 * 120 / fr.size.height, 1.0);
  CHECK_NEAR(after.elevation, before.elevation, 1e-9);
  double az_notified = 0;
  g_object_get(sv, "azimuth", &az_notified, NULL);
  CHECK_NEAR(az_notified, after.azimuth, 1e-12);

  drag(sv, 320, 240, 0, 60, "3");
  sync_input(sv);
  MbFreeCamera panned;
  mb_scene_view_get_camera(view, &panned);
  CHECK_NEAR(panned.azimuth, after.azimuth, 1e-9);
  CHECK(fabs(panned.lookat[2] - after.lookat[2]) > 1e-3);

  pointer_to(sv, 320, 240);
  xdotool("click", "5", NULL);
  int zoomed = 0;
  for (int k = 0; k < 200 && !zoomed; k++) {
    settle(10);
    MbFreeCamera z;
    mb_scene_view_get_camera(view, &z);
    zoomed = z.distance > panned.distance * 1.05;
  }
  CHECK_MSG(zoomed, "scrolling down did not move the camera away");

  /* Frame rate: frames fed at ~60 Hz are counted on the frame clock. */
  FrameFeeder feeder = {view, frame, 0};
  guint src = g_timeout_add(16, feed_frame, &feeder);
  settle(700);
  g_source_remove(src);
  CHECK_MSG(mb_scene_view_get_fps(view) > 0, "fps %.1f", mb_scene_view_get_fps(view));
  g_print("scene view: %.1f frames per second displayed while fed at 60 Hz (Xvfb)\n",
          mb_scene_view_get_fps(view));

  /* Agent view: a 64x64 image upscaled with nearest neighbour keeps pure black and white. */
  mb_scene_view_set_agent_view(view, TRUE);
  guint8 *chk = checker64();
  mb_scene_view_set_frame(view, chk, 64, 64, 64 * 3);
  mb_scene_view_set_paths(view, "candidates", NULL, 0);
  mb_scene_view_set_markers(view, NULL, 0);
  settle(100);
  CHECK(mb_scene_view_get_frame_rect(view, &fr));
  CHECK_NEAR(fr.size.width, fr.size.height, 1);
  s = shoot(sv, "scene-view-agent");
  int bad = 0;
  for (int y = 12; y < 62; y += 7) /* below the "Agent view" badge in the top-left corner */
    for (int x = 3; x < 61; x += 5) {
      int c[3];
      pixel(&s, fr.origin.x + (x + 0.5) * fr.size.width / 64,
            fr.origin.y + (y + 0.5) * fr.size.height / 64, c);
      int want = ((x + y) & 1) ? 255 : 0;
      if (color_dist(c, want, want, want) > 3) {
        bad++;
        fprintf(stderr, "agent pixel (%d, %d) drawn as (%d, %d, %d), want %d\n", x, y, c[0], c[1],
                c[2], want);
      }
    }
  CHECK_MSG(bad == 0, "%d sampled agent pixels were smoothed", bad);
  /* The agent camera is fixed: dragging in agent view leaves the free camera alone. */
  MbFreeCamera fixed;
  mb_scene_view_get_camera(view, &fixed);
  drag(sv, 320, 240, 80, 30, "1");
  sync_input(sv);
  MbFreeCamera still;
  mb_scene_view_get_camera(view, &still);
  CHECK(still.azimuth == fixed.azimuth && still.elevation == fixed.elevation);
  g_free(s.data);
  g_free(chk);
  g_free(frame);
  gtk_window_destroy(GTK_WINDOW(win));
}

/* Benchmark (printed, not checked): a new frame at the widget's render size on every frame-clock
 * tick, as the app does while planning, with candidate paths drawn over it. */
typedef struct {
  MbSceneView *view;
  guint8 *pixels;
  int w, h, ticks;
} TickFeeder;

static gboolean feed_on_tick(GtkWidget *widget, GdkFrameClock *clock, gpointer data) {
  (void)widget, (void)clock;
  TickFeeder *f = data;
  f->pixels[(f->ticks++ % 200) * 3] ^= 0xff;
  mb_scene_view_set_frame(f->view, f->pixels, f->w, f->h, f->w * 3);
  return G_SOURCE_CONTINUE;
}

static void bench_scene_view(void) {
  GtkWidget *sv = mb_scene_view_new();
  GtkWidget *win = show_in_window(sv, 1280, 720, "scene view rate");
  MbSceneView *view = MB_SCENE_VIEW(sv);
  int w, h;
  mb_scene_view_get_render_size(view, &w, &h);
  TickFeeder f = {view, gradient_frame(w, h), w, h, 0};
  MbFreeCamera cam = {.lookat = {0, 0, 0}, .distance = 1.5, .azimuth = 90, .elevation = -40};
  float viewm[16], proj[16];
  mb_free_camera_view_matrix(&cam, viewm);
  mat4 p;
  glm_perspective(glm_rad(45.0f), (float)w / h, 0.01f, 50.0f, p);
  memcpy(proj, p, sizeof proj);
  mb_scene_view_set_matrices(view, viewm, proj);
  /* 5 elites x 13 steps, like the planner's oracle candidates. */
  float pts[5][13 * 3];
  MbScenePath paths[5];
  for (int e = 0; e < 5; e++) {
    for (int t = 0; t < 13; t++) {
      pts[e][3 * t] = -0.3f + 0.05f * t, pts[e][3 * t + 1] = 0.04f * e * sinf(0.3f * t);
      pts[e][3 * t + 2] = 0.02f;
    }
    paths[e] = (MbScenePath){pts[e], 13, {1, 0.8f, 0.1f, 0.8f}, 2};
  }
  mb_scene_view_set_paths(view, "candidates", paths, 5);
  guint id = gtk_widget_add_tick_callback(sv, feed_on_tick, &f, NULL);
  settle(1500);
  gtk_widget_remove_tick_callback(sv, id);
  g_print("scene view %dx%d, a new frame every tick: %.1f frames per second displayed (%s)\n", w, h,
          mb_scene_view_get_fps(view),
          G_OBJECT_TYPE_NAME(gtk_native_get_renderer(gtk_widget_get_native(sv))));
  CHECK(mb_scene_view_get_fps(view) > 0);
  g_free(f.pixels);
  gtk_window_destroy(GTK_WINDOW(win));
}

/* ---- image view + goal gallery ---- */

static void test_image_view(void) {
  GtkWidget *iv = mb_image_view_new();
  mb_image_view_set_caption(MB_IMAGE_VIEW(iv), "Goal 3 (push1)");
  GtkWidget *win = show_in_window(iv, 300, 320, "image view");
  guint8 *chk = checker64();
  CHECK(!mb_image_view_set_image(MB_IMAGE_VIEW(iv), chk, 64, 0, 192));
  CHECK(mb_image_view_set_image(MB_IMAGE_VIEW(iv), chk, 64, 64, 192));
  settle(80);
  graphene_rect_t r;
  CHECK(mb_image_view_get_image_rect(MB_IMAGE_VIEW(iv), &r));
  CHECK(r.size.width >= 64 * 3);
  Shot s = shoot(iv, "image-view");
  int bad = 0;
  for (int y = 1; y < 64; y += 9)
    for (int x = 0; x < 64; x += 7) {
      int c[3], want = ((x + y) & 1) ? 255 : 0;
      pixel(&s, r.origin.x + (x + 0.5) * r.size.width / 64,
            r.origin.y + (y + 0.5) * r.size.height / 64, c);
      if (color_dist(c, want, want, want) > 3) bad++;
    }
  CHECK_MSG(bad == 0, "%d image-view pixels were smoothed", bad);
  g_free(s.data);
  g_free(chk);
  gtk_window_destroy(GTK_WINDOW(win));
}

static void test_goal_gallery(void) {
  GtkWidget *gal = mb_goal_gallery_new();
  MbGoalGallery *g = MB_GOAL_GALLERY(gal);
  GtkWidget *win = show_in_window(gal, 560, 420, "goal gallery");
  CHECK(mb_goal_gallery_append(g, NULL, 64, 64, 192, "bad") == -1);
  for (int i = 0; i < 10; i++) {
    guint8 *img = block_image(i, 64, 64);
    char label[32];
    g_snprintf(label, sizeof label, "goal %03d", i);
    CHECK(mb_goal_gallery_append(g, img, 64, 64, 192, label) == i);
    g_free(img);
  }
  CHECK(mb_goal_gallery_get_n_items(g) == 10);
  settle(150);
  Rec picked = {0};
  g_signal_connect(gal, "goal-picked", G_CALLBACK(rec_int1), &picked);
  GtkWidget *thumb = mb_goal_gallery_get_thumbnail(g, 6);
  CHECK(thumb != NULL);
  graphene_rect_t tr;
  CHECK(gtk_widget_compute_bounds(thumb, gal, &tr));
  click_at(gal, tr.origin.x + tr.size.width / 2, tr.origin.y + tr.size.height / 3, "1");
  CHECK_MSG(wait_flag(&picked.count, 5000), "clicking thumbnail 6 emitted nothing");
  CHECK(picked.a == 6);
  CHECK(mb_goal_gallery_get_selected(g) == 6);
  settle(100);
  Shot s = shoot(gal, "goal-gallery");
  /* The selected thumbnail's frame is drawn in the accent colour, the others' is not. */
  GtkWidget *child6 = gtk_widget_get_parent(thumb);
  GtkWidget *child2 = gtk_widget_get_parent(mb_goal_gallery_get_thumbnail(g, 2));
  graphene_rect_t c6, c2;
  CHECK(gtk_widget_compute_bounds(child6, gal, &c6) && gtk_widget_compute_bounds(child2, gal, &c2));
  int in6 = count_color(&s, (int)c6.origin.x, (int)c6.origin.y, (int)(c6.origin.x + c6.size.width),
                        (int)(c6.origin.y + c6.size.height), 0x35, 0x84, 0xe4, 12);
  int in2 = count_color(&s, (int)c2.origin.x, (int)c2.origin.y, (int)(c2.origin.x + c2.size.width),
                        (int)(c2.origin.y + c2.size.height), 0x35, 0x84, 0xe4, 12);
  CHECK_MSG(in6 > 100 && in2 == 0, "highlight pixels: selected %d, other %d", in6, in2);
  /* Programmatic selection moves the highlight without a "goal-picked". */
  mb_goal_gallery_set_selected(g, 1);
  CHECK(mb_goal_gallery_get_selected(g) == 1 && picked.count == 1);
  mb_goal_gallery_set_selected(g, 99);
  CHECK(mb_goal_gallery_get_selected(g) == -1);
  g_free(s.data);
  mb_goal_gallery_clear(g);
  CHECK(mb_goal_gallery_get_n_items(g) == 0);
  gtk_window_destroy(GTK_WINDOW(win));
}

/* ---- filmstrip ---- */

static void test_filmstrip(void) {
  GtkWidget *fs = mb_filmstrip_new();
  MbFilmstrip *f = MB_FILMSTRIP(fs);
  GtkWidget *win = show_in_window(fs, 1000, 900, "filmstrip");
  const int T = 13, W = 64, H = 64;
  guint8 *frames = g_malloc((gsize)T * W * H * 3);
  static const double costs[3][4] = {
      {41.5, 37.25, 12.125, 55}, {20.5, 9.75, 18, 30.5}, {8.5, 7.25, 9, 11}};
  for (int g = 0; g < 3; g++) {
    char title[64];
    g_snprintf(title, sizeof title, "Iteration %d", g + 1);
    CHECK(mb_filmstrip_add_group(f, title) == g);
    for (int r = 0; r < 4; r++) {
      for (int t = 0; t < T; t++) {
        guint8 *img = block_image(t + r * 3 + g, W, H);
        memcpy(frames + (gsize)t * W * H * 3, img, (gsize)W * H * 3);
        g_free(img);
      }
      CHECK(mb_filmstrip_add_row(f, g, costs[g][r], frames, T, W, H, W * 3) == r);
    }
  }
  CHECK(mb_filmstrip_add_row(f, 7, 1, frames, T, W, H, W * 3) == -1);
  CHECK(mb_filmstrip_get_best_row(f, 0) == 2 && mb_filmstrip_get_best_row(f, 1) == 1 &&
        mb_filmstrip_get_best_row(f, 2) == 1);
  settle(150);
  Shot s = shoot(fs, "filmstrip");
  GdkRGBA hl;
  mb_filmstrip_get_highlight_color(f, &hl);
  graphene_rect_t best, other;
  CHECK(mb_filmstrip_get_row_rect(f, 0, 2, &best) && mb_filmstrip_get_row_rect(f, 0, 0, &other));
  /* Left border of the best row, halfway down: the highlight colour; the same spot of another row
   * is not. */
  CHECK_COLOR(&s, best.origin.x + 1, best.origin.y + best.size.height / 2, to8(hl.red),
              to8(hl.green), to8(hl.blue), 10);
  int c[3];
  pixel(&s, other.origin.x + 1, other.origin.y + other.size.height / 2, c);
  CHECK(color_dist(c, to8(hl.red), to8(hl.green), to8(hl.blue)) > 40);
  /* A frame's pixels are the data's: the centre of frame (1, 3, 7). */
  graphene_rect_t fr;
  CHECK(mb_filmstrip_get_frame_rect(f, 1, 3, 7, &fr));
  CHECK(!mb_filmstrip_get_frame_rect(f, 1, 3, 13, NULL)); /* columns are 0..12 */
  CHECK(!mb_filmstrip_get_frame_rect(f, 1, 4, 0, NULL));
  guint8 *img = block_image(7 + 3 * 3 + 1, W, H);
  int iy = 2, ix = 2; /* a background pixel near the corner: scaled 56/64, still that colour */
  pixel(&s, fr.origin.x + (ix + 0.5) * fr.size.width / W,
        fr.origin.y + (iy + 0.5) * fr.size.height / H, c);
  const guint8 *want = img + (iy * W + ix) * 3;
  CHECK_MSG(color_dist(c, want[0], want[1], want[2]) <= 6,
            "frame pixel (%d, %d, %d) vs (%d, %d, %d)", c[0], c[1], c[2], want[0], want[1],
            want[2]);
  g_free(img);
  g_free(s.data);

  Rec clicked = {0};
  g_signal_connect(fs, "frame-clicked", G_CALLBACK(rec_int3), &clicked);
  mb_filmstrip_scroll_to_row(f, 1, 3);
  settle(100);
  CHECK(mb_filmstrip_get_frame_rect(f, 1, 3, 7, &fr));
  click_at(fs, fr.origin.x + fr.size.width / 2, fr.origin.y + fr.size.height / 2, "1");
  CHECK_MSG(wait_flag(&clicked.count, 5000), "clicking a frame emitted nothing");
  CHECK_MSG(clicked.a == 1 && clicked.b == 3 && clicked.c == 7, "frame-clicked(%d, %d, %d)",
            clicked.a, clicked.b, clicked.c);

  char *path = g_strdup_printf("%s/filmstrip-export.png", artefacts);
  GError *error = NULL;
  CHECK_MSG(mb_filmstrip_export_png(f, path, &error), "%s", error ? error->message : "?");
  g_clear_error(&error);
  GdkTexture *tex = gdk_texture_new_from_filename(path, &error);
  CHECK_MSG(tex != NULL, "reading %s: %s", path, error ? error->message : "?");
  g_clear_error(&error);
  if (tex) {
    /* All 3 x 4 rows are in the file even though the window shows fewer. */
    CHECK(gdk_texture_get_height(tex) > 3 * 4 * 56);
    g_object_unref(tex);
  }
  g_free(path);
  mb_filmstrip_clear(f);
  CHECK(mb_filmstrip_get_n_groups(f) == 0);
  path = g_strdup_printf("%s/filmstrip-empty.png", artefacts);
  CHECK(!mb_filmstrip_export_png(f, path, &error));
  CHECK(!g_file_test(path, G_FILE_TEST_EXISTS));
  g_clear_error(&error);
  g_free(path);
  g_free(frames);
  gtk_window_destroy(GTK_WINDOW(win));
}

/* ---- heatmap ---- */

static void test_heatmap(void) {
  GtkWidget *hm = mb_heatmap_new();
  MbHeatmap *h = MB_HEATMAP(hm);
  GtkWidget *win = show_in_window(hm, 620, 520, "heatmap");
  const int N = 12;
  float *grid = g_new(float, N *N);
  int gi = 8, gj = 4; /* the goal cell: lowest value */
  for (int j = 0; j < N; j++)
    for (int i = 0; i < N; i++) grid[j * N + i] = (float)(hypot(i - gi, j - gj) * 2.5);
  grid[(N - 1) * N + 0] = NAN; /* top-left corner: not computed yet */
  grid[(N - 1) * N + 1] = NAN;
  CHECK(mb_heatmap_set_grid(h, grid, N));
  mb_heatmap_set_extent(h, -0.3, 0.3, -0.3, 0.3);
  mb_heatmap_set_title(h, "Q-distance to goal");
  mb_heatmap_set_units(h, "steps");
  double gx = -0.3 + (gi + 0.5) * 0.05, gy = -0.3 + (gj + 0.5) * 0.05;
  mb_heatmap_set_marker(h, gx, gy);
  settle(120);
  double lo, hi;
  CHECK(mb_heatmap_get_value_range(h, &lo, &hi));
  CHECK_NEAR(lo, 0, 0);
  Shot s = shoot(hm, "heatmap");
  graphene_rect_t cr;
  /* The lowest cell has viridis[0] (away from the marker drawn over its centre). */
  CHECK(mb_heatmap_get_cell_rect(h, gi, gj, &cr));
  CHECK_COLOR(&s, cr.origin.x + 3, cr.origin.y + 3, 68, 1, 84, 2);
  /* The highest cell has viridis[255]: the far corner from the goal, (0, 11) is NaN so (0, 10)...
   */
  int mi = 0, mj = 0;
  float mv = -1;
  for (int j = 0; j < N; j++)
    for (int i = 0; i < N; i++)
      if (isfinite(grid[j * N + i]) && grid[j * N + i] > mv) mv = grid[j * N + i], mi = i, mj = j;
  CHECK(mb_heatmap_get_cell_rect(h, mi, mj, &cr));
  CHECK_COLOR(&s, cr.origin.x + cr.size.width / 2, cr.origin.y + cr.size.height / 2, 253, 231, 37,
              2);
  /* A cell that is not computed is neither colour: grey hatching. */
  CHECK(mb_heatmap_get_cell_rect(h, 0, N - 1, &cr));
  int c[3];
  pixel(&s, cr.origin.x + cr.size.width / 2, cr.origin.y + cr.size.height / 2, c);
  CHECK_MSG(abs(c[0] - c[1]) < 12 && abs(c[1] - c[2]) < 12, "NaN cell (%d, %d, %d) is not grey",
            c[0], c[1], c[2]);
  g_free(s.data);

  /* Progressive filling: a NaN cell gets a value. */
  CHECK(mb_heatmap_set_cell(h, 0, N - 1, 0));
  CHECK(!mb_heatmap_set_cell(h, N, 0, 1));
  CHECK_NEAR(mb_heatmap_get_cell(h, 0, N - 1), 0, 0);

  /* Hover and click on cell (3, 7). */
  Rec clicked = {0};
  g_signal_connect(hm, "cell-clicked", G_CALLBACK(rec_int2), &clicked);
  CHECK(mb_heatmap_get_cell_rect(h, 3, 7, &cr));
  pointer_to(hm, cr.origin.x + cr.size.width / 2, cr.origin.y + cr.size.height / 2);
  int hi_ = -1, hj = -1, hovered = 0;
  for (int k = 0; k < 300 && !hovered; k++) {
    settle(10);
    hovered = mb_heatmap_get_hover_cell(h, &hi_, &hj) && hi_ == 3 && hj == 7;
  }
  CHECK_MSG(hovered, "hover cell (%d, %d), want (3, 7)", hi_, hj);
  char *tip = mb_heatmap_describe_cell(h, 3, 7);
  CHECK(tip && strstr(tip, "x = -0.125 m") && strstr(tip, "y = 0.075 m") && strstr(tip, "steps"));
  g_free(tip);
  xdotool("click", "1", NULL);
  CHECK_MSG(wait_flag(&clicked.count, 5000), "clicking a cell emitted nothing");
  CHECK_MSG(clicked.a == 3 && clicked.b == 7, "cell-clicked(%d, %d)", clicked.a, clicked.b);
  int ci, cj;
  CHECK(mb_heatmap_cell_at(h, cr.origin.x + 1, cr.origin.y + 1, &ci, &cj) && ci == 3 && cj == 7);
  CHECK(!mb_heatmap_cell_at(h, 1, 1, NULL, NULL));

  /* Exports: PNG on white and CSV with every cell. */
  char *png = g_strdup_printf("%s/heatmap-export.png", artefacts);
  char *csv = g_strdup_printf("%s/heatmap-export.csv", artefacts);
  GError *error = NULL;
  CHECK(mb_heatmap_export_png(h, png, 560, 480, &error));
  CHECK(mb_heatmap_export_csv(h, csv, &error));
  g_clear_error(&error);
  char *text = NULL;
  CHECK(g_file_get_contents(csv, &text, NULL, NULL));
  if (text) {
    char **lines = g_strsplit(text, "\n", -1);
    CHECK(!strcmp(lines[0], "i,j,x,y,value"));
    CHECK(g_strv_length(lines) == (guint)(N * N + 2)); /* header, cells, trailing empty */
    CHECK(!strcmp(lines[1 + (N - 1) * N + 1], "1,11,-0.225,0.275,")); /* still NaN: empty value */
    char want[64];
    g_snprintf(want, sizeof want, "%d,%d,", gi, gj);
    CHECK(g_str_has_prefix(lines[1 + gj * N + gi], want) &&
          g_str_has_suffix(lines[1 + gj * N + gi], ",0"));
    g_strfreev(lines);
    g_free(text);
  }
  GdkTexture *tex = gdk_texture_new_from_filename(png, NULL);
  CHECK(tex && gdk_texture_get_width(tex) == 560 && gdk_texture_get_height(tex) == 480);
  g_clear_object(&tex);
  CHECK(!mb_heatmap_export_csv(h, "/nonexistent-dir/x.csv", &error) && error);
  g_clear_error(&error);
  g_free(png);
  g_free(csv);
  g_free(grid);
  gtk_window_destroy(GTK_WINDOW(win));
}

/* ---- histogram, plot, job row ---- */

static void test_histogram(void) {
  GtkWidget *hg = mb_histogram_new();
  MbHistogram *h = MB_HISTOGRAM(hg);
  mb_histogram_set_title(h, "Sample costs per CEM iteration");
  mb_histogram_set_axis_labels(h, "cost (pixel l2)", "samples");
  GtkWidget *win = show_in_window(hg, 600, 360, "histogram");
  mb_rng rng = mb_rng_make(7, 1);
  float v[200];
  for (int it = 0; it < 3; it++) {
    for (int k = 0; k < 200; k++)
      v[k] = 900.0f - it * 250.0f + (120.0f - it * 30.0f) * mb_rng_normal(&rng);
    v[0] = NAN; /* skipped */
    char name[32];
    g_snprintf(name, sizeof name, "iteration %d", it + 1);
    CHECK(mb_histogram_add_series(h, name, v, 200) == it);
  }
  int bins = mb_histogram_get_bins(h, NULL, 0);
  CHECK(bins == 15); /* sqrt(199) rounded up */
  for (int s = 0; s < 3; s++) {
    int total = 0;
    for (int b = 0; b < bins; b++) total += mb_histogram_get_count(h, s, b);
    CHECK_MSG(total == 199, "series %d counts %d values", s, total);
  }
  CHECK(mb_histogram_get_count(h, 3, 0) == -1);
  settle(100);
  Shot s = shoot(hg, "histogram");
  /* Each series' colour appears (outline and legend). */
  for (int k = 0; k < 3; k++) {
    float c[3];
    mb_palette_color(k, c);
    int n = count_color(&s, 0, 0, s.width, s.height, to8(c[0]), to8(c[1]), to8(c[2]), 10);
    CHECK_MSG(n > 50, "series %d colour on %d pixels", k, n);
  }
  g_free(s.data);
  char *png = g_strdup_printf("%s/histogram-export.png", artefacts);
  CHECK(mb_histogram_export_png(h, png, 0, 0, NULL));
  g_free(png);
  gtk_window_destroy(GTK_WINDOW(win));
}

static void test_plots(void) {
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *loss = mb_plot_new(), *timeline = mb_plot_new(), *actions = mb_plot_new();
  gtk_box_append(GTK_BOX(box), loss);
  gtk_box_append(GTK_BOX(box), timeline);
  gtk_box_append(GTK_BOX(box), actions);

  /* Training loss: 20000 steps on a log axis (decimated drawing), appended live. */
  MbPlot *lp = MB_PLOT(loss);
  mb_plot_set_title(lp, "Training loss");
  mb_plot_set_axis_labels(lp, "step", "loss");
  mb_plot_set_log_y(lp, TRUE);
  int train = mb_plot_add_series(lp, "train", NULL, NULL, 0);
  int val = mb_plot_add_series(lp, "validation", NULL, NULL, 0);
  mb_rng rng = mb_rng_make(3, 2);
  for (int k = 0; k < 20000; k++) {
    double l = 2.0 * exp(-k / 3000.0) + 0.02;
    mb_plot_append_point(lp, train, k, l * exp(0.15 * mb_rng_normal(&rng)));
    if (k % 500 == 0) mb_plot_append_point(lp, val, k, l * 1.2);
  }
  CHECK(mb_plot_get_n_points(lp, train) == 20000 && mb_plot_get_n_points(lp, val) == 40);
  CHECK(!mb_plot_append_point(lp, 5, 0, 0));

  /* Episode timeline: predicted vs true distance, with the scrubber. */
  MbPlot *tp = MB_PLOT(timeline);
  mb_plot_set_title(tp, "Episode");
  mb_plot_set_axis_labels(tp, "step", "distance");
  float pred[31], truth[31];
  for (int k = 0; k <= 30; k++) {
    pred[k] = (float)(25 * exp(-k / 9.0) + 1.5 * sin(k));
    truth[k] = (float)(0.22 * exp(-k / 11.0));
  }
  mb_plot_add_series(tp, "stale", NULL, pred, 31);
  mb_plot_clear(tp);
  CHECK(mb_plot_get_n_series(tp) == 0);
  for (int k = 0; k <= 30; k++) truth[k] *= 100;
  mb_plot_add_series(tp, "predicted distance (steps)", NULL, pred, 31);
  int ts = mb_plot_add_series(tp, "true object distance (cm)", NULL, truth, 31);
  mb_plot_set_series_dashed(tp, ts, TRUE);
  g_object_set(timeline, "cursor-visible", TRUE, "cursor-step", 1.0, NULL);
  mb_plot_set_cursor_x(tp, 4);

  /* Action mean +- std over the horizon, one band per dimension. */
  MbPlot *ap = MB_PLOT(actions);
  mb_plot_set_title(ap, "Action mean ± std over the horizon");
  mb_plot_set_axis_labels(ap, "horizon step", "action");
  static const char *dims[] = {"dx", "dy", "dz", "grip"};
  for (int d = 0; d < 4; d++) {
    float mean[13], std[13];
    for (int t = 0; t < 13; t++) {
      mean[t] = (float)(0.6 * sin(0.4 * t + d)), std[t] = (float)(0.35 - 0.02 * t);
    }
    int s = mb_plot_add_series(ap, dims[d], NULL, mean, 13);
    CHECK(mb_plot_set_series_std(ap, s, std, 13));
  }

  GtkWidget *win = show_in_window(box, 720, 900, "plots");
  settle(150);
  Shot s = shoot(loss, "plot-loss");
  /* Where the validation series passes, its colour is drawn (checked at a few points). */
  float vc[3];
  mb_palette_color(1, vc);
  int found = 0;
  for (int k = 1; k < 40; k += 6) {
    double wx, wy;
    double l = (2.0 * exp(-k * 500 / 3000.0) + 0.02) * 1.2;
    CHECK(mb_plot_data_to_widget(lp, k * 500, l, &wx, &wy));
    found += count_color(&s, (int)wx - 2, (int)wy - 2, (int)wx + 3, (int)wy + 3, to8(vc[0]),
                         to8(vc[1]), to8(vc[2]), 20) > 0;
  }
  CHECK_MSG(found >= 6, "validation curve seen at %d of 7 points", found);
  CHECK(!mb_plot_data_to_widget(lp, 10, -1, NULL, NULL)); /* y <= 0 on a log axis */
  g_free(s.data);
  s = shoot(actions, "plot-actions");
  g_free(s.data);

  /* Drag the scrubber from step 4 to about step 17: snapped to whole steps. */
  Rec moved = {0};
  g_signal_connect(timeline, "cursor-moved", G_CALLBACK(rec_double), &moved);
  double x4, x17, y;
  CHECK(mb_plot_data_to_widget(tp, 4, 10, &x4, &y));
  CHECK(mb_plot_data_to_widget(tp, 17.2, 10, &x17, NULL));
  drag(timeline, x4, y, x17 - x4, 0, "1");
  sync_input(timeline);
  CHECK_MSG(moved.count > 0, "dragging the cursor emitted nothing");
  CHECK_NEAR(moved.d, 17, 0);
  CHECK_NEAR(mb_plot_get_cursor_x(tp), 17, 0);
  s = shoot(timeline, "plot-timeline");
  double cx;
  CHECK(mb_plot_data_to_widget(tp, 17, 10, &cx, &y));
  graphene_rect_t pr;
  CHECK(mb_plot_get_plot_rect(tp, &pr));
  /* The cursor is a line in the accent colour spanning the plot. */
  CHECK(count_color(&s, (int)cx - 1, (int)(pr.origin.y + pr.size.height * 0.8), (int)cx + 2,
                    (int)(pr.origin.y + pr.size.height * 0.8) + 1, 0x35, 0x84, 0xe4, 12) > 0);
  g_free(s.data);
  char *png = g_strdup_printf("%s/plot-actions-export.png", artefacts);
  CHECK(mb_plot_export_png(ap, png, 640, 360, NULL));
  g_free(png);
  gtk_window_destroy(GTK_WINDOW(win));
}

static void test_job_row(void) {
  GtkWidget *list = gtk_list_box_new();
  gtk_list_box_set_selection_mode(GTK_LIST_BOX(list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class(list, "boxed-list");
  GtkWidget *row = mb_job_row_new("Train distance (push1)");
  GtkWidget *done = mb_job_row_new("Collect dataset (reach, 2000 episodes)");
  gtk_list_box_append(GTK_LIST_BOX(list), row);
  gtk_list_box_append(GTK_LIST_BOX(list), done);
  MbJobRow *jr = MB_JOB_ROW(row);
  mb_job_row_set_progress(jr, 0.42, "4200 / 10000 steps · 85 steps/s · ETA 1:08");
  mb_job_row_set_status(jr, "loss 0.0412 · lr 3e-4");
  float l[300];
  for (int k = 0; k < 300; k++) l[k] = (float)(1.5 * exp(-k / 60.0) + 0.03 + 0.01 * sin(k));
  mb_job_row_set_loss(jr, l, 300);
  mb_job_row_append_loss(jr, NAN);
  mb_job_row_set_progress(MB_JOB_ROW(done), 1.0, "2000 / 2000 episodes");
  mb_job_row_set_status(MB_JOB_ROW(done), "finished in 3:12");
  mb_job_row_set_active(MB_JOB_ROW(done), FALSE);
  GtkWidget *win = show_in_window(list, 640, 160, "jobs");
  CHECK_NEAR(mb_job_row_get_fraction(jr), 0.42, 1e-12);
  Rec paused = {0}, cancelled = {0};
  g_signal_connect(row, "pause-toggled", G_CALLBACK(rec_bool), &paused);
  g_signal_connect(row, "cancel-clicked", G_CALLBACK(rec_void), &cancelled);
  mb_job_row_set_paused(jr, TRUE); /* from code: no signal */
  mb_job_row_set_paused(jr, FALSE);
  CHECK(paused.count == 0);
  GtkWidget *pb = mb_job_row_get_pause_button(jr), *cb = mb_job_row_get_cancel_button(jr);
  click_at(pb, gtk_widget_get_width(pb) / 2.0, gtk_widget_get_height(pb) / 2.0, "1");
  CHECK_MSG(wait_flag(&paused.count, 5000), "the pause button emitted nothing");
  CHECK(paused.a == TRUE && mb_job_row_get_paused(jr));
  settle(80);
  Shot s = shoot(list, "job-rows");
  g_free(s.data);
  click_at(cb, gtk_widget_get_width(cb) / 2.0, gtk_widget_get_height(cb) / 2.0, "1");
  CHECK_MSG(wait_flag(&cancelled.count, 5000), "the cancel button emitted nothing");
  /* A finished job's buttons do nothing. */
  Rec dead = {0};
  g_signal_connect(done, "cancel-clicked", G_CALLBACK(rec_void), &dead);
  GtkWidget *dcb = mb_job_row_get_cancel_button(MB_JOB_ROW(done));
  click_at(dcb, gtk_widget_get_width(dcb) / 2.0, gtk_widget_get_height(dcb) / 2.0, "1");
  settle(200);
  CHECK(dead.count == 0);
  gtk_window_destroy(GTK_WINDOW(win));
}

/* ---- GtkBuilder: every type is usable from .ui files ---- */

static void test_builder(void) {
  static const char *ui =
      "<interface><object class='GtkBox' id='box'>"
      "<child><object class='MbSceneView' id='scene'><property "
      "name='agent-view'>True</property></object></child>"
      "<child><object class='MbImageView'><property name='caption'>goal</property></object></child>"
      "<child><object class='MbGoalGallery'><property "
      "name='thumbnail-size'>72</property></object></child>"
      "<child><object class='MbFilmstrip'/></child>"
      "<child><object class='MbHeatmap'><property name='units'>steps</property></object></child>"
      "<child><object class='MbHistogram'/></child>"
      "<child><object class='MbPlot'><property name='log-y'>True</property></object></child>"
      "<child><object class='MbJobRow'><property name='title'>job</property></object></child>"
      "</object></interface>";
  GtkBuilder *b = gtk_builder_new();
  GError *error = NULL;
  CHECK_MSG(gtk_builder_add_from_string(b, ui, -1, &error), "%s", error ? error->message : "?");
  g_clear_error(&error);
  GObject *scene = gtk_builder_get_object(b, "scene");
  CHECK(scene && mb_scene_view_get_agent_view(MB_SCENE_VIEW(scene)));
  g_object_unref(b);
}

/* ---- desktop integration: the .desktop file and the icon it names ---- */

static void test_desktop_files(void) {
  char *desktop = g_build_filename(MBOLD_SOURCE_ASSETS, "org.mbold.Workbench.desktop", NULL);
  GKeyFile *kf = g_key_file_new();
  GError *error = NULL;
  CHECK_MSG(g_key_file_load_from_file(kf, desktop, G_KEY_FILE_NONE, &error), "%s: %s", desktop,
            error ? error->message : "?");
  g_clear_error(&error);
  char *exec = g_key_file_get_string(kf, "Desktop Entry", "Exec", NULL);
  char *icon = g_key_file_get_string(kf, "Desktop Entry", "Icon", NULL);
  char *type = g_key_file_get_string(kf, "Desktop Entry", "Type", NULL);
  CHECK(exec && !strcmp(exec, "mbold"));
  CHECK(icon && !strcmp(icon, "org.mbold.Workbench"));
  CHECK(type && !strcmp(type, "Application"));
  char *svg = g_strdup_printf("%s/icons/hicolor/scalable/apps/%s.svg", MBOLD_SOURCE_ASSETS,
                              icon ? icon : "?");
  GdkTexture *tex = gdk_texture_new_from_filename(svg, &error);
  CHECK_MSG(tex != NULL, "%s: %s", svg, error ? error->message : "?");
  g_clear_error(&error);
  if (tex) {
    /* Not blank: the heatmap's viridis[0] goal cell is there. */
    int w = gdk_texture_get_width(tex), h = gdk_texture_get_height(tex);
    Shot s = {w, h, (gsize)w * 4, g_malloc((gsize)w * h * 4)};
    gdk_texture_download(tex, s.data, s.stride);
    CHECK(count_color(&s, 0, 0, w, h, 0x44, 0x01, 0x54, 3) > 10);
    g_free(s.data);
    g_object_unref(tex);
  }
  g_free(svg);
  g_free(exec);
  g_free(icon);
  g_free(type);
  g_key_file_free(kf);
  g_free(desktop);
}

/* Counts GLib/GTK warnings and criticals (a widget finalized with template children left, a
 * g_return_if_fail hit...): every one is a bug. Without D-Bus, GTK's session-bus warning is
 * expected and not counted. */
static int log_problems;

static GLogWriterOutput count_problems(GLogLevelFlags level, const GLogField *fields, gsize n,
                                       gpointer data) {
  (void)data;
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)) {
    const char *msg = "";
    for (gsize k = 0; k < n; k++)
      if (!strcmp(fields[k].key, "MESSAGE") && fields[k].length < 0) msg = fields[k].value;
    if (!strstr(msg, "session bus")) log_problems++;
  }
  return g_log_writer_default(level, fields, n, data);
}

/* Runs one test and reports how long it took (information, not a check). */
#define RUN(fn)                                                                                    \
  do {                                                                                             \
    gint64 t0_ = g_get_monotonic_time();                                                           \
    fn();                                                                                          \
    g_print("%-22s %6.2f s\n", #fn, (g_get_monotonic_time() - t0_) / 1e6);                         \
  } while (0)

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s ARTEFACT_DIR\n", argv[0]);
    return 2;
  }
  artefacts = argv[1];
  g_log_set_writer_func(count_problems, NULL, NULL);
  g_mkdir_with_parents(artefacts, 0755);
  gtk_init();
  if (!GDK_IS_X11_DISPLAY(gdk_display_get_default())) {
    fprintf(stderr, "test_ui_gui: needs an X11 display for xdotool (run under xvfb-run)\n");
    return 1;
  }
  mb_ui_register_types();
  RUN(test_builder);
  RUN(test_desktop_files);
  RUN(test_scene_view);
  RUN(bench_scene_view);
  RUN(test_image_view);
  RUN(test_goal_gallery);
  RUN(test_filmstrip);
  RUN(test_heatmap);
  RUN(test_histogram);
  RUN(test_plots);
  RUN(test_job_row);
  CHECK_MSG(log_problems == 0, "%d warnings or criticals were logged", log_problems);
  g_print("artefacts in %s\n", artefacts);
  return test_exit_code("test_ui_gui");
}
