/* Saving any widget to PNG from inside the program: renders the widget's own render node with its
 * window's GSK renderer, so the file shows exactly what GTK draws on screen. Main thread only. */
#ifndef MB_SNAPSHOT_H
#define MB_SNAPSHOT_H

#include <gtk/gtk.h>

/* Renders what the widget shows at its current size into a texture: the widget's part of its
 * window, so whatever is behind the widget (the window background) is included. The widget must be
 * realized (inside a shown window) and have a size; otherwise returns NULL and sets error. Caller
 * owns the returned texture. */
GdkTexture *mb_widget_render_texture(GtkWidget *widget, GError **error);

/* Renders the widget as above and writes it to path as PNG atomically (temporary file, fsync,
 * rename): a failure never leaves a half-written file. */
gboolean mb_widget_save_png(GtkWidget *widget, const char *path, GError **error);

#endif
