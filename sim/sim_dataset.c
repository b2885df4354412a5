#include "sim_dataset.h"

#include "mb_err.h"
#include "mb_file.h"

#include <hdf5.h>
#include <zlib.h>

#include <errno.h>
#include <pthread.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Episodes per chunk of the small arrays (the images have one episode per chunk). */
#define SMALL_CHUNK_EPISODES 64
#define SMALL_DEFLATE_LEVEL  4
#define IMAGE_DEFLATE_LEVEL  5

static const char *array_name(sim_dataset_array a) {
  switch (a) {
    case SIM_DS_IMAGES:
      return "images";
    case SIM_DS_ACTIONS:
      return "actions";
    case SIM_DS_ARM_QPOS:
      return "arm_qpos";
    case SIM_DS_EE_POS:
      return "ee_pos";
    case SIM_DS_OBJECT_POS:
      return "object_pos";
    case SIM_DS_START_STATE:
      return "start_state";
    default:
      return "?";
  }
}

/* Shape of one episode of an array: rank (without the episode axis) and dims. */
static int episode_shape(const sim_dataset_meta *m, sim_dataset_array a, hsize_t dims[5]) {
  const hsize_t T = SIM_EPISODE_STEPS, F = SIM_EPISODE_FRAMES, S = SIM_IMAGE_SIZE;
  switch (a) {
    case SIM_DS_IMAGES:
      dims[0] = F, dims[1] = S, dims[2] = S, dims[3] = 3;
      return 4;
    case SIM_DS_ACTIONS:
      dims[0] = T, dims[1] = SIM_ACTION_DIM;
      return 2;
    case SIM_DS_ARM_QPOS:
      dims[0] = F, dims[1] = (hsize_t)m->arm_joints;
      return 2;
    case SIM_DS_EE_POS:
      dims[0] = F, dims[1] = 3;
      return 2;
    case SIM_DS_OBJECT_POS:
      dims[0] = F, dims[1] = (hsize_t)m->num_objects, dims[2] = 3;
      return 3;
    case SIM_DS_START_STATE:
      dims[0] = (hsize_t)m->state_size;
      return 1;
    default:
      return 0;
  }
}

static size_t elem_size(sim_dataset_array a) {
  return a == SIM_DS_IMAGES ? 1 : a == SIM_DS_START_STATE ? 8 : 4;
}

static hid_t mem_type(sim_dataset_array a) {
  return a == SIM_DS_IMAGES        ? H5T_NATIVE_UINT8
         : a == SIM_DS_START_STATE ? H5T_NATIVE_DOUBLE
                                   : H5T_NATIVE_FLOAT;
}

static size_t episode_elems(const sim_dataset_meta *m, sim_dataset_array a) {
  hsize_t d[5];
  int r = episode_shape(m, a, d);
  size_t n = 1;
  for (int i = 0; i < r; i++) n *= (size_t)d[i];
  return n;
}

static void quiet_hdf5(void) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/* ---- episodes ---- */

bool sim_episode_alloc(sim_episode *ep, const sim_dataset_meta *m) {
  memset(ep, 0, sizeof *ep);
  ep->images = malloc(episode_elems(m, SIM_DS_IMAGES));
  ep->actions = malloc(4 * episode_elems(m, SIM_DS_ACTIONS));
  ep->arm_qpos = malloc(4 * episode_elems(m, SIM_DS_ARM_QPOS));
  ep->ee_pos = malloc(4 * episode_elems(m, SIM_DS_EE_POS));
  ep->object_pos = m->num_objects ? malloc(4 * episode_elems(m, SIM_DS_OBJECT_POS)) : NULL;
  ep->start_state = malloc(8 * episode_elems(m, SIM_DS_START_STATE));
  ep->zimages_cap = compressBound((uLong)episode_elems(m, SIM_DS_IMAGES));
  ep->zimages = malloc(ep->zimages_cap);
  if (!ep->images || !ep->actions || !ep->arm_qpos || !ep->ee_pos || !ep->start_state ||
      !ep->zimages || (m->num_objects && !ep->object_pos)) {
    sim_episode_free(ep);
    return false;
  }
  return true;
}

void sim_episode_free(sim_episode *ep) {
  free(ep->images);
  free(ep->actions);
  free(ep->arm_qpos);
  free(ep->ee_pos);
  free(ep->object_pos);
  free(ep->start_state);
  free(ep->zimages);
  memset(ep, 0, sizeof *ep);
}

