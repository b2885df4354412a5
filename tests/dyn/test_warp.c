/* The video model's new op, cmp_warp_fwd/bwd, on the backend named on the command line
 * (`test_warp cpu`, `test_warp vulkan`): against a double-precision reference (normalised MSE <
 * 1e-6) with odd sizes, images shared by several flows, sample points outside the image (clamped),
 * and the flow gradient against the reference and central finite differences, with beta = 0 and
 * accumulation. */
/* op_ref.h brings every reference; this program uses a few. */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "../compute/op_ref.h"

#include <math.h>

/* The reference: bilinear sample of img[n % ni] at (x + s fx, y + s fy), clamped; its flow
 * gradient for a given dout (NULL: forward only). */
static void ref_warp(const double *img, const double *flow, double s, const double *dout, int ni,
                     int n, int c, int h, int w, double *out, double *dflow) {
  size_t hw = (size_t)h * w;
  for (int k = 0; k < n; k++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        double sx = x + s * flow[(size_t)k * 2 * hw + (size_t)y * w + x];
        double sy = y + s * flow[(size_t)k * 2 * hw + hw + (size_t)y * w + x];
        int in_x = sx >= 0 && sx <= w - 1, in_y = sy >= 0 && sy <= h - 1;
        sx = fmin(fmax(sx, 0), w - 1), sy = fmin(fmax(sy, 0), h - 1);
        int x0 = (int)floor(sx), y0 = (int)floor(sy);
        int x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
        double ax = sx - x0, ay = sy - y0, gx = 0, gy = 0;
        for (int ch = 0; ch < c; ch++) {
          const double *p = img + ((size_t)(k % ni) * c + ch) * hw;
          double v00 = p[y0 * w + x0], v01 = p[y0 * w + x1], v10 = p[y1 * w + x0],
                 v11 = p[y1 * w + x1];
          size_t o = ((size_t)k * c + ch) * hw + (size_t)y * w + x;
          if (out)
            out[o] = (1 - ay) * ((1 - ax) * v00 + ax * v01) + ay * ((1 - ax) * v10 + ax * v11);
          if (dout) {
            gx += dout[o] * ((1 - ay) * (v01 - v00) + ay * (v11 - v10));
            gy += dout[o] * ((1 - ax) * (v10 - v00) + ax * (v11 - v01));
          }
        }
        if (dflow) {
          dflow[(size_t)k * 2 * hw + (size_t)y * w + x] = in_x ? s * gx : 0;
          dflow[(size_t)k * 2 * hw + hw + (size_t)y * w + x] = in_y ? s * gy : 0;
        }
      }
}

typedef struct warp_fd {
  double *img, *flow, *dout, *tmp;
  double s;
  int ni, n, c, h, w;
} warp_fd;

static double warp_loss(void *u) {
  warp_fd *f = u;
  ref_warp(f->img, f->flow, f->s, NULL, f->ni, f->n, f->c, f->h, f->w, f->tmp, NULL);
  double l = 0;
  for (size_t i = 0; i < (size_t)f->n * f->c * f->h * f->w; i++) l += f->dout[i] * f->tmp[i];
  return l;
}

