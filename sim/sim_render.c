#include "sim_render.h"
#include "sim_guard.h"
#include "sim_internal.h"

#include "mb_err.h"

#define EGL_EGLEXT_PROTOTYPES
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GL/gl.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tiles per row of the batch buffer. */
#define TILE_COLS 16

struct sim_renderer {
  const sim_model *model; /* borrowed */
  EGLContext ctx;         /* this renderer's OpenGL compatibility context */
  mjvScene scn;           /* MuJoCo's abstract scene, rebuilt per frame */
  mjvOption opt;          /* what is drawn (sites hidden) */
  mjrContext con;         /* GPU-side resources and the offscreen buffer */
  int buf_w, buf_h;       /* offscreen buffer size (pixels) */
  int max_w, max_h;       /* largest free-camera image */
  int max_batch;          /* most tiles per agent batch */
  uint8_t *readbuf;       /* buf_w x buf_h x 3, bottom row first (readback) */
  bool have_context;      /* con holds resources to free */
};

/* ---- EGL display (one per process, never terminated: other renderers may be alive) ---- */

static pthread_once_t display_once = PTHREAD_ONCE_INIT;
static EGLDisplay display = EGL_NO_DISPLAY;
static EGLConfig display_config;
static char display_err[256];

static void init_display(void) {
  EGLDisplay dpy = eglGetPlatformDisplay(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
  if (dpy == EGL_NO_DISPLAY) {
    snprintf(display_err, sizeof display_err,
             "EGL: no surfaceless display (is Mesa's EGL installed? libegl-mesa0)");
    return;
  }
  EGLint major, minor;
  if (!eglInitialize(dpy, &major, &minor)) {
    snprintf(display_err, sizeof display_err, "EGL: cannot initialise the display (error 0x%x)",
             eglGetError());
    return;
  }
  static const EGLint attribs[] = {EGL_SURFACE_TYPE,
                                   EGL_PBUFFER_BIT,
                                   EGL_RENDERABLE_TYPE,
                                   EGL_OPENGL_BIT,
                                   EGL_RED_SIZE,
                                   8,
                                   EGL_GREEN_SIZE,
                                   8,
                                   EGL_BLUE_SIZE,
                                   8,
                                   EGL_DEPTH_SIZE,
                                   24,
                                   EGL_NONE};
  EGLint n = 0;
  if (!eglChooseConfig(dpy, attribs, &display_config, 1, &n) || n < 1) {
    snprintf(display_err, sizeof display_err,
             "EGL: no config with desktop OpenGL and a depth buffer");
    return;
  }
  display = dpy;
}

static EGLContext make_context(char *err, size_t err_sz) {
  pthread_once(&display_once, init_display);
  if (display == EGL_NO_DISPLAY) return mb_fail_null(err, err_sz, "%s", display_err);
  if (!eglBindAPI(EGL_OPENGL_API))
    return mb_fail_null(err, err_sz, "EGL: desktop OpenGL is not available");
  static const EGLint ctx_attribs[] = {EGL_CONTEXT_OPENGL_PROFILE_MASK,
                                       EGL_CONTEXT_OPENGL_COMPATIBILITY_PROFILE_BIT, EGL_NONE};
  EGLContext ctx = eglCreateContext(display, display_config, EGL_NO_CONTEXT, ctx_attribs);
  if (ctx == EGL_NO_CONTEXT)
    return mb_fail_null(err, err_sz, "EGL: cannot create an OpenGL compatibility context (0x%x)",
                        eglGetError());
  if (!eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, ctx)) {
    EGLint e = eglGetError();
    eglDestroyContext(display, ctx);
    return mb_fail_null(err, err_sz, "EGL: cannot make a surfaceless context current (0x%x)", e);
  }
  return ctx;
}

static bool make_current(sim_renderer *r, char *err, size_t err_sz) {
  eglBindAPI(EGL_OPENGL_API);
  if (eglGetCurrentContext() == r->ctx) return true;
  if (!eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, r->ctx))
    return mb_fail(err, err_sz,
                   "EGL: renderer context cannot be made current on this thread "
                   "(is another thread using it?)");
  return true;
}

bool sim_gl_info(char *renderer, size_t renderer_sz, char *version, size_t version_sz, char *err,
                 size_t err_sz) {
  EGLContext ctx = make_context(err, err_sz);
  if (!ctx) return false;
  const char *r = (const char *)glGetString(GL_RENDERER);
  const char *v = (const char *)glGetString(GL_VERSION);
  if (renderer) snprintf(renderer, renderer_sz, "%s", r ? r : "?");
  if (version) snprintf(version, version_sz, "%s", v ? v : "?");
  eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
  eglDestroyContext(display, ctx);
  return true;
}

