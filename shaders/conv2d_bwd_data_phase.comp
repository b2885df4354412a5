#version 450
// The data gradient of conv2d_bwd_data.comp for kernels of twice the stride (KH = 2 SH,
// KW = 2 SW: the encoder's 4 x 4 / 2), split by output phase so that no term is a miss.
//
// dx[n, c, iy, ix] = sum_(o, ky, kx) w[o, c, ky, kx] dy[n, o, (iy + PH - ky) / SH, (ix + PW - kx) / SW]
// over exact divisions only. With iy = py + SH a (phase py = gl_WorkGroupID.z / SW) only
// ky = ry + SH jy, ry = (py + PH) % SH, jy = 0, 1 divide exactly, and then
// (iy + PH - ky) / SH = (py + PH) / SH + a - jy; likewise along x. Each phase is a dense 2 x 2
// correlation of dy: an implicit GEMM with rows = c, columns = (n, a, b) of the phase, and
// k = (o, jy, jx), a k-block of 4 being one o. The generic shader tests divisibility per term and
// wastes 3 of 4 terms at stride 2 (0.7 GFLOP/s on conv0's data gradient on lavapipe).
//
// An invocation owns groups of 4 adjacent phase columns b0..b0+3 of one phase row (the host
// requires W / SW % 4 == 0): a k-block reads 2 dy rows x 5 floats, shared by the 16 terms, and one
// RGBA32F texel of weights per row (regrouped by conv2d_w_phase.comp; pc.a_off is their first
// float, a multiple of 4).
//
// VEC_S (specialisation constant 4, CPU devices, dy 16-byte aligned): one dispatch per phase
// column px = pc.k_chunk (gl_WorkGroupID.z is then py), so that the dy runs start D (constant 5)
// floats into an RGBA32F texel and are read as 2 texels per row (conv_span.glsl) instead of 5
// gathers.
#include "conv_push.glsl"
#include "gemm_spec.glsl"
layout(constant_id = 4) const bool VEC_S = false;
layout(constant_id = 5) const uint D = 3;
layout(binding = 11) uniform samplerBuffer dy4;
const uint SPAN = 5;
#define SPAN_T1 dy1
#define SPAN_T4 dy4

layout(binding = 8) uniform samplerBuffer wp4; // the weights by phase (conv2d_w_phase.comp)
layout(binding = 10) uniform samplerBuffer dy1;
#include "conv_span.glsl"
layout(std430, binding = 0) buffer DX { float dx[]; };
layout(std430, binding = 1) readonly buffer Bias { float bias[]; };

uint gc_m, gc_n, gc_k;
int q_y0, q_x0; // (py + PH) / SH, (px + PW) / SW
uint px_, py_;  // the phase
uint phase_;    // py SW + px

#define COL_HOOK
#define K_HOOK
#define B_N4
#define B_BLOCK4
uint grp_dy[TNV];  // dy index of (n, o = 0, qy, qx0), qy = q_y0 + a, qx0 = q_x0 + b0
int grp_qy[TNV];
int grp_qx[TNV];
uint grp_out[TNV]; // dx index of (n, c = 0, iy, ix0) relative to the bound range
void col_setup(uint j, uint col) {
  if ((j & 3u) != 0u) return; // one setup per group of 4 (col is its first column)
  uint hp = pc.H / pc.SH, wp = pc.W / pc.SW, hwp = hp * wp;
  uint nn = col / hwp, r = col % hwp, a = r / wp, b = r % wp, g = j >> 2;
  grp_qy[g] = q_y0 + int(a);
  grp_qx[g] = q_x0 + int(b);
  grp_dy[g] = pc.b_off + nn * pc.O * pc.HO * pc.WO + uint(grp_qy[g]) * pc.WO + uint(grp_qx[g]);
  grp_out[g] = pc.y_off + nn * pc.C * pc.H * pc.W + (py_ + pc.SH * a) * pc.W + px_ + pc.SW * b;
}

uint st_o;      // o of the next k-block
uint blk_w;     // texel of (phase, o, c = 0) in wp4
uint blk_dy;    // o HO WO
void k_block(uint k0) {
  blk_w = (pc.a_off >> 2) + (phase_ * pc.O + st_o) * pc.C;
  blk_dy = st_o * pc.HO * pc.WO;
  st_o++;
}

vec4 a_k4(uint row, uint k0, uint i) { return texelFetch(wp4, int(blk_w + row)); }
float a_at(uint row, uint k, uint i) { return 0.0; } // no k tail: k = 4 O

// bt[2 jy + jx][q] = dy[n, o, qy - jy, qx0 + q - jx]: row jy's span qx0 - 1 .. qx0 + 3.
void b_block4(uint k0, uint col4, uint jv, out vec4 bt[4]) {
  for (uint jy = 0; jy < 2; jy++) {
    int oy = grp_qy[jv] - int(jy);
    bool row_in = uint(oy) < pc.HO;
    uint base = grp_dy[jv] + blk_dy - jy * pc.WO - 1u; // may wrap: only read when inside
    float s[5];
    load_span(base, grp_qx[jv] - 1, row_in, pc.WO, s);
    bt[2 * jy] = vec4(s[1], s[2], s[3], s[4]);
    bt[2 * jy + 1] = vec4(s[0], s[1], s[2], s[3]);
  }
}
float b_at(uint k, uint col, uint j) { return 0.0; }  // no k tail
vec4 b_cols4(uint k, uint col4) { return vec4(0.0); } // replaced by b_block4

void c_store(uint row, uint col, uint j, float acc) {
  uint idx = grp_out[j >> 2] + row * pc.H * pc.W + pc.SW * (j & 3u);
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
  phase_ = VEC_S ? gl_WorkGroupID.z * pc.SW + pc.k_chunk : gl_WorkGroupID.z;
  py_ = phase_ / pc.SW;
  px_ = phase_ % pc.SW;
  q_y0 = int((py_ + pc.PH) / pc.SH);
  q_x0 = int((px_ + pc.PW) / pc.SW);
  // Several column tiles per workgroup, as conv2d_fwd.comp.
  for (uint tx = gl_WorkGroupID.x; tx < pc.tiles_x; tx += gl_NumWorkGroups.x) {
    st_o = 0u;
    gemm_core(uvec2(tx, gl_WorkGroupID.y));
  }
}
