#include "gui_planner.h"
#include "gui_priority.h"

#include "mb_clock.h"

#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum cmd_kind {
  CMD_CONFIGURE,
  CMD_PARAMS,
  CMD_GOAL,
  CMD_RESET,
  CMD_RUN,
  CMD_PAUSE,
  CMD_STEP,
  CMD_PLACE,
  CMD_PLAYBACK,
  CMD_QUIT,
} cmd_kind;

typedef struct cmd {
  cmd_kind kind;                     /* what to do */
  app_runner_config cfg;             /* CMD_CONFIGURE (strings owned below) */
  char *assets, *dyn_run, *dist_run; /* owned copies of cfg's strings */
  cem_params cem;                    /* CMD_PARAMS */
  int actions_per_plan;              /* CMD_PARAMS */
  uint8_t image[SIM_IMAGE_BYTES];    /* CMD_GOAL */
  bool have_pos;                     /* CMD_GOAL */
  sim_positions pos;                 /* CMD_GOAL */
  int target;                        /* CMD_GOAL */
  double *state;                     /* CMD_GOAL start state (owned, may be NULL) */
  int state_size;                    /* its length */
  uint64_t seed;                     /* CMD_RESET */
  int k;                             /* CMD_PLACE */
  double x, y;                       /* CMD_PLACE */
  double seconds;                    /* CMD_PLAYBACK */
} cmd;

static void cmd_free(cmd *c) {
  if (!c) return;
  g_free(c->assets);
  g_free(c->dyn_run);
  g_free(c->dist_run);
  free(c->state);
  g_free(c);
}

struct gui_planner {
  GThread *thread;      /* the worker */
  GAsyncQueue *queue;   /* commands */
  atomic_int interrupt; /* a command wants the in-flight replan stopped */
  GMutex lock;          /* guards `latest` */
  gui_snapshot *latest; /* newest snapshot */
  /* Worker-only state below. */
  app_runner *runner;                   /* NULL until configured */
  app_runner_config cfg;                /* current configuration */
  cmd *cfg_owner;                       /* holds cfg's strings */
  bool running;                         /* auto-advance */
  bool have_goal;                       /* an episode can run */
  uint8_t goal[SIM_IMAGE_BYTES];        /* current goal */
  bool have_goal_pos;                   /* goal positions known */
  sim_positions goal_pos;               /* they */
  int target;                           /* goal object */
  double *start;                        /* the episode's start state */
  int start_size;                       /* its length */
  gui_replan *replans[GUI_MAX_REPLANS]; /* this episode's */
  int n_replans;                        /* used */
  gui_replan *current;                  /* the replan being built */
  int step_replan[GUI_MAX_STEPS + 1];   /* replan current at each step */
  double playback;                      /* seconds per executed action */
  double last_plan_seconds;             /* of the last replan */
  uint64_t seq, episode_id, error_seq;  /* counters */
  char error[512];                      /* last error */
  char status[256];                     /* status line */
  bool planning;                        /* replan in flight */
};

/* ---- reference counting -----------------------------------------------------------------------
 */

gui_replan *gui_replan_ref(gui_replan *r) {
  atomic_fetch_add(&r->refs, 1);
  return r;
}

void gui_replan_unref(gui_replan *r) {
  if (!r || atomic_fetch_sub(&r->refs, 1) != 1) return;
  for (int i = 0; i < r->iterations; i++) {
    cem_trace_unref(r->traces[i]);
    free(r->elite_paths[i]);
  }
  free(r);
}

gui_snapshot *gui_snapshot_ref(gui_snapshot *s) {
  atomic_fetch_add(&s->refs, 1);
  return s;
}

void gui_snapshot_unref(gui_snapshot *s) {
  if (!s || atomic_fetch_sub(&s->refs, 1) != 1) return;
  for (int i = 0; i < GUI_MAX_REPLANS; i++) gui_replan_unref(s->replan[i]);
  free(s);
}

/* ---- publishing ------------------------------------------------------------------------------ */

