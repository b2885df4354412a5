/* mbold train dynamics: trains the video model (compute/dyn_train.h) on a dataset's train split,
 * validating on its val split, into a run folder. */
#include "app_cli.h"
#include "app_dyn_data.h"
#include "app_interrupt.h"
#include "app_progress.h"

#include "dyn_train.h"
#include "sim_dataset.h"

#include <stdio.h>
#include <string.h>

int app_train_dynamics(int argc, char **argv);

#define UNSET (-1234567)

int app_train_dynamics(int argc, char **argv) {
  const char *cmd = "train dynamics";
  gchar *data = NULL, *out = NULL, *backend = NULL, *init = NULL, *warp_source = NULL, *loss = NULL;
  gint64 steps = UNSET, seed = UNSET, max_episodes = 0, val_episodes = 200;
  gint batch = UNSET, latent = UNSET, latent_hw = UNSET, context = UNSET, threads = 0,
       log_every = UNSET, ckpt_every = UNSET, eval_every = UNSET;
  gdouble lr = UNSET, blur = UNSET, interaction = UNSET, decay = UNSET, change = UNSET;
  gboolean resume = FALSE;
  GOptionEntry entries[] = {
      {"data", 'd', 0, G_OPTION_ARG_FILENAME, &data, "dataset (mbold collect)", "FILE.h5"},
      {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "run folder to create (or resume)", "RUN"},
      {"steps", 'n', 0, G_OPTION_ARG_INT64, &steps, "train until this step (default 20000)", "N"},
      {"backend", 0, 0, G_OPTION_ARG_STRING, &backend, "auto, cpu or vulkan (default: auto)", "B"},
      {"resume", 0, 0, G_OPTION_ARG_NONE, &resume, "continue the run in --out", NULL},
      {"seed", 's', 0, G_OPTION_ARG_INT64, &seed, "initialisation and batches (default 0)", "S"},
      {"batch", 0, 0, G_OPTION_ARG_INT, &batch, "windows per step (default 16)", "B"},
      {"lr", 0, 0, G_OPTION_ARG_DOUBLE, &lr, "Adam learning rate (default 0.001)", "LR"},
      {"latent", 0, 0, G_OPTION_ARG_INT, &latent, "latent channels (default 32)", "L"},
      {"latent-grid", 0, 0, G_OPTION_ARG_INT, &latent_hw,
       "latent grid, 8 or 16 (default 8; 16 with --latent 16 costs the same per step)", "G"},
      {"context", 0, 0, G_OPTION_ARG_INT, &context, "context frames, 1 or 2 (default 2)", "K"},
      {"blur", 0, 0, G_OPTION_ARG_DOUBLE, &blur,
       "also warp the context blurred by this sigma in pixels, 0 = off (default 3; 0 with "
       "--warp-source previous)",
       "SIGMA"},
      {"warp-source", 0, 0, G_OPTION_ARG_STRING, &warp_source,
       "what each predicted frame warps: context (the last context frame, default) or previous "
       "(the frame predicted before it)",
       "S"},
      {"interaction", 0, 0, G_OPTION_ARG_DOUBLE, &interaction,
       "share of windows drawn among those where an object moves (default 0.5)", "F"},
      {"lr-decay-start", 0, 0, G_OPTION_ARG_DOUBLE, &decay,
       "share of the steps after which the learning rate falls to a tenth (default 0.5)", "F"},
      {"change-weight", 0, 0, G_OPTION_ARG_DOUBLE, &change,
       "extra loss weight of pixels that change from the context, in the true or the predicted "
       "frame (default 0: plain l2)",
       "W"},
      {"loss", 0, 0, G_OPTION_ARG_STRING, &loss,
       "pixel loss: l2 (paper Eq. 1, default) or l1 (Huber, linear beyond 0.01: the likelier "
       "outcome drawn sharp rather than the average of all)",
       "L"},
      {"init", 0, 0, G_OPTION_ARG_FILENAME, &init,
       "start from the model weights of this dynamics run's latest checkpoint (fine-tuning)",
       "RUN"},
      {"max-episodes", 0, 0, G_OPTION_ARG_INT64, &max_episodes,
       "train episodes to load (default: the whole train split)", "N"},
      {"val-episodes", 0, 0, G_OPTION_ARG_INT64, &val_episodes,
       "val episodes to load for the validation loss (default 200)", "N"},
      {"log-every", 0, 0, G_OPTION_ARG_INT, &log_every, "log interval (default 50)", "N"},
      {"checkpoint-every", 0, 0, G_OPTION_ARG_INT, &ckpt_every, "checkpoint interval (default 500)",
       "N"},
      {"eval-every", 0, 0, G_OPTION_ARG_INT, &eval_every, "validation interval, 0 = never (500)",
       "N"},
      {"threads", 'j', 0, G_OPTION_ARG_INT, &threads, "CPU backend threads (default: all cores)",
       "K"},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int rc = app_parse_options(cmd, "",
                             "Trains the action-conditioned video prediction model with the "
                             "multi-step l2 loss on a dataset's train split.",
                             entries, &argc, &argv);
  if (rc >= 0) goto done;
  rc = APP_EXIT_BAD_INPUT;
  if (argc > 1) {
    app_bad_input(cmd, "unexpected argument '%s'", argv[1]);
    goto done;
  }
  if (!app_require(cmd, "--data", data) || !app_require(cmd, "--out", out)) goto done;
  cmp_backend_choice choice;
  if (!app_backend_option(cmd, backend, &choice)) goto done;
  if (threads < 0 || max_episodes < 0 || val_episodes < 0) {
    app_bad_input(cmd, "--threads, --max-episodes and --val-episodes must not be negative");
    goto done;
  }
  char err[1024];
  /* A resumed run keeps its settings; options given now must agree with them. */
  dyn_train_params p = dyn_train_defaults(), orig;
  if (resume && !dyn_train_params_from_run(out, &p, err, sizeof err)) {
    app_bad_input(cmd, "%s", err);
    goto done;
  }
  orig = p;
  /* Refuse an existing run before reading gigabytes of images. */
  char *state = g_build_filename(out, "config.json", NULL);
  bool exists = g_file_test(state, G_FILE_TEST_EXISTS);
  g_free(state);
  if (!resume && exists) {
    app_bad_input(cmd,
                  "%s: already holds a training run (use --resume to continue it, or another "
                  "--out)",
                  out);
    goto done;
  }
  if (steps != UNSET) p.steps = steps;
  if (seed != UNSET) {
    if (seed < 0) {
      app_bad_input(cmd, "--seed must not be negative (got %lld)", (long long)seed);
      goto done;
    }
    p.seed = (uint64_t)seed;
  }
  if (batch != UNSET) p.batch = batch;
  if (lr != UNSET) p.lr = (float)lr;
  if (latent != UNSET) p.model.latent = latent;
  if (latent_hw != UNSET) p.model.latent_hw = latent_hw;
  if (context != UNSET) p.model.context = context;
  if (warp_source) {
    if (!dyn_parse_warp_source(warp_source, &p.model.warp_prev)) {
      app_bad_input(cmd, "--warp-source '%s' (must be context or previous)", warp_source);
      goto done;
    }
    if (p.model.warp_prev && !resume && blur == UNSET) p.model.blur_sigma = 0.0f;
  }
  if (blur != UNSET) p.model.blur_sigma = (float)blur;
  if (interaction != UNSET) p.interaction = (float)interaction;
  if (decay != UNSET) p.lr_decay_start = (float)decay;
  if (change != UNSET) p.change_weight = (float)change;
  if (loss && !dyn_parse_pixel_loss(loss, &p.loss_l1)) {
    app_bad_input(cmd, "--loss '%s' (must be l2 or l1)", loss);
    goto done;
  }
  if (init) snprintf(p.init, sizeof p.init, "%s", init);
  if (log_every != UNSET) p.log_every = log_every;
  if (ckpt_every != UNSET) p.checkpoint_every = ckpt_every;
  if (eval_every != UNSET) p.eval_every = eval_every;
  char what[64];
  if (resume && !dyn_train_params_same(&p, &orig, what, sizeof what)) {
    app_bad_input(cmd,
                  "%s: the run was started with another '%s' (see its config.json); resume with "
                  "its settings",
                  out, what);
    goto done;
  }
  if (!dyn_train_params_check(&p, err, sizeof err)) {
    app_bad_input(cmd, "%s", err);
    goto done;
  }
  if (!resume && !dyn_train_check_init(&p, err, sizeof err)) { /* before reading the images */
    app_bad_input(cmd, "%s", err);
    goto done;
  }

  sim_dataset *ds = sim_dataset_open(data, err, sizeof err);
  if (!ds) {
    app_bad_input(cmd, "%s", err);
    goto done;
  }
  app_dyn_split train = {0}, val = {0};
  bool have_val = val_episodes > 0 && p.eval_every > 0;
  if (!app_dyn_load_split(ds, data, SIM_SPLIT_TRAIN, max_episodes, &train, err, sizeof err) ||
      (have_val &&
       !app_dyn_load_split(ds, data, SIM_SPLIT_VAL, val_episodes, &val, err, sizeof err))) {
    rc = app_bad_input(cmd, "%s", err);
    sim_dataset_close(ds);
    app_dyn_split_free(&train);
    goto done;
  }
  dyn_data_id id;
  app_dyn_data_id(ds, data, &train, have_val ? &val : NULL, &id);
  sim_dataset_close(ds);

  cmp_options opt = cmp_options_default();
  opt.threads = threads;
  char why[512];
  cmp_ctx *ctx = cmp_create(choice, &opt, why, sizeof why, err, sizeof err);
  if (!ctx) {
    rc = app_failure(cmd, "%s", err);
    app_dyn_split_free(&train), app_dyn_split_free(&val);
    goto done;
  }
  printf("%s: %lld train episodes, %lld val; %s\n", out, (long long)train.ep.count,
         (long long)val.ep.count, why);
  fflush(stdout);
  app_progress prog;
  app_progress_init(&prog, "train dynamics", "steps");
  /* .log: with MBOLD_PROGRESS=json every log line also goes to stderr, where the workbench's job
   * panel draws its loss curve from it. */
  mb_job_hooks hooks = {.progress = app_progress_cb,
                        .log = app_progress_log_cb,
                        .user = &prog,
                        .cancel = app_interrupt_install()};
  dyn_train_summary sum;
  dyn_train_status st = dyn_train_run(ctx, out, resume, &p, &id, &train.ep,
                                      have_val ? &val.ep : NULL, &hooks, &sum, err, sizeof err);
  app_progress_finish(&prog);
  cmp_destroy(ctx);
  app_dyn_split_free(&train), app_dyn_split_free(&val);
  switch (st) {
    case DYN_TRAIN_DONE:
      printf("%s: step %lld (%lld this run in %.0f s), last mse %.6f; %lld train windows with a "
             "moving object\n",
             out, (long long)sum.last_step, (long long)(sum.last_step - sum.first_step), sum.wall_s,
             sum.last_mse, (long long)sum.interaction_windows);
      rc = APP_EXIT_OK;
      break;
    case DYN_TRAIN_BAD_INPUT:
      rc = app_bad_input(cmd, "%s", err);
      break;
    default:
      rc = app_failure(cmd, "%s", err);
      break;
  }
done:
  g_free(data);
  g_free(out);
  g_free(backend);
  g_free(init);
  g_free(warp_source);
  g_free(loss);
  return rc;
}
