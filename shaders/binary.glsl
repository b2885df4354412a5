// Broadcast binary ops: a has shape (n, c, h, w); b is indexed with strides that are 0 along the
// dimensions it broadcasts. op: 0 add, 1 sub, 2 mul, 3 min, 4 max (ties select a).
vec4 binop(uint op, vec4 a, vec4 b) {
  if (op == 0u) return a + b;
  if (op == 1u) return a - b;
  if (op == 2u) return a * b;
  if (op == 3u) return mix(b, a, lessThanEqual(a, b));
  return mix(b, a, greaterThanEqual(a, b));
}

// Index into b of a's element i.
uint b_index(uint i, uint C, uint H, uint W, uvec4 bs) {
  uint w = i % W, r = i / W;
  uint h = r % H;
  r /= H;
  uint c = r % C, n = r / C;
  return n * bs.x + c * bs.y + h * bs.z + w * bs.w;
}
