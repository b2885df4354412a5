#include "app_progress.h"
#include "mb_clock.h"

#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

void app_progress_init(app_progress *p, const char *label, const char *unit) {
  memset(p, 0, sizeof(*p));
  p->label = label;
  p->unit = unit;
  p->t_start = mb_now();
  p->done0 = -1;
  p->tty = isatty(STDERR_FILENO);
  const char *mode = getenv("MBOLD_PROGRESS");
  p->json = mode && !strcmp(mode, "json");
}

static void json_escape(FILE *f, const char *s) {
  fputc('"', f);
  for (; s && *s; s++) {
    if (*s == '"' || *s == '\\')
      fprintf(f, "\\%c", *s);
    else if ((unsigned char)*s < 0x20)
      fprintf(f, "\\u%04x", *s);
    else
      fputc(*s, f);
  }
  fputc('"', f);
}

void app_progress_log_cb(void *user, const char *json_line) {
  app_progress *p = user;
  if (!p->json) return;
  fprintf(stderr, "{\"log\": %s}\n", json_line);
  fflush(stderr);
}

void app_format_duration(double s, char *out, size_t out_sz) {
  if (s < 0 || s != s) s = 0;
  if (s >= 3600)
    snprintf(out, out_sz, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
  else if (s >= 60)
    snprintf(out, out_sz, "%dm%02ds", (int)(s / 60), (int)s % 60);
  else
    snprintf(out, out_sz, "%.1fs", s);
}

void app_progress_cb(void *user, int64_t done, int64_t total, const char *detail) {
  app_progress *p = user;
  double now = mb_now();
  if (p->done0 < 0) {
    p->done0 = done; /* work resumed from a file counts as done but not towards the rate */
    p->t_start = now;
  }
  bool last = total > 0 && done >= total;
  if (p->json) {
    if (!last && now - p->t_last < 0.25) return;
    p->t_last = now;
    fprintf(stderr, "{\"progress\": {\"done\": %lld, \"total\": %lld, \"unit\": ", (long long)done,
            (long long)total);
    json_escape(stderr, p->unit);
    fprintf(stderr, ", \"detail\": ");
    json_escape(stderr, detail ? detail : "");
    fprintf(stderr, "}}\n");
    fflush(stderr);
    return;
  }
  double min_gap = p->tty ? 0.1 : 5.0;
  if (!last && p->printed && now - p->t_last < min_gap) return;
  if (!last && !p->printed && !p->tty && now - p->t_start < min_gap && done > p->done0) return;
  p->t_last = now;
  double elapsed = now - p->t_start;
  double rate = elapsed > 0 ? (double)(done - p->done0) / elapsed : 0;
  char eta[32] = "?", el[32];
  if (rate > 0 && total > 0) app_format_duration((double)(total - done) / rate, eta, sizeof eta);
  app_format_duration(elapsed, el, sizeof el);
  double frac = total > 0 ? (double)done / (double)total : 0;
  if (p->tty) {
    char bar[31];
    int fill = (int)(frac * 30 + 0.5);
    for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
    bar[30] = 0;
    fprintf(stderr, "\r\033[K%s [%s] %lld/%lld %s  %.1f/s  %s elapsed, ETA %s%s%s", p->label, bar,
            (long long)done, (long long)total, p->unit, rate, el, eta, detail ? "  " : "",
            detail ? detail : "");
  } else {
    fprintf(stderr, "%s: %lld/%lld %s (%.0f%%)  %.1f/s  %s elapsed, ETA %s%s%s\n", p->label,
            (long long)done, (long long)total, p->unit, 100 * frac, rate, el, eta,
            detail ? "  " : "", detail ? detail : "");
  }
  fflush(stderr);
  p->printed = true;
}

void app_progress_finish(app_progress *p) {
  if (p->tty && p->printed) fputc('\n', stderr);
  p->printed = false;
}
