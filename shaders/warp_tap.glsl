// The bilinear tap of one output pixel, shared by warp_fwd.comp and warp_bwd.comp: the sample
// point clamped to the image, its corners and weights, and whether each coordinate was inside
// (else its derivative is zero). Same arithmetic as compute/cpu/cpu_warp.c.
struct warp_tap {
  uint i00, i01, i10, i11; // corner indices within a channel plane
  float ax, ay;            // weights of the right and lower corners
  bool in_x, in_y;         // not clamped
};

warp_tap tap_of(float sx, float sy, uint w, uint h) {
  warp_tap t;
  float wm = float(w - 1u), hm = float(h - 1u);
  t.in_x = sx >= 0.0 && sx <= wm;
  t.in_y = sy >= 0.0 && sy <= hm;
  sx = min(max(sx, 0.0), wm);
  sy = min(max(sy, 0.0), hm);
  uint x0 = uint(sx), y0 = uint(sy);
  uint x1 = min(x0 + 1u, w - 1u), y1 = min(y0 + 1u, h - 1u);
  t.ax = sx - float(x0);
  t.ay = sy - float(y0);
  t.i00 = y0 * w + x0;
  t.i01 = y0 * w + x1;
  t.i10 = y1 * w + x0;
  t.i11 = y1 * w + x1;
  return t;
}
