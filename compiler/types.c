/* SPDX-License-Identifier: MIT */
/*
 * types.c: the conversion table behind `alter column ... type`, and the
 * validation of default values.
 *
 * The conversion table is deliberately conservative: a conversion is WIDEN
 * only when no value of the old type can fail to convert; anything that
 * parses text or shrinks a range is NARROW (the checker warns); pairs with no
 * meaningful cast (bool to timestamp, bytes to anything) are NONE (an error).
 */
#include "compiler/types.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static const char *const kind_names[TY_COUNT] = {
    [TY_BOOL] = "bool",           [TY_INT] = "int",           [TY_BIGINT] = "bigint",
    [TY_DOUBLE] = "double",       [TY_DECIMAL] = "decimal",   [TY_STRING] = "string",
    [TY_TEXT] = "text",           [TY_BYTES] = "bytes",       [TY_DATE] = "date",
    [TY_TIMESTAMP] = "timestamp", [TY_INTERVAL] = "interval", [TY_UUID] = "uuid",
    [TY_JSON] = "json",
};

const char *
type_kind_name(enum type_kind k)
{
    return k < TY_COUNT ? kind_names[k] : NULL;
}

static const struct value_expr exprs[] = {
    {"current_timestamp", TY_TIMESTAMP},
    {"current_date", TY_DATE},
    {"random_uuid", TY_UUID},
};

const struct value_expr *
value_expr_lookup(const char *name)
{
    for (size_t i = 0; i < ARRAY_LEN(exprs); i++)
        if (ascii_casecmp(name, exprs[i].name) == 0)
            return &exprs[i];
    return NULL;
}

const char *
value_exprs_text(void)
{
    return "current_timestamp, current_date and random_uuid()";
}

const char *
type_str(const struct sm_type *t, char *buf, size_t size)
{
    const char *const *names = kind_names;

    if (t->kind == TY_STRING)
        snprintf(buf, size, "string(%u)", (unsigned)t->len);
    else if (t->kind == TY_DECIMAL)
        snprintf(buf, size, "decimal(%u, %u)", (unsigned)t->precision, (unsigned)t->scale);
    else
        snprintf(buf, size, "%s", names[t->kind]);
    return buf;
}

bool
type_equal(const struct sm_type *a, const struct sm_type *b)
{
    return a->kind == b->kind && a->len == b->len && a->precision == b->precision &&
           a->scale == b->scale;
}

bool
type_is_integer(const struct sm_type *t)
{
    return t->kind == TY_INT || t->kind == TY_BIGINT;
}

static bool
is_textual(const struct sm_type *t)
{
    return t->kind == TY_STRING || t->kind == TY_TEXT;
}

/* Digits before the point that a decimal(p, s) can hold. */
static int
int_digits(const struct sm_type *t)
{
    return t->precision - t->scale;
}

