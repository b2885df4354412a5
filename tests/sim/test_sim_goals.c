/* Goal suites satisfy their definitions and replay exactly; suite and PNG errors are clear; the
 * oracle's rollouts equal stepping a world by hand and do not depend on the thread count. */
#include "sim_test_util.h"

#include "sim_goals.h"
#include "sim_oracle.h"
#include "sim_png.h"
#include "sim_policy.h"
#include "sim_render.h"

#include "mb_file.h"

#include <math.h>

static void check_suite(sim_task task, bool hard) {
  char err[512], dir[600];
  snprintf(dir, sizeof dir, "%s%s", test_path(sim_task_name(task)), hard ? "-hard" : "");
  sim_status st =
      sim_goals_generate(task, test_assets(), 6, 21, hard, false, dir, NULL, err, sizeof err);
  CHECK_MSG(st == SIM_STATUS_OK, "%s: %s", sim_task_name(task), err);
  if (st != SIM_STATUS_OK) return;
  sim_suite *s = sim_suite_load(dir, (int)task, err, sizeof err);
  CHECK_MSG(s != NULL, "%s", err);
  if (!s) return;
  CHECK(s->count == 6 && s->task == task && s->seed == 21 && s->hard == hard);
  sim_model *m = sim_model_load(task, test_assets(), err, sizeof err);
  sim_world *w = sim_world_create(m, err, sizeof err);
  sim_renderer *r = sim_renderer_create(m, 64, 64, 1, SIM_QUALITY_AGENT, err, sizeof err);
  CHECK(m && w && r && sim_suite_check_model(s, m, err, sizeof err));
  for (int i = 0; i < s->count && w && r; i++) {
    const sim_goal *g = &s->goals[i];
    const char *why = NULL;
    CHECK_MSG(sim_goal_check(task, hard, &g->start, &g->goal, g->target, &why), "%s goal %d: %s",
              sim_task_name(task), i, why);
    CHECK(g->controller_steps > 0 && g->controller_steps <= SIM_EPISODE_STEPS);
    /* the stored positions are those of the stored states */
    sim_positions p;
    CHECK(sim_world_set_state(w, g->goal_state, s->state_size, err, sizeof err));
    sim_world_positions(w, &p);
    CHECK(memcmp(&p, &g->goal, sizeof p) == 0);
    CHECK(sim_world_set_state(w, g->start_state, s->state_size, err, sizeof err));
    sim_world_positions(w, &p);
    CHECK(memcmp(&p, &g->start, sizeof p) == 0);
    /* the goal image is the render of the goal state */
    uint8_t png[SIM_IMAGE_BYTES], again[SIM_IMAGE_BYTES];
    CHECK_MSG(sim_suite_goal_image(s, i, png, err, sizeof err), "%s", err);
    CHECK(sim_world_set_state(w, g->goal_state, s->state_size, err, sizeof err));
    CHECK(sim_render_agent(r, w, again, err, sizeof err));
    CHECK(memcmp(png, again, SIM_IMAGE_BYTES) == 0);
    /* start and goal differ in the relevant quantity, as judged by the success metric */
    bool ok;
    sim_goal_distance(task, &g->start, &g->goal, g->target, &ok);
    CHECK(!ok);
  }
  /* the same seed gives the same suite */
  char dir2[700];
  snprintf(dir2, sizeof dir2, "%s-again", dir);
  CHECK(sim_goals_generate(task, test_assets(), 6, 21, hard, false, dir2, NULL, err, sizeof err) ==
        SIM_STATUS_OK);
  sim_suite *s2 = sim_suite_load(dir2, (int)task, err, sizeof err);
  CHECK(s2 && s2->count == 6);
  for (int i = 0; s2 && i < 6; i++)
    CHECK(!memcmp(s2->goals[i].goal_state, s->goals[i].goal_state,
                  sizeof(double) * (size_t)s->state_size));
  sim_suite_free(s2);
  sim_renderer_free(r);
  sim_world_free(w);
  sim_model_free(m);
  sim_suite_free(s);
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
}

