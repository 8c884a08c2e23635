/* SPDX-License-Identifier: MIT */
/*
 * strbuf.h: a growable, always NUL-terminated byte string on the heap.
 * Used for everything the compiler writes out (SQL, JSON, rendered
 * diagnostics). The owner calls strbuf_free().
 */
#ifndef UPG_CORE_STRBUF_H
#define UPG_CORE_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

#include "core/util.h"

struct strbuf {
    char *data; /* NUL-terminated once anything was appended; NULL before */
    size_t len;
    size_t cap;
};

#define STRBUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void strbuf_free(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb); /* keeps the allocation */
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_append(struct strbuf *sb, const char *s, size_t n);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_putc(struct strbuf *sb, char c);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) PRINTF(2, 3);
void strbuf_vprintf(struct strbuf *sb, const char *fmt, va_list ap);
/*
 * Appends s as a JSON string, quotes included, ASCII only: '"', '\\' and
 * control characters escaped, other characters beyond ASCII as \uXXXX (a
 * surrogate pair above U+FFFF), as jansson's JSON_ENSURE_ASCII writes them.
 * s must be UTF-8; an invalid byte is written as U+FFFD.
 */
void strbuf_json_string(struct strbuf *sb, const char *s);
/* Appends c n times. */
void strbuf_repeat(struct strbuf *sb, char c, size_t n);
/* Returns the contents ("" when empty); the buffer keeps ownership. */
const char *strbuf_str(const struct strbuf *sb);
/* Returns the heap string and leaves the buffer empty; the caller frees it. */
char *strbuf_detach(struct strbuf *sb);

#endif
