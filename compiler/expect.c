/* SPDX-License-Identifier: MIT */
/*
 * expect.c: the model's schema in canonical form (expect.h, runtime/canon.h).
 * Each dialect keeps what its catalogue can report back (dialect.h): SQLite
 * has no names for primary and foreign keys, no introspectable checks, and
 * unique constraints that are unique indexes.
 */
#include "compiler/expect.h"

#include <stdlib.h>
#include <string.h>

#include "compiler/lower.h"
#include "runtime/canon.h"

/*
 * The table is written straight as canonical JSON text (compact, keys
 * sorted, arrays sorted by name, unnamed foreign keys by their text): a
 * bundle of 10,000 steps has tens of thousands of tables to write, and a
 * JSON tree for each would cost more than the rest of the build.
 */

/* An element of an array, as text, with the name it sorts by. */
struct elem {
    const char *name;
    char *text;
};

static int
cmp_elem(const void *a, const void *b)
{
    const struct elem *x = a, *y = b;
    int r = strcmp(x->name ? x->name : "", y->name ? y->name : "");

    return r ? r : strcmp(x->text, y->text);
}

/* Sorts the elements, appends them as a JSON array, and frees their texts. */
static void
put_array(struct strbuf *out, struct elem *e, size_t n)
{
    size_t i;

    qsort(e, n, sizeof *e, cmp_elem);
    strbuf_putc(out, '[');
    for (i = 0; i < n; i++) {
        if (i)
            strbuf_putc(out, ',');
        strbuf_puts(out, e[i].text);
        free(e[i].text);
    }
    strbuf_putc(out, ']');
}

static void
put_names(struct strbuf *out, const char *const *names, size_t n)
{
    strbuf_putc(out, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            strbuf_putc(out, ',');
        strbuf_json_string(out, names[i]);
    }
    strbuf_putc(out, ']');
}

static const char *
action(enum sm_fk_action a)
{
    switch (a) {
    case SM_FK_CASCADE:
        return "cascade";
    case SM_FK_SET_NULL:
        return "set null";
    case SM_FK_RESTRICT:
        return "restrict";
    default:
        return "no action";
    }
}

/* The default's value as the database will report it, normalised; or null. */
static void
put_default(struct strbuf *out, const struct snap_col *c, const char *type, const struct dialect *d)
{
    const char *raw;
    char *norm;

    if (!c->dflt || c->dflt->kind == VAL_NULL) {
        strbuf_puts(out, "null");
        return;
    }
    if (c->dflt->kind == VAL_EXPR) {
        /* an expression the database evaluates on insert, told apart from any string */
        strbuf_puts(out, "{\"expr\":");
        strbuf_json_string(out, c->dflt->text);
        strbuf_putc(out, '}');
        return;
    }
    raw = d->default_text(c->dflt);
    norm = canon_default(type, raw);
    strbuf_json_string(out, norm ? norm : raw);
    free(norm);
}