enum type_conv
type_conversion(const struct sm_type *from, const struct sm_type *to)
{
    enum type_kind f = from->kind, t = to->kind;

    if (type_equal(from, to))
        return CONV_SAME;
    if (f == TY_BYTES || t == TY_BYTES)
        return CONV_NONE;
    /* To text: everything prints; to string(n): it may not fit. */
    if (t == TY_TEXT)
        return CONV_WIDEN;
    if (t == TY_STRING)
        return f == TY_STRING && from->len <= to->len ? CONV_WIDEN : CONV_NARROW;
    /* From text: a parse that can fail, for any type that has a text form. */
    if (is_textual(from))
        return CONV_NARROW;
    switch (t) {
    case TY_BOOL:
        return f == TY_INT || f == TY_BIGINT ? CONV_NARROW : CONV_NONE;
    case TY_INT:
        return f == TY_BOOL                                            ? CONV_WIDEN
               : (f == TY_BIGINT || f == TY_DOUBLE || f == TY_DECIMAL) ? CONV_NARROW
                                                                       : CONV_NONE;
    case TY_BIGINT:
        return (f == TY_BOOL || f == TY_INT)         ? CONV_WIDEN
               : (f == TY_DOUBLE || f == TY_DECIMAL) ? CONV_NARROW
                                                     : CONV_NONE;
    case TY_DOUBLE:
        return (f == TY_INT || f == TY_BIGINT || f == TY_DECIMAL) ? CONV_WIDEN : CONV_NONE;
    case TY_DECIMAL:
        if (f == TY_INT)
            return int_digits(to) >= 10 ? CONV_WIDEN : CONV_NARROW;
        if (f == TY_BIGINT)
            return int_digits(to) >= 19 ? CONV_WIDEN : CONV_NARROW;
        if (f == TY_DECIMAL)
            return int_digits(to) >= int_digits(from) && to->scale >= from->scale ? CONV_WIDEN
                                                                                  : CONV_NARROW;
        return f == TY_DOUBLE ? CONV_NARROW : CONV_NONE;
    case TY_TIMESTAMP:
        return f == TY_DATE ? CONV_WIDEN : CONV_NONE;
    case TY_DATE:
        return f == TY_TIMESTAMP ? CONV_NARROW : CONV_NONE;
    default: /* interval, uuid, json: only from text */
        return CONV_NONE;
    }
}

bool
type_fk_compatible(const struct sm_type *a, const struct sm_type *b)
{
    if (type_is_integer(a) && type_is_integer(b))
        return true;
    if (is_textual(a) && is_textual(b))
        return true;
    return a->kind == b->kind && (a->kind != TY_DECIMAL || a->scale == b->scale);
}

static bool
digits(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n > 0;
}

static int
num(const char *s, size_t n)
{
    int v = 0;
    size_t i;

    for (i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* YYYY-MM-DD with a real day of the month. */
static bool
valid_date(const char *s)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d;

    if (!digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2))
        return false;
    y = num(s, 4), m = num(s + 5, 2), d = num(s + 8, 2);
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return false;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return false;
    return true;
}

/* HH:MM:SS[.ffffff] */
static bool
valid_time(const char *s, const char **end, int max_hours)
{
    if (!digits(s, 2) || s[2] != ':' || !digits(s + 3, 2) || s[5] != ':' || !digits(s + 6, 2))
        return false;
    if (num(s, 2) > max_hours || num(s + 3, 2) > 59 || num(s + 6, 2) > 59)
        return false;
    s += 8;
    if (*s == '.') {
        size_t n = strspn(s + 1, "0123456789");
        if (n == 0 || n > 6)
            return false;
        s += 1 + n;
    }
    *end = s;
    return true;
}

static bool
valid_timestamp(const char *s)
{
    const char *end;

    if (!valid_date(s) || (s[10] != ' ' && s[10] != 'T') || !valid_time(s + 11, &end, 23))
        return false;
    return *end == '\0' || strcmp(end, "Z") == 0;
}

static bool
valid_uuid(const char *s)
{
    static const int groups[] = {8, 4, 4, 4, 12};
    size_t g;
    int i;

    for (g = 0; g < ARRAY_LEN(groups); g++) {
        for (i = 0; i < groups[g]; i++, s++)
            if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')))
                return false;
        if (g < ARRAY_LEN(groups) - 1 && *s++ != '-')
            return false;
    }
    return *s == '\0';
}

/* Checks an integer literal against a range, as text (it may be any length). */
static bool
int_in_range(const char *text, bool is64)
{
    char *end;
    long long v;

    if (strlen(text) > 21)
        return false;
    v = strtoll(text, &end, 10);
    if (*end || (v == LLONG_MAX || v == LLONG_MIN)) {
        /* strtoll saturates; the exact limits themselves are valid */
        return is64 && (strcmp(text, "9223372036854775807") == 0 ||
                        strcmp(text, "-9223372036854775808") == 0);
    }
    return is64 || (v >= INT32_MIN && v <= INT32_MAX);
}