static void publish(gui_planner *p) {
  gui_snapshot *s = calloc(1, sizeof *s);
  if (!s) return;
  atomic_init(&s->refs, 1);
  s->seq = ++p->seq;
  s->running = p->running;
  s->planning = p->planning;
  s->episode_id = p->episode_id;
  s->error_seq = p->error_seq;
  snprintf(s->error, sizeof s->error, "%s", p->error);
  snprintf(s->status, sizeof s->status, "%s", p->status);
  s->last_plan_seconds = p->last_plan_seconds;
  s->cost = p->cfg.cost;
  s->dynamics = p->cfg.dynamics;
  s->task = p->cfg.task;
  if (p->runner) {
    app_runner *r = p->runner;
    int n = sim_model_state_size(app_runner_model(r));
    if (n <= GUI_MAX_STATE) {
      s->state_size = n;
      sim_world_get_state(app_runner_world(r), s->state);
    }
    s->episode_steps = app_runner_get_config(r)->episode_steps;
    if (s->episode_steps > GUI_MAX_STEPS) s->episode_steps = GUI_MAX_STEPS;
    s->ready = p->have_goal;
    char nerr[256];
    s->have_now = app_runner_observe_now(r, s->now, &s->now_pos, nerr, sizeof nerr);
    if (p->have_goal) {
      s->step = app_runner_step(r);
      if (s->step > s->episode_steps) s->step = s->episode_steps;
      for (int i = 0; i <= s->step; i++) {
        memcpy(s->frames[i], app_runner_frame(r, i), SIM_IMAGE_BYTES);
        memcpy(s->ee[i], app_runner_ee(r, i), sizeof s->ee[i]);
        s->step_replan[i] = p->step_replan[i];
      }
      for (int i = 0; i < s->step; i++) s->records[i] = *app_runner_record(r, i);
      memcpy(s->goal, p->goal, SIM_IMAGE_BYTES);
      s->have_goal_pos = p->have_goal_pos;
      s->goal_pos = p->goal_pos;
      s->target = p->target;
      s->goal_distance = app_runner_goal_distance(r, &s->success);
      char err[256];
      if (!app_runner_frame_cost(r, app_runner_frame(r, s->step), &s->cost_now, err, sizeof err))
        s->cost_now = NAN;
      s->replans = p->n_replans;
      for (int i = 0; i < p->n_replans; i++) s->replan[i] = gui_replan_ref(p->replans[i]);
    }
  }
  g_mutex_lock(&p->lock);
  gui_snapshot *old = p->latest;
  p->latest = s;
  g_mutex_unlock(&p->lock);
  gui_snapshot_unref(old);
}

static void set_error(gui_planner *p, const char *msg) {
  snprintf(p->error, sizeof p->error, "%s", msg);
  p->error_seq++;
}

static void set_status(gui_planner *p, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void set_status(gui_planner *p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->status, sizeof p->status, fmt, ap);
  va_end(ap);
}

/* ---- the episode ------------------------------------------------------------------------------
 */

static void drop_replans(gui_planner *p) {
  for (int i = 0; i < p->n_replans; i++) gui_replan_unref(p->replans[i]);
  p->n_replans = 0;
  p->current = NULL;
  memset(p->step_replan, 0xff, sizeof p->step_replan); /* -1: none yet */
}

static bool start_episode(gui_planner *p) {
  if (!p->runner || !p->have_goal || !p->start) return false;
  char err[512];
  drop_replans(p);
  p->episode_id++;
  if (!app_runner_start(p->runner, p->start, p->start_size, p->goal,
                        p->have_goal_pos ? &p->goal_pos : NULL, p->target, err, sizeof err)) {
    set_error(p, err);
    p->have_goal = false;
    return false;
  }
  set_status(p, "ready: step 0 of %d", app_runner_get_config(p->runner)->episode_steps);
  return true;
}

