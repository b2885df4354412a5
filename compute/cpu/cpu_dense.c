/* CPU backend: GEMM and fully connected layers through OpenBLAS, split over the workers. */
#include "cpu_internal.h"

#include <cblas.h>
#include <string.h>

typedef struct gemm_job {
  bool ta, tb, split_m; /* transposes; split rows of C (else columns) */
  int m, n, k, parts;
  float alpha, beta;
  const float *a, *b;
  float *c;
  int lda, ldb, ldc;
} gemm_job;

static void gemm_task(void *v, int task, int worker) {
  (void)worker;
  gemm_job *j = v;
  int len = j->split_m ? j->m : j->n;
  /* Parts on multiples of 16 rows/columns: whole micro-kernel tiles in every part. */
  size_t b, e;
  cpu_split((size_t)(len + 15) / 16, j->parts, task, &b, &e);
  int i0 = (int)b * 16, i1 = (int)e * 16 < len ? (int)e * 16 : len;
  if (i0 >= i1) return;
  CBLAS_TRANSPOSE ta = j->ta ? CblasTrans : CblasNoTrans, tb = j->tb ? CblasTrans : CblasNoTrans;
  if (j->split_m) {
    const float *a = j->a + (j->ta ? (size_t)i0 : (size_t)i0 * j->lda);
    cblas_sgemm(CblasRowMajor, ta, tb, i1 - i0, j->n, j->k, j->alpha, a, j->lda, j->b, j->ldb,
                j->beta, j->c + (size_t)i0 * j->ldc, j->ldc);
  } else {
    const float *b2 = j->b + (j->tb ? (size_t)i0 * j->ldb : (size_t)i0);
    cblas_sgemm(CblasRowMajor, ta, tb, j->m, i1 - i0, j->k, j->alpha, j->a, j->lda, b2, j->ldb,
                j->beta, j->c + i0, j->ldc);
  }
}

void cpu_sgemm(cmp_ctx *ctx, bool ta, bool tb, int m, int n, int k, float alpha, const float *a,
               int lda, const float *b, int ldb, float beta, float *c, int ldc) {
  bool split_m = m >= n;
  int len = split_m ? m : n;
  int parts = cpu_tasks_for(ctx, (size_t)(len + 15) / 16, 2.0 * 16 * (split_m ? n : m) * k);
  if (parts == 1) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
                k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  gemm_job j = {ta, tb, split_m, m, n, k, parts, alpha, beta, a, b, c, lda, ldb, ldc};
  cpu_parallel(ctx, parts, gemm_task, &j);
}

void cpu_gemm(cmp_ctx *ctx, bool trans_a, bool trans_b, int m, int n, int k, float alpha,
              const cmp_tensor *a, int lda, const cmp_tensor *b, int ldb, float beta,
              const cmp_tensor *c, int ldc) {
  cpu_sgemm(ctx, trans_a, trans_b, m, n, k, alpha, cpu_ptr(a), lda, cpu_ptr(b), ldb, beta,
            cpu_ptr(c), ldc);
}

void cpu_linear_fwd(cmp_ctx *ctx, const cmp_tensor *x, const cmp_tensor *w, const cmp_tensor *b,
                    const cmp_tensor *y, const cmp_fused_act *act) {
  int n = x->n, m = w->n, k = (int)cmp_sample_size(w);
  float *py = cpu_ptr(y);
  if (b)
    for (int r = 0; r < n; r++) memcpy(py + (size_t)r * m, cpu_ptr(b), (size_t)m * sizeof(float));
  cpu_sgemm(ctx, false, true, n, m, k, 1.0f, cpu_ptr(x), k, cpu_ptr(w), k, b ? 1.0f : 0.0f, py, m);
  /* OpenBLAS has no epilogue; the pass over an output still warm in cache is cheap. */
  if (act) cpu_act_fwd(ctx, act->act, y, y, act->alpha);
}

void cpu_linear_bwd_data(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *w,
                         const cmp_tensor *dx, float beta) {
  int n = dy->n, m = w->n, k = (int)cmp_sample_size(w);
  cpu_sgemm(ctx, false, false, n, k, m, 1.0f, cpu_ptr(dy), m, cpu_ptr(w), k, beta, cpu_ptr(dx), k);
}

void cpu_linear_bwd_weight(cmp_ctx *ctx, const cmp_tensor *dy, const cmp_tensor *x,
                           const cmp_tensor *dw, const cmp_tensor *db, float beta) {
  int n = dy->n, m = dw->n, k = (int)cmp_sample_size(dw);
  cpu_sgemm(ctx, true, false, m, k, n, 1.0f, cpu_ptr(dy), m, cpu_ptr(x), k, beta, cpu_ptr(dw), k);
  if (db) {
    const float *pdy = cpu_ptr(dy);
    float *pdb = cpu_ptr(db);
    /* Sum over the batch in row order; accumulate in a scratch row so beta == 0 never reads db. */
    float *acc = cpu_shared_get(ctx, 0, (size_t)m);
    memset(acc, 0, (size_t)m * sizeof(float));
    for (int r = 0; r < n; r++)
      for (int i = 0; i < m; i++) acc[i] += pdy[(size_t)r * m + i];
    for (int i = 0; i < m; i++) pdb[i] = beta == 0.0f ? acc[i] : acc[i] + beta * pdb[i];
  }
}
