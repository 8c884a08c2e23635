/* SPDX-License-Identifier: MIT */
/*
 * vec.h: typed growable arrays that live in an arena. Growth doubles the
 * capacity and copies; the old array stays in the arena until it is freed,
 * so the waste is bounded by the final size.
 *
 *     VEC(struct sm_column *) cols = {0};
 *     VEC_PUSH(arena, &cols, col);
 */
#ifndef UPG_CORE_VEC_H
#define UPG_CORE_VEC_H

#include <string.h>

#include "core/arena.h"

#define VEC(T)                                                                                     \
    struct {                                                                                       \
        T *items;                                                                                  \
        size_t len, cap;                                                                           \
    }

void vec_grow_(struct arena *a, void **items, size_t *cap, size_t elem, size_t need);

#define VEC_PUSH(a, v, x)                                                                          \
    do {                                                                                           \
        if ((v)->len == (v)->cap)                                                                  \
            vec_grow_((a), (void **)&(v)->items, &(v)->cap, sizeof *(v)->items, (v)->len + 1);     \
        (v)->items[(v)->len++] = (x);                                                              \
    } while (0)

/* Removes the element at i, keeping order. */
#define VEC_REMOVE(v, i)                                                                           \
    do {                                                                                           \
        memmove(&(v)->items[(i)], &(v)->items[(i) + 1], ((v)->len - (i)-1) * sizeof *(v)->items);  \
        (v)->len--;                                                                                \
    } while (0)

/* Inserts x at i, keeping order. */
#define VEC_INSERT(a, v, i, x)                                                                     \
    do {                                                                                           \
        if ((v)->len == (v)->cap)                                                                  \
            vec_grow_((a), (void **)&(v)->items, &(v)->cap, sizeof *(v)->items, (v)->len + 1);     \
        memmove(&(v)->items[(i) + 1], &(v)->items[(i)], ((v)->len - (i)) * sizeof *(v)->items);    \
        (v)->items[(i)] = (x);                                                                     \
        (v)->len++;                                                                                \
    } while (0)

#endif
