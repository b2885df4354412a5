/* The Training tab: forms that start a collection or a training run, and the jobs. Every job is a
 * child process running the same binary's subcommand (`mbold collect`, `mbold train ...`) with
 * MBOLD_PROGRESS=json, so a job is exactly what the command line does, a crash in it cannot take
 * the workbench down, jobs outlive the panel, Pause is SIGSTOP/SIGCONT, and Cancel is SIGINT: the
 * job saves what it has (the last checkpoint, every completed episode) and exits. */
#include "mb-window-private.h"

#include "gui_priority.h"
#include "mb_clock.h"
#include "train_run.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_JOBS 64

typedef struct mb_job {
  MbWindow *win;             /* owner */
  int id;                    /* index in the list */
  char *title;               /* e.g. "collect push1 (200 episodes)" */
  char *kind;                /* "collect", "distance", "dynamics" */
  char *out;                 /* output file or run folder */
  GSubprocess *proc;         /* the child */
  GDataInputStream *err;     /* its stderr, line by line */
  GCancellable *cancellable; /* stops reading when the window goes */
  MbJobRow *row;             /* its widget */
  int64_t done, total;       /* progress */
  char unit[32];             /* "episodes", "steps" */
  double t_start;            /* when it started */
  int64_t done_start;        /* progress at the first report (resume) */
  double t_first;            /* time of the first report */
  GArray *loss_x, *loss_y;   /* main loss curve */
  char loss_name[32];        /* which loss */
  bool running, paused, cancel_requested, finished;
  int exit_status;     /* when finished */
  char last_line[512]; /* last plain stderr line (the error, if it failed) */
} mb_job;

struct mb_jobs {
  mb_job *jobs[MAX_JOBS]; /* started jobs */
  int n;                  /* count */
  GtkListBox *list;       /* rows */
  MbPlot *loss_plot;      /* curves of the selected job */
  int selected;           /* job shown in the plot */
  int plotted_points;     /* points plotted for it */
  /* forms */
  GtkDropDown *c_task;
  GtkSpinButton *c_episodes, *c_seed, *c_threads;
  GtkEntry *c_out;
  GtkCheckButton *c_resume;
  GtkWidget *c_start;
  GtkEntry *d_data, *d_out;
  GtkSpinButton *d_steps, *d_seed;
  GtkDropDown *d_method, *d_backend;
  GtkCheckButton *d_resume;
  GtkWidget *d_start;
  GtkEntry *m_data, *m_out;
  GtkSpinButton *m_steps, *m_seed;
  GtkDropDown *m_backend, *m_loss;
  GtkCheckButton *m_resume;
  GtkWidget *m_start;
  GtkWidget *switcher; /* the forms' stack switcher (its buttons, in form order) */
};

static const char *const backends[] = {"auto", "cpu", "vulkan", NULL};
static const char *const methods[] = {"q", "regression", NULL};
static const char *const losses[] = {"l2", "l1", NULL}; /* train dynamics --loss */
static const char *const tasks[] = {"reach", "push1", "push3", "door", NULL};

/* ---- jobs --------------------------------------------------------------------------------------
 */

static void job_update_row(mb_job *j) {
  char text[256], eta[32] = "";
  double frac = j->total > 0 ? (double)j->done / (double)j->total : 0;
  double now = mb_now();
  if (j->t_first > 0 && j->done > j->done_start && now > j->t_first) {
    double rate = (double)(j->done - j->done_start) / (now - j->t_first);
    double left = (double)(j->total - j->done) / rate;
    if (left >= 3600)
      snprintf(eta, sizeof eta, ", ETA %dh%02dm", (int)(left / 3600), (int)(left / 60) % 60);
    else if (left >= 60)
      snprintf(eta, sizeof eta, ", ETA %dm%02ds", (int)(left / 60), (int)left % 60);
    else
      snprintf(eta, sizeof eta, ", ETA %.0fs", left);
    snprintf(text, sizeof text, "%lld / %lld %s (%.1f/s%s)", (long long)j->done,
             (long long)j->total, j->unit, rate, j->finished ? "" : eta);
  } else {
    snprintf(text, sizeof text, "%lld / %lld %s", (long long)j->done, (long long)j->total, j->unit);
  }
  mb_job_row_set_progress(j->row, frac, text);
  mb_job_row_set_paused(j->row, j->paused);
  mb_job_row_set_active(j->row, j->running);
}