static void check_case(int ni, int rep, int c, int h, int w, float s, float fmax, uint32_t tag) {
  int n = ni * rep;
  char name[96];
  snprintf(name, sizeof name, "warp ni %d x %d, %dx%dx%d, scale %g", ni, rep, c, h, w, s);
  float *himg, *hflow, *hdout, *hdf0;
  cmp_tensor img = trand(ni, c, h, w, tag, 0, 1, &himg);
  /* Sample points on a pixel boundary are kinks of the bilinear map where float rounding decides
   * the side; keep them away (the op rounds as float arithmetic does, the reference in double). */
  size_t nf = (size_t)n * 2 * h * w;
  hflow = hrand(nf, tag + 1, -fmax, fmax);
  for (size_t i = 0; i < nf; i++) {
    double v = (double)s * hflow[i];
    if (fabs(v - round(v)) < 1e-3) hflow[i] += 0.01f;
  }
  cmp_tensor flow = tup(hflow, n, 2, h, w);
  cmp_tensor dout = trand(n, c, h, w, tag + 2, -1, 1, &hdout);
  cmp_tensor dflow = trand(n, 2, h, w, tag + 3, -1, 1, &hdf0);
  cmp_tensor out = tens(n, c, h, w);
  size_t no = (size_t)n * c * h * w;
  double *dimg = dcopy(himg, (size_t)ni * c * h * w), *dfl = dcopy(hflow, nf),
         *ddo = dcopy(hdout, no);
  double *rout = dalloc(no), *rdf = dalloc(nf);
  ref_warp(dimg, dfl, s, ddo, ni, n, c, h, w, rout, rdf);

  cmp_warp_fwd(g_ctx, &img, &flow, s, &out);
  CHECK_TENSOR(name, out, rout);

  /* Accumulating: dflow = grad + 0.5 * dflow. */
  double *acc = dalloc(nf);
  for (size_t i = 0; i < nf; i++) acc[i] = rdf[i] + 0.5 * hdf0[i];
  cmp_warp_bwd(g_ctx, &img, &flow, s, &dout, &dflow, 0.5f);
  CHECK_TENSOR("warp bwd (beta 0.5)", dflow, acc);
  cmp_warp_bwd(g_ctx, &img, &flow, s, &dout, &dflow, 0.0f);
  CHECK_TENSOR("warp bwd (beta 0)", dflow, rdf);

  /* Against central differences of sum(dout * out). */
  float *got = tdown(&dflow);
  warp_fd f = {dimg, dfl, ddo, dalloc(no), s, ni, n, c, h, w};
  check_fd(name, dfl, nf, got, warp_loss, &f, 64);

  /* Some samples were clamped: their gradient is exactly zero. */
  int clamped = 0;
  for (size_t i = 0; i < nf; i++) clamped += rdf[i] == 0;
  CHECK_MSG(fmax * s < 2 || clamped > 0, "%s: no sample point fell outside the image", name);

  free(got), free(f.tmp), free(acc), free(rout), free(rdf), free(dimg), free(dfl), free(ddo);
  free(himg), free(hflow), free(hdout), free(hdf0);
}

/* A pure translation by whole pixels moves the image exactly, and zero flow is the identity. */
static void test_translation(void) {
  int h = 9, w = 11;
  float *himg;
  cmp_tensor img = trand(1, 3, h, w, 77, 0, 1, &himg);
  float *hflow = malloc(sizeof(float) * 2 * 2 * h * w);
  for (int i = 0; i < h * w; i++) {
    hflow[i] = 0, hflow[h * w + i] = 0;                  /* sample 0: identity */
    hflow[2 * h * w + i] = 2, hflow[3 * h * w + i] = -1; /* sample 1: from (x + 2, y - 1) */
  }
  cmp_tensor flow = tup(hflow, 2, 2, h, w), out = tens(2, 3, h, w);
  cmp_warp_fwd(g_ctx, &img, &flow, 1.0f, &out);
  float *got = tdown(&out);
  int bad = 0;
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        float id = got[(c * h + y) * w + x], sh = got[((3 + c) * h + y) * w + x];
        int sy = y - 1 < 0 ? 0 : y - 1, sx = x + 2 > w - 1 ? w - 1 : x + 2;
        bad += id != himg[(c * h + y) * w + x];
        bad += sh != himg[(c * h + sy) * w + sx];
      }
  CHECK_MSG(bad == 0, "warp by whole pixels: %d pixels differ", bad);
  free(got), free(hflow), free(himg);
}

int main(int argc, char **argv) {
  int rc = test_open(argc, argv, "test_warp");
  if (rc) return rc;
  test_translation();
  check_case(1, 1, 3, 8, 8, 1.0f, 1.5f, 10);
  check_case(2, 3, 3, 13, 17, 1.7f, 5.0f, 20); /* shared images, points outside */
  check_case(1, 5, 1, 7, 33, 0.5f, 9.0f, 30);  /* one image for all, one channel */
  check_case(3, 2, 5, 31, 9, 2.0f, 3.0f, 40);  /* more channels than RGB */
  check_case(2, 2, 3, 64, 64, 4.0f, 4.0f, 50); /* the model's size */
  return test_close("test_warp");
}