bool sim_episode_compress(sim_episode *ep, int level) {
  uLongf n = (uLongf)ep->zimages_cap;
  if (compress2(ep->zimages, &n, ep->images, (uLong)SIM_EPISODE_FRAMES * SIM_IMAGE_BYTES, level) !=
      Z_OK)
    return false;
  ep->zimages_size = n;
  return true;
}

/* ---- attributes ---- */

static bool attr_write(hid_t loc, const char *name, hid_t ftype, hid_t mtype, hsize_t n,
                       const void *v) {
  /* Rewriting in place (the episode count after every append) keeps the object header from
   * filling with deleted attributes. */
  if (H5Aexists(loc, name) > 0) {
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t sp = H5Aget_space(a);
    bool same = H5Sget_simple_extent_npoints(sp) == (hssize_t)(n ? n : 1);
    H5Sclose(sp);
    herr_t e = same ? H5Awrite(a, mtype, v) : -1;
    H5Aclose(a);
    if (same) return e >= 0;
    H5Adelete(loc, name);
  }
  hid_t sp = n == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL);
  hid_t a = H5Acreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT);
  herr_t e = a < 0 ? -1 : H5Awrite(a, mtype, v);
  if (a >= 0) H5Aclose(a);
  H5Sclose(sp);
  return e >= 0;
}

static bool attr_write_str(hid_t loc, const char *name, const char *value) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  bool ok = attr_write(loc, name, t, t, 0, &value);
  H5Tclose(t);
  return ok;
}

static bool attr_write_i64(hid_t loc, const char *name, int64_t v) {
  return attr_write(loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, 0, &v);
}

/* Reads a string attribute (fixed or variable length) into out. */
static bool attr_read_str(hid_t loc, const char *name, char *out, size_t out_sz) {
  if (H5Aexists(loc, name) <= 0) return false;
  hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
  hid_t t = H5Aget_type(a);
  bool ok = false;
  if (H5Tget_class(t) == H5T_STRING) {
    if (H5Tis_variable_str(t) > 0) {
      hid_t mt = H5Tcopy(H5T_C_S1);
      H5Tset_size(mt, H5T_VARIABLE);
      H5Tset_cset(mt, H5Tget_cset(t));
      char *s = NULL;
      if (H5Aread(a, mt, &s) >= 0 && s) {
        snprintf(out, out_sz, "%s", s);
        H5free_memory(s);
        ok = true;
      }
      H5Tclose(mt);
    } else {
      size_t n = H5Tget_size(t);
      char *buf = calloc(1, n + 1);
      if (buf && H5Aread(a, t, buf) >= 0) {
        snprintf(out, out_sz, "%s", buf);
        ok = true;
      }
      free(buf);
    }
  }
  H5Tclose(t);
  H5Aclose(a);
  return ok;
}

/* Reads n numbers of an attribute (scalar when n == 1) converted to mtype. */
static bool attr_read_num(hid_t loc, const char *name, hid_t mtype, hssize_t n, void *out) {
  if (H5Aexists(loc, name) <= 0) return false;
  hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
  hid_t sp = H5Aget_space(a);
  hid_t t = H5Aget_type(a);
  bool ok = H5Sget_simple_extent_npoints(sp) == n &&
            (H5Tget_class(t) == H5T_INTEGER || H5Tget_class(t) == H5T_FLOAT) &&
            H5Aread(a, mtype, out) >= 0;
  H5Tclose(t);
  H5Sclose(sp);
  H5Aclose(a);
  return ok;
}

static bool write_meta(hid_t f, const sim_dataset_meta *m) {
  const float fractions[3] = {0.9f, 0.05f, 0.05f};
  const float beta = 0.5f;
  bool ok = attr_write_str(f, "format", SIM_DATASET_FORMAT) &&
            attr_write_i64(f, "format_version", SIM_DATASET_VERSION) &&
            attr_write_str(f, "task", sim_task_name(m->task)) &&
            attr_write(f, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, 0, &m->seed) &&
            attr_write_str(f, "scene_version", m->scene_version) &&
            attr_write(f, "policy_std", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 4, m->policy_std) &&
            attr_write(f, "policy_beta", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 0, &beta) &&
            attr_write_i64(f, "episode_steps", SIM_EPISODE_STEPS) &&
            attr_write_i64(f, "image_size", SIM_IMAGE_SIZE) &&
            attr_write_i64(f, "arm_joints", m->arm_joints) &&
            attr_write_i64(f, "num_objects", m->num_objects) &&
            attr_write_i64(f, "state_size", m->state_size) &&
            attr_write(f, "split_fractions", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, fractions) &&
            attr_write_str(f, "split_rule", SIM_DATASET_SPLIT_RULE) &&
            attr_write_i64(f, "episodes", 0);
  return ok;
}

