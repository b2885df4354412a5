#include "gui_scene.h"

#include "mb_clock.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#define MAX_VIEW_W 3840
#define MAX_VIEW_H 2160
/* Live rendering rate: headroom over the 30 fps the view must keep while the planner loads the
 * cores. */
#define LIVE_FPS 40.0

struct gui_scene {
  GThread *thread;             /* the renderer */
  GMutex lock;                 /* guards everything below */
  GCond wake;                  /* something changed */
  char *assets;                /* scenes folder (owned) */
  bool quit;                   /* stop the thread */
  sim_task task;               /* wanted scene */
  bool task_changed;           /* reload the model */
  double *state;               /* latest state (n doubles) or NULL */
  int state_n;                 /* its length */
  sim_task state_task;         /* the task the state belongs to */
  bool state_changed;          /* render again */
  sim_free_camera cam;         /* wanted camera */
  bool have_cam;               /* cam was set */
  int width, height;           /* wanted size */
  bool live;                   /* render continuously */
  gui_scene_frame *ready;      /* newest frame not taken */
  char *error;                 /* error not reported yet */
  bool have_default_cam;       /* default_cam valid */
  sim_free_camera default_cam; /* the scene's default */
  double fps, render_ms;       /* rates */
  uint64_t seq;                /* frames made */
};

void gui_scene_frame_free(gui_scene_frame *f) {
  if (!f) return;
  free(f->rgb);
  free(f);
}

static void set_error(gui_scene *s, const char *msg) {
  g_mutex_lock(&s->lock);
  g_free(s->error);
  s->error = g_strdup(msg);
  g_mutex_unlock(&s->lock);
}

typedef struct render_ctx {
  sim_model *model;       /* current scene */
  sim_world *world;       /* state holder */
  sim_renderer *renderer; /* VIEW quality, up to the largest size */
  sim_task task;          /* of model */
} render_ctx;

static void ctx_clear(render_ctx *c) {
  sim_renderer_free(c->renderer);
  sim_world_free(c->world);
  sim_model_free(c->model);
  memset(c, 0, sizeof *c);
}

static bool ctx_load(gui_scene *s, render_ctx *c, sim_task task) {
  char err[512];
  ctx_clear(c);
  c->task = task;
  c->model = sim_model_load(task, s->assets, err, sizeof err);
  if (c->model) c->world = sim_world_create(c->model, err, sizeof err);
  if (c->world)
    c->renderer = sim_renderer_create(c->model, MAX_VIEW_W, MAX_VIEW_H, 1, SIM_QUALITY_AGENT, err,
                                      sizeof err);
  if (!c->renderer) {
    set_error(s, err);
    ctx_clear(c);
    return false;
  }
  sim_free_camera cam;
  sim_free_camera_default(c->model, &cam);
  g_mutex_lock(&s->lock);
  s->default_cam = cam;
  s->have_default_cam = true;
  if (!s->have_cam) s->cam = cam;
  g_mutex_unlock(&s->lock);
  return true;
}

static gpointer scene_thread(gpointer data) {
  gui_scene *s = data;
  render_ctx c;
  memset(&c, 0, sizeof c);
  double last = 0, window_start = mb_now(), render_sum = 0;
  mb_pacer pacer = {1.0 / LIVE_FPS, 0};
  int window_frames = 0;
  for (;;) {
    g_mutex_lock(&s->lock);
    while (!s->quit && !s->task_changed && !s->state_changed && !s->live)
      g_cond_wait(&s->wake, &s->lock);
    if (s->quit) {
      g_mutex_unlock(&s->lock);
      break;
    }
    bool reload = s->task_changed;
    sim_task task = s->task;
    s->task_changed = false;
    g_mutex_unlock(&s->lock);
    if (reload || !c.model) {
      if (!ctx_load(s, &c, task)) {
        g_mutex_lock(&s->lock);
        /* Wait for another task rather than spinning on a broken scene. */
        while (!s->quit && !s->task_changed) g_cond_wait(&s->wake, &s->lock);
        g_mutex_unlock(&s->lock);
        continue;
      }
      g_mutex_lock(&s->lock);
      s->state_changed = true;
      g_mutex_unlock(&s->lock);
    }
    /* Pace live rendering: frames start 1 / LIVE_FPS apart, however long each render takes. */
    double wait = mb_pacer_wait(&pacer, mb_now());
    if (wait > 0) g_usleep((gulong)(wait * 1e6));

    g_mutex_lock(&s->lock);
    sim_free_camera cam = s->cam;
    int w = s->width > 0 ? s->width : 640, h = s->height > 0 ? s->height : 480;
    if (w > MAX_VIEW_W) w = MAX_VIEW_W;
    if (h > MAX_VIEW_H) h = MAX_VIEW_H;
    bool state_ok =
        s->state && s->state_task == c.task && s->state_n == sim_model_state_size(c.model);
    if (state_ok) {
      char err[256];
      sim_world_set_state(c.world, s->state, s->state_n, err, sizeof err);
    }
    s->state_changed = false;
    g_mutex_unlock(&s->lock);

    gui_scene_frame *f = calloc(1, sizeof *f);
    f->rgb = malloc((size_t)w * h * 3);
    f->width = w;
    f->height = h;
    char err[512];
    double t0 = mb_now();
    bool ok = f->rgb && sim_render_free(c.renderer, c.world, &cam, w, h, f->rgb, err, sizeof err);
    f->render_ms = 1000 * (mb_now() - t0);
    last = mb_now();
    if (!ok) {
      set_error(s, err);
      gui_scene_frame_free(f);
      g_usleep(200000);
      continue;
    }
    sim_camera_matrices(c.world, &cam, w, h, f->view, f->proj);
    sim_camera_matrices(c.world, NULL, SIM_IMAGE_SIZE, SIM_IMAGE_SIZE, f->agent_view,
                        f->agent_proj);
    render_sum += f->render_ms;
    window_frames++;
    g_mutex_lock(&s->lock);
    f->seq = ++s->seq;
    gui_scene_frame_free(s->ready);
    s->ready = f;
    if (last - window_start >= 1.0) {
      s->fps = window_frames / (last - window_start);
      s->render_ms = render_sum / window_frames;
      window_frames = 0;
      render_sum = 0;
      window_start = last;
    }
    g_mutex_unlock(&s->lock);
  }
  ctx_clear(&c);
  return NULL;
}

