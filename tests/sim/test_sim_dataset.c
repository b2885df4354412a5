/* HDF5 datasets: round trip of every array, the split rule, appends and resume checks, and one
 * clear error for each kind of bad file. */
#include "sim_test_util.h"

#include "sim_dataset.h"

#include <hdf5.h>

static sim_dataset_meta test_meta(void) {
  sim_dataset_meta m;
  memset(&m, 0, sizeof m);
  m.task = SIM_TASK_PUSH3;
  m.seed = 77;
  snprintf(m.scene_version, sizeof m.scene_version, "test-scenes");
  m.policy_std[0] = m.policy_std[1] = 0.6f;
  m.policy_std[2] = m.policy_std[3] = 0.3f;
  m.arm_joints = SIM_ARM_JOINTS;
  m.num_objects = 3;
  m.state_size = 40;
  return m;
}

/* Deterministic content for episode e. */
static void fill(sim_episode *ep, const sim_dataset_meta *m, int e) {
  for (size_t i = 0; i < (size_t)SIM_EPISODE_FRAMES * SIM_IMAGE_BYTES; i++)
    ep->images[i] = (uint8_t)((i / 3 % 64) * 3 + e * 7 + (i % 3) * 50);
  for (int i = 0; i < SIM_EPISODE_STEPS * 4; i++) ep->actions[i] = (float)(e + i * 0.01);
  for (int i = 0; i < SIM_EPISODE_FRAMES * m->arm_joints; i++) ep->arm_qpos[i] = (float)(e - i);
  for (int i = 0; i < SIM_EPISODE_FRAMES * 3; i++) ep->ee_pos[i] = (float)(e * 0.5 + i);
  for (int i = 0; i < SIM_EPISODE_FRAMES * m->num_objects * 3; i++)
    ep->object_pos[i] = (float)(e * 2 + i * 0.25);
  for (int i = 0; i < m->state_size; i++) ep->start_state[i] = e * 1e-3 + i * 1.000000001;
}

static bool have_h5py(void) {
  return system("/usr/bin/python3 -c 'import h5py' 2>/dev/null") == 0;
}

