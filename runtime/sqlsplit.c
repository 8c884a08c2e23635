/* SPDX-License-Identifier: MIT */
/*
 * sqlsplit.c: a small lexer that knows where SQL statements end (sqlsplit.h).
 * It follows PostgreSQL's lexical rules, which are a superset of what
 * upc generates for either dialect: single-quoted strings with '' (and
 * backslash escapes after E), double-quoted names with "", dollar quoting
 * with an optional tag, -- comments, and block comments, which nest.
 *
 * Two rules come from the bodies that hold statements of their own: SQLite's
 * CREATE [TEMP] TRIGGER ... BEGIN ... END, and PostgreSQL's SQL-standard
 * routine bodies, CREATE [OR REPLACE] FUNCTION | PROCEDURE ... BEGIN ATOMIC
 * ... END. Inside one, a ';' ends the statement only when it follows "; END"
 * (sqlite3_complete()'s rule: a CASE ... END is never preceded by a ';').
 * The compiler splits the author's SQL with this same code (it counts a
 * step's statements, which uprun checks, and refuses transaction control),
 * so the boundaries are decided once.
 */
#include "runtime/sqlsplit.h"

#include "runtime/sig.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool
tag_char(char c, bool first)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
           (unsigned char)c >= 0x80 || (!first && c >= '0' && c <= '9');
}

/* Skips blanks and comments from i; returns the next offset of something else. */
static size_t
skip_space(const char *t, size_t n, size_t i)
{
    for (;;) {
        while (i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r' ||
                         t[i] == '\f' || t[i] == '\v'))
            i++;
        if (i + 1 < n && t[i] == '-' && t[i + 1] == '-') {
            while (i < n && t[i] != '\n')
                i++;
            continue;
        }
        if (i + 1 < n && t[i] == '/' && t[i + 1] == '*') {
            int depth = 1;
            i += 2;
            while (i < n && depth > 0) {
                if (i + 1 < n && t[i] == '/' && t[i + 1] == '*')
                    depth++, i += 2;
                else if (i + 1 < n && t[i] == '*' && t[i + 1] == '/')
                    depth--, i += 2;
                else
                    i++;
            }
            continue;
        }
        return i;
    }
}

