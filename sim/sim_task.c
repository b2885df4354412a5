#include "sim_task.h"

#include <string.h>

/* Object colours as in the scenes (assets/scenes: block0..2 red, green, blue; door_handle);
 * test_sim_render finds each where the scene draws it. */
static const sim_task_info infos[SIM_TASK_COUNT] = {
    {.task = SIM_TASK_REACH,
     .name = "reach",
     .scene_file = "reach.xml",
     .num_objects = 0,
     .policy_std = {0.6f, 0.6f, 0.3f, 0.3f},
     .success_threshold = 0.05},
    {.task = SIM_TASK_PUSH1,
     .name = "push1",
     .scene_file = "push1.xml",
     .num_objects = 1,
     .policy_std = {0.6f, 0.6f, 0.3f, 0.3f},
     .success_threshold = 0.05,
     .object_rgb = {{0.85f, 0.15f, 0.12f}}},
    {.task = SIM_TASK_PUSH3,
     .name = "push3",
     .scene_file = "push3.xml",
     .num_objects = 3,
     .policy_std = {0.6f, 0.6f, 0.3f, 0.3f},
     .success_threshold = 0.05,
     .object_rgb = {{0.85f, 0.15f, 0.12f}, {0.15f, 0.7f, 0.2f}, {0.15f, 0.3f, 0.9f}}},
    {.task = SIM_TASK_DOOR,
     .name = "door",
     .scene_file = "door.xml",
     .num_objects = 1,
     .policy_std = {0.3f, 0.3f, 0.3f, 0.15f},
     .success_threshold = 0.075,
     .object_rgb = {{0.15f, 0.15f, 0.6f}}},
};

const sim_task_info *sim_task_get(sim_task task) {
  if ((int)task < 0 || task >= SIM_TASK_COUNT) return NULL;
  return &infos[task];
}

bool sim_task_parse(const char *name, sim_task *out) {
  if (!name) return false;
  for (int i = 0; i < SIM_TASK_COUNT; i++)
    if (!strcmp(name, infos[i].name)) {
      *out = (sim_task)i;
      return true;
    }
  return false;
}

const char *sim_task_name(sim_task task) {
  const sim_task_info *i = sim_task_get(task);
  return i ? i->name : "?";
}

const char *sim_task_list(void) {
  return "reach, push1, push3, door";
}
