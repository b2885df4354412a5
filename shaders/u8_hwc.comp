#version 450
// dst[n, c0 + ch, p] = src byte (n hw + p) 3 + ch, times scale plus bias: uint8 H x W x 3 images
// (staging memory, read as 32-bit words) to channels c0..c0+2 of an NCHW tensor. An invocation
// converts 4 pixels. VEC (specialisation constant 0: hw and channel c0's offset multiples of 4):
// their 12 bytes are 3 aligned words and each channel's 4 values one vec4 store; on lavapipe every
// storage-buffer access is a loop over the SIMD lanes, so this is 6 accesses instead of 24.
#include "elementwise.glsl"
layout(constant_id = 0) const bool VEC = false;
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
layout(std430, binding = 1) writeonly buffer D4 { vec4 dst4[]; };
float byte_at(uint b) { return float((src[pc.src_off + (b >> 2)] >> ((b & 3u) * 8u)) & 255u); }

void main() {
  uint i0 = ew_index() * 4u;
  if (i0 >= pc.count) return;
  uint n = i0 / pc.hw, p = i0 % pc.hw;
  uint d = pc.dst_off + n * pc.dst_stride + p;
  if (VEC) {
    uint w = pc.src_off + i0 / 4u * 3u; // pixel i0's first byte is word 3 i0 / 4
    uint u[3] = uint[3](src[w], src[w + 1u], src[w + 2u]);
    float b[12];
    for (uint k = 0; k < 12; k++) b[k] = float((u[k >> 2] >> ((k & 3u) * 8u)) & 255u);
    for (uint ch = 0; ch < 3; ch++) {
      precise vec4 v = vec4(b[ch], b[3 + ch], b[6 + ch], b[9 + ch]) * pc.scale + pc.bias;
      dst4[(d + ch * pc.hw) >> 2] = v;
    }
  } else {
    for (uint i = i0; i < i0 + 4u && i < pc.count; i++) {
      n = i / pc.hw;
      p = i % pc.hw;
      d = pc.dst_off + n * pc.dst_stride + p;
      for (uint ch = 0; ch < 3; ch++) {
        precise float v = byte_at(i * 3u + ch) * pc.scale + pc.bias;
        dst[d + ch * pc.hw] = v;
      }
    }
  }
}
