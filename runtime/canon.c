/* SPDX-License-Identifier: MIT */
/*
 * canon.c: normalising defaults, sorting and comparing canonical schemas
 * (canon.h). This file is shared by the compiler (expected schemas) and the
 * runtime (live ones), so that both sides normalise in exactly one way.
 */
#include "runtime/canon.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
is_number(const char *s)
{
    const char *p = s;
    bool digits = false;

    if (*p == '-' || *p == '+')
        p++;
    for (; *p >= '0' && *p <= '9'; p++)
        digits = true;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            digits = true;
    return digits && *p == '\0';
}

/* "12.500" -> "12.5", "0.00" -> "0", "-0.0" -> "0", "+3" -> "3". */
static char *
trim_number(const char *s)
{
    char *out = strdup(*s == '+' ? s + 1 : s);
    char *dot;
    size_t n;

    if (!out || !(dot = strchr(out, '.')))
        return out;
    n = strlen(out);
    while (n > 0 && out[n - 1] == '0')
        out[--n] = '\0';
    if (n > 0 && out[n - 1] == '.')
        out[--n] = '\0';
    if (strcmp(out, "-0") == 0)
        strcpy(out, "0");
    return out;
}

/* "10:00:00.500000" -> "10:00:00.5": fractional seconds without trailing zeros. */
static char *
trim_fraction(const char *s)
{
    char *out = strdup(s);
    char *dot;
    size_t n;

    if (!out)
        return NULL;
    dot = strrchr(out, '.');
    if (!dot || !strchr(out, ':') || dot < strrchr(out, ':'))
        return out;
    n = strlen(out);
    while (out + n - 1 > dot && out[n - 1] == '0')
        out[--n] = '\0';
    if (out + n - 1 == dot)
        out[--n] = '\0';
    return out;
}

char *
canon_default(const char *type, const char *value)
{
    if (!value)
        return NULL;
    if (strstr(type, "json")) {
        json_t *j = json_loads(value, JSON_DECODE_ANY, NULL);
        char *s;
        if (!j)
            return strdup(value);
        s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        json_decref(j);
        return s ? s : strdup(value);
    }
    if (strcmp(type, "uuid") == 0) {
        char *s = strdup(value), *p;
        for (p = s; p && *p; p++)
            *p = (char)tolower((unsigned char)*p);
        return s;
    }
    if (strncmp(type, "timestamp", 9) == 0 || strcmp(type, "interval") == 0 ||
        strncmp(type, "time", 4) == 0)
        return trim_fraction(value);
    if (is_number(value) && strncmp(type, "character", 9) != 0 && strcmp(type, "text") != 0 &&
        strcmp(type, "TEXT") != 0)
        return trim_number(value);
    return strdup(value);
}

/* Parses the SQL string literal at *p ('...' with '' doubled, E'...' with escapes). */
static char *
sql_string(const char **p)
{
    const char *s = *p;
    bool esc = false;
    size_t cap = strlen(s) + 1, n = 0;
    char *out = malloc(cap);

    if (!out)
        return NULL;
    if (*s == 'E' || *s == 'e') {
        esc = true;
        s++;
    }
    s++; /* the opening quote */
    for (; *s; s++) {
        if (*s == '\'') {
            if (s[1] == '\'') {
                out[n++] = '\'';
                s++;
                continue;
            }
            s++;
            break;
        }
        if (esc && *s == '\\' && s[1]) {
            s++;
            out[n++] = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
            continue;
        }
        out[n++] = *s;
    }
    out[n] = '\0';
    *p = s;
    return out;
}

char *
canon_pg_default_value(const char *expr)
{
    const char *p = expr;
    size_t n;
    char *inner, *v;

    if (!expr)
        return NULL;
    n = strlen(expr);
    /* (-1) and ('x'::text) */
    if (n >= 2 && expr[0] == '(' && expr[n - 1] == ')') {
        inner = strndup(expr + 1, n - 2);
        v = inner ? canon_pg_default_value(inner) : NULL;
        free(inner);
        return v;
    }
    if (*p == '\'' || ((*p == 'E' || *p == 'e') && p[1] == '\'')) {
        v = sql_string(&p);
        /* what may follow is a cast: ::type, possibly with a [] or (n) */
        if (v && *p && strncmp(p, "::", 2) != 0) {
            free(v);
            return strdup(expr);
        }
        return v;
    }
    /* a bare constant, possibly cast: 0, 1.50, true, NULL::integer */
    {
        const char *cast = strstr(expr, "::");
        size_t len = cast ? (size_t)(cast - expr) : n;
        v = strndup(expr, len);
        if (v && strcmp(v, "NULL") == 0) {
            free(v);
            return NULL;
        }
        return v;
    }
}

char *
canon_sqlite_default_value(const char *dflt)
{
    const char *p = dflt;

    if (!dflt || strcmp(dflt, "NULL") == 0)
        return NULL;
    if (*p == '\'')
        return sql_string(&p);
    if (*p == '(') { /* DEFAULT (expr) is kept as written */
        return strdup(dflt);
    }
    return strdup(dflt);
}

static int
cmp_by_name(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    const char *nx = json_string_value(json_object_get(x, "name"));
    const char *ny = json_string_value(json_object_get(y, "name"));
    char *dx, *dy;
    int r;

    if (nx && ny && (r = strcmp(nx, ny)) != 0)
        return r;
    if (json_is_string(x) && json_is_string(y))
        return strcmp(json_string_value(x), json_string_value(y));
    /* unnamed (SQLite foreign keys): by their whole content */
    dx = json_dumps(x, JSON_COMPACT | JSON_SORT_KEYS);
    dy = json_dumps(y, JSON_COMPACT | JSON_SORT_KEYS);
    r = dx && dy ? strcmp(dx, dy) : 0;
    free(dx);
    free(dy);
    return r;
}