/* States survive save and load bit for bit. */
static void test_suite_round_trip(void) {
  char err[512];
  sim_suite s;
  memset(&s, 0, sizeof s);
  s.task = SIM_TASK_PUSH1;
  s.seed = 12345678901234ull;
  s.state_size = 7;
  snprintf(s.scene_version, sizeof s.scene_version, "v");
  sim_goal g;
  memset(&g, 0, sizeof g);
  double a[7] = {1.0 / 3, -0.0, 1e-300, -2.5e300, 123456789.123456789, 0.1 + 0.2, -7};
  double b[7] = {M_PI, M_E, -1.0 / 7, 5e-324, 1, 2, 3};
  g.start_state = a;
  g.goal_state = b;
  g.target = 0;
  g.goal.object[0][1] = 1.0 / 9;
  snprintf(g.image, sizeof g.image, "goal-000.png");
  s.goals = &g;
  s.count = 1;
  const char *dir = test_path("roundtrip");
  CHECK(mb_mkdir_p(dir, err, sizeof err));
  CHECK_MSG(sim_suite_save(&s, dir, err, sizeof err), "%s", err);
  sim_suite *l = sim_suite_load(dir, SIM_TASK_PUSH1, err, sizeof err);
  CHECK_MSG(l != NULL, "%s", err);
  if (!l) return;
  CHECK(l->count == 1 && l->seed == s.seed && l->state_size == 7);
  CHECK(memcmp(l->goals[0].start_state, a, sizeof a) == 0);
  CHECK(memcmp(l->goals[0].goal_state, b, sizeof b) == 0);
  CHECK(l->goals[0].goal.object[0][1] == 1.0 / 9);
  sim_suite_free(l);
}

static void test_suite_errors(void) {
  char err[512], path[800];
  sim_suite *s = sim_suite_load(test_path("nope"), -1, err, sizeof err);
  CHECK(!s && strstr(err, "no such goal-suite folder"));
  s = sim_suite_load(test_path("push1"), SIM_TASK_DOOR, err, sizeof err);
  CHECK_MSG(!s && strstr(err, "for task push1, not door"), "%s", err);
  CHECK(sim_goals_generate(SIM_TASK_PUSH1, test_assets(), 2, 1, false, false, test_path("push1"),
                           NULL, err, sizeof err) == SIM_STATUS_BAD_INPUT &&
        strstr(err, "exists"));
  snprintf(path, sizeof path, "%s/suite.json", test_path("push1"));
  write_text(path, "{\"format\": \"mbold-goal-suite\", \"task\": \"push1\",\n  \"seed\": 1,, }");
  s = sim_suite_load(test_path("push1"), -1, err, sizeof err);
  CHECK_MSG(!s && strstr(err, "bad JSON") && strstr(err, "line 2"), "%s", err);
  write_text(path, "{\"format\": \"something-else\"}");
  s = sim_suite_load(test_path("push1"), -1, err, sizeof err);
  CHECK(!s && strstr(err, "not a goal suite"));
  write_text(path, "{\"format\": \"mbold-goal-suite\", \"task\": \"push1\", \"seed\": 1, "
                   "\"difficulty\": \"regular\", \"scene_version\": \"x\", \"state_size\": 3, "
                   "\"goals\": [{\"target\": 0, \"image\": \"goal-000.png\", "
                   "\"start_state\": [1, 2], \"goal_state\": [1, 2, 3]}]}");
  s = sim_suite_load(test_path("push1"), -1, err, sizeof err);
  CHECK_MSG(!s && strstr(err, "goal 0 is malformed"), "%s", err);
}

static void test_png(void) {
  char err[512];
  uint8_t img[16 * 8 * 3], goal[SIM_IMAGE_BYTES];
  for (int i = 0; i < (int)sizeof img; i++) img[i] = (uint8_t)(i * 13);
  CHECK(sim_png_write(test_path("small.png"), img, 16, 8, err, sizeof err));
  sim_png_info info;
  uint8_t *back = sim_png_read_rgb(test_path("small.png"), &info, err, sizeof err);
  CHECK(back && info.width == 16 && info.height == 8 && !strcmp(info.format, "RGB 8-bit"));
  CHECK(back && memcmp(back, img, sizeof img) == 0);
  free(back);
  CHECK(!sim_png_read_goal(test_path("small.png"), goal, err, sizeof err));
  CHECK_MSG(strstr(err, "16x8 RGB 8-bit") && strstr(err, "must be 64x64"), "%s", err);
  write_text(test_path("fake.png"), "GIF89a not a png");
  CHECK(!sim_png_read_goal(test_path("fake.png"), goal, err, sizeof err) &&
        strstr(err, "not a PNG file"));
  CHECK(!sim_png_read_goal(test_path("absent.png"), goal, err, sizeof err) &&
        strstr(err, "cannot open"));
}

