/* MbGoalGallery: goal thumbnails (e.g. 64x64 RGB images with a label) in a wrapping grid. A click
 * on a thumbnail selects it and emits "goal-picked"; the selected one is highlighted.
 *
 * Properties:
 *   "selected" (int, read-write): index of the highlighted thumbnail, -1 for none.
 *   "thumbnail-size" (int, read-write): side of each thumbnail in pixels (default 96).
 *
 * Signals:
 *   "goal-picked" (int index): the user clicked (or activated with the keyboard) thumbnail index.
 *       Setting "selected" from code does not emit it.
 */
#ifndef MB_GOAL_GALLERY_H
#define MB_GOAL_GALLERY_H

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MB_TYPE_GOAL_GALLERY (mb_goal_gallery_get_type())
G_DECLARE_FINAL_TYPE(MbGoalGallery, mb_goal_gallery, MB, GOAL_GALLERY, GtkWidget)

GtkWidget *mb_goal_gallery_new(void);

/* Removes every thumbnail; "selected" becomes -1. */
void mb_goal_gallery_clear(MbGoalGallery *self);

/* Appends a thumbnail: a copy of an RGB8 image (rows top to bottom, stride bytes apart) and a label
 * (may be NULL). Returns its index, or -1 (nothing added) for invalid pixels or sizes. */
int mb_goal_gallery_append(MbGoalGallery *self, const guint8 *pixels, int width, int height,
                           int stride, const char *label);

int mb_goal_gallery_get_n_items(MbGoalGallery *self);

/* Highlights index (-1 or out of range: none) without emitting "goal-picked". */
void mb_goal_gallery_set_selected(MbGoalGallery *self, int index);
int mb_goal_gallery_get_selected(MbGoalGallery *self);

void mb_goal_gallery_set_thumbnail_size(MbGoalGallery *self, int size);

/* The thumbnail widget of index (an MbImageView) for geometry queries; NULL when out of range.
 * Owned by the gallery. */
GtkWidget *mb_goal_gallery_get_thumbnail(MbGoalGallery *self, int index);

G_END_DECLS

#endif
