/* Scenes load and step for every task; resets, steps and full states are exactly reproducible;
 * bad scenes are one clear error; the random policy has the intended statistics. */
#include "sim_test_util.h"

#include "sim_policy.h"
#include "sim_world.h"

#include <math.h>
#include <sys/stat.h>

static void test_every_task_loads_and_steps(void) {
  char err[512];
  for (int t = 0; t < SIM_TASK_COUNT; t++) {
    sim_model *m = sim_model_load((sim_task)t, test_assets(), err, sizeof err);
    CHECK_MSG(m != NULL, "%s: %s", sim_task_name((sim_task)t), err);
    if (!m) continue;
    CHECK(sim_model_num_objects(m) == sim_task_get((sim_task)t)->num_objects);
    sim_world *w = sim_world_create(m, err, sizeof err);
    CHECK(w != NULL);
    sim_world_reset(w, 11);
    sim_positions p0, p;
    sim_world_positions(w, &p0);
    double lo[3], hi[3];
    sim_model_workspace(m, lo, hi);
    sim_policy pol;
    sim_policy_init(&pol, sim_task_get((sim_task)t)->policy_std, 3, 0);
    for (int s = 0; s < SIM_EPISODE_STEPS; s++) {
      float a[4];
      sim_policy_next(&pol, a);
      sim_world_step(w, a);
    }
    CHECK(sim_world_steps(w) == SIM_EPISODE_STEPS);
    sim_world_positions(w, &p);
    for (int i = 0; i < 3; i++) {
      CHECK(isfinite(p.ee[i]));
      /* the hand lags its target a little, never far outside the workspace */
      CHECK_MSG(p.ee[i] > lo[i] - 0.03 && p.ee[i] < hi[i] + 0.03, "%s ee[%d] = %f",
                sim_task_name((sim_task)t), i, p.ee[i]);
    }
    CHECK(sqrt(pow(p.ee[0] - p0.ee[0], 2) + pow(p.ee[1] - p0.ee[1], 2)) > 1e-3);
    CHECK_MSG(sim_world_warnings(w) == 0, "%s: %d simulator warnings", sim_task_name((sim_task)t),
              sim_world_warnings(w));
    /* a block sits on the table; the door's object is its slide */
    if (t == SIM_TASK_PUSH1 || t == SIM_TASK_PUSH3) CHECK_NEAR(p.object[0][2], 0.025, 1e-6);
    if (t == SIM_TASK_DOOR) CHECK(p.object[0][1] == 0 && p.object[0][2] == 0);
    sim_obs o;
    sim_world_observe(w, &o);
    CHECK_NEAR(o.ee_pos[0], p.ee[0], 1e-6);
    sim_world_free(w);
    sim_model_free(m);
  }
}

static void test_reset_is_uniform_and_apart(void) {
  char err[512];
  sim_model *m = sim_model_load(SIM_TASK_PUSH3, test_assets(), err, sizeof err);
  CHECK(m != NULL);
  if (!m) return;
  sim_world *w = sim_world_create(m, err, sizeof err);
  double r = sim_model_reset_range(m), sum = 0, mn = 1, mx = -1;
  int n = 0;
  for (uint64_t s = 0; s < 300; s++) {
    sim_world_reset(w, s);
    sim_positions p;
    sim_world_positions(w, &p);
    for (int k = 0; k < 3; k++) {
      for (int j = 0; j < k; j++)
        CHECK(hypot(p.object[k][0] - p.object[j][0], p.object[k][1] - p.object[j][1]) >= 0.075);
      for (int i = 0; i < 2; i++) {
        CHECK(fabs(p.object[k][i]) <= r);
        sum += p.object[k][i], n++;
        mn = fmin(mn, p.object[k][i]), mx = fmax(mx, p.object[k][i]);
      }
    }
  }
  CHECK(fabs(sum / n) < 0.02);
  CHECK(mn < -0.9 * r && mx > 0.9 * r);
  sim_world_free(w);
  sim_model_free(m);
}

