/* mbold eval-distance: scores learned distances on a dataset's val split, side by side with the l2
 * pixel distance (compute/dist_metrics.h: Spearman rank correlation with the true offset, ranking
 * accuracy against arm-neighbour negatives). */
#include "app_cli.h"
#include "app_dist_data.h"

#include "dist_cost.h"
#include "dist_metrics.h"
#include "mb_file.h"
#include "mb_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int app_cmd_eval_distance(int argc, char **argv);

#define EVAL_DEFAULT_PAIRS 2048

static bool cost_fn(void *user, const uint8_t *cur, const uint8_t *goal, int n, float *out,
                    char *err, size_t err_sz) {
  return dist_cost_rank(user, cur, goal, n, out, err, err_sz);
}

static void scores_json(mb_jw *w, const char *key, const char *run, const dist_cost *c,
                        const dist_scores *s) {
  mb_jw_key(w, key);
  mb_jw_begin_object(w);
  if (run) mb_jw_kv_string(w, "run", run);
  if (c) {
    mb_jw_kv_string(w, "method", dist_method_name(dist_cost_method(c)));
    mb_jw_kv_int(w, "step", dist_cost_step(c));
  }
  mb_jw_kv_double(w, "spearman", s->spearman);
  mb_jw_kv_double(w, "ranking_accuracy", s->ranking);
  mb_jw_end_object(w);
}

