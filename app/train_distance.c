/* mbold train distance: trains the learned distance (compute/dist_train.h) from a dataset into a
 * run folder (compute/train_run.h: config.json, log.jsonl, checkpoints, resume). */
#include "app_cli.h"
#include "app_dist_data.h"
#include "app_interrupt.h"
#include "app_progress.h"

#include "dist_metrics.h"
#include "dist_train.h"
#include "mb_file.h"
#include "train_run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int app_train_distance(int argc, char **argv);

/* ---- distance -------------------------------------------------------------------------------- */

#define DIST_DEFAULT_STEPS 93750 /* the paper's 300 epochs */
#define DIST_EVAL_PAIRS    1024  /* validation pairs scored every --eval-every steps */
#define DIST_EVAL_SEED     0     /* the pairs' seed: every run is scored on the same pairs */

typedef struct dist_job {
  dist_trainer *trainer;   /* the trainer */
  const dist_dataset *val; /* val split, or NULL (no metrics) */
  dist_pairs pairs;        /* validation pairs */
  dist_scores pixel;       /* l2 pixel distance on the same pairs (computed once) */
} dist_job;

static bool job_step(void *user, int64_t step, float *losses, char *err, size_t err_sz) {
  dist_job *j = user;
  return dist_trainer_step(j->trainer, step, losses, err, err_sz);
}

static bool job_save(void *user, const char *path, char *err, size_t err_sz) {
  dist_job *j = user;
  return dist_trainer_save(j->trainer, path, err, err_sz);
}

static bool trainer_fn(void *user, const uint8_t *cur, const uint8_t *goal, int n, float *out,
                       char *err, size_t err_sz) {
  return dist_trainer_rank(user, cur, goal, n, out, err, err_sz);
}

static bool job_eval(void *user, int64_t step, mb_jw *w, char *err, size_t err_sz) {
  dist_job *j = user;
  (void)step;
  dist_scores s;
  if (!dist_metrics_eval(j->val, &j->pairs, trainer_fn, j->trainer, 200, &s, err, err_sz))
    return false;
  mb_jw_kv_double(w, "val_spearman", round(s.spearman * 1e4) / 1e4);
  mb_jw_kv_double(w, "val_ranking", round(s.ranking * 1e4) / 1e4);
  mb_jw_kv_double(w, "pixel_spearman", round(j->pixel.spearman * 1e4) / 1e4);
  mb_jw_kv_double(w, "pixel_ranking", round(j->pixel.ranking * 1e4) / 1e4);
  return true;
}

static char *config_json(const dist_hparams *h, const app_dist_data *data, const cmp_ctx *ctx,
                         int64_t steps, int log_every, int ckpt_every, int eval_every,
                         int eval_pairs) {
  mb_jw w;
  mb_jw_init(&w, true);
  mb_jw_begin_object(&w);
  mb_jw_kv_string(&w, "kind", "distance");
  mb_jw_kv_string(&w, "method", dist_method_name(h->method));
  mb_jw_key(&w, "hparams");
  mb_jw_begin_object(&w);
  dist_hparams_write(h, &w);
  mb_jw_end_object(&w);
  mb_jw_key(&w, "dataset");
  mb_jw_begin_object(&w);
  app_dist_data_identity(data, &w);
  mb_jw_kv_int(&w, "train_episodes", data->train.d.episodes);
  mb_jw_kv_int(&w, "val_episodes", data->val.d.episodes);
  mb_jw_end_object(&w);
  mb_jw_kv_string(&w, "backend", cmp_backend_name(ctx));
  mb_jw_kv_string(&w, "device", cmp_device_name(ctx));
  mb_jw_kv_int(&w, "steps", steps);
  mb_jw_kv_int(&w, "log_every", log_every);
  mb_jw_kv_int(&w, "checkpoint_every", ckpt_every);
  mb_jw_kv_int(&w, "eval_every", eval_every);
  mb_jw_kv_int(&w, "eval_pairs", eval_pairs);
  mb_jw_kv_int(&w, "eval_seed", DIST_EVAL_SEED);
  mb_jw_end_object(&w);
  return mb_jw_take(&w);
}

