/* MuJoCo free-camera model and screen projection; see mb-camera.h. */
#include "mb-camera.h"

#include <cglm/cglm.h>
#include <math.h>
#include <string.h>

/* Points closer to the eye plane than this (in clip w) are treated as behind the camera: dividing
 * by a tiny w would throw them to infinity. */
#define CLIP_W_EPS 1e-5f

static double deg2rad(double d) {
  return d * (M_PI / 180.0);
}

void mb_free_camera_frame(const MbFreeCamera *cam, double eye[3], double forward[3], double up[3]) {
  double ca = cos(deg2rad(cam->azimuth)), sa = sin(deg2rad(cam->azimuth));
  double ce = cos(deg2rad(cam->elevation)), se = sin(deg2rad(cam->elevation));
  double f[3] = {ce * ca, ce * sa, se};
  double u[3] = {-se * ca, -se * sa, ce};
  for (int k = 0; k < 3; k++) {
    if (eye) eye[k] = cam->lookat[k] - cam->distance * f[k];
    if (forward) forward[k] = f[k];
    if (up) up[k] = u[k];
  }
}

void mb_free_camera_view_matrix(const MbFreeCamera *cam, float view[16]) {
  double e[3], f[3], u[3];
  mb_free_camera_frame(cam, e, f, u);
  vec3 eye = {(float)e[0], (float)e[1], (float)e[2]};
  vec3 center = {(float)(e[0] + f[0]), (float)(e[1] + f[1]), (float)(e[2] + f[2])};
  vec3 upv = {(float)u[0], (float)u[1], (float)u[2]};
  mat4 m;
  glm_lookat(eye, center, upv, m);
  memcpy(view, m, sizeof(float) * 16); /* cglm's mat4 is column-major like OpenGL */
}

void mb_free_camera_normalise(MbFreeCamera *cam) {
  if (!isfinite(cam->azimuth)) cam->azimuth = 0;
  if (!isfinite(cam->elevation)) cam->elevation = 0;
  if (!isfinite(cam->distance)) cam->distance = 1;
  cam->azimuth = fmod(cam->azimuth + 180.0, 360.0);
  if (cam->azimuth < 0) cam->azimuth += 360.0;
  cam->azimuth -= 180.0;
  if (cam->elevation > MB_FREE_CAMERA_MAX_ELEVATION) cam->elevation = MB_FREE_CAMERA_MAX_ELEVATION;
  if (cam->elevation < -MB_FREE_CAMERA_MAX_ELEVATION)
    cam->elevation = -MB_FREE_CAMERA_MAX_ELEVATION;
  if (cam->distance < MB_FREE_CAMERA_MIN_DISTANCE) cam->distance = MB_FREE_CAMERA_MIN_DISTANCE;
  if (cam->distance > MB_FREE_CAMERA_MAX_DISTANCE) cam->distance = MB_FREE_CAMERA_MAX_DISTANCE;
}

void mb_free_camera_orbit(MbFreeCamera *cam, double dx, double dy, double viewport_h) {
  if (viewport_h <= 0) return;
  cam->azimuth -= 180.0 * dx / viewport_h;
  cam->elevation -= 180.0 * dy / viewport_h;
  mb_free_camera_normalise(cam);
}

void mb_free_camera_pan(MbFreeCamera *cam, double dx, double dy, double viewport_h,
                        double fovy_deg) {
  if (viewport_h <= 0) return;
  double f[3], u[3];
  mb_free_camera_frame(cam, NULL, f, u);
  /* right = forward x up */
  double r[3] = {f[1] * u[2] - f[2] * u[1], f[2] * u[0] - f[0] * u[2], f[0] * u[1] - f[1] * u[0]};
  /* Metres per pixel in the plane through lookat facing the camera. */
  double m_per_px = 2.0 * cam->distance * tan(deg2rad(fovy_deg) / 2.0) / viewport_h;
  for (int k = 0; k < 3; k++) cam->lookat[k] += m_per_px * (-dx * r[k] + dy * u[k]);
}

void mb_free_camera_zoom(MbFreeCamera *cam, double steps) {
  cam->distance *= pow(1.1, steps);
  mb_free_camera_normalise(cam);
}

