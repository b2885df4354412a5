#version 450
// dx[n, c, iy, ix] = sum_(o, ky, kx) w[o, c, ky, kx] dy[n, o, (iy + PH - ky) / SH, (ix + PW - kx) / SW]
// over the terms where the divisions are exact and in range, + bias[c] + beta dx. (Also the
// forward pass of a transposed convolution.) An implicit GEMM: rows = c, columns = (n, iy, ix),
// k = (o, ky, kx). Divisibility is tested with per-column and per-k quotient/remainder pairs kept
// incrementally, so the inner loop never divides.
#include "conv_push.glsl"
#include "gemm_spec.glsl"

layout(binding = 9) uniform samplerBuffer w1;
layout(binding = 10) uniform samplerBuffer dy1;
layout(std430, binding = 0) buffer DX { float dx[]; };
layout(std430, binding = 1) readonly buffer Bias { float bias[]; };

uint gc_m, gc_n, gc_k;

#define COL_HOOK
#define K_HOOK
uint col_base[TN];         // first float of sample n in dy
uint col_out[TN];          // dx index of (n, channel 0, p) relative to the bound range
uint col_qy[TN], col_ry[TN]; // (iy + PH) / SH, (iy + PH) % SH
uint col_qx[TN], col_rx[TN];
void col_setup(uint j, uint col) {
  uint hw = pc.H * pc.W, p = col % hw;
  uint ty = p / pc.W + pc.PH, tx = p % pc.W + pc.PW;
  col_base[j] = pc.b_off + (col / hw) * pc.O * pc.HO * pc.WO;
  col_out[j] = pc.y_off + (col / hw) * pc.C * hw + p;
  col_qy[j] = ty / pc.SH;
  col_ry[j] = ty % pc.SH;
  col_qx[j] = tx / pc.SW;
  col_rx[j] = tx % pc.SW;
}

uint st_o, st_ky, st_kx, st_qy, st_ry, st_qx, st_rx; // k = (o, ky, kx) and ky, kx split by stride
uint k_w[4];            // o C KH KW + ky KW + kx: the weight of row c is at + c KH KW
uint k_dy[4];           // o HO WO
uint k_qy[4], k_ry[4], k_qx[4], k_rx[4];
void k_block(uint k0) {
  for (uint t = 0; t < 4; t++) {
    k_w[t] = st_o * pc.C * pc.KH * pc.KW + st_ky * pc.KW + st_kx;
    k_dy[t] = st_o * pc.HO * pc.WO;
    k_qy[t] = st_qy;
    k_ry[t] = st_ry;
    k_qx[t] = st_qx;
    k_rx[t] = st_rx;
    st_kx++;
    if (++st_rx == pc.SW) st_rx = 0, st_qx++;
    if (st_kx == pc.KW) {
      st_kx = st_qx = st_rx = 0;
      st_ky++;
      if (++st_ry == pc.SH) st_ry = 0, st_qy++;
      if (st_ky == pc.KH) {
        st_ky = st_qy = st_ry = 0;
        st_o++;
      }
    }
  }
}

float a_at(uint row, uint k, uint i) {
  return texelFetch(w1, int(pc.a_off + k_w[k & 3u] + row * pc.KH * pc.KW)).x;
}
vec4 a_k4(uint row, uint k0, uint i) {
  return vec4(a_at(row, k0, i), a_at(row, k0 + 1, i), a_at(row, k0 + 2, i), a_at(row, k0 + 3, i));
}

float b_at(uint k, uint col, uint j) {
  uint t = k & 3u;
  int oy = int(col_qy[j]) - int(k_qy[t]), ox = int(col_qx[j]) - int(k_qx[t]);
  bool hit = col_ry[j] == k_ry[t] && col_rx[j] == k_rx[t] && uint(oy) < pc.HO && uint(ox) < pc.WO;
  uint idx = hit ? col_base[j] + k_dy[t] + uint(oy) * pc.WO + uint(ox) : 0u;
  float v = texelFetch(dy1, int(idx)).x;
  return hit ? v : 0.0;
}
vec4 b_k4(uint k0, uint col, uint j) {
  return vec4(b_at(k0, col, j), b_at(k0 + 1, col, j), b_at(k0 + 2, col, j), b_at(k0 + 3, col, j));
}

void c_store(uint row, uint col, uint j, float acc) {
  uint idx = col_out[j] + row * pc.H * pc.W;
  float v = acc;
  if (pc.has_bias != 0u) v += bias[pc.bias_off + row];
  if (pc.beta != 0.0) v += pc.beta * dx[idx];
  dx[idx] = v;
}

#include "gemm_core.glsl"

void main() {
  gc_m = pc.m;
  gc_n = pc.n;
  gc_k = pc.k;
  // Several column tiles per workgroup, as conv2d_fwd.comp.
  for (uint tx = gl_WorkGroupID.x; tx < pc.tiles_x; tx += gl_NumWorkGroups.x) {
    st_o = st_ky = st_kx = st_qy = st_ry = st_qx = st_rx = 0u;
    gemm_core(uvec2(tx, gl_WorkGroupID.y));
  }
}