static void job_parse_line(mb_job *j, const char *line) {
  mb_json *js = line[0] == '{' ? mb_json_parse(line, strlen(line), NULL, 0) : NULL;
  if (!js) {
    snprintf(j->last_line, sizeof j->last_line, "%s", line);
    if (line[0]) mb_job_row_set_status(j->row, line);
    return;
  }
  const mb_json *pr = mb_json_get(js, "progress");
  const mb_json *log = mb_json_get(js, "log");
  if (pr) {
    int64_t v;
    if (mb_json_as_int64(mb_json_get(pr, "done"), &v)) j->done = v;
    if (mb_json_as_int64(mb_json_get(pr, "total"), &v)) j->total = v;
    const char *unit = mb_json_as_string(mb_json_get(pr, "unit"));
    if (unit) snprintf(j->unit, sizeof j->unit, "%s", unit);
    if (j->t_first == 0) {
      j->t_first = mb_now();
      j->done_start = j->done;
    }
    const char *detail = mb_json_as_string(mb_json_get(pr, "detail"));
    if (detail && *detail) mb_job_row_set_status(j->row, detail);
    job_update_row(j);
  } else if (log && log->type == MB_JSON_OBJECT) {
    /* The first numeric field after "step" is the main loss. */
    double step = 0, value = NAN;
    mb_json_as_number(mb_json_get(log, "step"), &step);
    for (int i = 0; i < log->count && isnan(value); i++) {
      if (!strcmp(log->keys[i], "step") || log->items[i].type != MB_JSON_NUMBER) continue;
      if (!j->loss_name[0]) snprintf(j->loss_name, sizeof j->loss_name, "%s", log->keys[i]);
      if (!strcmp(log->keys[i], j->loss_name)) value = log->items[i].number;
    }
    if (isfinite(value)) {
      float fx = (float)step, fy = (float)value;
      g_array_append_val(j->loss_x, fx);
      g_array_append_val(j->loss_y, fy);
      mb_job_row_append_loss(j->row, fy);
    }
  }
  mb_json_free(js);
}

/* Runs in the job's process between fork and exec: training and collection yield to the
 * workbench (see gui_priority.h). */
static void job_child_setup(gpointer data) {
  (void)data;
  (void)setpriority(PRIO_PROCESS, 0, GUI_NICE_JOB);
}

static void job_read_next(mb_job *j);

static void on_line(GObject *src, GAsyncResult *res, gpointer data) {
  mb_job *j = data;
  GError *error = NULL;
  gsize len = 0;
  char *line =
      g_data_input_stream_read_line_finish_utf8(G_DATA_INPUT_STREAM(src), res, &len, &error);
  if (error) {
    bool cancelled = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_error_free(error);
    if (cancelled) return; /* the window is going: j may be gone */
    return;
  }
  if (!line) return; /* end of stream: the wait callback reports the end */
  job_parse_line(j, line);
  g_free(line);
  job_read_next(j);
}

static void job_read_next(mb_job *j) {
  g_data_input_stream_read_line_async(j->err, G_PRIORITY_DEFAULT, j->cancellable, on_line, j);
}

static void on_job_exit(GObject *src, GAsyncResult *res, gpointer data) {
  mb_job *j = data;
  GError *error = NULL;
  g_subprocess_wait_finish(G_SUBPROCESS(src), res, &error);
  if (error) {
    bool cancelled = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_error_free(error);
    if (cancelled) return;
  }
  j->running = false;
  j->paused = false;
  j->finished = true;
  j->exit_status = g_subprocess_get_if_exited(j->proc) ? g_subprocess_get_exit_status(j->proc)
                                                       : 128 + g_subprocess_get_term_sig(j->proc);
  char status[640];
  if (j->exit_status == 0)
    snprintf(status, sizeof status, "done: %s", j->out);
  else if (j->cancel_requested)
    snprintf(status, sizeof status, "cancelled: %s keeps what was saved", j->out);
  else
    snprintf(status, sizeof status, "failed (exit %d): %s", j->exit_status,
             j->last_line[0] ? j->last_line : "see the terminal");
  mb_job_row_set_status(j->row, status);
  job_update_row(j);
  if (j->exit_status != 0 && !j->cancel_requested)
    mb_window_show_error(j->win, "A job failed", status);
  if (strcmp(j->kind, "collect") != 0) mb_window_refresh_runs(j->win);
}

