/* SPDX-License-Identifier: MIT */
/*
 * hmap.c: linear probing, FNV-1a hashing, tombstones on delete. The table
 * is rebuilt (dropping tombstones) when live entries plus tombstones pass
 * 3/4 of the capacity, so create/drop churn during schema replay stays O(1).
 */
#include "core/hmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static const char hmap_tombstone_[1];
#define HMAP_TOMBSTONE (hmap_tombstone_)

void
hmap_init(struct hmap *m, bool fold)
{
    memset(m, 0, sizeof *m);
    m->fold = fold;
}

void
hmap_free(struct hmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->len = m->used = 0;
}

static uint64_t
hash(const struct hmap *m, const char *s)
{
    uint64_t h = 0xcbf29ce484222325u;

    for (; *s; s++) {
        unsigned char c = (unsigned char)(m->fold ? ascii_lower(*s) : *s);
        h ^= c;
        h *= 0x100000001b3u;
    }
    return h;
}

static bool
keq(const struct hmap *m, const char *a, const char *b)
{
    return m->fold ? ascii_casecmp(a, b) == 0 : strcmp(a, b) == 0;
}

static struct hmap_slot *
find_h(const struct hmap *m, const char *key, uint64_t h)
{
    size_t mask, i;

    if (!m->cap)
        return NULL;
    mask = m->cap - 1;
    for (i = h & mask;; i = (i + 1) & mask) {
        struct hmap_slot *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (s->key != HMAP_TOMBSTONE && s->hash == h && keq(m, s->key, key))
            return s;
    }
}

static struct hmap_slot *
find(const struct hmap *m, const char *key)
{
    return find_h(m, key, hash(m, key));
}

static void
rehash(struct hmap *m, size_t ncap)
{
    struct hmap_slot *old = m->slots;
    size_t ocap = m->cap, i;

    m->slots = xcalloc(ncap, sizeof *m->slots);
    m->cap = ncap;
    m->len = m->used = 0;
    for (i = 0; i < ocap; i++)
        if (old[i].key && old[i].key != HMAP_TOMBSTONE)
            hmap_put(m, old[i].key, old[i].value);
    free(old);
}

void *
hmap_get(const struct hmap *m, const char *key)
{
    struct hmap_slot *s = find(m, key);

    return s ? s->value : NULL;
}

const char *
hmap_key(const struct hmap *m, const char *key)
{
    struct hmap_slot *s = find(m, key);

    return s ? s->key : NULL;
}

void
hmap_put(struct hmap *m, const char *key, void *value)
{
    uint64_t h = hash(m, key);
    struct hmap_slot *s = find_h(m, key, h);
    size_t mask, i;

    if (s) {
        s->key = key;
        s->value = value;
        return;
    }
    if ((m->used + 1) * 4 > m->cap * 3) {
        size_t ncap = 16;
        while (ncap < (m->len + 1) * 2)
            ncap *= 2;
        rehash(m, ncap);
    }
    mask = m->cap - 1;
    for (i = h & mask;; i = (i + 1) & mask) {
        s = &m->slots[i];
        if (!s->key || s->key == HMAP_TOMBSTONE) {
            if (!s->key)
                m->used++;
            s->key = key;
            s->value = value;
            s->hash = h;
            m->len++;
            return;
        }
    }
}

bool
hmap_del(struct hmap *m, const char *key)
{
    struct hmap_slot *s = find(m, key);

    if (!s)
        return false;
    s->key = HMAP_TOMBSTONE;
    s->value = NULL;
    m->len--;
    return true;
}

bool
hmap_next(const struct hmap *m, size_t *iter, const char **key, void **value)
{
    for (; *iter < m->cap; (*iter)++) {
        struct hmap_slot *s = &m->slots[*iter];
        if (s->key && s->key != HMAP_TOMBSTONE) {
            *key = s->key;
            *value = s->value;
            (*iter)++;
            return true;
        }
    }
    return false;
}