static void on_iteration(void *user, cem_trace *t) {
  gui_planner *p = user;
  gui_replan *r = p->current;
  if (!r || r->iterations >= GUI_MAX_ITER) return;
  int i = r->iterations;
  r->traces[i] = cem_trace_ref(t);
  /* The elites' true end-effector paths, when the dynamics is the simulator itself. */
  if (p->cfg.dynamics == APP_DYNAMICS_ORACLE) {
    int seq = t->horizon * t->act_dim;
    float *acts = malloc(sizeof(float) * (size_t)t->elites * seq);
    float *paths = malloc(sizeof(float) * (size_t)t->elites * (t->horizon + 1) * 3);
    char err[256];
    if (acts && paths) {
      for (int e = 0; e < t->elites; e++)
        memcpy(acts + (size_t)e * seq, t->actions + (size_t)t->elite_idx[e] * seq,
               sizeof(float) * (size_t)seq);
      if (app_runner_candidate_paths(p->runner, acts, t->elites, t->horizon, paths, err,
                                     sizeof err))
        r->elite_paths[i] = paths, paths = NULL;
    }
    free(acts);
    free(paths);
  }
  r->iterations++;
  set_status(p, "replan %d: iteration %d of %d, best cost %.4g", r->index + 1, i + 1,
             p->cfg.cem.iterations, t->costs[t->elite_idx[0]]);
  publish(p);
}

/* Handles every queued command; returns false on quit. */
static bool drain_commands(gui_planner *p, bool block);

/* One replan and its executed actions, published step by step. */
static void advance(gui_planner *p) {
  app_runner *r = p->runner;
  if (!r || !p->have_goal) {
    p->running = false;
    return;
  }
  if (app_runner_done(r)) {
    p->running = false;
    return;
  }
  if (p->n_replans >= GUI_MAX_REPLANS) {
    p->running = false;
    return;
  }
  gui_replan *rp = calloc(1, sizeof *rp);
  atomic_init(&rp->refs, 1);
  rp->index = p->n_replans;
  rp->step = app_runner_step(r);
  p->replans[p->n_replans++] = rp;
  p->current = rp;
  p->planning = true;
  atomic_store(&p->interrupt, 0);
  set_status(p, "replan %d: planning from step %d", rp->index + 1, rp->step);
  publish(p);
  cem_observer obs = {on_iteration, p, true};
  char err[512];
  double t0 = mb_now();
  bool ok = app_runner_replan(r, &obs, &p->interrupt, err, sizeof err);
  p->last_plan_seconds = mb_now() - t0;
  p->planning = false;
  p->current = NULL;
  if (!ok) {
    if (!atomic_load(&p->interrupt)) set_error(p, err);
    p->running = false;
    p->n_replans--; /* an interrupted replan is not part of the episode */
    gui_replan_unref(rp);
    set_status(p, "stopped at step %d", app_runner_step(r));
    publish(p);
    return;
  }
  p->step_replan[app_runner_step(r)] = rp->index;
  int per_plan = app_runner_get_config(r)->actions_per_plan;
  /* Execute the plan one action at a time, so the scene moves visibly. */
  for (int a = 0; a < per_plan && !app_runner_done(r); a++) {
    app_runner_execute(r, 1);
    p->step_replan[app_runner_step(r)] = rp->index;
    bool success = false;
    double d = app_runner_goal_distance(r, &success);
    set_status(p, "step %d of %d%s%s", app_runner_step(r), app_runner_get_config(r)->episode_steps,
               p->have_goal_pos ? (success ? ": success" : "") : "", "");
    (void)d;
    publish(p);
    if (p->playback > 0) g_usleep((gulong)(p->playback * 1e6));
    if (atomic_load(&p->interrupt)) break;
  }
  if (app_runner_done(r)) {
    p->running = false;
    bool success = false;
    double d = app_runner_goal_distance(r, &success);
    if (p->have_goal_pos)
      set_status(p, "episode over: %s, %.1f cm from the goal", success ? "success" : "failure",
                 100 * d);
    else
      set_status(p, "episode over after %d steps", app_runner_step(r));
  }
  publish(p);
}

static void configure(gui_planner *p, cmd *c) {
  app_runner_free(p->runner);
  p->runner = NULL;
  p->running = false;
  bool task_changed = !p->cfg_owner || c->cfg.task != p->cfg.task;
  cmd_free(p->cfg_owner);
  p->cfg_owner = c;
  p->cfg = c->cfg;
  char err[512];
  set_status(p, "loading %s (%s dynamics, %s cost)", sim_task_name(c->cfg.task),
             app_dynamics_name(c->cfg.dynamics), app_cost_name(c->cfg.cost));
  publish(p);
  p->runner = app_runner_create(&p->cfg, err, sizeof err);
  if (!p->runner) {
    set_error(p, err);
    set_status(p, "not ready: %s", err);
    drop_replans(p);
    return;
  }
  if (task_changed) {
    p->have_goal = false;
    free(p->start);
    p->start = NULL;
    drop_replans(p);
    set_status(p, "%s loaded: pick a goal", sim_task_name(c->cfg.task));
  } else if (p->have_goal) {
    start_episode(p);
  }
}