static void on_pause_toggled(MbJobRow *row, gboolean paused, mb_job *j) {
  (void)row;
  if (!j->running) return;
  const char *pid = g_subprocess_get_identifier(j->proc);
  if (!pid) return;
  kill((pid_t)atoi(pid), paused ? SIGSTOP : SIGCONT);
  j->paused = paused;
  mb_job_row_set_status(j->row, paused ? "paused" : "running");
}

static void job_cancel(mb_job *j) {
  if (!j->running) return;
  const char *pid = g_subprocess_get_identifier(j->proc);
  if (!pid) return;
  j->cancel_requested = true;
  if (j->paused) kill((pid_t)atoi(pid), SIGCONT);
  g_subprocess_send_signal(j->proc, SIGINT); /* the job saves and exits */
  mb_job_row_set_status(j->row, "cancelling: saving what is done");
}

static void on_cancel_clicked(MbJobRow *row, mb_job *j) {
  (void)row;
  job_cancel(j);
}

static void select_job(MbWindow *win, int id) {
  mb_jobs *js = win->jobs;
  js->selected = id;
  js->plotted_points = -1;
}

static void on_row_selected(GtkListBox *box, GtkListBoxRow *row, MbWindow *win) {
  (void)box;
  if (row) select_job(win, gtk_list_box_row_get_index(row));
}

/* Starts `mbold <args>` as a job. */
static void start_job(MbWindow *win, const char *kind, const char *title, const char *out,
                      const char *const *args) {
  mb_jobs *js = win->jobs;
  if (js->n >= MAX_JOBS) {
    mb_window_show_error(win, "Too many jobs", "Close the workbench to clear the job list.");
    return;
  }
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) {
    mb_window_show_error(win, "Cannot start the job", "the workbench cannot find its own binary");
    return;
  }
  exe[n] = 0;
  GPtrArray *argv = g_ptr_array_new();
  g_ptr_array_add(argv, exe);
  for (const char *const *a = args; *a; a++) g_ptr_array_add(argv, (gpointer)*a);
  g_ptr_array_add(argv, NULL);
  GSubprocessLauncher *l =
      g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_subprocess_launcher_setenv(l, "MBOLD_PROGRESS", "json", TRUE);
  g_subprocess_launcher_setenv(l, "MBOLD_ASSETS", win->assets, TRUE);
  g_subprocess_launcher_set_child_setup(l, job_child_setup, NULL, NULL);
  GError *error = NULL;
  GSubprocess *proc = g_subprocess_launcher_spawnv(l, (const char *const *)argv->pdata, &error);
  g_object_unref(l);
  g_ptr_array_free(argv, TRUE);
  if (!proc) {
    mb_window_show_error(win, "Cannot start the job", error->message);
    g_error_free(error);
    return;
  }
  mb_job *j = g_new0(mb_job, 1);
  j->win = win;
  j->id = js->n;
  j->title = g_strdup(title);
  j->kind = g_strdup(kind);
  j->out = g_strdup(out);
  j->proc = proc;
  j->cancellable = g_cancellable_new();
  j->err = g_data_input_stream_new(g_subprocess_get_stderr_pipe(proc));
  j->loss_x = g_array_new(FALSE, FALSE, sizeof(float));
  j->loss_y = g_array_new(FALSE, FALSE, sizeof(float));
  j->running = true;
  j->t_start = mb_now();
  snprintf(j->unit, sizeof j->unit, "%s", strcmp(kind, "collect") ? "steps" : "episodes");
  j->row = MB_JOB_ROW(mb_job_row_new(title));
  mb_job_row_set_status(j->row, "starting");
  mb_job_row_set_active(j->row, TRUE);
  g_signal_connect(j->row, "pause-toggled", G_CALLBACK(on_pause_toggled), j);
  g_signal_connect(j->row, "cancel-clicked", G_CALLBACK(on_cancel_clicked), j);
  gtk_list_box_append(js->list, GTK_WIDGET(j->row));
  js->jobs[js->n++] = j;
  gtk_list_box_select_row(js->list, gtk_list_box_get_row_at_index(js->list, j->id));
  select_job(win, j->id);
  job_read_next(j);
  g_subprocess_wait_async(proc, j->cancellable, on_job_exit, j);
}

