#include "sim_goals.h"
#include "sim_collect.h"
#include "sim_internal.h"
#include "mb_json.h"
#include "sim_png.h"
#include "sim_render.h"

#include "mb_err.h"
#include "mb_file.h"
#include "mb_philox.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ATTEMPTS 200 /* per goal; a failed attempt draws a new start or new parameters */

/* Seed offset that separates goal starts from dataset episodes of the same seed. */
#define GOAL_SEED_SALT 0x60A15EEDull

bool sim_goal_check(sim_task task, bool hard, const sim_positions *s, const sim_positions *g,
                    int target, const char **why) {
  const char *dummy;
  if (!why) why = &dummy;
  *why = NULL;
  const sim_task_info *info = sim_task_get(task);
  if (task == SIM_TASK_REACH) {
    double d = sqrt(pow(g->ee[0] - s->ee[0], 2) + pow(g->ee[1] - s->ee[1], 2) +
                    pow(g->ee[2] - s->ee[2], 2));
    if (d < SIM_GOAL_REACH_TRAVEL) *why = "end effector travels less than 0.15 m";
  } else if (task == SIM_TASK_DOOR) {
    double d = fabs(g->object[0][0] - s->object[0][0]);
    if (d < SIM_GOAL_DOOR_APART || d > SIM_GOAL_DOOR_APART + 0.06)
      *why = "slide positions are not 0.3 m apart";
  } else {
    int moved = 0, moved_k = -1;
    for (int k = 0; k < info->num_objects; k++) {
      double d = hypot(g->object[k][0] - s->object[k][0], g->object[k][1] - s->object[k][1]);
      if (d > SIM_GOAL_PUSH_MIN_MOVE) moved++, moved_k = k;
    }
    if (moved != 1)
      *why = "not exactly one block moved more than 0.075 m";
    else if (target >= 0 && moved_k != target)
      *why = "the moved block is not the target";
    else if (hard) {
      const double *b = g->object[moved_k];
      double d = sqrt(pow(g->ee[0] - b[0], 2) + pow(g->ee[1] - b[1], 2) + pow(g->ee[2] - b[2], 2));
      if (d <= SIM_GOAL_HARD_ARM_DIST) *why = "hard goal: arm within 0.125 m of the block";
    }
  }
  return *why == NULL;
}

/* ---- scripted controllers ---- */

typedef struct ctl {
  sim_world *w;       /* the world driven */
  const sim_model *m; /* its model (workspace, action scale, mocap) */
  int steps;          /* control steps taken */
  float grip;         /* gripper action held throughout */
} ctl;

/* The commanded end-effector position (the mocap target): commands move it exactly. */
static void ctl_cmd(const ctl *c, double out[3]) {
  for (int i = 0; i < 3; i++) out[i] = c->w->d->mocap_pos[3 * c->m->mocap + i] - c->m->ee_offset[i];
}

static bool ctl_step(ctl *c, const double a3[3]) {
  if (c->steps >= SIM_EPISODE_STEPS) return false;
  float a[4] = {(float)a3[0], (float)a3[1], (float)a3[2], c->grip};
  sim_world_step(c->w, a);
  c->steps++;
  return true;
}

/* Moves the command to target (clipped to the workspace) at up to `speed` of full actions. */
static bool ctl_move(ctl *c, const double target[3], double speed) {
  double t[3];
  for (int i = 0; i < 3; i++) t[i] = fmin(fmax(target[i], c->m->ws_lo[i]), c->m->ws_hi[i]);
  for (;;) {
    double cur[3], a[3], worst = 0;
    ctl_cmd(c, cur);
    for (int i = 0; i < 3; i++) {
      a[i] = (t[i] - cur[i]) / c->m->action_scale[i];
      worst = fmax(worst, fabs(a[i]));
      a[i] = fmax(-speed, fmin(speed, a[i]));
    }
    if (worst < 1e-6) return true;
    if (!ctl_step(c, a)) return false;
  }
}

static bool ctl_settle(ctl *c, int n) {
  const double zero[3] = {0, 0, 0};
  for (int i = 0; i < n; i++)
    if (!ctl_step(c, zero)) return false;
  return true;
}

