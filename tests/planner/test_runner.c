/* The episode runner with oracle dynamics and the pixel cost: oracle rollouts leave the true
 * simulator untouched, an easy reach goal is solved, a replan is reproducible, bad configs are
 * refused with a clear line. */
#include "../test_util.h"
#include "runner.h"
#include "sim_render.h"

#include <stdlib.h>
#include <string.h>

static const char *assets(void) {
  const char *e = getenv("MBOLD_ASSETS");
  return e && *e ? e : MBOLD_SOURCE_ASSETS;
}

/* An easy reach goal: where the hand gets after a few steady actions from the start pose. */
static void make_reach_goal(double **start, double **goal_state, int *n, uint8_t *goal_img,
                            sim_positions *goal_pos) {
  char err[256];
  sim_model *m = sim_model_load(SIM_TASK_REACH, assets(), err, sizeof err);
  CHECK_MSG(m != NULL, "%s", err);
  sim_world *w = sim_world_create(m, err, sizeof err);
  sim_renderer *r = sim_renderer_create(m, 64, 64, 1, SIM_QUALITY_AGENT, err, sizeof err);
  CHECK_MSG(r != NULL, "%s", err);
  sim_world_reset(w, 5);
  *n = sim_model_state_size(m);
  *start = malloc(sizeof(double) * (size_t)*n);
  *goal_state = malloc(sizeof(double) * (size_t)*n);
  sim_world_get_state(w, *start);
  const float a[4] = {0.6f, 0.4f, 0.0f, 0.0f};
  for (int i = 0; i < 4; i++) sim_world_step(w, a);
  sim_world_get_state(w, *goal_state);
  sim_world_positions(w, goal_pos);
  CHECK(sim_render_agent(r, w, goal_img, err, sizeof err));
  sim_renderer_free(r);
  sim_world_free(w);
  sim_model_free(m);
}

int main(void) {
  double *start, *goal_state;
  int n;
  static uint8_t goal[SIM_IMAGE_BYTES];
  sim_positions goal_pos;
  make_reach_goal(&start, &goal_state, &n, goal, &goal_pos);
  char err[512] = "";

  app_runner_config cfg = app_runner_default_config(SIM_TASK_REACH, assets());
  cfg.cem.samples = 200;

  cfg.seed = 3;
  app_runner *r = app_runner_create(&cfg, err, sizeof err);
  CHECK_MSG(r != NULL, "%s", err);
  if (!r) return test_exit_code("test_runner");
  CHECK(app_runner_start(r, start, n, goal, &goal_pos, -1, err, sizeof err));
  bool success = true;
  double d0 = app_runner_goal_distance(r, &success);
  CHECK(!success && d0 > 0.05);

  /* A replan rolls candidates out in copies: the true state is untouched. */
  double *before = malloc(sizeof(double) * (size_t)n), *after = malloc(sizeof(double) * (size_t)n);
  sim_world_get_state(app_runner_world(r), before);
  CHECK_MSG(app_runner_replan(r, NULL, NULL, err, sizeof err), "%s", err);
  sim_world_get_state(app_runner_world(r), after);
  CHECK(memcmp(before, after, sizeof(double) * (size_t)n) == 0);
  float first_plan[13 * 4];
  memcpy(first_plan, app_runner_cem(r)->plan, sizeof first_plan);

  /* The same replan again from the same start: the same plan (reproducible). */
  CHECK(app_runner_start(r, start, n, goal, &goal_pos, -1, err, sizeof err));
  CHECK(app_runner_replan(r, NULL, NULL, err, sizeof err));
  CHECK(memcmp(first_plan, app_runner_cem(r)->plan, sizeof first_plan) == 0);

  /* The whole episode reaches the goal. */
  CHECK(app_runner_start(r, start, n, goal, &goal_pos, -1, err, sizeof err));
  CHECK_MSG(app_runner_run_episode(r, NULL, NULL, err, sizeof err), "%s", err);
  CHECK(app_runner_done(r) && app_runner_step(r) == 30 && app_runner_replans(r) == 5);
  double d = app_runner_goal_distance(r, &success);
  CHECK_MSG(success && d < 0.05, "final distance %.3f m (start %.3f m)", d, d0);
  CHECK(app_runner_record(r, 29) != NULL && app_runner_record(r, 30) == NULL);
  CHECK(app_runner_frame(r, 30) != NULL);
  app_runner_free(r);

  /* Bad configurations are one clear line. */
  cfg.actions_per_plan = 20;
  CHECK(app_runner_create(&cfg, err, sizeof err) == NULL && strstr(err, "actions per plan"));
  cfg = app_runner_default_config(SIM_TASK_REACH, "/nonexistent-assets");
  CHECK(app_runner_create(&cfg, err, sizeof err) == NULL && strstr(err, "/nonexistent-assets"));
  free(start), free(goal_state), free(before), free(after);
  return test_exit_code("test_runner");
}
