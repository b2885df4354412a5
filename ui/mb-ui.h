/* The MBOLD Workbench widget library: reusable GTK 4 widgets that show plain data (pixels, points,
 * grids, series) passed through setters and report user intents as signals. They know nothing of
 * the simulator, the networks or the planner. All functions are for the GTK main thread only; every
 * setter copies its input, so callers may free or reuse their buffers right away.
 *
 * Including this header includes every widget's header. */
#ifndef MB_UI_H
#define MB_UI_H

#include <gtk/gtk.h>

#include "mb-camera.h"
#include "mb-colormap.h"
#include "mb-filmstrip.h"
#include "mb-goal-gallery.h"
#include "mb-heatmap.h"
#include "mb-histogram.h"
#include "mb-image-view.h"
#include "mb-job-row.h"
#include "mb-plot.h"
#include "mb-scene-view.h"
#include "mb-snapshot.h"

G_BEGIN_DECLS

/* Where the templates and style sheet live in the GResource. */
#define MB_UI_RESOURCE_PREFIX "/org/mbold/Workbench/"

/* Registers every widget type so that GtkBuilder files (the app's windows) can name them, and the
 * library's resources. Call once after gtk_init() and before loading .ui files. */
void mb_ui_register_types(void);

/* Registers the library's GResource (templates, style sheet) once; called by every class_init. */
void mb_ui_ensure_resources(void);

/* Adds the library's style sheet to the default display once; called by every widget's init. */
void mb_ui_ensure_style(void);

G_END_DECLS

#endif
