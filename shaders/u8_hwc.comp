#version 450
// dst[n, c0 + ch, p] = src byte (n hw + p) 3 + ch, times scale plus bias: uint8 H x W x 3 images
// (staging memory, read as 32-bit words) to channels c0..c0+2 of an NCHW tensor.
#include "elementwise.glsl"
layout(push_constant) uniform Push {
  uint src_off;  // first word of the images relative to the bound range
  uint dst_off;  // first float of channel c0 of sample 0
  uint count;    // pixels: samples x hw
  uint hw;       // pixels per image
  uint dst_stride; // floats between samples (C hw)
  float scale, bias;
} pc;
layout(std430, binding = 0) readonly buffer S { uint src[]; };
layout(std430, binding = 1) writeonly buffer D { float dst[]; };
float byte_at(uint b) { return float((src[pc.src_off + (b >> 2)] >> ((b & 3u) * 8u)) & 255u); }
void main() {
  uint i = ew_index();
  if (i >= pc.count) return;
  uint n = i / pc.hw, p = i % pc.hw;
  uint d = pc.dst_off + n * pc.dst_stride + p;
  for (uint ch = 0; ch < 3; ch++) {
    precise float v = byte_at(i * 3u + ch) * pc.scale + pc.bias;
    dst[d + ch * pc.hw] = v;
  }
}
