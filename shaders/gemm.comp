#version 450
// C = alpha * op(A) * op(B) + beta * C, row-major, batched over gl_WorkGroupID.z.
//
// Each invocation computes a TM x TN block of C in registers (no shared memory, no barriers).
// Operands are read through uniform texel buffers: on llvmpipe (lavapipe) a texel fetch becomes a
// vector gather, while a storage-buffer load becomes a per-lane loop with a bounds check per
// element, which made the texel path 1.7x faster (see compute/vk/vk_gemm.c for the measurements).
// On a GPU the same reads go through the texture cache.
//
// Variants (-D): TRANS_A, TRANS_B (operand stored transposed), VEC_A, VEC_B (the operand's
// contiguous axis is 16-byte aligned: fetch RGBA32F texels; otherwise four R32F fetches).
// Specialisation: 0 = WX (invocations along n), 1 = WY (along m), 2 = TM, 3 = TN (multiple of 4).
//
// Lane layout: without TRANS_B an invocation owns TN/4 groups of 4 adjacent columns, interleaved
// with its neighbours so that the lanes of a SIMD row read one contiguous span of B; with TRANS_B it
// owns TN single columns (B^T rows), each read as 4 consecutive k.
#include "gemm_push.glsl"

layout(local_size_x_id = 0, local_size_y_id = 1) in;
layout(constant_id = 2) const uint TM = 16;
layout(constant_id = 3) const uint TN = 16;
const uint TNV = TN / 4;

layout(binding = 8) uniform samplerBuffer a4;
layout(binding = 9) uniform samplerBuffer a1;
layout(binding = 10) uniform samplerBuffer b4;
layout(binding = 11) uniform samplerBuffer b1;
layout(std430, binding = 0) buffer Cbuf { float c[]; };

float fa(uint i) { return texelFetch(a1, int(i)).x; }
float fb(uint i) { return texelFetch(b1, int(i)).x; }
#if VEC_A
vec4 fa4(uint i) { return texelFetch(a4, int(i >> 2)); }
#else
vec4 fa4(uint i) { return vec4(fa(i), fa(i + 1), fa(i + 2), fa(i + 3)); }
#endif
#if VEC_B
vec4 fb4(uint i) { return texelFetch(b4, int(i >> 2)); }
#else
vec4 fb4(uint i) { return vec4(fb(i), fb(i + 1), fb(i + 2), fb(i + 3)); }
#endif