/* ---- renderer ---- */

/* The setjmp lives in its own small frame so no caller variable can be clobbered. */
static __attribute__((noinline)) bool make_mj_context_guarded(sim_renderer *r, const mjModel *copy,
                                                              char *err, size_t err_sz) {
  sim_guard g;
  if (SIM_GUARD_TRY(g)) {
    mjv_makeScene(r->model->m, &r->scn, 400);
    mjr_makeContext(copy, &r->con, mjFONTSCALE_100);
    r->have_context = true;
    mjr_setBuffer(mjFB_OFFSCREEN, &r->con);
    sim_guard_pop(&g);
    return true;
  }
  return mb_fail(err, err_sz, "MuJoCo renderer: %s", g.msg);
}

sim_renderer *sim_renderer_create(const sim_model *sm, int max_width, int max_height, int max_batch,
                                  sim_render_quality quality, char *err, size_t err_sz) {
  if (max_width < SIM_IMAGE_SIZE) max_width = SIM_IMAGE_SIZE;
  if (max_height < SIM_IMAGE_SIZE) max_height = SIM_IMAGE_SIZE;
  if (max_batch < 1) max_batch = 1;
  if (max_width > 4096 || max_height > 4096 || max_batch > 256)
    return mb_fail_null(err, err_sz, "renderer size %dx%d (batch %d) is too large", max_width,
                        max_height, max_batch);
  sim_renderer *r = calloc(1, sizeof *r);
  if (!r) return mb_fail_null(err, err_sz, "out of memory");
  r->model = sm;
  r->max_w = max_width;
  r->max_h = max_height;
  r->max_batch = max_batch;
  int cols = max_batch < TILE_COLS ? max_batch : TILE_COLS;
  int rows = (max_batch + TILE_COLS - 1) / TILE_COLS;
  r->buf_w = cols * SIM_IMAGE_SIZE > max_width ? cols * SIM_IMAGE_SIZE : max_width;
  r->buf_h = rows * SIM_IMAGE_SIZE > max_height ? rows * SIM_IMAGE_SIZE : max_height;
  r->readbuf = malloc((size_t)r->buf_w * (size_t)r->buf_h * 3);
  if (!r->readbuf) {
    free(r);
    return mb_fail_null(err, err_sz, "out of memory");
  }
  r->ctx = make_context(err, err_sz);
  if (!r->ctx) {
    free(r->readbuf);
    free(r);
    return NULL;
  }
  mjv_defaultOption(&r->opt);
  for (int i = 0; i < mjNGROUP; i++) r->opt.sitegroup[i] = 0;
  mjv_defaultScene(&r->scn);
  mjr_defaultContext(&r->con);

  /* The offscreen buffer's size and sampling come from the model: set them on a private copy
   * rather than touching the shared model. */
  mjModel *copy = mj_copyModel(NULL, sm->m);
  if (!copy) {
    sim_renderer_free(r);
    return mb_fail_null(err, err_sz, "out of memory");
  }
  copy->vis.global.offwidth = r->buf_w;
  copy->vis.global.offheight = r->buf_h;
  copy->vis.quality.offsamples = quality == SIM_QUALITY_VIEW ? 4 : 0;
  bool made = make_mj_context_guarded(r, copy, err, err_sz);
  mj_deleteModel(copy);
  if (!made) {
    sim_renderer_free(r);
    return NULL;
  }
  if (r->con.currentBuffer != mjFB_OFFSCREEN || r->con.offWidth < r->buf_w ||
      r->con.offHeight < r->buf_h) {
    sim_renderer_free(r);
    return mb_fail_null(err, err_sz, "MuJoCo renderer: no offscreen buffer of %dx%d", r->buf_w,
                        r->buf_h);
  }
  r->scn.flags[mjRND_SHADOW] = 0;
  r->scn.flags[mjRND_REFLECTION] = 0;
  r->scn.flags[mjRND_SKYBOX] = 0;
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  return r;
}

void sim_renderer_free(sim_renderer *r) {
  if (!r) return;
  if (r->ctx) {
    eglBindAPI(EGL_OPENGL_API);
    if (eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, r->ctx)) {
      if (r->have_context) mjr_freeContext(&r->con);
      eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    }
    eglDestroyContext(display, r->ctx);
  }
  mjv_freeScene(&r->scn);
  free(r->readbuf);
  free(r);
}