static bool inside(const sim_model *m, double x, double y, double margin) {
  return x >= m->ws_lo[0] + margin && x <= m->ws_hi[0] - margin && y >= m->ws_lo[1] + margin &&
         y <= m->ws_hi[1] - margin;
}

static double seg_point_dist(const double a[2], const double b[2], const double p[2]) {
  double d[2] = {b[0] - a[0], b[1] - a[1]}, l2 = d[0] * d[0] + d[1] * d[1];
  double t = l2 > 0 ? ((p[0] - a[0]) * d[0] + (p[1] - a[1]) * d[1]) / l2 : 0;
  t = fmax(0, fmin(1, t));
  return hypot(a[0] + t * d[0] - p[0], a[1] + t * d[1] - p[1]);
}

/* One attempt at a pushing goal from the world's current (reset) state. */
static bool attempt_push(ctl *c, mb_rng *rng, bool hard, int *target) {
  const sim_model *m = c->m;
  sim_positions p;
  sim_world_positions(c->w, &p);
  int k = (int)mb_rng_below(rng, (uint32_t)m->nobj);
  double th = 2 * M_PI * mb_rng_uniform(rng), D = 0.12 + 0.08 * mb_rng_uniform(rng);
  double dir[2] = {cos(th), sin(th)}, b[2] = {p.object[k][0], p.object[k][1]};
  double pre[2] = {b[0] - 0.095 * dir[0], b[1] - 0.095 * dir[1]};
  double end[2] = {b[0] + D * dir[0], b[1] + D * dir[1]};
  double r = m->reset_range - 0.01;
  if (fabs(end[0]) > r || fabs(end[1]) > r || !inside(m, pre[0], pre[1], 0.005)) return false;
  for (int j = 0; j < m->nobj; j++) /* keep the other blocks out of the pushed block's path */
    if (j != k && seg_point_dist(b, end, p.object[j]) < 0.09) return false;
  *target = k;
  const double z_hi = m->ws_hi[2], z_push = 0.02;
  double cur[3];
  ctl_cmd(c, cur);
  double lift[3] = {cur[0], cur[1], z_hi}, over[3] = {pre[0], pre[1], z_hi},
         down[3] = {pre[0], pre[1], z_push},
         push[3] = {b[0] + (D - 0.06) * dir[0], b[1] + (D - 0.06) * dir[1], z_push};
  if (!ctl_move(c, lift, 1) || !ctl_move(c, over, 1) || !ctl_move(c, down, 1) ||
      !ctl_move(c, push, 0.35) || !ctl_settle(c, 1))
    return false;
  if (hard) {
    ctl_cmd(c, cur);
    double up[3] = {cur[0], cur[1], z_hi},
           back[3] = {cur[0] - 0.12 * dir[0], cur[1] - 0.12 * dir[1], z_hi};
    if (!ctl_move(c, up, 1) || !ctl_move(c, back, 1)) return false;
  }
  return ctl_settle(c, 2);
}

static bool attempt_reach(ctl *c, mb_rng *rng) {
  const sim_model *m = c->m;
  sim_positions p;
  sim_world_positions(c->w, &p);
  double t[3];
  for (int tries = 0; tries < 100; tries++) {
    for (int i = 0; i < 3; i++)
      t[i] = m->ws_lo[i] + 0.02 + (m->ws_hi[i] - m->ws_lo[i] - 0.04) * mb_rng_uniform(rng);
    if (sqrt(pow(t[0] - p.ee[0], 2) + pow(t[1] - p.ee[1], 2) + pow(t[2] - p.ee[2], 2)) >= 0.17)
      break;
  }
  c->grip = -1 + 2 * mb_rng_uniform(rng);
  return ctl_move(c, t, 1) && ctl_settle(c, 3);
}

