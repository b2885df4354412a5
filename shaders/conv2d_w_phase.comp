#version 450
// The weights of conv2d_bwd_data_phase.comp regrouped by phase: wp[phase, o, c, t] =
// w[o, c, ry + SH (t / 2), rx + SW (t % 2)] with phase = py SW + px, ry = (py + PH) % SH,
// rx = (px + PW) % SW, so that the 4 weights of a k-block are one RGBA32F texel (4 gathers each
// otherwise; the weights are small, the data gradient reads each of them N H W / (SH SW) times).
// Push constants: conv_push.glsl with a_off = w (texel index), y_off = wp (relative to the bound
// range), n = element count of wp.
#include "conv_push.glsl"
#include "elementwise.glsl"

layout(binding = 9) uniform samplerBuffer w1;
layout(std430, binding = 0) writeonly buffer WP { float wp[]; };

void main() {
  uint i = ew_index();
  if (i >= pc.n) return;
  uint t = i & 3u, c = (i >> 2) % pc.C, o = (i >> 2) / pc.C % pc.O, phase = (i >> 2) / pc.C / pc.O;
  uint py = phase / pc.SW, px = phase % pc.SW;
  uint ky = (py + pc.PH) % pc.SH + pc.SH * (t >> 1), kx = (px + pc.PW) % pc.SW + pc.SW * (t & 1u);
  wp[pc.y_off + i] = texelFetch(w1, int(pc.a_off + ((o * pc.C + c) * pc.KH + ky) * pc.KW + kx)).x;
}
