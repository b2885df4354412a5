/* The CPU backend's context: worker pool, scratch memory, buffers, transfers and the op table. */
#include "cmp_cpu.h"
#include "cpu_internal.h"

#include "mb_err.h"

#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- worker pool ----------------------------------------------------------------------------- */

/* Jobs are handed out through one atomic ticket, (generation << 32) | next task, and finished
 * tasks are counted; the caller runs tasks too and returns as soon as every task is done. A helper
 * that wakes late finds the ticket of a newer generation (or no task left) and goes back to sleep,
 * so the caller never waits for a helper that the scheduler has not run yet: that matters on a
 * busy 2-core machine, where a wake-up can take a whole time slice. */
struct cpu_pool {
  int nthreads;            /* workers incl. the caller (worker 0) */
  pthread_t *threads;      /* [nthreads - 1] helpers */
  pthread_mutex_t mu;      /* guards gen, fn, arg, ntasks, quit */
  pthread_cond_t wake;     /* helpers wait here for a new generation */
  pthread_cond_t done_cv;  /* the caller waits here for done == ntasks */
  unsigned gen;            /* job generation */
  cpu_task_fn fn;          /* current job */
  void *arg;               /* its argument */
  int ntasks;              /* its task count */
  _Atomic uint64_t ticket; /* (gen << 32) | next task to hand out */
  atomic_int done;         /* tasks of the current generation finished */
  bool quit;               /* set by destroy */
};

typedef struct helper_arg {
  cpu_pool *pool; /* the pool */
  int worker;     /* this helper's worker index (>= 1) */
} helper_arg;

/* Runs tasks of generation gen until none is left; returns when the ticket moves on. */
static void run_tasks(cpu_pool *p, unsigned gen, cpu_task_fn fn, void *arg, int ntasks,
                      int worker) {
  uint64_t t = atomic_load(&p->ticket);
  for (;;) {
    if ((unsigned)(t >> 32) != gen || (uint32_t)t >= (uint32_t)ntasks) return;
    if (!atomic_compare_exchange_weak(&p->ticket, &t, t + 1)) continue; /* t reloaded */
    fn(arg, (int)(uint32_t)t, worker);
    if (atomic_fetch_add(&p->done, 1) + 1 == ntasks) {
      pthread_mutex_lock(&p->mu);
      pthread_cond_signal(&p->done_cv);
      pthread_mutex_unlock(&p->mu);
    }
    t = atomic_load(&p->ticket);
  }
}

static void *helper_main(void *v) {
  helper_arg ha = *(helper_arg *)v;
  free(v);
  cpu_pool *p = ha.pool;
  unsigned seen = 0;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (p->gen == seen && !p->quit) pthread_cond_wait(&p->wake, &p->mu);
    if (p->quit) break;
    seen = p->gen;
    cpu_task_fn fn = p->fn;
    void *arg = p->arg;
    int ntasks = p->ntasks;
    pthread_mutex_unlock(&p->mu);
    run_tasks(p, seen, fn, arg, ntasks, ha.worker);
    pthread_mutex_lock(&p->mu);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

static void pool_destroy(cpu_pool *p) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  p->quit = true;
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mu);
  for (int i = 0; i < p->nthreads - 1; i++) pthread_join(p->threads[i], NULL);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->wake);
  pthread_cond_destroy(&p->done_cv);
  free(p->threads);
  free(p);
}

static cpu_pool *pool_create(int nthreads, char *err, size_t err_sz) {
  cpu_pool *p = calloc(1, sizeof *p);
  if (!p) return mb_fail_null(err, err_sz, "CPU backend: out of memory");
  p->nthreads = 1;
  p->threads = calloc((size_t)nthreads, sizeof *p->threads);
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->wake, NULL);
  pthread_cond_init(&p->done_cv, NULL);
  atomic_init(&p->ticket, 0);
  atomic_init(&p->done, 0);
  for (int i = 1; i < nthreads; i++) {
    helper_arg *ha = malloc(sizeof *ha);
    if (!p->threads || !ha) {
      free(ha);
      pool_destroy(p);
      return mb_fail_null(err, err_sz, "CPU backend: out of memory");
    }
    ha->pool = p;
    ha->worker = i;
    if (pthread_create(&p->threads[i - 1], NULL, helper_main, ha)) {
      free(ha);
      pool_destroy(p);
      return mb_fail_null(err, err_sz, "CPU backend: cannot start worker thread %d", i);
    }
    p->nthreads = i + 1;
  }
  return p;
}

