#include "sim_png.h"
#include "sim_task.h"

#include "mb_err.h"
#include "mb_file.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool sim_png_write(const char *path, const uint8_t *rgb, int width, int height, char *err,
                   size_t err_sz) {
  if (width < 1 || height < 1) return mb_fail(err, err_sz, "%s: empty image", path);
  mb_atomic_file f;
  if (!mb_atomic_open(&f, path, err, err_sz)) return false;
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  img.width = (png_uint_32)width;
  img.height = (png_uint_32)height;
  img.format = PNG_FORMAT_RGB;
  if (!png_image_write_to_stdio(&img, f.fp, 0, rgb, width * 3, NULL)) {
    mb_fail(err, err_sz, "%s: PNG encoding failed: %s", path, img.message);
    mb_atomic_abort(&f);
    return false;
  }
  return mb_atomic_commit(&f, err, err_sz);
}

static void describe(png_uint_32 fmt, char *out, size_t n) {
  const char *base = (fmt & PNG_FORMAT_FLAG_COLOR) ? "RGB" : "gray";
  snprintf(out, n, "%s%s%s %s", (fmt & PNG_FORMAT_FLAG_COLORMAP) ? "palette " : "", base,
           (fmt & PNG_FORMAT_FLAG_ALPHA) ? "A" : "",
           (fmt & PNG_FORMAT_FLAG_LINEAR) ? "16-bit" : "8-bit");
}

uint8_t *sim_png_read_rgb(const char *path, sim_png_info *info, char *err, size_t err_sz) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return mb_fail_null(err, err_sz, "%s: cannot open: %s", path, strerror(errno));
  unsigned char sig[8];
  bool is_png = fread(sig, 1, 8, fp) == 8 && png_sig_cmp(sig, 0, 8) == 0;
  if (!is_png) {
    fclose(fp);
    return mb_fail_null(err, err_sz, "%s: not a PNG file", path);
  }
  rewind(fp);
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_stdio(&img, fp)) {
    fclose(fp);
    return mb_fail_null(err, err_sz, "%s: unreadable PNG: %s", path, img.message);
  }
  sim_png_info local;
  if (!info) info = &local;
  info->width = (int)img.width;
  info->height = (int)img.height;
  describe(img.format, info->format, sizeof info->format);
  if (img.width > 16384 || img.height > 16384) {
    png_image_free(&img);
    fclose(fp);
    return mb_fail_null(err, err_sz, "%s: image of %ux%u is too large", path, img.width,
                        img.height);
  }
  img.format = PNG_FORMAT_RGB;
  uint8_t *buf = malloc(PNG_IMAGE_SIZE(img));
  if (!buf) {
    png_image_free(&img);
    fclose(fp);
    return mb_fail_null(err, err_sz, "%s: out of memory", path);
  }
  /* A background is needed to flatten alpha; black keeps fully opaque images unchanged. */
  png_color background = {0, 0, 0};
  if (!png_image_finish_read(&img, &background, buf, 0, NULL)) {
    free(buf);
    fclose(fp);
    return mb_fail_null(err, err_sz, "%s: damaged PNG: %s", path, img.message);
  }
  fclose(fp);
  return buf;
}

bool sim_png_read_goal(const char *path, uint8_t *rgb, char *err, size_t err_sz) {
  sim_png_info info;
  uint8_t *buf = sim_png_read_rgb(path, &info, err, err_sz);
  if (!buf) return false;
  bool ok = info.width == SIM_IMAGE_SIZE && info.height == SIM_IMAGE_SIZE &&
            (!strcmp(info.format, "RGB 8-bit") || !strcmp(info.format, "RGBA 8-bit"));
  if (ok)
    memcpy(rgb, buf, SIM_IMAGE_BYTES);
  else
    mb_fail(err, err_sz, "%s: image is %dx%d %s; a goal image must be %dx%d RGB 8-bit", path,
            info.width, info.height, info.format, SIM_IMAGE_SIZE, SIM_IMAGE_SIZE);
  free(buf);
  return ok;
}
