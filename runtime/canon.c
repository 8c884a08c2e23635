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
#include <strings.h>

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

/* Skips a SQL string literal ('...' with '' doubled, E'...' with escapes) at p; NULL if unterminated. */
static const char *
skip_literal(const char *p)
{
    bool esc = *p == 'E' || *p == 'e';

    p += esc ? 2 : 1;
    for (; *p; p++) {
        if (esc && *p == '\\' && p[1]) {
            p++;
        } else if (*p == '\'') {
            if (p[1] != '\'')
                return p + 1;
            p++;
        }
    }
    return NULL;
}

/*
 * Whether the '(' at expr[0] is closed by the ')' at expr[n - 1], string
 * literals and quoted names skipped: "(a) || (b)" is not wrapped.
 */
static bool
wrapped_in_parens(const char *expr, size_t n)
{
    size_t depth = 0, i;

    if (n < 2 || expr[0] != '(' || expr[n - 1] != ')')
        return false;
    for (i = 0; i < n; i++) {
        char c = expr[i];
        if (c == '\'' || ((c == 'E' || c == 'e') && expr[i + 1] == '\'')) {
            const char *end = skip_literal(expr + i);
            if (!end)
                return false;
            i = (size_t)(end - expr) - 1;
        } else if (c == '"') {
            const char *end = strchr(expr + i + 1, '"');
            if (!end)
                return false;
            i = (size_t)(end - expr);
        } else if (c == '(') {
            depth++;
        } else if (c == ')') {
            if (--depth == 0 && i != n - 1)
                return false;
        }
    }
    return depth == 0;
}

/*
 * Skips the casts that may follow a constant, as pg_get_expr() prints
 * them: "::integer", "::character varying(20)", "::integer[]", repeated.
 * Returns where they end.
 */
static const char *
skip_casts(const char *p)
{
    while (strncmp(p, "::", 2) == 0) {
        const char *q = p + 2;
        if (!(isalpha((unsigned char)*q) || *q == '_' || *q == '"'))
            return p; /* not a type name */
        while (isalnum((unsigned char)*q) || *q == '_' || *q == '"' || *q == '.' ||
               (*q == ' ' && islower((unsigned char)q[1]))) /* "character varying"; never
                                                                 the upper-case COLLATE */
            q++;
        if (*q == '(') {
            for (q++; isdigit((unsigned char)*q) || *q == ',' || *q == ' '; q++)
                ;
            if (*q != ')')
                return p;
            q++;
        }
        while (q[0] == '[' && q[1] == ']')
            q += 2;
        p = q;
    }
    return p;
}

/* A bare constant: a number (with its sign), true or false. Returns its end, or NULL. */
static const char *
bare_constant(const char *p)
{
    const char *q = p;

    if (strncmp(p, "true", 4) == 0 && !isalnum((unsigned char)p[4]) && p[4] != '_')
        return p + 4;
    if (strncmp(p, "false", 5) == 0 && !isalnum((unsigned char)p[5]) && p[5] != '_')
        return p + 5;
    if (*q == '-')
        q++;
    if (!isdigit((unsigned char)*q))
        return NULL;
    while (isdigit((unsigned char)*q))
        q++;
    if (*q == '.')
        for (q++; isdigit((unsigned char)*q); q++)
            ;
    if (*q == 'e' || *q == 'E') {
        const char *r = q + 1;
        if (*r == '-' || *r == '+')
            r++;
        if (isdigit((unsigned char)*r)) {
            while (isdigit((unsigned char)*r))
                r++;
            q = r;
        }
    }
    return q;
}

/*
 * Whether expr is one constant, possibly cast and parenthesised: 'abc'::text,
 * (-1), 0.00, true, NULL::integer. Then *value is its value (malloc'd; NULL
 * for NULL) and the result is 1; 0 for anything else; -1 out of memory.
 */
static int
pg_constant(const char *expr, char **value)
{
    const char *p = expr, *end;
    size_t n = strlen(expr);

    *value = NULL;
    if (wrapped_in_parens(expr, n)) {
        char *inner = strndup(expr + 1, n - 2);
        int rc;
        if (!inner)
            return -1;
        rc = pg_constant(inner, value);
        free(inner);
        return rc;
    }
    if (*p == '\'' || ((*p == 'E' || *p == 'e') && p[1] == '\'')) {
        end = skip_literal(p);
        if (!end || *skip_casts(end) != '\0')
            return 0;
        return (*value = sql_string(&p)) ? 1 : -1;
    }
    if (strncmp(p, "NULL", 4) == 0 && *skip_casts(p + 4) == '\0')
        return 1;
    if ((end = bare_constant(p)) && *skip_casts(end) == '\0')
        return (*value = strndup(p, (size_t)(end - p))) ? 1 : -1;
    return 0;
}