static bool attempt_door(ctl *c) {
  const sim_model *m = c->m;
  double s0 = c->w->d->qpos[m->obj_qadr[0][0]];
  if (fabs(s0) < 0.055) return false; /* no room for 0.3 m either way */
  double dir = s0 > 0 ? -1 : 1;
  double cur[3];
  ctl_cmd(c, cur);
  const double z_hi = m->ws_hi[2], z_push = 0.09, y = m->ee_start[1];
  double lift[3] = {cur[0], y, z_hi}, over[3] = {s0 - dir * 0.085, y, z_hi},
         down[3] = {s0 - dir * 0.085, y, z_push};
  if (!ctl_move(c, lift, 1) || !ctl_move(c, over, 1) || !ctl_move(c, down, 1)) return false;
  /* Push until the slide has moved 0.3 m (it coasts a little once the hand stops). */
  for (;;) {
    double s = c->w->d->qpos[m->obj_qadr[0][0]];
    double left = SIM_GOAL_DOOR_APART + 0.005 - fabs(s - s0);
    if (left <= 0) break;
    double a[3] = {dir * fmin(0.3, fmax(0.08, left / m->action_scale[0])), 0, 0};
    if (!ctl_step(c, a)) return false;
  }
  return ctl_settle(c, 2);
}

/* ---- suite.json ---- */

static void write_vec(FILE *f, const double *v, int n) {
  fputc('[', f);
  for (int i = 0; i < n; i++) fprintf(f, "%s%.17g", i ? ", " : "", v[i]);
  fputc(']', f);
}

static void write_positions(FILE *f, const sim_positions *p, int K) {
  fprintf(f, "{\"ee\": ");
  write_vec(f, p->ee, 3);
  fprintf(f, ", \"objects\": [");
  for (int k = 0; k < K; k++) {
    if (k) fprintf(f, ", ");
    write_vec(f, p->object[k], 3);
  }
  fprintf(f, "]}");
}

bool sim_suite_save(const sim_suite *s, const char *dir, char *err, size_t err_sz) {
  char *path = mb_path_join(dir, "suite.json");
  if (!path) return mb_fail(err, err_sz, "out of memory");
  mb_atomic_file af;
  if (!mb_atomic_open(&af, path, err, err_sz)) {
    free(path);
    return false;
  }
  FILE *f = af.fp;
  int K = sim_task_get(s->task)->num_objects;
  fprintf(f, "{\n  \"format\": \"%s\",\n  \"format_version\": 1,\n", SIM_SUITE_FORMAT);
  fprintf(f, "  \"task\": \"%s\",\n  \"seed\": %llu,\n  \"difficulty\": \"%s\",\n",
          sim_task_name(s->task), (unsigned long long)s->seed, s->hard ? "hard" : "regular");
  fprintf(f, "  \"scene_version\": \"%s\",\n  \"state_size\": %d,\n", s->scene_version,
          s->state_size);
  fprintf(f,
          "  \"state_layout\": \"time, qpos[nq], qvel[nv], act[na], ctrl[nu], "
          "mocap_pos[3 nmocap], mocap_quat[4 nmocap], qacc_warmstart[nv] (sim/sim_world.h)\",\n");
  fprintf(f, "  \"goals\": [\n");
  for (int i = 0; i < s->count; i++) {
    const sim_goal *g = &s->goals[i];
    fprintf(f,
            "    {\"index\": %d, \"image\": \"%s\", \"target\": %d, \"target_moved\": %.17g, "
            "\"controller_steps\": %d,\n     \"start\": ",
            g->index, g->image, g->target, g->target_moved, g->controller_steps);
    write_positions(f, &g->start, K);
    fprintf(f, ",\n     \"goal\": ");
    write_positions(f, &g->goal, K);
    fprintf(f, ",\n     \"start_state\": ");
    write_vec(f, g->start_state, s->state_size);
    fprintf(f, ",\n     \"goal_state\": ");
    write_vec(f, g->goal_state, s->state_size);
    fprintf(f, "}%s\n", i + 1 < s->count ? "," : "");
  }
  fprintf(f, "  ]\n}\n");
  bool ok = mb_atomic_commit(&af, err, err_sz);
  free(path);
  return ok;
}

void sim_suite_free(sim_suite *s) {
  if (!s) return;
  for (int i = 0; i < s->count && s->goals; i++) {
    free(s->goals[i].start_state);
    free(s->goals[i].goal_state);
  }
  free(s->goals);
  free(s->dir);
  free(s);
}

