#include "dist_data.h"

#include "mb_err.h"

#include <math.h>
#include <string.h>

const char *dist_method_name(dist_method m) {
  return m == DIST_METHOD_REGRESSION ? "regression" : "q";
}

bool dist_method_parse(const char *name, dist_method *out) {
  if (!name) return false;
  if (!strcmp(name, "q"))
    *out = DIST_METHOD_Q;
  else if (!strcmp(name, "regression"))
    *out = DIST_METHOD_REGRESSION;
  else
    return false;
  return true;
}

bool dist_dataset_check(const dist_dataset *d, int min_episodes, const char *what, char *err,
                        size_t err_sz) {
  if (d->episodes < min_episodes)
    return mb_fail(err, err_sz, "%s: %d episodes, at least %d needed", what, d->episodes,
                   min_episodes);
  if (d->steps < 2 || d->arm_dim < 1 || d->arm_dim > DIST_MAX_ARM)
    return mb_fail(err, err_sz, "%s: episodes of %d steps with %d arm joints (need >= 2 and 1..%d)",
                   what, d->steps, d->arm_dim, DIST_MAX_ARM);
  if (!d->images || !d->actions || !d->arm_qpos)
    return mb_fail(err, err_sz, "%s: missing arrays", what);
  size_t na = (size_t)d->episodes * (size_t)d->steps * DIST_ACTION_DIM;
  for (size_t i = 0; i < na; i++)
    if (!isfinite(d->actions[i]))
      return mb_fail(err, err_sz, "%s: action %zu of episode %lld is not a finite number", what,
                     i % ((size_t)d->steps * DIST_ACTION_DIM),
                     (long long)(d->ids ? d->ids[i / ((size_t)d->steps * DIST_ACTION_DIM)]
                                        : (int64_t)(i / ((size_t)d->steps * DIST_ACTION_DIM))));
  size_t per = (size_t)(d->steps + 1) * (size_t)d->arm_dim;
  size_t nq = (size_t)d->episodes * per;
  for (size_t i = 0; i < nq; i++)
    if (!isfinite(d->arm_qpos[i]))
      return mb_fail(err, err_sz, "%s: arm_qpos of episode %lld is not a finite number", what,
                     (long long)(d->ids ? d->ids[i / per] : (int64_t)(i / per)));
  return true;
}
