/* compute/vk: the Vulkan runtime on whatever device is there (lavapipe in CI), with the Khronos
 * validation layer on (synchronisation validation included); any validation message fails.
 *
 *   test_vk_runtime                 the tests
 *   test_vk_runtime --bench         GEMM 1024^3 per tile, dispatch overhead (validation off)
 *   test_vk_runtime --bench-net B   the Q-function + actor forward at batch 200 built from cmp ops
 *                                   on backend B (cpu | vulkan), per-layer times */
#include "../test_util.h"
#include "cmp.h"
#include "mb_clock.h"
#include "mb_philox.h"
#include "vk_gemm.h"
#include "vk_push.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct env {
  vk_runtime *rt;
  vk_pipelines *pipes;
  vk_recorder *rec;
  vk_pool *dev;
} env;

static bool env_init(env *e, bool validation, bool no_push) {
  char err[512];
  memset(e, 0, sizeof *e);
  vk_runtime_options o = {
      .validation = validation, .device_index = -1, .no_push_descriptors = no_push};
  e->rt = vk_runtime_create(&o, err, sizeof err);
  if (!e->rt) {
    fprintf(stderr, "test_vk_runtime: %s\n", err);
    return false;
  }
  e->pipes = vk_pipelines_create(e->rt, err, sizeof err);
  if (e->pipes) e->rec = vk_recorder_create(e->rt, e->pipes, err, sizeof err);
  e->dev = vk_pool_create(e->rt, VK_MEM_DEVICE, 0);
  if (!e->pipes || !e->rec || !e->dev) fprintf(stderr, "test_vk_runtime: %s\n", err);
  return e->pipes && e->rec && e->dev;
}

static void env_free(env *e) {
  vk_recorder_destroy(e->rec);
  vk_pool_destroy(e->dev);
  vk_pipelines_destroy(e->pipes);
  vk_runtime_destroy(e->rt);
}

static void check_no_messages(const env *e, const char *where) {
  int n = vk_runtime_validation_count(e->rt);
  CHECK_MSG(n == 0, "%s: %d validation message(s), first: %s", where, n, e->rt->validation_first);
}

