/* SPDX-License-Identifier: MIT */
/*
 * arena.c: blocks chained newest-first. A request larger than a quarter of
 * the next block gets a block of its own, so big token texts (a 100 MB line)
 * do not waste the rest of a shared block.
 */
#include "core/arena.h"

#include <stdarg.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_block {
    struct arena_block *next;
    size_t size; /* usable bytes in data[] */
    size_t used;
    alignas(max_align_t) unsigned char data[];
};

enum { ARENA_FIRST_BLOCK = 64 * 1024, ARENA_MAX_BLOCK = 16 * 1024 * 1024 };

void
arena_init(struct arena *a)
{
    a->head = NULL;
    a->next_size = ARENA_FIRST_BLOCK;
    a->total = 0;
}

void
arena_free(struct arena *a)
{
    struct arena_block *b = a->head, *next;

    for (; b; b = next) {
        next = b->next;
        free(b);
    }
    arena_init(a);
}

static struct arena_block *
new_block(struct arena *a, size_t size)
{
    struct arena_block *b;

    if (size > SIZE_MAX - sizeof *b)
        fatal("out of memory (arena block of %zu bytes)", size);
    b = xmalloc(sizeof *b + size);
    b->size = size;
    b->used = 0;
    a->total += size;
    return b;
}

void *
arena_alloc(struct arena *a, size_t n)
{
    const size_t align = alignof(max_align_t);
    struct arena_block *b = a->head;
    void *p;

    if (n == 0)
        n = 1;
    if (n > SIZE_MAX - align)
        fatal("out of memory (allocating %zu bytes)", n);
    n = (n + align - 1) & ~(align - 1);
    if (n > a->next_size / 4) {
        /* A large object: its own block, linked behind the current one. */
        struct arena_block *big = new_block(a, n);
        big->used = n;
        if (b) {
            big->next = b->next;
            b->next = big;
        } else {
            big->next = NULL;
            a->head = big;
        }
        memset(big->data, 0, n);
        return big->data;
    }
    if (!b || b->size - b->used < n) {
        b = new_block(a, a->next_size);
        b->next = a->head;
        a->head = b;
        if (a->next_size < ARENA_MAX_BLOCK)
            a->next_size *= 2;
    }
    p = b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p;

    if (n == SIZE_MAX)
        fatal("out of memory (string of %zu bytes)", n);
    p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap, ap2;
    int n;
    char *p;

    va_start(ap, fmt);
    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        fatal("invalid format string");
    p = arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}
