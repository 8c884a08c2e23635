/* SPDX-License-Identifier: MIT */
/*
 * util.h: allocation helpers that never return NULL, printf annotations,
 * and SQLite-style ALWAYS/NEVER for "cannot happen, but recover" branches.
 *
 * The compiler treats running out of memory as fatal: a clean message and
 * exit status 2 (cproc util.c, minisign helpers.c).
 */
#ifndef UPG_CORE_UTIL_H
#define UPG_CORE_UTIL_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define NORETURN __attribute__((noreturn))
#else
#define PRINTF(fmt, args)
#define NORETURN
#endif

#ifdef NDEBUG
#define ALWAYS(x) (x)
#define NEVER(x) (x)
#else
#define ALWAYS(x) ((x) ? 1 : (assert(0), 0))
#define NEVER(x) ((x) ? (assert(0), 1) : 0)
#endif

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* A whole file, read up to max bytes (more: NULL, errno EFBIG), NUL-terminated; malloc'd, its
 * length in *len. NULL with errno when it cannot be opened or read. */
char *read_file_whole(const char *path, size_t max, size_t *len);

/* Prints "upc: fatal: ..." to stderr and exits with status 2. */
NORETURN void fatal(const char *fmt, ...) PRINTF(1, 2);

/* ASCII-only case folding, the folding SQLite applies to identifiers. */
int ascii_casecmp(const char *a, const char *b);
char ascii_lower(char c);

/*
 * Decodes one UTF-8 code point from s (at most len bytes). Returns the number
 * of bytes consumed (at least 1 when len > 0). An invalid or truncated
 * sequence consumes one byte and sets *cp to -1.
 */
size_t utf8_decode(const unsigned char *s, size_t len, int32_t *cp);

/* True when s[0..len) is entirely valid UTF-8 (no overlongs, no surrogates). */
bool utf8_valid(const char *s, size_t len);

/* Levenshtein distance between a and b, capped at max+1 (for "did you mean"). */
size_t edit_distance(const char *a, const char *b, size_t max);

#endif