/* ---- validation, shared by the reader and the appender ---- */

typedef struct ds_files {
  hid_t file;             /* the open file */
  hid_t ds[SIM_DS_COUNT]; /* the arrays */
  sim_dataset_meta meta;  /* from the attributes */
  int64_t episodes;       /* completed episodes */
} ds_files;

static void ds_close(ds_files *f) {
  for (int a = 0; a < SIM_DS_COUNT; a++)
    if (f->ds[a] > 0) H5Dclose(f->ds[a]);
  if (f->file > 0) H5Fclose(f->file);
  memset(f, 0, sizeof *f);
}

static bool check_array(ds_files *f, sim_dataset_array a, const char *path, char *err,
                        size_t err_sz) {
  const char *name = array_name(a);
  if (H5Lexists(f->file, name, H5P_DEFAULT) <= 0)
    return mb_fail(err, err_sz, "%s: dataset lacks the array /%s", path, name);
  hid_t d = H5Dopen2(f->file, name, H5P_DEFAULT);
  if (d < 0) return mb_fail(err, err_sz, "%s: /%s cannot be opened", path, name);
  f->ds[a] = d;
  hid_t t = H5Dget_type(d);
  H5T_class_t cls = H5Tget_class(t);
  size_t sz = H5Tget_size(t);
  bool type_ok = a == SIM_DS_IMAGES
                     ? cls == H5T_INTEGER && sz == 1 && H5Tget_sign(t) == H5T_SGN_NONE
                     : cls == H5T_FLOAT && sz == elem_size(a);
  H5Tclose(t);
  if (!type_ok)
    return mb_fail(err, err_sz, "%s: /%s has the wrong element type (expected %s)", path, name,
                   a == SIM_DS_IMAGES        ? "uint8"
                   : a == SIM_DS_START_STATE ? "float64"
                                             : "float32");
  hsize_t want[5], dims[6];
  int r = episode_shape(&f->meta, a, want);
  hid_t sp = H5Dget_space(d);
  int rank = H5Sget_simple_extent_ndims(sp);
  bool rank_ok = rank == r + 1;
  if (rank_ok) H5Sget_simple_extent_dims(sp, dims, NULL);
  H5Sclose(sp);
  if (!rank_ok)
    return mb_fail(err, err_sz, "%s: /%s has %d dimensions, expected %d", path, name, rank, r + 1);
  for (int i = 0; i < r; i++)
    if (dims[i + 1] != want[i])
      return mb_fail(err, err_sz, "%s: /%s has size %llu in dimension %d, expected %llu", path,
                     name, (unsigned long long)dims[i + 1], i + 1, (unsigned long long)want[i]);
  if ((int64_t)dims[0] < f->episodes)
    return mb_fail(err, err_sz, "%s: /%s holds %llu episodes but the file claims %lld", path, name,
                   (unsigned long long)dims[0], (long long)f->episodes);
  return true;
}

