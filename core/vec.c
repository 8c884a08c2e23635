/* SPDX-License-Identifier: MIT */
/* vec.c: the one out-of-line helper behind VEC_PUSH / VEC_INSERT. */
#include "core/vec.h"

void
vec_grow_(struct arena *a, void **items, size_t *cap, size_t elem, size_t need)
{
    size_t ncap = *cap ? *cap * 2 : 4;
    void *p;

    while (ncap < need)
        ncap *= 2;
    if (ncap > SIZE_MAX / elem)
        fatal("out of memory (array of %zu elements)", ncap);
    p = arena_alloc(a, ncap * elem);
    if (*cap)
        memcpy(p, *items, *cap * elem);
    *items = p;
    *cap = ncap;
}
