/* Widget to PNG; see mb-snapshot.h. */
#include "mb-snapshot.h"

GdkTexture *mb_widget_render_texture(GtkWidget *widget, GError **error) {
  int w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
  GtkNative *native = gtk_widget_get_native(widget);
  GskRenderer *renderer = native ? gtk_native_get_renderer(native) : NULL;
  if (!renderer || !gtk_widget_get_realized(widget) || w <= 0 || h <= 0) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                "%s is not shown in a window yet, so it cannot be rendered",
                G_OBJECT_TYPE_NAME(widget));
    return NULL;
  }
  GdkPaintable *paintable = gtk_widget_paintable_new(widget);
  GtkSnapshot *snapshot = gtk_snapshot_new();
  gdk_paintable_snapshot(paintable, snapshot, w, h);
  GskRenderNode *node = gtk_snapshot_free_to_node(snapshot);
  g_object_unref(paintable);
  if (!node) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s drew nothing",
                G_OBJECT_TYPE_NAME(widget));
    return NULL;
  }
  graphene_rect_t viewport = GRAPHENE_RECT_INIT(0, 0, w, h);
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
