/* ui/ without a display: MuJoCo free-camera maths, projection and clipping, viridis, axis ticks. */
#include "../test_util.h"
#include "mb-camera.h"
#include "mb-colormap.h"
#include "mb-ticks.h"

#include <cglm/cglm.h>
#include <math.h>
#include <string.h>

static void perspective(double fovy_deg, double aspect, float proj[16]) {
  mat4 p;
  glm_perspective(glm_rad((float)fovy_deg), (float)aspect, 0.01f, 100.0f, p);
  memcpy(proj, p, sizeof p);
}

static void view_proj_of(const MbFreeCamera *cam, double fovy, double aspect, float vp[16]) {
  float view[16], proj[16];
  mb_free_camera_view_matrix(cam, view);
  perspective(fovy, aspect, proj);
  mb_mat4_mul(proj, view, vp);
}

static void test_frame_matches_mujoco(void) {
  /* mjv_updateCamera: forward = (ce ca, ce sa, se), up = (-se ca, -se sa, ce). */
  MbFreeCamera cam = {.lookat = {0.1, -0.2, 0.3}, .distance = 2, .azimuth = 0, .elevation = 0};
  double eye[3], f[3], u[3];
  mb_free_camera_frame(&cam, eye, f, u);
  CHECK_NEAR(f[0], 1, 1e-12);
  CHECK_NEAR(u[2], 1, 1e-12);
  CHECK_NEAR(eye[0], 0.1 - 2, 1e-12);
  CHECK_NEAR(eye[1], -0.2, 1e-12);
  cam.azimuth = 90, cam.elevation = -45;
  mb_free_camera_frame(&cam, eye, f, u);
  CHECK_NEAR(f[0], 0, 1e-12);
  CHECK_NEAR(f[1], cos(M_PI / 4), 1e-12);
  CHECK_NEAR(f[2], -sin(M_PI / 4), 1e-12);
  /* Looking down from above: the eye is above the look-at point. */
  CHECK(eye[2] > cam.lookat[2]);
  CHECK_NEAR(f[0] * u[0] + f[1] * u[1] + f[2] * u[2], 0, 1e-12);
}

static void test_view_matrix(void) {
  MbFreeCamera cam = {.lookat = {0.3, 0.1, 0.05}, .distance = 1.5, .azimuth = 30, .elevation = -20};
  float view[16];
  mb_free_camera_view_matrix(&cam, view);
  /* The look-at point sits straight ahead of the eye, distance away: (0, 0, -d) in eye space. */
  float p[3] = {0.3f, 0.1f, 0.05f}, e[3];
  for (int r = 0; r < 3; r++)
    e[r] = view[r] * p[0] + view[4 + r] * p[1] + view[8 + r] * p[2] + view[12 + r];
  CHECK_NEAR(e[0], 0, 1e-5);
  CHECK_NEAR(e[1], 0, 1e-5);
  CHECK_NEAR(e[2], -1.5, 1e-5);
  /* A point above the look-at point appears above the screen centre. */
  float vp[16];
  view_proj_of(&cam, 45, 4.0 / 3, vp);
  MbViewport port = {0, 0, 640, 480};
  double s[2];
  CHECK(mb_project_point(vp, &port, p, s));
  CHECK_NEAR(s[0], 320, 1e-3);
  CHECK_NEAR(s[1], 240, 1e-3);
  float up[3] = {0.3f, 0.1f, 0.25f};
  CHECK(mb_project_point(vp, &port, up, s));
  CHECK(s[1] < 240);
}

static void test_orbit_zoom_limits(void) {
  MbFreeCamera cam = {.distance = 2, .azimuth = 90, .elevation = -45};
  mb_free_camera_orbit(&cam, 240, 0, 480); /* half the height right: azimuth -= 90 */
  CHECK_NEAR(cam.azimuth, 0, 1e-9);
  mb_free_camera_orbit(&cam, 0, 48, 480); /* down: elevation -= 18 */
  CHECK_NEAR(cam.elevation, -63, 1e-9);
  mb_free_camera_orbit(&cam, 0, 4800, 480);
  CHECK_NEAR(cam.elevation, -MB_FREE_CAMERA_MAX_ELEVATION, 1e-9);
  mb_free_camera_orbit(&cam, 480 * 3, 0, 480); /* -540 degrees wraps into [-180, 180) */
  CHECK(cam.azimuth >= -180 && cam.azimuth < 180);
  CHECK_NEAR(cam.azimuth, -180, 1e-9);
  mb_free_camera_zoom(&cam, 1);
  CHECK_NEAR(cam.distance, 2.2, 1e-9);
  mb_free_camera_zoom(&cam, -1000);
  CHECK_NEAR(cam.distance, MB_FREE_CAMERA_MIN_DISTANCE, 1e-12);
  cam.azimuth = NAN;
  mb_free_camera_normalise(&cam);
  CHECK(isfinite(cam.azimuth));
}

static void test_pan_follows_pointer(void) {
  /* Dragging by (dx, dy) pixels moves the old look-at point by (dx, dy) on screen. */
  MbFreeCamera cam = {.lookat = {0.2, 0.1, 0}, .distance = 1.2, .azimuth = 120, .elevation = -30};
  float old[3] = {0.2f, 0.1f, 0};
  mb_free_camera_pan(&cam, 50, -30, 480, 45);
  float vp[16];
  view_proj_of(&cam, 45, 640.0 / 480, vp);
  MbViewport port = {0, 0, 640, 480};
  double s[2];
  CHECK(mb_project_point(vp, &port, old, s));
  CHECK_NEAR(s[0], 320 + 50, 0.05);
  CHECK_NEAR(s[1], 240 - 30, 0.05);
}

