#include "train_run.h"
#include "mb_clock.h"
#include "mb_err.h"
#include "mb_file.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *join(const char *dir, const char *name) {
  return mb_path_join(dir, name);
}

static void run_clear(train_run *r) {
  memset(r, 0, sizeof *r);
}

static bool open_log(train_run *r, char *err, size_t err_sz) {
  char *path = join(r->dir, "log.jsonl");
  r->log = fopen(path, "a");
  if (!r->log) {
    int e = errno;
    bool ok = mb_fail(err, err_sz, "%s: cannot write: %s", path, strerror(e));
    free(path);
    return ok;
  }
  free(path);
  return true;
}

bool train_run_create(train_run *r, const char *dir, const char *config_json, char *err,
                      size_t err_sz) {
  run_clear(r);
  char *cfg = join(dir, "config.json");
  bool exists = mb_file_exists(cfg);
  if (exists) {
    free(cfg);
    return mb_fail(
        err, err_sz,
        "%s: already holds a training run (use --resume to continue it, or another --out)", dir);
  }
  if (!mb_mkdir_p(dir, err, err_sz)) {
    free(cfg);
    return false;
  }
  bool ok = mb_write_file_atomic(cfg, config_json, strlen(config_json), err, err_sz);
  free(cfg);
  if (!ok) return false;
  r->dir = strdup(dir);
  char *log = join(dir, "log.jsonl");
  ok = mb_write_file_atomic(log, "", 0, err, err_sz);
  free(log);
  if (!ok || !open_log(r, err, err_sz)) {
    train_run_close(r);
    return false;
  }
  return true;
}

/* Reads state.json: the latest checkpoint's step and file name. A missing state.json means "no
 * checkpoint yet" (step 0). */
static bool read_state(const char *dir, int64_t *step, char **ckpt, char *err, size_t err_sz) {
  *step = 0;
  *ckpt = NULL;
  char *path = join(dir, "state.json");
  if (!mb_file_exists(path)) {
    free(path);
    return true;
  }
  mb_json *j = mb_json_parse_file(path, err, err_sz);
  if (!j) {
    free(path);
    return false;
  }
  const char *name = mb_json_as_string(mb_json_get(j, "checkpoint"));
  bool ok =
      mb_json_as_int64(mb_json_get(j, "step"), step) && name && *step >= 0 && !strchr(name, '/');
  if (!ok) {
    mb_fail(err, err_sz, "%s: malformed (needs \"step\" and \"checkpoint\")", path);
  } else {
    *ckpt = join(dir, name);
    if (!mb_file_exists(*ckpt)) {
      ok = mb_fail(err, err_sz, "%s: names %s, which is missing", path, *ckpt);
      free(*ckpt);
      *ckpt = NULL;
    }
  }
  mb_json_free(j);
  free(path);
  return ok;
}

/* Keeps the log lines whose "step" is at most `step` (and drops a torn last line). */
static bool trim_log(const char *dir, int64_t step, char *err, size_t err_sz) {
  char *path = join(dir, "log.jsonl");
  size_t n = 0;
  char *text = mb_file_exists(path) ? mb_read_file(path, &n, err, err_sz) : calloc(1, 1);
  if (!text) {
    free(path);
    return false;
  }
  char *out = malloc(n + 1);
  size_t o = 0;
  bool ok = out != NULL;
  for (char *line = text; ok && *line;) {
    char *nl = strchr(line, '\n');
    if (!nl) break; /* torn line without newline: written while the process died */
    mb_json *j = mb_json_parse(line, (size_t)(nl - line), NULL, 0);
    int64_t s = 0;
    if (j && mb_json_as_int64(mb_json_get(j, "step"), &s) && s <= step) {
      memcpy(out + o, line, (size_t)(nl - line) + 1);
      o += (size_t)(nl - line) + 1;
    }
    mb_json_free(j);
    line = nl + 1;
  }
  if (ok)
    ok = mb_write_file_atomic(path, out, o, err, err_sz);
  else
    mb_fail(err, err_sz, "out of memory");
  free(out);
  free(text);
  free(path);
  return ok;
}