/* Copies a w x h block at (x, y) of the bottom-up read buffer (row stride bw) into a top-down
 * image. */
static void copy_flipped(const uint8_t *src, int bw, int x, int y, int w, int h, uint8_t *dst) {
  for (int row = 0; row < h; row++)
    memcpy(dst + (size_t)row * w * 3, src + ((size_t)(y + h - 1 - row) * bw + x) * 3,
           (size_t)w * 3);
}

bool sim_render_agent_batch(sim_renderer *r, sim_world *const *worlds, const int *tiles, int n,
                            uint8_t *rgb, char *err, size_t err_sz) {
  if (n < 1) return true;
  int max_tile = 0;
  for (int i = 0; i < n; i++) {
    int t = tiles ? tiles[i] : i;
    if (t < 0 || t >= r->max_batch)
      return mb_fail(err, err_sz, "tile %d outside the renderer's batch of %d", t, r->max_batch);
    if (worlds[i]->model != r->model)
      return mb_fail(err, err_sz, "world and renderer belong to different scenes");
    if (t > max_tile) max_tile = t;
  }
  if (!make_current(r, err, err_sz)) return false;
  mjvCamera cam;
  mjv_defaultCamera(&cam);
  cam.type = mjCAMERA_FIXED;
  cam.fixedcamid = r->model->cam_agent;
  const int S = SIM_IMAGE_SIZE;
  for (int i = 0; i < n; i++) {
    int t = tiles ? tiles[i] : i;
    mjrRect vp = {(t % TILE_COLS) * S, (t / TILE_COLS) * S, S, S};
    mjv_updateScene(r->model->m, worlds[i]->d, &r->opt, NULL, &cam, mjCAT_ALL, &r->scn);
    mjr_render(vp, &r->scn, &r->con);
  }
  int rows = max_tile / TILE_COLS + 1;
  mjrRect all = {0, 0, rows > 1 ? TILE_COLS * S : (max_tile + 1) * S, rows * S};
  mjr_readPixels(r->readbuf, NULL, all, &r->con);
  for (int i = 0; i < n; i++) {
    int t = tiles ? tiles[i] : i;
    copy_flipped(r->readbuf, all.width, (t % TILE_COLS) * S, (t / TILE_COLS) * S, S, S,
                 rgb + (size_t)i * SIM_IMAGE_BYTES);
  }
  return true;
}

bool sim_render_agent(sim_renderer *r, sim_world *w, uint8_t *rgb, char *err, size_t err_sz) {
  return sim_render_agent_batch(r, &w, NULL, 1, rgb, err, err_sz);
}

bool sim_render_free(sim_renderer *r, sim_world *w, const sim_free_camera *c, int width, int height,
                     uint8_t *rgb, char *err, size_t err_sz) {
  if (width < 1 || height < 1 || width > r->max_w || height > r->max_h)
    return mb_fail(err, err_sz, "image %dx%d outside the renderer's maximum %dx%d", width, height,
                   r->max_w, r->max_h);
  if (w->model != r->model)
    return mb_fail(err, err_sz, "world and renderer belong to different scenes");
  if (!make_current(r, err, err_sz)) return false;
  mjvCamera cam;
  mjv_defaultCamera(&cam);
  cam.type = mjCAMERA_FREE;
  for (int i = 0; i < 3; i++) cam.lookat[i] = c->lookat[i];
  cam.distance = c->distance;
  cam.azimuth = c->azimuth;
  cam.elevation = c->elevation;
  mjrRect vp = {0, 0, width, height};
  mjv_updateScene(r->model->m, w->d, &r->opt, NULL, &cam, mjCAT_ALL, &r->scn);
  mjr_render(vp, &r->scn, &r->con);
  mjr_readPixels(r->readbuf, NULL, vp, &r->con);
  copy_flipped(r->readbuf, width, 0, 0, width, height, rgb);
  return true;
}

void sim_free_camera_default(const sim_model *sm, sim_free_camera *cam) {
  (void)sm;
  cam->lookat[0] = 0;
  cam->lookat[1] = 0.1;
  cam->lookat[2] = 0.1;
  cam->distance = 1.6;
  cam->azimuth = 90;
  cam->elevation = -35;
}

/* ---- camera maths (what mjv_updateCamera and mjr_render do, without GL) ---- */