static bool read_positions(const mb_json *v, sim_positions *p, int K) {
  memset(p, 0, sizeof *p);
  const mb_json *objs = mb_json_get(v, "objects");
  if (!mb_json_numbers(mb_json_get(v, "ee"), p->ee, 3) || !objs || objs->type != MB_JSON_ARRAY ||
      objs->count != K)
    return false;
  for (int k = 0; k < K; k++)
    if (!mb_json_numbers(&objs->items[k], p->object[k], 3)) return false;
  return true;
}

sim_suite *sim_suite_load(const char *dir, int expect_task, char *err, size_t err_sz) {
  if (!mb_is_dir(dir)) return mb_fail_null(err, err_sz, "%s: no such goal-suite folder", dir);
  char *path = mb_path_join(dir, "suite.json");
  if (!path) return mb_fail_null(err, err_sz, "out of memory");
  char msg[256];
  char *text = mb_read_file(path, NULL, msg, sizeof msg);
  if (!text) {
    mb_fail(err, err_sz, "%s: missing or unreadable (not a goal suite?)", path);
    free(path);
    return NULL;
  }
  mb_json *root = mb_json_parse(text, strlen(text), msg, sizeof msg);
  free(text);
  sim_suite *s = NULL;
  if (!root) {
    mb_fail(err, err_sz, "%s: bad JSON: %s", path, msg);
    goto out;
  }
  const mb_json *fmt = mb_json_get(root, "format"), *task = mb_json_get(root, "task"),
                *seed = mb_json_get(root, "seed"), *diff = mb_json_get(root, "difficulty"),
                *scene = mb_json_get(root, "scene_version"), *ssz = mb_json_get(root, "state_size"),
                *goals = mb_json_get(root, "goals");
  if (!fmt || fmt->type != MB_JSON_STRING || strcmp(fmt->string, SIM_SUITE_FORMAT)) {
    mb_fail(err, err_sz, "%s: not a goal suite (format is not \"%s\")", path, SIM_SUITE_FORMAT);
    goto out;
  }
  sim_task t;
  if (!task || task->type != MB_JSON_STRING || !sim_task_parse(task->string, &t)) {
    mb_fail(err, err_sz, "%s: missing or unknown task", path);
    goto out;
  }
  if (expect_task >= 0 && (int)t != expect_task) {
    mb_fail(err, err_sz, "%s: the suite is for task %s, not %s", path, sim_task_name(t),
            sim_task_name((sim_task)expect_task));
    goto out;
  }
  if (!seed || seed->type != MB_JSON_NUMBER || !diff || diff->type != MB_JSON_STRING || !scene ||
      scene->type != MB_JSON_STRING || !ssz || ssz->type != MB_JSON_NUMBER || ssz->number < 1 ||
      ssz->number > 100000 || !goals || goals->type != MB_JSON_ARRAY) {
    mb_fail(err, err_sz,
            "%s: missing or malformed seed, difficulty, scene_version, state_size "
            "or goals",
            path);
    goto out;
  }
  s = calloc(1, sizeof *s);
  if (!s || !(s->goals = calloc((size_t)goals->count + 1, sizeof(sim_goal))) ||
      !(s->dir = strdup(dir))) {
    mb_fail(err, err_sz, "out of memory");
    goto fail;
  }
  s->task = t;
  s->seed = (uint64_t)seed->number;
  s->hard = !strcmp(diff->string, "hard");
  snprintf(s->scene_version, sizeof s->scene_version, "%s", scene->string);
  s->state_size = (int)ssz->number;
  int K = sim_task_get(t)->num_objects;
  for (int i = 0; i < goals->count; i++) {
    const mb_json *gj = &goals->items[i];
    sim_goal *g = &s->goals[i];
    s->count = i + 1;
    const mb_json *tg = mb_json_get(gj, "target"), *img = mb_json_get(gj, "image"),
                  *mv = mb_json_get(gj, "target_moved"), *st = mb_json_get(gj, "controller_steps");
    g->index = i;
    g->start_state = malloc(sizeof(double) * (size_t)s->state_size);
    g->goal_state = malloc(sizeof(double) * (size_t)s->state_size);
    if (!g->start_state || !g->goal_state || !tg || tg->type != MB_JSON_NUMBER || !img ||
        img->type != MB_JSON_STRING || strlen(img->string) >= sizeof g->image ||
        strchr(img->string, '/') ||
        !mb_json_numbers(mb_json_get(gj, "start_state"), g->start_state, s->state_size) ||
        !mb_json_numbers(mb_json_get(gj, "goal_state"), g->goal_state, s->state_size) ||
        !read_positions(mb_json_get(gj, "start"), &g->start, K) ||
        !read_positions(mb_json_get(gj, "goal"), &g->goal, K)) {
      mb_fail(err, err_sz,
              "%s: goal %d is malformed (target, image, states of %d numbers, "
              "start/goal positions)",
              path, i, s->state_size);
      goto fail;
    }
    g->target = (int)tg->number;
    g->target_moved = mv && mv->type == MB_JSON_NUMBER ? mv->number : 0;
    g->controller_steps = st && st->type == MB_JSON_NUMBER ? (int)st->number : 0;
    snprintf(g->image, sizeof g->image, "%s", img->string);
    if (g->target < -1 || g->target >= (K ? K : 1)) {
      mb_fail(err, err_sz, "%s: goal %d has target %d outside the task's objects", path, i,
              g->target);
      goto fail;
    }
  }
  goto out;
fail:
  sim_suite_free(s);
  s = NULL;
out:
  mb_json_free(root);
  free(path);
  return s;
}

