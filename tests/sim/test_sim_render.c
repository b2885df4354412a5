/* Offscreen rendering: a rendered block appears where the camera matrices project it (agent and
 * free cameras), images are deterministic and independent of the other tiles of a batch; every
 * task's object colours (sim_task_info.object_rgb) find its objects in agent images. */
#include "sim_test_util.h"

#include "mb_blob.h"
#include "mb_clock.h"
#include "sim_render.h"

#include <math.h>

/* Centroid of the red block (block0 of push1) in an RGB image, found by its colour as the video
 * model's evaluation finds it (mb_blob.h). */
static int red_centroid(const uint8_t *rgb, int w, int h, double *col, double *row) {
  mb_blob b = mb_blob_find(rgb, w, h, sim_task_get(SIM_TASK_PUSH1)->object_rgb[0]);
  *col = b.x, *row = b.y;
  return (int)lround(b.mass);
}

static void test_projection(sim_renderer *r, sim_world *w) {
  char err[512];
  static uint8_t big[320 * 240 * 3];
  uint8_t img[SIM_IMAGE_BYTES];
  const double spots[4][2] = {{-0.15, -0.15}, {0.15, -0.15}, {-0.15, 0.12}, {0.17, 0.1}};
  sim_free_camera fc;
  sim_free_camera_default(sim_world_model(w), &fc);
  fc.azimuth = 70;
  fc.elevation = -50;
  for (int s = 0; s < 4; s++) {
    CHECK(sim_world_place_object(w, 0, spots[s][0], spots[s][1], err, sizeof err));
    double p[3] = {spots[s][0], spots[s][1], 0.025}, pc = 0, pr = 0, c = 0, rr = 0;
    /* agent camera, 64 x 64 */
    CHECK(sim_render_agent(r, w, img, err, sizeof err));
    CHECK(sim_project_point(w, NULL, 64, 64, p, &pc, &pr));
    int n = red_centroid(img, 64, 64, &c, &rr);
    CHECK_MSG(n >= 6, "spot %d: block hardly visible (%d pixels)", s, n);
    CHECK_MSG(n && hypot(c - pc, rr - pr) < 1.5,
              "spot %d: block drawn at (%.1f, %.1f), projected to (%.1f, %.1f)", s, c, rr, pc, pr);
    /* free camera, 320 x 240 */
    CHECK(sim_render_free(r, w, &fc, 320, 240, big, err, sizeof err));
    CHECK(sim_project_point(w, &fc, 320, 240, p, &pc, &pr));
    n = red_centroid(big, 320, 240, &c, &rr);
    CHECK_MSG(n >= 30, "spot %d: block hardly visible in the free view (%d pixels)", s, n);
    CHECK_MSG(n && hypot(c - pc, rr - pr) < 3,
              "spot %d: free view block at (%.1f, %.1f), projected to (%.1f, %.1f)", s, c, rr, pc,
              pr);
  }
  /* the matrices agree with the projection helper */
  float V[16], P[16];
  sim_camera_matrices(w, NULL, 64, 64, V, P);
  CHECK(P[11] == -1.0f && V[15] == 1.0f);
}

static void test_determinism_and_tiles(const sim_model *m, sim_renderer *r) {
  char err[512];
  sim_world *w[5];
  for (int i = 0; i < 5; i++) {
    w[i] = sim_world_create(m, err, sizeof err);
    sim_world_reset(w[i], 100 + (uint64_t)i);
  }
  static uint8_t a[5 * SIM_IMAGE_BYTES], b[5 * SIM_IMAGE_BYTES];
  int tiles[5] = {3, 0, 7, 12, 5};
  CHECK(sim_render_agent_batch(r, w, tiles, 5, a, err, sizeof err));
  CHECK(sim_render_agent_batch(r, w, tiles, 5, b, err, sizeof err));
  CHECK(memcmp(a, b, sizeof a) == 0);
  /* world 0 alone in tile 3 with different neighbours (none) gives the same bytes */
  CHECK(sim_render_agent_batch(r, w, tiles, 1, b, err, sizeof err));
  CHECK(memcmp(a, b, SIM_IMAGE_BYTES) == 0);
  /* images differ between different worlds */
  CHECK(memcmp(a, a + SIM_IMAGE_BYTES, SIM_IMAGE_BYTES) != 0);
  /* a second renderer (its own context) draws the same bytes */
  sim_renderer *r2 = sim_renderer_create(m, 64, 64, 16, SIM_QUALITY_AGENT, err, sizeof err);
  CHECK(r2 != NULL);
  if (r2) {
    CHECK(sim_render_agent_batch(r2, w, tiles, 5, b, err, sizeof err));
    CHECK(memcmp(a, b, sizeof a) == 0);
    sim_renderer_free(r2);
  }
  /* an image is not flat */
  int lo = 255, hi = 0;
  for (int i = 0; i < SIM_IMAGE_BYTES; i++) lo = a[i] < lo ? a[i] : lo, hi = a[i] > hi ? a[i] : hi;
  CHECK(hi - lo > 100);
  CHECK(!sim_render_agent_batch(r, w, (int[]){16}, 1, b, err, sizeof err) && strstr(err, "tile"));
  CHECK(!sim_render_free(r, w[0], NULL, 4000, 10, b, err, sizeof err));
  for (int i = 0; i < 5; i++) sim_world_free(w[i]);
}

