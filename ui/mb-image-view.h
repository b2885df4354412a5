/* MbImageView: one image shown large with a caption, e.g. the chosen goal or a clicked predicted
 * frame. Upscaling (a 64x64 agent image) uses nearest neighbour so that pixels stay visible;
 * downscaling is smooth. The image keeps its aspect ratio, centred.
 *
 * Properties:
 *   "caption" (string, read-write): text under the image; empty hides it.
 *   "placeholder" (string, read-write): text drawn in place of the image while there is none.
 *   "display-size" (int, read-write): side in pixels the image area asks for (its natural and
 *       minimum size); 0 (the default) asks for 128 and shrinks to 32.
 */
#ifndef MB_IMAGE_VIEW_H
#define MB_IMAGE_VIEW_H

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MB_TYPE_IMAGE_VIEW (mb_image_view_get_type())
G_DECLARE_FINAL_TYPE(MbImageView, mb_image_view, MB, IMAGE_VIEW, GtkWidget)

GtkWidget *mb_image_view_new(void);

/* Copies an RGB8 image (rows top to bottom, stride bytes apart, stride >= 3 * width) and queues a
 * redraw. Returns FALSE (keeping the previous image) for NULL pixels or invalid sizes. */
gboolean mb_image_view_set_image(MbImageView *self, const guint8 *pixels, int width, int height,
                                 int stride);

/* Removes the image (the placeholder is drawn instead). */
void mb_image_view_clear(MbImageView *self);

/* Size of the image shown; FALSE when there is none. */
gboolean mb_image_view_get_image_size(MbImageView *self, int *width, int *height);

void mb_image_view_set_caption(MbImageView *self, const char *caption);
const char *mb_image_view_get_caption(MbImageView *self);

void mb_image_view_set_placeholder(MbImageView *self, const char *text);

void mb_image_view_set_display_size(MbImageView *self, int size);

/* Where the image is drawn, in the view's coordinates; FALSE when there is none. */
gboolean mb_image_view_get_image_rect(MbImageView *self, graphene_rect_t *rect);

G_END_DECLS

#endif
