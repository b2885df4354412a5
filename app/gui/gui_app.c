/* The workbench application: `mbold` with no subcommand. A GtkApplication (org.mbold.Workbench)
 * with app-level actions, keyboard accelerators, the shortcuts window (gtk/help-overlay.ui, found
 * by GtkApplication itself), and a confirmation before quitting with jobs running. */
#include "app_cli.h"
#include "mb-window.h"

#include "mb-ui.h"
#include "sim_render.h"

#include <stdio.h>
#include <string.h>

int app_gui_main(int argc, char **argv);

typedef struct gui_options {
  gboolean demo;    /* start the demo mode */
  gboolean stats;   /* print frame rate and main-loop stall figures on exit */
  char *task;       /* initial task */
  char *goals;      /* goal suite folder */
  char *distance;   /* distance run */
  char *dynamics;   /* dynamics run */
  MbWindow *window; /* the main window */
} gui_options;

static void on_quit_response(GtkDialog *dialog, int response, gpointer data) {
  GtkApplication *app = data;
  gtk_window_destroy(GTK_WINDOW(dialog));
  if (response != GTK_RESPONSE_ACCEPT) return;
  GList *windows = gtk_application_get_windows(app);
  for (GList *w = windows; w; w = w->next)
    if (MB_IS_WINDOW(w->data)) mb_window_cancel_all_jobs(MB_WINDOW(w->data));
  g_application_quit(G_APPLICATION(app));
}

/* Quits at once, or asks first when jobs are running (they are cancelled, keeping what they
 * saved). Returns TRUE when the quit is deferred to the question. */
static gboolean ask_before_quit(GtkApplication *app, MbWindow *win) {
  int running = win ? mb_window_jobs_running(win) : 0;
  if (running == 0) return FALSE;
  GtkWidget *d = gtk_message_dialog_new(GTK_WINDOW(win), GTK_DIALOG_MODAL, GTK_MESSAGE_QUESTION,
                                        GTK_BUTTONS_NONE, "Cancel %d running job%s and quit?",
                                        running, running == 1 ? "" : "s");
  gtk_message_dialog_format_secondary_text(
      GTK_MESSAGE_DIALOG(d), "Cancelled collections keep every completed episode and training "
                             "runs keep their last checkpoint; both can be resumed.");
  gtk_dialog_add_button(GTK_DIALOG(d), "_Keep Running", GTK_RESPONSE_CANCEL);
  GtkWidget *quit =
      gtk_dialog_add_button(GTK_DIALOG(d), "Cancel Jobs and _Quit", GTK_RESPONSE_ACCEPT);
  gtk_widget_add_css_class(quit, "destructive-action");
  g_signal_connect(d, "response", G_CALLBACK(on_quit_response), app);
  gtk_window_present(GTK_WINDOW(d));
  return TRUE;
}

static void act_quit(GSimpleAction *a, GVariant *p, gpointer data) {
  (void)a, (void)p;
  gui_options *o = data;
  GtkApplication *app = GTK_APPLICATION(g_application_get_default());
  if (!ask_before_quit(app, o->window)) g_application_quit(G_APPLICATION(app));
}

static void act_about(GSimpleAction *a, GVariant *p, gpointer data) {
  (void)a, (void)p;
  gui_options *o = data;
  const char *authors[] = {"MBOLD Workbench developers", NULL};
  gtk_show_about_dialog(
      GTK_WINDOW(o->window), "program-name", "MBOLD Workbench", "version", MBOLD_VERSION,
      "logo-icon-name", "org.mbold.Workbench", "comments",
      "Model-based visual goal reaching with self-supervised functional distances (Tian et al., "
      "ICLR 2021): collect data, train a video model and a Q-function distance, click a goal and "
      "watch the planner think.",
      "authors", authors, "license-type", GTK_LICENSE_MIT_X11, NULL);
}

static gboolean on_close_request(GtkWindow *window, gpointer data) {
  (void)data;
  GtkApplication *app = gtk_window_get_application(window);
  return ask_before_quit(app, MB_WINDOW(window));
}

