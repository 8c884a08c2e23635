/* SPDX-License-Identifier: MIT */
/*
 * util.c: the x-allocators, fatal(), ASCII folding, a UTF-8 decoder and the
 * edit distance used for "did you mean" hints.
 */
#include "core/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
fatal(const char *fmt, ...)
{
    va_list ap;

    fputs("upc: fatal: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p)
        fatal("out of memory (allocating %zu bytes)", n);
    return p;
}

void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (!p)
        fatal("out of memory (allocating %zu x %zu bytes)", n, size);
    return p;
}

void *
xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (!q)
        fatal("out of memory (allocating %zu bytes)", n);
    return q;
}

char *
xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;

    return memcpy(xmalloc(n), s, n);
}

char
ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

int
ascii_casecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        char x = ascii_lower(*a), y = ascii_lower(*b);
        if (x != y)
            return (unsigned char)x - (unsigned char)y;
        if (!x)
            return 0;
    }
}

size_t
utf8_decode(const unsigned char *s, size_t len, int32_t *cp)
{
    unsigned char c;
    size_t n, i;
    int32_t v, min;

    if (len == 0) {
        *cp = -1;
        return 0;
    }
    c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, v = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, v = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        *cp = -1;
        return 1;
    }
    if (len < n) {
        *cp = -1;
        return 1;
    }
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = -1;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        *cp = -1;
        return 1;
    }
    *cp = v;
    return n;
}

bool
utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    int32_t cp;

    while (i < len) {
        i += utf8_decode(p + i, len - i, &cp);
        if (cp < 0)
            return false;
    }
    return true;
}

size_t
edit_distance(const char *a, const char *b, size_t max)
{
    size_t la = strlen(a), lb = strlen(b), i, j;
    size_t *row, result;

    if (la > 64 || lb > 64)
        return max + 1;
    if ((la > lb ? la - lb : lb - la) > max)
        return max + 1;
    row = xmalloc((lb + 1) * sizeof *row);
    for (j = 0; j <= lb; j++)
        row[j] = j;
    for (i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (j = 1; j <= lb; j++) {
            size_t up = row[j];
            /* A case-only difference costs nothing: "clients" is "Clients". */
            size_t cost = ascii_lower(a[i - 1]) == ascii_lower(b[j - 1]) ? 0 : 1;
            size_t best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    result = row[lb];
    free(row);
    return result > max ? max + 1 : result;
}

char *
read_file_whole(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 0, got;
    char *data = NULL;

    *len = 0;
    if (!f)
        return NULL;
    do {
        if (*len + 65536 > cap)
            data = xrealloc(data, (cap = cap * 2 + 65536) + 1);
        got = fread(data + *len, 1, cap - *len, f);
        *len += got;
    } while (got > 0 && *len <= max);
    if (ferror(f) || *len > max) {
        int e = ferror(f) ? EIO : EFBIG;
        fclose(f);
        free(data);
        errno = e;
        return NULL;
    }
    fclose(f);
    data[*len] = '\0';
    return data;
}
