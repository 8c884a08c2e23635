/* SPDX-License-Identifier: MIT */
/*
 * secret.c: finding the passwords of connection strings in a text, to mask
 * them (secret.h). One scanner finds where each password is; redacting,
 * testing and listing all use it, so that what is masked and what is
 * scrubbed never disagree.
 *
 * The scanner is deliberately generous: it looks for URI user information
 * (scheme://user:PASSWORD@) and for password=VALUE anywhere, not only at the
 * start of a well-formed connection string, because the texts it guards
 * include mistyped command lines ("--dbb=postgresql://u:pw@h/db").
 */
#include "runtime/secret.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

struct span {
    size_t start, end; /* the password's bytes: text[start..end) */
};

#define MAX_SPANS 32

/* Whether text[i] is inside a URI: a "://" before it, and no blank between. */
static bool
in_uri(const char *text, size_t i)
{
    size_t k = i;

    while (k > 0 && !isspace((unsigned char)text[k - 1])) {
        if (k >= 3 && strncmp(text + k - 3, "://", 3) == 0)
            return true;
        k--;
    }
    return false;
}

/* The end of a quoted keyword value whose opening quote is at text[i] ('...' with \' and \\). */
static size_t
quoted_end(const char *text, size_t i)
{
    for (i++; text[i]; i++) {
        if (text[i] == '\\' && text[i + 1])
            i++;
        else if (text[i] == '\'')
            return i;
    }
    return i;
}

static size_t
find_spans(const char *text, struct span *spans, size_t max)
{
    size_t n = 0, i;

    if (!text)
        return 0;
    for (i = 0; text[i] && n < max; i++) {
        /* scheme://user:PASSWORD@host */
        if (strncmp(text + i, "://", 3) == 0) {
            size_t j = i + 3, k = j, colon = 0;
            bool has_colon = false;
            while (text[k] && !strchr("@/?#\"'", text[k]) && !isspace((unsigned char)text[k])) {
                if (text[k] == ':' && !has_colon) {
                    has_colon = true;
                    colon = k;
                }
                k++;
            }
            if (text[k] == '@' && has_colon && colon + 1 < k)
                spans[n++] = (struct span){colon + 1, k};
            continue;
        }
        /* password=VALUE, as a keyword or a URI query parameter */
        if (strncasecmp(text + i, "password", 8) == 0 &&
            (i == 0 || !(isalnum((unsigned char)text[i - 1]) || text[i - 1] == '_'))) {
            size_t k = i + 8, start, end;
            bool uri = in_uri(text, i);
            while (!uri && (text[k] == ' ' || text[k] == '\t'))
                k++;
            if (text[k] != '=')
                continue;
            k++;
            while (!uri && (text[k] == ' ' || text[k] == '\t'))
                k++;
            if (!uri && text[k] == '\'') {
                start = k + 1;
                end = quoted_end(text, k);
            } else {
                start = end = k;
                while (text[end] && !isspace((unsigned char)text[end]) &&
                       !(uri && (text[end] == '&' || text[end] == '#')))
                    end++;
            }
            if (end > start)
                spans[n++] = (struct span){start, end};
            i = end ? end - 1 : 0;
        }
    }
    return n;
}

char *
secret_redact(const char *text)
{
    struct span spans[MAX_SPANS];
    size_t n = find_spans(text, spans, MAX_SPANS), len, i, k, at = 0;
    char *out;

    if (!text)
        return NULL;
    len = strlen(text);
    out = malloc(len + n * sizeof SECRET_MASK + 1);
    if (!out)
        return NULL;
    for (i = 0, k = 0; i < n; i++) {
        memcpy(out + k, text + at, spans[i].start - at);
        k += spans[i].start - at;
        memcpy(out + k, SECRET_MASK, sizeof SECRET_MASK - 1);
        k += sizeof SECRET_MASK - 1;
        at = spans[i].end;
    }
    memcpy(out + k, text + at, len - at);
    out[k + len - at] = '\0';
    return out;
}

bool
secret_present(const char *text)
{
    struct span spans[1];

    return find_spans(text, spans, 1) > 0;
}

static int
hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* text[start..end) with %XX decoded (and, in a keyword value, \' and \\), malloc'd. */
static char *
decoded(const char *text, size_t start, size_t end)
{
    char *out = malloc(end - start + 1);
    size_t i, k = 0;

    if (!out)
        return NULL;
    for (i = start; i < end; i++) {
        if (text[i] == '%' && i + 2 < end + 1 && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
            out[k++] = (char)(hex(text[i + 1]) * 16 + hex(text[i + 2]));
            i += 2;
        } else if (text[i] == '\\' && i + 1 < end) {
            out[k++] = text[++i];
        } else {
            out[k++] = text[i];
        }
    }
    out[k] = '\0';
    return out;
}

size_t
secret_find(const char *text, char **out, size_t max)
{
    struct span spans[MAX_SPANS];
    size_t n = find_spans(text, spans, MAX_SPANS), i, k = 0;

    for (i = 0; i < n && k < max; i++) {
        char *raw = strndup(text + spans[i].start, spans[i].end - spans[i].start);
        char *dec = decoded(text, spans[i].start, spans[i].end);
        if (raw)
            out[k++] = raw;
        if (dec && k < max && (!raw || strcmp(dec, raw) != 0))
            out[k++] = dec;
        else
            secret_free(&dec, dec ? 1 : 0);
    }
    return k;
}

void
secret_free(char **secrets, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (secrets[i]) {
            sodium_memzero(secrets[i], strlen(secrets[i]));
            free(secrets[i]);
            secrets[i] = NULL;
        }
    }
}

void
secret_scrub(char *buf, size_t size, char *const *secrets, size_t n)
{
    size_t i, mlen = sizeof SECRET_MASK - 1;

    if (!buf || !size)
        return;
    for (i = 0; i < n; i++) {
        size_t slen = secrets[i] ? strlen(secrets[i]) : 0;
        char *p = buf;
        if (!slen)
            continue;
        while ((p = strstr(p, secrets[i])) != NULL) {
            size_t tail = strlen(p + slen), pos = (size_t)(p - buf);
            /* the mask may be longer than the secret: keep what fits */
            if (pos + mlen + tail + 1 > size)
                tail = pos + mlen + 1 > size ? 0 : size - pos - mlen - 1;
            if (pos + mlen + 1 > size) {
                *p = '\0';
                break;
            }
            memmove(p + mlen, p + slen, tail);
            memcpy(p, SECRET_MASK, mlen);
            p[mlen + tail] = '\0';
            p += mlen;
        }
    }
}
