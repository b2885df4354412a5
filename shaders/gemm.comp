#version 450
// C = act(alpha * op(A) * op(B) + bias + beta * C) (act: epilogue.glsl), row-major, batched over gl_WorkGroupID.z; bias is
// none, per column (linear layers) or per row. The core is gemm_core.glsl.
//
// Operands are read through uniform texel buffers: on llvmpipe (lavapipe) a texel fetch becomes a
// vector gather, while a storage-buffer load becomes a per-lane loop with a bounds check per
// element (1.7x slower here). On a GPU the reads go through the texture cache.
//
// Variants (-D): TRANS_A, TRANS_B (operand stored transposed). Specialisation constants 4, 5:
// VEC_A, VEC_B, the operand's contiguous axis is 16-byte aligned and, where the block is clamped
// along it (A^T rows, B columns), a multiple of 4 long: fetch RGBA32F texels; otherwise R32F
// fetches. (Not push constants: llvmpipe would run both sides of the branch.)
#include "gemm_push.glsl"
#include "gemm_spec.glsl"
#include "epilogue.glsl"
layout(constant_id = 4) const bool VEC_A = false;
layout(constant_id = 5) const bool VEC_B = false;

layout(binding = 8) uniform samplerBuffer a4;
layout(binding = 9) uniform samplerBuffer a1;
layout(binding = 10) uniform samplerBuffer b4;
layout(binding = 11) uniform samplerBuffer b1;
layout(std430, binding = 0) buffer Cbuf { float c[]; };
layout(std430, binding = 1) readonly buffer Bias { float bias[]; };

uint gc_m, gc_n, gc_k, abase, bbase, cbase;

float fa(uint i) { return texelFetch(a1, int(i)).x; }
float fb(uint i) { return texelFetch(b1, int(i)).x; }

#if TRANS_A
// op(A)[row][k] = A[k][row]: vectors run along the rows.
#define A_M4
float a_at(uint row, uint k, uint i) { return fa(abase + k * pc.lda + row); }
vec4 a_rows4(uint row4, uint k) {
  if (VEC_A) return texelFetch(a4, int((abase + k * pc.lda + min(row4, gc_m - 4u)) >> 2));
  uint r = abase + k * pc.lda, last = gc_m - 1u;
  return vec4(fa(r + min(row4, last)), fa(r + min(row4 + 1u, last)), fa(r + min(row4 + 2u, last)),
              fa(r + min(row4 + 3u, last)));
}
#else
float a_at(uint row, uint k, uint i) { return fa(abase + row * pc.lda + k); }
vec4 a_k4(uint row, uint k0, uint i) {
  uint j = abase + row * pc.lda + k0;
  if (VEC_A) return texelFetch(a4, int(j >> 2));
  return vec4(fa(j), fa(j + 1u), fa(j + 2u), fa(j + 3u));
}
#endif

#if TRANS_B
float b_at(uint k, uint col, uint j) { return fb(bbase + col * pc.ldb + k); }
vec4 b_k4(uint k0, uint col, uint j) {
  uint i = bbase + col * pc.ldb + k0;
  if (VEC_B) return texelFetch(b4, int(i >> 2));
  return vec4(fb(i), fb(i + 1u), fb(i + 2u), fb(i + 3u));
}
#else
// op(B)[k][col] = B[k][col]: vectors run along the columns.
#define B_N4
float b_at(uint k, uint col, uint j) { return fb(bbase + k * pc.ldb + col); }
vec4 b_cols4(uint k, uint col4) {
  uint r = bbase + k * pc.ldb;
  if (VEC_B) return texelFetch(b4, int((r + min(col4, gc_n - 4u)) >> 2));
  uint last = gc_n - 1u;
  return vec4(fb(r + min(col4, last)), fb(r + min(col4 + 1u, last)), fb(r + min(col4 + 2u, last)),
              fb(r + min(col4 + 3u, last)));
}
#endif

void c_store(uint row, uint col, uint j, float acc) {
  uint idx = cbase + row * pc.ldc + col;
  float v = pc.alpha * acc;
  if (pc.bias_mode == 1u) v += bias[pc.bias_off + col];
  else if (pc.bias_mode == 2u) v += bias[pc.bias_off + row];
  if (pc.beta != 0.0) v += pc.beta * c[idx];
  c[idx] = epi_act(v, pc.act_alpha);
}

#include "gemm_core.glsl"

void main() {
  const uint z = gl_WorkGroupID.z;
  gc_m = pc.m;
  gc_n = pc.n;
  gc_k = pc.k;
  abase = pc.a_off + z * pc.a_batch;
  bbase = pc.b_off + z * pc.b_batch;
  cbase = pc.c_off + z * pc.c_batch;
  gemm_core(gl_WorkGroupID.xy);
}
