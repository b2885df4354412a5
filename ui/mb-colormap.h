/* Colour maps (viridis for scalar fields) and a categorical palette (for series), plain C. */
#ifndef MB_COLORMAP_H
#define MB_COLORMAP_H

#define MB_VIRIDIS_SIZE 256

/* Entry index (clamped to [0, 255]) of the viridis table, sRGB in [0, 1]. */
void mb_viridis_entry(int index, float rgb[3]);

/* Table index for t in [0, 1] (clamped; NaN maps to 0): floor(t * 256), 255 for t = 1. */
int mb_viridis_index(double t);

/* viridis(t) as 8-bit sRGB: the table entry of mb_viridis_index(t), rounded. */
void mb_viridis_rgb8(double t, unsigned char rgb[3]);

/* Number of distinct colours before mb_palette_color repeats. */
int mb_palette_size(void);

/* Colour of series index (any int; wraps), sRGB in [0, 1]. */
void mb_palette_color(int index, float rgb[3]);

#endif
