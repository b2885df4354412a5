/* Training the video model with the multi-step l2 loss (paper Eq. 1).
 *
 * Data: episodes in memory as uint8 images (the app reads a dataset's train and val splits into a
 * dyn_episodes each; compute/ never touches HDF5). A training example is a window of K + T
 * consecutive frames of one episode: K context frames, then T targets, with the T actions between
 * them (action t moves frame t to t + 1). Windows are drawn uniformly (episode, then start), except
 * that a share `interaction` of them is drawn uniformly among the windows in which an object
 * moves (random pushes are rare and a 4-pixel block is little of an image's l2; the loss itself
 * stays Eq. 1). Draws come from counter-based random numbers keyed by (seed, step), made on a
 * separate thread one step ahead, so a step's batch depends only on the seed and the step: a
 * resumed run sees exactly the batches of an uninterrupted one.
 *
 * Loss: the mean squared pixel error (pixels / 255) over all T predicted frames of the batch
 * (optionally weighting the pixels that change, change_weight, dyn_backward). The
 * model rolls out from the context in its latent space as it does when planning; it is never fed
 * the true frames (no teacher forcing, so no scheduled sampling is needed). Adam, one optimiser per
 * model part; the learning rate falls linearly to a tenth after lr_decay_start of the steps.
 *
 * A run folder (train_run.h) holds config.json (every hyperparameter and the data's identity),
 * log.jsonl ("mse" per logged step, "val_mse" and "val_copy_mse" on eval steps) and the latest
 * checkpoint: the model (PyTorch names, loadable by dyn_planner_load), each part's Adam state as
 * "adam.<part>.<name>.exp_avg" / ".exp_avg_sq" / "adam.<part>.step", and the architecture as
 * metadata. */
#ifndef DYN_TRAIN_H
#define DYN_TRAIN_H

#include "cmp.h"
#include "dyn_model.h"
#include "mb_job.h"
#include "train_run.h"

#include <stdbool.h>
#include <stdint.h>

/* Episodes in memory (borrowed). */
typedef struct dyn_episodes {
  int64_t count;          /* episodes */
  int frames;             /* frames per episode (steps + 1) */
  const uint8_t *images;  /* count x frames x 64 x 64 x 3 */
  const float *actions;   /* count x (frames - 1) x 4 */
  int objects;            /* objects with positions below (0: none) */
  const float *object_xy; /* count x frames x objects x 2, metres (NULL when objects = 0) */
} dyn_episodes;

/* Where the episodes came from, recorded in config.json and compared on resume. */
typedef struct dyn_data_id {
  char path[512];         /* dataset file as given */
  char task[32];          /* e.g. "push1" */
  uint64_t seed;          /* collection seed */
  char scene_version[64]; /* scene files' version */
  int64_t episodes;       /* episodes in the file */
  int64_t train_episodes; /* loaded for training */
  int64_t val_episodes;   /* loaded for validation */
  uint64_t actions_hash;  /* FNV-1a of the loaded train actions' bytes (dyn_hash_bytes) */
} dyn_data_id;

uint64_t dyn_hash_bytes(uint64_t h, const void *data, size_t n); /* start with h = 0 */

typedef struct dyn_train_params {
  dyn_config model;     /* architecture */
  int horizon;          /* T predicted frames per window (13) */
  int batch;            /* windows per step (16) */
  float lr;             /* Adam learning rate (1e-3) */
  int64_t steps;        /* train until this many steps */
  uint64_t seed;        /* initialisation and batches */
  int log_every;        /* a log line every this many steps */
  int checkpoint_every; /* a checkpoint every this many steps */
  int eval_every;       /* validation every this many steps (0 = never) */
  int val_windows;      /* windows of the validation loss */
  float interaction;    /* share of windows drawn among those where an object moves */
  float interaction_m;  /* "moves": some target frame's object is this far (xy, metres) from
                           where it was in the last context frame */
  float lr_decay_start; /* share of the steps after which the learning rate falls linearly to
                           a tenth at the last step (1: constant) */
  float change_weight;  /* extra weight of changing pixels in the loss (dyn_backward; 0: Eq. 1) */
  bool loss_l1;         /* train on the l1 (Huber, DYN_L1_DELTA) loss instead of Eq. 1's l2 */
  char init[512];       /* "": PyTorch's initialisation; else a dynamics run folder whose latest
                           checkpoint's model weights (same architecture) a new run starts from */
} dyn_train_params;

/* The defaults above, 20000 steps, seed 0, log 50, checkpoint 500, eval 500 on 128 windows, half
 * the windows from object interactions (objects moving at least 1 cm), decay from half way, plain
 * Eq. 1 (l2) loss, no init run. */