void
expect_table_text(struct strbuf *out, const struct snap_table *t, const struct dialect *d)
{
    struct elem *cols = xcalloc(t->ncols + 1, sizeof *cols);
    struct elem *uniq = xcalloc(t->nkeys + 1, sizeof *uniq);
    struct elem *fks = xcalloc(t->nkeys + 1, sizeof *fks);
    struct elem *checks = xcalloc(t->nkeys + 1, sizeof *checks);
    struct elem *idx = xcalloc(t->nkeys + t->nindexes + 1, sizeof *idx);
    size_t nu = 0, nf = 0, nc = 0, ni = 0, i;
    struct strbuf b = STRBUF_INIT, type = STRBUF_INIT;

    for (i = 0; i < t->ncols; i++) {
        const struct snap_col *c = &t->cols[i];
        strbuf_reset(&type);
        if (c->declared[d->id])
            strbuf_puts(&type, c->declared[d->id]); /* the catalogue reports it as declared */
        else
            d->canonical_type(&type, &c->type);
        strbuf_reset(&b);
        strbuf_puts(&b, "{\"default\":");
        put_default(&b, c, strbuf_str(&type), d);
        /* SQLite generates values only for an identity that is the whole key (the checker
         * guarantees it); PostgreSQL reports attidentity */
        strbuf_printf(&b, ",\"identity\":%s,\"name\":", c->identity ? "true" : "false");
        strbuf_json_string(&b, c->name);
        strbuf_printf(&b, ",\"not_null\":%s,\"type\":", c->not_null ? "true" : "false");
        strbuf_json_string(&b, strbuf_str(&type));
        strbuf_putc(&b, '}');
        cols[i].name = c->name;
        cols[i].text = xstrdup(strbuf_str(&b));
    }
    for (i = 0; i < t->nkeys; i++) {
        const struct snap_key *k = &t->keys[i];
        strbuf_reset(&b);
        switch (k->kind) {
        case KEY_UNIQUE:
            strbuf_puts(&b, "{\"columns\":");
            put_names(&b, k->cols, k->ncols);
            strbuf_puts(&b, ",\"name\":");
            strbuf_json_string(&b, k->name);
            strbuf_puts(&b, d->unique_constraints_are_indexes ? ",\"unique\":true}" : "}");
            if (d->unique_constraints_are_indexes) {
                idx[ni].name = k->name;
                idx[ni++].text = xstrdup(strbuf_str(&b));
            } else {
                uniq[nu].name = k->name;
                uniq[nu++].text = xstrdup(strbuf_str(&b));
            }
            break;
        case KEY_FOREIGN:
            strbuf_puts(&b, "{\"columns\":");
            put_names(&b, k->cols, k->ncols);
            strbuf_puts(&b, ",\"name\":");
            if (d->keeps_key_names)
                strbuf_json_string(&b, k->name);
            else
                strbuf_puts(&b, "null");
            strbuf_printf(&b, ",\"on_delete\":\"%s\",\"on_update\":\"%s\",\"ref_columns\":",
                          action(k->on_delete), action(k->on_update));
            put_names(&b, k->ref_cols, k->nref);
            strbuf_puts(&b, ",\"ref_table\":");
            strbuf_json_string(&b, k->ref_table);
            strbuf_putc(&b, '}');
            fks[nf].name = d->keeps_key_names ? k->name : NULL;
            fks[nf++].text = xstrdup(strbuf_str(&b));
            break;
        case KEY_CHECK:
            if (d->reports_checks) {
                strbuf_json_string(&b, k->name);
                checks[nc].name = k->name;
                checks[nc++].text = xstrdup(strbuf_str(&b));
            }
            break;
        case KEY_PRIMARY:
            break;
        }
    }
    for (i = 0; i < t->nindexes; i++) {
        strbuf_reset(&b);
        strbuf_puts(&b, "{\"columns\":");
        put_names(&b, t->indexes[i].cols, t->indexes[i].ncols);
        strbuf_puts(&b, ",\"name\":");
        strbuf_json_string(&b, t->indexes[i].name);
        strbuf_printf(&b, ",\"unique\":%s}", t->indexes[i].unique ? "true" : "false");
        idx[ni].name = t->indexes[i].name;
        idx[ni++].text = xstrdup(strbuf_str(&b));
    }
    strbuf_puts(out, "{\"checks\":");
    put_array(out, checks, nc);
    strbuf_puts(out, ",\"columns\":");
    put_array(out, cols, t->ncols);
    strbuf_puts(out, ",\"foreign_keys\":");
    put_array(out, fks, nf);
    strbuf_puts(out, ",\"indexes\":");
    put_array(out, idx, ni);
    strbuf_puts(out, ",\"name\":");
    strbuf_json_string(out, t->name);
    strbuf_puts(out, ",\"primary_key\":");
    if (t->pk) {
        strbuf_puts(out, "{\"columns\":");
        put_names(out, t->pk->cols, t->pk->ncols);
        strbuf_puts(out, ",\"name\":");
        if (d->keeps_key_names)
            strbuf_json_string(out, t->pk->name);
        else
            strbuf_puts(out, "null");
        strbuf_putc(out, '}');
    } else {
        strbuf_puts(out, "null");
    }
    strbuf_puts(out, ",\"unique\":");
    put_array(out, uniq, nu);
    strbuf_putc(out, '}');
    free(cols);
    free(uniq);
    free(fks);
    free(checks);
    free(idx);
    strbuf_free(&b);
    strbuf_free(&type);
}

json_t *
expect_table(const struct snap_table *t, const struct dialect *d)
{
    struct strbuf text = STRBUF_INIT;
    json_t *j;

    expect_table_text(&text, t, d);
    j = json_loadb(strbuf_str(&text), text.len, 0, NULL);
    strbuf_free(&text);
    assert(j && "the table's canonical text is JSON");
    return j;
}

json_t *
expect_schema(const struct plan_version *v, enum dialect_id d)
{
    json_t *schema = json_object(), *tables = json_array();
    const struct snap_table **at;
    struct arena a;
    size_t n, i;

    arena_init(&a);
    n = ir_schema_at(&a, v, &at);
    for (i = 0; i < n; i++)
        json_array_append_new(tables, expect_table(at[i], dialect_get(d)));
    json_object_set_new(schema, "tables", tables);
    canon_sort(schema);
    arena_free(&a);
    return schema;
}

char *
expect_delta_text(const struct plan_version *v, enum dialect_id d)
{
    struct strbuf out = STRBUF_INIT;
    struct ir_delta id;
    struct arena a;
    size_t i;

    arena_init(&a);
    ir_step_delta(&a, v->ir, &id); /* the tables sorted by name */
    /* one table a line: compact, and a change to one table is a change to one line */
    strbuf_puts(&out, "{\"changed\": [");
    for (i = 0; i < id.nchanged; i++) {
        strbuf_puts(&out, i ? ",\n" : "\n");
        expect_table_text(&out, id.changed[i], dialect_get(d));
    }
    strbuf_puts(&out, id.nchanged ? "\n], \"removed\": [" : "], \"removed\": [");
    for (i = 0; i < id.nremoved; i++) {
        if (i)
            strbuf_putc(&out, ',');
        strbuf_json_string(&out, id.removed[i]);
    }
    strbuf_puts(&out, "]}\n");
    arena_free(&a);
    return strbuf_detach(&out);
}