int mb_window_running_jobs(MbWindow *win) {
  if (!win->jobs) return 0;
  int n = 0;
  for (int i = 0; i < win->jobs->n; i++) n += win->jobs->jobs[i]->running;
  return n;
}

void mb_window_cancel_jobs(MbWindow *win) {
  if (!win->jobs) return;
  for (int i = 0; i < win->jobs->n; i++) job_cancel(win->jobs->jobs[i]);
  /* Give the jobs time to save (a checkpoint, the episodes in flight) and exit; their exit is
   * noticed by the main loop, so keep it turning. */
  double t0 = mb_now();
  while (mb_window_running_jobs(win) > 0 && mb_now() - t0 < 60)
    g_main_context_iteration(NULL, TRUE);
}

/* ---- forms ------------------------------------------------------------------------------------
 */

static const char *entry_text(GtkEntry *e) {
  return gtk_editable_get_text(GTK_EDITABLE(e));
}

static const char *drop_text(GtkDropDown *d, const char *const *names) {
  guint i = gtk_drop_down_get_selected(d);
  return names[i == GTK_INVALID_LIST_POSITION ? 0 : i];
}

static void on_start_collect(GtkButton *b, MbWindow *win) {
  (void)b;
  mb_jobs *js = win->jobs;
  char episodes[32], seed[32], threads[32];
  snprintf(episodes, sizeof episodes, "%d", gtk_spin_button_get_value_as_int(js->c_episodes));
  snprintf(seed, sizeof seed, "%d", gtk_spin_button_get_value_as_int(js->c_seed));
  snprintf(threads, sizeof threads, "%d", gtk_spin_button_get_value_as_int(js->c_threads));
  const char *task = drop_text(js->c_task, tasks), *out = entry_text(js->c_out);
  if (!*out) {
    mb_window_show_error(win, "Cannot start the collection", "Give an output file (.h5).");
    return;
  }
  char *dir = g_path_get_dirname(out);
  g_mkdir_with_parents(dir, 0755);
  g_free(dir);
  bool resume = gtk_check_button_get_active(js->c_resume);
  const char *args[] = {"collect", "--task", task, "--episodes",
                        episodes,  "--seed", seed, "--threads",
                        threads,   "--out",  out,  resume ? "--resume" : NULL,
                        NULL};
  char title[256];
  snprintf(title, sizeof title, "collect %s: %s episodes → %s", task, episodes, out);
  start_job(win, "collect", title, out, args);
}

static void on_start_train(MbWindow *win, bool distance) {
  mb_jobs *js = win->jobs;
  GtkEntry *data = distance ? js->d_data : js->m_data, *out = distance ? js->d_out : js->m_out;
  GtkSpinButton *steps_spin = distance ? js->d_steps : js->m_steps;
  GtkSpinButton *seed_spin = distance ? js->d_seed : js->m_seed;
  GtkDropDown *backend = distance ? js->d_backend : js->m_backend;
  bool resume = gtk_check_button_get_active(distance ? js->d_resume : js->m_resume);
  if (!*entry_text(data) || !*entry_text(out)) {
    mb_window_show_error(win, "Cannot start training", "Give a dataset (.h5) and a run folder.");
    return;
  }
  char steps[32], seed[32];
  snprintf(steps, sizeof steps, "%d", gtk_spin_button_get_value_as_int(steps_spin));
  snprintf(seed, sizeof seed, "%d", gtk_spin_button_get_value_as_int(seed_spin));
  const char *method = distance ? drop_text(js->d_method, methods) : NULL;
  const char *loss = distance ? NULL : drop_text(js->m_loss, losses);
  const char *args[18];
  int n = 0;
  args[n++] = "train";
  args[n++] = distance ? "distance" : "dynamics";
  args[n++] = "--data", args[n++] = entry_text(data);
  args[n++] = "--out", args[n++] = entry_text(out);
  args[n++] = "--steps", args[n++] = steps;
  args[n++] = "--seed", args[n++] = seed;
  args[n++] = "--backend", args[n++] = drop_text(backend, backends);
  if (method) args[n++] = "--method", args[n++] = method;
  if (loss && !resume) args[n++] = "--loss", args[n++] = loss; /* a resumed run keeps its own */
  if (resume) args[n++] = "--resume";
  args[n] = NULL;
  char title[512];
  const char *variant = method ? method : loss && !resume ? loss : NULL;
  snprintf(title, sizeof title, "train %s%s%s: %s steps → %s", distance ? "distance" : "dynamics",
           variant ? " " : "", variant ? variant : "", steps, entry_text(out));
  start_job(win, distance ? "distance" : "dynamics", title, entry_text(out), args);
}