int app_train_distance(int argc, char **argv) {
  const char *cmd = "train distance";
  gchar *data_path = NULL, *out = NULL, *backend_name = NULL, *method_name = NULL;
  gint64 steps = 0, seed = -1;
  gint log_every = 100, ckpt_every = 1000, eval_every = 1000, threads = 0;
  gboolean resume = FALSE;
  GOptionEntry entries[] = {
      {"data", 'd', 0, G_OPTION_ARG_FILENAME, &data_path, "dataset (train split is trained on)",
       "FILE.h5"},
      {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "run folder", "RUN"},
      {"steps", 'n', 0, G_OPTION_ARG_INT64, &steps,
       "train until this many steps (default 93750, the paper's; on --resume the run's)", "N"},
      {"backend", 'b', 0, G_OPTION_ARG_STRING, &backend_name, "auto, cpu or vulkan (default auto)",
       "B"},
      {"resume", 0, 0, G_OPTION_ARG_NONE, &resume, "continue the run in --out", NULL},
      {"method", 'm', 0, G_OPTION_ARG_STRING, &method_name,
       "q (Q-function, the default) or regression (temporal-distance baseline)", "M"},
      {"seed", 's', 0, G_OPTION_ARG_INT64, &seed, "seed of networks and batches (default 0)", "S"},
      {"log-every", 0, 0, G_OPTION_ARG_INT, &log_every, "a log line every N steps (default 100)",
       "N"},
      {"checkpoint-every", 0, 0, G_OPTION_ARG_INT, &ckpt_every,
       "a checkpoint every N steps (default 1000)", "N"},
      {"eval-every", 0, 0, G_OPTION_ARG_INT, &eval_every,
       "validation metrics every N steps (default 1000, 0 = never)", "N"},
      {"threads", 'j', 0, G_OPTION_ARG_INT, &threads, "CPU backend threads (default: one per core)",
       "K"},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int rc = app_parse_options(cmd, "",
                             "Trains the learned distance: the goal-conditioned Q-function (TD3 + "
                             "CQL, hindsight and arm-neighbour goals) or the regression baseline.",
                             entries, &argc, &argv);
  app_dist_data data = {0};
  cmp_ctx *ctx = NULL;
  dist_job job = {0};
  train_run run = {0};
  bool run_open = false;
  mb_json *cfg = NULL;
  char *config = NULL;
  char err[1024] = "";
  if (rc >= 0) goto done;
  rc = APP_EXIT_BAD_INPUT;
  if (argc > 1) {
    app_bad_input(cmd, "unexpected argument '%s'", argv[1]);
    goto done;
  }
  if (!app_require(cmd, "--data", data_path) || !app_require(cmd, "--out", out)) goto done;
  dist_method method = DIST_METHOD_Q;
  if (method_name && !dist_method_parse(method_name, &method)) {
    app_bad_input(cmd, "--method: unknown method '%s' (q or regression)", method_name);
    goto done;
  }
  cmp_backend_choice backend;
  if (!app_backend_option(cmd, backend_name, &backend)) goto done;
  if (steps < 0 || log_every < 1 || ckpt_every < 1 || eval_every < 0 || threads < 0) {
    app_bad_input(cmd, "--steps, --log-every, --checkpoint-every, --eval-every and --threads "
                       "must be positive");
    goto done;
  }
  if (seed < -1) {
    app_bad_input(cmd, "--seed must not be negative (got %lld)", (long long)seed);
    goto done;
  }

  if (!resume) {
    char *existing = mb_path_join(out, "config.json");
    bool exists = mb_file_exists(existing);
    free(existing);
    if (exists) {
      app_bad_input(cmd,
                    "%s: already holds a training run (use --resume to continue it, or another "
                    "--out)",
                    out);
      goto done;
    }
  }
  /* On resume the run's own settings win; what was asked for must not contradict them. */
  dist_hparams h;
  if (resume) {
    cfg = train_run_config(out, err, sizeof err);
    if (!cfg) {
      app_bad_input(cmd, "%s", err);
      goto done;
    }
    const char *kind = mb_json_as_string(mb_json_get(cfg, "kind"));
    if (!kind || strcmp(kind, "distance")) {
      app_bad_input(cmd, "%s: not a distance training run (kind %s)", out, kind ? kind : "?");
      goto done;
    }
    if (!dist_hparams_read(mb_json_get(cfg, "hparams"), &h, err, sizeof err)) {
      app_bad_input(cmd, "%s/config.json: %s", out, err);
      goto done;
    }
    if (method_name && h.method != method) {
      app_bad_input(cmd, "%s is a --method %s run, not %s", out, dist_method_name(h.method),
                    method_name);
      goto done;
    }
    if (seed >= 0 && (uint64_t)seed != h.seed) {
      app_bad_input(cmd, "%s was started with --seed %llu, not %lld", out,
                    (unsigned long long)h.seed, (long long)seed);
      goto done;
    }
    int64_t v;
    if (!steps && mb_json_as_int64(mb_json_get(cfg, "steps"), &v)) steps = v;
    if (mb_json_as_int64(mb_json_get(cfg, "log_every"), &v)) log_every = (int)v;
    if (mb_json_as_int64(mb_json_get(cfg, "checkpoint_every"), &v)) ckpt_every = (int)v;
    if (mb_json_as_int64(mb_json_get(cfg, "eval_every"), &v)) eval_every = (int)v;
  }

  rc = app_dist_data_load(&data, data_path, true, true, err, sizeof err);
  if (rc != APP_EXIT_OK) {
    if (rc == APP_EXIT_BAD_INPUT)
      app_bad_input(cmd, "%s", err);
    else
      app_failure(cmd, "%s", err);
    goto done;
  }
  rc = APP_EXIT_BAD_INPUT;
  if (resume) {
    char why[1024];
    if (!app_dist_data_same(mb_json_get(cfg, "dataset"), &data, why, sizeof why)) {
      app_bad_input(cmd, "cannot resume %s with --data %s: %s", out, data_path, why);
      goto done;
    }
  } else {
    h = dist_hparams_default(method, dist_cql_tau_for_task(sim_task_name(data.meta.task)));
    h.seed = seed >= 0 ? (uint64_t)seed : 0;
  }
  if (!steps) steps = DIST_DEFAULT_STEPS;
  int min_train = h.method == DIST_METHOD_Q ? 2 : 1;
  if (!dist_dataset_check(&data.train.d, min_train, "train split", err, sizeof err)) {
    app_bad_input(cmd, "%s: %s", data_path, err);
    goto done;
  }
  bool have_val = data.val.d.episodes >= 2 && eval_every > 0;
  if (!have_val && eval_every > 0)
    fprintf(stderr, "mbold %s: the val split has %d episodes; no validation metrics\n", cmd,
            data.val.d.episodes);

  cmp_options opt = cmp_options_default();
  opt.threads = threads;
  char why[512];
  ctx = cmp_create(backend, &opt, why, sizeof why, err, sizeof err);
  if (!ctx) {
    rc = app_failure(cmd, "%s", err);
    goto done;
  }

  rc = APP_EXIT_FAILURE;
  if (resume) {
    if (!train_run_resume(&run, out, err, sizeof err)) {
      rc = app_bad_input(cmd, "%s", err);
      goto done;
    }
  } else {
    config = config_json(&h, &data, ctx, steps, log_every, ckpt_every, eval_every, DIST_EVAL_PAIRS);
    if (!config || !train_run_create(&run, out, config, err, sizeof err)) {
      rc = app_bad_input(cmd, "%s", config ? err : "out of memory");
      goto done;
    }
  }
  run_open = true;
  job.trainer = dist_trainer_create(ctx, &h, &data.train.d, err, sizeof err);
  if (!job.trainer) {
    rc = app_bad_input(cmd, "%s: %s", data_path, err);
    goto done;
  }
  if (run.checkpoint && !dist_trainer_load(job.trainer, run.checkpoint, err, sizeof err)) {
    rc = app_bad_input(cmd, "%s", err);
    goto done;
  }
  if (have_val) {
    job.val = &data.val.d;
    if (!dist_pairs_make(job.val, DIST_EVAL_PAIRS, DIST_EVAL_SEED, &job.pairs, err, sizeof err) ||
        !dist_metrics_eval(job.val, &job.pairs, dist_pixel_fn, NULL, 200, &job.pixel, err,
                           sizeof err)) {
      rc = app_failure(cmd, "validation pairs: %s", err);
      goto done;
    }
  }
  fprintf(stderr, "mbold %s: %s\n", cmd, why);
  if (run.step >= steps) {
    printf("%s: already at step %lld of %lld\n", out, (long long)run.step, (long long)steps);
    rc = APP_EXIT_OK;
    goto done;
  }

  train_loop loop = {.total_steps = steps,
                     .log_every = log_every,
                     .checkpoint_every = ckpt_every,
                     .eval_every = have_val ? eval_every : 0,
                     .step = job_step,
                     .evaluate = have_val ? job_eval : NULL,
                     .save = job_save,
                     .user = &job};
  loop.n_losses = dist_trainer_loss_names(job.trainer, loop.loss_names);
  char label[64];
  snprintf(label, sizeof label, "train distance %s", dist_method_name(h.method));
  app_progress progress;
  app_progress_init(&progress, label, "steps");
  /* .log: with MBOLD_PROGRESS=json every log line also goes to stderr, where the workbench's job
   * panel draws its loss curve from it. */
  mb_job_hooks hooks = {.progress = app_progress_cb,
                        .log = app_progress_log_cb,
                        .user = &progress,
                        .cancel = app_interrupt_install()};
  train_result res = train_loop_run(&run, &loop, &hooks, err, sizeof err);
  app_progress_finish(&progress);
  if (res != TRAIN_DONE) {
    rc = app_failure(cmd, "%s", err);
    goto done;
  }
  printf("%s: %lld steps of the %s distance (checkpoint %s)\n", out, (long long)run.step,
         dist_method_name(h.method), run.checkpoint);
  rc = APP_EXIT_OK;
done:
  dist_trainer_destroy(job.trainer);
  dist_pairs_free(&job.pairs);
  if (run_open) train_run_close(&run);
  cmp_destroy(ctx);
  app_dist_data_free(&data);
  mb_json_free(cfg);
  free(config);
  g_free(data_path), g_free(out), g_free(backend_name), g_free(method_name);
  return rc;
}