static void test_projection_and_clipping(void) {
  MbFreeCamera cam = {.lookat = {0, 0, 0}, .distance = 1, .azimuth = 0, .elevation = 0};
  float vp[16], proj[16];
  view_proj_of(&cam, 60, 1, vp);
  perspective(60, 1, proj);
  CHECK_NEAR(mb_projection_fovy(proj, 45), 60, 1e-3);
  CHECK_NEAR(mb_projection_fovy(NULL, 45), 45, 0);
  MbViewport port = {10, 20, 200, 200};
  double s[2], a[2], b[2];
  float behind[3] = {-2, 0, 0}; /* the eye is at x = -1 looking along +x */
  CHECK(!mb_project_point(vp, &port, behind, s));
  float front[3] = {0, 0, 0};
  CHECK(mb_project_point(vp, &port, front, s));
  CHECK_NEAR(s[0], 110, 1e-3);
  CHECK_NEAR(s[1], 120, 1e-3);
  /* A segment through the eye plane keeps only its front part, with finite ends. */
  float p0[3] = {-3, 0.5f, 0}, p1[3] = {0, 0.1f, 0};
  CHECK(mb_project_segment(vp, &port, p0, p1, a, b));
  CHECK(isfinite(a[0]) && isfinite(a[1]));
  CHECK_NEAR(b[1], 120, 1e-3); /* the front end at z = 0 stays on the centre row */
  CHECK(fabs(a[0]) < 1e6 && fabs(b[0]) < 1e6);
  float q0[3] = {-3, 0, 0}, q1[3] = {-2, 0, 0};
  CHECK(!mb_project_segment(vp, &port, q0, q1, a, b));
  /* A segment far off screen is dropped by the guard band. */
  float r0[3] = {0, 50, 0}, r1[3] = {0, 60, 0};
  CHECK(!mb_project_segment(vp, &port, r0, r1, a, b));
}

static void test_viridis(void) {
  unsigned char c[3];
  mb_viridis_rgb8(0, c);
  CHECK(c[0] == 68 && c[1] == 1 && c[2] == 84);
  mb_viridis_rgb8(1, c);
  CHECK(c[0] == 253 && c[1] == 231 && c[2] == 37);
  mb_viridis_rgb8(0.5, c);
  CHECK(c[0] == 33 && c[1] == 145 && c[2] == 140);
  CHECK(mb_viridis_index(NAN) == 0 && mb_viridis_index(-1) == 0 && mb_viridis_index(2) == 255);
  /* Perceptually ordered: relative luminance increases along the table. */
  double prev = -1;
  int monotonic = 1;
  for (int i = 0; i < MB_VIRIDIS_SIZE; i++) {
    float f[3];
    mb_viridis_entry(i, f);
    double lin[3];
    for (int k = 0; k < 3; k++)
      lin[k] = f[k] <= 0.04045 ? f[k] / 12.92 : pow((f[k] + 0.055) / 1.055, 2.4);
    double y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
    if (y <= prev) monotonic = 0;
    prev = y;
  }
  CHECK(monotonic);
  float a[3], b[3];
  mb_palette_color(0, a);
  mb_palette_color(mb_palette_size(), b);
  CHECK(a[0] == b[0] && a[1] == b[1] && a[2] == b[2]);
  mb_palette_color(-1, b);
  CHECK(isfinite(b[0]));
}

static void test_ticks(void) {
  MbTicks t;
  mb_ticks_linear(0, 1, 6, &t);
  CHECK(t.n == 6);
  CHECK_NEAR(t.value[0], 0, 0);
  CHECK_NEAR(t.value[5], 1, 1e-12);
  CHECK_NEAR(t.step, 0.2, 1e-12);
  CHECK(t.decimals == 1);
  mb_ticks_linear(-0.3, 0.3, 5, &t);
  int has_zero = 0;
  for (int k = 0; k < t.n; k++) has_zero |= t.value[k] == 0.0;
  CHECK(has_zero);
  char buf[32];
  mb_ticks_format(-1e-17, 2, buf, sizeof buf);
  CHECK_MSG(!strcmp(buf, "0.00"), "got %s", buf);
  mb_ticks_format(0.30000000004, 1, buf, sizeof buf);
  CHECK(!strcmp(buf, "0.3"));
  mb_ticks_linear(5, 5, 5, &t);
  CHECK(t.n == 0);
  mb_ticks_linear(0, NAN, 5, &t);
  CHECK(t.n == 0);
  mb_ticks_log(1e-3, 10, &t);
  CHECK(t.n == 5);
  CHECK_NEAR(t.value[0], 1e-3, 1e-15);
  CHECK_NEAR(t.value[4], 10, 1e-12);
  mb_ticks_label(&t, 0, buf, sizeof buf);
  CHECK_MSG(!strcmp(buf, "0.001"), "got %s", buf);
  mb_ticks_label(&t, 4, buf, sizeof buf);
  CHECK_MSG(!strcmp(buf, "10"), "got %s", buf);
  mb_ticks_log(0, 10, &t);
  CHECK(t.n == 0);
  double lo = 0.13, hi = 9.7;
  mb_ticks_round_range(&lo, &hi, 6);
  CHECK_NEAR(lo, 0, 1e-12);
  CHECK_NEAR(hi, 10, 1e-12);
  lo = hi = 3;
  mb_ticks_round_range(&lo, &hi, 6);
  CHECK(lo < 3 && hi > 3);
}

int main(void) {
  test_frame_matches_mujoco();
  test_view_matrix();
  test_orbit_zoom_limits();
  test_pan_follows_pointer();
  test_projection_and_clipping();
  test_viridis();
  test_ticks();
  return test_exit_code("test_ui_unit");
}
