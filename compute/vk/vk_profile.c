/* Per-shader device time from timestamp queries (vk_profile.h). */
#include "vk_profile.h"

#include <stdlib.h>
#include <string.h>

#define MAX_QUERIES 8192 /* timestamps per command buffer */
#define MAX_ENTRIES 256  /* distinct pipelines */

typedef struct entry {
  const vk_pipeline *pipe; /* the cache owns it for the runtime's life */
  double ns;               /* charged device time */
  long count;              /* dispatches */
} entry;

struct vk_profile {
  vk_runtime *rt;
  VkQueryPool pool;
  double period_ns;                      /* nanoseconds per timestamp tick */
  uint64_t mask;                         /* valid timestamp bits */
  const vk_pipeline *marks[MAX_QUERIES]; /* dispatch of query i (i >= 1) */
  uint64_t ts[MAX_QUERIES];              /* the timestamps read back */
  int nq;                                /* queries written in the open command buffer */
  entry entries[MAX_ENTRIES];
  int nentries;
  long unmeasured; /* dispatches past MAX_QUERIES or past MAX_ENTRIES */
};

vk_profile *vk_profile_create(vk_runtime *rt) {
  const char *env = getenv("MBOLD_VK_PROFILE");
  if (!env || !*env || !strcmp(env, "0")) return NULL;
  uint32_t bits = rt->timestamp_bits;
  if (bits == 0) {
    fprintf(stderr, "MBOLD_VK_PROFILE: the queue has no timestamps; not profiling\n");
    return NULL;
  }
  vk_profile *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->rt = rt;
  p->period_ns = rt->props.limits.timestampPeriod;
  p->mask = bits >= 64 ? ~0ull : (1ull << bits) - 1;
  VkQueryPoolCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                              .queryType = VK_QUERY_TYPE_TIMESTAMP,
                              .queryCount = MAX_QUERIES};
  if (rt->vk.CreateQueryPool(rt->device, &qi, NULL, &p->pool) != VK_SUCCESS) {
    free(p);
    return NULL;
  }
  return p;
}

void vk_profile_destroy(vk_profile *p) {
  if (!p) return;
  p->rt->vk.DestroyQueryPool(p->rt->device, p->pool, NULL);
  free(p);
}

void vk_profile_begin(vk_profile *p, VkCommandBuffer cmd) {
  if (!p) return;
  p->rt->vk.CmdResetQueryPool(cmd, p->pool, 0, MAX_QUERIES);
  p->rt->vk.CmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, p->pool, 0);
  p->nq = 1;
}

void vk_profile_mark(vk_profile *p, VkCommandBuffer cmd, const vk_pipeline *pipe) {
  if (!p) return;
  if (p->nq >= MAX_QUERIES) {
    p->unmeasured++;
    return;
  }
  p->marks[p->nq] = pipe;
  p->rt->vk.CmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, p->pool, (uint32_t)p->nq);
  p->nq++;
}

static entry *find(vk_profile *p, const vk_pipeline *pipe) {
  for (int i = 0; i < p->nentries; i++)
    if (p->entries[i].pipe == pipe) return &p->entries[i];
  if (p->nentries == MAX_ENTRIES) return NULL;
  p->entries[p->nentries] = (entry){pipe, 0, 0};
  return &p->entries[p->nentries++];
}

void vk_profile_collect(vk_profile *p) {
  if (!p || p->nq < 2) return;
  uint64_t *ts = p->ts;
  VkResult res =
      p->rt->vk.GetQueryPoolResults(p->rt->device, p->pool, 0, (uint32_t)p->nq, sizeof p->ts, ts,
                                    sizeof *ts, VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
  if (res == VK_SUCCESS)
    for (int i = 1; i < p->nq; i++) {
      entry *e = find(p, p->marks[i]);
      if (!e) {
        p->unmeasured++;
        continue;
      }
      e->ns += (double)((ts[i] - ts[i - 1]) & p->mask) * p->period_ns;
      e->count++;
    }
  p->nq = 0;
}

static int by_time(const void *a, const void *b) {
  double x = ((const entry *)a)->ns, y = ((const entry *)b)->ns;
  return x < y ? 1 : x > y ? -1 : 0;
}

void vk_profile_report(const vk_profile *p, FILE *f) {
  if (!p) return;
  entry sorted[MAX_ENTRIES];
  memcpy(sorted, p->entries, sizeof *sorted * (size_t)p->nentries);
  qsort(sorted, (size_t)p->nentries, sizeof *sorted, by_time);
  double total = 0;
  long count = 0;
  for (int i = 0; i < p->nentries; i++) total += sorted[i].ns, count += sorted[i].count;
  fprintf(f, "Vulkan profile: %.1f ms device time in %ld dispatches (%ld unmeasured)\n",
          total * 1e-6, count, p->unmeasured);
  fprintf(f, "  %10s %6s %9s %9s  pipeline\n", "ms", "share", "dispatch", "us each");
  for (int i = 0; i < p->nentries; i++) {
    const entry *e = &sorted[i];
    char spec[96] = "";
    size_t len = 0;
    for (int k = 0; k < e->pipe->nspec && len < sizeof spec - 12; k++)
      len +=
          (size_t)snprintf(spec + len, sizeof spec - len, "%s%u", k ? "," : " [", e->pipe->spec[k]);
    if (e->pipe->nspec) snprintf(spec + len, sizeof spec - len, "]");
    fprintf(f, "  %10.2f %5.1f%% %9ld %9.1f  %s%s\n", e->ns * 1e-6,
            total > 0 ? 100 * e->ns / total : 0, e->count,
            e->count ? e->ns * 1e-3 / (double)e->count : 0, vk_shader_table[e->pipe->shader].name,
            spec);
  }
}
