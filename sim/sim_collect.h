/* Offline dataset collection with the random policy, on K threads (each with its own worlds and
 * renderer), and the dataset's interaction statistics.
 *
 * Episode e of a collection with seed s is reset with sim_episode_seed(s, e) and driven by the
 * policy stream (s, e); it is rendered into tile e mod batch of its thread's buffer. Nothing else
 * enters an episode, so the file is byte-for-byte the same data whatever the thread count, and a
 * resumed collection equals an uninterrupted one. */
#ifndef SIM_COLLECT_H
#define SIM_COLLECT_H

#include "sim_dataset.h"
#include "sim_task.h"

#include "mb_job.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_COLLECT_BATCH                                                                          \
  16 /* episodes stepped in lockstep and rendered as tiles of one buffer                           \
      */

typedef struct sim_collect_config {
  sim_task task;          /* scene and policy std */
  const char *assets_dir; /* folder holding scenes/ */
  const char *out_path;   /* the .h5 file */
  int64_t episodes;       /* total episodes wanted in the file (> 0) */
  uint64_t seed;          /* collection seed */
  int threads;            /* worker threads, >= 1 */
  bool resume;            /* continue an existing file (task, seed and scene must match) */
  bool force;             /* replace an existing file */
} sim_collect_config;

typedef struct sim_collect_stats {
  int64_t episodes_before; /* completed episodes in the file at the start (resume) */
  int64_t episodes_after;  /* completed episodes in the file at the end */
  bool cancelled;          /* stopped early by hooks->cancel; the file is valid */
  double wall_s;           /* wall-clock seconds of the collection loop */
  double physics_s;        /* summed over threads: resets and steps */
  double render_s;         /* summed over threads: scene update, rendering, readback */
  double compress_s;       /* summed over threads: image deflate */
  double write_s;          /* HDF5 appends and flushes (one at a time) */
  double wait_s;           /* summed over threads: waiting for an earlier batch to be written */
  int64_t sim_warnings;    /* MuJoCo warnings (instabilities) over all episodes collected */
} sim_collect_stats;

/* The reset seed of episode `episode` of a collection with seed `seed`. */
uint64_t sim_episode_seed(uint64_t seed, int64_t episode);

/* Collects until the file holds cfg->episodes episodes or hooks->cancel is raised (then every
 * episode in flight is finished and written). Progress is reported in episodes. Returns
 * SIM_STATUS_BAD_INPUT for a wrong argument, an existing file without force/resume, a mismatching
 * file to resume, a bad scene or no EGL; SIM_STATUS_FAILED for I/O failures mid-run. stats may be
 * NULL. */
sim_status sim_collect(const sim_collect_config *cfg, const mb_job_hooks *hooks,
                       sim_collect_stats *stats, char *err, size_t err_sz);

/* Interaction statistics of a dataset. An object "moved" in an episode when its largest distance
 * from its first-frame position reached 2 cm (door: the slide position). */
typedef struct sim_dataset_stats {
  int64_t episodes;         /* completed episodes */
  int64_t frames;           /* episodes * 31 */
  int64_t split_count[3];   /* train, val, test episodes */
  int64_t moved_episodes;   /* episodes in which some object moved >= 2 cm */
  double moved_fraction;    /* moved_episodes / episodes (0 when K = 0) */
  double mean_displacement; /* mean over episodes of the largest object displacement (m) */
  double mean_ee_travel;    /* mean end-effector distance from first to last frame (m) */
} sim_dataset_stats;

#define SIM_MOVED_THRESHOLD 0.02

bool sim_dataset_compute_stats(sim_dataset *ds, sim_dataset_stats *st, char *err, size_t err_sz);

#endif
