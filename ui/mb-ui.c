/* Library setup: resources, style sheet, type registration; see mb-ui.h. */
#include "mb-ui.h"

#include "mb-ui-resources.h"

/* Above the theme and the settings, below GTK_STYLE_PROVIDER_PRIORITY_APPLICATION so that the
 * app's own style sheet can still override the library's. */
#define MB_UI_STYLE_PRIORITY (GTK_STYLE_PROVIDER_PRIORITY_APPLICATION - 10)

void mb_ui_ensure_resources(void) {
  static gsize done = 0;
  if (g_once_init_enter(&done)) {
    /* Registered by hand: the generated constructor would be dropped from a static library by
     * the linker when nothing references its object file. */
    mb_ui_register_resource();
    g_once_init_leave(&done, 1);
  }
}

void mb_ui_ensure_style(void) {
  GdkDisplay *display = gdk_display_get_default();
  if (!display || g_object_get_data(G_OBJECT(display), "mb-ui-style")) return;
  mb_ui_ensure_resources();
  GtkCssProvider *css = gtk_css_provider_new();
  gtk_css_provider_load_from_resource(css, MB_UI_RESOURCE_PREFIX "ui/style.css");
  gtk_style_context_add_provider_for_display(display, GTK_STYLE_PROVIDER(css),
                                             MB_UI_STYLE_PRIORITY);
  g_object_set_data_full(G_OBJECT(display), "mb-ui-style", css, g_object_unref);
}

void mb_ui_register_types(void) {
  mb_ui_ensure_resources();
  g_type_ensure(MB_TYPE_SCENE_VIEW);
  g_type_ensure(MB_TYPE_IMAGE_VIEW);
  g_type_ensure(MB_TYPE_GOAL_GALLERY);
  g_type_ensure(MB_TYPE_FILMSTRIP);
  g_type_ensure(MB_TYPE_HEATMAP);
  g_type_ensure(MB_TYPE_HISTOGRAM);
  g_type_ensure(MB_TYPE_PLOT);
  g_type_ensure(MB_TYPE_JOB_ROW);
}