/* Same seed and actions give the same bits; a saved full state continues bit for bit. */
static void test_determinism_and_state_replay(void) {
  char err[512];
  sim_model *m = sim_model_load(SIM_TASK_PUSH3, test_assets(), err, sizeof err);
  CHECK(m != NULL);
  if (!m) return;
  int S = sim_model_state_size(m);
  sim_state_layout l = sim_model_state_layout(m);
  CHECK(l.size == S && l.time == 0 && l.qpos == 1 && l.warmstart + l.nv == S);
  sim_world *a = sim_world_create(m, err, sizeof err), *b = sim_world_create(m, err, sizeof err);
  double *sa = malloc(sizeof(double) * S), *sb = malloc(sizeof(double) * S),
         *mid = malloc(sizeof(double) * S);
  float acts[40][4];
  sim_policy pol;
  sim_policy_init(&pol, sim_task_get(SIM_TASK_PUSH3)->policy_std, 5, 2);
  for (int i = 0; i < 40; i++) sim_policy_next(&pol, acts[i]);
  sim_world_reset(a, 99);
  sim_world_reset(b, 99);
  for (int i = 0; i < 20; i++) {
    sim_world_step(a, acts[i]);
    sim_world_step(b, acts[i]);
  }
  sim_world_get_state(a, sa);
  sim_world_get_state(b, sb);
  CHECK(memcmp(sa, sb, sizeof(double) * S) == 0);
  memcpy(mid, sa, sizeof(double) * S);
  for (int i = 20; i < 40; i++) sim_world_step(a, acts[i]);
  sim_world_get_state(a, sa);
  /* b restarts from the saved state in a fresh world after other work */
  sim_world_reset(b, 1234);
  sim_world_step(b, acts[0]);
  CHECK(sim_world_set_state(b, mid, S, err, sizeof err));
  for (int i = 20; i < 40; i++) sim_world_step(b, acts[i]);
  sim_world_get_state(b, sb);
  CHECK_MSG(memcmp(sa, sb, sizeof(double) * S) == 0, "replay from a saved state diverged");
  /* copy_state equals set_state */
  sim_world_copy_state(b, a);
  sim_world_get_state(b, sb);
  CHECK(memcmp(sa, sb, sizeof(double) * S) == 0);
  /* state_positions computes another state's positions without touching the world */
  sim_positions pm, pa_before, pa_after;
  sim_world_positions(a, &pa_before);
  CHECK(sim_world_state_positions(a, mid, S, &pm, err, sizeof err));
  sim_world_positions(a, &pa_after);
  CHECK(memcmp(&pa_before, &pa_after, sizeof pa_before) == 0);
  CHECK(sim_world_set_state(b, mid, S, err, sizeof err));
  sim_positions pb;
  sim_world_positions(b, &pb);
  CHECK_NEAR(pb.ee[0], pm.ee[0], 1e-12);
  CHECK_NEAR(pb.object[2][1], pm.object[2][1], 1e-12);
  /* bad states */
  CHECK(!sim_world_set_state(b, mid, S - 1, err, sizeof err) && strstr(err, "needs"));
  mid[3] = NAN;
  CHECK(!sim_world_set_state(b, mid, S, err, sizeof err) && strstr(err, "finite"));
  /* different seeds give different starts */
  sim_world_reset(a, 1);
  sim_world_reset(b, 2);
  sim_world_get_state(a, sa);
  sim_world_get_state(b, sb);
  CHECK(memcmp(sa, sb, sizeof(double) * S) != 0);
  free(sa), free(sb), free(mid);
  sim_world_free(a), sim_world_free(b);
  sim_model_free(m);
}

static void test_place_object_and_goal_distance(void) {
  char err[512];
  sim_model *m = sim_model_load(SIM_TASK_PUSH3, test_assets(), err, sizeof err);
  CHECK(m != NULL);
  if (!m) return;
  sim_world *w = sim_world_create(m, err, sizeof err);
  sim_world_reset(w, 3);
  sim_positions before, after;
  sim_world_positions(w, &before);
  CHECK(sim_world_place_object(w, 1, 0.1, -0.15, err, sizeof err));
  sim_world_positions(w, &after);
  CHECK_NEAR(after.object[1][0], 0.1, 1e-12);
  CHECK_NEAR(after.object[1][1], -0.15, 1e-12);
  CHECK(memcmp(after.ee, before.ee, sizeof before.ee) == 0);
  CHECK(memcmp(after.object[0], before.object[0], sizeof before.object[0]) == 0);
  CHECK(!sim_world_place_object(w, 3, 0, 0, err, sizeof err) && strstr(err, "object 3"));
  /* success needs every block within 0.05 m; the distance reported is the target's */
  sim_positions g = after;
  bool ok;
  CHECK(sim_goal_distance(SIM_TASK_PUSH3, &after, &g, 1, &ok) == 0 && ok);
  g.object[1][0] += 0.04;
  CHECK_NEAR(sim_goal_distance(SIM_TASK_PUSH3, &after, &g, 1, &ok), 0.04, 1e-12);
  CHECK(ok);
  g.object[2][1] += 0.06;
  CHECK_NEAR(sim_goal_distance(SIM_TASK_PUSH3, &after, &g, 1, &ok), 0.04, 1e-12);
  CHECK(!ok);
  CHECK_NEAR(sim_goal_distance(SIM_TASK_PUSH3, &after, &g, -1, &ok), 0.06, 1e-12);
  sim_positions d1 = {{0}}, d2 = {{0}};
  d2.object[0][0] = 0.07;
  CHECK(sim_goal_distance(SIM_TASK_DOOR, &d1, &d2, 0, &ok) > 0.069 && ok);
  d2.object[0][0] = 0.08;
  sim_goal_distance(SIM_TASK_DOOR, &d1, &d2, 0, &ok);
  CHECK(!ok);
  d2.ee[2] = 0.049;
  CHECK(sim_goal_distance(SIM_TASK_REACH, &d1, &d2, -1, &ok) < 0.05 && ok);
  sim_world_free(w);
  sim_model_free(m);
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
}