gui_scene *gui_scene_new(const char *assets_dir, sim_task task) {
  gui_scene *s = calloc(1, sizeof *s);
  g_mutex_init(&s->lock);
  g_cond_init(&s->wake);
  s->assets = g_strdup(assets_dir);
  s->task = task;
  s->task_changed = true;
  s->thread = g_thread_new("scene", scene_thread, s);
  return s;
}

void gui_scene_free(gui_scene *s) {
  if (!s) return;
  g_mutex_lock(&s->lock);
  s->quit = true;
  g_cond_signal(&s->wake);
  g_mutex_unlock(&s->lock);
  g_thread_join(s->thread);
  gui_scene_frame_free(s->ready);
  g_free(s->error);
  g_free(s->assets);
  free(s->state);
  g_mutex_clear(&s->lock);
  g_cond_clear(&s->wake);
  free(s);
}

void gui_scene_set_task(gui_scene *s, sim_task task) {
  g_mutex_lock(&s->lock);
  if (task != s->task) {
    s->task = task;
    s->task_changed = true;
    s->have_cam = false;
    g_cond_signal(&s->wake);
  }
  g_mutex_unlock(&s->lock);
}

void gui_scene_set_state(gui_scene *s, sim_task task, const double *state, int n) {
  g_mutex_lock(&s->lock);
  if (n != s->state_n) {
    free(s->state);
    s->state = malloc(sizeof(double) * (size_t)n);
    s->state_n = n;
  }
  memcpy(s->state, state, sizeof(double) * (size_t)n);
  s->state_task = task;
  s->state_changed = true;
  g_cond_signal(&s->wake);
  g_mutex_unlock(&s->lock);
}

void gui_scene_set_camera(gui_scene *s, const sim_free_camera *cam, int width, int height) {
  g_mutex_lock(&s->lock);
  s->cam = *cam;
  s->have_cam = true;
  s->width = width;
  s->height = height;
  s->state_changed = true;
  g_cond_signal(&s->wake);
  g_mutex_unlock(&s->lock);
}

void gui_scene_set_live(gui_scene *s, bool live) {
  g_mutex_lock(&s->lock);
  s->live = live;
  g_cond_signal(&s->wake);
  g_mutex_unlock(&s->lock);
}

gui_scene_frame *gui_scene_take_frame(gui_scene *s) {
  g_mutex_lock(&s->lock);
  gui_scene_frame *f = s->ready;
  s->ready = NULL;
  g_mutex_unlock(&s->lock);
  return f;
}

char *gui_scene_take_error(gui_scene *s) {
  g_mutex_lock(&s->lock);
  char *e = s->error;
  s->error = NULL;
  g_mutex_unlock(&s->lock);
  return e;
}

bool gui_scene_default_camera(gui_scene *s, sim_free_camera *cam) {
  g_mutex_lock(&s->lock);
  bool ok = s->have_default_cam;
  if (ok) *cam = s->default_cam;
  g_mutex_unlock(&s->lock);
  return ok;
}

void gui_scene_rates(gui_scene *s, double *fps, double *render_ms) {
  g_mutex_lock(&s->lock);
  if (fps) *fps = s->fps;
  if (render_ms) *render_ms = s->render_ms;
  g_mutex_unlock(&s->lock);
}