static void on_start_distance(GtkButton *b, MbWindow *win) {
  (void)b;
  on_start_train(win, true);
}

static void on_start_dynamics(GtkButton *b, MbWindow *win) {
  (void)b;
  on_start_train(win, false);
}

static GtkWidget *form_grid(void) {
  GtkWidget *g = gtk_grid_new();
  gtk_grid_set_row_spacing(GTK_GRID(g), 4);
  gtk_grid_set_column_spacing(GTK_GRID(g), 8);
  gtk_widget_set_margin_top(g, 6);
  return g;
}

static void form_row(GtkWidget *grid, int row, const char *label, GtkWidget *w) {
  GtkWidget *l = gtk_label_new(label);
  gtk_label_set_xalign(GTK_LABEL(l), 0);
  gtk_widget_add_css_class(l, "dim-label");
  gtk_grid_attach(GTK_GRID(grid), l, 0, row, 1, 1);
  gtk_widget_set_hexpand(w, TRUE);
  gtk_grid_attach(GTK_GRID(grid), w, 1, row, 1, 1);
}

static GtkSpinButton *spin(double lo, double hi, double v) {
  GtkWidget *s = gtk_spin_button_new_with_range(lo, hi, 1);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(s), v);
  return GTK_SPIN_BUTTON(s);
}

static GtkEntry *entry(const char *text, const char *tip) {
  GtkWidget *e = gtk_entry_new();
  gtk_editable_set_text(GTK_EDITABLE(e), text);
  gtk_widget_set_tooltip_text(e, tip);
  return GTK_ENTRY(e);
}

static GtkWidget *start_button(const char *label, GCallback cb, MbWindow *win) {
  GtkWidget *b = gtk_button_new_with_label(label);
  gtk_widget_add_css_class(b, "suggested-action");
  gtk_widget_set_halign(b, GTK_ALIGN_END);
  g_signal_connect(b, "clicked", cb, win);
  return b;
}

static GtkWidget *build_collect_form(MbWindow *win) {
  mb_jobs *js = win->jobs;
  GtkWidget *g = form_grid();
  int r = 0;
  js->c_task = GTK_DROP_DOWN(gtk_drop_down_new_from_strings(tasks));
  gtk_drop_down_set_selected(js->c_task, 1);
  form_row(g, r++, "Task", GTK_WIDGET(js->c_task));
  js->c_episodes = spin(1, 1000000, 200);
  form_row(g, r++, "Episodes", GTK_WIDGET(js->c_episodes));
  js->c_seed = spin(0, 1e9, 1);
  form_row(g, r++, "Seed", GTK_WIDGET(js->c_seed));
  js->c_threads = spin(1, 64, 2);
  form_row(g, r++, "Threads", GTK_WIDGET(js->c_threads));
  js->c_out = entry("data/push1.h5", "HDF5 file to write (never overwritten; see Resume)");
  form_row(g, r++, "Output", GTK_WIDGET(js->c_out));
  js->c_resume = GTK_CHECK_BUTTON(gtk_check_button_new_with_label("Resume an existing file"));
  form_row(g, r++, "", GTK_WIDGET(js->c_resume));
  js->c_start = start_button("Start Collection", G_CALLBACK(on_start_collect), win);
  gtk_grid_attach(GTK_GRID(g), js->c_start, 1, r++, 1, 1);
  return g;
}

