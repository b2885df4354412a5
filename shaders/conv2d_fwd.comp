#version 450
// y[n, o, p] = act(sum_(c, ky, kx) w[o, c, ky, kx] x[n, c, window(p) + (ky, kx)] + bias[o] + beta y)
// (act: epilogue.glsl):
// an implicit GEMM (no im2col buffer) with rows = o, columns = (n, p) so that small feature maps
// still fill the workgroups, and k = (c, ky, kx). Weights are read as RGBA32F texels when VEC_A
// (specialisation constant 5: C KH KW % 4 == 0 and aligned), the input gathered with a zero for
// padding.
//
// N4 (KW % 4 == 0, WO % 4 == 0, output aligned): an invocation owns groups of 4 adjacent output
// pixels of one row, and a k-block of 4 is (c, ky, kx0..kx0+3). The 4 x 4 inputs such a block needs
// lie on one input row, in a span of 3 SW + 4 floats, read once and shared (10 reads instead of 16
// at stride 2), and the 4 results are stored as one vec4. SW is specialisation constant 4.
#include "conv_push.glsl"
#include "gemm_spec.glsl"
#include "epilogue.glsl"
layout(constant_id = 5) const bool VEC_A = false;

layout(binding = 8) uniform samplerBuffer w4;
layout(binding = 11) uniform samplerBuffer x4;
layout(binding = 9) uniform samplerBuffer w1;
layout(binding = 10) uniform samplerBuffer x1;
layout(std430, binding = 0) buffer Y { float y[]; };
layout(std430, binding = 0) buffer Y4 { vec4 y4[]; };
layout(std430, binding = 1) readonly buffer Bias { float bias[]; };

uint gc_m, gc_n, gc_k;

// A = w [O, C KH KW], row-major.
float a_at(uint row, uint k, uint i) { return texelFetch(w1, int(pc.a_off + row * pc.k + k)).x; }
vec4 a_k4(uint row, uint k0, uint i) {
  uint b = pc.a_off + row * pc.k + k0;
  if (VEC_A) return texelFetch(w4, int(b >> 2));
  return vec4(texelFetch(w1, int(b)).x, texelFetch(w1, int(b + 1)).x, texelFetch(w1, int(b + 2)).x,
              texelFetch(w1, int(b + 3)).x);
}

#define COL_HOOK
#define K_HOOK
uint st_c, st_ky, st_kx; // (c, ky, kx) of the next k

