// The register-blocked GEMM core shared by gemm.comp and the convolution shaders (implicit GEMM):
// acc(row, col) = sum_k A(row, k) B(k, col) over a TM x TN block per invocation, no shared memory
// and no barriers (both are slow on llvmpipe; see compute/vk/vk_gemm.c for the measurements).
//
// The including shader defines, before including this file:
//   uint gc_m, gc_n, gc_k          problem size (globals set at the top of main())
//   A_M4 (optional)  vec4 a_rows4(uint row4, uint k): rows row4..row4+3 at k (row4 may be past
//                    gc_m - 4: the loader clamps); otherwise vec4 a_k4(uint row, uint k0, uint i):
//                    k0..k0+3 of a row (row clamped to gc_m - 1; i is its slot in the block)
//   float a_at(uint row, uint k, uint i)   one element (k tails)
//   B_N4 (optional)  vec4 b_cols4(uint k, uint col4): columns col4..col4+3 at k (col4 may be past
//                    gc_n - 4: the loader clamps); otherwise vec4 b_k4(uint k0, uint col, uint j):
//                    k0..k0+3 of a column (col clamped to gc_n - 1; j is its slot in the block)
//   float b_at(uint k, uint col, uint j)   one element (k tails)
//   void c_store(uint row, uint col, uint j, float acc)   called for row < gc_m, col < gc_n (j:
//                    the column's slot, so per-column addresses can come from COL_HOOK)
//   B_BLOCK4 (optional, with B_N4)  void b_block4(uint k0, uint col4, uint jv, out vec4 bt[4]):
//                    bt[t] = columns col4..col4+3 at k0 + t, all four at once (a loader that can
//                    share reads between them, e.g. overlapping convolution windows)
//   C_STORE4 (optional, with B_N4)  void c_store4(uint row, uint col4, uint jv, vec4 acc):
//                    columns col4..col4+3 (group jv of the block) when all four are < gc_n (else
//                    c_store per element)
//   ROW_HOOK (optional)  void row_setup(uint i, uint row): once per row slot, before the loop
//   COL_HOOK (optional)  void col_setup(uint j, uint col): once per column slot, before the loop
//   K_HOOK (optional)    void k_block(uint k0): before the loads of k0..k0+3 (k0 grows by 4), and
//                        once more before the k % 4 tail with its first k (implicit GEMMs keep
//                        their index arithmetic incremental here instead of dividing per element)
// and calls gemm_core(gl_WorkGroupID.xy) from main(). TM and TN are visible to the includer (its
// per-slot arrays are sized by them).
//
// Specialisation (declared by the includer through GEMM_SPEC below): 0 = WX (invocations along n),
// 1 = WY (along m), 2 = TM, 3 = TN (a multiple of 4).
// With B_N4 an invocation owns TN/4 groups of 4 adjacent columns interleaved with its neighbours, so
// a SIMD row of invocations reads one contiguous span of B; otherwise TN single columns.