static GtkWidget *build_train_form(MbWindow *win, bool distance) {
  mb_jobs *js = win->jobs;
  GtkWidget *g = form_grid();
  int r = 0;
  GtkEntry *data = entry("data/push1.h5", "Dataset from a collection");
  GtkEntry *out = entry(distance ? "runs/distance-push1" : "runs/dynamics-push1",
                        "Run folder: config.json, log.jsonl, checkpoints");
  GtkSpinButton *steps = spin(1, 10000000, distance ? 20000 : 20000);
  GtkSpinButton *seed = spin(0, 1e9, 1);
  GtkDropDown *backend = GTK_DROP_DOWN(gtk_drop_down_new_from_strings(backends));
  GtkCheckButton *resume =
      GTK_CHECK_BUTTON(gtk_check_button_new_with_label("Resume from the last checkpoint"));
  form_row(g, r++, "Dataset", GTK_WIDGET(data));
  form_row(g, r++, "Run folder", GTK_WIDGET(out));
  form_row(g, r++, "Steps", GTK_WIDGET(steps));
  form_row(g, r++, "Seed", GTK_WIDGET(seed));
  if (distance) {
    js->d_method = GTK_DROP_DOWN(gtk_drop_down_new_from_strings(methods));
    form_row(g, r++, "Method", GTK_WIDGET(js->d_method));
  } else {
    js->m_loss = GTK_DROP_DOWN(gtk_drop_down_new_from_strings(losses));
    gtk_widget_set_tooltip_text(
        GTK_WIDGET(js->m_loss),
        "Pixel loss: l2 is the paper's Eq. 1; l1 draws the likelier outcome "
        "sharp where l2 fades a block that may or may not be pushed");
    form_row(g, r++, "Loss", GTK_WIDGET(js->m_loss));
  }
  form_row(g, r++, "Backend", GTK_WIDGET(backend));
  form_row(g, r++, "", GTK_WIDGET(resume));
  GtkWidget *start =
      start_button(distance ? "Train Distance" : "Train Dynamics",
                   distance ? G_CALLBACK(on_start_distance) : G_CALLBACK(on_start_dynamics), win);
  gtk_grid_attach(GTK_GRID(g), start, 1, r++, 1, 1);
  if (distance) {
    js->d_data = data, js->d_out = out, js->d_steps = steps, js->d_seed = seed;
    js->d_backend = backend, js->d_resume = resume, js->d_start = start;
  } else {
    js->m_data = data, js->m_out = out, js->m_steps = steps, js->m_seed = seed;
    js->m_backend = backend, js->m_resume = resume, js->m_start = start;
  }
  return g;
}

void mb_window_training_init(MbWindow *win) {
  mb_jobs *js = g_new0(mb_jobs, 1);
  win->jobs = js;
  js->selected = -1;
  GtkWidget *forms = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_size_request(forms, 340, -1);
  gtk_widget_set_margin_start(forms, 6);
  gtk_widget_set_margin_top(forms, 6);
  GtkWidget *stack = gtk_stack_new();
  gtk_stack_add_titled(GTK_STACK(stack), build_collect_form(win), "collect", "Collect Data");
  gtk_stack_add_titled(GTK_STACK(stack), build_train_form(win, true), "distance", "Distance");
  gtk_stack_add_titled(GTK_STACK(stack), build_train_form(win, false), "dynamics", "Dynamics");
  GtkWidget *switcher = gtk_stack_switcher_new();
  gtk_stack_switcher_set_stack(GTK_STACK_SWITCHER(switcher), GTK_STACK(stack));
  js->switcher = switcher;
  gtk_box_append(GTK_BOX(forms), switcher);
  gtk_box_append(GTK_BOX(forms), stack);
  gtk_box_append(win->training_page, forms);

  GtkWidget *right = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_hexpand(right, TRUE);
  GtkWidget *scroller = gtk_scrolled_window_new();
  gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroller), GTK_POLICY_NEVER,
                                 GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_min_content_height(GTK_SCROLLED_WINDOW(scroller), 120);
  js->list = GTK_LIST_BOX(gtk_list_box_new());
  gtk_list_box_set_placeholder(js->list, gtk_label_new("No jobs yet: start one on the left"));
  g_signal_connect(js->list, "row-selected", G_CALLBACK(on_row_selected), win);
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroller), GTK_WIDGET(js->list));
  gtk_box_append(GTK_BOX(right), scroller);
  js->loss_plot = MB_PLOT(mb_plot_new());
  gtk_widget_set_vexpand(GTK_WIDGET(js->loss_plot), TRUE);
  mb_plot_set_title(js->loss_plot, "Loss of the selected job");
  mb_plot_set_axis_labels(js->loss_plot, "step", "loss");
  gtk_box_append(GTK_BOX(right), GTK_WIDGET(js->loss_plot));
  gtk_box_append(win->training_page, right);
}