#if N4
#define B_N4
#define B_BLOCK4
#define C_STORE4
layout(constant_id = 4) const uint SW_ = 2;
// VEC_S, D: see conv_span.glsl; here D = -PW mod 4 (the span starts at ox0 SW - PW + kx0).
layout(constant_id = 6) const bool VEC_S = false;
layout(constant_id = 7) const uint D = 3;
const uint SPAN = 3 * SW_ + 4;
#define SPAN_T1 x1
#define SPAN_T4 x4
#include "conv_span.glsl"
uint grp_base[TNV]; // first float of sample n in x
uint grp_out[TNV];  // output index of (n, row 0, p0) relative to the bound range
int grp_y0[TNV];    // oy * SH - PH
int grp_x0[TNV];    // ox0 * SW - PW
void col_setup(uint j, uint col) {
  if ((j & 3u) != 0u) return; // one setup per group of 4 (col is its first column)
  uint hw = pc.HO * pc.WO, p = col % hw, g = j >> 2;
  grp_base[g] = pc.b_off + (col / hw) * pc.C * pc.H * pc.W;
  grp_out[g] = pc.y_off + (col / hw) * pc.O * hw + p;
  grp_y0[g] = int(p / pc.WO * pc.SH) - int(pc.PH);
  grp_x0[g] = int(p % pc.WO * SW_) - int(pc.PW);
}
uint blk_off; // c H W + ky W + kx0 of the current k-block
int blk_ky, blk_kx;
void k_block(uint k0) {
  blk_off = (st_c * pc.H + st_ky) * pc.W + st_kx;
  blk_ky = int(st_ky);
  blk_kx = int(st_kx);
  st_kx += 4u;
  if (st_kx == pc.KW) {
    st_kx = 0;
    if (++st_ky == pc.KH) {
      st_ky = 0;
      st_c++;
    }
  }
}
void b_block4(uint k0, uint col4, uint jv, out vec4 bt[4]) {
  int iy = grp_y0[jv] + blk_ky, ix = grp_x0[jv] + blk_kx;
  bool row_in = uint(iy) < pc.H;
  uint base = grp_base[jv] + blk_off + uint(grp_y0[jv]) * pc.W + uint(grp_x0[jv]);
  float s[SPAN];
  load_span(base, ix, row_in, pc.W, s);
  for (uint t = 0; t < 4; t++) bt[t] = vec4(s[t], s[SW_ + t], s[2 * SW_ + t], s[3 * SW_ + t]);
}
float b_at(uint k, uint col, uint j) { return 0.0; } // no k tail: C KH KW % 4 == 0
vec4 b_cols4(uint k, uint col4) { return vec4(0.0); }  // replaced by b_block4
void c_store4(uint row, uint col4, uint jv, vec4 acc) {
  if (pc.has_bias == 2u) return;
  uint idx = grp_out[jv] + row * pc.HO * pc.WO;
  if (pc.has_bias == 3u) { y4[idx >> 2] = acc; return; }
  vec4 v = acc;
  if (pc.has_bias != 0u) v += bias[pc.bias_off + row];
  if (pc.beta != 0.0) v += pc.beta * y4[idx >> 2];
  y4[idx >> 2] = epi_act4(v, pc.act_alpha);
}
#else
// B = the input seen through the window of column (n, oy, ox).
uint col_base[TN]; // first float of sample n in x
uint col_out[TN];  // output index of (n, row 0, p) relative to the bound range
int col_y0[TN];    // oy * SH - PH
int col_x0[TN];    // ox * SW - PW
void col_setup(uint j, uint col) {
  uint hw = pc.HO * pc.WO, p = col % hw;
  col_base[j] = pc.b_off + (col / hw) * pc.C * pc.H * pc.W;
  col_out[j] = pc.y_off + (col / hw) * pc.O * hw + p;
  col_y0[j] = int(p / pc.WO * pc.SH) - int(pc.PH);
  col_x0[j] = int(p % pc.WO * pc.SW) - int(pc.PW);
}

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
#endif

#if N4
// Stores of partial groups (the last columns): rare, so the division is fine here.
uint out_index(uint row, uint col, uint j) {
  uint hw = pc.HO * pc.WO;
  return pc.y_off + ((col / hw) * pc.O + row) * hw + col % hw;
}
#else
uint out_index(uint row, uint col, uint j) { return col_out[j] + row * pc.HO * pc.WO; }
#endif
void c_store(uint row, uint col, uint j, float acc) {
  uint idx = out_index(row, col, j);
  float v = acc;
  if (pc.has_bias != 0u) v += bias[pc.bias_off + row];
  if (pc.beta != 0.0) v += pc.beta * y[idx];
  y[idx] = epi_act(v, pc.act_alpha);
}

#include "gemm_core.glsl"

void main() {
  gc_m = pc.m;
  gc_n = pc.n;
  gc_k = pc.k;
  // A workgroup walks several column tiles: llvmpipe sets up each workgroup at a cost that grows
  // with the shader's per-invocation state (~10 ms of CPU over conv1's 3200 workgroups at batch
  // 200), and these shaders' k loops are short.
  for (uint tx = gl_WorkGroupID.x; tx < pc.tiles_x; tx += gl_NumWorkGroups.x) {
    st_c = st_ky = st_kx = 0u;
    gemm_core(uvec2(tx, gl_WorkGroupID.y));
  }
}
