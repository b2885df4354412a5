/* Widget to PNG; see mb-snapshot.h. */
#include "mb-snapshot.h"

#include <math.h>

GdkTexture *mb_widget_render_texture(GtkWidget *widget, GError **error) {
  GtkNative *native = gtk_widget_get_native(widget);
  GskRenderer *renderer = native ? gtk_native_get_renderer(native) : NULL;
  GtkWidget *root = native ? GTK_WIDGET(native) : NULL;
  graphene_rect_t bounds;
  if (!renderer || !gtk_widget_get_realized(widget) ||
      !gtk_widget_compute_bounds(widget, root, &bounds) || bounds.size.width < 1 ||
      bounds.size.height < 1) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                "%s is not shown in a window yet, so it cannot be rendered",
                G_OBJECT_TYPE_NAME(widget));
    return NULL;
  }
  /* Render the whole window and crop to the widget: what lies behind it (the window background
   * a chart is drawn on) is part of what the user sees, and a widget rendered alone would be
   * transparent there. */
  GdkPaintable *paintable = gtk_widget_paintable_new(root);
  GtkSnapshot *snapshot = gtk_snapshot_new();
  gdk_paintable_snapshot(paintable, snapshot, gtk_widget_get_width(root),
                         gtk_widget_get_height(root));
  GskRenderNode *node = gtk_snapshot_free_to_node(snapshot);
  g_object_unref(paintable);
  if (!node) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s drew nothing",
                G_OBJECT_TYPE_NAME(widget));
    return NULL;
  }
  graphene_rect_t viewport = GRAPHENE_RECT_INIT(floor(bounds.origin.x), floor(bounds.origin.y),
                                                ceil(bounds.size.width), ceil(bounds.size.height));
  GdkTexture *texture = gsk_renderer_render_texture(renderer, node, &viewport);
  gsk_render_node_unref(node);
  return texture;
}

gboolean mb_widget_save_png(GtkWidget *widget, const char *path, GError **error) {
  GdkTexture *texture = mb_widget_render_texture(widget, error);
  if (!texture) return FALSE;
  GBytes *png = gdk_texture_save_to_png_bytes(texture);
  g_object_unref(texture);
  gsize size = 0;
  const char *data = g_bytes_get_data(png, &size);
  gboolean ok = g_file_set_contents_full(
      path, data, (gssize)size, G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0644,
      error);
  g_bytes_unref(png);
  return ok;
}