static void test_bad_scenes(void) {
  char err[512], dir[600], scenes[700], cmd[4096];
  sim_model *m = sim_model_load(SIM_TASK_PUSH1, "/nonexistent-assets", err, sizeof err);
  CHECK(!m && strstr(err, "/nonexistent-assets/scenes/push1.xml") && strstr(err, "not found"));
  snprintf(dir, sizeof dir, "%s", test_path("assets"));
  snprintf(scenes, sizeof scenes, "%s/scenes", dir);
  mkdir(dir, 0755);
  mkdir(scenes, 0755);
  char file[800];
  snprintf(file, sizeof file, "%s/push1.xml", scenes);
  write_text(file, "<mujoco><worldbody><body name=\"a\"></worldbody></mujoco>");
  m = sim_model_load(SIM_TASK_PUSH1, dir, err, sizeof err);
  CHECK_MSG(!m && strstr(err, file) && strstr(err, "malformed MJCF") && !strchr(err, '\n'), "%s",
            err);
  /* valid MJCF that is not one of our scenes */
  write_text(file, "<mujoco><worldbody><geom type=\"sphere\" size=\"0.1\"/></worldbody></mujoco>");
  m = sim_model_load(SIM_TASK_PUSH1, dir, err, sizeof err);
  CHECK_MSG(!m && strstr(err, file) && strstr(err, "lacks"), "%s", err);
  /* a scene with the block's slide joint missing */
  snprintf(cmd, sizeof cmd,
           "cp '%s/scenes/base.xml' '%s/' && sed 's/name=\"block0_y\"/name=\"other\"/' "
           "'%s/scenes/push1.xml' > '%s'",
           test_assets(), scenes, test_assets(), file);
  CHECK(system(cmd) == 0);
  m = sim_model_load(SIM_TASK_PUSH1, dir, err, sizeof err);
  CHECK_MSG(!m && strstr(err, "block0_y"), "%s", err);
}

/* a_i = 0.5 n_i + 0.5 a_(i-1): stationary std = std / sqrt(3), lag-1 autocorrelation 0.5. */
static void test_policy_statistics(void) {
  const float *std = sim_task_get(SIM_TASK_DOOR)->policy_std; /* clipping negligible here */
  const int E = 400, T = 200;
  double s1[4] = {0}, s2[4] = {0}, lag[4] = {0}, l2[4] = {0};
  long n = 0, nl = 0;
  for (int e = 0; e < E; e++) {
    sim_policy p;
    sim_policy_init(&p, std, 42, (uint64_t)e);
    float prev[4] = {0}, a[4];
    for (int t = 0; t < T; t++) {
      sim_policy_next(&p, a);
      for (int i = 0; i < 4; i++) {
        CHECK(a[i] >= -1 && a[i] <= 1);
        if (t >= 10) { /* past the start-up transient */
          s1[i] += a[i], s2[i] += a[i] * a[i];
          lag[i] += a[i] * prev[i], l2[i] += prev[i] * prev[i];
        }
        prev[i] = a[i];
      }
      if (t >= 10) n++, nl++;
    }
  }
  for (int i = 0; i < 4; i++) {
    double mean = s1[i] / n, var = s2[i] / n - mean * mean, sd = sqrt(var);
    double want = std[i] / sqrt(3.0);
    CHECK_MSG(fabs(mean) < 0.01, "dim %d mean %f", i, mean);
    CHECK_MSG(fabs(sd / want - 1) < 0.03, "dim %d std %f, expected %f", i, sd, want);
    double rho = (lag[i] / nl - mean * mean) / var;
    CHECK_MSG(fabs(rho - 0.5) < 0.02, "dim %d lag-1 autocorrelation %f", i, rho);
  }
  /* the same (seed, episode) repeats; another episode differs */
  sim_policy p1, p2, p3;
  sim_policy_init(&p1, std, 9, 4);
  sim_policy_init(&p2, std, 9, 4);
  sim_policy_init(&p3, std, 9, 5);
  float a1[4], a2[4], a3[4];
  bool same = true, differs = false;
  for (int t = 0; t < 30; t++) {
    sim_policy_next(&p1, a1);
    sim_policy_next(&p2, a2);
    sim_policy_next(&p3, a3);
    same &= !memcmp(a1, a2, sizeof a1);
    differs |= memcmp(a1, a3, sizeof a1) != 0;
  }
  CHECK(same && differs);
  /* large std: clipped to [-1, 1] */
  const float big[4] = {10, 10, 10, 10};
  sim_policy_init(&p1, big, 1, 0);
  int clipped = 0;
  for (int t = 0; t < 100; t++) {
    sim_policy_next(&p1, a1);
    for (int i = 0; i < 4; i++) {
      CHECK(a1[i] >= -1 && a1[i] <= 1);
      clipped += fabsf(a1[i]) == 1.0f;
    }
  }
  CHECK(clipped > 100);
}

int main(void) {
  CHECK(!strcmp(sim_mujoco_version(), "2.2.2"));
  test_every_task_loads_and_steps();
  test_reset_is_uniform_and_apart();
  test_determinism_and_state_replay();
  test_place_object_and_goal_distance();
  test_bad_scenes();
  test_policy_statistics();
  test_cleanup();
  return test_exit_code("test_sim_world");
}
