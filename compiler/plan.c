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

/* The index of the version a step starts from in plan_ways()'s arrays (nversions: empty). */
static size_t
start_of(const struct plan *p, const struct plan_version *step)
{
    return step->parent ? step->parent->index : p->nversions;
}

void
plan_ways(const struct plan *p, const struct plan_version *to, struct plan_version **next)
{
    size_t n = p->nversions, *dist = xmalloc((n + 1) * sizeof *dist), i;

    for (i = 0; i <= n; i++) {
        dist[i] = SIZE_MAX;
        next[i] = NULL;
    }
    dist[to->index] = 0;
    /* every step leads to a later version than it starts from: in decreasing order, a
     * version's distance is final before the steps into it are relaxed */
    for (i = to->index + 1; i-- > 0;) {
        struct plan_version *v = p->versions[i], *steps[2] = {v, v->merge_step};
        if (dist[i] == SIZE_MAX)
            continue;
        for (size_t k = 0; k < 2; k++) {
            size_t s;
            if (!steps[k] || (k == 1 && !steps[k]->parent))
                continue;
            s = start_of(p, steps[k]);
            if (dist[i] + 1 < dist[s]) { /* ties keep the version's own step */
                dist[s] = dist[i] + 1;
                next[s] = steps[k];
            }
        }
    }
    free(dist);
}

bool
plan_reaches(const struct plan *p, const struct plan_version *from, const struct plan_version *to)
{
    struct plan_version **next;
    bool ok;

    if (from == to)
        return true;
    if (!to || (from && from->index > to->index))
        return false;
    next = xmalloc((p->nversions + 1) * sizeof *next);
    plan_ways(p, to, next);
    ok = next[from ? from->index : p->nversions] != NULL;
    free(next);
    return ok;
}

size_t
plan_step_number(const struct plan *p, const struct plan_version *step)
{
    (void)p;
    return step->index + 1;
}

/* The version a step leads to. */
static const struct plan_version *
arrives(const struct plan_version *step)
{
    return step->derived_of ? step->derived_of : step;
}

size_t
plan_path(const struct plan *p, struct plan_version *from, struct plan_version *to,
          struct plan_version ***out)
{
    struct plan_version *v, **next;
    size_t n = 0, i;

    *out = NULL;
    if (p->nderived == 0) {
        /* a tree: the one path, walking up from `to` */
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
    if (from == to) {
        *out = xmalloc(sizeof **out);
        return 0;
    }
    if (!to || (from && from->index > to->index))
        return SIZE_MAX;
    next = xmalloc((p->nversions + 1) * sizeof *next);
    plan_ways(p, to, next);
    i = from ? from->index : p->nversions;
    for (v = next[i]; v; v = arrives(v) == to ? NULL : next[arrives(v)->index])
        n++;
    if (n == 0) {
        free(next);
        return SIZE_MAX;
    }
    *out = xmalloc((n + 1) * sizeof **out);
    n = 0;
    for (v = next[i]; v; v = arrives(v) == to ? NULL : next[arrives(v)->index])
        (*out)[n++] = v;
    free(next);
    return n;
}

struct plan_version *
plan_last(const struct plan *p)
{
    return p->nversions ? p->versions[p->nversions - 1] : NULL;
}
