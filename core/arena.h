/* SPDX-License-Identifier: MIT */
/*
 * arena.h: the compiler's block allocator (QBE's pool, PostgreSQL's memory
 * contexts). One arena per compilation holds token text, the AST, the schema
 * model and diagnostic strings. Nothing is freed individually; arena_free()
 * releases everything at once. Allocations are zero-filled.
 */
#ifndef UPG_CORE_ARENA_H
#define UPG_CORE_ARENA_H

#include <stddef.h>

#include "core/util.h"

struct arena_block;

struct arena {
    struct arena_block *head; /* newest block; allocations come from it */
    size_t next_size;         /* size of the next block (grows geometrically) */
    size_t total;             /* bytes obtained from malloc, for statistics */
};

/* Initialises an empty arena; the first block is allocated lazily. */
void arena_init(struct arena *a);

/* Releases every block; the arena is empty and reusable afterwards. */
void arena_free(struct arena *a);

/* Returns n zeroed bytes aligned for any object, owned by the arena. */
void *arena_alloc(struct arena *a, size_t n);

/* Copies s[0..n) and appends a NUL; owned by the arena. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);

/* printf into the arena. */
char *arena_printf(struct arena *a, const char *fmt, ...) PRINTF(2, 3);

#define ARENA_NEW(a, T) ((T *)arena_alloc((a), sizeof(T)))
#define ARENA_ARRAY(a, T, n) ((T *)arena_alloc((a), sizeof(T) * (n)))

#endif