static bool ds_open(ds_files *f, const char *path, bool writable, char *err, size_t err_sz) {
  memset(f, 0, sizeof *f);
  quiet_hdf5();
  if (!mb_file_exists(path)) return mb_fail(err, err_sz, "%s: no such file", path);
  if (H5Fis_hdf5(path) <= 0)
    return mb_fail(err, err_sz, "%s: not an HDF5 file (or truncated)", path);
  f->file = H5Fopen(path, writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f->file < 0) {
    f->file = 0;
    return mb_fail(err, err_sz, "%s: cannot open as HDF5 (truncated or damaged file)", path);
  }
  char fmt[64] = "", task[32] = "";
  int64_t version = 0, steps = 0, size = 0, J = 0, K = 0, S = 0;
  if (!attr_read_str(f->file, "format", fmt, sizeof fmt) || strcmp(fmt, SIM_DATASET_FORMAT))
    return mb_fail(err, err_sz, "%s: not an MBOLD dataset (no format attribute \"%s\")", path,
                   SIM_DATASET_FORMAT);
  if (!attr_read_num(f->file, "format_version", H5T_NATIVE_INT64, 1, &version) ||
      version != SIM_DATASET_VERSION)
    return mb_fail(err, err_sz, "%s: dataset format version %lld, this program reads %d", path,
                   (long long)version, SIM_DATASET_VERSION);
  if (!attr_read_str(f->file, "task", task, sizeof task) || !sim_task_parse(task, &f->meta.task))
    return mb_fail(err, err_sz, "%s: missing or unknown task attribute \"%s\"", path, task);
  const char *missing = NULL;
  if (!attr_read_num(f->file, "seed", H5T_NATIVE_UINT64, 1, &f->meta.seed))
    missing = "seed";
  else if (!attr_read_str(f->file, "scene_version", f->meta.scene_version,
                          sizeof f->meta.scene_version))
    missing = "scene_version";
  else if (!attr_read_num(f->file, "policy_std", H5T_NATIVE_FLOAT, 4, f->meta.policy_std))
    missing = "policy_std";
  else if (!attr_read_num(f->file, "episode_steps", H5T_NATIVE_INT64, 1, &steps))
    missing = "episode_steps";
  else if (!attr_read_num(f->file, "image_size", H5T_NATIVE_INT64, 1, &size))
    missing = "image_size";
  else if (!attr_read_num(f->file, "arm_joints", H5T_NATIVE_INT64, 1, &J))
    missing = "arm_joints";
  else if (!attr_read_num(f->file, "num_objects", H5T_NATIVE_INT64, 1, &K))
    missing = "num_objects";
  else if (!attr_read_num(f->file, "state_size", H5T_NATIVE_INT64, 1, &S))
    missing = "state_size";
  else if (!attr_read_num(f->file, "episodes", H5T_NATIVE_INT64, 1, &f->episodes))
    missing = "episodes";
  if (missing) return mb_fail(err, err_sz, "%s: missing attribute \"%s\"", path, missing);
  if (steps != SIM_EPISODE_STEPS || size != SIM_IMAGE_SIZE)
    return mb_fail(err, err_sz,
                   "%s: episodes of %lld steps with %lld-pixel images, expected %d and %d", path,
                   (long long)steps, (long long)size, SIM_EPISODE_STEPS, SIM_IMAGE_SIZE);
  if (J != SIM_ARM_JOINTS || K != sim_task_get(f->meta.task)->num_objects || S < 1 || S > 100000 ||
      f->episodes < 0)
    return mb_fail(err, err_sz,
                   "%s: inconsistent sizes (arm_joints %lld, num_objects %lld, "
                   "state_size %lld, episodes %lld)",
                   path, (long long)J, (long long)K, (long long)S, (long long)f->episodes);
  f->meta.arm_joints = (int)J;
  f->meta.num_objects = (int)K;
  f->meta.state_size = (int)S;
  for (int a = 0; a < SIM_DS_COUNT; a++)
    if (!check_array(f, (sim_dataset_array)a, path, err, err_sz)) return false;
  return true;
}

/* ---- writer ---- */

struct sim_dataset_writer {
  ds_files f;        /* file, arrays, meta, completed episodes */
  char *path;        /* for messages */
  void *staging;     /* contiguous buffer for the small arrays of one append */
  size_t staging_sz; /* bytes allocated */
};