/*
 * A default as pg_get_expr() prints it is a value only when it is one
 * constant (pg_constant). Anything else ('a'::text || 'b'::text,
 * nextval(...), now()) is an expression, kept whole as PostgreSQL printed
 * it, so that a changed expression never reads as the value it starts with.
 */
char *
canon_pg_default_value(const char *expr)
{
    char *v;
    int rc;

    if (!expr)
        return NULL;
    rc = pg_constant(expr, &v);
    if (rc == 1)
        return v;
    return rc == 0 ? strdup(expr) : NULL;
}

/*
 * A default as PRAGMA table_info reports it: the text of the DEFAULT clause
 * ('abc', -1, NULL, CURRENT_TIMESTAMP, (expr)). A string literal is a value;
 * anything else is kept as written.
 */
char *
canon_sqlite_default_value(const char *dflt)
{
    const char *p = dflt, *end;

    if (!dflt || strcmp(dflt, "NULL") == 0)
        return NULL;
    if (*p == '\'' && (end = skip_literal(p)) && *end == '\0')
        return sql_string(&p);
    return strdup(dflt);
}

/* A constant's value as a canonical default (null for NULL); takes value. */
static json_t *
value_default(const char *type, char *value)
{
    char *norm;
    json_t *j;

    if (!value)
        return json_null();
    norm = canon_default(type, value);
    free(value);
    if (!norm)
        return NULL;
    j = json_string(norm);
    free(norm);
    return j;
}

/* The length of text without its outer parentheses, which *text then skips. */
static size_t
unwrap(const char **text)
{
    size_t n = strlen(*text);

    while (wrapped_in_parens(*text, n)) {
        (*text)++;
        n -= 2;
    }
    return n;
}

/* {"expr": name} when text is one of spellings, outer parentheses and case aside. */
static json_t *
portable_expr(const char *text, const char *const *spellings, const char *name)
{
    size_t n = unwrap(&text);

    for (; *spellings; spellings++) {
        const char *s = *spellings;
        size_t m = unwrap(&s);
        if (m == n && strncasecmp(text, s, n) == 0)
            return json_pack("{ss}", "expr", name);
    }
    return NULL;
}

/* The portable expressions (compiler/types.h), as each database may print them. */
static json_t *
known_expr(const char *text, bool pg)
{
    static const char *const ts_pg[] = {"CURRENT_TIMESTAMP", "now()", "transaction_timestamp()",
                                        "LOCALTIMESTAMP", NULL};
    static const char *const ts_sqlite[] = {"CURRENT_TIMESTAMP", NULL};
    static const char *const date[] = {"CURRENT_DATE", NULL};
    static const char *const uuid_pg[] = {"gen_random_uuid()", NULL};
    static const char *const uuid_sqlite[] = {CANON_SQLITE_RANDOM_UUID, NULL};
    json_t *j;

    if ((j = portable_expr(text, pg ? ts_pg : ts_sqlite, "current_timestamp")) ||
        (j = portable_expr(text, date, "current_date")) ||
        (j = portable_expr(text, pg ? uuid_pg : uuid_sqlite, "random_uuid")))
        return j;
    return NULL;
}

json_t *
canon_pg_default(const char *type, const char *expr)
{
    char *v;
    int rc;
    json_t *j;

    if (!expr)
        return json_null();
    rc = pg_constant(expr, &v);
    if (rc < 0)
        return NULL;
    if (rc == 1)
        return value_default(type, v);
    if ((j = known_expr(expr, true)))
        return j;
    return json_pack("{ss}", "sql", expr);
}

