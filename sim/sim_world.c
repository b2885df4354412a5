#include "sim_guard.h"
#include "sim_internal.h"

#include "mb_err.h"
#include "mb_file.h"
#include "mb_philox.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Seconds of simulated time the loader lets the arm settle onto the task's start pose. */
#define SETTLE_SECONDS 2.0
/* The settled end effector must be this close to the requested start (metres). */
#define SETTLE_TOLERANCE 0.005
/* Block centres at reset are at least this far apart: two 5 cm cubes at any yaw never overlap. */
#define BLOCK_MIN_SEPARATION 0.075
/* Block centres at reset lie outside this box around the hand's start (x, y): the fingers span
 * +-0.046 m in x and +-0.016 m in y, a block reaches 0.036 m from its centre at any yaw. */
#define HAND_CLEARANCE_X 0.085
#define HAND_CLEARANCE_Y 0.055

static const char *arm_joint_names[SIM_ARM_JOINTS] = {"j1", "j2", "j3", "j4", "j5", "f1", "f2"};

static double clampd(double v, double lo, double hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

/* Reads <custom><numeric name=...> with exactly n values. */
static bool custom_numeric(const sim_model *sm, const char *name, int n, double *out, char *err,
                           size_t err_sz) {
  const mjModel *m = sm->m;
  int id = mj_name2id(m, mjOBJ_NUMERIC, name);
  if (id < 0)
    return mb_fail(err, err_sz, "%s: scene lacks <custom><numeric name=\"%s\">", sm->path, name);
  if (m->numeric_size[id] != n)
    return mb_fail(err, err_sz, "%s: numeric \"%s\" has %d values, expected %d", sm->path, name,
                   m->numeric_size[id], n);
  for (int i = 0; i < n; i++) out[i] = m->numeric_data[m->numeric_adr[id] + i];
  return true;
}

static bool find_id(const sim_model *sm, int type, const char *kind, const char *name, int *out,
                    char *err, size_t err_sz) {
  int id = mj_name2id(sm->m, type, name);
  if (id < 0) return mb_fail(err, err_sz, "%s: scene lacks %s \"%s\"", sm->path, kind, name);
  *out = id;
  return true;
}

static bool find_joint(const sim_model *sm, const char *name, int type, int *qadr, int *dadr,
                       char *err, size_t err_sz) {
  int id = -1;
  if (!find_id(sm, mjOBJ_JOINT, "joint", name, &id, err, err_sz)) return false;
  if (sm->m->jnt_type[id] != type)
    return mb_fail(err, err_sz, "%s: joint \"%s\" has the wrong type", sm->path, name);
  *qadr = sm->m->jnt_qposadr[id];
  if (dadr) *dadr = sm->m->jnt_dofadr[id];
  return true;
}

static bool joint_range(const sim_model *sm, const char *name, double *lo, double *hi) {
  int id = mj_name2id(sm->m, mjOBJ_JOINT, name);
  if (id < 0 || !sm->m->jnt_limited[id]) return false;
  *lo = sm->m->jnt_range[2 * id];
  *hi = sm->m->jnt_range[2 * id + 1];
  return true;
}

static void make_layout(sim_model *sm) {
  const mjModel *m = sm->m;
  sim_state_layout *l = &sm->layout;
  int o = 0;
  l->time = o++;
  l->qpos = o, l->nq = m->nq, o += m->nq;
  l->qvel = o, l->nv = m->nv, o += m->nv;
  l->act = o, l->na = m->na, o += m->na;
  l->ctrl = o, l->nu = m->nu, o += m->nu;
  l->nmocap = m->nmocap;
  l->mocap_pos = o, o += 3 * m->nmocap;
  l->mocap_quat = o, o += 4 * m->nmocap;
  l->warmstart = o, o += m->nv;
  l->size = o;
}

/* Resolves every name the task needs and reads the task constants from <custom>. */
static bool bind_scene(sim_model *sm, char *err, size_t err_sz) {
  const mjModel *m = sm->m;
  for (int j = 0; j < SIM_ARM_JOINTS; j++)
    if (!find_joint(sm, arm_joint_names[j], j < 5 ? mjJNT_HINGE : mjJNT_SLIDE, &sm->arm_qadr[j],
                    NULL, err, err_sz))
      return false;
  if (!find_id(sm, mjOBJ_SITE, "site", "ee", &sm->ee_site, err, err_sz)) return false;
  if (!find_id(sm, mjOBJ_CAMERA, "camera", "agent", &sm->cam_agent, err, err_sz)) return false;
  if (!find_id(sm, mjOBJ_ACTUATOR, "actuator", "finger_l", &sm->finger_act[0], err, err_sz))
    return false;
  if (!find_id(sm, mjOBJ_ACTUATOR, "actuator", "finger_r", &sm->finger_act[1], err, err_sz))
    return false;
  int mocap_body = -1, hand_body = -1;
  if (!find_id(sm, mjOBJ_BODY, "body", "mocap", &mocap_body, err, err_sz)) return false;
  if (!find_id(sm, mjOBJ_BODY, "body", "hand", &hand_body, err, err_sz)) return false;
  sm->mocap = m->body_mocapid[mocap_body];
  if (sm->mocap < 0)
    return mb_fail(err, err_sz, "%s: body \"mocap\" is not a mocap body", sm->path);
  if (m->site_bodyid[sm->ee_site] != hand_body)
    return mb_fail(err, err_sz, "%s: site \"ee\" must be on body \"hand\"", sm->path);
  sm->finger_max = m->actuator_ctrlrange[2 * sm->finger_act[0] + 1];

  if (!custom_numeric(sm, "ws_lo", 3, sm->ws_lo, err, err_sz) ||
      !custom_numeric(sm, "ws_hi", 3, sm->ws_hi, err, err_sz) ||
      !custom_numeric(sm, "ee_start", 3, sm->ee_start, err, err_sz) ||
      !custom_numeric(sm, "action_scale", 3, sm->action_scale, err, err_sz) ||
      !custom_numeric(sm, "reset_range", 1, &sm->reset_range, err, err_sz))
    return false;
  double substeps;
  if (!custom_numeric(sm, "substeps", 1, &substeps, err, err_sz)) return false;
  sm->substeps = (int)substeps;
  if (sm->substeps < 1 || sm->substeps > 100)
    return mb_fail(err, err_sz, "%s: numeric \"substeps\" must be 1..100", sm->path);
  for (int i = 0; i < 3; i++)
    if (!(sm->ws_lo[i] < sm->ws_hi[i]) || sm->ee_start[i] < sm->ws_lo[i] ||
        sm->ee_start[i] > sm->ws_hi[i])
      return mb_fail(err, err_sz, "%s: workspace bounds or ee_start are inconsistent", sm->path);

  int tid = mj_name2id(m, mjOBJ_TEXT, "scene_version");
  if (tid < 0)
    return mb_fail(err, err_sz, "%s: scene lacks <custom><text name=\"scene_version\">", sm->path);
  snprintf(sm->scene_version, sizeof sm->scene_version, "%s", m->text_data + m->text_adr[tid]);

  sm->nobj = sm->info->num_objects;
  char name[64];
  if (sm->info->task == SIM_TASK_DOOR) {
    if (!find_joint(sm, "door", mjJNT_SLIDE, &sm->obj_qadr[0][0], &sm->obj_dadr[0][0], err, err_sz))
      return false;
    if (!find_id(sm, mjOBJ_BODY, "body", "door", &sm->obj_body[0], err, err_sz)) return false;
    if (!joint_range(sm, "door", &sm->obj_lo[0][0], &sm->obj_hi[0][0]))
      return mb_fail(err, err_sz, "%s: joint \"door\" needs a range", sm->path);
    sm->obj_lo[0][1] = sm->obj_hi[0][1] = 0;
  } else {
    for (int k = 0; k < sm->nobj; k++) {
      static const char *suffix[3] = {"x", "y", "yaw"};
      for (int a = 0; a < 3; a++) {
        snprintf(name, sizeof name, "block%d_%s", k, suffix[a]);
        if (!find_joint(sm, name, a < 2 ? mjJNT_SLIDE : mjJNT_HINGE, &sm->obj_qadr[k][a],
                        &sm->obj_dadr[k][a], err, err_sz))
          return false;
        if (a < 2 && !joint_range(sm, name, &sm->obj_lo[k][a], &sm->obj_hi[k][a]))
          return mb_fail(err, err_sz, "%s: joint \"%s\" needs a range", sm->path, name);
      }
      snprintf(name, sizeof name, "block%d", k);
      if (!find_id(sm, mjOBJ_BODY, "body", name, &sm->obj_body[k], err, err_sz)) return false;
    }
  }
  for (int k = 0; k < sm->nobj; k++)
    if (sm->reset_range > sm->obj_hi[k][0] || -sm->reset_range < sm->obj_lo[k][0])
      return mb_fail(err, err_sz, "%s: reset_range exceeds an object's joint range", sm->path);

  /* The weld makes the hand frame coincide with the mocap frame (relpose identity), so the end
   * effector sits at a fixed offset from the mocap position. */
  for (int i = 0; i < 4; i++) sm->mocap_quat[i] = m->body_quat[4 * mocap_body + i];
  double site_world[3];
  mju_rotVecQuat(site_world, m->site_pos + 3 * sm->ee_site, sm->mocap_quat);
  for (int i = 0; i < 3; i++) sm->ee_offset[i] = -site_world[i];
  make_layout(sm);
  return true;
}

static void set_mocap_for_ee(const sim_model *sm, mjData *d, const double ee[3]) {
  for (int i = 0; i < 3; i++) d->mocap_pos[3 * sm->mocap + i] = ee[i] + sm->ee_offset[i];
  for (int i = 0; i < 4; i++) d->mocap_quat[4 * sm->mocap + i] = sm->mocap_quat[i];
}

/* Runs the arm from the approximate home angles of the scene onto the exact start pose. */
static bool settle_home(sim_model *sm, char *err, size_t err_sz) {
  const mjModel *m = sm->m;
  double home[5];
  if (!custom_numeric(sm, "arm_home", 5, home, err, err_sz)) return false;
  mjData *d = mj_makeData(m);
  if (!d) return mb_fail(err, err_sz, "%s: out of memory", sm->path);
  mj_resetData(m, d);
  for (int j = 0; j < 5; j++) d->qpos[sm->arm_qadr[j]] = home[j];
  set_mocap_for_ee(sm, d, sm->ee_start);
  for (int f = 0; f < 2; f++) d->ctrl[sm->finger_act[f]] = 0.5 * sm->finger_max;
  /* Contacts off while settling: the approximate pose may pass through scenery (the cabinet). The
   * model is still private to the loader here. */
  int flags = sm->m->opt.disableflags;
  sm->m->opt.disableflags |= mjDSBL_CONTACT;
  int n = (int)(SETTLE_SECONDS / m->opt.timestep);
  for (int i = 0; i < n; i++) mj_step(m, d);
  mj_forward(m, d);
  sm->m->opt.disableflags = flags;
  double e = 0;
  for (int i = 0; i < 3; i++) {
    double diff = d->site_xpos[3 * sm->ee_site + i] - sm->ee_start[i];
    e += diff * diff;
  }
  sm->home_qpos = malloc(sizeof(double) * (size_t)m->nq);
  if (!sm->home_qpos) {
    mj_deleteData(d);
    return mb_fail(err, err_sz, "%s: out of memory", sm->path);
  }
  memcpy(sm->home_qpos, d->qpos, sizeof(double) * (size_t)m->nq);
  mj_deleteData(d);
  if (!(sqrt(e) <= SETTLE_TOLERANCE))
    return mb_fail(err, err_sz, "%s: the arm cannot reach its start pose (off by %.3f m)", sm->path,
                   sqrt(e));
  return true;
}

/* The setjmp lives in its own small frame so no caller variable can be clobbered. */
static __attribute__((noinline)) mjModel *load_xml_guarded(const char *path, char *xml_err,
                                                           size_t n) {
  sim_guard g;
  mjModel *m = NULL;
  if (SIM_GUARD_TRY(g)) {
    m = mj_loadXML(path, NULL, xml_err, (int)n);
    sim_guard_pop(&g);
    return m;
  }
  snprintf(xml_err, n, "%s", g.msg);
  return NULL;
}

/* MuJoCo's XML parser keeps global state: one load at a time in this process. */
static pthread_mutex_t load_mutex = PTHREAD_MUTEX_INITIALIZER;

sim_model *sim_model_load(sim_task task, const char *assets_dir, char *err, size_t err_sz) {
  const sim_task_info *info = sim_task_get(task);
  if (!info) return mb_fail_null(err, err_sz, "unknown task %d", (int)task);
  sim_install_handlers();
  sim_model *sm = calloc(1, sizeof *sm);
  if (!sm) return mb_fail_null(err, err_sz, "out of memory");
  sm->info = info;
  snprintf(sm->path, sizeof sm->path, "%s/scenes/%s", assets_dir ? assets_dir : ".",
           info->scene_file);
  if (!mb_file_exists(sm->path)) {
    mb_fail(err, err_sz, "%s: scene file not found (is the assets folder right?)", sm->path);
    free(sm);
    return NULL;
  }
  char xml_err[1000] = "";
  pthread_mutex_lock(&load_mutex);
  sm->m = load_xml_guarded(sm->path, xml_err, sizeof xml_err);
  pthread_mutex_unlock(&load_mutex);
  if (!sm->m) {
    for (char *c = xml_err; *c; c++)
      if (*c == '\n') *c = ' ';
    mb_fail(err, err_sz, "%s: malformed MJCF: %s", sm->path, xml_err);
    free(sm);
    return NULL;
  }
  if (!bind_scene(sm, err, err_sz) || !settle_home(sm, err, err_sz)) {
    sim_model_free(sm);
    return NULL;
  }
  return sm;
}

void sim_model_free(sim_model *sm) {
  if (!sm) return;
  if (sm->m) mj_deleteModel(sm->m);
  free(sm->home_qpos);
  free(sm);
}

sim_task sim_model_task(const sim_model *m) {
  return m->info->task;
}
const sim_task_info *sim_model_info(const sim_model *m) {
  return m->info;
}
int sim_model_num_objects(const sim_model *m) {
  return m->nobj;
}
int sim_model_state_size(const sim_model *m) {
  return m->layout.size;
}
sim_state_layout sim_model_state_layout(const sim_model *m) {
  return m->layout;
}
const char *sim_model_scene_version(const sim_model *m) {
  return m->scene_version;
}
const char *sim_model_path(const sim_model *m) {
  return m->path;
}
double sim_model_reset_range(const sim_model *m) {
  return m->reset_range;
}

void sim_model_workspace(const sim_model *m, double lo[3], double hi[3]) {
  for (int i = 0; i < 3; i++) {
    if (lo) lo[i] = m->ws_lo[i];
    if (hi) hi[i] = m->ws_hi[i];
  }
}

/* Kinematic quantities (positions, camera and lights) of the current qpos and mocap, without the
 * cost of a full forward pass. */
static void update_kinematics(const mjModel *m, mjData *d) {
  mj_kinematics(m, d);
  mj_comPos(m, d);
  mj_camlight(m, d);
}

sim_world *sim_world_create(const sim_model *sm, char *err, size_t err_sz) {
  sim_world *w = calloc(1, sizeof *w);
  if (!w) return mb_fail_null(err, err_sz, "out of memory");
  w->model = sm;
  w->d = mj_makeData(sm->m);
  w->scratch = mj_makeData(sm->m);
  if (!w->d || !w->scratch) {
    sim_world_free(w);
    return mb_fail_null(err, err_sz, "out of memory for a world of %s", sm->path);
  }
  sim_world_reset(w, 0);
  return w;
}

void sim_world_free(sim_world *w) {
  if (!w) return;
  if (w->d) mj_deleteData(w->d);
  if (w->scratch) mj_deleteData(w->scratch);
  free(w);
}

const sim_model *sim_world_model(const sim_world *w) {
  return w->model;
}
int sim_world_steps(const sim_world *w) {
  return w->steps;
}

void sim_world_reset(sim_world *w, uint64_t seed) {
  const sim_model *sm = w->model;
  const mjModel *m = sm->m;
  mjData *d = w->d;
  mj_resetData(m, d);
  memcpy(d->qpos, sm->home_qpos, sizeof(double) * (size_t)m->nq);
  set_mocap_for_ee(sm, d, sm->ee_start);
  for (int f = 0; f < 2; f++) d->ctrl[sm->finger_act[f]] = 0.5 * sm->finger_max;
  mb_rng rng = mb_rng_make(seed, SIM_STREAM_RESET);
  double r = sm->reset_range;
  if (sm->info->task == SIM_TASK_DOOR) {
    d->qpos[sm->obj_qadr[0][0]] = -r + 2 * r * (double)mb_rng_uniform(&rng);
  } else {
    double placed[SIM_MAX_OBJECTS][2];
    for (int k = 0; k < sm->nobj; k++) {
      /* Rejection sampling keeps the joint distribution uniform over non-overlapping layouts;
       * with our sizes a handful of tries suffice, the bound only guards against bad scenes. */
      for (int tries = 0; tries < 10000; tries++) {
        placed[k][0] = -r + 2 * r * (double)mb_rng_uniform(&rng);
        placed[k][1] = -r + 2 * r * (double)mb_rng_uniform(&rng);
        /* Blocks start clear of the hand, which may start below their top. */
        bool ok = fabs(placed[k][0] - sm->ee_start[0]) >= HAND_CLEARANCE_X ||
                  fabs(placed[k][1] - sm->ee_start[1]) >= HAND_CLEARANCE_Y;
        for (int j = 0; j < k; j++)
          if (hypot(placed[k][0] - placed[j][0], placed[k][1] - placed[j][1]) <
              BLOCK_MIN_SEPARATION)
            ok = false;
        if (ok) break;
      }
      double yaw = (-0.25 + 0.5 * (double)mb_rng_uniform(&rng)) * M_PI;
      d->qpos[sm->obj_qadr[k][0]] = placed[k][0];
      d->qpos[sm->obj_qadr[k][1]] = placed[k][1];
      d->qpos[sm->obj_qadr[k][2]] = yaw;
    }
  }
  mj_forward(m, d);
  w->steps = 0;
}

void sim_world_step(sim_world *w, const float action[SIM_ACTION_DIM]) {
  const sim_model *sm = w->model;
  const mjModel *m = sm->m;
  mjData *d = w->d;
  double a[SIM_ACTION_DIM];
  for (int i = 0; i < SIM_ACTION_DIM; i++) {
    double v = action[i];
    a[i] = v != v ? 0 : clampd(v, -1, 1);
  }
  double *mp = d->mocap_pos + 3 * sm->mocap;
  double from[3], to[3];
  for (int i = 0; i < 3; i++) {
    from[i] = mp[i];
    double ee = mp[i] - sm->ee_offset[i] + a[i] * sm->action_scale[i];
    to[i] = clampd(ee, sm->ws_lo[i], sm->ws_hi[i]) + sm->ee_offset[i];
  }
  double grip = 0.5 * (a[3] + 1) * sm->finger_max;
  d->ctrl[sm->finger_act[0]] = grip;
  d->ctrl[sm->finger_act[1]] = grip;
  /* The target moves along a straight line over the substeps rather than jumping, so the hand
   * sweeps through contacts instead of teleporting its goal into them. */
  for (int s = 1; s <= sm->substeps; s++) {
    double f = (double)s / sm->substeps;
    for (int i = 0; i < 3; i++) mp[i] = from[i] + f * (to[i] - from[i]);
    mj_step(m, d);
  }
  for (int i = 0; i < 3; i++) mp[i] = to[i];
  update_kinematics(m, d);
  w->steps++;
}

static void state_from_data(const sim_model *sm, const mjData *d, double *s) {
  const sim_state_layout *l = &sm->layout;
  s[l->time] = d->time;
  memcpy(s + l->qpos, d->qpos, sizeof(double) * (size_t)l->nq);
  memcpy(s + l->qvel, d->qvel, sizeof(double) * (size_t)l->nv);
  if (l->na) memcpy(s + l->act, d->act, sizeof(double) * (size_t)l->na);
  memcpy(s + l->ctrl, d->ctrl, sizeof(double) * (size_t)l->nu);
  memcpy(s + l->mocap_pos, d->mocap_pos, sizeof(double) * 3 * (size_t)l->nmocap);
  memcpy(s + l->mocap_quat, d->mocap_quat, sizeof(double) * 4 * (size_t)l->nmocap);
  memcpy(s + l->warmstart, d->qacc_warmstart, sizeof(double) * (size_t)l->nv);
}

static void data_from_state(const sim_model *sm, mjData *d, const double *s) {
  const sim_state_layout *l = &sm->layout;
  d->time = s[l->time];
  memcpy(d->qpos, s + l->qpos, sizeof(double) * (size_t)l->nq);
  memcpy(d->qvel, s + l->qvel, sizeof(double) * (size_t)l->nv);
  if (l->na) memcpy(d->act, s + l->act, sizeof(double) * (size_t)l->na);
  memcpy(d->ctrl, s + l->ctrl, sizeof(double) * (size_t)l->nu);
  memcpy(d->mocap_pos, s + l->mocap_pos, sizeof(double) * 3 * (size_t)l->nmocap);
  memcpy(d->mocap_quat, s + l->mocap_quat, sizeof(double) * 4 * (size_t)l->nmocap);
  memcpy(d->qacc_warmstart, s + l->warmstart, sizeof(double) * (size_t)l->nv);
}

void sim_world_get_state(const sim_world *w, double *state) {
  state_from_data(w->model, w->d, state);
}

static bool check_state(const sim_model *sm, const double *state, int n, char *err, size_t err_sz) {
  if (n != sm->layout.size)
    return mb_fail(err, err_sz, "state has %d values, the %s scene needs %d", n, sm->info->name,
                   sm->layout.size);
  for (int i = 0; i < n; i++)
    if (!isfinite(state[i])) return mb_fail(err, err_sz, "state value %d is not finite", i);
  return true;
}

bool sim_world_set_state(sim_world *w, const double *state, int n, char *err, size_t err_sz) {
  if (!check_state(w->model, state, n, err, err_sz)) return false;
  data_from_state(w->model, w->d, state);
  mj_forward(w->model->m, w->d);
  w->steps = 0;
  return true;
}

void sim_world_copy_state(sim_world *dst, const sim_world *src) {
  const sim_model *sm = src->model;
  const mjModel *m = sm->m;
  mjData *d = dst->d;
  const mjData *s = src->d;
  d->time = s->time;
  memcpy(d->qpos, s->qpos, sizeof(double) * (size_t)m->nq);
  memcpy(d->qvel, s->qvel, sizeof(double) * (size_t)m->nv);
  if (m->na) memcpy(d->act, s->act, sizeof(double) * (size_t)m->na);
  memcpy(d->ctrl, s->ctrl, sizeof(double) * (size_t)m->nu);
  memcpy(d->mocap_pos, s->mocap_pos, sizeof(double) * 3 * (size_t)m->nmocap);
  memcpy(d->mocap_quat, s->mocap_quat, sizeof(double) * 4 * (size_t)m->nmocap);
  memcpy(d->qacc_warmstart, s->qacc_warmstart, sizeof(double) * (size_t)m->nv);
  update_kinematics(m, d);
  dst->steps = src->steps;
}

void sim_positions_from_data(const sim_model *sm, const mjData *d, sim_positions *p) {
  memset(p, 0, sizeof *p);
  for (int i = 0; i < 3; i++) p->ee[i] = d->site_xpos[3 * sm->ee_site + i];
  if (sm->info->task == SIM_TASK_DOOR) {
    p->object[0][0] = d->qpos[sm->obj_qadr[0][0]];
  } else {
    for (int k = 0; k < sm->nobj; k++)
      for (int i = 0; i < 3; i++) p->object[k][i] = d->xpos[3 * sm->obj_body[k] + i];
  }
}

void sim_world_positions(const sim_world *w, sim_positions *p) {
  sim_positions_from_data(w->model, w->d, p);
}

void sim_world_observe(const sim_world *w, sim_obs *obs) {
  const sim_model *sm = w->model;
  memset(obs, 0, sizeof *obs);
  for (int j = 0; j < SIM_ARM_JOINTS; j++) obs->arm_qpos[j] = (float)w->d->qpos[sm->arm_qadr[j]];
  sim_positions p;
  sim_positions_from_data(sm, w->d, &p);
  for (int i = 0; i < 3; i++) obs->ee_pos[i] = (float)p.ee[i];
  for (int k = 0; k < sm->nobj; k++)
    for (int i = 0; i < 3; i++) obs->object_pos[k][i] = (float)p.object[k][i];
}

bool sim_world_state_positions(sim_world *w, const double *state, int n, sim_positions *p,
                               char *err, size_t err_sz) {
  if (!check_state(w->model, state, n, err, err_sz)) return false;
  data_from_state(w->model, w->scratch, state);
  mj_kinematics(w->model->m, w->scratch);
  sim_positions_from_data(w->model, w->scratch, p);
  return true;
}

bool sim_world_place_object(sim_world *w, int k, double x, double y, char *err, size_t err_sz) {
  const sim_model *sm = w->model;
  if (k < 0 || k >= sm->nobj)
    return mb_fail(err, err_sz, "object %d does not exist in %s (it has %d)", k, sm->info->name,
                   sm->nobj);
  mjData *d = w->d;
  d->qpos[sm->obj_qadr[k][0]] = clampd(x, sm->obj_lo[k][0], sm->obj_hi[k][0]);
  d->qvel[sm->obj_dadr[k][0]] = 0;
  if (sm->info->task != SIM_TASK_DOOR) {
    d->qpos[sm->obj_qadr[k][1]] = clampd(y, sm->obj_lo[k][1], sm->obj_hi[k][1]);
    d->qvel[sm->obj_dadr[k][1]] = 0;
    d->qvel[sm->obj_dadr[k][2]] = 0;
  }
  mj_forward(sm->m, d);
  return true;
}

double sim_goal_distance(sim_task task, const sim_positions *cur, const sim_positions *goal,
                         int target, bool *success) {
  const sim_task_info *info = sim_task_get(task);
  double dist = 0;
  bool ok = true;
  if (task == SIM_TASK_REACH) {
    dist = sqrt(pow(cur->ee[0] - goal->ee[0], 2) + pow(cur->ee[1] - goal->ee[1], 2) +
                pow(cur->ee[2] - goal->ee[2], 2));
    ok = dist < info->success_threshold;
  } else if (task == SIM_TASK_DOOR) {
    dist = fabs(cur->object[0][0] - goal->object[0][0]);
    ok = dist < info->success_threshold;
  } else {
    int K = info->num_objects;
    double worst = -1;
    int worst_k = 0;
    double dk[SIM_MAX_OBJECTS];
    for (int k = 0; k < K; k++) {
      dk[k] = sqrt(pow(cur->object[k][0] - goal->object[k][0], 2) +
                   pow(cur->object[k][1] - goal->object[k][1], 2) +
                   pow(cur->object[k][2] - goal->object[k][2], 2));
      if (dk[k] >= info->success_threshold) ok = false;
      if (dk[k] > worst) worst = dk[k], worst_k = k;
    }
    dist = dk[target >= 0 && target < K ? target : worst_k];
  }
  if (success) *success = ok;
  return dist;
}

int sim_world_warnings(const sim_world *w) {
  int n = 0;
  for (int i = 0; i < mjNWARNING; i++) n += w->d->warning[i].number;
  return n;
}

const char *sim_mujoco_version(void) {
  static char v[32];
  int n = mj_version(); /* e.g. 222 */
  snprintf(v, sizeof v, "%d.%d.%d", n / 100, n / 10 % 10, n % 10);
  return v;
}
