/* Offscreen rendering of worlds with MuJoCo's renderer in an EGL context that needs no display
 * (surfaceless platform, OpenGL compatibility context). One renderer per thread: its context is
 * made current on the calling thread at each call, so a renderer may move between threads but
 * must never be used by two at once.
 *
 * Images are uint8 H x W x 3, top row first. */
#ifndef SIM_RENDER_H
#define SIM_RENDER_H

#include "sim_world.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sim_renderer sim_renderer;

/* MuJoCo free-camera parameters (mjvCamera of type mjCAMERA_FREE); angles in degrees, elevation
 * negative when looking down. */
typedef struct sim_free_camera {
  double lookat[3]; /* point looked at (world metres) */
  double distance;  /* from lookat to the eye (metres) */
  double azimuth;   /* degrees about +z, 90 looks along +y */
  double elevation; /* degrees, negative looks down */
} sim_free_camera;

typedef enum sim_render_quality {
  SIM_QUALITY_AGENT, /* what agents see: no shadows, reflections or multisampling */
  SIM_QUALITY_VIEW,  /* for people: 4x multisampling (see sim_renderer_create) */
} sim_render_quality;

/* Creates a renderer for worlds of model m (borrowed) able to render free-camera images up to
 * max_width x max_height and batches of up to max_batch agent images (sim_render_agent_batch).
 * NULL + err when EGL, the surfaceless platform or an OpenGL compatibility context is missing. */
sim_renderer *sim_renderer_create(const sim_model *m, int max_width, int max_height, int max_batch,
                                  sim_render_quality quality, char *err, size_t err_sz);
void sim_renderer_free(sim_renderer *r); /* NULL is fine; call it on any thread */

/* The 64x64 agent view of w into rgb (SIM_IMAGE_BYTES). */
bool sim_render_agent(sim_renderer *r, sim_world *w, uint8_t *rgb, char *err, size_t err_sz);
/* Agent views of n worlds (n <= max_batch) into rgb (n * SIM_IMAGE_BYTES): world i is drawn into
 * tile `tiles[i]` of one offscreen buffer (tiles may be NULL: tile i), read back once. The pixels
 * of a world do not depend on the other worlds of the batch; a fixed tile gives bit-identical
 * images, and the tile index is what callers keep fixed for exact reproducibility. */
bool sim_render_agent_batch(sim_renderer *r, sim_world *const *worlds, const int *tiles, int n,
                            uint8_t *rgb, char *err, size_t err_sz);
/* A free-camera view of w, width x height (up to the maximum given at creation), into rgb. */
bool sim_render_free(sim_renderer *r, sim_world *w, const sim_free_camera *cam, int width,
                     int height, uint8_t *rgb, char *err, size_t err_sz);

/* A sensible free camera for the model: the whole table seen from the front. */
void sim_free_camera_default(const sim_model *m, sim_free_camera *cam);

/* View and projection matrices (column-major, OpenGL convention, standard depth range) of the
 * agent camera (cam NULL) or a free camera, for an image of width x height. A world point p maps
 * to clip = proj * view * (p, 1); pixel column = (ndc.x + 1) / 2 * width, row from the top =
 * (1 - ndc.y) / 2 * height, as in the images above. w supplies the model and camera poses. */
void sim_camera_matrices(const sim_world *w, const sim_free_camera *cam, int width, int height,
                         float view[16], float proj[16]);
/* Projects a world point into pixel coordinates of such an image; false if it is behind the
 * camera. */
bool sim_project_point(const sim_world *w, const sim_free_camera *cam, int width, int height,
                       const double p[3], double *col, double *row);

/* GL_RENDERER and GL_VERSION of the offscreen context (a temporary one is made): for `mbold info`.
 * False + err when no EGL context can be made. */
bool sim_gl_info(char *renderer, size_t renderer_sz, char *version, size_t version_sz, char *err,
                 size_t err_sz);

#endif
