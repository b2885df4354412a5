/* The shared training loop: resume equals uninterrupted, cancel saves, the NaN guard keeps the last
 * good checkpoint, an existing run is never overwritten, a torn log line is dropped. */
#include "../test_util.h"
#include "mb_file.h"
#include "mb_philox.h"
#include "train_run.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A toy trainer: gradient descent on (x - 3)^2 with noise keyed by the step. */
typedef struct toy {
  double x;           /* the parameter */
  int64_t cancel_at;  /* set the cancel flag after this step (0 = never) */
  int64_t nan_at;     /* report a NaN loss at this step (0 = never) */
  atomic_int *cancel; /* the flag */
} toy;

static bool toy_step(void *user, int64_t step, float *losses, char *err, size_t err_sz) {
  toy *t = user;
  (void)err, (void)err_sz;
  double noise = mb_philox_normal(11, 0, (uint64_t)step);
  double g = 2 * (t->x - 3) + 0.1 * noise;
  t->x -= 0.05 * g;
  losses[0] = (float)((t->x - 3) * (t->x - 3));
  losses[1] = step == t->nan_at ? NAN : (float)noise;
  if (step == t->cancel_at) atomic_store(t->cancel, 1);
  return true;
}

static bool toy_save(void *user, const char *path, char *err, size_t err_sz) {
  toy *t = user;
  return mb_write_file_atomic(path, &t->x, sizeof t->x, err, err_sz);
}

static bool toy_load(toy *t, const char *dir) {
  char err[256];
  char *ckpt = train_run_latest_checkpoint(dir, NULL, err, sizeof err);
  if (!ckpt) return false;
  size_t n;
  double *x = mb_read_file(ckpt, &n, err, sizeof err);
  free(ckpt);
  if (!x || n != sizeof(double)) return false;
  t->x = *x;
  free(x);
  return true;
}

static train_loop toy_loop(toy *t) {
  train_loop l = {.total_steps = 50,
                  .log_every = 5,
                  .checkpoint_every = 10,
                  .n_losses = 2,
                  .loss_names = {"mse", "noise"},
                  .step = toy_step,
                  .save = toy_save,
                  .user = t};
  return l;
}

/* The log without the timing field, for comparing runs. */
static char *log_without_rates(const char *dir) {
  char *path = mb_path_join(dir, "log.jsonl");
  char *text = mb_read_file(path, NULL, NULL, 0);
  free(path);
  if (!text) return NULL;
  char *o = text;
  for (char *s = text; *s;) {
    char *r = strstr(s, ",\"steps_per_s\":");
    if (r == s) {
      s = strchr(s, '}');
      continue;
    }
    *o++ = *s++;
  }
  *o = 0;
  return text;
}

static void run_rm(const char *dir) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0);
}

int main(void) {
  char base[] = "/tmp/mbold-train-run-XXXXXX";
  CHECK(mkdtemp(base) != NULL);
  char *a = mb_path_join(base, "a"), *b = mb_path_join(base, "b"), *c = mb_path_join(base, "c");
  char err[512];
  atomic_int cancel = 0;
  mb_job_hooks hooks = {.cancel = &cancel};

  /* Uninterrupted. */
  toy ta = {.x = 0, .cancel = &cancel};
  train_loop la = toy_loop(&ta);
  train_run r;
  CHECK(train_run_create(&r, a, "{\"lr\": 0.05}", err, sizeof err));
  CHECK(train_loop_run(&r, &la, &hooks, err, sizeof err) == TRAIN_DONE);
  CHECK(r.step == 50);
  train_run_close(&r);

  /* An existing run is refused. */
  CHECK(!train_run_create(&r, a, "{}", err, sizeof err));
  CHECK(strstr(err, "--resume") != NULL);

  /* Cancelled at step 23, then resumed: same parameter bit for bit, same log. */
  toy tb = {.x = 0, .cancel_at = 23, .cancel = &cancel};
  train_loop lb = toy_loop(&tb);
  CHECK(train_run_create(&r, b, "{\"lr\": 0.05}", err, sizeof err));
  CHECK(train_loop_run(&r, &lb, &hooks, err, sizeof err) == TRAIN_CANCELLED);
  CHECK(strstr(err, "step 23") != NULL);
  train_run_close(&r);
  /* A torn line (the process died while writing it) must not survive the resume. */
  char *logb = mb_path_join(b, "log.jsonl");
  FILE *f = fopen(logb, "a");
  fputs("{\"step\": 24, \"mse\": 0.", f);
  fclose(f);
  free(logb);
  atomic_store(&cancel, 0);
  toy tb2 = {.cancel = &cancel};
  CHECK(toy_load(&tb2, b));
  train_loop lb2 = toy_loop(&tb2);
  CHECK(train_run_resume(&r, b, err, sizeof err));
  CHECK(r.step == 23);
  CHECK(train_loop_run(&r, &lb2, &hooks, err, sizeof err) == TRAIN_DONE);
  train_run_close(&r);
  CHECK(memcmp(&tb2.x, &ta.x, sizeof ta.x) == 0);
  char *log_a = log_without_rates(a), *log_b = log_without_rates(b);
  CHECK(log_a && log_b && !strcmp(log_a, log_b));
  free(log_a), free(log_b);
  /* Only the latest checkpoint is kept. */
  int64_t step = 0;
  char *ck = train_run_latest_checkpoint(b, &step, err, sizeof err);
  CHECK(ck && step == 50 && strstr(ck, "checkpoint-00000050.safetensors"));
  free(ck);
  char *old = mb_path_join(b, "checkpoint-00000023.safetensors");
  CHECK(!mb_file_exists(old));
  free(old);

  /* NaN at step 37: stops, keeps the checkpoint of step 30. */
  toy tc = {.x = 0, .nan_at = 37, .cancel = &cancel};
  train_loop lc = toy_loop(&tc);
  CHECK(train_run_create(&r, c, "{}", err, sizeof err));
  CHECK(train_loop_run(&r, &lc, &hooks, err, sizeof err) == TRAIN_DIVERGED);
  CHECK_MSG(strstr(err, "NaN at step 37") && strstr(err, "step 30"), "%s", err);
  train_run_close(&r);
  ck = train_run_latest_checkpoint(c, &step, err, sizeof err);
  CHECK(ck && step == 30);
  free(ck);

  /* Resuming something that is not a run is a clear error. */
  CHECK(!train_run_resume(&r, base, err, sizeof err) && strstr(err, "no config.json"));
  CHECK(train_run_latest_checkpoint("/nonexistent/run", NULL, err, sizeof err) == NULL);
  CHECK(strstr(err, "/nonexistent/run") != NULL);

  run_rm(base);
  free(a), free(b), free(c);
  return test_exit_code("test_train_run");
}