/* The GUI's scene view: 800 x 600 from a free camera (a measurement, not a pass/fail timing). */
static void measure_view(const sim_model *m, sim_world *w) {
  char err[512];
  static uint8_t img[800 * 600 * 3];
  sim_free_camera fc;
  sim_free_camera_default(m, &fc);
  for (int q = 0; q < 2; q++) {
    sim_renderer *r = sim_renderer_create(m, 800, 600, 1, (sim_render_quality)q, err, sizeof err);
    CHECK_MSG(r != NULL, "%s", err);
    if (!r) continue;
    CHECK(sim_render_free(r, w, &fc, 800, 600, img, err, sizeof err));
    double t0 = mb_now();
    for (int i = 0; i < 10; i++) sim_render_free(r, w, &fc, 800, 600, img, err, sizeof err);
    double dt = (mb_now() - t0) / 10;
    fprintf(stderr, "free camera 800x600 %s: %.1f ms per frame (%.0f frames/s)\n",
            q ? "view quality (4x MSAA)" : "agent quality", dt * 1e3, 1 / dt);
    sim_renderer_free(r);
  }
}

/* push3: each block found by its colour where it is projected; door: the handle found, and it moves
 * with the slide. */
static void test_object_colours(void) {
  char err[512];
  uint8_t img[SIM_IMAGE_BYTES];
  const sim_task tasks[2] = {SIM_TASK_PUSH3, SIM_TASK_DOOR};
  for (int ti = 0; ti < 2; ti++) {
    const sim_task_info *info = sim_task_get(tasks[ti]);
    sim_model *m = sim_model_load(tasks[ti], test_assets(), err, sizeof err);
    CHECK_MSG(m != NULL, "%s", err);
    if (!m) continue;
    sim_world *w = sim_world_create(m, err, sizeof err);
    sim_renderer *r = sim_renderer_create(m, 64, 64, 1, SIM_QUALITY_AGENT, err, sizeof err);
    CHECK_MSG(w && r, "%s", err);
    if (w && r && tasks[ti] == SIM_TASK_PUSH3) {
      const double spots[3][2] = {{-0.15, -0.1}, {0.05, -0.16}, {0.16, 0.06}};
      for (int k = 0; k < 3; k++)
        CHECK(sim_world_place_object(w, k, spots[k][0], spots[k][1], err, sizeof err));
      CHECK(sim_render_agent(r, w, img, err, sizeof err));
      for (int k = 0; k < 3; k++) {
        double p[3] = {spots[k][0], spots[k][1], 0.025}, pc = 0, pr = 0;
        CHECK(sim_project_point(w, NULL, 64, 64, p, &pc, &pr));
        mb_blob b = mb_blob_find(img, 64, 64, info->object_rgb[k]);
        CHECK_MSG(b.mass >= 6 && hypot(b.x - pc, b.y - pr) < 1.5,
                  "push3 block %d: mass %.1f at (%.1f, %.1f), projected to (%.1f, %.1f)", k, b.mass,
                  b.x, b.y, pc, pr);
      }
    } else if (w && r) {
      mb_blob b[2];
      for (int i = 0; i < 2; i++) {
        CHECK(sim_world_place_object(w, 0, i ? 0.25 : -0.05, 0, err, sizeof err));
        CHECK(sim_render_agent(r, w, img, err, sizeof err));
        b[i] = mb_blob_find(img, 64, 64, info->object_rgb[0]);
        CHECK_MSG(b[i].mass >= 4, "door handle hardly found (mass %.1f)", b[i].mass);
      }
      CHECK_MSG(fabs(b[1].x - b[0].x) > 3, "door handle at x %.1f and %.1f for two slides", b[0].x,
                b[1].x);
    }
    sim_renderer_free(r);
    sim_world_free(w);
    sim_model_free(m);
  }
}

int main(void) {
  char err[512], gl_r[256], gl_v[256];
  CHECK_MSG(sim_gl_info(gl_r, sizeof gl_r, gl_v, sizeof gl_v, err, sizeof err), "%s", err);
  fprintf(stderr, "GL renderer: %s, version %s\n", gl_r, gl_v);
  sim_model *m = sim_model_load(SIM_TASK_PUSH1, test_assets(), err, sizeof err);
  CHECK(m != NULL);
  if (!m) return test_exit_code("test_sim_render");
  sim_world *w = sim_world_create(m, err, sizeof err);
  sim_renderer *r = sim_renderer_create(m, 320, 240, 16, SIM_QUALITY_AGENT, err, sizeof err);
  CHECK_MSG(r != NULL, "%s", err);
  if (r) {
    test_projection(r, w);
    test_determinism_and_tiles(m, r);
  }
  sim_renderer_free(r);
  test_object_colours();
  measure_view(m, w);
  sim_world_free(w);
  sim_model_free(m);
  return test_exit_code("test_sim_render");
}
