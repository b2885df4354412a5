/* Camera maths for the scene view, plain C (cglm): MuJoCo's free camera (lookat, distance, azimuth,
 * elevation) moved by mouse input, and projection of 3D points and segments to the screen with
 * OpenGL-convention, column-major view and projection matrices. No GTK here, so the unit suite can
 * test it without a display. */
#ifndef MB_CAMERA_H
#define MB_CAMERA_H

#include <stdbool.h>

/* MuJoCo's mjvCamera of type mjCAMERA_FREE, with the same meaning of every field. */
typedef struct {
  double lookat[3]; /* point the camera looks at and orbits around, world metres (3) */
  double distance;  /* eye to lookat, metres, > 0 */
  double azimuth;   /* degrees about world +z; 0 looks along +x; kept in [-180, 180) */
  double elevation; /* degrees; negative looks down from above; kept in [-89, 89] */
} MbFreeCamera;

/* The limits the mouse moves keep the camera within. */
#define MB_FREE_CAMERA_MIN_DISTANCE  0.01
#define MB_FREE_CAMERA_MAX_DISTANCE  1000.0
#define MB_FREE_CAMERA_MAX_ELEVATION 89.0

/* Eye position and unit forward/up vectors, as mjv_updateCamera computes them:
 * forward = (cos e cos a, cos e sin a, sin e), up = (-sin e cos a, -sin e sin a, cos e),
 * eye = lookat - distance * forward. Any output may be NULL. */
void mb_free_camera_frame(const MbFreeCamera *cam, double eye[3], double forward[3], double up[3]);

/* World-to-eye matrix (column-major, OpenGL convention: the eye looks down -z). */
void mb_free_camera_view_matrix(const MbFreeCamera *cam, float view[16]);

/* Orbit as MuJoCo's mjMOUSE_ROTATE_V: dx, dy are the pointer motion in pixels (y down) and
 * viewport_h the viewport height in pixels; azimuth -= 180 dx/h, elevation -= 180 dy/h. */
void mb_free_camera_orbit(MbFreeCamera *cam, double dx, double dy, double viewport_h);

/* Pan in the screen plane so that the point under the pointer at the lookat depth follows it:
 * fovy_deg is the vertical field of view of the projection in use. */
void mb_free_camera_pan(MbFreeCamera *cam, double dx, double dy, double viewport_h,
                        double fovy_deg);

/* Zoom: steps > 0 moves away (scroll down), < 0 moves closer; distance *= 1.1^steps. */
void mb_free_camera_zoom(MbFreeCamera *cam, double steps);

/* Keeps azimuth in [-180, 180), elevation in [-89, 89] and distance within the limits above. */
void mb_free_camera_normalise(MbFreeCamera *cam);

/* Vertical field of view in degrees that a perspective projection matrix encodes, or fallback
 * when proj is NULL or not a perspective matrix. */
double mb_projection_fovy(const float proj[16], double fallback_deg);

/* A viewport: where NDC [-1, 1]^2 lands on the screen, in pixels, y down. */
typedef struct {
  double x, y;          /* top-left corner, pixels */
  double width, height; /* size, pixels, > 0 */
} MbViewport;

/* Projects a world point with view_proj = proj * view. Returns false (out untouched) when the
 * point is behind or on the eye plane (clip w <= near epsilon). out = (x, y) in pixels. */
bool mb_project_point(const float view_proj[16], const MbViewport *vp, const float p[3],
                      double out[2]);

/* Projects the segment a-b, clipped to the part in front of the eye. Returns false when nothing
 * of it is in front; otherwise writes the screen end points (pixels) to out_a and out_b. */
bool mb_project_segment(const float view_proj[16], const MbViewport *vp, const float a[3],
                        const float b[3], double out_a[2], double out_b[2]);

/* view_proj = proj * view (column-major 4x4). */
void mb_mat4_mul(const float proj[16], const float view[16], float view_proj[16]);

#endif
