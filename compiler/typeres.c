/* SPDX-License-Identifier: MIT */
/*
 * typeres.c: the front end's translation of written types and literals into
 * the model's (types.h): type names and parameters checked and resolved,
 * literals and foreign-key actions carried over. Only the checker calls it.
 */
#include <stdio.h>
#include <string.h>

#include "compiler/check.h"

static const struct {
    const char *name;
    enum type_kind kind;
    int nparams; /* -1: string's (n), decimal's (p[, s]) */
} type_names[] = {
    {"bigint", TY_BIGINT, 0},  {"bool", TY_BOOL, 0},         {"bytes", TY_BYTES, 0},
    {"date", TY_DATE, 0},      {"decimal", TY_DECIMAL, -1},  {"double", TY_DOUBLE, 0},
    {"int", TY_INT, 0},        {"interval", TY_INTERVAL, 0}, {"json", TY_JSON, 0},
    {"string", TY_STRING, -1}, {"text", TY_TEXT, 0},         {"timestamp", TY_TIMESTAMP, 0},
    {"uuid", TY_UUID, 0},
};

/* Common spellings from SQL, mapped to the language's name for a hint. */
static const struct {
    const char *alias, *name;
} type_aliases[] = {
    {"boolean", "bool"},          {"integer", "int"},        {"int4", "int"},
    {"int8", "bigint"},           {"long", "bigint"},        {"varchar", "string(n)"},
    {"nvarchar", "string(n)"},    {"char", "string(n)"},     {"numeric", "decimal(p, s)"},
    {"float", "double"},          {"real", "double"},        {"blob", "bytes"},
    {"bytea", "bytes"},           {"datetime", "timestamp"}, {"datetime2", "timestamp"},
    {"timestamptz", "timestamp"}, {"jsonb", "json"},         {"bit", "bool"},
    {"time", "interval"},         {"guid", "uuid"},          {"smallint", "int"},
};

static bool
parse_param(const char *text, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    for (; *text; text++) {
        v = v * 10 + (uint64_t)(*text - '0');
        if (v > max)
            return false;
    }
    *out = v;
    return true;
}

bool
type_kind_lookup(const char *name, enum type_kind *out)
{
    for (size_t i = 0; i < ARRAY_LEN(type_names); i++) {
        if (ascii_casecmp(name, type_names[i].name) == 0) {
            *out = type_names[i].kind;
            return true;
        }
    }
    return false;
}

const struct dialect *
declared_dialect(const struct plan *p, const struct ast_ident *name, struct diag_sink *d)
{
    const struct dialect *dl = dialect_find(name->name);

    if (!dl) {
        const struct dialect *near = dialect_suggest(name->name);
        diag_error(d, name->span, "E0306", "unknown dialect \"%s\"", name->name);
        if (near)
            diag_help(d, "Did you mean \"%s\"?", near->name);
        return NULL;
    }
    if (!plan_has_dialect(p, dl->id)) {
        diag_error(d, name->span, "E0502",
                   "declared type for dialect \"%s\", which the plan does "
                   "not declare",
                   name->name);
        diag_help(d, "Add %s to the plan's dialects, or remove it.", name->name);
        return NULL;
    }
    return dl;
}

bool
declared_type_ok(const struct dialect *dl, const struct ast_string *type, struct diag_sink *d)
{
    const char *s = type->text;
    int depth = 0;

    if (!dl->declared_types) {
        diag_error(d, type->span, "E0507", "%s takes no declared type of the plan's choosing",
                   dl->title);
        diag_note(d,
                  "%s reports a column's type as its own name for the type: a declared type "
                  "would read as drift.",
                  dl->title);
        diag_help(d, "Remove it; the portable type decides the type on %s.", dl->title);
        return false;
    }
    /* a type name as SQL writes one: words, and one parenthesised list of numbers */
    if (!s || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
        goto bad;
    for (; *s; s++) {
        if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_' || *s == ' ' ||
            ((*s >= '0' && *s <= '9') && (depth || s[-1] != ' ')))
            continue;
        if (*s == '(' && depth == 0)
            depth = 1;
        else if (*s == ')' && depth == 1)
            depth = 2;
        else if (depth == 1 && (*s == ',' || (*s >= '0' && *s <= '9')))
            continue;
        else
            goto bad;
    }
    if (depth == 1 || strlen(type->text) > 64)
        goto bad;
    return true;
bad:
    diag_error(d, type->span, "E0507", "\"%s\" is not a type name %s can declare", type->text,
               dl->title);
    diag_help(d, "Write a type as SQL does: words and an optional list of numbers, as in "
                 "\"DATETIME\" or \"char(36)\".");
    return false;
}

