#version 450
// For each sample n: dst[n, run] = src[n, run] + beta dst[n, run], the runs being nc channels of
// h x w (the offsets of the first channels are folded into src_off and dst_off).
#include "elementwise.glsl"
layout(push_constant) uniform Push {
  uint src_off, dst_off; // first float of sample 0's run
  uint count, run;       // total floats, floats per sample
  uint src_stride, dst_stride; // floats between samples
  float beta;
} pc;
layout(std430, binding = 0) readonly buffer S { float src[]; };
layout(std430, binding = 1) buffer D { float dst[]; };
void main() {
  uint i = ew_index();
  if (i >= pc.count) return;
  uint n = i / pc.run, j = i % pc.run;
  uint d = pc.dst_off + n * pc.dst_stride + j;
  float v = src[pc.src_off + n * pc.src_stride + j];
  if (pc.beta != 0.0) v += pc.beta * dst[d];
  dst[d] = v;
}
