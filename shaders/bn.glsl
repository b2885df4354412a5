// Batch normalisation over x [N, C, HW]: channel c's elements e in [0, N HW) sit at
// (e / HW * C + c) * HW + e % HW. A slice of them is walked with (n, p) kept incrementally.
struct bn_walk {
  uint n, p;
};
bn_walk bn_start(uint e, uint hw) { return bn_walk(e / hw, e % hw); }
uint bn_index(bn_walk w, uint c, uint C, uint hw) { return (w.n * C + c) * hw + w.p; }
void bn_next(inout bn_walk w, uint hw) {
  if (++w.p == hw) {
    w.p = 0u;
    w.n++;
  }
}
// The same by 4 elements (hw a multiple of 4, w.p too).
void bn_next4(inout bn_walk w, uint hw) {
  w.p += 4u;
  if (w.p == hw) {
    w.p = 0u;
    w.n++;
  }
}
