/* SPDX-License-Identifier: MIT */
/*
 * expect.c: the model's schema in canonical form (expect.h, runtime/canon.h).
 * Each dialect keeps what it can report back: SQLite has no names for
 * primary and foreign keys, no introspectable checks, and unique
 * constraints that are unique indexes.
 */
#include "compiler/expect.h"

#include <stdlib.h>
#include <string.h>

#include "compiler/lower.h"
#include "runtime/canon.h"

void
expect_type_name(struct strbuf *out, const struct sm_type *t, enum dialect_id d)
{
    if (d == DIALECT_SQLITE) {
        sql_type(out, t, d);
        return;
    }
    switch (t->kind) {
    case TY_DECIMAL:
        strbuf_printf(out, "numeric(%u,%u)", (unsigned)t->precision, (unsigned)t->scale);
        return;
    case TY_STRING:
        strbuf_printf(out, "character varying(%u)", (unsigned)t->len);
        return;
    case TY_TIMESTAMP:
        strbuf_puts(out, "timestamp without time zone");
        return;
    default:
        sql_type(out, t, d); /* boolean, integer, bigint, double precision, text, ... */
        return;
    }
}

/* The default's value as the database will report it, normalised. */
static json_t *
default_value(const struct snap_col *c, const char *type, enum dialect_id d)
{
    const struct ast_literal *l = c->dflt;
    const char *raw;
    char *norm;
    json_t *j;

    if (!l || l->kind == LIT_NULL)
        return json_null();
    if (l->kind == LIT_TRUE || l->kind == LIT_FALSE)
        raw = d == DIALECT_SQLITE ? (l->kind == LIT_TRUE ? "1" : "0")
                                  : (l->kind == LIT_TRUE ? "true" : "false");
    else
        raw = l->text;
    norm = canon_default(type, raw);
    j = json_string(norm ? norm : raw);
    free(norm);
    return j;
}

static json_t *
name_list(const char *const *names, size_t n)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; i < n; i++)
        json_array_append_new(a, json_string(names[i]));
    return a;
}

static const char *
action(enum ast_fk_action a)
{
    switch (a) {
    case FK_ACTION_CASCADE:
        return "cascade";
    case FK_ACTION_SET_NULL:
        return "set null";
    case FK_ACTION_RESTRICT:
        return "restrict";
    default:
        return "no action";
    }
}

static json_t *
table(const struct snap_table *t, enum dialect_id d)
{
    json_t *o = json_object(), *cols = json_array(), *uniq = json_array(), *fks = json_array();
    json_t *checks = json_array(), *idx = json_array();
    bool sqlite = d == DIALECT_SQLITE;
    struct strbuf type = STRBUF_INIT;
    size_t i;

    json_object_set_new(o, "name", json_string(t->name));
    for (i = 0; i < t->ncols; i++) {
        const struct snap_col *c = &t->cols[i];
        json_t *cj = json_object();
        strbuf_reset(&type);
        expect_type_name(&type, &c->type, d);
        json_object_set_new(cj, "name", json_string(c->name));
        json_object_set_new(cj, "type", json_string(strbuf_str(&type)));
        json_object_set_new(cj, "not_null", json_boolean(c->not_null));
        json_object_set_new(cj, "default", default_value(c, strbuf_str(&type), d));
        /* SQLite generates values only for an identity that is the whole key (the checker
         * guarantees it); PostgreSQL reports attidentity */
        json_object_set_new(cj, "identity", json_boolean(c->identity));
        json_array_append_new(cols, cj);
    }
    json_object_set_new(o, "columns", cols);
    if (t->pk) {
        json_t *pk = json_object();
        json_object_set_new(pk, "name", sqlite ? json_null() : json_string(t->pk->name));
        json_object_set_new(pk, "columns", name_list(t->pk->cols, t->pk->ncols));
        json_object_set_new(o, "primary_key", pk);
    } else {
        json_object_set_new(o, "primary_key", json_null());
    }
    for (i = 0; i < t->nkeys; i++) {
        const struct snap_key *k = &t->keys[i];
        json_t *kj = json_object();
        switch (k->kind) {
        case KEY_UNIQUE:
            json_object_set_new(kj, "name", json_string(k->name));
            if (sqlite)
                json_object_set_new(kj, "unique", json_true());
            json_object_set_new(kj, "columns", name_list(k->cols, k->ncols));
            json_array_append_new(sqlite ? idx : uniq, kj);
            break;
        case KEY_FOREIGN:
            json_object_set_new(kj, "name", sqlite ? json_null() : json_string(k->name));
            json_object_set_new(kj, "columns", name_list(k->cols, k->ncols));
            json_object_set_new(kj, "ref_table", json_string(k->ref_table));
            json_object_set_new(kj, "ref_columns", name_list(k->ref_cols, k->nref));
            json_object_set_new(kj, "on_delete", json_string(action(k->on_delete)));
            json_array_append_new(fks, kj);
            break;
        case KEY_CHECK:
            json_decref(kj);
            if (!sqlite)
                json_array_append_new(checks, json_string(k->name));
            break;
        case KEY_PRIMARY:
            json_decref(kj);
            break;
        }
    }
    for (i = 0; i < t->nindexes; i++) {
        json_t *ij = json_object();
        json_object_set_new(ij, "name", json_string(t->indexes[i].name));
        json_object_set_new(ij, "unique", json_boolean(t->indexes[i].unique));
        json_object_set_new(ij, "columns", name_list(t->indexes[i].cols, t->indexes[i].ncols));
        json_array_append_new(idx, ij);
    }
    json_object_set_new(o, "unique", uniq);
    json_object_set_new(o, "foreign_keys", fks);
    json_object_set_new(o, "checks", checks);
    json_object_set_new(o, "indexes", idx);
    strbuf_free(&type);
    return o;
}

json_t *
expect_schema(const struct plan_version *v, enum dialect_id d)
{
    json_t *schema = json_object(), *tables = json_array();
    size_t i;

    for (i = 0; v && i < v->ntables; i++)
        json_array_append_new(tables, table(v->schema[i], d));
    json_object_set_new(schema, "tables", tables);
    canon_sort(schema);
    return schema;
}
