/* PNG files for goal images and pictures (libpng's simplified API). Images are uint8 RGB,
 * H x W x 3, top row first. */
#ifndef SIM_PNG_H
#define SIM_PNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Writes an RGB image atomically (temporary file, fsync, rename). */
bool sim_png_write(const char *path, const uint8_t *rgb, int width, int height, char *err,
                   size_t err_sz);

typedef struct sim_png_info {
  int width, height; /* pixels */
  char format[32];   /* the file's own format, e.g. "RGB 8-bit", "RGBA 16-bit", "gray 8-bit" */
} sim_png_info;

/* Reads any PNG converted to RGB 8-bit (alpha dropped, gray expanded). Returns a malloc'd
 * buffer (caller frees) and fills info (may be NULL); NULL + err for a missing or non-PNG file. */
uint8_t *sim_png_read_rgb(const char *path, sim_png_info *info, char *err, size_t err_sz);

/* Reads a goal image: must be 64 x 64 and RGB or RGBA (8-bit); anything else is an error naming
 * the size and format found. rgb receives 64 * 64 * 3 bytes. */
bool sim_png_read_goal(const char *path, uint8_t *rgb, char *err, size_t err_sz);

#endif