void gemm_core(uvec2 wg) {
  const uint lx = gl_LocalInvocationID.x, ly = gl_LocalInvocationID.y;
  const uint wx = gl_WorkGroupSize.x, wy = gl_WorkGroupSize.y;
  const uint row0 = (wg.y * wy + ly) * TM;

  uint rows[TM]; // clamped: loads stay in range, rows past gc_m are not stored
  for (uint i = 0; i < TM; i++) rows[i] = min(row0 + i, gc_m - 1u);
  uint cols[TN]; // column of acc[j / 4][j % 4]
#ifdef B_N4
  for (uint jv = 0; jv < TNV; jv++)
    for (uint q = 0; q < 4; q++) cols[jv * 4 + q] = 4 * (wg.x * wx * TNV + jv * wx + lx) + q;
#else
  for (uint j = 0; j < TN; j++) cols[j] = wg.x * wx * TN + j * wx + lx;
#endif
  uint ccols[TN];
  for (uint j = 0; j < TN; j++) ccols[j] = min(cols[j], gc_n - 1u);
#ifdef ROW_HOOK
  for (uint i = 0; i < TM; i++) row_setup(i, rows[i]);
#endif
#ifdef COL_HOOK
  for (uint j = 0; j < TN; j++) col_setup(j, ccols[j]);
#endif

  vec4 acc[TM][TNV];
  for (uint i = 0; i < TM; i++)
    for (uint jv = 0; jv < TNV; jv++) acc[i][jv] = vec4(0.0);

  const uint k4 = gc_k / 4u;
  for (uint kb = 0; kb < k4; kb++) {
    const uint k0 = kb * 4u;
#ifdef K_HOOK
    k_block(k0);
#endif
    vec4 ar[TM]; // ar[i][t] = A(row i, k0 + t)
#ifdef A_M4
    for (uint t = 0; t < 4; t++)
      for (uint iv = 0; iv < TM / 4; iv++) {
        vec4 v = a_rows4(row0 + 4 * iv, k0 + t);
        for (uint q = 0; q < 4; q++) ar[4 * iv + q][t] = v[q];
      }
#else
    for (uint i = 0; i < TM; i++) ar[i] = a_k4(rows[i], k0, i);
#endif
    vec4 bb[TNV][4]; // bb[jv][t] = B(k0 + t, columns 4 jv .. 4 jv + 3)
#if defined(B_N4) && defined(B_BLOCK4)
    for (uint jv = 0; jv < TNV; jv++) b_block4(k0, cols[jv * 4], jv, bb[jv]);
#elif defined(B_N4)
    for (uint t = 0; t < 4; t++)
      for (uint jv = 0; jv < TNV; jv++) bb[jv][t] = b_cols4(k0 + t, cols[jv * 4]);
#else
    for (uint jv = 0; jv < TNV; jv++) {
      vec4 bk[4]; // bk[q][t] = B(k0 + t, column 4 jv + q)
      for (uint q = 0; q < 4; q++) bk[q] = b_k4(k0, ccols[jv * 4 + q], jv * 4 + q);
      for (uint t = 0; t < 4; t++) bb[jv][t] = vec4(bk[0][t], bk[1][t], bk[2][t], bk[3][t]);
    }
#endif
    // One update of each accumulator per k-block (4 dot products) rather than 4 fma steps:
    // lavapipe masks every assignment in a loop with the execution mask, and the convolutions'
    // forward took ~8% less CPU.
    for (uint i = 0; i < TM; i++)
      for (uint jv = 0; jv < TNV; jv++) {
        vec4 d;
        for (uint q = 0; q < 4; q++)
          d[q] = dot(ar[i], vec4(bb[jv][0][q], bb[jv][1][q], bb[jv][2][q], bb[jv][3][q]));
        acc[i][jv] += d;
      }
  }

#ifdef K_HOOK
  if (k4 * 4u < gc_k) k_block(k4 * 4u);
#endif
  for (uint k = k4 * 4u; k < gc_k; k++) { // the k % 4 tail
    float a[TM];
    for (uint i = 0; i < TM; i++) a[i] = a_at(rows[i], k, i);
    for (uint jv = 0; jv < TNV; jv++) {
      vec4 b;
      for (uint q = 0; q < 4; q++) b[q] = b_at(k, ccols[jv * 4 + q], jv * 4 + q);
      for (uint i = 0; i < TM; i++) acc[i][jv] = fma(vec4(a[i]), b, acc[i][jv]);
    }
  }

  // No early exit: a loop with a data-dependent break may stay rolled, and indexing acc with its
  // counter would move the whole block out of registers.
  for (uint i = 0; i < TM; i++) {
    if (row0 + i < gc_m) {
      for (uint jv = 0; jv < TNV; jv++) {
#if defined(B_N4) && defined(C_STORE4)
        if (cols[jv * 4 + 3] < gc_n) {
          c_store4(row0 + i, cols[jv * 4], jv, acc[i][jv]);
          continue;
        }
#endif
        for (uint q = 0; q < 4; q++)
          if (cols[jv * 4 + q] < gc_n) c_store(row0 + i, cols[jv * 4 + q], jv * 4 + q, acc[i][jv][q]);
      }
    }
  }
}