int app_cmd_eval_distance(int argc, char **argv) {
  const char *cmd = "eval-distance";
  gchar *dist_run = NULL, *reg_run = NULL, *data_path = NULL, *json_out = NULL,
        *backend_name = NULL;
  gint pairs = EVAL_DEFAULT_PAIRS;
  gint64 seed = 0;
  GOptionEntry entries[] = {
      {"distance", 0, 0, G_OPTION_ARG_FILENAME, &dist_run, "a distance run folder (Q-function)",
       "RUN"},
      {"regression", 0, 0, G_OPTION_ARG_FILENAME, &reg_run,
       "a regression-baseline run folder to score beside it", "RUN"},
      {"data", 'd', 0, G_OPTION_ARG_FILENAME, &data_path, "dataset (its val split is scored)",
       "FILE.h5"},
      {"json", 0, 0, G_OPTION_ARG_FILENAME, &json_out, "results file", "OUT"},
      {"backend", 'b', 0, G_OPTION_ARG_STRING, &backend_name, "auto, cpu or vulkan", "B"},
      {"pairs", 0, 0, G_OPTION_ARG_INT, &pairs, "validation pairs (default 2048)", "N"},
      {"seed", 's', 0, G_OPTION_ARG_INT64, &seed, "seed of the pairs (default 0)", "S"},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int rc = app_parse_options(cmd, "",
                             "Scores learned distances and the l2 pixel distance on the val split: "
                             "Spearman correlation with the true offset and ranking accuracy "
                             "against arm-neighbour negatives.",
                             entries, &argc, &argv);
  app_dist_data data = {0};
  cmp_ctx *ctx = NULL;
  dist_cost *cost = NULL, *reg = NULL;
  dist_pairs p = {0};
  char err[1024] = "";
  if (rc >= 0) goto done;
  rc = APP_EXIT_BAD_INPUT;
  if (argc > 1) {
    app_bad_input(cmd, "unexpected argument '%s'", argv[1]);
    goto done;
  }
  if (!app_require(cmd, "--distance", dist_run) || !app_require(cmd, "--data", data_path) ||
      !app_require(cmd, "--json", json_out))
    goto done;
  cmp_backend_choice backend;
  if (!app_backend_option(cmd, backend_name, &backend)) goto done;
  if (pairs < 1 || seed < 0) {
    app_bad_input(cmd, "--pairs must be positive and --seed not negative");
    goto done;
  }
  char why[512];
  ctx = cmp_create(backend, NULL, why, sizeof why, err, sizeof err);
  if (!ctx) {
    rc = app_failure(cmd, "%s", err);
    goto done;
  }
  cost = dist_cost_load(ctx, dist_run, -1, 0, err, sizeof err);
  if (!cost) {
    app_bad_input(cmd, "--distance: %s", err);
    goto done;
  }
  if (reg_run &&
      !(reg = dist_cost_load(ctx, reg_run, DIST_METHOD_REGRESSION, 0, err, sizeof err))) {
    app_bad_input(cmd, "--regression: %s", err);
    goto done;
  }
  rc = app_dist_data_load(&data, data_path, false, true, err, sizeof err);
  if (rc != APP_EXIT_OK) {
    if (rc == APP_EXIT_BAD_INPUT)
      app_bad_input(cmd, "%s", err);
    else
      app_failure(cmd, "%s", err);
    goto done;
  }
  rc = APP_EXIT_BAD_INPUT;
  if (!dist_pairs_make(&data.val.d, pairs, (uint64_t)seed, &p, err, sizeof err)) {
    app_bad_input(cmd, "%s: %s", data_path, err);
    goto done;
  }
  rc = APP_EXIT_FAILURE;
  dist_scores s_dist, s_reg = {0}, s_pix;
  if (!dist_metrics_eval(&data.val.d, &p, cost_fn, cost, DIST_COST_BATCH, &s_dist, err,
                         sizeof err) ||
      (reg && !dist_metrics_eval(&data.val.d, &p, cost_fn, reg, DIST_COST_BATCH, &s_reg, err,
                                 sizeof err)) ||
      !dist_metrics_eval(&data.val.d, &p, dist_pixel_fn, NULL, 256, &s_pix, err, sizeof err)) {
    app_failure(cmd, "%s", err);
    goto done;
  }
  mb_jw w;
  mb_jw_init(&w, true);
  mb_jw_begin_object(&w);
  mb_jw_key(&w, "dataset");
  mb_jw_begin_object(&w);
  app_dist_data_identity(&data, &w);
  mb_jw_end_object(&w);
  mb_jw_kv_string(&w, "split", "val");
  mb_jw_kv_int(&w, "val_episodes", data.val.d.episodes);
  mb_jw_kv_int(&w, "pairs", p.n);
  mb_jw_kv_int(&w, "seed", seed);
  mb_jw_kv_int(&w, "negative_fallbacks", p.fallbacks);
  mb_jw_kv_string(&w, "backend", cmp_backend_name(ctx));
  scores_json(&w, "distance", dist_run, cost, &s_dist);
  if (reg) scores_json(&w, "regression", reg_run, reg, &s_reg);
  scores_json(&w, "pixel_l2", NULL, NULL, &s_pix);
  mb_jw_end_object(&w);
  char *text = mb_jw_take(&w);
  if (!text || !mb_write_file_atomic(json_out, text, strlen(text), err, sizeof err)) {
    free(text);
    app_bad_input(cmd, "%s", text ? err : "out of memory");
    rc = APP_EXIT_BAD_INPUT;
    goto done;
  }
  free(text);
  printf("%-28s %10s %10s\n", "val split, pairs", "Spearman", "ranking");
  printf("%-28s %10.4f %10.4f\n", dist_method_name(dist_cost_method(cost)), s_dist.spearman,
         s_dist.ranking);
  if (reg) printf("%-28s %10.4f %10.4f\n", "regression", s_reg.spearman, s_reg.ranking);
  printf("%-28s %10.4f %10.4f\n", "l2 pixel", s_pix.spearman, s_pix.ranking);
  rc = APP_EXIT_OK;
done:
  dist_pairs_free(&p);
  dist_cost_destroy(cost);
  dist_cost_destroy(reg);
  cmp_destroy(ctx);
  app_dist_data_free(&data);
  g_free(dist_run), g_free(reg_run), g_free(data_path), g_free(json_out), g_free(backend_name);
  return rc;
}
