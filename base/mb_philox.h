/* Philox4x32-10 counter-based random numbers (Salmon et al., SC'11). The same (seed, stream, index)
 * gives the same numbers in C here and in shaders/philox.glsl, so both compute backends draw
 * identical samples and a run is reproducible whatever the thread count.
 *
 * Element i of stream s under seed k: block = i / 4 gives the counter {block_lo, block_hi, s, 0},
 * lane = i % 4 picks one of the four 32-bit outputs. */
#ifndef MB_PHILOX_H
#define MB_PHILOX_H

#include <math.h>
#include <stdint.h>

#define MB_PHILOX_M0 0xD2511F53u
#define MB_PHILOX_M1 0xCD9E8D57u
#define MB_PHILOX_W0 0x9E3779B9u
#define MB_PHILOX_W1 0xBB67AE85u

typedef struct mb_philox_out {
  uint32_t v[4];
} mb_philox_out;

static inline mb_philox_out mb_philox4x32(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3,
                                          uint32_t k0, uint32_t k1) {
  for (int r = 0; r < 10; r++) {
    uint64_t p0 = (uint64_t)MB_PHILOX_M0 * c0;
    uint64_t p1 = (uint64_t)MB_PHILOX_M1 * c2;
    uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 += MB_PHILOX_W0;
    k1 += MB_PHILOX_W1;
  }
  mb_philox_out o = {{c0, c1, c2, c3}};
  return o;
}

/* The 32-bit word number `index` of stream `stream`. */
static inline uint32_t mb_philox_u32(uint64_t seed, uint32_t stream, uint64_t index) {
  uint64_t block = index >> 2;
  mb_philox_out o = mb_philox4x32((uint32_t)block, (uint32_t)(block >> 32), stream, 0,
                                  (uint32_t)seed, (uint32_t)(seed >> 32));
  return o.v[index & 3];
}

/* Uniform in [0, 1) with 24 random bits: exactly representable, identical on every backend. */
static inline float mb_u32_to_unit(uint32_t x) {
  return (float)(x >> 8) * (1.0f / 16777216.0f);
}

/* Uniform in (0, 1]: safe for log(). */
static inline float mb_u32_to_unit_open(uint32_t x) {
  return ((float)(x >> 8) + 1.0f) * (1.0f / 16777216.0f);
}

static inline float mb_philox_uniform(uint64_t seed, uint32_t stream, uint64_t index) {
  return mb_u32_to_unit(mb_philox_u32(seed, stream, index));
}

/* Standard normal number `index` of the stream, by Box-Muller on the word pairs (0,1) and (2,3) of
 * a block: even lanes take the cosine, odd lanes the sine. Transcendentals make the last bit differ
 * between libm and GLSL; the backends agree to about 1e-6 relative. */
static inline float mb_philox_normal(uint64_t seed, uint32_t stream, uint64_t index) {
  uint64_t block = index >> 2;
  mb_philox_out o = mb_philox4x32((uint32_t)block, (uint32_t)(block >> 32), stream, 0,
                                  (uint32_t)seed, (uint32_t)(seed >> 32));
  unsigned pair = (unsigned)(index & 3) >> 1;
  float u1 = mb_u32_to_unit_open(o.v[2 * pair]);
  float u2 = mb_u32_to_unit(o.v[2 * pair + 1]);
  float r = sqrtf(-2.0f * logf(u1));
  float theta = 6.2831853071795864f * u2;
  return (index & 1) ? r * sinf(theta) : r * cosf(theta);
}

/* A sequential generator for CPU-side code that just needs a stream of numbers (random policy,
 * goal sampling): state is (seed, stream, next index). */
typedef struct mb_rng {
  uint64_t seed;   /* key */
  uint32_t stream; /* independent stream id */
  uint64_t index;  /* next element */
} mb_rng;

static inline mb_rng mb_rng_make(uint64_t seed, uint32_t stream) {
  mb_rng r = {seed, stream, 0};
  return r;
}
static inline float mb_rng_uniform(mb_rng *r) {
  return mb_philox_uniform(r->seed, r->stream, r->index++);
}
static inline float mb_rng_normal(mb_rng *r) {
  return mb_philox_normal(r->seed, r->stream, r->index++);
}
static inline uint32_t mb_rng_u32(mb_rng *r) {
  return mb_philox_u32(r->seed, r->stream, r->index++);
}
/* Uniform integer in [0, n), n > 0 (tiny modulo bias is irrelevant at our sizes). */
static inline uint32_t mb_rng_below(mb_rng *r, uint32_t n) {
  return mb_rng_u32(r) % n;
}

#endif