double mb_projection_fovy(const float proj[16], double fallback_deg) {
  /* A perspective matrix has m[11] = -1 and m[5] = 1 / tan(fovy / 2). */
  if (!proj || fabsf(proj[11] + 1.0f) > 1e-4f || !(proj[5] > 0)) return fallback_deg;
  return 2.0 * atan(1.0 / proj[5]) * (180.0 / M_PI);
}

void mb_mat4_mul(const float proj[16], const float view[16], float view_proj[16]) {
  mat4 p, v, r;
  memcpy(p, proj, sizeof p);
  memcpy(v, view, sizeof v);
  glm_mat4_mul(p, v, r);
  memcpy(view_proj, r, sizeof r);
}

static void to_clip(const float m[16], const float p[3], float out[4]) {
  for (int r = 0; r < 4; r++)
    out[r] = m[0 * 4 + r] * p[0] + m[1 * 4 + r] * p[1] + m[2 * 4 + r] * p[2] + m[3 * 4 + r];
}

/* Signed distance to OpenGL's near clip plane (z >= -w); >= 0 in front. Requiring also w > 0
 * keeps degenerate matrices from dividing by zero. */
static float near_dist(const float c[4]) {
  return c[3] > CLIP_W_EPS ? c[2] + c[3] : -1.0f;
}

static void clip_to_screen(const float c[4], const MbViewport *vp, double out[2]) {
  double nx = c[0] / c[3], ny = c[1] / c[3];
  out[0] = vp->x + (nx + 1.0) * 0.5 * vp->width;
  out[1] = vp->y + (1.0 - ny) * 0.5 * vp->height;
}

bool mb_project_point(const float view_proj[16], const MbViewport *vp, const float p[3],
                      double out[2]) {
  float c[4];
  to_clip(view_proj, p, c);
  if (!(near_dist(c) >= 0)) return false;
  clip_to_screen(c, vp, out);
  return true;
}

/* Liang-Barsky clip of the 2D segment a-b to the rectangle [x0, x1] x [y0, y1]. */
static bool clip_2d(double a[2], double b[2], double x0, double y0, double x1, double y1) {
  double t0 = 0, t1 = 1, dx = b[0] - a[0], dy = b[1] - a[1];
  double p[4] = {-dx, dx, -dy, dy}, q[4] = {a[0] - x0, x1 - a[0], a[1] - y0, y1 - a[1]};
  for (int k = 0; k < 4; k++) {
    if (p[k] == 0) {
      if (q[k] < 0) return false;
      continue;
    }
    double t = q[k] / p[k];
    if (p[k] < 0) {
      if (t > t1) return false;
      if (t > t0) t0 = t;
    } else {
      if (t < t0) return false;
      if (t < t1) t1 = t;
    }
  }
  double ax = a[0], ay = a[1];
  a[0] = ax + t0 * dx, a[1] = ay + t0 * dy;
  b[0] = ax + t1 * dx, b[1] = ay + t1 * dy;
  return true;
}

bool mb_project_segment(const float view_proj[16], const MbViewport *vp, const float a[3],
                        const float b[3], double out_a[2], double out_b[2]) {
  float ca[4], cb[4];
  to_clip(view_proj, a, ca);
  to_clip(view_proj, b, cb);
  float da = near_dist(ca), db = near_dist(cb);
  if (!(da >= 0) && !(db >= 0)) return false;
  if (!(da >= 0) || !(db >= 0)) {
    /* Clip coordinates are linear along the segment before the divide, so cut there. Points
     * behind the eye have w <= 0 and da/db = -1 above; recompute the plane distance from z + w so
     * the cut lands on the near plane. */
    float za = ca[2] + ca[3], zb = cb[2] + cb[3];
    if (za == zb) return false;
    float t = za / (za - zb);
    float cut[4];
    for (int k = 0; k < 4; k++) cut[k] = ca[k] + t * (cb[k] - ca[k]);
    if (!(cut[3] > CLIP_W_EPS)) return false;
    if (!(da >= 0))
      memcpy(ca, cut, sizeof cut);
    else
      memcpy(cb, cut, sizeof cut);
  }
  clip_to_screen(ca, vp, out_a);
  clip_to_screen(cb, vp, out_b);
  /* A guard band of one viewport on each side: far enough that a clipped line's ends are never
   * visible, close enough that Cairo's 24.8 fixed point coordinates cannot overflow. */
  return clip_2d(out_a, out_b, vp->x - vp->width, vp->y - vp->height, vp->x + 2 * vp->width,
                 vp->y + 2 * vp->height);
}