static void test_round_trip(void) {
  char err[512];
  sim_dataset_meta meta = test_meta();
  const char *path = test_path("rt.h5");
  sim_status st;
  sim_dataset_writer *w = sim_dataset_create(path, &meta, false, &st, err, sizeof err);
  CHECK_MSG(w && st == SIM_STATUS_OK, "%s", err);
  if (!w) return;
  sim_episode eps[3];
  for (int e = 0; e < 3; e++) {
    CHECK(sim_episode_alloc(&eps[e], &meta));
    fill(&eps[e], &meta, e);
    CHECK(sim_episode_compress(&eps[e], 5));
  }
  CHECK(sim_dataset_append(w, eps, 2, err, sizeof err));
  CHECK(sim_dataset_writer_episodes(w) == 2);
  CHECK(sim_dataset_writer_close(w, err, sizeof err));
  /* refuses to overwrite; appends after a resume check */
  CHECK(!sim_dataset_create(path, &meta, false, &st, err, sizeof err) &&
        st == SIM_STATUS_BAD_INPUT && strstr(err, "exists"));
  sim_dataset_meta other = meta;
  other.seed = 78;
  CHECK(!sim_dataset_open_append(path, &other, &st, err, sizeof err) &&
        st == SIM_STATUS_BAD_INPUT && strstr(err, "seed"));
  other = meta;
  other.task = SIM_TASK_PUSH1;
  CHECK(!sim_dataset_open_append(path, &other, &st, err, sizeof err) && strstr(err, "task"));
  w = sim_dataset_open_append(path, &meta, &st, err, sizeof err);
  CHECK_MSG(w != NULL, "%s", err);
  if (w) {
    CHECK(sim_dataset_writer_episodes(w) == 2);
    CHECK(sim_dataset_append(w, &eps[2], 1, err, sizeof err));
    CHECK(sim_dataset_writer_close(w, err, sizeof err));
  }

  sim_dataset *ds = sim_dataset_open(path, err, sizeof err);
  CHECK_MSG(ds != NULL, "%s", err);
  if (ds) {
    const sim_dataset_meta *m = sim_dataset_get_meta(ds);
    CHECK(m->task == SIM_TASK_PUSH3 && m->seed == 77 && !strcmp(m->scene_version, "test-scenes"));
    CHECK(m->state_size == 40 && m->num_objects == 3 && m->policy_std[0] == 0.6f);
    CHECK(sim_dataset_episodes(ds) == 3);
    for (int a = 0; a < SIM_DS_COUNT; a++) {
      size_t bytes = sim_dataset_episode_bytes(ds, (sim_dataset_array)a);
      uint8_t *buf = malloc(bytes * 3);
      CHECK(sim_dataset_read(ds, (sim_dataset_array)a, 0, 3, buf, err, sizeof err));
      for (int e = 0; e < 3; e++) {
        const void *want = a == SIM_DS_IMAGES       ? (void *)eps[e].images
                           : a == SIM_DS_ACTIONS    ? (void *)eps[e].actions
                           : a == SIM_DS_ARM_QPOS   ? (void *)eps[e].arm_qpos
                           : a == SIM_DS_EE_POS     ? (void *)eps[e].ee_pos
                           : a == SIM_DS_OBJECT_POS ? (void *)eps[e].object_pos
                                                    : (void *)eps[e].start_state;
        CHECK_MSG(memcmp(buf + bytes * e, want, bytes) == 0, "array %d episode %d differs", a, e);
      }
      free(buf);
    }
    int64_t list[2] = {2, 0};
    uint8_t *img = malloc(2 * (size_t)SIM_EPISODE_FRAMES * SIM_IMAGE_BYTES);
    CHECK(sim_dataset_read_images_of(ds, list, 2, img, err, sizeof err));
    CHECK(memcmp(img, eps[2].images, (size_t)SIM_EPISODE_FRAMES * SIM_IMAGE_BYTES) == 0);
    CHECK(memcmp(img + (size_t)SIM_EPISODE_FRAMES * SIM_IMAGE_BYTES, eps[0].images,
                 (size_t)SIM_EPISODE_FRAMES * SIM_IMAGE_BYTES) == 0);
    free(img);
    uint8_t one[16];
    CHECK(!sim_dataset_read(ds, SIM_DS_ACTIONS, 2, 2, one, err, sizeof err) &&
          strstr(err, "outside"));
    sim_dataset_close(ds);
  }
  if (have_h5py()) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import h5py,sys; f=h5py.File('%s','r'); "
             "sys.exit(0 if f['images'].shape==(3,31,64,64,3) and f['images'][2,0,0,0,1]==%d and "
             "f.attrs['task']=='push3' and f['start_state'][1,2]==%.17g and "
             "f['object_pos'].shape==(3,31,3,3) else 1)\"",
             path, eps[2].images[1], eps[1].start_state[2]);
    CHECK_MSG(system(cmd) == 0, "h5py does not read the dataset as documented");
  } else {
    fprintf(stderr, "h5py not available: peer check skipped\n");
  }
  for (int e = 0; e < 3; e++) sim_episode_free(&eps[e]);
}

static void test_zero_objects(void) {
  char err[512];
  sim_dataset_meta meta = test_meta();
  meta.task = SIM_TASK_REACH;
  meta.num_objects = 0;
  const char *path = test_path("reach.h5");
  sim_status st;
  sim_dataset_writer *w = sim_dataset_create(path, &meta, false, &st, err, sizeof err);
  CHECK_MSG(w != NULL, "%s", err);
  sim_episode ep;
  CHECK(sim_episode_alloc(&ep, &meta));
  fill(&ep, &meta, 1);
  CHECK(sim_episode_compress(&ep, 1));
  CHECK(w && sim_dataset_append(w, &ep, 1, err, sizeof err));
  CHECK(sim_dataset_writer_close(w, err, sizeof err));
  sim_dataset *ds = sim_dataset_open(path, err, sizeof err);
  CHECK_MSG(ds && sim_dataset_episodes(ds) == 1, "%s", err);
  sim_dataset_close(ds);
  sim_episode_free(&ep);
}