bool sim_suite_check_model(const sim_suite *s, const sim_model *m, char *err, size_t err_sz) {
  if (s->task != sim_model_task(m))
    return mb_fail(err, err_sz, "%s: the suite is for task %s, the scene is %s",
                   s->dir ? s->dir : "suite", sim_task_name(s->task), sim_model_info(m)->name);
  if (s->state_size != sim_model_state_size(m) ||
      strcmp(s->scene_version, sim_model_scene_version(m)))
    return mb_fail(err, err_sz, "%s: states were made for scene %s (%d values), this is %s (%d)",
                   s->dir ? s->dir : "suite", s->scene_version, s->state_size,
                   sim_model_scene_version(m), sim_model_state_size(m));
  return true;
}

bool sim_suite_goal_image(const sim_suite *s, int i, uint8_t *rgb, char *err, size_t err_sz) {
  if (i < 0 || i >= s->count)
    return mb_fail(err, err_sz, "goal %d outside the suite's %d goals", i, s->count);
  char *path = mb_path_join(s->dir ? s->dir : ".", s->goals[i].image);
  if (!path) return mb_fail(err, err_sz, "out of memory");
  bool ok = sim_png_read_goal(path, rgb, err, err_sz);
  free(path);
  return ok;
}

/* ---- generation ---- */

