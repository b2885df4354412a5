/* Distance heatmaps (paper Fig. 6): for a fixed goal, sweep the target block's (x, y) over an
 * N x N grid covering its reset range with the arm fixed, render each state from the agent camera
 * and score it against the goal image under each distance (pixel MSE, Q in steps, temporal
 * regression in steps). `mbold heatmap` and the workbench's heatmap worker both use this.
 *
 * The swept states: the goal's start state (arm, fingers and every other block where that state
 * has them), with the target block moved to the cell centre by sim_world_place_object (yaw kept,
 * velocities zeroed; no physics step). Cells where the target would touch another block (centres
 * closer than APP_HEATMAP_BLOCK_CLEARANCE) are physically impossible: they are not rendered and
 * stay NaN ("blocked"). The fixed arm is left where the start state has it; the sweep passes
 * under the hand, as in the paper's figure.
 *
 * Cells follow MbHeatmap (ui/mb-heatmap.h): (i, j) with i the column along x (left to right) and
 * j the row along y (bottom to top); cell (i, j) covers x in [x0 + i dx, x0 + (i + 1) dx] with
 * dx = (x1 - x0) / N, likewise y; grids are row-major by j: values[j * N + i].
 *
 * A heatmapper belongs to one thread (its renderer's EGL context and the networks' compute
 * context are used where it was created, e.g. the GUI's heatmap worker). */
#ifndef APP_HEATMAP_H
#define APP_HEATMAP_H

#include "mb_job.h"
#include "runner.h"
#include "sim_goals.h"
#include "sim_world.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define APP_HEATMAP_MAX_DISTANCES 3   /* one of each kind */
#define APP_HEATMAP_MAX_GRID      256 /* largest N */
#define APP_HEATMAP_DEFAULT_GRID  20  /* N when not given */
/* Metres between block centres below which two blocks would touch: 5 cm blocks at any yaw
 * (0.05 * sqrt(2) = 0.071 m), the simulator's own minimum separation at reset. */
#define APP_HEATMAP_BLOCK_CLEARANCE 0.075

/* One distance to draw. */
typedef struct app_heatmap_distance {
  app_cost_kind kind; /* pixel, q or regression */
  const char *run;    /* distance run folder (q, regression; ignored for pixel); borrowed */
} app_heatmap_distance;

typedef struct app_heatmap_config {
  sim_task task;              /* push1 or push3 (tasks with blocks) */
  const char *assets_dir;     /* where scenes are; borrowed */
  cmp_backend_choice backend; /* for the learned distances */
  int n_distances;            /* 1 .. APP_HEATMAP_MAX_DISTANCES */
  app_heatmap_distance distances[APP_HEATMAP_MAX_DISTANCES]; /* drawn in this order */
  int batch; /* states rendered and scored per pass (0: 64; at most 256) */
} app_heatmap_config;

/* The config for a task with the pixel distance only, auto backend. */
app_heatmap_config app_heatmap_default_config(sim_task task, const char *assets_dir);

/* What the sweep is about. */
typedef struct app_heatmap_goal {
  const double *start_state; /* full simulator state the sweep starts from; borrowed */
  int state_size;            /* its length */
  const uint8_t *goal_image; /* 64 x 64 x 3 goal image; borrowed */
  int target;                /* the block swept (0 .. K-1) */
  bool have_goal_xy;         /* goal_xy is known (false for a goal loaded from a PNG) */
  double goal_xy[2];         /* the target's goal position (metres): the marker */
} app_heatmap_goal;

/* A goal of a suite with its storage: goal.* point into the fields below. */
typedef struct app_heatmap_suite_goal {
  app_heatmap_goal goal;               /* ready to pass to app_heatmapper_run */
  sim_suite *suite;                    /* the loaded suite (owned) */
  int index;                           /* which goal */
  uint8_t goal_image[SIM_IMAGE_BYTES]; /* its PNG */
} app_heatmap_suite_goal;

/* Loads goal `index` of the suite in dir (task must match; the state must fit model m when m is
 * not NULL). False + one line for a missing suite, a task mismatch, an index out of range, a
 * goal without a target block (reach, door) or an unreadable goal image. Free with
 * app_heatmap_suite_goal_clear (also after a failure). */
bool app_heatmap_suite_goal_load(app_heatmap_suite_goal *g, const char *dir, int index,
                                 sim_task task, const sim_model *m, char *err, size_t err_sz);
void app_heatmap_suite_goal_clear(app_heatmap_suite_goal *g);

/* ---- the grid --------------------------------------------------------------------------------
 */