bool
value_equal(const struct sm_value *a, const struct sm_value *b)
{
    if (!a || !b)
        return a == b;
    return a->kind == b->kind && a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
}

const char *
type_check_value(const struct sm_type *t, const struct sm_value *lit)
{
    const char *s = lit->text;

    if (lit->kind == VAL_NULL)
        return NULL;
    if (lit->kind == VAL_EXPR) {
        const struct value_expr *e = value_expr_lookup(lit->text);
        if (!e)
            return "it is no value and no known expression";
        if (e->type != t->kind)
            return e->type == TY_TIMESTAMP ? "the expression current_timestamp is a timestamp"
                   : e->type == TY_DATE    ? "the expression current_date is a date"
                                           : "the expression random_uuid() is a uuid";
        return NULL;
    }
    switch (t->kind) {
    case TY_BOOL:
        return lit->kind == VAL_TRUE || lit->kind == VAL_FALSE ? NULL
                                                               : "a bool takes true or false";
    case TY_INT:
    case TY_BIGINT:
        if (lit->kind != VAL_INT)
            return "an integer column takes a whole number";
        return int_in_range(s, t->kind == TY_BIGINT) ? NULL
               : t->kind == TY_INT                   ? "the number does not fit in an int (32 bits)"
                                   : "the number does not fit in a bigint (64 bits)";
    case TY_DOUBLE:
        return lit->kind == VAL_INT || lit->kind == VAL_DECIMAL ? NULL : "a double takes a number";
    case TY_DECIMAL: {
        const char *digits_start = *s == '-' ? s + 1 : s;
        const char *dot = strchr(digits_start, '.');
        size_t ip = dot ? (size_t)(dot - digits_start) : strlen(digits_start);
        size_t fp = dot ? strlen(dot + 1) : 0;
        if (lit->kind != VAL_INT && lit->kind != VAL_DECIMAL)
            return "a decimal takes a number";
        while (ip > 1 && *digits_start == '0')
            digits_start++, ip--;
        if (fp > t->scale)
            return "the number has more digits after the point than the scale allows";
        if (ip > (size_t)(t->precision - t->scale) && !(ip == 1 && *digits_start == '0'))
            return "the number has more digits before the point than the precision allows";
        return NULL;
    }
    case TY_STRING:
    case TY_TEXT:
        if (lit->kind != VAL_STRING)
            return "a string column takes a string literal";
        if (t->kind == TY_STRING) {
            size_t cps = 0, i = 0;
            int32_t cp;
            while (i < lit->len) {
                i += utf8_decode((const unsigned char *)s + i, lit->len - i, &cp);
                cps++;
            }
            if (cps > t->len)
                return "the string is longer than the column's length";
        }
        return NULL;
    case TY_BYTES:
        return "a bytes column takes no default but null";
    case TY_DATE:
        return lit->kind == VAL_STRING && valid_date(s) ? NULL
                                                        : "a date takes a string \"YYYY-MM-DD\"";
    case TY_TIMESTAMP:
        return lit->kind == VAL_STRING && valid_timestamp(s)
                   ? NULL
                   : "a timestamp takes a string \"YYYY-MM-DD HH:MM:SS[.ffffff]\"";
    case TY_INTERVAL: {
        const char *end;
        return lit->kind == VAL_STRING && valid_time(s, &end, 99) && *end == '\0'
                   ? NULL
                   : "an interval takes a string \"HH:MM:SS[.ffffff]\"";
    }
    case TY_UUID:
        return lit->kind == VAL_STRING && valid_uuid(s)
                   ? NULL
                   : "a uuid takes a string \"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\"";
    case TY_JSON: {
        json_t *j;
        if (lit->kind != VAL_STRING)
            return "a json column takes a string holding JSON";
        j = json_loadb(s, lit->len, JSON_DECODE_ANY, NULL);
        if (!j)
            return "the string is not valid JSON";
        json_decref(j);
        return NULL;
    }
    }
    return "unsupported type";
}
