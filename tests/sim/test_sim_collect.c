/* Collection: the same data whatever the thread count; an interrupted then resumed collection
 * equals an uninterrupted one; SIGINT to the real `mbold collect` leaves a valid file. */
#include "sim_test_util.h"

#include "sim_collect.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *mbold_path;

/* All arrays of two datasets are byte-identical. */
static bool same_data(const char *a, const char *b, int64_t *episodes) {
  char err[512];
  sim_dataset *da = sim_dataset_open(a, err, sizeof err),
              *db = sim_dataset_open(b, err, sizeof err);
  bool same = da && db && sim_dataset_episodes(da) == sim_dataset_episodes(db);
  if (episodes) *episodes = da ? sim_dataset_episodes(da) : -1;
  for (int arr = 0; arr < SIM_DS_COUNT && same; arr++) {
    int64_t n = sim_dataset_episodes(da);
    size_t bytes = sim_dataset_episode_bytes(da, (sim_dataset_array)arr) * (size_t)n;
    uint8_t *x = malloc(bytes + 1), *y = malloc(bytes + 1);
    same = sim_dataset_read(da, (sim_dataset_array)arr, 0, n, x, err, sizeof err) &&
           sim_dataset_read(db, (sim_dataset_array)arr, 0, n, y, err, sizeof err) &&
           memcmp(x, y, bytes) == 0;
    if (!same) fprintf(stderr, "array %d differs between %s and %s\n", arr, a, b);
    free(x), free(y);
  }
  sim_dataset_close(da);
  sim_dataset_close(db);
  return same;
}

typedef struct cancel_after {
  atomic_int flag; /* the cancel flag handed to the job */
  int64_t after;   /* raise it once this many episodes are done */
} cancel_after;

static void cancel_progress(void *user, int64_t done, int64_t total, const char *detail) {
  (void)total, (void)detail;
  cancel_after *c = user;
  if (done >= c->after) atomic_store(&c->flag, 1);
}

static void test_threads_and_resume(void) {
  char err[512];
  sim_collect_config cfg = {
      .task = SIM_TASK_PUSH1, .assets_dir = test_assets(), .episodes = 40, .seed = 5, .threads = 1};
  cfg.out_path = test_path("t1.h5");
  sim_collect_stats st;
  CHECK_MSG(sim_collect(&cfg, NULL, &st, err, sizeof err) == SIM_STATUS_OK, "%s", err);
  CHECK(st.episodes_after == 40 && !st.cancelled && st.sim_warnings == 0);
  cfg.out_path = test_path("t3.h5");
  cfg.threads = 3;
  CHECK_MSG(sim_collect(&cfg, NULL, &st, err, sizeof err) == SIM_STATUS_OK, "%s", err);
  int64_t n = 0;
  CHECK_MSG(same_data(test_path("t1.h5"), test_path("t3.h5"), &n) && n == 40,
            "1 and 3 threads give different data");

  /* interrupted after the first batch, then resumed with another thread count */
  cfg.out_path = test_path("cut.h5");
  cfg.threads = 2;
  cancel_after c = {.after = 1};
  atomic_init(&c.flag, 0);
  mb_job_hooks hooks = {.progress = cancel_progress, .user = &c, .cancel = &c.flag};
  CHECK_MSG(sim_collect(&cfg, &hooks, &st, err, sizeof err) == SIM_STATUS_OK, "%s", err);
  CHECK_MSG(st.cancelled && st.episodes_after > 0 && st.episodes_after < 40 &&
                st.episodes_after % SIM_COLLECT_BATCH == 0,
            "cancelled run kept %lld episodes", (long long)st.episodes_after);
  sim_dataset *ds = sim_dataset_open(test_path("cut.h5"), err, sizeof err);
  CHECK_MSG(ds && sim_dataset_episodes(ds) == st.episodes_after, "%s", err);
  sim_dataset_close(ds);
  cfg.resume = true;
  cfg.threads = 1;
  CHECK_MSG(sim_collect(&cfg, NULL, &st, err, sizeof err) == SIM_STATUS_OK, "%s", err);
  CHECK(st.episodes_before > 0 && st.episodes_after == 40);
  CHECK_MSG(same_data(test_path("t1.h5"), test_path("cut.h5"), NULL),
            "resumed collection differs from an uninterrupted one");

  /* resume with a different seed is refused; so is a plain overwrite */
  cfg.seed = 6;
  CHECK(sim_collect(&cfg, NULL, &st, err, sizeof err) == SIM_STATUS_BAD_INPUT &&
        strstr(err, "seed"));
  cfg.resume = false;
  CHECK(sim_collect(&cfg, NULL, &st, err, sizeof err) == SIM_STATUS_BAD_INPUT &&
        strstr(err, "exists"));
  cfg.episodes = 0;
  CHECK(sim_collect(&cfg, NULL, &st, err, sizeof err) == SIM_STATUS_BAD_INPUT &&
        strstr(err, "episodes"));

  /* the statistics see interactions in random push1 data */
  ds = sim_dataset_open(test_path("t1.h5"), err, sizeof err);
  sim_dataset_stats s;
  CHECK(ds && sim_dataset_compute_stats(ds, &s, err, sizeof err));
  CHECK(s.episodes == 40 && s.frames == 40 * 31 && s.split_count[0] == 36);
  CHECK(s.mean_ee_travel > 0.05 && s.moved_episodes > 0);
  sim_dataset_close(ds);
}

/* SIGINT to a real `mbold collect` run: the file stays valid with whole batches. */
static void test_sigint(void) {
  if (!mbold_path) {
    fprintf(stderr, "no mbold path given: SIGINT test skipped\n");
    return;
  }
  const char *out = test_path("sigint.h5");
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", 1);
    dup2(devnull, 2);
    execl(mbold_path, mbold_path, "collect", "--task", "reach", "--episodes", "1000000", "--seed",
          "1", "--threads", "2", "--out", out, (char *)NULL);
    _exit(127);
  }
  /* Wait until the file exists and some work is under way, then interrupt. */
  for (int i = 0; i < 200 && access(out, F_OK) != 0; i++) usleep(20000);
  usleep(400000);
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 1,
            "mbold collect after SIGINT: status %d (expected exit code 1)", status);
  char err[512];
  sim_dataset *ds = sim_dataset_open(out, err, sizeof err);
  CHECK_MSG(ds != NULL, "file after SIGINT: %s", err);
  if (ds) {
    int64_t n = sim_dataset_episodes(ds);
    CHECK_MSG(n % SIM_COLLECT_BATCH == 0 && n < 1000000, "%lld episodes after SIGINT",
              (long long)n);
    sim_dataset_close(ds);
  }
}

int main(int argc, char **argv) {
  mbold_path = argc > 1 ? argv[1] : NULL;
  test_threads_and_resume();
  test_sigint();
  test_cleanup();
  return test_exit_code("test_sim_collect");
}