static void handle(gui_planner *p, cmd *c) {
  char err[512];
  switch (c->kind) {
    case CMD_CONFIGURE:
      configure(p, c);
      return; /* c is kept as cfg_owner */
    case CMD_PARAMS:
      if (p->runner &&
          !app_runner_set_params(p->runner, &c->cem, c->actions_per_plan, err, sizeof err))
        set_error(p, err);
      else {
        p->cfg.cem = c->cem;
        p->cfg.actions_per_plan = c->actions_per_plan;
      }
      break;
    case CMD_GOAL:
      memcpy(p->goal, c->image, SIM_IMAGE_BYTES);
      p->have_goal_pos = c->have_pos;
      p->goal_pos = c->pos;
      p->target = c->target;
      p->running = false;
      if (c->state) {
        free(p->start);
        p->start = c->state;
        p->start_size = c->state_size;
        c->state = NULL;
      } else if (p->runner) {
        int n = sim_model_state_size(app_runner_model(p->runner));
        free(p->start);
        p->start = malloc(sizeof(double) * (size_t)n);
        p->start_size = n;
        sim_world_get_state(app_runner_world(p->runner), p->start);
      }
      p->have_goal = p->start != NULL;
      start_episode(p);
      break;
    case CMD_RESET:
      p->running = false;
      if (p->runner) {
        sim_world *w = app_runner_world(p->runner);
        sim_world_reset(w, c->seed);
        int n = sim_model_state_size(app_runner_model(p->runner));
        free(p->start);
        p->start = malloc(sizeof(double) * (size_t)n);
        p->start_size = n;
        sim_world_get_state(w, p->start);
        if (p->have_goal)
          start_episode(p);
        else
          set_status(p, "reset with seed %llu: pick a goal", (unsigned long long)c->seed);
      }
      break;
    case CMD_PLACE:
      p->running = false;
      if (p->runner) {
        sim_world *w = app_runner_world(p->runner);
        if (!sim_world_place_object(w, c->k, c->x, c->y, err, sizeof err)) set_error(p, err);
        int n = sim_model_state_size(app_runner_model(p->runner));
        free(p->start);
        p->start = malloc(sizeof(double) * (size_t)n);
        p->start_size = n;
        sim_world_get_state(w, p->start);
        if (p->have_goal) start_episode(p);
      }
      break;
    case CMD_RUN:
      if (p->runner && p->have_goal && app_runner_done(p->runner)) start_episode(p);
      p->running = p->runner && p->have_goal;
      if (!p->have_goal) set_status(p, "pick a goal first");
      break;
    case CMD_PAUSE:
      p->running = false;
      if (p->runner) set_status(p, "paused at step %d", app_runner_step(p->runner));
      break;
    case CMD_STEP:
      p->running = false;
      if (!p->have_goal) {
        set_status(p, "pick a goal first");
        break;
      }
      if (p->runner && app_runner_done(p->runner)) start_episode(p);
      publish(p);
      advance(p);
      break;
    case CMD_PLAYBACK:
      p->playback = c->seconds;
      break;
    case CMD_QUIT:
      break;
  }
  cmd_free(c);
  publish(p);
}

static bool drain_commands(gui_planner *p, bool block) {
  for (;;) {
    cmd *c = block ? g_async_queue_pop(p->queue) : g_async_queue_try_pop(p->queue);
    block = false;
    if (!c) return true;
    if (c->kind == CMD_QUIT) {
      cmd_free(c);
      return false;
    }
    handle(p, c);
  }
}

static gpointer planner_thread(gpointer data) {
  gui_planner *p = data;
  gui_lower_thread_priority(GUI_NICE_WORKER);
  publish(p);
  while (drain_commands(p, !p->running))
    if (p->running) advance(p);
  drop_replans(p);
  app_runner_free(p->runner);
  cmd_free(p->cfg_owner);
  free(p->start);
  return NULL;
}

