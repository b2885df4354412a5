/* Exports: the scene view with its overlays, the heatmaps (PNG + CSV), the candidate filmstrips. */
#include "mb-window-private.h"

#include <string.h>

typedef enum export_kind { EXPORT_SCENE, EXPORT_HEATMAP, EXPORT_FILMSTRIP } export_kind;

static void on_save_response(GtkNativeDialog *dialog, int response, gpointer data) {
  MbWindow *win = data;
  export_kind kind = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(dialog), "kind"));
  if (response == GTK_RESPONSE_ACCEPT) {
    GFile *file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
    char *path = file ? g_file_get_path(file) : NULL;
    GError *error = NULL;
    gboolean ok = TRUE;
    if (path && kind == EXPORT_SCENE)
      ok = mb_widget_save_png(GTK_WIDGET(win->scene_view), path, &error);
    else if (path && kind == EXPORT_FILMSTRIP)
      ok = mb_filmstrip_export_png(win->filmstrip, path, &error);
    else if (path && kind == EXPORT_HEATMAP)
      ok = mb_window_heatmap_save(win, path, &error);
    if (!ok) {
      mb_window_show_error(win, "Export failed", error->message);
      g_error_free(error);
    } else if (path) {
      char *msg = g_strdup_printf("saved %s", path);
      gtk_label_set_text(win->status_label, msg);
      g_free(msg);
    }
    g_free(path);
    if (file) g_object_unref(file);
  }
  g_object_unref(dialog);
}

static void save_dialog(MbWindow *win, export_kind kind, const char *title, const char *name) {
  GtkFileChooserNative *d = gtk_file_chooser_native_new(
      title, GTK_WINDOW(win), GTK_FILE_CHOOSER_ACTION_SAVE, "_Save", "_Cancel");
  gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(d), name);
  g_object_set_data(G_OBJECT(d), "kind", GINT_TO_POINTER(kind));
  gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(d), TRUE);
  g_signal_connect(d, "response", G_CALLBACK(on_save_response), win);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

void mb_window_export_scene(MbWindow *win) {
  save_dialog(win, EXPORT_SCENE, "Export Scene Screenshot", "scene.png");
}

void mb_window_export_heatmap(MbWindow *win) {
  if (mb_window_heatmap_cells_done(win) == 0) {
    mb_window_show_error(win, "No heatmap yet", "Compute the heatmaps first (Heatmap tab).");
    return;
  }
  save_dialog(win, EXPORT_HEATMAP, "Export Heatmaps (PNG, and CSV beside it)", "heatmap.png");
}

void mb_window_export_filmstrip(MbWindow *win) {
  if (mb_filmstrip_get_n_groups(win->filmstrip) == 0) {
    mb_window_show_error(win, "No candidates yet", "Run a replan first (N).");
    return;
  }
  save_dialog(win, EXPORT_FILMSTRIP, "Export Candidate Filmstrips", "candidates.png");
}