void mb_window_training_tick(MbWindow *win) {
  mb_jobs *js = win->jobs;
  if (!js || js->selected < 0 || js->selected >= js->n) return;
  mb_job *j = js->jobs[js->selected];
  int n = (int)j->loss_x->len;
  if (n == js->plotted_points) return;
  js->plotted_points = n;
  mb_plot_clear(js->loss_plot);
  if (n > 0) {
    mb_plot_add_series(js->loss_plot, j->loss_name, (const float *)j->loss_x->data,
                       (const float *)j->loss_y->data, n);
    mb_plot_set_log_y(js->loss_plot, TRUE);
  }
  for (int i = 0; i < js->n; i++)
    if (js->jobs[i]->running) job_update_row(js->jobs[i]);
}

void mb_window_training_dispose(MbWindow *win) {
  mb_jobs *js = win->jobs;
  if (!js) return;
  for (int i = 0; i < js->n; i++) {
    mb_job *j = js->jobs[i];
    g_cancellable_cancel(j->cancellable);
    g_object_unref(j->cancellable);
    g_object_unref(j->err);
    g_object_unref(j->proc);
    g_array_free(j->loss_x, TRUE);
    g_array_free(j->loss_y, TRUE);
    g_free(j->title);
    g_free(j->kind);
    g_free(j->out);
    g_free(j);
  }
  g_free(js);
  win->jobs = NULL;
}

/* ---- run choosers ------------------------------------------------------------------------------
 */

/* "distance", "regression" (a distance run of the regression method) or "dynamics", from a run
 * folder's config.json; NULL when it is not a run. */
static const char *run_kind(const char *dir) {
  mb_json *cfg = train_run_config(dir, NULL, 0);
  if (!cfg) return NULL;
  const char *kind = NULL;
  const char *trainer = mb_json_as_string(mb_json_get(cfg, "trainer"));
  const char *method = mb_json_as_string(mb_json_get(cfg, "method"));
  if (trainer && !strcmp(trainer, "dynamics"))
    kind = "dynamics";
  else if (method && !strcmp(method, "regression"))
    kind = "regression";
  else if ((trainer && !strcmp(trainer, "distance")) || method)
    kind = "distance";
  mb_json_free(cfg);
  return kind;
}

static void add_run(MbWindow *win, const char *dir) {
  const char *kind = run_kind(dir);
  if (!kind) return;
  bool dyn = !strcmp(kind, "dynamics");
  GPtrArray *paths = dyn ? win->dynamics_paths : win->distance_paths;
  for (guint i = 1; i < paths->len; i++)
    if (!strcmp(g_ptr_array_index(paths, i), dir)) return;
  char *base = g_path_get_basename(dir);
  char label[256];
  snprintf(label, sizeof label, "%s (%s)", base, kind);
  g_free(base);
  gtk_string_list_append(dyn ? win->dynamics_runs : win->distance_runs, label);
  g_ptr_array_add(paths, g_strdup(dir));
}

