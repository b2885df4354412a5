#version 450
// C = alpha * op(A) * op(B) + bias + beta * C, row-major, batched over gl_WorkGroupID.z; bias is
// none, per column (linear layers) or per row. The core is gemm_core.glsl.
//
// Operands are read through uniform texel buffers: on llvmpipe (lavapipe) a texel fetch becomes a
// vector gather, while a storage-buffer load becomes a per-lane loop with a bounds check per
// element (1.7x slower here). On a GPU the reads go through the texture cache.
//
// Variants (-D): TRANS_A, TRANS_B (operand stored transposed); VEC_A, VEC_B (the operand's
// contiguous axis is 16-byte aligned and, where the core clamps along it, a multiple of 4 long:
// fetch RGBA32F texels; otherwise R32F fetches).
#include "gemm_push.glsl"
#include "gemm_spec.glsl"

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
float a_at(uint row, uint k, uint i) { return fa(abase + k * pc.lda + row); }
#if VEC_A
#define A_M4
vec4 a_rows4(uint row4, uint k) { return texelFetch(a4, int((abase + k * pc.lda + row4) >> 2)); }
#else
vec4 a_k4(uint row, uint k0, uint i) {
  return vec4(a_at(row, k0, i), a_at(row, k0 + 1, i), a_at(row, k0 + 2, i), a_at(row, k0 + 3, i));
}
#endif
#else
float a_at(uint row, uint k, uint i) { return fa(abase + row * pc.lda + k); }
#if VEC_A
vec4 a_k4(uint row, uint k0, uint i) { return texelFetch(a4, int((abase + row * pc.lda + k0) >> 2)); }
#else
vec4 a_k4(uint row, uint k0, uint slot) {
  uint i = abase + row * pc.lda + k0;
  return vec4(fa(i), fa(i + 1), fa(i + 2), fa(i + 3));
}
#endif
#endif

#if TRANS_B
float b_at(uint k, uint col, uint j) { return fb(bbase + col * pc.ldb + k); }
#if VEC_B
vec4 b_k4(uint k0, uint col, uint j) { return texelFetch(b4, int((bbase + col * pc.ldb + k0) >> 2)); }
#else
vec4 b_k4(uint k0, uint col, uint slot) {
  uint i = bbase + col * pc.ldb + k0;
  return vec4(fb(i), fb(i + 1), fb(i + 2), fb(i + 3));
}
#endif
#else
float b_at(uint k, uint col, uint j) { return fb(bbase + k * pc.ldb + col); }
#if VEC_B
#define B_N4
vec4 b_cols4(uint k, uint col4) { return texelFetch(b4, int((bbase + k * pc.ldb + col4) >> 2)); }
#else
vec4 b_k4(uint k0, uint col, uint j) {
  return vec4(b_at(k0, col, j), b_at(k0 + 1, col, j), b_at(k0 + 2, col, j), b_at(k0 + 3, col, j));
}
#endif
#endif

void c_store(uint row, uint col, uint j, float acc) {
  uint idx = cbase + row * pc.ldc + col;
  float v = pc.alpha * acc;
  if (pc.bias_mode == 1u) v += bias[pc.bias_off + col];
  else if (pc.bias_mode == 2u) v += bias[pc.bias_off + row];
  if (pc.beta != 0.0) v += pc.beta * c[idx];
  c[idx] = v;
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
