// Philox4x32-10, exactly base/mb_philox.h: element `index` of stream `stream` under a 64-bit seed
// is word index % 4 of the block counter {index / 4 (64-bit), stream, 0}. 64-bit values travel as
// (lo, hi) pairs so that no shaderInt64 is needed.
uvec4 philox4x32(uvec4 ctr, uvec2 key) {
  for (int r = 0; r < 10; r++) {
    uint hi0, lo0, hi1, lo1;
    umulExtended(0xD2511F53u, ctr.x, hi0, lo0);
    umulExtended(0xCD9E8D57u, ctr.z, hi1, lo1);
    ctr = uvec4(hi1 ^ ctr.y ^ key.x, lo1, hi0 ^ ctr.w ^ key.y, lo0);
    key += uvec2(0x9E3779B9u, 0xBB67AE85u);
  }
  return ctr;
}

// index0 + i as (lo, hi) with carry.
uvec2 philox_index(uvec2 index0, uint i) {
  uint carry;
  uint lo = uaddCarry(index0.x, i, carry);
  return uvec2(lo, index0.y + carry);
}

// The four words of the block holding element `index`.
uvec4 philox_block(uvec2 seed, uint stream, uvec2 index) {
  uvec2 block = uvec2((index.x >> 2) | (index.y << 30), index.y >> 2);
  return philox4x32(uvec4(block.x, block.y, stream, 0u), seed);
}

// Uniform in [0, 1) with 24 random bits (mb_u32_to_unit).
float philox_unit(uint x) { return float(x >> 8) * (1.0 / 16777216.0); }
// Uniform in (0, 1] (mb_u32_to_unit_open).
float philox_unit_open(uint x) { return (float(x >> 8) + 1.0) * (1.0 / 16777216.0); }

// mb_philox_uniform.
float philox_uniform(uvec2 seed, uint stream, uvec2 index) {
  uvec4 w = philox_block(seed, stream, index);
  return philox_unit(w[index.x & 3u]);
}

// mb_philox_normal: Box-Muller on the word pairs (0, 1) and (2, 3); even lanes cos, odd lanes sin.
float philox_normal(uvec2 seed, uint stream, uvec2 index) {
  uvec4 w = philox_block(seed, stream, index);
  uint pair = (index.x & 3u) >> 1;
  float u1 = philox_unit_open(pair == 0u ? w.x : w.z);
  float u2 = philox_unit(pair == 0u ? w.y : w.w);
  float r = sqrt(-2.0 * log(u1));
  float theta = 6.2831853071795864 * u2;
  return (index.x & 1u) != 0u ? r * sin(theta) : r * cos(theta);
}
