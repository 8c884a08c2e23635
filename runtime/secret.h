/* SPDX-License-Identifier: MIT */
/*
 * secret.h: keeping database passwords out of everything uprun writes.
 *
 * A PostgreSQL connection string may carry a password in three places:
 * the user information of a URI (postgresql://user:PASSWORD@host/db), a
 * URI query parameter (?password=PASSWORD), and a keyword of a key=value
 * string (password=PASSWORD or password='PASS WORD'). secret_redact()
 * replaces each with "****" wherever it appears in a text (a URL, or a
 * command-line argument echoed in an error); secret_find() lists the
 * passwords themselves, so that a message from the database or libpq that
 * quotes one can be scrubbed with secret_scrub().
 */
#ifndef UPG_RUNTIME_SECRET_H
#define UPG_RUNTIME_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#define SECRET_MASK "****"
#define SECRET_MAX 8 /* passwords remembered per connection string */

/* A copy of text with every password in it replaced by SECRET_MASK (malloc'd; NULL: out of memory). */
char *secret_redact(const char *text);

/* Whether text holds a password that secret_redact() would mask. */
bool secret_present(const char *text);

/*
 * The passwords in text, as written and percent-decoded, into out[] (each
 * malloc'd; at most max). Returns how many. The caller frees them with
 * secret_free().
 */
size_t secret_find(const char *text, char **out, size_t max);
/* Wipes and frees n strings of secret_find(). */
void secret_free(char **secrets, size_t n);

/*
 * Replaces every occurrence of each secret in buf (a NUL-terminated string
 * in size bytes) with SECRET_MASK, in place, truncating if need be.
 */
void secret_scrub(char *buf, size_t size, char *const *secrets, size_t n);

#endif