json_t *
canon_sqlite_default(const char *type, const char *dflt)
{
    const char *p = dflt, *end;
    json_t *j;

    if (!dflt || strcasecmp(dflt, "NULL") == 0)
        return json_null();
    if (*p == '\'' && (end = skip_literal(p)) && *end == '\0') {
        char *s = sql_string(&p);
        return s ? value_default(type, s) : NULL;
    }
    if (strcasecmp(dflt, "TRUE") == 0 || strcasecmp(dflt, "FALSE") == 0)
        return json_string(strcasecmp(dflt, "TRUE") == 0 ? "1" : "0");
    if (is_number(dflt))
        return value_default(type, strdup(dflt));
    if ((j = known_expr(dflt, false)))
        return j;
    return json_pack("{ss}", "sql", dflt);
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
    json_array_foreach(tables, i, t)
    {
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

/* --- building a schema from deltas ---------------------------------------- */

static const char *const table_arrays[] = {"checks", "columns", "foreign_keys", "indexes",
                                           "unique"};
#define NARRAYS (sizeof table_arrays / sizeof *table_arrays)

/* The key of an element within its array: a string's value, an object's name, or else the
 * object's compact text (SQLite's unnamed foreign keys); malloc'd, NULL when out of memory. */
static char *
elem_key(const json_t *e)
{
    const json_t *name = json_object_get(e, "name");

    if (json_is_string(e))
        return strdup(json_string_value(e));
    if (json_is_string(name))
        return strdup(json_string_value(name));
    return json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
}

/* Puts every element of the array arr into the object by, under its key. */
static bool
put_elems(json_t *by, const json_t *arr)
{
    size_t i;
    json_t *e;

    json_array_foreach(arr, i, e)
    {
        char *key = elem_key(e);
        bool ok = key && json_object_set(by, key, e) == 0;
        free(key);
        if (!ok)
            return false;
    }
    return true;
}

/* A whole table of a delta in the keyed form. */
static json_t *
keyed_table(const json_t *t)
{
    json_t *k = json_deep_copy(t);
    size_t i;

    if (!k)
        return NULL;
    for (i = 0; i < NARRAYS; i++) {
        json_t *by = json_object();
        if (!by || !put_elems(by, json_object_get(t, table_arrays[i])) ||
            json_object_set_new(k, table_arrays[i], by) != 0) {
            json_decref(k);
            return NULL;
        }
    }
    return k;
}

json_t *
canon_tables_new(void)
{
    return json_object();
}

static bool
fail(char *why, size_t whylen, const char *fmt, const char *name)
{
    snprintf(why, whylen, fmt, name);
    return false;
}

/* Applies the patch p ({"name": ..., member: {"drop": [...], "put": [...]}, ...}) to tables. */
static bool
apply_patch(json_t *tables, const json_t *p, char *why, size_t whylen)
{
    const char *name = json_string_value(json_object_get(p, "name"));
    json_t *t = name ? json_object_get(tables, name) : NULL;
    size_t i, k;
    json_t *e;

    if (!name)
        return fail(why, whylen, "a patch has no table name%s", "");
    if (!t)
        return fail(why, whylen, "a patch names table \"%s\", which the schema before it has not",
                    name);
    if (json_object_get(p, "primary_key") &&
        json_object_set(t, "primary_key", json_object_get(p, "primary_key")) != 0)
        return fail(why, whylen, "out of memory%s", "");
    for (i = 0; i < NARRAYS; i++) {
        const json_t *m = json_object_get(p, table_arrays[i]);
        json_t *by = json_object_get(t, table_arrays[i]);
        if (!m)
            continue;
        if (!json_is_array(json_object_get(m, "drop")) || !json_is_array(json_object_get(m, "put")))
            return fail(why, whylen,
                        "the patch of table \"%s\" has a member without "
                        "\"drop\" and \"put\" arrays",
                        name);
        json_array_foreach(json_object_get(m, "drop"), k, e)
        {
            char *key = elem_key(e);
            bool gone = key && json_object_del(by, key) == 0;
            free(key);
            if (!gone)
                return fail(why, whylen,
                            "the patch of table \"%s\" drops an element that the "
                            "table has not",
                            name);
        }
        if (!put_elems(by, json_object_get(m, "put")))
            return fail(why, whylen, "out of memory%s", "");
    }
    return true;
}

bool
canon_delta_apply(json_t *tables, const json_t *delta, char *why, size_t whylen)
{
    const json_t *changed = json_object_get(delta, "changed"), *t;
    const json_t *patched = json_object_get(delta, "patched");
    const json_t *removed = json_object_get(delta, "removed");
    size_t i;

    if (!json_is_array(changed) || !json_is_array(patched) || !json_is_array(removed))
        return fail(why, whylen, "no \"changed\", \"patched\" and \"removed\" arrays%s", "");
    json_array_foreach(removed, i, t) if (json_is_string(t))
        json_object_del(tables, json_string_value(t));
    json_array_foreach(changed, i, t)
    {
        const char *name = json_string_value(json_object_get(t, "name"));
        json_t *k;
        if (!name)
            return fail(why, whylen, "a changed table has no name%s", "");
        if (!(k = keyed_table(t)) || json_object_set_new(tables, name, k) != 0)
            return fail(why, whylen, "out of memory%s", "");
    }
    json_array_foreach(patched, i, t) if (!apply_patch(tables, t, why, whylen)) return false;
    return true;
}

json_t *
canon_tables_schema(json_t *tables)
{
    json_t *schema = json_object(), *list = json_array(), *t;
    const char *name;

    if (!schema || !list || json_object_set_new(schema, "tables", list) != 0) {
        json_decref(schema);
        return NULL;
    }
    json_object_foreach(tables, name, t)
    {
        json_t *plain = json_copy(t);
        size_t i;
        if (!plain || json_array_append_new(list, plain) != 0) {
            json_decref(schema);
            return NULL;
        }
        for (i = 0; i < NARRAYS; i++) {
            json_t *arr = json_array(), *e;
            const char *key;
            json_object_foreach(json_object_get(t, table_arrays[i]), key, e)
                json_array_append(arr, e);
            json_object_set_new(plain, table_arrays[i], arr);
        }
    }
    canon_sort(schema);
    return schema;
}

/* --- differences ----------------------------------------------------------- */

struct differ {
    void (*report)(void *arg, const struct canon_drift *d);
    void *arg;
    size_t n;
};

static void say(struct differ *d, struct canon_drift *item, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Reports one difference, with its sentence. */
static void
say(struct differ *d, struct canon_drift *item, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    item->text = buf;
    if (d->report)
        d->report(d->arg, item);
    d->n++;
}

static const char *
name_of(const json_t *x)
{
    return json_is_string(x) ? json_string_value(x) : json_string_value(json_object_get(x, "name"));
}

/* An unnamed object (SQLite's foreign keys) is known by its columns. */
static const json_t *
key_of(const json_t *x)
{
    return json_object_get(x, "columns");
}

static json_t *
find_match(const json_t *arr, const json_t *x)
{
    const char *name = name_of(x);
    size_t i;
    json_t *y;

    json_array_foreach(arr, i, y)
    {
        const char *n = name_of(y);
        if (name ? n && strcmp(n, name) == 0 : !n && json_equal(key_of(x), key_of(y)))
            return y;
    }
    return NULL;
}

static char *
compact(const json_t *j)
{
    return j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : strdup("null");
}

/*
 * How an object is named in a sentence: `column "Id"`, `primary key`,
 * `foreign key ("ClientId")` for an unnamed one. Into out.
 */
static void
describe(char *out, size_t size, const char *what, const json_t *x)
{
    const char *name = x ? name_of(x) : NULL;

    if (name) {
        snprintf(out, size, "%s \"%s\"", what, name);
    } else if (x && json_is_array(key_of(x))) {
        size_t i, len = (size_t)snprintf(out, size, "%s (", what);
        json_t *c;
        json_array_foreach(key_of(x), i, c)
        {
            if (len < size)
                len += (size_t)snprintf(out + len, size - len, "%s\"%s\"", i ? ", " : "",
                                        json_string_value(c) ? json_string_value(c) : "?");
        }
        if (len < size)
            snprintf(out + len, size - len, ")");
    } else {
        snprintf(out, size, "%s", what);
    }
}

/* Two objects of one kind that match: one report per member that differs. */
static void
diff_fields(struct differ *d, const char *table, const char *what, json_t *x, json_t *y)
{
    char desc[512];
    const char *key;
    json_t *v;

    if (json_equal(x, y))
        return;
    describe(desc, sizeof desc, what, x);
    if (!json_is_object(x) || !json_is_object(y)) {
        struct canon_drift item = {CANON_DIFFERS, table, what, name_of(x), NULL, x, y, NULL};
        char *a = compact(x), *b = compact(y);
        say(d, &item, "table \"%s\": %s differs: expected %s, found %s", table, desc, a ? a : "?",
            b ? b : "?");
        free(a);
        free(b);
        return;
    }
    /* jansson iterates in insertion order: sort the union of the keys for stable reports */
    {
        const char *keys[64];
        size_t nkeys = 0, i, k;
        json_object_foreach(x, key, v)
        {
            if (nkeys < 64)
                keys[nkeys++] = key;
        }
        json_object_foreach(y, key, v)
        {
            if (!json_object_get(x, key) && nkeys < 64)
                keys[nkeys++] = key;
        }
        for (i = 1; i < nkeys; i++)
            for (k = i; k > 0 && strcmp(keys[k - 1], keys[k]) > 0; k--) {
                const char *t = keys[k];
                keys[k] = keys[k - 1];
                keys[k - 1] = t;
            }
        for (i = 0; i < nkeys; i++) {
            const json_t *a = json_object_get(x, keys[i]), *b = json_object_get(y, keys[i]);
            struct canon_drift item = {CANON_DIFFERS, table, what, name_of(x), keys[i], a, b, NULL};
            char *sa, *sb;
            if (json_equal(a, b) || (!a && json_is_null(b)) || (json_is_null(a) && !b))
                continue;
            sa = compact(a);
            sb = compact(b);
            say(d, &item, "table \"%s\": %s differs in %s: expected %s, found %s", table, desc,
                keys[i], sa ? sa : "?", sb ? sb : "?");
            free(sa);
            free(sb);
        }
    }
}

/* A list of things (columns, keys, indexes): missing, extra, different. */
static void
diff_named(struct differ *d, const char *table, const char *what, const json_t *exp,
           const json_t *live)
{
    char desc[512];
    size_t i;
    json_t *x;

    json_array_foreach(exp, i, x)
    {
        json_t *y = find_match(live, x);
        if (!y) {
            struct canon_drift item = {CANON_MISSING, table, what, name_of(x), NULL, x, NULL, NULL};
            describe(desc, sizeof desc, what, x);
            say(d, &item, "table \"%s\": %s is missing", table, desc);
        } else {
            diff_fields(d, table, what, x, y);
        }
    }
    json_array_foreach(live, i, x)
    {
        if (!find_match(exp, x)) {
            struct canon_drift item = {
                CANON_UNEXPECTED, table, what, name_of(x), NULL, NULL, x, NULL};
            describe(desc, sizeof desc, what, x);
            say(d, &item, "table \"%s\": unexpected %s", table, desc);
        }
    }
}

size_t
canon_diff_items(const json_t *expected, const json_t *live,
                 void (*report)(void *arg, const struct canon_drift *d), void *arg)
{
    struct differ d = {report, arg, 0};
    const json_t *et = json_object_get(expected, "tables"), *lt = json_object_get(live, "tables");
    size_t i;
    json_t *t;

    json_array_foreach(et, i, t)
    {
        const char *name = json_string_value(json_object_get(t, "name"));
        json_t *u = find_match(lt, t);
        json_t *epk, *lpk;
        if (!name)
            continue;
        if (!u) {
            struct canon_drift item = {CANON_MISSING, name, "table", name, NULL, t, NULL, NULL};
            say(&d, &item, "table \"%s\" is missing", name);
            continue;
        }
        diff_named(&d, name, "column", json_object_get(t, "columns"),
                   json_object_get(u, "columns"));
        epk = json_object_get(t, "primary_key");
        lpk = json_object_get(u, "primary_key");
        if (json_is_object(epk) && json_is_object(lpk)) {
            diff_fields(&d, name, "primary key", epk, lpk);
        } else if (json_is_object(epk) && !json_is_object(lpk)) {
            struct canon_drift item = {CANON_MISSING, name, "primary key", name_of(epk),
                                       NULL,          epk,  NULL,          NULL};
            say(&d, &item, "table \"%s\": the primary key is missing", name);
        } else if (json_is_object(lpk) && !json_is_object(epk)) {
            struct canon_drift item = {
                CANON_UNEXPECTED, name, "primary key", name_of(lpk), NULL, NULL, lpk, NULL};
            char *b = compact(json_object_get(lpk, "columns"));
            say(&d, &item, "table \"%s\": unexpected primary key on %s", name, b ? b : "?");
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
    json_array_foreach(lt, i, t)
    {
        const char *name = json_string_value(json_object_get(t, "name"));
        if (name && !find_match(et, t)) {
            struct canon_drift item = {CANON_UNEXPECTED, name, "table", name, NULL, NULL, t, NULL};
            say(&d, &item, "unexpected table \"%s\"", name);
        }
    }
    return d.n;
}

/* canon_diff(): the sentences alone. */
struct text_only {
    void (*report)(void *arg, const char *text);
    void *arg;
};

static void
report_text(void *arg, const struct canon_drift *d)
{
    struct text_only *t = arg;

    if (t->report)
        t->report(t->arg, d->text);
}

size_t
canon_diff(const json_t *expected, const json_t *live, void (*report)(void *arg, const char *text),
           void *arg)
{
    struct text_only t = {report, arg};

    return canon_diff_items(expected, live, report_text, &t);
}
