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

/* The canonical elements of a table, each array's texts malloc'd (elems_free). */
enum { E_CHECKS, E_COLUMNS, E_FKS, E_INDEXES, E_UNIQUE, E_KINDS };
static const char *const elem_member[E_KINDS] = {"checks", "columns", "foreign_keys", "indexes",
                                                 "unique"};

struct elems {
    struct elem *e[E_KINDS];
    size_t n[E_KINDS];
    char *pk; /* the primary key's text, or "null" */
};

/* The elements of t; of its columns only those from col_from on (the others are known equal). */
static void
elems_of(struct elems *out, const struct snap_table *t, const struct dialect *d, size_t col_from)
{
    struct elem *cols = xcalloc(t->ncols + 1, sizeof *cols);
    struct elem *uniq = xcalloc(t->nkeys + 1, sizeof *uniq);
    struct elem *fks = xcalloc(t->nkeys + 1, sizeof *fks);
    struct elem *checks = xcalloc(t->nkeys + 1, sizeof *checks);
    struct elem *idx = xcalloc(t->nkeys + t->nindexes + 1, sizeof *idx);
    size_t nu = 0, nf = 0, nc = 0, ni = 0, nl = 0, i;
    struct strbuf b = STRBUF_INIT, type = STRBUF_INIT;

    for (i = col_from; i < t->ncols; i++) {
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
        cols[nl].name = c->name;
        cols[nl++].text = xstrdup(strbuf_str(&b));
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
    out->e[E_CHECKS] = checks;
    out->n[E_CHECKS] = nc;
    out->e[E_COLUMNS] = cols;
    out->n[E_COLUMNS] = nl;
    out->e[E_FKS] = fks;
    out->n[E_FKS] = nf;
    out->e[E_INDEXES] = idx;
    out->n[E_INDEXES] = ni;
    out->e[E_UNIQUE] = uniq;
    out->n[E_UNIQUE] = nu;
    strbuf_reset(&b);
    if (t->pk) {
        strbuf_puts(&b, "{\"columns\":");
        put_names(&b, t->pk->cols, t->pk->ncols);
        strbuf_puts(&b, ",\"name\":");
        if (d->keeps_key_names)
            strbuf_json_string(&b, t->pk->name);
        else
            strbuf_puts(&b, "null");
        strbuf_putc(&b, '}');
    } else {
        strbuf_puts(&b, "null");
    }
    out->pk = strbuf_detach(&b);
    strbuf_free(&type);
}

static void
elems_free(struct elems *e)
{
    for (int k = 0; k < E_KINDS; k++) {
        for (size_t i = 0; i < e->n[k]; i++)
            free(e->e[k][i].text);
        free(e->e[k]);
    }
    free(e->pk);
}

void
expect_table_text(struct strbuf *out, const struct snap_table *t, const struct dialect *d)
{
    struct elems e;

    elems_of(&e, t, d, 0);
    for (int k = 0; k < E_KINDS; k++) {
        strbuf_puts(out, k ? ",\"" : "{\"");
        strbuf_puts(out, elem_member[k]);
        strbuf_puts(out, "\":");
        put_array(out, e.e[k], e.n[k]); /* frees the texts */
        e.n[k] = 0;
        if (k == E_INDEXES) {
            strbuf_puts(out, ",\"name\":");
            strbuf_json_string(out, t->name);
            strbuf_puts(out, ",\"primary_key\":");
            strbuf_puts(out, e.pk);
        }
    }
    strbuf_putc(out, '}');
    elems_free(&e);
}

/* What identifies an element within its array: its name, or its whole text when it has none. */
static const char *
elem_key(const struct elem *e)
{
    return e->name ? e->name : e->text;
}

static int
cmp_elem_key(const void *a, const void *b)
{
    return strcmp(elem_key(a), elem_key(b));
}

/*
 * Appends to out the member of a patch that turns the elements from into
 * to, as "member":{"drop":[...],"put":[...]}, preceded by a comma; nothing
 * when they are the same. drop names the elements of from that to has not
 * (by name; an unnamed element by its whole object), put the elements of to
 * that from has not as they are.
 */
static void
put_patch_member(struct strbuf *out, const char *member, struct elem *from, size_t nfrom,
                 struct elem *to, size_t nto)
{
    struct strbuf drop = STRBUF_INIT, put = STRBUF_INIT;
    size_t i = 0, j = 0;

    qsort(from, nfrom, sizeof *from, cmp_elem_key);
    qsort(to, nto, sizeof *to, cmp_elem_key);
    while (i < nfrom || j < nto) {
        int r = i == nfrom ? 1 : j == nto ? -1 : strcmp(elem_key(&from[i]), elem_key(&to[j]));
        if (r < 0) {
            strbuf_putc(&drop, drop.len ? ',' : '[');
            if (from[i].name)
                strbuf_json_string(&drop, from[i].name);
            else
                strbuf_puts(&drop, from[i].text);
            i++;
        } else if (r > 0 || strcmp(from[i].text, to[j].text) != 0) {
            strbuf_putc(&put, put.len ? ',' : '[');
            strbuf_puts(&put, to[j].text);
            i += r == 0;
            j++;
        } else {
            i++;
            j++;
        }
    }
    if (drop.len || put.len) {
        strbuf_printf(out, ",\"%s\":{\"drop\":%s%s,\"put\":%s%s}", member,
                      drop.len ? strbuf_str(&drop) : "[", "]", put.len ? strbuf_str(&put) : "[",
                      "]");
    }
    strbuf_free(&drop);
    strbuf_free(&put);
}

/*
 * The patch that turns table from into to (one table under one name), as
 * {"name":...} with the members that differ (docs/bundle-format.md); false
 * and nothing written when they do not. Columns that to only appended to
 * from's (snap_cols_prefix) are not compared: a table that gains a column a
 * version costs a line of the width of that column, not of the table.
 */
static bool
put_patch(struct strbuf *out, const struct snap_table *from, const struct snap_table *to,
          const struct dialect *d)
{
    bool prefix = snap_cols_prefix(from, to);
    struct strbuf members = STRBUF_INIT;
    struct elems a, b;
    bool any;

    elems_of(&a, from, d, prefix ? from->ncols : 0);
    elems_of(&b, to, d, prefix ? from->ncols : 0);
    for (int k = 0; k < E_KINDS; k++)
        put_patch_member(&members, elem_member[k], a.e[k], a.n[k], b.e[k], b.n[k]);
    if (strcmp(a.pk, b.pk) != 0) {
        strbuf_puts(&members, ",\"primary_key\":");
        strbuf_puts(&members, b.pk);
    }
    any = members.len > 0;
    if (any) {
        strbuf_puts(out, "{\"name\":");
        strbuf_json_string(out, to->name);
        strbuf_puts(out, strbuf_str(&members));
        strbuf_putc(out, '}');
    }
    strbuf_free(&members);
    elems_free(&a);
    elems_free(&b);
    return any;
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
    struct strbuf out = STRBUF_INIT, patched = STRBUF_INIT;
    const struct dialect *dl = dialect_get(d);
    struct ir_delta id;
    struct arena a;
    size_t i, nwhole = 0, npatched = 0;

    arena_init(&a);
    ir_step_delta(&a, v->ir, &id); /* the tables sorted by name */
    /* one table a line: compact, and a change to one table is a change to one line */
    strbuf_puts(&out, "{\"changed\": [");
    for (i = 0; i < id.nchanged; i++) {
        if (id.before[i]) {
            struct strbuf one = STRBUF_INIT;
            if (put_patch(&one, id.before[i], id.changed[i], dl)) {
                strbuf_puts(&patched, npatched++ ? ",\n" : "\n");
                strbuf_puts(&patched, strbuf_str(&one));
            }
            strbuf_free(&one);
            continue;
        }
        strbuf_puts(&out, nwhole++ ? ",\n" : "\n");
        expect_table_text(&out, id.changed[i], dl);
    }
    strbuf_puts(&out, nwhole ? "\n], \"patched\": [" : "], \"patched\": [");
    strbuf_puts(&out, strbuf_str(&patched));
    strbuf_puts(&out, npatched ? "\n], \"removed\": [" : "], \"removed\": [");
    for (i = 0; i < id.nremoved; i++) {
        if (i)
            strbuf_putc(&out, ',');
        strbuf_json_string(&out, id.removed[i]);
    }
    strbuf_puts(&out, "]}\n");
    strbuf_free(&patched);
    arena_free(&a);
    return strbuf_detach(&out);
}
