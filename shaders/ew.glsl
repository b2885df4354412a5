// Vectorised elementwise shaders. 64 invocations per workgroup (a 2-D grid when the count needs
// more than maxComputeWorkGroupCount[0] groups; the host fills x first); each invocation handles
// EW_GROUPS runs of 4 consecutive elements.
//
// On llvmpipe a storage-buffer load that differs per invocation becomes a loop over the SIMD lanes
// with a bounds check per element, while a texel fetch becomes a gather; vec4 accesses amortise the
// per-access overhead. Measured on 1.6 M floats (leaky ReLU, lavapipe, 2 cores): one float per
// invocation through storage buffers 9.3 ms of CPU; vec4 storage loads and stores 4.0 ms; texel
// vec4 loads with vec4 stores 2.8 ms; the same with 16 floats per invocation 1.9 ms.
//
// So inputs are read through texel views (input i: RGBA32F at binding 8 + 2i, R32F at 9 + 2i; the
// offset is the tensor's first float in its block) and outputs written through a storage buffer
// seen as float and vec4 arrays on one binding (offset relative to the bound range). With EW_VEC
// (specialisation constant 0: every offset a multiple of 4 floats) whole vec4s are read and
// written; otherwise element by element. Elements past the end are never stored; reads past it
// repeat the last element. EW_VEC is a specialisation constant and not a push constant because
// llvmpipe runs both sides of a branch under a mask, uniform or not: a runtime flag made the
// vector path pay for the scalar one too.
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint EW_VEC = 0;
const uint EW_GROUPS = 4;

// First element of this invocation's EW_GROUPS x 4 elements.
uint ew_first() {
  return (gl_GlobalInvocationID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x * 64u) * (4u * EW_GROUPS);
}

#define EW_IN(i)                                                                                   \
  layout(binding = 8 + 2 * i) uniform samplerBuffer in4_##i;                                       \
  layout(binding = 9 + 2 * i) uniform samplerBuffer in1_##i;

// One element of input i.
#define EW_AT(i, idx) texelFetch(in1_##i, int(idx)).x

// Elements e..e+3 (e % 4 == 0) of input i whose first float is at off; `last` is the last valid
// element index.
#define EW_LOAD(i, off, e, last)                                                                   \
  (EW_VEC != 0u ? texelFetch(in4_##i, int(((off) + (e)) >> 2))                                     \
                : vec4(EW_AT(i, (off) + min((e), (last))), EW_AT(i, (off) + min((e) + 1u, (last))), \
                       EW_AT(i, (off) + min((e) + 2u, (last))),                                    \
                       EW_AT(i, (off) + min((e) + 3u, (last)))))

#define EW_OUT(b, name)                                                                            \
  layout(std430, binding = b) writeonly buffer name##_f { float name##1[]; };                     \
  layout(std430, binding = b) writeonly buffer name##_v { vec4 name##4[]; };

// Stores v to elements e..e+3 (those below count) of output `name` at off.
#define EW_STORE(name, off, e, count, v)                                                           \
  {                                                                                                \
    vec4 v_ = (v);                                                                                 \
    if (EW_VEC != 0u && (e) + 3u < (count))                                                        \
      name##4[((off) + (e)) >> 2] = v_;                                                            \
    else                                                                                           \
      for (uint q_ = 0u; q_ < 4u; q_++)                                                            \
        if ((e) + q_ < (count)) name##1[(off) + (e) + q_] = v_[q_];                                \
  }

// The loop every elementwise main() runs: BODY sees e, the first of 4 elements.
#define EW_FOR_EACH(count)                                                                         \
  for (uint g_ = 0u, e = ew_first(); g_ < EW_GROUPS && e < (count); g_++, e += 4u)