void cpu_parallel(cmp_ctx *ctx, int ntasks, cpu_task_fn fn, void *arg) {
  cpu_pool *p = cpu_of(ctx)->pool;
  if (ntasks <= 0) return;
  if (!p || ntasks == 1) {
    for (int t = 0; t < ntasks; t++) fn(arg, t, 0);
    return;
  }
  pthread_mutex_lock(&p->mu);
  p->fn = fn;
  p->arg = arg;
  p->ntasks = ntasks;
  unsigned gen = ++p->gen;
  atomic_store(&p->done, 0);
  atomic_store(&p->ticket, (uint64_t)gen << 32);
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mu);
  run_tasks(p, gen, fn, arg, ntasks, 0);
  if (atomic_load(&p->done) < ntasks) {
    pthread_mutex_lock(&p->mu);
    while (atomic_load(&p->done) < ntasks) pthread_cond_wait(&p->done_cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
  }
}

int cpu_tasks_for(cmp_ctx *ctx, size_t n, double unit_cost) {
  /* Below ~200k flops (tens of microseconds) waking a worker costs about as much as it saves. */
  const double min_per_task = 2e5;
  int t = cpu_of(ctx)->nthreads;
  double total = (double)n * unit_cost;
  if (total < 2 * min_per_task) return 1;
  if ((double)t * min_per_task > total) t = (int)(total / min_per_task);
  if ((size_t)t > n) t = (int)n;
  return t < 1 ? 1 : t;
}

/* ---- scratch --------------------------------------------------------------------------------- */

static float *scratch_grow(cpu_scratch *s, size_t floats) {
  if (s->cap >= floats) return s->p;
  free(s->p);
  size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
  s->p = aligned_alloc(64, bytes);
  if (!s->p) cmp_die("CPU backend: cannot allocate %zu MiB of scratch", bytes >> 20);
  s->cap = floats;
  return s->p;
}

float *cpu_scratch_get(cmp_ctx *ctx, int worker, int slot, size_t floats) {
  return scratch_grow(&cpu_of(ctx)->scratch[worker][slot], floats);
}

float *cpu_shared_get(cmp_ctx *ctx, int slot, size_t floats) {
  return scratch_grow(&cpu_of(ctx)->shared[slot], floats);
}

/* ---- buffers and transfers ------------------------------------------------------------------- */

static cmp_buffer *cpu_buffer_alloc(cmp_ctx *ctx, cmp_arena_kind kind, size_t floats, char *err,
                                    size_t err_sz) {
  cmp_buffer *b = calloc(1, sizeof *b);
  size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
  float *data = b ? aligned_alloc(64, bytes) : NULL;
  if (!data) {
    free(b);
    return mb_fail_null(err, err_sz, "out of host memory (%zu MiB)", bytes >> 20);
  }
  memset(data, 0, bytes);
  b->ctx = ctx;
  b->kind = kind;
  b->floats = floats;
  b->host = data;
  return b;
}

static void cpu_buffer_free(cmp_ctx *ctx, cmp_buffer *b) {
  (void)ctx;
  if (!b) return;
  free(b->host);
  free(b);
}

static void cpu_sync(cmp_ctx *ctx) {
  (void)ctx;
}

static void cpu_upload(cmp_ctx *ctx, const cmp_tensor *dst, const float *src) {
  (void)ctx;
  memcpy(cpu_ptr(dst), src, cmp_numel(dst) * sizeof(float));
}

static void cpu_download(cmp_ctx *ctx, const cmp_tensor *src, float *dst) {
  (void)ctx;
  memcpy(dst, cpu_ptr(src), cmp_numel(src) * sizeof(float));
}

typedef struct u8_job {
  const cmp_tensor *dst; /* [n, c, h, w] */
  int c0;                /* first channel written */
  const uint8_t *src;    /* n images h x w x 3 */
  float lut[256];        /* byte -> value */
  int parts;             /* tasks */
} u8_job;

/* Images [b, e) of part `task`: deinterleave HWC bytes into 3 planes. */
static void u8_task(void *v, int task, int worker) {
  (void)worker;
  const u8_job *j = v;
  const cmp_tensor *dst = j->dst;
  size_t hw = (size_t)dst->h * dst->w, b, e;
  cpu_split((size_t)dst->n, j->parts, task, &b, &e);
  for (size_t n = b; n < e; n++) {
    const uint8_t *s = j->src + n * hw * 3;
    float *d = cpu_ptr(dst) + (n * dst->c + (size_t)j->c0) * hw;
    for (size_t i = 0; i < hw; i++) {
      d[i] = j->lut[s[3 * i]];
      d[hw + i] = j->lut[s[3 * i + 1]];
      d[2 * hw + i] = j->lut[s[3 * i + 2]];
    }
  }
}

