#version 450
// Partial weight gradients: part[z, o, (c, ky, kx)] = sum over k = (n, oy, ox) in slice z of
// dy[n, o, oy, ox] x[n, c, oy SH - PH + ky, ox SW - PW + kx]. The reduction (N HO WO) is long and
// the output small, so it is split over gl_WorkGroupID.z (k_chunk each) and the slices are summed
// by reduce.comp afterwards. An implicit GEMM: rows = o, columns = (c, ky, kx).
//
// N4 (KW % 4 == 0, WO % 4 == 0, k_chunk % 4 == 0): a k-block of 4 is (n, oy, ox0..ox0+3) on one
// output row, so the 4 dy values of a row are one RGBA32F texel when VEC_A (specialisation
// constant 5: dy 16-byte aligned), and an invocation owns groups of 4 columns (c, ky, kx0..kx0+3)
// whose 4 x 4 inputs lie on one input row in a span of 3 SW + 4 floats, read once (as
// conv2d_fwd.comp's N4). SW is specialisation constant 4. The generic variant gathers 16 single
// floats, each with its own bounds test, per column group and k-block.
#include "conv_push.glsl"
#include "gemm_spec.glsl"
layout(constant_id = 5) const bool VEC_A = false;

layout(binding = 8) uniform samplerBuffer dy4;
layout(binding = 9) uniform samplerBuffer dy1;
layout(binding = 10) uniform samplerBuffer x1;
layout(binding = 11) uniform samplerBuffer x4;
layout(std430, binding = 0) writeonly buffer Part { float part[]; };

uint gc_m, gc_n, gc_k, k_begin;

#define COL_HOOK
#define K_HOOK
uint st_n, st_oy, st_ox; // (n, oy, ox) of the next k

#if N4
#define B_N4
#define B_BLOCK4
layout(constant_id = 4) const uint SW_ = 2;
// VEC_S, D: see conv_span.glsl; here D = -PW mod 4 (the span starts at ox0 SW - PW + kx0).
layout(constant_id = 6) const bool VEC_S = false;
layout(constant_id = 7) const uint D = 3;
const uint SPAN = 3 * SW_ + 4;
#define SPAN_T1 x1
#define SPAN_T4 x4
#include "conv_span.glsl"
uint grp_off[TNV]; // c H W + kx0
int grp_ky[TNV], grp_kx[TNV];
void col_setup(uint j, uint col) {
  if ((j & 3u) != 0u) return; // one setup per group of 4 (col is its first column)
  uint kk = pc.KH * pc.KW, r = col % kk, g = j >> 2;
  grp_ky[g] = int(r / pc.KW);
  grp_kx[g] = int(r % pc.KW);
  grp_off[g] = (col / kk) * pc.H * pc.W + uint(grp_kx[g]);
}

uint blk_dy; // n O HO WO + oy WO + ox0: row o's 4 values are at + o HO WO
uint blk_x;  // n C H W
int blk_y0, blk_x0; // oy SH - PH, ox0 SW - PW
void k_block(uint k0) {
  blk_dy = st_n * pc.O * pc.HO * pc.WO + st_oy * pc.WO + st_ox;
  blk_x = st_n * pc.C * pc.H * pc.W;
  blk_y0 = int(st_oy * pc.SH) - int(pc.PH);
  blk_x0 = int(st_ox * SW_) - int(pc.PW);
  st_ox += 4u;
  if (st_ox == pc.WO) {
    st_ox = 0;
    if (++st_oy == pc.HO) {
      st_oy = 0;
      st_n++;
    }
  }
}

vec4 a_k4(uint row, uint k0, uint i) {
  uint b = pc.a_off + blk_dy + row * pc.HO * pc.WO;
  if (VEC_A) return texelFetch(dy4, int(b >> 2));
  return vec4(texelFetch(dy1, int(b)).x, texelFetch(dy1, int(b + 1)).x,
              texelFetch(dy1, int(b + 2)).x, texelFetch(dy1, int(b + 3)).x);
}
float a_at(uint row, uint k, uint i) { return 0.0; } // no k tail: k_chunk % 4 == 0, k % 4 == 0