static void scan_runs_dir(MbWindow *win, const char *root) {
  GDir *d = g_dir_open(root, 0, NULL);
  if (!d) return;
  const char *name;
  while ((name = g_dir_read_name(d))) {
    char *dir = g_build_filename(root, name, NULL);
    if (g_file_test(dir, G_FILE_TEST_IS_DIR)) add_run(win, dir);
    g_free(dir);
  }
  g_dir_close(d);
}

void mb_window_refresh_runs(MbWindow *win) {
  win->configuring = true;
  scan_runs_dir(win, "runs");
  const char *env = g_getenv("MBOLD_RUNS");
  if (env && *env) scan_runs_dir(win, env);
  if (win->jobs)
    for (int i = 0; i < win->jobs->n; i++)
      if (strcmp(win->jobs->jobs[i]->kind, "collect") && win->jobs->jobs[i]->finished)
        add_run(win, win->jobs->jobs[i]->out);
  win->configuring = false;
}

static guint index_of(GPtrArray *paths, const char *dir) {
  for (guint i = 1; i < paths->len; i++)
    if (!strcmp(g_ptr_array_index(paths, i), dir)) return i;
  return 0;
}

void mb_window_select_runs(MbWindow *win, const char *distance, const char *dynamics) {
  if (distance) add_run(win, distance);
  if (dynamics) add_run(win, dynamics);
  win->configuring = true;
  if (distance && index_of(win->distance_paths, distance)) {
    gtk_drop_down_set_selected(win->distance_drop, index_of(win->distance_paths, distance));
    const char *kind = run_kind(distance);
    gtk_drop_down_set_selected(win->cost_drop, kind && !strcmp(kind, "regression") ? 2 : 1);
  }
  if (dynamics && index_of(win->dynamics_paths, dynamics))
    gtk_drop_down_set_selected(win->dynamics_drop, index_of(win->dynamics_paths, dynamics));
  win->configuring = false;
}

/* ---- test state --------------------------------------------------------------------------------
 */

void mb_window_training_test_rects(MbWindow *win, mb_jw *w) {
  mb_jobs *js = win->jobs;
  if (!js) return;
  mb_window_json_rect(win, w, "collect_start", js->c_start);
  mb_window_json_rect(win, w, "collect_episodes", GTK_WIDGET(js->c_episodes));
  mb_window_json_rect(win, w, "collect_out", GTK_WIDGET(js->c_out));
  mb_window_json_rect(win, w, "distance_data", GTK_WIDGET(js->d_data));
  mb_window_json_rect(win, w, "distance_out", GTK_WIDGET(js->d_out));
  mb_window_json_rect(win, w, "distance_start", js->d_start);
  static const char *const form_names[] = {"form_collect", "form_distance", "form_dynamics"};
  GtkWidget *b = js->switcher ? gtk_widget_get_first_child(js->switcher) : NULL;
  for (int i = 0; b && i < 3; i++, b = gtk_widget_get_next_sibling(b))
    mb_window_json_rect(win, w, form_names[i], b);
  if (js->n > 0) {
    mb_job *j = js->jobs[js->n - 1];
    mb_window_json_rect(win, w, "job_cancel", mb_job_row_get_cancel_button(j->row));
    mb_window_json_rect(win, w, "job_pause", mb_job_row_get_pause_button(j->row));
  }
}

void mb_window_training_test_state(MbWindow *win, mb_jw *w) {
  mb_jobs *js = win->jobs;
  mb_jw_key(w, "jobs");
  mb_jw_begin_array(w);
  for (int i = 0; js && i < js->n; i++) {
    mb_job *j = js->jobs[i];
    mb_jw_begin_object(w);
    mb_jw_kv_string(w, "kind", j->kind);
    mb_jw_kv_string(w, "out", j->out);
    mb_jw_kv_bool(w, "running", j->running);
    mb_jw_kv_bool(w, "paused", j->paused);
    mb_jw_kv_bool(w, "finished", j->finished);
    mb_jw_kv_bool(w, "cancel_requested", j->cancel_requested);
    mb_jw_kv_int(w, "exit_status", j->exit_status);
    mb_jw_kv_int(w, "done", j->done);
    mb_jw_kv_int(w, "total", j->total);
    mb_jw_end_object(w);
  }
  mb_jw_end_array(w);
}