static void load_css(void) {
  GtkCssProvider *css = gtk_css_provider_new();
  gtk_css_provider_load_from_resource(css, "/org/mbold/Workbench/app/app.css");
  gtk_style_context_add_provider_for_display(gdk_display_get_default(), GTK_STYLE_PROVIDER(css),
                                             GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_object_unref(css);
}

static void on_activate(GtkApplication *app, gpointer data) {
  gui_options *o = data;
  if (o->window) {
    gtk_window_present(GTK_WINDOW(o->window));
    return;
  }
  mb_ui_ensure_resources();
  mb_ui_ensure_style();
  load_css();
  mb_window_options wo = {
      .assets_dir = app_assets_dir(),
      .task = o->task,
      .goals_dir = o->goals,
      .distance = o->distance,
      .dynamics = o->dynamics,
      .stats = o->stats,
  };
  o->window = mb_window_new(app, &wo);
  g_signal_connect(o->window, "close-request", G_CALLBACK(on_close_request), NULL);
  gtk_window_present(GTK_WINDOW(o->window));
  if (o->demo) mb_window_set_demo(o->window, TRUE);
}

static void on_shutdown(GApplication *app, gpointer data) {
  (void)app;
  gui_options *o = data;
  if (o->stats && o->window) mb_window_print_stats(o->window);
}

/* Accelerators with a modifier or a function key. The one-key shortcuts (space, n, r, a, h, d) are
 * handled by the window after the focused widget had the key (mb-window.c), so that typing in an
 * entry never triggers them: application accelerators would fire first. */
static const char *const accels[][3] = {
    {"win.open-goal", "<Control>o", NULL},
    {"win.capture-goal", "<Control>g", NULL},
    {"win.fullscreen", "F11", NULL},
    {"app.quit", "<Control>q", NULL},
};

int app_gui_main(int argc, char **argv) {
  gui_options o;
  memset(&o, 0, sizeof o);
  GOptionEntry entries[] = {
      {"demo", 0, 0, G_OPTION_ARG_NONE, &o.demo, "Start in demo mode (cycles through the goals)",
       NULL},
      {"stats", 0, 0, G_OPTION_ARG_NONE, &o.stats,
       "Print the scene frame rate and the longest main-loop stall on exit", NULL},
      {"task", 't', 0, G_OPTION_ARG_STRING, &o.task, "Initial task: reach, push1, push3, door",
       "T"},
      {"goals", 'g', 0, G_OPTION_ARG_FILENAME, &o.goals,
       "Goals to load: a goal suite folder, or a dataset (the last frames of its val episodes)",
       "DIR|FILE.h5"},
      {"distance", 0, 0, G_OPTION_ARG_FILENAME, &o.distance, "Distance run to plan with", "RUN"},
      {"dynamics", 0, 0, G_OPTION_ARG_FILENAME, &o.dynamics, "Dynamics run to plan with", "RUN"},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  GOptionContext *ctx = g_option_context_new("");
  g_option_context_set_summary(ctx, "The MBOLD Workbench. Jobs run headless as subcommands: "
                                    "mbold --help.");
  g_option_context_add_main_entries(ctx, entries, NULL);
  GError *error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    int rc = app_bad_input(NULL, "%s (see mbold --help-all)", error->message);
    g_error_free(error);
    g_option_context_free(ctx);
    return rc;
  }
  g_option_context_free(ctx);
  sim_task task;
  if (o.task && !app_task_option(NULL, o.task, &task)) return APP_EXIT_BAD_INPUT;
  /* GTK's GL renderer on a software OpenGL (llvmpipe) draws the window several times slower than
   * its Cairo renderer (measured: 3 vs 18 scene frames shown per second); pick Cairo there unless
   * the user chose. */
  if (!g_getenv("GSK_RENDERER")) {
    char renderer[256] = "", version[128], err[256];
    if (!sim_gl_info(renderer, sizeof renderer, version, sizeof version, err, sizeof err) ||
        strstr(renderer, "llvmpipe") || strstr(renderer, "softpipe") || strstr(renderer, "swrast"))
      g_setenv("GSK_RENDERER", "cairo", TRUE);
  }
  /* NON_UNIQUE: no session bus is needed (headless machines, tests), and several workbenches can
   * run side by side. */
  GtkApplication *app = gtk_application_new("org.mbold.Workbench", G_APPLICATION_NON_UNIQUE);
  const GActionEntry app_actions[] = {
      {"quit", act_quit, NULL, NULL, NULL, {0}},
      {"about", act_about, NULL, NULL, NULL, {0}},
  };
  g_action_map_add_action_entries(G_ACTION_MAP(app), app_actions, G_N_ELEMENTS(app_actions), &o);
  for (size_t i = 0; i < G_N_ELEMENTS(accels); i++)
    gtk_application_set_accels_for_action(app, accels[i][0], &accels[i][1]);
  g_signal_connect(app, "activate", G_CALLBACK(on_activate), &o);
  g_signal_connect(app, "shutdown", G_CALLBACK(on_shutdown), &o);
  char *gargv[] = {argv[0], NULL};
  int status = g_application_run(G_APPLICATION(app), 1, gargv);
  g_object_unref(app);
  g_free(o.task), g_free(o.goals), g_free(o.distance), g_free(o.dynamics);
  return status;
}