size_t
sql_split(const char *t, size_t n, struct sql_stmt **out)
{
    size_t cap = 16, count = 0, i = 0;
    struct sql_stmt *s = malloc(cap * sizeof *s);

    *out = NULL;
    if (!s)
        return 0;
    for (;;) {
        size_t start;
        i = skip_space(t, n, i);
        if (i >= n)
            break;
        start = i;
        /* words: how many the statement has begun with, whether it is CREATE [TEMP] TRIGGER
         * and in its BEGIN ... END body; there, semi is 1 after a ';' and 2 after "; END" */
        size_t words = 0;
        bool create = false, trigger = false, routine = false, body = false, begun = false;
        int semi = 0;
        while (i < n) {
            char c = t[i];
            if (c == ';') {
                if (!body || semi == 2)
                    break;
                semi = 1;
                i++;
                continue;
            }
            if (tag_char(c, true) && (i == start || !tag_char(t[i - 1], false))) {
                size_t j = i;
                while (j < n && tag_char(t[j], false))
                    j++;
                if (words == 0)
                    create = j - i == 6 && strncasecmp(t + i, "CREATE", 6) == 0;
                else if (create && (words == 1 || words == 2) && j - i == 7 &&
                         strncasecmp(t + i, "TRIGGER", 7) == 0)
                    trigger = true;
                else if (create && (words == 1 || words == 3) &&
                         ((j - i == 8 && strncasecmp(t + i, "FUNCTION", 8) == 0) ||
                          (j - i == 9 && strncasecmp(t + i, "PROCEDURE", 9) == 0)))
                    routine = true; /* CREATE [OR REPLACE] FUNCTION | PROCEDURE */
                else if (create && words == 1 &&
                         !((j - i == 4 && strncasecmp(t + i, "TEMP", 4) == 0) ||
                           (j - i == 9 && strncasecmp(t + i, "TEMPORARY", 9) == 0) ||
                           (j - i == 2 && strncasecmp(t + i, "OR", 2) == 0)))
                    create = false;
                words++;
                if (trigger && !body && j - i == 5 && strncasecmp(t + i, "BEGIN", 5) == 0)
                    body = true;
                /* PostgreSQL's SQL-standard routine body: BEGIN ATOMIC ... ; END */
                if (routine && !body && begun && j - i == 6 && strncasecmp(t + i, "ATOMIC", 6) == 0)
                    body = true;
                begun = routine && !body && j - i == 5 && strncasecmp(t + i, "BEGIN", 5) == 0;
                semi = body && semi == 1 && j - i == 3 && strncasecmp(t + i, "END", 3) == 0 ? 2 : 0;
                i = j;
                continue;
            }
            if (body && c != ' ' && c != '\t' && c != '\n' && c != '\r' &&
                !(c == '-' && i + 1 < n && t[i + 1] == '-') &&
                !(c == '/' && i + 1 < n && t[i + 1] == '*'))
                semi = 0;
            if (c == '\'' || c == '"') {
                bool esc = c == '\'' && i > 0 && (t[i - 1] == 'E' || t[i - 1] == 'e') &&
                           (i < 2 || !tag_char(t[i - 2], false));
                i++;
                while (i < n) {
                    if (esc && t[i] == '\\' && i + 1 < n) {
                        i += 2;
                        continue;
                    }
                    if (t[i] == c) {
                        if (i + 1 < n && t[i + 1] == c) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i++;
                }
                i++;
            } else if (c == '$' && (i == 0 || !tag_char(t[i - 1], false))) {
                /* $tag$ ... $tag$ (a $ followed by a digit is a parameter, not a quote) */
                size_t j = i + 1;
                while (j < n && tag_char(t[j], j == i + 1))
                    j++;
                if (j < n && t[j] == '$') {
                    size_t taglen = j - i + 1;
                    const char *tag = t + i, *close;
                    i = j + 1;
                    close = NULL;
                    while (i + taglen <= n) {
                        if (t[i] == '$' && memcmp(t + i, tag, taglen) == 0) {
                            close = t + i;
                            break;
                        }
                        i++;
                    }
                    i = close ? (size_t)(close - t) + taglen : n;
                } else {
                    i++;
                }
            } else if (c == '-' && i + 1 < n && t[i + 1] == '-') {
                while (i < n && t[i] != '\n')
                    i++;
            } else if (c == '/' && i + 1 < n && t[i + 1] == '*') {
                size_t j = skip_space(t, n, i);
                i = j > i ? j : i + 1;
            } else {
                i++;
            }
        }
        if (i < n)
            i++; /* the ';' */
        if (count == cap) {
            struct sql_stmt *g = realloc(s, cap * 2 * sizeof *s);
            if (!g) {
                free(s);
                return 0;
            }
            s = g;
            cap *= 2;
        }
        s[count].start = start;
        s[count].end = i;
        count++;
    }
    if (count == 0) {
        free(s);
        return 0;
    }
    *out = s;
    return count;
}

size_t
sql_line_of(const char *text, size_t off)
{
    size_t line = 1, i;

    for (i = 0; i < off && text[i]; i++)
        line += text[i] == '\n';
    return line;
}

void
sql_origin_before(const char *text, size_t off, char *out, size_t size)
{
    size_t i = off;

    out[0] = '\0';
    while (i > 0) {
        size_t ls = i, le;
        /* the line that ends before i */
        while (ls > 0 && text[ls - 1] != '\n')
            ls--;
        le = ls;
        while (text[le] && text[le] != '\n')
            le++;
        if (le - ls > 3 && text[ls] == '-' && text[ls + 1] == '-' && text[ls + 2] == ' ' &&
            memchr(text + ls, ':', le - ls) && memchr(text + ls, ' ', le - ls) == text + ls + 2 &&
            !memchr(text + ls + 3, ' ', le - ls - 3)) {
            size_t n = le - ls - 3 < size - 1 ? le - ls - 3 : size - 1;
            memcpy(out, text + ls + 3, n);
            out[n] = '\0';
            return;
        }
        if (ls == 0)
            return;
        i = ls - 1;
    }
}

void
sql_statements_sha256(const unsigned char *data, size_t size, char out[65])
{
    struct sql_stmt *st = NULL;
    size_t n, i, len = 0;
    unsigned char *buf;

    if (!data) {
        sig_sha256_hex((const unsigned char *)"", 0, out);
        return;
    }
    n = sql_split((const char *)data, size, &st);
    for (i = 0; i < n; i++)
        len += st[i].end - st[i].start + 1;
    buf = malloc(len + 1);
    len = 0;
    for (i = 0; buf && i < n; i++) {
        memcpy(buf + len, data + st[i].start, st[i].end - st[i].start);
        len += st[i].end - st[i].start;
        buf[len++] = '\n';
    }
    sig_sha256_hex(buf ? buf : (unsigned char *)"", buf ? len : 0, out);
    free(buf);
    free(st);
}