typedef struct app_heatmap_grid {
  int n;         /* N: cells per side */
  double x0, x1; /* x extent (metres), x0 < x1 */
  double y0, y1; /* y extent (metres), y0 < y1 */
} app_heatmap_grid;

/* The N x N grid over a model's reset range [-r, r]^2. */
app_heatmap_grid app_heatmap_grid_for(const sim_model *m, int n);
/* Centre of cell (i, j) in metres. */
void app_heatmap_cell_center(const app_heatmap_grid *g, int i, int j, double *x, double *y);
/* The cell containing (x, y); false when outside the extent (the upper edges belong to the last
 * cell). */
bool app_heatmap_cell_at(const app_heatmap_grid *g, double x, double y, int *i, int *j);

/* ---- results ---------------------------------------------------------------------------------
 */

typedef struct app_heatmap_result {
  app_heatmap_grid grid;                          /* cells and extent */
  int n_distances;                                /* D */
  app_cost_kind kinds[APP_HEATMAP_MAX_DISTANCES]; /* the distance of each layer */
  float *values;     /* (D x N x N) values[d * N * N + j * N + i]; NaN: blocked or not computed */
  bool *blocked;     /* (N x N) the target would touch another block there */
  int cells_done;    /* cells scored (or found blocked); N * N when complete */
  bool cancelled;    /* the hooks' cancel flag stopped the sweep */
  int target;        /* the block swept */
  bool have_goal_xy; /* goal_xy is known */
  double goal_xy[2]; /* the target's goal position (metres) */
  double hand_xy[2]; /* where the fixed hand is (metres), from the start state */
  uint8_t goal_image[SIM_IMAGE_BYTES]; /* the goal */
  double seconds;                      /* wall time of the sweep */
} app_heatmap_result;

/* Frees the arrays; the struct may be reused. */
void app_heatmap_result_clear(app_heatmap_result *r);
/* Value of distance d at cell (i, j) (NaN when out of range, blocked or not computed). */
float app_heatmap_value(const app_heatmap_result *r, int d, int i, int j);
/* Minimum and maximum of distance d over computed cells; false when there are none. */
bool app_heatmap_range(const app_heatmap_result *r, int d, float *lo, float *hi);
/* The computed cell with the smallest value of distance d; false when there are none. */
bool app_heatmap_argmin(const app_heatmap_result *r, int d, int *i, int *j);

/* Short names: "pixel MSE", "Q-function", "temporal regression"; and units: "pixel MSE" (mean
 * squared difference of [0, 1] channel values) for pixel, "steps" for q and regression. */
const char *app_heatmap_title(app_cost_kind k);
const char *app_heatmap_units(app_cost_kind k);
/* CSV column names: "pixel_mse", "q_steps", "regression_steps". */
const char *app_heatmap_column(app_cost_kind k);

/* Writes the CSV atomically: a header "i,j,x,y,<column per distance>" and one line per cell in
 * values order (j, then i), x, y the cell centre; empty fields where not computed. */
bool app_heatmap_write_csv(const app_heatmap_result *r, const char *path, char *err, size_t err_sz);

/* ---- the sweep -------------------------------------------------------------------------------
 */

typedef struct app_heatmapper app_heatmapper;

/* Called once per cell as soon as its values exist (right after its batch is scored; cells come
 * in values order): values[d] for each distance, NaN for a blocked cell. On the sweeping thread. */
typedef void (*app_heatmap_cell_fn)(void *user, int i, int j, const float *values);

/* Loads the scene, a renderer and one cost provider per distance (app_cost_provider_make: the
 * same costs the planner uses). NULL + one line naming the run folder or argument at fault (a
 * task without blocks, no distance, a run that cannot be loaded, no EGL). */
app_heatmapper *app_heatmapper_create(const app_heatmap_config *cfg, char *err, size_t err_sz);
void app_heatmapper_free(app_heatmapper *h); /* NULL is fine */
const sim_model *app_heatmapper_model(const app_heatmapper *h);
const app_heatmap_config *app_heatmapper_config(const app_heatmapper *h);

/* Sweeps an n x n grid (1 .. APP_HEATMAP_MAX_GRID) for goal into *out (cleared first; owned by
 * the caller, free with app_heatmap_result_clear). on_cell (may be NULL) sees every cell once;
 * hooks (may be NULL): progress in cells, cancel checked between batches. Returns false with err
 * on bad input (state size, target) or a failing render or cost; on cancel it returns false with
 * out->cancelled set and the cells done so far in *out. */
bool app_heatmapper_run(app_heatmapper *h, const app_heatmap_goal *goal, int n,
                        app_heatmap_cell_fn on_cell, void *user, const mb_job_hooks *hooks,
                        app_heatmap_result *out, char *err, size_t err_sz);

#endif