typedef struct cam_pose {
  double pos[3], forward[3], up[3]; /* eye, unit view direction, unit up */
  double fovy;                      /* degrees */
} cam_pose;

static void camera_pose(const sim_world *w, const sim_free_camera *c, cam_pose *p) {
  const mjModel *m = w->model->m;
  if (!c) {
    int id = w->model->cam_agent;
    const mjtNum *x = w->d->cam_xpos + 3 * id, *mat = w->d->cam_xmat + 9 * id;
    for (int i = 0; i < 3; i++) {
      p->pos[i] = x[i];
      p->up[i] = mat[3 * i + 1];
      p->forward[i] = -mat[3 * i + 2];
    }
    p->fovy = m->cam_fovy[id];
  } else {
    double az = c->azimuth * M_PI / 180, el = c->elevation * M_PI / 180;
    double ca = cos(az), sa = sin(az), ce = cos(el), se = sin(el);
    double f[3] = {ce * ca, ce * sa, se}, u[3] = {-se * ca, -se * sa, ce};
    for (int i = 0; i < 3; i++) {
      p->forward[i] = f[i];
      p->up[i] = u[i];
      p->pos[i] = c->lookat[i] - c->distance * f[i];
    }
    p->fovy = m->vis.global.fovy;
  }
}

void sim_camera_matrices(const sim_world *w, const sim_free_camera *c, int width, int height,
                         float view[16], float proj[16]) {
  const mjModel *m = w->model->m;
  cam_pose p;
  camera_pose(w, c, &p);
  const double *f = p.forward;
  double s[3] = {f[1] * p.up[2] - f[2] * p.up[1], f[2] * p.up[0] - f[0] * p.up[2],
                 f[0] * p.up[1] - f[1] * p.up[0]};
  double sn = sqrt(s[0] * s[0] + s[1] * s[1] + s[2] * s[2]);
  for (int i = 0; i < 3; i++) s[i] /= sn;
  double u[3] = {s[1] * f[2] - s[2] * f[1], s[2] * f[0] - s[0] * f[2], s[0] * f[1] - s[1] * f[0]};
  /* column-major: element (row, col) at [col * 4 + row] */
  double V[16] = {0};
  for (int i = 0; i < 3; i++) {
    V[i * 4 + 0] = s[i];
    V[i * 4 + 1] = u[i];
    V[i * 4 + 2] = -f[i];
  }
  V[12] = -(s[0] * p.pos[0] + s[1] * p.pos[1] + s[2] * p.pos[2]);
  V[13] = -(u[0] * p.pos[0] + u[1] * p.pos[1] + u[2] * p.pos[2]);
  V[14] = f[0] * p.pos[0] + f[1] * p.pos[1] + f[2] * p.pos[2];
  V[15] = 1;
  double n = m->vis.map.znear * m->stat.extent, fa = m->vis.map.zfar * m->stat.extent;
  double t = n * tan(p.fovy * M_PI / 360), b = -t;
  double hw = 0.5 * (double)width / (double)height * (t - b), l = -hw, rr = hw;
  double P[16] = {0};
  P[0] = 2 * n / (rr - l);
  P[5] = 2 * n / (t - b);
  P[8] = (rr + l) / (rr - l);
  P[9] = (t + b) / (t - b);
  P[10] = -(fa + n) / (fa - n);
  P[11] = -1;
  P[14] = -2 * fa * n / (fa - n);
  for (int i = 0; i < 16; i++) {
    view[i] = (float)V[i];
    proj[i] = (float)P[i];
  }
}

bool sim_project_point(const sim_world *w, const sim_free_camera *cam, int width, int height,
                       const double p[3], double *col, double *row) {
  float V[16], P[16];
  sim_camera_matrices(w, cam, width, height, V, P);
  double e[4], c[4];
  for (int i = 0; i < 4; i++)
    e[i] = V[0 * 4 + i] * p[0] + V[1 * 4 + i] * p[1] + V[2 * 4 + i] * p[2] + V[3 * 4 + i];
  for (int i = 0; i < 4; i++)
    c[i] = P[0 * 4 + i] * e[0] + P[1 * 4 + i] * e[1] + P[2 * 4 + i] * e[2] + P[3 * 4 + i] * e[3];
  if (c[3] <= 0) return false;
  *col = (c[0] / c[3] + 1) * 0.5 * width;
  *row = (1 - c[1] / c[3]) * 0.5 * height;
  return true;
}