static vk_alloc alloc_floats(env *e, size_t n) {
  char err[256];
  vk_alloc a;
  if (!vk_pool_alloc(e->dev, (n ? n : 1) * 4, &a, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    abort();
  }
  return a;
}

/* ---- loader, devices, validation ---------------------------------------------------------- */

static void test_devices(void) {
  vk_device_desc d[8];
  char err[256];
  int n = vk_list_devices(d, 8, err, sizeof err);
  CHECK_MSG(n >= 1, "%s", n < 0 ? err : "no device");
  bool usable = false;
  for (int i = 0; i < n; i++) {
    CHECK(d[i].name[0] && d[i].type[0] && d[i].driver[0] && d[i].api_version[0]);
    usable |= d[i].usable;
  }
  CHECK(usable);
  vk_runtime_options o = {.validation = false, .device_index = 99};
  vk_runtime *rt = vk_runtime_create(&o, err, sizeof err);
  CHECK(rt == NULL && strstr(err, "no device with index 99"));
}

/* A missing libvulkan must give an error line. The loader is opened once per process, so the
 * check runs in a child (forked before this process opens it) with MBOLD_VULKAN_LOADER pointing at
 * a library that does not exist. */
static void test_missing_loader(void) {
  pid_t pid = fork();
  if (pid == 0) {
    setenv("MBOLD_VULKAN_LOADER", "libvulkan-missing-for-test.so.9", 1);
    char err[256] = "";
    vk_runtime *rt = vk_runtime_create(NULL, err, sizeof err);
    vk_device_desc d[2];
    char err2[256] = "";
    int n = vk_list_devices(d, 2, err2, sizeof err2);
    _exit(rt == NULL && strstr(err, "no Vulkan loader") && n == -1 &&
                  strstr(err2, "no Vulkan loader")
              ? 0
              : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The messenger counts what the layer reports: a zero-sized buffer is invalid usage. */
static void test_validation_counts(void) {
  env e;
  if (!env_init(&e, true, false)) {
    test_failures++;
    return;
  }
  CHECK(vk_runtime_validation_count(e.rt) == 0);
  VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                            .size = 0,
                            .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT};
  VkBuffer b = VK_NULL_HANDLE;
  VkResult r = e.rt->vk.CreateBuffer(e.rt->device, &bci, NULL, &b);
  if (r == VK_SUCCESS && b) e.rt->vk.DestroyBuffer(e.rt->device, b, NULL);
  CHECK(vk_runtime_validation_count(e.rt) >= 1);
  CHECK(strstr(e.rt->validation_first, "size") != NULL);
  env_free(&e);
}

/* ---- memory ------------------------------------------------------------------------------ */

static void test_pool(env *e) {
  char err[256];
  vk_pool *p = vk_pool_create(e->rt, VK_MEM_DEVICE, 1 << 20);
  vk_alloc a, b, c, d;
  CHECK(vk_pool_alloc(p, 1000, &a, err, sizeof err) && a.size == 1024 && a.off == 0);
  CHECK(vk_pool_alloc(p, 4096, &b, err, sizeof err) && b.off == 1024);
  CHECK(vk_pool_alloc(p, 1, &c, err, sizeof err) && c.off == 5120);
  vk_pool_free(p, &a);
  vk_pool_free(p, &b);
  /* a and b merged: a 5120-byte request fits at 0 again. */
  CHECK(vk_pool_alloc(p, 5120, &d, err, sizeof err) && d.block == c.block && d.off == 0);
  /* A request bigger than the block size gets a block of its own. */
  vk_alloc big;
  CHECK(vk_pool_alloc(p, 3 << 20, &big, err, sizeof err) && big.block != c.block);
  CHECK(vk_pool_bytes(p) == (1 << 20) + (3 << 20));
  CHECK(p->blocks[0]->view4 && p->blocks[0]->view1);
  vk_pool_free(p, &big);
  vk_pool_free(p, &c);
  vk_pool_free(p, &d);
  CHECK(p->blocks[0]->nfree == 1 && p->blocks[0]->free[0].size == (1 << 20));
  vk_pool_destroy(p);
}

/* ---- recorder ---------------------------------------------------------------------------- */

static const vk_pipeline *pipe_of(env *e, vk_shader_id id) {
  char err[256];
  const vk_pipeline *p = vk_pipelines_get(e->pipes, id, NULL, 0, err, sizeof err);
  if (!p) fprintf(stderr, "%s\n", err);
  return p;
}

static void fill(env *e, vk_alloc *a, uint32_t off, uint32_t count, float value) {
  char err[256];
  vk_push_fill pc = {off, count, value};
  vk_buf_ref ref = {a->block, a->off, a->size, true, VK_REF_STORAGE, 0};
  uint32_t vec = (off & 3) == 0;
  const vk_pipeline *p = vk_pipelines_get(e->pipes, VK_SHADER_FILL, &vec, 1, err, sizeof err);
  CHECK(p && vk_rec_dispatch(e->rec, p, &pc, sizeof pc, &ref, 1, (count + 1023) / 1024, 1, 1, err,
                             sizeof err));
}

/* Independent writes need no barrier; a read or write of something written does; results come
 * back in order through uploads, fills, copies and downloads in one submit. */
static void test_recorder(env *e) {
  char err[256];
  vk_alloc x = alloc_floats(e, 1000), y = alloc_floats(e, 1000);
  vk_recorder_stats s0 = e->rec->stats;
  fill(e, &x, 0, 1000, 1.0f);
  fill(e, &y, 0, 1000, 2.0f); /* different buffer range: no barrier */
  CHECK(e->rec->stats.barriers == s0.barriers);
  fill(e, &x, 10, 5, 3.0f); /* write after write on x: barrier */
  CHECK(e->rec->stats.barriers == s0.barriers + 1);
  vk_rec_copy(e->rec, x.block, x.off, y.block, y.off + 400 * 4,
              100 * 4); /* y[400..500) = x[0..100) */
  CHECK(e->rec->stats.barriers == s0.barriers + 2);
  float h[1000], up[7] = {9, 8, 7, 6, 5, 4, 3};
  CHECK(vk_rec_upload(e->rec, y.block, y.off + 996 * 4, up, 4 * 4, err, sizeof err));
  up[0] = -1; /* the upload already copied its source */
  CHECK(vk_rec_download(e->rec, y.block, y.off, h, sizeof h, err, sizeof err));
  long submits = e->rec->stats.submits;
  CHECK(vk_rec_flush(e->rec, err, sizeof err));
  CHECK(e->rec->stats.submits == submits + 1);
  bool ok = true;
  for (int i = 0; i < 1000; i++) {
    float want = i >= 996                ? 9.0f - (float)(i - 996)
                 : (i >= 400 && i < 500) ? ((i - 400) >= 10 && (i - 400) < 15 ? 3.0f : 1.0f)
                                         : 2.0f;
    ok &= h[i] == want;
  }
  CHECK(ok);
  /* Nothing recorded: flush does not submit. */
  CHECK(vk_rec_flush(e->rec, err, sizeof err) && e->rec->stats.submits == submits + 1);
  vk_pool_free(e->dev, &x);
  vk_pool_free(e->dev, &y);
}

/* ---- random numbers ---------------------------------------------------------------------- */

static void rng(env *e, vk_alloc *t, uint32_t count, bool normal, uint64_t seed, uint32_t stream,
                uint64_t index0, float a, float b) {
  char err[256];
  vk_push_rng pc = {0,
                    count,
                    (uint32_t)seed,
                    (uint32_t)(seed >> 32),
                    stream,
                    (uint32_t)index0,
                    (uint32_t)(index0 >> 32),
                    a,
                    b};
  vk_buf_ref ref = {t->block, t->off, t->size, true, VK_REF_STORAGE, 0};
  CHECK(vk_rec_dispatch(e->rec, pipe_of(e, normal ? VK_SHADER_RNG_NORMAL : VK_SHADER_RNG_UNIFORM),
                        &pc, sizeof pc, &ref, 1, (count + 63) / 64, 1, 1, err, sizeof err));
}

/* shaders/philox.glsl gives exactly base/mb_philox.h's numbers, across the 32-bit index carry and
 * with seeds using both halves. */
static void test_philox(env *e) {
  char err[256];
  enum { N = 4099 };
  vk_alloc t = alloc_floats(e, N), u = alloc_floats(e, N);
  static float got[N], gotn[N];
  const uint64_t seeds[3] = {0, 42, 0x123456789abcdef0ull};
  const uint64_t starts[3] = {0, 7, 0xffffff00ull};
  for (int s = 0; s < 3; s++) {
    rng(e, &t, N, false, seeds[s], (uint32_t)s * 3, starts[s], 0.0f, 1.0f);
    rng(e, &u, N, true, seeds[s], (uint32_t)s * 3, starts[s], 0.0f, 1.0f);
    vk_rec_download(e->rec, t.block, t.off, got, sizeof got, err, sizeof err);
    vk_rec_download(e->rec, u.block, u.off, gotn, sizeof gotn, err, sizeof err);
    CHECK(vk_rec_flush(e->rec, err, sizeof err));
    int bad = 0;
    double maxdiff = 0;
    for (uint64_t i = 0; i < N; i++) {
      bad += got[i] != mb_philox_uniform(seeds[s], (uint32_t)s * 3, starts[s] + i);
      double d = fabs(gotn[i] - mb_philox_normal(seeds[s], (uint32_t)s * 3, starts[s] + i));
      if (d > maxdiff) maxdiff = d;
    }
    CHECK_MSG(bad == 0, "seed %d: %d uniforms differ", s, bad);
    CHECK_MSG(maxdiff < 1e-5, "seed %d: normals differ by %g", s, maxdiff);
  }
  /* Scaled uniforms: lo + (hi - lo) u, bit-exact. */
  rng(e, &t, N, false, 5, 1, 0, -2.0f, 3.0f);
  vk_rec_download(e->rec, t.block, t.off, got, sizeof got, err, sizeof err);
  CHECK(vk_rec_flush(e->rec, err, sizeof err));
  int bad = 0;
  for (int i = 0; i < N; i++) {
    volatile float u01 = mb_philox_uniform(5, 1, (uint64_t)i), prod = 5.0f * u01;
    bad += got[i] != -2.0f + prod;
  }
  CHECK(bad == 0);
  vk_pool_free(e->dev, &t);
  vk_pool_free(e->dev, &u);
}

/* ---- GEMM -------------------------------------------------------------------------------- */

static double nmse(const float *got, const double *want, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    num += (got[i] - want[i]) * (got[i] - want[i]);
    den += want[i] * want[i];
  }
  return den > 0 ? num / den : num;
}

typedef struct gemm_case {
  bool ta, tb;
  int m, n, k;
  int pad_a, pad_b, pad_c; /* extra leading-dimension floats */
  int off_a, off_b, off_c; /* extra offsets (0 keeps 16-byte alignment) */
  float alpha, beta;
  int batch;
} gemm_case;

/* Runs one case against a double-precision reference; returns the NMSE. */
static double run_gemm(env *e, const gemm_case *gc, vk_gemm_tile tile) {
  char err[256];
  int ar = gc->ta ? gc->k : gc->m, ac = gc->ta ? gc->m : gc->k;
  int br = gc->tb ? gc->n : gc->k, bc = gc->tb ? gc->k : gc->n;
  int lda = ac + gc->pad_a, ldb = bc + gc->pad_b, ldc = gc->n + gc->pad_c;
  size_t as = (size_t)ar * lda, bs = (size_t)br * ldb, cs = (size_t)gc->m * ldc;
  int batch = gc->batch;
  size_t na = gc->off_a + as * batch, nb = gc->off_b + bs * batch, nc = gc->off_c + cs * batch;
  float *ha = malloc(na * 4), *hb = malloc(nb * 4), *hc = malloc(nc * 4), *out = malloc(nc * 4);
  double *want = malloc(nc * sizeof *want);
  mb_rng g = mb_rng_make(7, (uint32_t)(gc->m * 131 + gc->n * 7 + gc->k));
  for (size_t i = 0; i < na; i++) ha[i] = mb_rng_uniform(&g) * 2 - 1;
  for (size_t i = 0; i < nb; i++) hb[i] = mb_rng_uniform(&g) * 2 - 1;
  for (size_t i = 0; i < nc; i++) hc[i] = mb_rng_uniform(&g) * 2 - 1;
  for (size_t i = 0; i < nc; i++) want[i] = hc[i];
  for (int z = 0; z < batch; z++)
    for (int i = 0; i < gc->m; i++)
      for (int j = 0; j < gc->n; j++) {
        double s = 0;
        for (int k = 0; k < gc->k; k++) {
          double a = gc->ta ? ha[gc->off_a + z * as + (size_t)k * lda + i]
                            : ha[gc->off_a + z * as + (size_t)i * lda + k];
          double b = gc->tb ? hb[gc->off_b + z * bs + (size_t)j * ldb + k]
                            : hb[gc->off_b + z * bs + (size_t)k * ldb + j];
          s += a * b;
        }
        size_t ci = gc->off_c + z * cs + (size_t)i * ldc + j;
        want[ci] = gc->alpha * s + gc->beta * (double)hc[ci];
      }
  vk_alloc a = alloc_floats(e, na), b = alloc_floats(e, nb), c = alloc_floats(e, nc);
  vk_rec_upload(e->rec, a.block, a.off, ha, na * 4, err, sizeof err);
  vk_rec_upload(e->rec, b.block, b.off, hb, nb * 4, err, sizeof err);
  vk_rec_upload(e->rec, c.block, c.off, hc, nc * 4, err, sizeof err);
  vk_gemm_args args = {
      .trans_a = gc->ta,
      .trans_b = gc->tb,
      .m = gc->m,
      .n = gc->n,
      .k = gc->k,
      .alpha = gc->alpha,
      .beta = gc->beta,
      .a = {a.block, a.off / 4 + gc->off_a},
      .b = {b.block, b.off / 4 + gc->off_b},
      .c = {c.block, c.off / 4 + gc->off_c},
      .lda = lda,
      .ldb = ldb,
      .ldc = ldc,
      .batch = batch,
      .a_stride = as,
      .b_stride = bs,
      .c_stride = cs,
  };
  bool ok = vk_gemm(e->rec, &args, tile, err, sizeof err);
  CHECK_MSG(ok, "%s", err);
  vk_rec_download(e->rec, c.block, c.off, out, nc * 4, err, sizeof err);
  CHECK(vk_rec_flush(e->rec, err, sizeof err));
  double r = nmse(out, want, nc);
  vk_pool_free(e->dev, &a);
  vk_pool_free(e->dev, &b);
  vk_pool_free(e->dev, &c);
  free(ha), free(hb), free(hc), free(out), free(want);
  return r;
}

static void test_gemm(env *e) {
  const vk_gemm_tile automatic = {0};
  /* All transposes, aligned and unaligned layouts, odd sizes, k tails, batches, beta 0/1. */
  const gemm_case cases[] = {
      {false, false, 37, 45, 29, 0, 0, 0, 0, 0, 0, 1.0f, 0.0f, 1},
      {false, true, 37, 45, 29, 0, 0, 0, 0, 0, 0, 1.0f, 0.0f, 1},
      {true, false, 37, 45, 29, 0, 0, 0, 0, 0, 0, 1.0f, 0.0f, 1},
      {true, true, 37, 45, 29, 0, 0, 0, 0, 0, 0, 1.0f, 0.0f, 1},
      {false, false, 64, 128, 96, 0, 0, 0, 0, 0, 0, 0.5f, 1.0f, 1},   /* aligned: RGBA32F */
      {false, true, 200, 128, 1028, 0, 0, 0, 0, 0, 0, 1.0f, 0.0f, 1}, /* linear 1028 -> 128 */
      {true, false, 128, 1028, 200, 0, 0, 0, 0, 0, 0, 1.0f, 1.0f, 1}, /* its weight gradient */
      {true, true, 64, 32, 20, 4, 4, 4, 0, 0, 0, 1.0f, 0.0f, 1},
      {false, false, 33, 17, 9, 3, 1, 2, 1, 2, 3, -1.5f, 0.25f, 1}, /* misaligned everything */
      {true, true, 5, 3, 7, 1, 2, 0, 3, 1, 0, 2.0f, -1.0f, 1},
      {false, false, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1.0f, 0.0f, 1},
      {false, false, 3, 5, 0, 0, 0, 0, 0, 0, 0, 1.0f, 0.5f, 1},     /* k = 0: C = beta C */
      {false, false, 8, 1024, 96, 0, 0, 0, 0, 0, 0, 1.0f, 0.0f, 3}, /* batched, conv-like */
      {false, true, 19, 23, 31, 1, 1, 1, 1, 1, 1, 1.0f, 1.0f, 2},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    double r = run_gemm(e, &cases[i], automatic);
    CHECK_MSG(r < 1e-10, "case %zu (%c%c %dx%dx%d): nmse %g", i, cases[i].ta ? 'T' : 'N',
              cases[i].tb ? 'T' : 'N', cases[i].m, cases[i].n, cases[i].k, r);
  }
  /* The GPU tile runs everywhere too. */
  const vk_gemm_tile gpu = {16, 8, 4, 4};
  for (size_t i = 0; i < 4; i++) {
    double r = run_gemm(e, &cases[i], gpu);
    CHECK_MSG(r < 1e-10, "gpu tile, case %zu: nmse %g", i, r);
  }
}

/* ---- the backend against the CPU backend on larger shapes -------------------------------- */

/* Shapes big enough for the multi-pass paths the op tests' small shapes do not reach: workgroups
 * walking several column tiles (more than 256 tiles), split weight-gradient reductions, two-pass
 * reductions and batch-norm statistics in many slices. */
static void compare_backends(void) {
  char err[512], why[512];
  cmp_options o = cmp_options_default();
  o.validation = true;
  cmp_ctx *vk = cmp_create(CMP_BACKEND_VULKAN, &o, why, sizeof why, err, sizeof err);
  cmp_ctx *cpu = cmp_create(CMP_BACKEND_CPU, NULL, why, sizeof why, err, sizeof err);
  if (!vk || !cpu) {
    CHECK_MSG(false, "%s", err);
    return;
  }
  cmp_ctx *ctx[2] = {cpu, vk};
  cmp_arena *ar[2];
  const cmp_conv_params p = {4, 4, 2, 2, 1, 1};
  enum { N = 40, C = 6, H = 64, O = 8, HO = 32 };
  float *out[2][6];
  for (int b = 0; b < 2; b++) {
    ar[b] = cmp_arena_create(ctx[b], CMP_ARENA_ACTIVATIONS, 4 << 20);
    cmp_tensor x = cmp_arena_tensor(ar[b], N, C, H, H), w = cmp_arena_tensor(ar[b], O, C, 4, 4);
    cmp_tensor bias = cmp_arena_tensor(ar[b], 1, O, 1, 1),
               y = cmp_arena_tensor(ar[b], N, O, HO, HO);
    cmp_tensor dy = cmp_arena_tensor(ar[b], N, O, HO, HO), dx = cmp_arena_tensor(ar[b], N, C, H, H);
    cmp_tensor dw = cmp_arena_tensor(ar[b], O, C, 4, 4), db = cmp_arena_tensor(ar[b], 1, O, 1, 1);
    cmp_tensor g = cmp_arena_tensor(ar[b], 1, O, 1, 1), be = cmp_arena_tensor(ar[b], 1, O, 1, 1);
    cmp_tensor rm = cmp_arena_tensor(ar[b], 1, O, 1, 1), rv = cmp_arena_tensor(ar[b], 1, O, 1, 1);
    cmp_tensor sm = cmp_arena_tensor(ar[b], 1, O, 1, 1), si = cmp_arena_tensor(ar[b], 1, O, 1, 1);
    cmp_tensor bn = cmp_arena_tensor(ar[b], N, O, HO, HO), s = cmp_arena_tensor(ar[b], 1, 1, 1, 1);
    cmp_rng_uniform(ctx[b], &x, 3, 0, 0, -1, 1);
    cmp_rng_uniform(ctx[b], &w, 3, 1, 0, -0.3f, 0.3f);
    cmp_rng_uniform(ctx[b], &bias, 3, 2, 0, -1, 1);
    cmp_rng_uniform(ctx[b], &dy, 3, 3, 0, -1, 1);
    cmp_rng_uniform(ctx[b], &g, 3, 4, 0, 0.5f, 1.5f);
    cmp_fill(ctx[b], &rv, 1.0f);
    cmp_conv2d_fwd(ctx[b], &x, &w, &bias, &y, &p);
    cmp_conv2d_bwd_data(ctx[b], &dy, &w, &dx, &p, 0.0f);
    cmp_conv2d_bwd_weight(ctx[b], &dy, &x, &dw, &db, &p, 0.0f);
    cmp_bn_fwd_train(ctx[b], &y, &g, &be, &rm, &rv, 0.1f, 1e-5f, &bn, &sm, &si);
    cmp_tensor flat = cmp_reshape(y, 1, N * O * HO * HO, 1, 1);
    cmp_reduce(ctx[b], &flat, N * O * HO * HO, 1, true, &s, 0.0f); /* one long mean */
    const cmp_tensor *res[6] = {&y, &dx, &dw, &db, &bn, &s};
    for (int i = 0; i < 6; i++) {
      out[b][i] = malloc(cmp_numel(res[i]) * sizeof(float));
      cmp_download(ctx[b], res[i], out[b][i]);
    }
    if (b == 0) continue;
    const char *names[6] = {"conv fwd",      "conv bwd data",    "conv bwd weight",
                            "conv bwd bias", "batch norm train", "long mean"};
    for (int i = 0; i < 6; i++) {
      size_t n = cmp_numel(res[i]);
      double num = 0, den = 0;
      for (size_t j = 0; j < n; j++) {
        double d = (double)out[1][i][j] - out[0][i][j];
        num += d * d;
        den += (double)out[0][i][j] * out[0][i][j];
      }
      CHECK_MSG(num / (den > 0 ? den : 1) < 1e-10, "%s: vulkan vs cpu nmse %g", names[i],
                num / (den > 0 ? den : 1));
    }
  }
  CHECK_MSG(cmp_validation_message_count(vk) == 0, "%d validation messages",
            cmp_validation_message_count(vk));
  for (int b = 0; b < 2; b++) {
    for (int i = 0; i < 6; i++) free(out[b][i]);
    cmp_arena_destroy(ar[b]);
    cmp_destroy(ctx[b]);
  }
}

/* ---- push constants ---------------------------------------------------------------------- */

/* Reads the Offset decorations of the push-constant block from SPIR-V. Returns the member count
 * (offsets in off[]), 0 if the shader has no push constants, -1 if malformed. */
static int spirv_push_offsets(const uint32_t *w, size_t words, uint32_t *off, int max) {
  if (words < 5 || w[0] != 0x07230203u) return -1;
  uint32_t var_type = 0, struct_id = 0;
  for (size_t i = 5; i < words;) { /* OpVariable (59) with StorageClass PushConstant (9) */
    uint32_t op = w[i] & 0xffff, len = w[i] >> 16;
    if (len == 0) return -1;
    if (op == 59 && len >= 4 && w[i + 3] == 9) var_type = w[i + 1];
    i += len;
  }
  if (!var_type) return 0;
  for (size_t i = 5; i < words;) { /* OpTypePointer (32): result, storage class, type */
    uint32_t op = w[i] & 0xffff, len = w[i] >> 16;
    if (op == 32 && w[i + 1] == var_type) struct_id = w[i + 3];
    i += len;
  }
  int n = 0;
  for (size_t i = 5; i < words;) { /* OpMemberDecorate (72) struct member Offset (35) value */
    uint32_t op = w[i] & 0xffff, len = w[i] >> 16;
    if (op == 72 && len >= 5 && w[i + 1] == struct_id && w[i + 3] == 35 && (int)w[i + 2] < max) {
      off[w[i + 2]] = w[i + 4];
      if ((int)w[i + 2] + 1 > n) n = (int)w[i + 2] + 1;
    }
    i += len;
  }
  return n;
}

static void test_push_constants(void) {
  for (int id = 0; id < VK_SHADER_COUNT; id++) {
    const vk_shader_code *s = &vk_shader_table[id];
    uint32_t off[64];
    int n = spirv_push_offsets(s->words, s->bytes / 4, off, 64);
    size_t bytes = vk_push_bytes(s->name);
    CHECK_MSG(bytes != (size_t)-1, "%s: no C mirror in vk_push.c", s->name);
    CHECK_MSG(n >= 0 && (size_t)n * 4 == bytes, "%s: %d members in SPIR-V, C struct %zu bytes",
              s->name, n, bytes);
    for (int i = 0; i < n; i++)
      CHECK_MSG(off[i] == 4u * i, "%s: member %d at %u", s->name, i, off[i]);
  }
}

/* ---- benchmark --------------------------------------------------------------------------- */

/* CPU time of the whole process (all threads, lavapipe's included): on a machine shared with other
 * jobs it varies far less than wall time. */
static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* GEMM size^3 with each tile; the machine is noisy (a shared VM), so each configuration runs once
 * per round over several rounds and keeps its best time. */
static void bench_gemm(env *e, int size, const vk_gemm_tile *tiles, int ntiles, int rounds) {
  char err[256];
  vk_alloc a = alloc_floats(e, (size_t)size * size), b = alloc_floats(e, (size_t)size * size),
           c = alloc_floats(e, (size_t)size * size);
  vk_rec_fill(e->rec, a.block, a.off, a.size, 0x3f800000u);
  vk_rec_fill(e->rec, b.block, b.off, b.size, 0x3f800000u);
  vk_gemm_args g = {.m = size,
                    .n = size,
                    .k = size,
                    .alpha = 1,
                    .beta = 0,
                    .a = {a.block, a.off / 4},
                    .b = {b.block, b.off / 4},
                    .c = {c.block, c.off / 4},
                    .lda = size,
                    .ldb = size,
                    .ldc = size,
                    .batch = 1};
  double best[32], best_cpu[32];
  for (int i = 0; i < ntiles; i++) {
    vk_gemm(e->rec, &g, tiles[i], err, sizeof err); /* compiles the pipeline, warms up */
    vk_rec_flush(e->rec, err, sizeof err);
    best[i] = best_cpu[i] = 1e30;
  }
  for (int round = 0; round < rounds; round++)
    for (int i = 0; i < ntiles; i++) {
      double t0 = mb_now(), c0 = cpu_now();
      vk_gemm(e->rec, &g, tiles[i], err, sizeof err);
      vk_rec_flush(e->rec, err, sizeof err);
      double t = mb_now() - t0, ct = cpu_now() - c0;
      if (t < best[i]) best[i] = t;
      if (ct < best_cpu[i]) best_cpu[i] = ct;
    }
  /* GFLOP per CPU-second times the cores is what an idle machine would give at best. */
  for (int i = 0; i < ntiles; i++)
    printf("gemm %d^3  workgroup %2ux%-2u  block %2ux%-2u  %6.1f GFLOP/s  %7.1f ms  (CPU %7.1f ms: "
           "%5.1f GFLOP per CPU-second)\n",
           size, tiles[i].wx, tiles[i].wy, tiles[i].tm, tiles[i].tn,
           2.0 * size * size * size / best[i] * 1e-9, best[i] * 1e3, best_cpu[i] * 1e3,
           2.0 * size * size * size / best_cpu[i] * 1e-9);
  vk_pool_free(e->dev, &a);
  vk_pool_free(e->dev, &b);
  vk_pool_free(e->dev, &c);
}

/* Cost of one small dispatch (bind, descriptors, push constants, dispatch, barrier). */
static void bench_dispatch(env *e, const char *label) {
  char err[256];
  vk_alloc x = alloc_floats(e, 256);
  for (int rep = 0; rep < 2; rep++) {
    double t0 = mb_now();
    for (int i = 0; i < 2000; i++) fill(e, &x, 0, 256, (float)i);
    vk_rec_flush(e->rec, err, sizeof err);
    double t = mb_now() - t0;
    if (rep == 1)
      printf("dispatch (%s): %.1f us each, recorded and executed\n", label, t / 2000 * 1e6);
  }
  vk_pool_free(e->dev, &x);
}

/* Cost per workgroup of a shader that returns at once (fill with count 0). */
static void bench_workgroups(env *e) {
  char err[256];
  vk_alloc x = alloc_floats(e, 256);
  const uint32_t groups[4] = {1, 64, 3200, 25600};
  for (int g = 0; g < 4; g++) {
    vk_push_fill pc = {0, 0, 0.0f};
    vk_buf_ref ref = {x.block, x.off, x.size, true, VK_REF_STORAGE, 0};
    double best = 1e30, bestc = 1e30;
    for (int rep = 0; rep < 5; rep++) {
      double t0 = mb_now(), c0 = cpu_now();
      vk_rec_dispatch(e->rec, pipe_of(e, VK_SHADER_FILL), &pc, sizeof pc, &ref, 1, groups[g], 1, 1,
                      err, sizeof err);
      vk_rec_flush(e->rec, err, sizeof err);
      double t = mb_now() - t0, c = cpu_now() - c0;
      if (t < best) best = t;
      if (c < bestc) bestc = c;
    }
    printf("empty dispatch of %5u workgroups: %.3f ms wall, %.3f ms CPU\n", groups[g], best * 1e3,
           bestc * 1e3);
  }
  vk_pool_free(e->dev, &x);
}

/* First-dispatch time of a GEMM per tile (run with MESA_SHADER_CACHE_DISABLE=true: lavapipe
 * compiles a pipeline at its first dispatch). */
static int bench_compile(void) {
  env e;
  if (!env_init(&e, false, false)) return 1;
  char err[512];
  vk_alloc a = alloc_floats(&e, 4096), b = alloc_floats(&e, 4096), c = alloc_floats(&e, 4096);
  const vk_gemm_tile tiles[] = {
      {8, 1, 16, 16}, {8, 1, 8, 16}, {8, 1, 16, 8}, {8, 1, 8, 8}, {8, 1, 4, 4}};
  for (int ta = 0; ta < 2; ta++)
    for (size_t i = 0; i < sizeof tiles / sizeof tiles[0]; i++) {
      vk_gemm_args g = {.trans_a = ta,
                        .m = 32,
                        .n = 32,
                        .k = 32,
                        .alpha = 1,
                        .a = {a.block, a.off / 4},
                        .b = {b.block, b.off / 4},
                        .c = {c.block, c.off / 4},
                        .lda = 32,
                        .ldb = 32,
                        .ldc = 32,
                        .batch = 1};
      double t0 = mb_now(), c0 = cpu_now();
      vk_gemm(e.rec, &g, tiles[i], err, sizeof err);
      vk_rec_flush(e.rec, err, sizeof err);
      printf("gemm trans_a %d block %2ux%-2u: first dispatch %.2f s wall, %.2f s CPU\n", ta,
             tiles[i].tm, tiles[i].tn, mb_now() - t0, cpu_now() - c0);
    }
  vk_pool_free(e.dev, &a);
  vk_pool_free(e.dev, &b);
  vk_pool_free(e.dev, &c);
  env_free(&e);
  return 0;
}

static int bench(void) {
  env e;
  if (!env_init(&e, false, false)) return 1;
  printf("%s, %s\n", e.rt->desc.name, e.rt->desc.driver);
  vk_gemm_tile tiles[] = {{8, 1, 4, 4},   {8, 1, 8, 8},  {8, 1, 16, 8},  {8, 1, 8, 16},
                          {8, 1, 16, 16}, {8, 1, 32, 8}, {8, 1, 16, 32}, {16, 1, 16, 16},
                          {8, 4, 16, 16}, {16, 8, 4, 4}, {0, 0, 0, 0}};
  int nt = sizeof tiles / sizeof tiles[0];
  tiles[nt - 1] = vk_gemm_pick_tile(e.rt, 1024, 1024);
  printf("default tile for 1024^3: workgroup %ux%u block %ux%u\n", tiles[nt - 1].wx,
         tiles[nt - 1].wy, tiles[nt - 1].tm, tiles[nt - 1].tn);
  bench_gemm(&e, 1024, tiles, nt - 1, 4);
  bench_dispatch(&e, "push descriptors");
  bench_workgroups(&e);
  env_free(&e);
  if (!env_init(&e, false, true)) return 1;
  bench_dispatch(&e, "descriptor sets");
  env_free(&e);
  return 0;
}

/* ---- network forward (the planner's scoring pass) ------------------------------------------- */

typedef struct layer_time {
  const char *name; /* what ran */
  double ms;        /* wall time, summed over runs */
  double cpu_ms;    /* process CPU time, summed over runs */
} layer_time;

/* The paper's conv encoder (6x64x64 -> 1024) and MLP heads, inference mode, built from cmp ops:
 * Q = head(concat(enc(obs), action)) with 5 x 128 hidden + 1 out, actor = head(enc(obs)) with
 * 9 x 128 hidden + 4 out and tanh. Weights are random: only the time matters here. */
typedef struct net {
  cmp_tensor cw[4], cb[4], bn_g[4], bn_b[4], bn_m[4], bn_v[4]; /* encoder */
  cmp_tensor lw[16], lb[16], lg[16], lbt[16], lm[16], lv[16];  /* head */
  int nhidden, nout, in_extra;                                 /* head shape */
} net;

static cmp_tensor rnd(cmp_ctx *ctx, cmp_arena *a, int n, int c, int h, int w, uint32_t tag,
                      float scale) {
  cmp_tensor t = cmp_arena_tensor(a, n, c, h, w);
  cmp_rng_uniform(ctx, &t, 99, tag, 0, -scale, scale);
  return t;
}

static void net_init(cmp_ctx *ctx, cmp_arena *a, net *nt, int nhidden, int nout, int extra,
                     uint32_t tag) {
  static const int ch[5] = {6, 8, 16, 32, 64};
  for (int l = 0; l < 4; l++) {
    nt->cw[l] = rnd(ctx, a, ch[l + 1], ch[l], 4, 4, tag++, 0.2f);
    nt->cb[l] = rnd(ctx, a, 1, ch[l + 1], 1, 1, tag++, 0.1f);
    nt->bn_g[l] = rnd(ctx, a, 1, ch[l + 1], 1, 1, tag++, 1.0f);
    nt->bn_b[l] = rnd(ctx, a, 1, ch[l + 1], 1, 1, tag++, 0.1f);
    nt->bn_m[l] = rnd(ctx, a, 1, ch[l + 1], 1, 1, tag++, 0.1f);
    nt->bn_v[l] = cmp_arena_tensor(a, 1, ch[l + 1], 1, 1);
    cmp_fill(ctx, &nt->bn_v[l], 1.0f);
  }
  nt->nhidden = nhidden, nt->nout = nout, nt->in_extra = extra;
  for (int l = 0; l <= nhidden; l++) {
    int in = l == 0 ? 1024 + extra : 128, out = l == nhidden ? nout : 128;
    nt->lw[l] = rnd(ctx, a, out, in, 1, 1, tag++, 0.1f);
    nt->lb[l] = rnd(ctx, a, 1, out, 1, 1, tag++, 0.1f);
    nt->lg[l] = rnd(ctx, a, 1, out, 1, 1, tag++, 1.0f);
    nt->lbt[l] = rnd(ctx, a, 1, out, 1, 1, tag++, 0.1f);
    nt->lm[l] = rnd(ctx, a, 1, out, 1, 1, tag++, 0.1f);
    nt->lv[l] = cmp_arena_tensor(a, 1, out, 1, 1);
    cmp_fill(ctx, &nt->lv[l], 1.0f);
  }
}

/* Runs the forward; with times != NULL syncs after each layer and adds its wall time. */
static cmp_tensor net_forward(cmp_ctx *ctx, cmp_arena *act, const net *nt, const cmp_tensor *obs,
                              const cmp_tensor *action, layer_time *times) {
  const cmp_conv_params p = {4, 4, 2, 2, 1, 1};
  int B = obs->n, size = 64, li = 0;
  cmp_tensor x = *obs;
  double t0 = mb_now(), c0 = cpu_now();
#define LAP(label)                                                                                 \
  do {                                                                                             \
    if (times) {                                                                                   \
      cmp_sync(ctx);                                                                               \
      double t1 = mb_now(), c1 = cpu_now();                                                        \
      times[li].name = label;                                                                      \
      times[li].cpu_ms += (c1 - c0) * 1e3;                                                         \
      times[li++].ms += (t1 - t0) * 1e3;                                                           \
      t0 = t1, c0 = c1;                                                                            \
    }                                                                                              \
  } while (0)
  for (int l = 0; l < 4; l++) {
    size /= 2;
    cmp_tensor y = cmp_arena_tensor(act, B, nt->cw[l].n, size, size);
    cmp_conv2d_fwd(ctx, &x, &nt->cw[l], &nt->cb[l], &y, &p);
    LAP("conv");
    if (l < 3) {
      cmp_act_fwd(ctx, CMP_ACT_LEAKY_RELU, &y, &y, 0.2f);
      if (l >= 1)
        cmp_bn_fwd_eval(ctx, &y, &nt->bn_g[l], &nt->bn_b[l], &nt->bn_m[l], &nt->bn_v[l], 1e-5f, &y);
      LAP("leaky relu + bn");
    }
    x = y;
  }
  cmp_tensor h = cmp_reshape(x, B, 1024, 1, 1);
  if (nt->in_extra) {
    cmp_tensor cat = cmp_arena_tensor(act, B, 1024 + nt->in_extra, 1, 1);
    cmp_copy_channels(ctx, &h, 0, &cat, 0, 1024, 0.0f);
    cmp_copy_channels(ctx, action, 0, &cat, 1024, nt->in_extra, 0.0f);
    h = cat;
    LAP("concat");
  }
  for (int l = 0; l <= nt->nhidden; l++) {
    int out = l == nt->nhidden ? nt->nout : 128;
    cmp_tensor y = cmp_arena_tensor(act, B, out, 1, 1);
    cmp_linear_fwd(ctx, &h, &nt->lw[l], &nt->lb[l], &y);
    LAP("linear");
    if (l < nt->nhidden) {
      cmp_act_fwd(ctx, CMP_ACT_RELU, &y, &y, 0.0f);
      cmp_bn_fwd_eval(ctx, &y, &nt->lg[l], &nt->lbt[l], &nt->lm[l], &nt->lv[l], 1e-5f, &y);
      LAP("relu + bn");
    } else if (nt->nout == 4) {
      cmp_act_fwd(ctx, CMP_ACT_TANH, &y, &y, 0.0f);
      LAP("tanh");
    }
    h = y;
  }
#undef LAP
  return h;
}

static int bench_net(const char *backend) {
  cmp_backend_choice choice;
  if (!cmp_parse_backend(backend, &choice)) return 2;
  char err[512], why[512];
  cmp_ctx *ctx = cmp_create(choice, NULL, why, sizeof why, err, sizeof err);
  if (!ctx) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  printf("%s: %s\n", cmp_backend_name(ctx), cmp_device_name(ctx));
  cmp_arena *w = cmp_arena_create(ctx, CMP_ARENA_WEIGHTS, 1 << 20);
  cmp_arena *act = cmp_arena_create(ctx, CMP_ARENA_ACTIVATIONS, 16 << 20);
  net q, pi;
  net_init(ctx, w, &q, 5, 1, 4, 1);
  net_init(ctx, w, &pi, 9, 4, 0, 500);
  const int B = 200;
  cmp_tensor obs = rnd(ctx, w, B, 6, 64, 64, 1000, 1.0f),
             action = rnd(ctx, w, B, 4, 1, 1, 1001, 1.0f);
  float out[B * 4];
  double best = 1e30, best_cpu = 1e30;
  for (int rep = 0; rep < 6; rep++) {
    size_t mark = cmp_arena_mark(act);
    double t0 = mb_now(), c0 = cpu_now();
    cmp_tensor a = net_forward(ctx, act, &pi, &obs, NULL, NULL);
    cmp_tensor v = net_forward(ctx, act, &q, &obs, &action, NULL);
    cmp_download(ctx, &v, out);
    cmp_download(ctx, &a, out);
    double t = mb_now() - t0, c = cpu_now() - c0;
    if (rep > 0 && t < best) best = t; /* rep 0 compiles pipelines */
    if (rep > 0 && c < best_cpu) best_cpu = c;
    cmp_arena_reset(act, mark);
  }
  printf("Q + actor forward, batch %d: %.1f ms wall, %.1f ms CPU (best of 5)\n", B, best * 1e3,
         best_cpu * 1e3);
  layer_time times[64] = {{0}};
  for (int rep = 0; rep < 3; rep++) {
    size_t mark = cmp_arena_mark(act);
    net_forward(ctx, act, &q, &obs, &action, times);
    cmp_arena_reset(act, mark);
  }
  printf("Q forward per layer (synced after each, mean of 3): wall, process CPU\n");
  for (int i = 0; i < 64 && times[i].name; i++)
    printf("  %2d %-16s %7.2f ms %7.2f ms\n", i, times[i].name, times[i].ms / 3,
           times[i].cpu_ms / 3);
  cmp_arena_destroy(act);
  cmp_arena_destroy(w);
  cmp_destroy(ctx);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--bench")) return bench();
  if (argc > 1 && !strcmp(argv[1], "--bench-compile")) return bench_compile();
  if (argc > 2 && !strcmp(argv[1], "--bench-net")) return bench_net(argv[2]);
  test_missing_loader(); /* first: the child must be the first to open the loader */
  test_devices();
  test_validation_counts();
  test_push_constants();
  compare_backends();
  for (int no_push = 0; no_push <= 1; no_push++) {
    env e;
    if (!env_init(&e, true, no_push)) return 1;
    test_pool(&e);
    test_recorder(&e);
    test_philox(&e);
    if (!no_push) test_gemm(&e);
    check_no_messages(&e, no_push ? "descriptor sets" : "push descriptors");
    env_free(&e);
  }
  return test_exit_code("test_vk_runtime");
}