static hid_t create_array(hid_t file, const sim_dataset_meta *m, sim_dataset_array a) {
  hsize_t ep[5];
  int r = episode_shape(m, a, ep);
  hsize_t dims[6], maxdims[6], chunk[6];
  dims[0] = 0, maxdims[0] = H5S_UNLIMITED;
  chunk[0] = a == SIM_DS_IMAGES ? 1 : SMALL_CHUNK_EPISODES;
  for (int i = 0; i < r; i++) {
    dims[i + 1] = ep[i];
    /* A zero-length axis (K = 0) still needs a chunk of at least 1: let it grow. */
    maxdims[i + 1] = ep[i] ? ep[i] : H5S_UNLIMITED;
    chunk[i + 1] = ep[i] ? ep[i] : 1;
  }
  hid_t sp = H5Screate_simple(r + 1, dims, maxdims);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(dcpl, r + 1, chunk);
  H5Pset_deflate(dcpl, a == SIM_DS_IMAGES ? IMAGE_DEFLATE_LEVEL : SMALL_DEFLATE_LEVEL);
  hid_t ftype = a == SIM_DS_IMAGES        ? H5T_STD_U8LE
                : a == SIM_DS_START_STATE ? H5T_IEEE_F64LE
                                          : H5T_IEEE_F32LE;
  hid_t d = H5Dcreate2(file, array_name(a), ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  H5Pclose(dcpl);
  H5Sclose(sp);
  return d;
}

static bool folder_writable(const char *path, char *err, size_t err_sz) {
  char *copy = strdup(path);
  if (!copy) return mb_fail(err, err_sz, "out of memory");
  const char *dir = dirname(copy);
  bool ok = mb_is_dir(dir) && access(dir, W_OK) == 0;
  if (!ok) {
    int e = errno;
    mb_fail(err, err_sz, "%s: cannot write in folder %s: %s", path, dir,
            mb_is_dir(dir) ? strerror(e) : "no such folder");
  }
  free(copy);
  return ok;
}

sim_dataset_writer *sim_dataset_create(const char *path, const sim_dataset_meta *meta, bool force,
                                       sim_status *status, char *err, size_t err_sz) {
  quiet_hdf5();
  *status = SIM_STATUS_BAD_INPUT;
  if (mb_file_exists(path) && !force)
    return mb_fail_null(err, err_sz, "%s: file exists (--force replaces it, --resume continues it)",
                        path);
  if (mb_is_dir(path)) return mb_fail_null(err, err_sz, "%s: is a folder", path);
  if (!folder_writable(path, err, err_sz)) return NULL;
  *status = SIM_STATUS_FAILED;
  sim_dataset_writer *w = calloc(1, sizeof *w);
  if (!w || !(w->path = strdup(path))) {
    free(w);
    return mb_fail_null(err, err_sz, "out of memory");
  }
  w->f.meta = *meta;
  w->f.file = H5Fcreate(path, force ? H5F_ACC_TRUNC : H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
  if (w->f.file < 0) {
    w->f.file = 0;
    *status = SIM_STATUS_BAD_INPUT;
    sim_dataset_writer_close(w, NULL, 0);
    return mb_fail_null(err, err_sz, "%s: cannot create the HDF5 file", path);
  }
  bool ok = write_meta(w->f.file, meta);
  for (int a = 0; a < SIM_DS_COUNT && ok; a++) {
    w->f.ds[a] = create_array(w->f.file, meta, (sim_dataset_array)a);
    ok = w->f.ds[a] >= 0;
  }
  if (!ok || H5Fflush(w->f.file, H5F_SCOPE_LOCAL) < 0) {
    sim_dataset_writer_close(w, NULL, 0);
    return mb_fail_null(err, err_sz, "%s: cannot write the dataset layout", path);
  }
  *status = SIM_STATUS_OK;
  return w;
}

sim_dataset_writer *sim_dataset_open_append(const char *path, const sim_dataset_meta *meta,
                                            sim_status *status, char *err, size_t err_sz) {
  *status = SIM_STATUS_BAD_INPUT;
  sim_dataset_writer *w = calloc(1, sizeof *w);
  if (!w || !(w->path = strdup(path))) {
    free(w);
    return mb_fail_null(err, err_sz, "out of memory");
  }
  if (!ds_open(&w->f, path, true, err, err_sz)) {
    sim_dataset_writer_close(w, NULL, 0);
    return NULL;
  }
  const sim_dataset_meta *have = &w->f.meta;
  const char *what = NULL;
  if (have->task != meta->task)
    what = "task";
  else if (have->seed != meta->seed)
    what = "seed";
  else if (strcmp(have->scene_version, meta->scene_version))
    what = "scene version";
  else if (memcmp(have->policy_std, meta->policy_std, sizeof meta->policy_std))
    what = "policy std";
  else if (have->state_size != meta->state_size)
    what = "state size";
  if (what) {
    mb_fail(err, err_sz,
            "%s: cannot resume: the file's %s differs (file: task %s, seed %llu, "
            "scene %s)",
            path, what, sim_task_name(have->task), (unsigned long long)have->seed,
            have->scene_version);
    sim_dataset_writer_close(w, NULL, 0);
    return NULL;
  }
  /* Arrays longer than the completed count are remnants of a crash mid-append: cut them. */
  for (int a = 0; a < SIM_DS_COUNT; a++) {
    hsize_t dims[6];
    hid_t sp = H5Dget_space(w->f.ds[a]);
    int r = H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    if (r > 0 && (int64_t)dims[0] != w->f.episodes) {
      dims[0] = (hsize_t)w->f.episodes;
      H5Dset_extent(w->f.ds[a], dims);
    }
  }
  *status = SIM_STATUS_OK;
  return w;
}

int64_t sim_dataset_writer_episodes(const sim_dataset_writer *w) {
  return w->f.episodes;
}

static bool write_rows(sim_dataset_writer *w, sim_dataset_array a, int64_t first, int n,
                       const void *buf) {
  hsize_t ep[5], dims[6], start[6] = {0}, count[6];
  int r = episode_shape(&w->f.meta, a, ep);
  dims[0] = (hsize_t)(first + n);
  count[0] = (hsize_t)n;
  start[0] = (hsize_t)first;
  for (int i = 0; i < r; i++) dims[i + 1] = count[i + 1] = ep[i];
  if (H5Dset_extent(w->f.ds[a], dims) < 0) return false;
  if (episode_elems(&w->f.meta, a) == 0) return true;
  hid_t fs = H5Dget_space(w->f.ds[a]);
  H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
  hid_t ms = H5Screate_simple(r + 1, count, NULL);
  herr_t e = H5Dwrite(w->f.ds[a], mem_type(a), ms, fs, H5P_DEFAULT, buf);
  H5Sclose(ms);
  H5Sclose(fs);
  return e >= 0;
}

static const void *episode_array(const sim_episode *ep, sim_dataset_array a) {
  switch (a) {
    case SIM_DS_ACTIONS:
      return ep->actions;
    case SIM_DS_ARM_QPOS:
      return ep->arm_qpos;
    case SIM_DS_EE_POS:
      return ep->ee_pos;
    case SIM_DS_OBJECT_POS:
      return ep->object_pos;
    case SIM_DS_START_STATE:
      return ep->start_state;
    default:
      return ep->images;
  }
}

bool sim_dataset_append(sim_dataset_writer *w, const sim_episode *eps, int n, char *err,
                        size_t err_sz) {
  quiet_hdf5();
  if (n <= 0) return true;
  int64_t first = w->f.episodes;
  /* images: one precompressed chunk per episode */
  hsize_t dims[5] = {(hsize_t)(first + n), SIM_EPISODE_FRAMES, SIM_IMAGE_SIZE, SIM_IMAGE_SIZE, 3};
  if (H5Dset_extent(w->f.ds[SIM_DS_IMAGES], dims) < 0)
    return mb_fail(err, err_sz, "%s: cannot extend /images", w->path);
  for (int i = 0; i < n; i++) {
    if (!eps[i].zimages_size)
      return mb_fail(err, err_sz, "%s: episode %lld was not compressed", w->path,
                     (long long)(first + i));
    hsize_t off[5] = {(hsize_t)(first + i), 0, 0, 0, 0};
    if (H5Dwrite_chunk(w->f.ds[SIM_DS_IMAGES], H5P_DEFAULT, 0, off, eps[i].zimages_size,
                       eps[i].zimages) < 0)
      return mb_fail(err, err_sz, "%s: writing images failed (disk full?)", w->path);
  }
  for (int a = SIM_DS_IMAGES + 1; a < SIM_DS_COUNT; a++) {
    size_t bytes =
        episode_elems(&w->f.meta, (sim_dataset_array)a) * elem_size((sim_dataset_array)a);
    if (bytes * (size_t)n > w->staging_sz) {
      void *p = realloc(w->staging, bytes * (size_t)n);
      if (!p) return mb_fail(err, err_sz, "out of memory");
      w->staging = p;
      w->staging_sz = bytes * (size_t)n;
    }
    for (int i = 0; i < n && bytes; i++)
      memcpy((char *)w->staging + bytes * (size_t)i, episode_array(&eps[i], (sim_dataset_array)a),
             bytes);
    if (!write_rows(w, (sim_dataset_array)a, first, n, w->staging))
      return mb_fail(err, err_sz, "%s: writing /%s failed (disk full?)", w->path,
                     array_name((sim_dataset_array)a));
  }
  if (!attr_write_i64(w->f.file, "episodes", first + n) || H5Fflush(w->f.file, H5F_SCOPE_LOCAL) < 0)
    return mb_fail(err, err_sz, "%s: flushing failed (disk full?)", w->path);
  w->f.episodes = first + n;
  return true;
}

bool sim_dataset_writer_close(sim_dataset_writer *w, char *err, size_t err_sz) {
  if (!w) return true;
  quiet_hdf5();
  bool ok = true;
  if (w->f.file > 0 && H5Fflush(w->f.file, H5F_SCOPE_LOCAL) < 0)
    ok = mb_fail(err, err_sz, "%s: final flush failed", w->path);
  ds_close(&w->f);
  free(w->staging);
  free(w->path);
  free(w);
  return ok;
}

/* ---- reader ---- */

struct sim_dataset {
  ds_files f;      /* file, arrays, meta, completed episodes */
  char *path;      /* for messages */
  bool raw_chunks; /* images stored one deflated episode per chunk: read chunks directly */
};

sim_split sim_dataset_split_of(int64_t episode) {
  int64_t r = episode % 20;
  return r < 18 ? SIM_SPLIT_TRAIN : r == 18 ? SIM_SPLIT_VAL : SIM_SPLIT_TEST;
}

const char *sim_split_name(sim_split s) {
  return s == SIM_SPLIT_TRAIN ? "train" : s == SIM_SPLIT_VAL ? "val" : "test";
}

static bool images_are_raw_chunks(hid_t d) {
  hid_t dcpl = H5Dget_create_plist(d);
  bool ok = H5Pget_layout(dcpl) == H5D_CHUNKED;
  hsize_t chunk[5] = {0};
  if (ok)
    ok = H5Pget_chunk(dcpl, 5, chunk) == 5 && chunk[0] == 1 && chunk[1] == SIM_EPISODE_FRAMES &&
         chunk[2] == SIM_IMAGE_SIZE && chunk[3] == SIM_IMAGE_SIZE && chunk[4] == 3;
  if (ok && H5Pget_nfilters(dcpl) == 1) {
    unsigned flags, cd[8];
    size_t ncd = 8;
    ok = H5Pget_filter2(dcpl, 0, &flags, &ncd, cd, 0, NULL, NULL) == H5Z_FILTER_DEFLATE;
  } else {
    ok = false;
  }
  H5Pclose(dcpl);
  return ok;
}

sim_dataset *sim_dataset_open(const char *path, char *err, size_t err_sz) {
  sim_dataset *ds = calloc(1, sizeof *ds);
  if (!ds || !(ds->path = strdup(path))) {
    free(ds);
    return mb_fail_null(err, err_sz, "out of memory");
  }
  if (!ds_open(&ds->f, path, false, err, err_sz)) {
    sim_dataset_close(ds);
    return NULL;
  }
  ds->raw_chunks = images_are_raw_chunks(ds->f.ds[SIM_DS_IMAGES]);
  return ds;
}

void sim_dataset_close(sim_dataset *ds) {
  if (!ds) return;
  quiet_hdf5();
  ds_close(&ds->f);
  free(ds->path);
  free(ds);
}

const sim_dataset_meta *sim_dataset_get_meta(const sim_dataset *ds) {
  return &ds->f.meta;
}
int64_t sim_dataset_episodes(const sim_dataset *ds) {
  return ds->f.episodes;
}

int64_t sim_dataset_split_episodes(const sim_dataset *ds, sim_split split, int64_t *out) {
  int64_t n = 0;
  for (int64_t e = 0; e < ds->f.episodes; e++)
    if (sim_dataset_split_of(e) == split) {
      if (out) out[n] = e;
      n++;
    }
  return n;
}

size_t sim_dataset_episode_bytes(const sim_dataset *ds, sim_dataset_array a) {
  return episode_elems(&ds->f.meta, a) * elem_size(a);
}

bool sim_dataset_read(sim_dataset *ds, sim_dataset_array a, int64_t first, int64_t count, void *out,
                      char *err, size_t err_sz) {
  quiet_hdf5();
  if ((int)a < 0 || a >= SIM_DS_COUNT) return mb_fail(err, err_sz, "unknown array %d", (int)a);
  if (first < 0 || count < 0 || first + count > ds->f.episodes)
    return mb_fail(err, err_sz, "%s: episodes %lld..%lld outside the %lld in the file", ds->path,
                   (long long)first, (long long)(first + count - 1), (long long)ds->f.episodes);
  if (count == 0 || episode_elems(&ds->f.meta, a) == 0) return true;
  hsize_t ep[5], start[6] = {0}, cnt[6];
  int r = episode_shape(&ds->f.meta, a, ep);
  start[0] = (hsize_t)first;
  cnt[0] = (hsize_t)count;
  for (int i = 0; i < r; i++) cnt[i + 1] = ep[i];
  hid_t fs = H5Dget_space(ds->f.ds[a]);
  H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, cnt, NULL);
  hid_t ms = H5Screate_simple(r + 1, cnt, NULL);
  herr_t e = H5Dread(ds->f.ds[a], mem_type(a), ms, fs, H5P_DEFAULT, out);
  H5Sclose(ms);
  H5Sclose(fs);
  if (e < 0)
    return mb_fail(err, err_sz, "%s: reading /%s failed (damaged file?)", ds->path, array_name(a));
  return true;
}

/* Reads one episode's image chunk raw (under the caller's lock) and inflates it into dst. */
typedef struct image_reader {
  sim_dataset *ds;         /* the dataset */
  const int64_t *episodes; /* which episodes */
  int64_t n;               /* how many */
  uint8_t *out;            /* n episodes of images */
  pthread_mutex_t mu;      /* serialises HDF5 calls and guards next/failed/err */
  int64_t next;            /* next list position to read */
  bool failed;             /* a reader failed */
  char err[512];           /* its message */
} image_reader;

static bool read_one_chunk(image_reader *ir, int64_t e, uint8_t *zbuf, size_t zcap, uint8_t *dst,
                           char *err, size_t err_sz) {
  sim_dataset *ds = ir->ds;
  const size_t ep_bytes = (size_t)SIM_EPISODE_FRAMES * SIM_IMAGE_BYTES;
  if (e < 0 || e >= ds->f.episodes)
    return mb_fail(err, err_sz, "%s: episode %lld outside the %lld in the file", ds->path,
                   (long long)e, (long long)ds->f.episodes);
  hsize_t off[5] = {(hsize_t)e, 0, 0, 0, 0}, zsize = 0;
  uint32_t mask = 0;
  pthread_mutex_lock(&ir->mu);
  bool ok = H5Dget_chunk_storage_size(ds->f.ds[SIM_DS_IMAGES], off, &zsize) >= 0 && zsize > 0 &&
            zsize <= zcap &&
            H5Dread_chunk(ds->f.ds[SIM_DS_IMAGES], H5P_DEFAULT, off, &mask, zbuf) >= 0;
  pthread_mutex_unlock(&ir->mu);
  if (!ok)
    return mb_fail(err, err_sz, "%s: images of episode %lld are missing or damaged", ds->path,
                   (long long)e);
  if (mask & 1) { /* the deflate filter was skipped for this chunk: stored raw */
    if (zsize != ep_bytes)
      return mb_fail(err, err_sz, "%s: images of episode %lld are damaged", ds->path, (long long)e);
    memcpy(dst, zbuf, ep_bytes);
    return true;
  }
  uLongf got = (uLongf)ep_bytes;
  if (uncompress(dst, &got, zbuf, (uLong)zsize) != Z_OK || got != ep_bytes)
    return mb_fail(err, err_sz, "%s: images of episode %lld are damaged", ds->path, (long long)e);
  return true;
}

/* Inflating dominates reading (HDF5 hands over the raw chunks quickly), so each thread claims
 * episodes, reads the raw chunk under the lock and inflates it outside. */
static void *image_reader_main(void *arg) {
  image_reader *ir = arg;
  const size_t ep_bytes = (size_t)SIM_EPISODE_FRAMES * SIM_IMAGE_BYTES;
  size_t zcap = compressBound((uLong)ep_bytes) + 4096;
  uint8_t *zbuf = malloc(zcap);
  char err[512];
  for (;;) {
    pthread_mutex_lock(&ir->mu);
    int64_t i = ir->failed ? ir->n : ir->next++;
    pthread_mutex_unlock(&ir->mu);
    if (i >= ir->n) break;
    if (!zbuf || !read_one_chunk(ir, ir->episodes[i], zbuf, zcap, ir->out + (size_t)i * ep_bytes,
                                 err, sizeof err)) {
      pthread_mutex_lock(&ir->mu);
      if (!ir->failed) snprintf(ir->err, sizeof ir->err, "%s", zbuf ? err : "out of memory");
      ir->failed = true;
      pthread_mutex_unlock(&ir->mu);
      break;
    }
  }
  free(zbuf);
  return NULL;
}

bool sim_dataset_read_images_of(sim_dataset *ds, const int64_t *episodes, int64_t n, uint8_t *out,
                                char *err, size_t err_sz) {
  quiet_hdf5();
  if (!ds->raw_chunks) { /* written by another tool with other chunking: HDF5's own path */
    for (int64_t i = 0; i < n; i++)
      if (!sim_dataset_read(ds, SIM_DS_IMAGES, episodes[i], 1,
                            out + (size_t)i * SIM_EPISODE_FRAMES * SIM_IMAGE_BYTES, err, err_sz))
        return false;
    return true;
  }
  image_reader ir = {.ds = ds, .episodes = episodes, .n = n, .out = out};
  pthread_mutex_init(&ir.mu, NULL);
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  int nt = cpus < 1 ? 1 : cpus > 8 ? 8 : (int)cpus;
  if (n < 8) nt = 1;
  pthread_t tids[8];
  int started = 0;
  for (int t = 1; t < nt; t++)
    if (pthread_create(&tids[started], NULL, image_reader_main, &ir) == 0) started++;
  image_reader_main(&ir);
  for (int t = 0; t < started; t++) pthread_join(tids[t], NULL);
  pthread_mutex_destroy(&ir.mu);
  if (ir.failed) return mb_fail(err, err_sz, "%s", ir.err);
  return true;
}