static void test_oracle(void) {
  char err[512];
  sim_model *m = sim_model_load(SIM_TASK_PUSH3, test_assets(), err, sizeof err);
  CHECK(m != NULL);
  if (!m) return;
  const int N = 21, H = 5, S = sim_model_state_size(m);
  sim_world *caller = sim_world_create(m, err, sizeof err);
  sim_world_reset(caller, 8);
  double *start = malloc(sizeof(double) * S), *after = malloc(sizeof(double) * S);
  sim_world_get_state(caller, start);
  float *acts = malloc(sizeof(float) * N * H * 4);
  for (int j = 0; j < N; j++) {
    sim_policy p;
    sim_policy_init(&p, sim_task_get(SIM_TASK_PUSH3)->policy_std, 2, (uint64_t)j);
    for (int t = 0; t < H; t++) sim_policy_next(&p, acts + ((size_t)j * H + t) * 4);
  }
  uint8_t *fin[2], *all = malloc((size_t)N * H * SIM_IMAGE_BYTES);
  float *paths = malloc(sizeof(float) * N * (H + 1) * 3);
  sim_positions *pos = malloc(sizeof(sim_positions) * N);
  for (int k = 0; k < 2; k++) {
    fin[k] = malloc((size_t)N * SIM_IMAGE_BYTES);
    sim_oracle *o = sim_oracle_create(m, k == 0 ? 1 : 3, err, sizeof err);
    CHECK_MSG(o != NULL, "%s", err);
    if (!o) continue;
    sim_oracle_request req = {.start_state = start,
                              .state_size = S,
                              .actions = acts,
                              .n = N,
                              .horizon = H,
                              .final_frames = fin[k],
                              .all_frames = k ? all : NULL,
                              .ee_paths = k ? paths : NULL,
                              .final_positions = k ? pos : NULL};
    CHECK_MSG(sim_oracle_rollout(o, &req, err, sizeof err), "%s", err);
    req.state_size = S - 1;
    CHECK(!sim_oracle_rollout(o, &req, err, sizeof err) && strstr(err, "state"));
    sim_oracle_free(o);
  }
  CHECK_MSG(memcmp(fin[0], fin[1], (size_t)N * SIM_IMAGE_BYTES) == 0,
            "oracle frames depend on the thread count");
  /* the caller's world is untouched */
  sim_world_get_state(caller, after);
  CHECK(memcmp(start, after, sizeof(double) * S) == 0);
  /* sample 17 by hand: its tile is 17 mod 16 = 1 */
  sim_renderer *r =
      sim_renderer_create(m, 64, 64, SIM_ORACLE_BATCH, SIM_QUALITY_AGENT, err, sizeof err);
  sim_world *w = sim_world_create(m, err, sizeof err);
  const int j = 17;
  CHECK(sim_world_set_state(w, start, S, err, sizeof err));
  uint8_t img[SIM_IMAGE_BYTES];
  for (int t = 0; t < H; t++) {
    sim_world_step(w, acts + ((size_t)j * H + t) * 4);
    sim_positions p;
    sim_world_positions(w, &p);
    CHECK_NEAR(paths[((size_t)j * (H + 1) + t + 1) * 3 + 1], p.ee[1], 1e-6);
    int tile = j % SIM_ORACLE_BATCH;
    sim_world *ws[1] = {w};
    CHECK(r && sim_render_agent_batch(r, ws, &tile, 1, img, err, sizeof err));
    CHECK_MSG(memcmp(img, all + ((size_t)j * H + t) * SIM_IMAGE_BYTES, SIM_IMAGE_BYTES) == 0,
              "oracle frame %d of sample %d differs from stepping by hand", t + 1, j);
  }
  CHECK(memcmp(img, fin[1] + (size_t)j * SIM_IMAGE_BYTES, SIM_IMAGE_BYTES) == 0);
  sim_positions p;
  sim_world_positions(w, &p);
  CHECK(memcmp(&p, &pos[j], sizeof p) == 0);
  /* different samples lead to different frames */
  CHECK(memcmp(fin[1], fin[1] + SIM_IMAGE_BYTES, SIM_IMAGE_BYTES) != 0);
  sim_renderer_free(r);
  sim_world_free(w);
  sim_world_free(caller);
  free(start), free(after), free(acts), free(all), free(paths), free(pos);
  free(fin[0]), free(fin[1]);
  sim_model_free(m);
}

int main(void) {
  for (int t = 0; t < SIM_TASK_COUNT; t++) check_suite((sim_task)t, false);
  check_suite(SIM_TASK_PUSH1, true);
  check_suite(SIM_TASK_PUSH3, true);
  test_suite_round_trip();
  test_suite_errors();
  test_png();
  test_oracle();
  test_cleanup();
  return test_exit_code("test_sim_goals");
}
