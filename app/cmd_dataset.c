/* mbold dataset stats FILE.h5: size, splits and interaction statistics of a dataset. */
#include "app_cli.h"

#include "sim_collect.h"
#include "sim_dataset.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

int app_cmd_dataset(int argc, char **argv);

static int print_stats(const char *path, gboolean json) {
  const char *cmd = "dataset stats";
  char err[1024];
  sim_dataset *ds = sim_dataset_open(path, err, sizeof err);
  if (!ds) return app_bad_input(cmd, "%s", err);
  const sim_dataset_meta *m = sim_dataset_get_meta(ds);
  sim_dataset_stats st;
  if (!sim_dataset_compute_stats(ds, &st, err, sizeof err)) {
    sim_dataset_close(ds);
    return app_bad_input(cmd, "%s", err);
  }
  const char *what = m->task == SIM_TASK_DOOR ? "slide" : "some block";
  if (json) {
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "file");
    json_builder_add_string_value(b, path);
    json_builder_set_member_name(b, "task");
    json_builder_add_string_value(b, sim_task_name(m->task));
    json_builder_set_member_name(b, "seed");
    json_builder_add_int_value(b, (gint64)m->seed);
    json_builder_set_member_name(b, "scene_version");
    json_builder_add_string_value(b, m->scene_version);
    json_builder_set_member_name(b, "episodes");
    json_builder_add_int_value(b, st.episodes);
    json_builder_set_member_name(b, "frames");
    json_builder_add_int_value(b, st.frames);
    for (int s = 0; s < 3; s++) {
      json_builder_set_member_name(b, sim_split_name((sim_split)s));
      json_builder_add_int_value(b, st.split_count[s]);
    }
    json_builder_set_member_name(b, "num_objects");
    json_builder_add_int_value(b, m->num_objects);
    json_builder_set_member_name(b, "moved_episodes");
    json_builder_add_int_value(b, st.moved_episodes);
    json_builder_set_member_name(b, "moved_fraction");
    json_builder_add_double_value(b, st.moved_fraction);
    json_builder_set_member_name(b, "mean_displacement_m");
    json_builder_add_double_value(b, st.mean_displacement);
    json_builder_set_member_name(b, "mean_ee_travel_m");
    json_builder_add_double_value(b, st.mean_ee_travel);
    json_builder_end_object(b);
    JsonGenerator *g = json_generator_new();
    json_generator_set_pretty(g, TRUE);
    JsonNode *root = json_builder_get_root(b);
    json_generator_set_root(g, root);
    gchar *text = json_generator_to_data(g, NULL);
    printf("%s\n", text);
    g_free(text);
    json_node_unref(root);
    g_object_unref(g);
    g_object_unref(b);
  } else {
    printf("file            %s\n", path);
    printf("task            %s (seed %llu, scene %s)\n", sim_task_name(m->task),
           (unsigned long long)m->seed, m->scene_version);
    printf("episodes        %lld (train %lld, val %lld, test %lld; %s)\n", (long long)st.episodes,
           (long long)st.split_count[0], (long long)st.split_count[1], (long long)st.split_count[2],
           SIM_DATASET_SPLIT_RULE);
    printf("frames          %lld\n", (long long)st.frames);
    if (m->num_objects > 0) {
      printf("interaction     %.1f%% of episodes moved %s >= %.0f cm (%lld)\n",
             100 * st.moved_fraction, what, 100 * SIM_MOVED_THRESHOLD,
             (long long)st.moved_episodes);
      printf("displacement    %.4f m mean largest object displacement per episode\n",
             st.mean_displacement);
    } else {
      printf("interaction     no objects in this task\n");
    }
    printf("ee travel       %.4f m mean end-effector distance, first to last frame\n",
           st.mean_ee_travel);
  }
  sim_dataset_close(ds);
  return APP_EXIT_OK;
}

int app_cmd_dataset(int argc, char **argv) {
  const char *cmd = "dataset";
  gboolean json = FALSE;
  GOptionEntry entries[] = {
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON instead of text", NULL},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int rc = app_parse_options(cmd, "stats FILE.h5", "Inspects a dataset.", entries, &argc, &argv);
  if (rc >= 0) return rc;
  if (argc < 2) return app_bad_input(cmd, "missing action (usage: mbold dataset stats FILE.h5)");
  if (strcmp(argv[1], "stats"))
    return app_bad_input(cmd, "unknown action '%s' (usage: mbold dataset stats FILE.h5)", argv[1]);
  if (argc != 3) return app_bad_input(cmd, "usage: mbold dataset stats FILE.h5 (one file)");
  return print_stats(argv[2], json);
}
