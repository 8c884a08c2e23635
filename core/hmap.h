/* SPDX-License-Identifier: MIT */
/*
 * hmap.h: an open-addressing hash map from NUL-terminated string keys to
 * pointers. Keys are borrowed (they must outlive the map: arena strings).
 * The map can fold ASCII case when hashing and comparing, which is how the
 * schema model finds names that SQLite would consider equal.
 * The slot array is on the heap; hmap_free() releases it.
 */
#ifndef UPG_CORE_HMAP_H
#define UPG_CORE_HMAP_H

#include <stdbool.h>
#include <stddef.h>

struct hmap_slot {
    const char *key; /* NULL: empty; HMAP_TOMBSTONE: deleted */
    void *value;
    unsigned long long hash; /* of the (folded) key: most probes skip the comparison */
};

struct hmap {
    struct hmap_slot *slots;
    size_t cap;  /* power of two, or 0 */
    size_t len;  /* live entries */
    size_t used; /* live entries + tombstones */
    bool fold;   /* compare keys with ASCII case folded */
};

void hmap_init(struct hmap *m, bool fold);
void hmap_free(struct hmap *m);
/* Returns the value stored under key, or NULL. */
void *hmap_get(const struct hmap *m, const char *key);
/* Returns the key as stored (its original spelling), or NULL. */
const char *hmap_key(const struct hmap *m, const char *key);
/* Inserts or replaces. */
void hmap_put(struct hmap *m, const char *key, void *value);
/* Removes key; returns true when it was present. */
bool hmap_del(struct hmap *m, const char *key);

/* Iteration: for (i = 0; hmap_next(m, &i, &k, &v);) ... in slot order. */
bool hmap_next(const struct hmap *m, size_t *iter, const char **key, void **value);

#endif
