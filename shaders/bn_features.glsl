// Shared by bn_features_fwd.comp and bn_features_bwd.comp: an invocation owns one channel (VEC 0)
// or 4 consecutive channels (VEC 1: C and every offset a multiple of 4), whose column it walks.
// In the VEC variant each row of the 4 columns is one RGBA32F texel and the arithmetic runs on
// vec4s: on lavapipe a texel fetch is a gather whatever its width, and the [640, 128] backward
// took ~430 us per dispatch with a float per fetch.
#if VEC
#define T       vec4
#define CH      4u
#define AT(tex, off, i) texelFetch(tex##4, int(((off) + (i)) >> 2))
#define PV(name, off, c) name##4[((off) + (c)) >> 2]
#define PV_DECL(b, q, name) layout(std430, binding = b) q buffer name##_b { vec4 name##4[]; };
#define POS(v)  greaterThan((v), vec4(0.0))
#else
#define T       float
#define CH      1u
#define AT(tex, off, i) texelFetch(tex##1, int((off) + (i))).x
#define PV(name, off, c) name##1[(off) + (c)]
#define PV_DECL(b, q, name) layout(std430, binding = b) q buffer name##_b { float name##1[]; };
#define POS(v)  ((v) > 0.0)
#endif
// The texel views of an input: RGBA32F at binding b, R32F at b + 1 (absolute offsets).
#define TEX_DECL(b, name)                                                                          \
  layout(binding = b) uniform samplerBuffer name##4;                                               \
  layout(binding = b + 1) uniform samplerBuffer name##1;

layout(local_size_x = 8) in;

// The first channel of this invocation, or C when it has none.
uint bn_channel(uint C) {
  uint c = gl_GlobalInvocationID.x * CH;
  return c < C ? c : C;
}