// bt[t][q] = x[n, c, iy, (ox0 + t) SW - PW + kx0 + q] = s[t SW + q].
void b_block4(uint k0, uint col4, uint jv, out vec4 bt[4]) {
  int iy = blk_y0 + grp_ky[jv], ix = blk_x0 + grp_kx[jv];
  bool row_in = uint(iy) < pc.H;
  uint base = pc.b_off + blk_x + grp_off[jv] + uint(iy) * pc.W + uint(blk_x0); // wraps if outside
  float s[SPAN];
  load_span(base, ix, row_in, pc.W, s);
  for (uint t = 0; t < 4; t++)
    bt[t] = vec4(s[t * SW_], s[t * SW_ + 1], s[t * SW_ + 2], s[t * SW_ + 3]);
}
float b_at(uint k, uint col, uint j) { return 0.0; }  // no k tail
vec4 b_cols4(uint k, uint col4) { return vec4(0.0); } // replaced by b_block4
#else
uint col_off[TN]; // c H W
int col_ky[TN], col_kx[TN];
void col_setup(uint j, uint col) {
  uint kk = pc.KH * pc.KW, r = col % kk;
  col_off[j] = (col / kk) * pc.H * pc.W;
  col_ky[j] = int(r / pc.KW);
  col_kx[j] = int(r % pc.KW);
}

uint k_dy[4];            // n O HO WO + oy WO + ox: the value of row o is at + o HO WO
uint k_x[4];             // n C H W
int k_y0[4], k_x0[4];    // oy SH - PH, ox SW - PW
void k_block(uint k0) {
  for (uint t = 0; t < 4; t++) {
    k_dy[t] = st_n * pc.O * pc.HO * pc.WO + st_oy * pc.WO + st_ox;
    k_x[t] = st_n * pc.C * pc.H * pc.W;
    k_y0[t] = int(st_oy * pc.SH) - int(pc.PH);
    k_x0[t] = int(st_ox * pc.SW) - int(pc.PW);
    if (++st_ox == pc.WO) {
      st_ox = 0;
      if (++st_oy == pc.HO) {
        st_oy = 0;
        st_n++;
      }
    }
  }
}

float a_at(uint row, uint k, uint i) {
  return texelFetch(dy1, int(pc.a_off + k_dy[k & 3u] + row * pc.HO * pc.WO)).x;
}
vec4 a_k4(uint row, uint k0, uint i) {
  return vec4(a_at(row, k0, i), a_at(row, k0 + 1, i), a_at(row, k0 + 2, i), a_at(row, k0 + 3, i));
}

float b_at(uint k, uint col, uint j) {
  uint t = k & 3u;
  int iy = k_y0[t] + col_ky[j], ix = k_x0[t] + col_kx[j];
  bool inside = uint(iy) < pc.H && uint(ix) < pc.W;
  uint idx = inside ? pc.b_off + k_x[t] + col_off[j] + uint(iy) * pc.W + uint(ix) : 0u;
  float v = texelFetch(x1, int(idx)).x;
  return inside ? v : 0.0;
}
vec4 b_k4(uint k0, uint col, uint j) {
  return vec4(b_at(k0, col, j), b_at(k0 + 1, col, j), b_at(k0 + 2, col, j), b_at(k0 + 3, col, j));
}

#endif

void c_store(uint row, uint col, uint j, float acc) {
  part[pc.y_off + (gl_WorkGroupID.z * pc.m + row) * pc.n + col] = acc;
}

#include "gemm_core.glsl"

void main() {
  gc_m = pc.m;
  gc_n = pc.n;
  k_begin = gl_WorkGroupID.z * pc.k_chunk;
  gc_k = min(pc.k_chunk, pc.k - k_begin);
  uint hw = pc.HO * pc.WO;
  st_n = k_begin / hw;
  st_oy = k_begin % hw / pc.WO;
  st_ox = k_begin % pc.WO;
  gemm_core(gl_WorkGroupID.xy);
}
