/* MbJobRow: one long job (collect, train, evaluate) in the jobs list: its title, a progress bar
 * with a text the app supplies (e.g. "1200 / 5000 steps, 85 steps/s, ETA 0:45"), a status line, a
 * sparkline of its loss, and Pause/Resume and Cancel buttons.
 *
 * Properties:
 *   "title" (string), "status" (string): texts.
 *   "fraction" (double 0..1): progress; "progress-text" (string): text on the bar.
 *   "paused" (boolean): shows the job as paused (the button then offers Resume).
 *   "active" (boolean, default TRUE): FALSE when the job has ended: the buttons are disabled.
 *
 * Signals:
 *   "pause-toggled" (boolean paused): the user pressed Pause (TRUE) or Resume (FALSE); "paused"
 *       already has the new value. Setting "paused" from code does not emit it.
 *   "cancel-clicked" (void): the user pressed Cancel.
 */
#ifndef MB_JOB_ROW_H
#define MB_JOB_ROW_H

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MB_TYPE_JOB_ROW (mb_job_row_get_type())
G_DECLARE_FINAL_TYPE(MbJobRow, mb_job_row, MB, JOB_ROW, GtkWidget)

GtkWidget *mb_job_row_new(const char *title);

void mb_job_row_set_title(MbJobRow *self, const char *title);
void mb_job_row_set_status(MbJobRow *self, const char *status);

/* Sets the bar to fraction (clamped to 0..1) with text (NULL: a percentage). */
void mb_job_row_set_progress(MbJobRow *self, double fraction, const char *text);
double mb_job_row_get_fraction(MbJobRow *self);

/* Replaces the loss values the sparkline shows (copied; NULL/0 empties it). */
void mb_job_row_set_loss(MbJobRow *self, const float *values, int n);
/* Appends one loss value; non-finite values are skipped. */
void mb_job_row_append_loss(MbJobRow *self, float value);

void mb_job_row_set_paused(MbJobRow *self, gboolean paused);
gboolean mb_job_row_get_paused(MbJobRow *self);

void mb_job_row_set_active(MbJobRow *self, gboolean active);
gboolean mb_job_row_get_active(MbJobRow *self);

/* The buttons, for tests and keyboard focus; owned by the row. */
GtkWidget *mb_job_row_get_pause_button(MbJobRow *self);
GtkWidget *mb_job_row_get_cancel_button(MbJobRow *self);

G_END_DECLS

#endif