bool train_run_resume(train_run *r, const char *dir, char *err, size_t err_sz) {
  run_clear(r);
  char *cfg = join(dir, "config.json");
  bool exists = mb_file_exists(cfg);
  free(cfg);
  if (!exists) return mb_fail(err, err_sz, "%s: no training run to resume (no config.json)", dir);
  if (!read_state(dir, &r->step, &r->checkpoint, err, err_sz)) return false;
  if (!trim_log(dir, r->step, err, err_sz)) {
    free(r->checkpoint);
    run_clear(r);
    return false;
  }
  r->dir = strdup(dir);
  if (!open_log(r, err, err_sz)) {
    train_run_close(r);
    return false;
  }
  return true;
}

void train_run_close(train_run *r) {
  if (r->log) fclose(r->log);
  free(r->dir);
  free(r->checkpoint);
  run_clear(r);
}

mb_json *train_run_config(const char *dir, char *err, size_t err_sz) {
  char *cfg = join(dir, "config.json");
  if (!mb_file_exists(cfg)) {
    free(cfg);
    return mb_fail_null(err, err_sz, "%s: not a training run (no config.json)", dir);
  }
  mb_json *j = mb_json_parse_file(cfg, err, err_sz);
  free(cfg);
  return j;
}

char *train_run_latest_checkpoint(const char *dir, int64_t *step, char *err, size_t err_sz) {
  if (!mb_is_dir(dir)) return mb_fail_null(err, err_sz, "%s: no such run folder", dir);
  int64_t s;
  char *ckpt;
  if (!read_state(dir, &s, &ckpt, err, err_sz)) return NULL;
  if (!ckpt) return mb_fail_null(err, err_sz, "%s: the run has no checkpoint yet", dir);
  if (step) *step = s;
  return ckpt;
}

bool train_run_log(train_run *r, const char *json_line, char *err, size_t err_sz) {
  if (fputs(json_line, r->log) < 0 || fputc('\n', r->log) < 0 || fflush(r->log) != 0)
    return mb_fail(err, err_sz, "%s/log.jsonl: write failed: %s", r->dir, strerror(errno));
  return true;
}

bool train_run_checkpoint(train_run *r, int64_t step, train_write_fn write, void *user, char *err,
                          size_t err_sz) {
  char name[64];
  snprintf(name, sizeof name, "checkpoint-%08lld.safetensors", (long long)step);
  char *path = join(r->dir, name);
  if (!write(user, path, err, err_sz)) {
    free(path);
    return false;
  }
  /* The log up to this step must be durable before state.json says the step is done. */
  fflush(r->log);
  fsync(fileno(r->log));
  mb_jw w;
  mb_jw_init(&w, true);
  mb_jw_begin_object(&w);
  mb_jw_kv_int(&w, "step", step);
  mb_jw_kv_string(&w, "checkpoint", name);
  mb_jw_end_object(&w);
  char *state = mb_jw_take(&w);
  char *state_path = join(r->dir, "state.json");
  bool ok = state && mb_write_file_atomic(state_path, state, strlen(state), err, err_sz);
  free(state);
  free(state_path);
  if (!ok) {
    unlink(path);
    free(path);
    return false;
  }
  if (r->checkpoint && strcmp(r->checkpoint, path) != 0) unlink(r->checkpoint);
  free(r->checkpoint);
  r->checkpoint = path;
  r->step = step;
  return true;
}

/* ---- the loop -------------------------------------------------------------------------------- */

static void format_detail(const train_loop *loop, const float *losses, char *out, size_t out_sz) {
  size_t o = 0;
  out[0] = 0;
  for (int i = 0; i < loop->n_losses && o < out_sz; i++)
    o += (size_t)snprintf(out + o, out_sz - o, "%s%s %.4g", i ? "  " : "", loop->loss_names[i],
                          losses[i]);
}