static void test_split_rule(void) {
  int counts[3] = {0};
  for (int64_t e = 0; e < 200; e++) counts[sim_dataset_split_of(e)]++;
  CHECK(counts[0] == 180 && counts[1] == 10 && counts[2] == 10);
  CHECK(sim_dataset_split_of(18) == SIM_SPLIT_VAL && sim_dataset_split_of(39) == SIM_SPLIT_TEST);
}

static void expect_open_error(const char *path, const char *what) {
  char err[512] = "";
  sim_dataset *ds = sim_dataset_open(path, err, sizeof err);
  CHECK_MSG(!ds && strstr(err, path) && strstr(err, what) && !strchr(err, '\n'),
            "%s: got \"%s\", wanted \"%s\"", path, err, what);
  sim_dataset_close(ds);
}

static void test_bad_files(void) {
  expect_open_error(test_path("missing.h5"), "no such file");
  FILE *f = fopen(test_path("text.h5"), "w");
  fputs("not hdf5 at all\n", f);
  fclose(f);
  expect_open_error(test_path("text.h5"), "not an HDF5 file");
  /* truncated copy of a valid file */
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "head -c 3000 '%s' > '%s'", test_path("rt.h5"), test_path("trunc.h5"));
  CHECK(system(cmd) == 0);
  char err[512] = "";
  CHECK(!sim_dataset_open(test_path("trunc.h5"), err, sizeof err) && strstr(err, "trunc.h5"));
  /* an HDF5 file of someone else */
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t h = H5Fcreate(test_path("foreign.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hsize_t d = 4;
  hid_t sp = H5Screate_simple(1, &d, NULL);
  H5Dclose(H5Dcreate2(h, "data", H5T_NATIVE_INT, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  H5Sclose(sp);
  H5Fclose(h);
  expect_open_error(test_path("foreign.h5"), "not an MBOLD dataset");
  /* our file with an array removed, and with an array of the wrong shape */
  snprintf(cmd, sizeof cmd, "cp '%s' '%s' && cp '%s' '%s'", test_path("rt.h5"),
           test_path("noact.h5"), test_path("rt.h5"), test_path("shape.h5"));
  CHECK(system(cmd) == 0);
  h = H5Fopen(test_path("noact.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
  H5Ldelete(h, "actions", H5P_DEFAULT);
  H5Fclose(h);
  expect_open_error(test_path("noact.h5"), "lacks the array /actions");
  h = H5Fopen(test_path("shape.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
  H5Ldelete(h, "ee_pos", H5P_DEFAULT);
  hsize_t dims[3] = {3, 31, 2};
  sp = H5Screate_simple(3, dims, NULL);
  H5Dclose(H5Dcreate2(h, "ee_pos", H5T_NATIVE_FLOAT, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  H5Sclose(sp);
  H5Fclose(h);
  expect_open_error(test_path("shape.h5"), "/ee_pos has size 2 in dimension 2, expected 3");
  /* unwritable folder */
  sim_dataset_meta meta = test_meta();
  sim_status st;
  CHECK(!sim_dataset_create("/nonexistent-dir/x.h5", &meta, false, &st, err, sizeof err) &&
        st == SIM_STATUS_BAD_INPUT && strstr(err, "/nonexistent-dir"));
}

int main(void) {
  test_split_rule();
  test_round_trip();
  test_zero_objects();
  test_bad_files();
  test_cleanup();
  return test_exit_code("test_sim_dataset");
}