sim_status sim_goals_generate(sim_task task, const char *assets_dir, int count, uint64_t seed,
                              bool hard, bool force, const char *out_dir, const mb_job_hooks *hooks,
                              char *err, size_t err_sz) {
  if (count < 1 || count > 100000) {
    mb_fail(err, err_sz, "--count must be between 1 and 100000 (got %d)", count);
    return SIM_STATUS_BAD_INPUT;
  }
  if (!out_dir || !*out_dir) {
    mb_fail(err, err_sz, "no output folder given");
    return SIM_STATUS_BAD_INPUT;
  }
  bool pushing = task == SIM_TASK_PUSH1 || task == SIM_TASK_PUSH3;
  hard = hard && pushing;
  sim_model *m = sim_model_load(task, assets_dir, err, err_sz);
  if (!m) return SIM_STATUS_BAD_INPUT;
  sim_status status = SIM_STATUS_BAD_INPUT;
  sim_world *w = NULL;
  sim_renderer *r = NULL;
  sim_suite *s = NULL;
  char *json_path = mb_path_join(out_dir, "suite.json");
  if (!json_path) {
    mb_fail(err, err_sz, "out of memory");
    goto out;
  }
  if (mb_file_exists(json_path) && !force) {
    mb_fail(err, err_sz, "%s: exists (--force replaces the suite)", json_path);
    goto out;
  }
  if (!(r = sim_renderer_create(m, SIM_IMAGE_SIZE, SIM_IMAGE_SIZE, 1, SIM_QUALITY_AGENT, err,
                                err_sz)) ||
      !mb_mkdir_p(out_dir, err, err_sz))
    goto out;
  status = SIM_STATUS_FAILED;
  if (!(w = sim_world_create(m, err, err_sz))) goto out;
  s = calloc(1, sizeof *s);
  if (!s || !(s->goals = calloc((size_t)count, sizeof(sim_goal))) || !(s->dir = strdup(out_dir))) {
    mb_fail(err, err_sz, "out of memory");
    goto out;
  }
  s->task = task;
  s->seed = seed;
  s->hard = hard;
  snprintf(s->scene_version, sizeof s->scene_version, "%s", sim_model_scene_version(m));
  s->state_size = sim_model_state_size(m);
  uint8_t rgb[SIM_IMAGE_BYTES];
  mb_job_progress(hooks, 0, count, NULL);
  for (int i = 0; i < count; i++) {
    sim_goal *g = &s->goals[i];
    g->index = i;
    s->count = i + 1;
    g->start_state = malloc(sizeof(double) * (size_t)s->state_size);
    g->goal_state = malloc(sizeof(double) * (size_t)s->state_size);
    if (!g->start_state || !g->goal_state) {
      mb_fail(err, err_sz, "out of memory");
      goto out;
    }
    bool found = false;
    for (int a = 0; a < MAX_ATTEMPTS && !found; a++) {
      uint64_t es = sim_episode_seed(seed ^ GOAL_SEED_SALT, (int64_t)i * MAX_ATTEMPTS + a);
      mb_rng rng = mb_rng_make(es, 1);
      sim_world_reset(w, es);
      sim_world_get_state(w, g->start_state);
      sim_world_positions(w, &g->start);
      ctl c = {w, m, 0, 0.0f};
      int target = -1;
      bool ran = task == SIM_TASK_REACH  ? attempt_reach(&c, &rng)
                 : task == SIM_TASK_DOOR ? attempt_door(&c)
                                         : attempt_push(&c, &rng, hard, &target);
      if (task == SIM_TASK_DOOR) target = 0;
      if (!ran) continue;
      sim_world_positions(w, &g->goal);
      if (!sim_goal_check(task, hard, &g->start, &g->goal, target, NULL)) continue;
      sim_world_get_state(w, g->goal_state);
      g->target = target;
      g->controller_steps = c.steps;
      if (task == SIM_TASK_REACH)
        g->target_moved =
            sqrt(pow(g->goal.ee[0] - g->start.ee[0], 2) + pow(g->goal.ee[1] - g->start.ee[1], 2) +
                 pow(g->goal.ee[2] - g->start.ee[2], 2));
      else
        g->target_moved = hypot(g->goal.object[target][0] - g->start.object[target][0],
                                g->goal.object[target][1] - g->start.object[target][1]);
      found = true;
    }
    if (!found) {
      mb_fail(err, err_sz, "goal %d: no valid goal in %d attempts (scene tuning?)", i,
              MAX_ATTEMPTS);
      goto out;
    }
    snprintf(g->image, sizeof g->image, "goal-%03d.png", i);
    char *png = mb_path_join(out_dir, g->image);
    bool ok = png && sim_render_agent(r, w, rgb, err, err_sz) &&
              sim_png_write(png, rgb, SIM_IMAGE_SIZE, SIM_IMAGE_SIZE, err, err_sz);
    free(png);
    if (!ok) goto out;
    mb_job_progress(hooks, i + 1, count, NULL);
    if (mb_job_cancelled(hooks)) {
      mb_fail(err, err_sz, "cancelled after %d goals; no suite.json written", i + 1);
      goto out;
    }
  }
  if (!sim_suite_save(s, out_dir, err, err_sz)) goto out;
  status = SIM_STATUS_OK;
out:
  sim_suite_free(s);
  sim_world_free(w);
  sim_renderer_free(r);
  sim_model_free(m);
  free(json_path);
  return status;
}
