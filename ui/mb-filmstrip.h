/* MbFilmstrip: the planner's candidate rollouts. Groups (one per CEM iteration, each under a
 * header) of rows (one per elite) of up to MB_FILMSTRIP_MAX_FRAMES predicted frames; each row is
 * labelled with its cost and each group's lowest-cost row is highlighted as the best. Clicking a
 * frame emits "frame-clicked" and outlines it. The whole strip exports to PNG.
 *
 * Properties:
 *   "frame-size" (int, read-write): side in pixels each frame is drawn at (default 56).
 *
 * Signals:
 *   "frame-clicked" (int group, int row, int column): the user clicked that frame.
 */
#ifndef MB_FILMSTRIP_H
#define MB_FILMSTRIP_H

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MB_TYPE_FILMSTRIP (mb_filmstrip_get_type())
G_DECLARE_FINAL_TYPE(MbFilmstrip, mb_filmstrip, MB, FILMSTRIP, GtkWidget)

/* Frames per row: the planner's horizon plus one at most. */
#define MB_FILMSTRIP_MAX_FRAMES 13

GtkWidget *mb_filmstrip_new(void);

/* Removes every group. */
void mb_filmstrip_clear(MbFilmstrip *self);

/* Appends a group with a header title (may be NULL: "Iteration N"). Returns its index. */
int mb_filmstrip_add_group(MbFilmstrip *self, const char *title);

/* Appends a row to group: n_frames (1..MB_FILMSTRIP_MAX_FRAMES, more are dropped) RGB8 frames of
 * width x height, each frame's rows stride bytes apart and frame i starting at
 * frames + i * height * stride (the layout of a [T, H, W, 3] array). Everything is copied. Returns
 * the row's index in its group, or -1 (nothing added) for a bad group or invalid sizes. */
int mb_filmstrip_add_row(MbFilmstrip *self, int group, double cost, const guint8 *frames,
                         int n_frames, int width, int height, int stride);

int mb_filmstrip_get_n_groups(MbFilmstrip *self);
int mb_filmstrip_get_n_rows(MbFilmstrip *self, int group);

/* Index of group's highlighted (lowest-cost) row; -1 when the group is empty or does not exist. */
int mb_filmstrip_get_best_row(MbFilmstrip *self, int group);

void mb_filmstrip_set_frame_size(MbFilmstrip *self, int size);

/* Where a frame / a whole row (including its cost label) is drawn, in the filmstrip's coordinates
 * (scrolling included; it may be outside the visible part). FALSE for an index out of range. */
gboolean mb_filmstrip_get_frame_rect(MbFilmstrip *self, int group, int row, int column,
                                     graphene_rect_t *rect);
gboolean mb_filmstrip_get_row_rect(MbFilmstrip *self, int group, int row, graphene_rect_t *rect);

/* Scrolls so that the row is visible. */
void mb_filmstrip_scroll_to_row(MbFilmstrip *self, int group, int row);

/* Draws the whole strip (all groups, not just the visible part) on a white background and writes
 * it to path as PNG, atomically. FALSE with error set on failure or when the strip is empty. */
gboolean mb_filmstrip_export_png(MbFilmstrip *self, const char *path, GError **error);

/* The colour the best row's border is drawn with. */
void mb_filmstrip_get_highlight_color(MbFilmstrip *self, GdkRGBA *color);

G_END_DECLS

#endif