void main() {
  const uint lx = gl_LocalInvocationID.x, ly = gl_LocalInvocationID.y;
  const uint wx = gl_WorkGroupSize.x, wy = gl_WorkGroupSize.y;
  const uint z = gl_WorkGroupID.z;
  const uint m = pc.m, n = pc.n, kk_total = pc.k;
  const uint abase = pc.a_off + z * pc.a_batch;
  const uint bbase = pc.b_off + z * pc.b_batch;
  const uint row0 = (gl_WorkGroupID.y * wy + ly) * TM;

  // Rows of this block (clamped: loads stay inside A, results past m are not stored).
  uint rows[TM];
  for (uint i = 0; i < TM; i++) rows[i] = min(row0 + i, m - 1);

  // Columns: cols[jv * 4 + q] for accumulator acc[.][jv][q].
  uint cols[TN];
#if TRANS_B
  for (uint j = 0; j < TN; j++) cols[j] = gl_WorkGroupID.x * wx * TN + j * wx + lx;
#else
  for (uint jv = 0; jv < TNV; jv++)
    for (uint q = 0; q < 4; q++)
      cols[jv * 4 + q] = 4 * (gl_WorkGroupID.x * wx * TNV + jv * wx + lx) + q;
#endif
  uint ccols[TN]; // clamped for loads
  for (uint j = 0; j < TN; j++) ccols[j] = min(cols[j], n - 1);

  vec4 acc[TM][TNV];
  for (uint i = 0; i < TM; i++)
    for (uint jv = 0; jv < TNV; jv++) acc[i][jv] = vec4(0.0);

  const uint k4 = kk_total / 4;
  for (uint kb = 0; kb < k4; kb++) {
    const uint k0 = kb * 4;
    // ar[i][t] = op(A)[row i][k0 + t]
    vec4 ar[TM];
#if TRANS_A
    for (uint t = 0; t < 4; t++) {
#if VEC_A
      // m % 4 == 0 here: fetch 4 rows at once, the start clamped so the read stays in the row.
      for (uint iv = 0; iv < TM / 4; iv++) {
        vec4 v = fa4(abase + (k0 + t) * pc.lda + min(row0 + 4 * iv, m - 4));
        for (uint q = 0; q < 4; q++) ar[4 * iv + q][t] = v[q];
      }
#else
      for (uint i = 0; i < TM; i++) ar[i][t] = fa(abase + (k0 + t) * pc.lda + rows[i]);
#endif
    }
#else
    for (uint i = 0; i < TM; i++) ar[i] = fa4(abase + rows[i] * pc.lda + k0);
#endif

#if TRANS_B
    // bk[j][t] = op(B)[k0 + t][col j] = B[col j][k0 + t]
    for (uint jv = 0; jv < TNV; jv++) {
      vec4 bk[4];
      for (uint q = 0; q < 4; q++) bk[q] = fb4(bbase + ccols[jv * 4 + q] * pc.ldb + k0);
      for (uint i = 0; i < TM; i++)
        for (uint t = 0; t < 4; t++)
          acc[i][jv] = fma(vec4(ar[i][t]), vec4(bk[0][t], bk[1][t], bk[2][t], bk[3][t]),
                           acc[i][jv]);
    }
#else
    for (uint t = 0; t < 4; t++) {
      vec4 bn[TNV];
      for (uint jv = 0; jv < TNV; jv++) {
#if VEC_B
        // n % 4 == 0 here: the group's 4 columns are in range or the group is clamped whole.
        bn[jv] = fb4(bbase + (k0 + t) * pc.ldb + min(cols[jv * 4], n - 4));
#else
        uint rb = bbase + (k0 + t) * pc.ldb;
        bn[jv] = vec4(fb(rb + ccols[jv * 4]), fb(rb + ccols[jv * 4 + 1]),
                      fb(rb + ccols[jv * 4 + 2]), fb(rb + ccols[jv * 4 + 3]));
#endif
      }
      for (uint i = 0; i < TM; i++)
        for (uint jv = 0; jv < TNV; jv++) acc[i][jv] = fma(vec4(ar[i][t]), bn[jv], acc[i][jv]);
    }
#endif
  }

  // The k % 4 remainder, one k at a time with scalar fetches.
  for (uint k = k4 * 4; k < kk_total; k++) {
    float a[TM];
    for (uint i = 0; i < TM; i++)
#if TRANS_A
      a[i] = fa(abase + k * pc.lda + rows[i]);
#else
      a[i] = fa(abase + rows[i] * pc.lda + k);
#endif
    for (uint jv = 0; jv < TNV; jv++) {
      vec4 b;
      for (uint q = 0; q < 4; q++)
#if TRANS_B
        b[q] = fb(bbase + ccols[jv * 4 + q] * pc.ldb + k);
#else
        b[q] = fb(bbase + k * pc.ldb + ccols[jv * 4 + q]);
#endif
      for (uint i = 0; i < TM; i++) acc[i][jv] = fma(vec4(a[i]), b, acc[i][jv]);
    }
  }

  const uint cbase = pc.c_off + z * pc.c_batch;
  for (uint i = 0; i < TM; i++) {
    if (row0 + i >= m) break;
    for (uint jv = 0; jv < TNV; jv++)
      for (uint q = 0; q < 4; q++) {
        uint col = cols[jv * 4 + q];
        if (col < n) {
          uint idx = cbase + (row0 + i) * pc.ldc + col;
          float v = pc.alpha * acc[i][jv][q];
          if (pc.beta != 0.0) v += pc.beta * c[idx];
          c[idx] = v;
        }
      }
  }
}