static bool write_log_line(train_run *r, const train_loop *loop, int64_t step, const float *losses,
                           double steps_per_s, bool with_eval, const mb_job_hooks *hooks, char *err,
                           size_t err_sz) {
  mb_jw w;
  mb_jw_init(&w, false);
  mb_jw_begin_object(&w);
  mb_jw_kv_int(&w, "step", step);
  for (int i = 0; i < loop->n_losses; i++) {
    mb_jw_key(&w, loop->loss_names[i]);
    mb_jw_float(&w, losses[i]);
  }
  mb_jw_key(&w, "steps_per_s");
  mb_jw_double(&w, round(steps_per_s * 1000) / 1000);
  if (with_eval && !loop->evaluate(loop->user, step, &w, err, err_sz)) {
    mb_jw_free(&w);
    return false;
  }
  mb_jw_end_object(&w);
  char *line = mb_jw_take(&w);
  if (!line) return mb_fail(err, err_sz, "out of memory");
  bool ok = train_run_log(r, line, err, err_sz);
  if (ok) mb_job_log(hooks, line);
  free(line);
  return ok;
}

train_result train_loop_run(train_run *r, const train_loop *loop, const mb_job_hooks *hooks,
                            char *err, size_t err_sz) {
  float losses[TRAIN_MAX_LOSSES] = {0};
  char detail[256] = "";
  int64_t step = r->step;
  double t_window = mb_now();
  int64_t window_start = step;
  mb_job_progress(hooks, step, loop->total_steps, "starting");
  while (step < loop->total_steps) {
    if (mb_job_wait_if_paused(hooks)) break;
    char step_err[512] = "";
    if (!loop->step(loop->user, step + 1, losses, step_err, sizeof step_err)) {
      mb_fail(err, err_sz, "step %lld failed: %s", (long long)(step + 1), step_err);
      return TRAIN_FAILED;
    }
    for (int i = 0; i < loop->n_losses; i++)
      if (!isfinite(losses[i])) {
        if (r->checkpoint)
          mb_fail(err, err_sz,
                  "loss '%s' became %s at step %lld; training stopped, the last good checkpoint "
                  "(step %lld) is kept in %s",
                  loop->loss_names[i], isnan(losses[i]) ? "NaN" : "infinite", (long long)(step + 1),
                  (long long)r->step, r->dir);
        else
          mb_fail(err, err_sz,
                  "loss '%s' became %s at step %lld; training stopped before any checkpoint",
                  loop->loss_names[i], isnan(losses[i]) ? "NaN" : "infinite",
                  (long long)(step + 1));
        return TRAIN_DIVERGED;
      }
    step++;
    bool last = step == loop->total_steps;
    bool eval = loop->evaluate && loop->eval_every > 0 && step % loop->eval_every == 0;
    if (step % loop->log_every == 0 || last || eval) {
      double now = mb_now();
      double rate = now > t_window ? (double)(step - window_start) / (now - t_window) : 0;
      t_window = now;
      window_start = step;
      if (!write_log_line(r, loop, step, losses, rate, eval, hooks, err, err_sz))
        return TRAIN_FAILED;
    }
    format_detail(loop, losses, detail, sizeof detail);
    mb_job_progress(hooks, step, loop->total_steps, detail);
    if (step % loop->checkpoint_every == 0 || last) {
      if (!train_run_checkpoint(r, step, loop->save, loop->user, err, err_sz)) return TRAIN_FAILED;
    }
  }
  if (step < loop->total_steps) { /* cancelled */
    if (step > r->step && !train_run_checkpoint(r, step, loop->save, loop->user, err, err_sz))
      return TRAIN_FAILED;
    mb_fail(err, err_sz, "cancelled at step %lld; checkpoint saved in %s (continue with --resume)",
            (long long)step, r->dir);
    return TRAIN_CANCELLED;
  }
  return TRAIN_DONE;
}
