/* SPDX-License-Identifier: MIT */
/* strbuf.c: growable strings, doubling capacity (cproc's struct array). */
#include "core/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
strbuf_free(struct strbuf *sb)
{
    free(sb->data);
    sb->data = NULL;
    sb->len = sb->cap = 0;
}

void
strbuf_reset(struct strbuf *sb)
{
    sb->len = 0;
    if (sb->data)
        sb->data[0] = '\0';
}

void
strbuf_grow(struct strbuf *sb, size_t extra)
{
    size_t need, cap;

    if (extra > SIZE_MAX - sb->len - 1)
        fatal("out of memory (string of more than %zu bytes)", sb->len);
    need = sb->len + extra + 1;
    if (need <= sb->cap)
        return;
    cap = sb->cap ? sb->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    sb->data = xrealloc(sb->data, cap);
    sb->cap = cap;
}

void
strbuf_append(struct strbuf *sb, const char *s, size_t n)
{
    strbuf_grow(sb, n);
    if (n)
        memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void
strbuf_puts(struct strbuf *sb, const char *s)
{
    strbuf_append(sb, s, strlen(s));
}

void
strbuf_putc(struct strbuf *sb, char c)
{
    strbuf_append(sb, &c, 1);
}

void
strbuf_repeat(struct strbuf *sb, char c, size_t n)
{
    strbuf_grow(sb, n);
    memset(sb->data + sb->len, c, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void
strbuf_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        fatal("invalid format string");
    strbuf_grow(sb, (size_t)n);
    vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
    sb->len += (size_t)n;
}

void
strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    strbuf_vprintf(sb, fmt, ap);
    va_end(ap);
}

const char *
strbuf_str(const struct strbuf *sb)
{
    return sb->data ? sb->data : "";
}

char *
strbuf_detach(struct strbuf *sb)
{
    char *s = sb->data ? sb->data : xstrdup("");

    sb->data = NULL;
    sb->len = sb->cap = 0;
    return s;
}

void
strbuf_json_string(struct strbuf *sb, const char *s)
{
    size_t n = strlen(s), i = 0;

    strbuf_putc(sb, '"');
    while (i < n) {
        int32_t cp;
        size_t k = utf8_decode((const unsigned char *)s + i, n - i, &cp);
        i += k;
        if (cp < 0)
            cp = 0xFFFD;
        switch (cp) {
        case '"':
            strbuf_puts(sb, "\\\"");
            continue;
        case '\\':
            strbuf_puts(sb, "\\\\");
            continue;
        case '\b':
            strbuf_puts(sb, "\\b");
            continue;
        case '\f':
            strbuf_puts(sb, "\\f");
            continue;
        case '\n':
            strbuf_puts(sb, "\\n");
            continue;
        case '\r':
            strbuf_puts(sb, "\\r");
            continue;
        case '\t':
            strbuf_puts(sb, "\\t");
            continue;
        default:
            break;
        }
        if (cp < 0x20 || cp > 0x7F) {
            if (cp < 0x10000) {
                strbuf_printf(sb, "\\u%04X", (unsigned)cp);
            } else {
                unsigned v = (unsigned)cp - 0x10000;
                strbuf_printf(sb, "\\u%04X\\u%04X", 0xD800 | (v >> 10), 0xDC00 | (v & 0x3FF));
            }
        } else {
            strbuf_putc(sb, (char)cp);
        }
    }
    strbuf_putc(sb, '"');
}
