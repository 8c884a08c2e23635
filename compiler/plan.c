/* SPDX-License-Identifier: MIT */
/* plan.c: looking up versions and paths in the checked plan (plan.h). */
#include "compiler/plan.h"

#include <stdint.h>
#include <stdlib.h>

#include "core/util.h"

/* The canonical text of a version, the key of plan.by_name. */
const char *
plan_version_key(struct arena *a, const struct semver *v)
{
    return arena_printf(a, "%llu.%llu.%llu%s%s", (unsigned long long)v->major,
                        (unsigned long long)v->minor, (unsigned long long)v->patch,
                        v->pre ? "-" : "", v->pre ? v->pre : "");
}

struct plan_version *
plan_find_version(const struct plan *p, struct arena *a, const char *text)
{
    struct semver v;

    if (semver_parse(text, &v))
        return NULL;
    return hmap_get(&p->by_name, plan_version_key(a, &v));
}

void
plan_free(struct plan *p)
{
    hmap_free(&p->by_name);
}

size_t
plan_path(const struct plan *p, struct plan_version *from, struct plan_version *to,
          struct plan_version ***out)
{
    struct plan_version *v;
    size_t n = 0, i;

    (void)p;
    *out = NULL;
    for (v = to; v && v != from; v = v->parent)
        n++;
    if (v != from)
        return SIZE_MAX;
    *out = xmalloc((n + 1) * sizeof **out);
    i = n;
    for (v = to; v != from; v = v->parent)
        (*out)[--i] = v;
    return n;
}

struct plan_version *
plan_last(const struct plan *p)
{
    return p->nversions ? p->versions[p->nversions - 1] : NULL;
}