static void cpu_upload_u8_hwc(cmp_ctx *ctx, const cmp_tensor *dst, int c0, const uint8_t *src,
                              float scale, float bias) {
  u8_job j = {dst, c0, src, {0}, 1};
  for (int v = 0; v < 256; v++) j.lut[v] = (float)v * scale + bias;
  j.parts = cpu_tasks_for(ctx, (size_t)dst->n, 4.0 * dst->h * dst->w);
  cpu_parallel(ctx, j.parts, u8_task, &j);
}

/* ---- context --------------------------------------------------------------------------------- */

static void cpu_destroy(cmp_ctx *ctx) {
  cpu_impl *c = cpu_of(ctx);
  pool_destroy(c->pool);
  for (int w = 0; w < CPU_MAX_THREADS; w++)
    for (int s = 0; s < CPU_SCRATCH_SLOTS; s++) free(c->scratch[w][s].p);
  for (int s = 0; s < CPU_SCRATCH_SLOTS; s++) free(c->shared[s].p);
  free(c);
}

static const cmp_backend_ops cpu_ops = {
    .destroy = cpu_destroy,
    .buffer_alloc = cpu_buffer_alloc,
    .buffer_free = cpu_buffer_free,
    .sync = cpu_sync,
    .validation_message_count = NULL,
    .upload = cpu_upload,
    .upload_u8_hwc = cpu_upload_u8_hwc,
    .download = cpu_download,
    .fill = cpu_fill,
    .axpby = cpu_axpby,
    .clamp = cpu_clamp,
    .copy_channels = cpu_copy_channels,
    .act_fwd = cpu_act_fwd,
    .act_bwd = cpu_act_bwd,
    .binary = cpu_binary,
    .binary_bwd = cpu_binary_bwd,
    .reduce = cpu_reduce,
    .broadcast = cpu_broadcast,
    .gemm = cpu_gemm,
    .linear_fwd = cpu_linear_fwd,
    .linear_bwd_data = cpu_linear_bwd_data,
    .linear_bwd_weight = cpu_linear_bwd_weight,
    .conv2d_fwd = cpu_conv2d_fwd,
    .conv2d_bwd_data = cpu_conv2d_bwd_data,
    .conv2d_bwd_weight = cpu_conv2d_bwd_weight,
    .convt2d_fwd = cpu_convt2d_fwd,
    .convt2d_bwd_data = cpu_convt2d_bwd_data,
    .convt2d_bwd_weight = cpu_convt2d_bwd_weight,
    .bn_fwd_train = cpu_bn_fwd_train,
    .bn_fwd_eval = cpu_bn_fwd_eval,
    .bn_bwd = cpu_bn_bwd,
    .mse_fwd = cpu_mse_fwd,
    .mse_bwd = cpu_mse_bwd,
    .logsumexp_fwd = cpu_logsumexp_fwd,
    .logsumexp_bwd = cpu_logsumexp_bwd,
    .warp_fwd = cpu_warp_fwd,
    .warp_bwd = cpu_warp_bwd,
    .adam_step = cpu_adam_step,
    .polyak = cpu_polyak,
    .rng_uniform = cpu_rng_uniform,
    .rng_normal = cpu_rng_normal,
};

cmp_ctx *cmp_cpu_create(const cmp_options *opt, char *err, size_t err_sz) {
  int threads = opt->threads;
  if (threads <= 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    threads = n > 0 ? (int)n : 1;
  }
  if (threads > CPU_MAX_THREADS) threads = CPU_MAX_THREADS;
  /* Our workers are the parallelism; OpenBLAS runs inside them single-threaded. */
  openblas_set_num_threads(1);
  cpu_impl *c = calloc(1, sizeof *c);
  if (!c) return mb_fail_null(err, err_sz, "CPU backend: out of memory");
  c->nthreads = threads;
  if (threads > 1 && !(c->pool = pool_create(threads, err, err_sz))) {
    free(c);
    return NULL;
  }
  char device[256];
  const char *config = openblas_get_config();
  char version[64] = "OpenBLAS";
  if (config && !strncmp(config, "OpenBLAS ", 9)) {
    char v[48] = "";
    sscanf(config + 9, "%47s", v);
    snprintf(version, sizeof version, "OpenBLAS %s", v);
  }
  snprintf(device, sizeof device, "CPU, %s %s, %d thread%s", version, openblas_get_corename(),
           threads, threads == 1 ? "" : "s");
  cmp_ctx *ctx = cmp_ctx_new(&cpu_ops, c, "cpu", device);
  if (!ctx) {
    pool_destroy(c->pool);
    free(c);
    return mb_fail_null(err, err_sz, "CPU backend: out of memory");
  }
  return ctx;
}