dyn_train_params dyn_train_defaults(void);
bool dyn_train_params_check(const dyn_train_params *p, char *err, size_t err_sz);
/* "l2" or "l1", the names of loss_l1 false and true (CLI, run configs). */
const char *dyn_pixel_loss_name(bool l1);
bool dyn_parse_pixel_loss(const char *name, bool *l1); /* false: neither name */
/* False with `what` naming the first setting that differs (model, horizon, batch, lr, seed, ...);
 * the step count and the log/checkpoint/eval intervals may differ. */
bool dyn_train_params_same(const dyn_train_params *a, const dyn_train_params *b, char *what,
                           size_t what_sz);
/* The parameters a run folder was started with (its config.json), for resuming; false + err when
 * the folder holds no dynamics run. */
bool dyn_train_params_from_run(const char *run_dir, dyn_train_params *p, char *err, size_t err_sz);
/* Whether p->init (if set) names a dynamics run with a checkpoint of p->model's architecture; false
 * + err naming what is wrong. dyn_train_run checks this too; callers check early, before reading
 * a dataset. */
bool dyn_train_check_init(const dyn_train_params *p, char *err, size_t err_sz);

/* ---- the trainer (model, optimiser, batches); the run loop is dyn_train_run ------------------ */

typedef struct dyn_trainer dyn_trainer;

/* A trainer over train (and val for validation; may be NULL) on ctx; the episodes must outlive it.
 * NULL + err for invalid parameters or episodes too short for a window. */
dyn_trainer *dyn_trainer_create(cmp_ctx *ctx, const dyn_train_params *p, const dyn_episodes *train,
                                const dyn_episodes *val, char *err, size_t err_sz);
void dyn_trainer_destroy(dyn_trainer *t);
/* One optimisation step number `step` (1-based); *mse receives the batch loss before the update. */
/* Window i of step `step`'s batch (what dyn_trainer_step trains on): episode and first frame. */
void dyn_trainer_window(const dyn_trainer *t, int64_t step, int i, int64_t *episode, int *start);
/* Windows in which an object moves (the pool of interaction draws). */
int64_t dyn_trainer_interaction_windows(const dyn_trainer *t);
/* The learning rate of a step. */
float dyn_train_lr(const dyn_train_params *p, int64_t step);
bool dyn_trainer_step(dyn_trainer *t, int64_t step, float *mse, char *err, size_t err_sz);
/* Validation: the model's and copy-the-last-frame's mean squared error on the first val_windows
 * windows of a fixed list over the val episodes. */
bool dyn_trainer_validate(dyn_trainer *t, double *mse, double *copy_mse, char *err, size_t err_sz);
/* The full training state (model, Adam) as one safetensors file / back. Loading checks the
 * architecture and every tensor before changing anything. */
bool dyn_trainer_save(dyn_trainer *t, const char *path, char *err, size_t err_sz);
bool dyn_trainer_load(dyn_trainer *t, const char *path, char *err, size_t err_sz);
dyn_model *dyn_trainer_model(dyn_trainer *t);

/* ---- the run ----------------------------------------------------------------------------------
 */

typedef enum dyn_train_status {
  DYN_TRAIN_DONE,      /* reached the step count */
  DYN_TRAIN_CANCELLED, /* hooks->cancel: checkpoint saved, resumable */
  DYN_TRAIN_DIVERGED,  /* the loss became NaN/Inf: the last good checkpoint is kept */
  DYN_TRAIN_FAILED,    /* I/O or another failure */
  DYN_TRAIN_BAD_INPUT, /* existing run without resume, resume with other settings or data */
} dyn_train_status;

typedef struct dyn_train_summary {
  int64_t first_step;          /* steps already done when this call started (resume) */
  int64_t last_step;           /* steps done when it returned */
  double wall_s;               /* wall time of this call's steps */
  float last_mse;              /* loss of the last step */
  int64_t interaction_windows; /* train windows in which an object moves */
} dyn_train_summary;

/* Trains into run_dir: a new run (refused if run_dir already holds one), or with resume the run
 * there continues from its latest checkpoint; its config must match p and id (steps may grow).
 * backend: recorded in config.json. */
dyn_train_status dyn_train_run(cmp_ctx *ctx, const char *run_dir, bool resume,
                               const dyn_train_params *p, const dyn_data_id *id,
                               const dyn_episodes *train, const dyn_episodes *val,
                               const mb_job_hooks *hooks, dyn_train_summary *summary, char *err,
                               size_t err_sz);

#endif
