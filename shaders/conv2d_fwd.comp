#version 450
// y[n, o, p] = sum_(c, ky, kx) w[o, c, ky, kx] x[n, c, window(p) + (ky, kx)] + bias[o] + beta y:
// an implicit GEMM (no im2col buffer) with rows = o, columns = (n, p) so that small feature maps
// still fill the workgroups, and k = (c, ky, kx). Weights are read as RGBA32F texels when VEC_A
// (C KH KW % 4 == 0 and aligned), the input gathered with a zero for padding.
#include "conv_push.glsl"
#include "gemm_spec.glsl"

layout(binding = 8) uniform samplerBuffer w4;
layout(binding = 9) uniform samplerBuffer w1;
layout(binding = 10) uniform samplerBuffer x1;
layout(std430, binding = 0) buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer Bias { float bias[]; };

uint gc_m, gc_n, gc_k;

// A = w [O, C KH KW], row-major.
float a_at(uint row, uint k, uint i) { return texelFetch(w1, int(pc.a_off + row * pc.k + k)).x; }
#if VEC_A
vec4 a_k4(uint row, uint k0, uint i) { return texelFetch(w4, int((pc.a_off + row * pc.k + k0) >> 2)); }
#else
vec4 a_k4(uint row, uint k0, uint i) {
  uint b = pc.a_off + row * pc.k + k0;
  return vec4(texelFetch(w1, int(b)).x, texelFetch(w1, int(b + 1)).x, texelFetch(w1, int(b + 2)).x,
              texelFetch(w1, int(b + 3)).x);
}
#endif

// B = the input seen through the window of column (n, oy, ox).
#define COL_HOOK
#define K_HOOK
uint col_base[TN]; // first float of sample n in x
int col_y0[TN];    // oy * SH - PH
int col_x0[TN];    // ox * SW - PW
void col_setup(uint j, uint col) {
  uint hw = pc.HO * pc.WO, p = col % hw;
  col_base[j] = pc.b_off + (col / hw) * pc.C * pc.H * pc.W;
  col_y0[j] = int(p / pc.WO * pc.SH) - int(pc.PH);
  col_x0[j] = int(p % pc.WO * pc.SW) - int(pc.PW);
}

uint st_c, st_ky, st_kx; // (c, ky, kx) of the next k
uint k_off[4];           // c H W + ky W + kx for k0 + t
int k_y[4], k_x[4];      // ky, kx for k0 + t
void k_block(uint k0) {
  for (uint t = 0; t < 4; t++) {
    k_off[t] = (st_c * pc.H + st_ky) * pc.W + st_kx;
    k_y[t] = int(st_ky);
    k_x[t] = int(st_kx);
    if (++st_kx == pc.KW) {
      st_kx = 0;
      if (++st_ky == pc.KH) {
        st_ky = 0;
        st_c++;
      }
    }
  }
}

float b_at(uint k, uint col, uint j) {
  uint t = k & 3u;
  int iy = col_y0[j] + k_y[t], ix = col_x0[j] + k_x[t];
  bool inside = uint(iy) < pc.H && uint(ix) < pc.W;
  uint idx = inside ? col_base[j] + k_off[t] + uint(col_y0[j]) * pc.W + uint(col_x0[j]) : 0u;
  float v = texelFetch(x1, int(idx)).x;
  return inside ? v : 0.0;
}
vec4 b_k4(uint k0, uint col, uint j) {
  return vec4(b_at(k0, col, j), b_at(k0 + 1, col, j), b_at(k0 + 2, col, j), b_at(k0 + 3, col, j));
}

void c_store(uint row, uint col, float acc) {
  uint hw = pc.HO * pc.WO;
  uint idx = pc.y_off + ((col / hw) * pc.O + row) * hw + col % hw;
  float v = acc;
  if (pc.has_bias != 0u) v += bias[pc.bias_off + row];
  if (pc.beta != 0.0) v += pc.beta * y[idx];
  y[idx] = v;
}

#include "gemm_core.glsl"

void main() {
  gc_m = pc.m;
  gc_n = pc.n;
  gc_k = pc.k;
  st_c = st_ky = st_kx = 0u;
  gemm_core(gl_WorkGroupID.xy);
}