static void
sort_array(json_t *arr)
{
    size_t n = json_array_size(arr), i;
    json_t **items;

    if (n < 2)
        return;
    items = malloc(n * sizeof *items);
    if (!items)
        return;
    for (i = 0; i < n; i++)
        items[i] = json_incref(json_array_get(arr, i));
    qsort(items, n, sizeof *items, cmp_by_name);
    json_array_clear(arr);
    for (i = 0; i < n; i++)
        json_array_append_new(arr, items[i]);
    free(items);
}

void
canon_sort(json_t *schema)
{
    json_t *tables = json_object_get(schema, "tables"), *t;
    size_t i;

    sort_array(tables);
    json_array_foreach(tables, i, t) {
        sort_array(json_object_get(t, "columns"));
        sort_array(json_object_get(t, "unique"));
        sort_array(json_object_get(t, "foreign_keys"));
        sort_array(json_object_get(t, "checks"));
        sort_array(json_object_get(t, "indexes"));
    }
}

char *
canon_dump(const json_t *schema)
{
    return json_dumps(schema, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
}

/* --- differences ----------------------------------------------------------- */

struct differ {
    void (*report)(void *arg, const char *text);
    void *arg;
    size_t n;
};

static void
say(struct differ *d, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void
say(struct differ *d, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    d->report(d->arg, buf);
    d->n++;
}

static json_t *
find_named(const json_t *arr, const char *name)
{
    size_t i;
    json_t *x;

    json_array_foreach(arr, i, x) {
        const char *n = json_is_string(x) ? json_string_value(x)
                                          : json_string_value(json_object_get(x, "name"));
        if (n && strcmp(n, name) == 0)
            return x;
    }
    return NULL;
}

static char *
compact(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

/* A list of named things (columns, keys, indexes): missing, extra, different. */
static void
diff_named(struct differ *d, const char *table, const char *what, const json_t *exp,
           const json_t *live)
{
    size_t i;
    json_t *x;

    json_array_foreach(exp, i, x) {
        const char *name = json_is_string(x) ? json_string_value(x)
                                             : json_string_value(json_object_get(x, "name"));
        json_t *y;
        if (!name) {
            /* unnamed (SQLite foreign keys): compared by content */
            size_t k;
            json_t *z;
            bool found = false;
            json_array_foreach(live, k, z) found = found || json_equal(x, z);
            if (!found) {
                char *s = compact(x);
                say(d, "table \"%s\": %s %s is missing", table, what, s ? s : "?");
                free(s);
            }
            continue;
        }
        y = find_named(live, name);
        if (!y) {
            say(d, "table \"%s\": %s \"%s\" is missing", table, what, name);
        } else if (!json_equal(x, y)) {
            char *a = compact(x), *b = compact(y);
            say(d, "table \"%s\": %s \"%s\" differs: expected %s, found %s", table, what, name,
                a ? a : "?", b ? b : "?");
            free(a);
            free(b);
        }
    }
    json_array_foreach(live, i, x) {
        const char *name = json_is_string(x) ? json_string_value(x)
                                             : json_string_value(json_object_get(x, "name"));
        if (!name) {
            size_t k;
            json_t *z;
            bool found = false;
            json_array_foreach(exp, k, z) found = found || json_equal(x, z);
            if (!found) {
                char *s = compact(x);
                say(d, "table \"%s\": unexpected %s %s", table, what, s ? s : "?");
                free(s);
            }
            continue;
        }
        if (!find_named(exp, name))
            say(d, "table \"%s\": unexpected %s \"%s\"", table, what, name);
    }
}

size_t
canon_diff(const json_t *expected, const json_t *live, void (*report)(void *arg, const char *text),
           void *arg)
{
    struct differ d = {report, arg, 0};
    const json_t *et = json_object_get(expected, "tables"), *lt = json_object_get(live, "tables");
    size_t i;
    json_t *t;

    json_array_foreach(et, i, t) {
        const char *name = json_string_value(json_object_get(t, "name"));
        json_t *u = find_named(lt, name);
        if (!u) {
            say(&d, "table \"%s\" is missing", name);
            continue;
        }
        diff_named(&d, name, "column", json_object_get(t, "columns"), json_object_get(u, "columns"));
        if (!json_equal(json_object_get(t, "primary_key"), json_object_get(u, "primary_key"))) {
            char *a = compact(json_object_get(t, "primary_key"));
            char *b = compact(json_object_get(u, "primary_key"));
            say(&d, "table \"%s\": primary key differs: expected %s, found %s", name, a ? a : "?",
                b ? b : "?");
            free(a);
            free(b);
        }
        diff_named(&d, name, "unique constraint", json_object_get(t, "unique"),
                   json_object_get(u, "unique"));
        diff_named(&d, name, "foreign key", json_object_get(t, "foreign_keys"),
                   json_object_get(u, "foreign_keys"));
        diff_named(&d, name, "check constraint", json_object_get(t, "checks"),
                   json_object_get(u, "checks"));
        diff_named(&d, name, "index", json_object_get(t, "indexes"), json_object_get(u, "indexes"));
    }
    json_array_foreach(lt, i, t) {
        const char *name = json_string_value(json_object_get(t, "name"));
        if (!find_named(et, name))
            say(&d, "unexpected table \"%s\"", name);
    }
    return d.n;
}
