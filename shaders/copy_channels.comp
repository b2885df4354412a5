#version 450
// For each sample n: dst[n, run] = src[n, run] + beta dst[n, run], the runs being nc channels of
// h x w (the first channels' offsets folded into the offsets). vec: run and strides multiples of 4.
#include "ew.glsl"
layout(push_constant) uniform Push {
  uint src_off, dstin_off, dst_off; // first float of sample 0's run
  uint count, run;             // total floats, floats per sample
  uint src_stride, dst_stride;      // floats between samples
  float beta;
} pc;
EW_IN(0) // src
EW_IN(1) // dst (read when beta != 0)
EW_OUT(0, dst)
void main() {
  EW_FOR_EACH(pc.count) {
    if (EW_VEC != 0u && e + 3u < pc.count) {
      uint n = e / pc.run, j = e % pc.run;
      vec4 v = texelFetch(in4_0, int((pc.src_off + n * pc.src_stride + j) >> 2));
      if (pc.beta != 0.0)
        v += pc.beta * texelFetch(in4_1, int((pc.dstin_off + n * pc.dst_stride + j) >> 2));
      dst4[(pc.dst_off + n * pc.dst_stride + j) >> 2] = v;
    } else {
      for (uint i = e; i < e + 4u && i < pc.count; i++) {
        uint n = i / pc.run, j = i % pc.run;
        float v = EW_AT(0, pc.src_off + n * pc.src_stride + j);
        if (pc.beta != 0.0) v += pc.beta * EW_AT(1, pc.dstin_off + n * pc.dst_stride + j);
        dst1[pc.dst_off + n * pc.dst_stride + j] = v;
      }
    }
  }
}