gui_planner *gui_planner_new(void) {
  gui_planner *p = calloc(1, sizeof *p);
  p->queue = g_async_queue_new();
  g_mutex_init(&p->lock);
  p->playback = 0.05;
  memset(p->step_replan, 0xff, sizeof p->step_replan);
  snprintf(p->status, sizeof p->status, "starting");
  p->thread = g_thread_new("planner", planner_thread, p);
  return p;
}

static void push(gui_planner *p, cmd *c, bool interrupt) {
  if (interrupt) atomic_store(&p->interrupt, 1);
  g_async_queue_push(p->queue, c);
}

void gui_planner_free(gui_planner *p) {
  if (!p) return;
  cmd *c = g_new0(cmd, 1);
  c->kind = CMD_QUIT;
  push(p, c, true);
  g_thread_join(p->thread);
  cmd *left;
  while ((left = g_async_queue_try_pop(p->queue))) cmd_free(left);
  g_async_queue_unref(p->queue);
  gui_snapshot_unref(p->latest);
  g_mutex_clear(&p->lock);
  free(p);
}

void gui_planner_configure(gui_planner *p, const app_runner_config *cfg) {
  cmd *c = g_new0(cmd, 1);
  c->kind = CMD_CONFIGURE;
  c->cfg = *cfg;
  c->assets = g_strdup(cfg->assets_dir);
  c->dyn_run = g_strdup(cfg->dynamics_run);
  c->dist_run = g_strdup(cfg->distance_run);
  c->cfg.assets_dir = c->assets;
  c->cfg.dynamics_run = c->dyn_run;
  c->cfg.distance_run = c->dist_run;
  push(p, c, true);
}

void gui_planner_set_params(gui_planner *p, const cem_params *cem, int actions_per_plan) {
  cmd *c = g_new0(cmd, 1);
  c->kind = CMD_PARAMS;
  c->cem = *cem;
  c->actions_per_plan = actions_per_plan;
  push(p, c, false);
}

void gui_planner_set_goal(gui_planner *p, const uint8_t *image, const sim_positions *goal_pos,
                          int target, const double *start_state, int state_size) {
  cmd *c = g_new0(cmd, 1);
  c->kind = CMD_GOAL;
  memcpy(c->image, image, SIM_IMAGE_BYTES);
  c->have_pos = goal_pos != NULL;
  if (goal_pos) c->pos = *goal_pos;
  c->target = target;
  if (start_state && state_size > 0) {
    c->state = malloc(sizeof(double) * (size_t)state_size);
    memcpy(c->state, start_state, sizeof(double) * (size_t)state_size);
    c->state_size = state_size;
  }
  push(p, c, true);
}

static void push_simple(gui_planner *p, cmd_kind kind, bool interrupt) {
  cmd *c = g_new0(cmd, 1);
  c->kind = kind;
  push(p, c, interrupt);
}

void gui_planner_reset(gui_planner *p, uint64_t seed) {
  cmd *c = g_new0(cmd, 1);
  c->kind = CMD_RESET;
  c->seed = seed;
  push(p, c, true);
}

void gui_planner_run(gui_planner *p) {
  push_simple(p, CMD_RUN, false);
}
void gui_planner_pause(gui_planner *p) {
  push_simple(p, CMD_PAUSE, true);
}
void gui_planner_step(gui_planner *p) {
  push_simple(p, CMD_STEP, false);
}

void gui_planner_place_object(gui_planner *p, int k, double x, double y) {
  cmd *c = g_new0(cmd, 1);
  c->kind = CMD_PLACE;
  c->k = k;
  c->x = x;
  c->y = y;
  push(p, c, true);
}

void gui_planner_set_playback(gui_planner *p, double seconds_per_action) {
  cmd *c = g_new0(cmd, 1);
  c->kind = CMD_PLAYBACK;
  c->seconds = seconds_per_action;
  push(p, c, false);
}

gui_snapshot *gui_planner_snapshot(gui_planner *p) {
  g_mutex_lock(&p->lock);
  gui_snapshot *s = p->latest ? gui_snapshot_ref(p->latest) : NULL;
  g_mutex_unlock(&p->lock);
  if (!s) {
    s = calloc(1, sizeof *s);
    atomic_init(&s->refs, 1);
  }
  return s;
}
