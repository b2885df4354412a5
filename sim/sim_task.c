#include "sim_task.h"

#include <string.h>

static const sim_task_info infos[SIM_TASK_COUNT] = {
    {SIM_TASK_REACH, "reach", "reach.xml", 0, {0.6f, 0.6f, 0.3f, 0.3f}, 0.05},
    {SIM_TASK_PUSH1, "push1", "push1.xml", 1, {0.6f, 0.6f, 0.3f, 0.3f}, 0.05},
    {SIM_TASK_PUSH3, "push3", "push3.xml", 3, {0.6f, 0.6f, 0.3f, 0.3f}, 0.05},
    {SIM_TASK_DOOR, "door", "door.xml", 1, {0.3f, 0.3f, 0.3f, 0.15f}, 0.075},
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