bool
type_resolve(const struct ast_type *t, struct sm_type *out, struct diag_sink *d)
{
    size_t i;
    uint64_t p = 0, s = 0;

    memset(out, 0, sizeof *out);
    out->kind = TY_TEXT;
    for (i = 0; i < ARRAY_LEN(type_names); i++)
        if (ascii_casecmp(t->name, type_names[i].name) == 0)
            break;
    if (i == ARRAY_LEN(type_names)) {
        const char *best = NULL;
        size_t j;
        if (!diag_error(d, t->name_span, "E0401", "unknown type \"%s\"", t->name))
            return false;
        for (j = 0; j < ARRAY_LEN(type_aliases); j++)
            if (ascii_casecmp(t->name, type_aliases[j].alias) == 0)
                best = type_aliases[j].name;
        for (j = 0; !best && j < ARRAY_LEN(type_names); j++)
            if (edit_distance(t->name, type_names[j].name, 2) <= 2)
                best = type_names[j].name;
        if (best)
            diag_help(d, "Did you mean \"%s\"?", best);
        else
            diag_help(d, "The types are bool, int, bigint, double, decimal(p, s), string(n), "
                         "text, bytes, date, timestamp, interval, uuid and json.");
        return false;
    }
    out->kind = type_names[i].kind;
    switch (out->kind) {
    case TY_STRING:
        if (t->nparams != 1) {
            diag_error(d, t->span, "E0402", "type \"string\" needs one length, as in string(200)");
            diag_help(d, "Use text for strings without a length limit.");
            out->kind = TY_TEXT;
            return false;
        }
        if (!parse_param(t->params[0], TYPE_MAX_STRING_LEN, &p) || p == 0) {
            diag_error(d, t->param_spans[0], "E0402", "string length must be between 1 and %u",
                       TYPE_MAX_STRING_LEN);
            diag_help(d, "Use text for longer strings.");
            out->kind = TY_TEXT;
            return false;
        }
        out->len = (uint32_t)p;
        return true;
    case TY_DECIMAL:
        if (t->nparams < 1) {
            diag_error(d, t->span, "E0402",
                       "type \"decimal\" needs a precision, as in decimal(18, 2)");
            out->precision = 18;
            return false;
        }
        if (!parse_param(t->params[0], TYPE_MAX_DECIMAL_PRECISION, &p) || p == 0) {
            diag_error(d, t->param_spans[0], "E0402", "decimal precision must be between 1 and %u",
                       TYPE_MAX_DECIMAL_PRECISION);
            out->precision = 18;
            return false;
        }
        if (t->nparams == 2 && (!parse_param(t->params[1], p, &s))) {
            diag_error(d, t->param_spans[1], "E0402",
                       "decimal scale must be between 0 and the precision (%llu)",
                       (unsigned long long)p);
            out->precision = (uint16_t)p;
            return false;
        }
        out->precision = (uint16_t)p;
        out->scale = (uint16_t)s;
        return true;
    default:
        if (t->nparams) {
            diag_error(d, t->param_spans[0], "E0402", "type \"%s\" takes no parameters",
                       type_names[i].name);
            return false;
        }
        return true;
    }
}

const struct sm_value *
value_of(struct arena *a, const struct ast_literal *lit)
{
    static const enum value_kind kinds[] = {
        [LIT_INT] = VAL_INT,   [LIT_DECIMAL] = VAL_DECIMAL, [LIT_STRING] = VAL_STRING,
        [LIT_TRUE] = VAL_TRUE, [LIT_FALSE] = VAL_FALSE,     [LIT_NULL] = VAL_NULL,
        [LIT_EXPR] = VAL_EXPR,
    };
    const struct value_expr *e;
    struct sm_value *v;

    if (!lit)
        return NULL;
    v = ARENA_NEW(a, struct sm_value);
    v->kind = kinds[lit->kind];
    v->text = lit->text;
    v->len = lit->len;
    if (v->kind == VAL_EXPR && (e = value_expr_lookup(lit->text))) {
        /* the model keeps the expression's own spelling, whatever case the plan used */
        v->text = e->name;
        v->len = strlen(e->name);
    }
    return v;
}

enum sm_fk_action
fk_action_of(enum ast_fk_action a)
{
    switch (a) {
    case FK_ACTION_CASCADE:
        return SM_FK_CASCADE;
    case FK_ACTION_SET_NULL:
        return SM_FK_SET_NULL;
    case FK_ACTION_RESTRICT:
        return SM_FK_RESTRICT;
    case FK_ACTION_NO_ACTION:
        return SM_FK_NO_ACTION;
    case FK_ACTION_NONE:
        break;
    }
    return SM_FK_NONE;
}
