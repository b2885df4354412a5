// A run of SPAN floats of one image row, zero outside the row: the shared-window loads of the
// convolution shaders (conv2d_fwd N4, conv2d_bwd_weight N4, conv2d_bwd_data_phase).
//
// The includer defines SPAN_T1 and SPAN_T4, the R32F and RGBA32F views of the image, and the
// constants SPAN, VEC_S and D. VEC_S (rows a multiple of 4 long, image 16-byte aligned): read RGBA32F
// texels of the row. The run's first column lies D floats into a texel, the same for every load of
// a dispatch (the includers' runs start at multiples of 4 plus a fixed offset), so the texel
// components are compile-time constants. On lavapipe a texel is 8 128-bit loads and a transpose,
// a single float a gather: conv0's forward takes ~15% less CPU.
const uint SPAN_NV = (D + SPAN + 3) / 4; // texels covering the run

// s[q] = row[ix + q] where inside the row of length len (row_in: the row itself exists); base is
// the index of row[ix] (wrapped when ix < 0; only used where inside).
void load_span(uint base, int ix, bool row_in, uint len, out float s[SPAN]) {
  if (VEC_S) {
    // Texel v holds columns ix - D + 4 v .. + 3: fetched where one of them is in the row (then all
    // are), else texel 0.
    vec4 t[SPAN_NV];
    for (uint v = 0; v < SPAN_NV; v++) {
      int c0 = ix - int(D) + int(4 * v);
      bool need = row_in && c0 + 3 >= 0 && c0 < int(len);
      t[v] = texelFetch(SPAN_T4, int(need ? (base - D + 4 * v) >> 2 : 0u));
    }
    for (uint q = 0; q < SPAN; q++) {
      bool inside = row_in && uint(ix + int(q)) < len;
      s[q] = inside ? t[(D + q) >> 2][(D + q) & 3u] : 0.0;
    }
  } else {
    for (uint q = 0; q < SPAN; q++) {
      bool inside = row_in && uint(ix + int(q)) < len;
      float v = texelFetch(SPAN_T1, int(inside ? base + q : 0u)).x;
      s[q] = inside ? v : 0.0;
    }
  }
}
