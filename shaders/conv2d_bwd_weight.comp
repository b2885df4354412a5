#version 450
// Partial weight gradients: part[z, o, (c, ky, kx)] = sum over k = (n, oy, ox) in slice z of
// dy[n, o, oy, ox] x[n, c, oy SH - PH + ky, ox SW - PW + kx]. The reduction (N HO WO) is long and
// the output small, so it is split over gl_WorkGroupID.z (k_chunk each) and the slices are summed
// by reduce.comp afterwards. An implicit GEMM: rows = o, columns = (c, ky, kx).
#include "conv_push.glsl"
#include "gemm_spec.glsl"

layout(binding = 9) uniform samplerBuffer dy1;
layout(binding = 10) uniform samplerBuffer x1;
layout(std430, binding = 0) writeonly buffer Part { float part[]; };

uint gc_m, gc_n, gc_k, k_begin;

#define COL_HOOK
#define K_HOOK
uint col_off[TN]; // c H W
int col_ky[TN], col_kx[TN];
void col_setup(uint j, uint col) {
  uint kk = pc.KH * pc.KW, r = col % kk;
  col_off[j] = (col / kk) * pc.H * pc.W;
  col_ky[j] = int(r / pc.KW);
  col_kx[j] = int(r % pc.KW);
}

uint st_n, st_oy, st_ox; // (n, oy, ox) of the next k
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
