/* Per-shader device time, for finding where a Vulkan workload spends it (MBOLD_VK_PROFILE=1).
 *
 * The recorder writes a timestamp at the start of every command buffer and after every dispatch;
 * after the submit completes, each dispatch is charged the time since the previous timestamp (its
 * barrier and any copies recorded before it included: they are waits the dispatch causes). The
 * totals are kept per pipeline (shader and specialisation constants) and printed, largest first,
 * when the recorder is destroyed. Devices execute a command buffer's dispatches in order when a
 * barrier separates them, which the recorder's barriers almost always do; where two dispatches
 * overlap, the time is split between them as their timestamps fall. */
#ifndef VK_PROFILE_H
#define VK_PROFILE_H

#include "vk_pipeline.h"

#include <stdio.h>

typedef struct vk_profile vk_profile;

/* NULL when MBOLD_VK_PROFILE is unset or the queue has no timestamps. */
vk_profile *vk_profile_create(vk_runtime *rt);
void vk_profile_destroy(vk_profile *p); /* p may be NULL */

/* At the start of a command buffer: resets the queries and writes the first timestamp. */
void vk_profile_begin(vk_profile *p, VkCommandBuffer cmd);
/* After a dispatch of pipe. Dispatches past the query pool's size go unmeasured (counted). */
void vk_profile_mark(vk_profile *p, VkCommandBuffer cmd, const vk_pipeline *pipe);
/* After the command buffer's fence: charges the measured intervals. */
void vk_profile_collect(vk_profile *p);
/* The table: per pipeline, milliseconds, share, dispatches and microseconds per dispatch. */
void vk_profile_report(const vk_profile *p, FILE *f);

#endif
