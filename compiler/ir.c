/* SPDX-License-Identifier: MIT */
/* ir.c: snapshots of tables, steps, their deltas and invariants (ir.h). */
#include "compiler/ir.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/source.h"
#include "core/util.h"

static const char **
col_names(struct arena *a, struct sm_column *const *cols, size_t n)
{
    const char **names = ARENA_ARRAY(a, const char *, n + 1);
    size_t i;

    for (i = 0; i < n; i++)
        names[i] = cols[i]->name;
    return names;
}

/* Whether the names of cols are (the same pointers as) names: a part that can be shared. */
static bool
same_names(const char *const *names, size_t n, struct sm_column *const *cols, size_t ncols)
{
    size_t i;

    if (n != ncols)
        return false;
    for (i = 0; i < n; i++)
        if (names[i] != cols[i]->name)
            return false;
    return true;
}

static bool
same_key(const struct snap_key *s, const struct sm_key *k)
{
    if (s->kind != k->kind || s->name != k->name || s->expr != k->expr ||
        !same_names(s->cols, s->ncols, k->cols, k->ncols))
        return false;
    if (k->kind != KEY_FOREIGN)
        return true;
    return s->ref_table == k->ref_table->name && s->on_delete == k->on_delete &&
           s->on_update == k->on_update && same_names(s->ref_cols, s->nref, k->ref_cols, k->nref);
}

static void
snap_key_into(struct arena *a, struct snap_key *out, const struct sm_key *k)
{
    out->kind = k->kind;
    out->name = k->name;
    out->cols = col_names(a, k->cols, k->ncols);
    out->ncols = k->ncols;
    if (k->kind == KEY_FOREIGN) {
        out->ref_table = k->ref_table->name;
        out->ref_cols = col_names(a, k->ref_cols, k->nref);
        out->nref = k->nref;
        out->on_delete = k->on_delete;
        out->on_update = k->on_update;
    }
    out->expr = k->expr;
}

static bool
same_col(const struct snap_col *s, const struct sm_column *c)
{
    return s->id == c && s->name == c->name && type_equal(&s->type, &c->type) &&
           s->not_null == c->not_null && s->identity == c->identity && s->dflt == c->dflt &&
           memcmp(s->declared, c->declared, sizeof s->declared) == 0;
}

/*
 * The number of leading columns of t that are p's (t's last snapshot),
 * unchanged. The first t->cols_kept are known to be (schema.c lowers it with
 * every change of the columns), so only the rest is compared: a table that
 * gains a column per statement costs what is new, not its width.
 */
static size_t
common_cols(const struct snap_table *p, const struct sm_table *t)
{
    size_t n = p->ncols < t->cols.len ? p->ncols : t->cols.len, i;

    i = t->cols_kept < n ? t->cols_kept : n;
#ifndef NDEBUG
    for (size_t k = 0; k < i; k++)
        assert(same_col(&p->cols[k], t->cols.items[k]) && "cols_kept is lowered by every change");
#endif
    for (; i < n; i++)
        if (!same_col(&p->cols[i], t->cols.items[i]))
            break;
    return i;
}

struct snap_colbuf {
    struct snap_col *items;
    size_t len, cap; /* items[0 .. len) are written and never change again */
};

static void
snap_col_into(struct snap_col *sc, const struct sm_column *c)
{
    sc->id = c;
    sc->name = c->name;
    sc->type = c->type;
    sc->not_null = c->not_null;
    sc->identity = c->identity;
    sc->dflt = c->dflt;
    memcpy(sc->declared, c->declared, sizeof sc->declared);
}

/*
 * Puts t's columns into s. When t only gained columns at the end since prev,
 * and prev is the last snapshot written into its buffer, the new columns are
 * appended to that buffer (grown by doubling, the old array left to the
 * snapshots that use it) and shared: a table that gains a column per
 * statement costs linear memory, not the square of its width.
 */
static void
snap_cols(struct arena *a, struct snap_table *s, const struct snap_table *prev,
          const struct sm_table *t, size_t common)
{
    struct snap_colbuf *b = prev ? prev->colbuf : NULL;
    size_t n = t->cols.len, i;

    if (!b || common != prev->ncols || b->len != prev->ncols || prev->cols != b->items) {
        b = ARENA_NEW(a, struct snap_colbuf);
        b->cap = n < 4 ? 4 : n;
        b->items = ARENA_ARRAY(a, struct snap_col, b->cap + 1);
        common = 0;
    } else if (n > b->cap) {
        struct snap_col *grown;
        b->cap = n > 2 * b->cap ? n : 2 * b->cap;
        grown = ARENA_ARRAY(a, struct snap_col, b->cap + 1);
        memcpy(grown, b->items, b->len * sizeof *grown);
        b->items = grown;
    }
    for (i = common; i < n; i++)
        snap_col_into(&b->items[i], t->cols.items[i]);
    b->len = n;
    s->cols = b->items;
    s->colbuf = b;
}

bool
snap_cols_prefix(const struct snap_table *a, const struct snap_table *b)
{
    return a->colbuf && a->colbuf == b->colbuf && a->ncols <= b->ncols;
}

static bool
same_keys(const struct snap_table *p, const struct sm_table *t)
{
    size_t i;

    if (p->nkeys != t->keys.len)
        return false;
    for (i = 0; i < p->nkeys; i++)
        if (!same_key(&p->keys[i], t->keys.items[i]))
            return false;
    return true;
}

static bool
same_indexes(const struct snap_table *p, const struct sm_table *t)
{
    size_t i;

    if (p->nindexes != t->indexes.len)
        return false;
    for (i = 0; i < p->nindexes; i++) {
        const struct sm_index *ix = t->indexes.items[i];
        if (p->indexes[i].name != ix->name || p->indexes[i].unique != ix->unique ||
            !same_names(p->indexes[i].cols, p->indexes[i].ncols, ix->cols, ix->ncols))
            return false;
    }
    return true;
}

const struct snap_table *
snap_table(struct arena *a, struct sm_table *t)
{
    const struct snap_table *prev = t->snap;
    size_t common = prev ? common_cols(prev, t) : 0;
    bool cols = prev && common == prev->ncols && common == t->cols.len;
    bool pk = prev && ((!prev->pk && !t->pk) || (prev->pk && t->pk && same_key(prev->pk, t->pk)));
    bool keys = prev && same_keys(prev, t), indexes = prev && same_indexes(prev, t);
    struct snap_table *s;
    size_t i;

    t->cols_kept = t->cols.len;
    if (prev && prev->name == t->name && cols && pk && keys && indexes)
        return prev;
    s = ARENA_NEW(a, struct snap_table);
    s->id = t;
    s->name = t->name;
    s->ncols = t->cols.len;
    if (cols) {
        s->cols = prev->cols;
        s->colbuf = prev->colbuf;
    } else {
        snap_cols(a, s, prev, t, common);
    }
    if (pk) {
        s->pk = prev->pk;
    } else if (t->pk) {
        struct snap_key *k = ARENA_NEW(a, struct snap_key);
        snap_key_into(a, k, t->pk);
        s->pk = k;
    }
    s->nkeys = t->keys.len;
    if (keys) {
        s->keys = prev->keys;
    } else {
        struct snap_key *k = ARENA_ARRAY(a, struct snap_key, s->nkeys + 1);
        for (i = 0; i < s->nkeys; i++)
            snap_key_into(a, &k[i], t->keys.items[i]);
        s->keys = k;
    }
    s->nindexes = t->indexes.len;
    if (indexes) {
        s->indexes = prev->indexes;
    } else {
        struct snap_index *x = ARENA_ARRAY(a, struct snap_index, s->nindexes + 1);
        for (i = 0; i < s->nindexes; i++) {
            const struct sm_index *ix = t->indexes.items[i];
            x[i].name = ix->name;
            x[i].unique = ix->unique;
            x[i].cols = col_names(a, ix->cols, ix->ncols);
            x[i].ncols = ix->ncols;
        }
        s->indexes = x;
    }
    t->snap = s;
    return s;
}

const struct snap_col *
snap_find_col_near(const struct snap_table *t, const struct sm_column *id, size_t hint)
{
    size_t d;

    if (t->ncols == 0)
        return NULL;
    if (hint >= t->ncols)
        hint = t->ncols - 1;
    /* outward from the hint: a column moves by a place or two between snapshots, if at all */
    for (d = 0; d <= hint || hint + d < t->ncols; d++) {
        if (d <= hint && t->cols[hint - d].id == id)
            return &t->cols[hint - d];
        if (d && hint + d < t->ncols && t->cols[hint + d].id == id)
            return &t->cols[hint + d];
    }
    return NULL;
}

const struct snap_col *
ir_op_col_in(const struct ir_op *op, const struct snap_table *t)
{
    if ((op->kind == IR_ADD_COLUMN && t == op->before) ||
        (op->kind == IR_DROP_COLUMN && t == op->after))
        return NULL; /* the side without it: known without a search through the table */
    return snap_find_col(t, op->col);
}

const struct snap_col *
snap_find_col(const struct snap_table *t, const struct sm_column *id)
{
    return snap_find_col_near(t, id, t->ncols ? t->ncols - 1 : 0); /* added columns are last */
}

const struct snap_col *
snap_col_of(const struct snap_table *t, const struct sm_column *id)
{
    const struct snap_col *c = snap_find_col(t, id);

    assert(c && "the operation's column is in its snapshot");
    return c;
}

const struct snap_key *
snap_find_key(const struct snap_table *t, const char *name)
{
    size_t i;

    if (t->pk && strcmp(t->pk->name, name) == 0)
        return t->pk;
    for (i = 0; i < t->nkeys; i++)
        if (strcmp(t->keys[i].name, name) == 0)
            return &t->keys[i];
    return NULL;
}

const struct snap_index *
snap_find_index(const struct snap_table *t, const char *name)
{
    size_t i;

    for (i = 0; i < t->nindexes; i++)
        if (strcmp(t->indexes[i].name, name) == 0)
            return &t->indexes[i];
    return NULL;
}

void
ir_push(struct arena *a, struct ir_step *step, struct ir_op *op)
{
    if (step->nops == step->cap) {
        size_t ncap = step->cap ? step->cap * 2 : 8;
        struct ir_op **ops = ARENA_ARRAY(a, struct ir_op *, ncap);
        if (step->nops)
            memcpy(ops, step->ops, step->nops * sizeof *ops);
        step->ops = ops;
        step->cap = ncap;
    }
    step->ops[step->nops++] = op;
}

void
ir_push_stmt(struct arena *a, struct ir_step *step, struct ir_stmt *st)
{
    if (step->nstmts == step->stmts_cap) {
        size_t ncap = step->stmts_cap ? step->stmts_cap * 2 : 8;
        struct ir_stmt **stmts = ARENA_ARRAY(a, struct ir_stmt *, ncap);
        if (step->nstmts)
            memcpy(stmts, step->stmts, step->nstmts * sizeof *stmts);
        step->stmts = stmts;
        step->stmts_cap = ncap;
    }
    step->stmts[step->nstmts++] = st;
}

/* --- deltas ---------------------------------------------------------------- */

/* An operation on a table, for grouping a step's operations by table identity. */
struct touch {
    const void *id;
    size_t order;
    const struct ir_op *op; /* NULL for a side effect of an operation on another table */
    const struct snap_table *before, *after;
};

const void *
ir_op_table_id(const struct ir_op *op)
{
    return op->after    ? (const void *)op->after->id
           : op->before ? (const void *)op->before->id
                        : NULL;
}

const char *
ir_op_table_name(const struct ir_op *op)
{
    return op->after ? op->after->name : op->before ? op->before->name : NULL;
}

static int
cmp_touch(const void *a, const void *b)
{
    const struct touch *x = a, *y = b;

    if (x->id != y->id)
        return (uintptr_t)x->id < (uintptr_t)y->id ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int
cmp_snap_name(const void *a, const void *b)
{
    return strcmp((*(const struct snap_table *const *)a)->name,
                  (*(const struct snap_table *const *)b)->name);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Sorts a step's table operations by (table, order), with the side effects
 * of each on other tables when effects is true; returns their number.
 */
static size_t
touches(const struct ir_step *step, bool effects, struct touch **out)
{
    size_t cap = step->nops + 1, n = 0, i, k;
    struct touch *t;

    for (i = 0; effects && i < step->nops; i++)
        cap += step->ops[i]->neffects;
    t = xmalloc(cap * sizeof *t);
    for (i = 0; i < step->nops; i++) {
        const struct ir_op *op = step->ops[i];
        if (op->kind == IR_SQL)
            continue;
        t[n].id = ir_op_table_id(op);
        t[n].order = i;
        t[n].before = op->before;
        t[n].after = op->after;
        t[n++].op = op;
        for (k = 0; effects && k < op->neffects; k++) {
            t[n].id = op->effects[k].after->id;
            t[n].order = i;
            t[n].before = op->effects[k].before;
            t[n].after = op->effects[k].after;
            t[n++].op = NULL;
        }
    }
    qsort(t, n, sizeof *t, cmp_touch);
    *out = t;
    return n;
}

static int
cmp_group(const void *a, const void *b)
{
    size_t x = ((const struct ir_group *)a)->first, y = ((const struct ir_group *)b)->first;

    return x < y ? -1 : x > y;
}

size_t
ir_group_by_table(const struct ir_step *step, struct ir_group **groups, size_t **order)
{
    struct touch *t;
    size_t n = touches(step, false, &t), ng = 0, i, j;

    *order = xmalloc((n + 1) * sizeof **order);
    *groups = xmalloc((n + 1) * sizeof **groups);
    for (i = 0; i < n; i = j) {
        for (j = i; j < n && t[j].id == t[i].id; j++)
            (*order)[j] = t[j].order;
        (*groups)[ng].start = i;
        (*groups)[ng].first = t[i].order;
        (*groups)[ng++].n = j - i;
    }
    qsort(*groups, ng, sizeof **groups, cmp_group);
    free(t);
    return ng;
}

/* A changed table of a delta and the same table at the step's start (or NULL), sorted by name. */
struct change {
    const struct snap_table *after, *before;
};

static int
cmp_change(const void *a, const void *b)
{
    return strcmp(((const struct change *)a)->after->name, ((const struct change *)b)->after->name);
}

void
ir_step_delta(struct arena *a, const struct ir_step *step, struct ir_delta *out)
{
    struct touch *t;
    struct change *c;
    size_t n = 0, nc = 0, i, j;

    memset(out, 0, sizeof *out);
    if (!step || step->nops == 0)
        return;
    n = touches(step, true, &t);
    c = xcalloc(n + 1, sizeof *c);
    out->removed = ARENA_ARRAY(a, const char *, n + 1);
    for (i = 0; i < n; i = j) {
        const struct snap_table *start, *end;
        for (j = i + 1; j < n && t[j].id == t[i].id; j++)
            ;
        start = t[i].before;
        end = t[j - 1].after;
        if (end) {
            c[nc].after = end;
            c[nc++].before = start && strcmp(start->name, end->name) == 0 ? start : NULL;
        }
        if (start && (!end || strcmp(start->name, end->name) != 0))
            out->removed[out->nremoved++] = start->name;
    }
    free(t);
    qsort(c, nc, sizeof *c, cmp_change);
    out->changed = ARENA_ARRAY(a, const struct snap_table *, nc + 1);
    out->before = ARENA_ARRAY(a, const struct snap_table *, nc + 1);
    for (i = 0; i < nc; i++) {
        out->changed[i] = c[i].after;
        out->before[i] = c[i].before;
    }
    out->nchanged = nc;
    free(c);
    qsort(out->removed, out->nremoved, sizeof *out->removed, cmp_str);
}

size_t
ir_schema_at(struct arena *a, const struct plan_version *v, const struct snap_table ***out)
{
    const struct plan_version *w, **chain;
    struct hmap tables;
    size_t depth = 0, n = 0, iter = 0, i, k;
    const char *key;
    void *value;

    *out = NULL;
    for (w = v; w; w = w->parent)
        depth++;
    chain = xmalloc((depth + 1) * sizeof *chain);
    i = depth;
    for (w = v; w; w = w->parent)
        chain[--i] = w;
    hmap_init(&tables, false);
    for (i = 0; i < depth; i++) {
        struct ir_delta d;
        ir_step_delta(a, chain[i]->ir, &d);
        for (k = 0; k < d.nremoved; k++)
            hmap_del(&tables, d.removed[k]);
        for (k = 0; k < d.nchanged; k++)
            hmap_put(&tables, d.changed[k]->name, (void *)(uintptr_t)d.changed[k]);
    }
    *out = ARENA_ARRAY(a, const struct snap_table *, tables.len + 1);
    while (hmap_next(&tables, &iter, &key, &value))
        (*out)[n++] = (const struct snap_table *)value;
    qsort(*out, n, sizeof **out, cmp_snap_name);
    hmap_free(&tables);
    free(chain);
    return n;
}

/* --- invariants -------------------------------------------------------------- */

#ifndef NDEBUG
static int
cmp_col_name(const void *a, const void *b)
{
    return strcmp(((const struct snap_col *)a)->name, ((const struct snap_col *)b)->name);
}

static int
cmp_col_id(const void *a, const void *b)
{
    const struct snap_col *x = a, *y = b;
    return x->id == y->id ? 0 : (uintptr_t)x->id < (uintptr_t)y->id ? -1 : 1;
}

/* Column names and identities unique: sorted copies, so a wide table costs n log n. */
static void
check_snapshot(const struct snap_table *t)
{
    struct snap_col *sorted;
    size_t i;

    if (!t)
        return;
    assert(t->name && t->ncols > 0);
    sorted = xmalloc(t->ncols * sizeof *sorted);
    memcpy(sorted, t->cols, t->ncols * sizeof *sorted);
    qsort(sorted, t->ncols, sizeof *sorted, cmp_col_name);
    for (i = 1; i < t->ncols; i++)
        assert(strcmp(sorted[i - 1].name, sorted[i].name) != 0);
    qsort(sorted, t->ncols, sizeof *sorted, cmp_col_id);
    for (i = 1; i < t->ncols; i++)
        assert(sorted[i - 1].id != sorted[i].id);
    free(sorted);
    for (i = 0; i < t->nkeys; i++)
        assert(t->keys[i].name && (t->keys[i].kind == KEY_CHECK || t->keys[i].ncols > 0));
    for (i = 0; i < t->nindexes; i++)
        assert(t->indexes[i].name && t->indexes[i].ncols > 0);
}

static void
check_op(const struct ir_op *op, const struct snap_table **last)
{
    /* consecutive operations share snapshots (the after of one is the before of the next):
     * each is checked once */
    if (op->before && op->before != *last)
        check_snapshot(op->before);
    if (op->after && op->after != op->before)
        check_snapshot(op->after);
    *last = op->after;
    switch (op->kind) {
    case IR_SQL:
        assert(!op->before && !op->after);
        return;
    case IR_CREATE_TABLE:
        assert(!op->before && op->after);
        return;
    case IR_DROP_TABLE:
        assert(op->before && !op->after);
        return;
    case IR_RENAME_TABLE:
        assert(op->before && op->after && op->before->id == op->after->id);
        return;
    case IR_ADD_COLUMN:
        assert(op->before && op->after && op->col && !snap_find_col(op->before, op->col) &&
               snap_find_col(op->after, op->col));
        return;
    case IR_DROP_COLUMN:
        assert(op->before && op->after && op->col && snap_find_col(op->before, op->col) &&
               !snap_find_col(op->after, op->col));
        return;
    case IR_RENAME_COLUMN:
    case IR_ALTER_COLUMN:
        assert(op->before && op->after && op->col && snap_find_col(op->before, op->col) &&
               snap_find_col(op->after, op->col));
        return;
    case IR_ADD_KEY:
        assert(op->before && op->after && op->key && snap_find_key(op->after, op->key->name));
        return;
    case IR_DROP_KEY:
        assert(op->before && op->after && op->key && snap_find_key(op->before, op->key->name) &&
               !snap_find_key(op->after, op->key->name));
        return;
    case IR_CREATE_INDEX:
        assert(op->before && op->after && op->index && snap_find_index(op->after, op->index->name));
        return;
    case IR_DROP_INDEX:
        assert(op->before && op->after && op->index &&
               snap_find_index(op->before, op->index->name) &&
               !snap_find_index(op->after, op->index->name));
        return;
    }
    assert(!"an operation of a known kind");
}
#endif

void
ir_check(const struct plan *p)
{
#ifndef NDEBUG
    size_t i, k, owned;

    for (i = 0; i < p->nversions; i++) {
        const struct ir_step *s = p->versions[i]->ir;
        if (!s)
            continue;
        const struct snap_table *last = NULL;
        owned = 0;
        for (k = 0; k < s->nops; k++)
            check_op(s->ops[k], &last);
        for (k = 0; k < s->nstmts; k++)
            owned += s->stmts[k]->op != NULL;
        /* sql blocks have no statement record (they take no allow); every other op has one */
        for (k = 0; k < s->nops; k++)
            owned += s->ops[k]->kind == IR_SQL;
        assert(owned == s->nops && "every operation belongs to one statement");
    }
#else
    (void)p;
#endif
}

const char *
ir_irreversible(const struct ir_step *step, enum dialect_id d)
{
    const char *why = NULL;

    /* the last such block's reason, as the guide and the bundle give it */
    for (size_t i = 0; step && i < step->nops; i++)
        if (step->ops[i]->kind == IR_SQL && step->ops[i]->irreversible[d])
            why = step->ops[i]->irreversible[d];
    return why;
}

/* --- the dump ---------------------------------------------------------------- */

static const char *const kind_names[] = {
    [IR_CREATE_TABLE] = "create_table", [IR_DROP_TABLE] = "drop_table",
    [IR_RENAME_TABLE] = "rename_table", [IR_ADD_COLUMN] = "add_column",
    [IR_DROP_COLUMN] = "drop_column",   [IR_RENAME_COLUMN] = "rename_column",
    [IR_ALTER_COLUMN] = "alter_column", [IR_ADD_KEY] = "add_key",
    [IR_DROP_KEY] = "drop_key",         [IR_CREATE_INDEX] = "create_index",
    [IR_DROP_INDEX] = "drop_index",     [IR_SQL] = "sql",
};

static void
dump_col(struct strbuf *out, const struct snap_col *c)
{
    char t[32];

    strbuf_printf(out, "%s %s%s%s", c->name, type_str(&c->type, t, sizeof t),
                  c->not_null ? " not null" : "", c->identity ? " identity" : "");
    if (c->dflt)
        strbuf_printf(out, " default %.*s", (int)c->dflt->len, c->dflt->text ? c->dflt->text : "");
}

static void
dump_table(struct strbuf *out, const char *what, const struct snap_table *t)
{
    size_t i;

    if (!t)
        return;
    strbuf_printf(out, "      %s %s (", what, t->name);
    for (i = 0; i < t->ncols; i++) {
        strbuf_puts(out, i ? ", " : "");
        dump_col(out, &t->cols[i]);
    }
    strbuf_printf(out, ")%s%s", t->pk ? " pk " : "", t->pk ? t->pk->name : "");
    for (i = 0; i < t->nkeys; i++)
        strbuf_printf(out, " key %s", t->keys[i].name);
    for (i = 0; i < t->nindexes; i++)
        strbuf_printf(out, " index %s", t->indexes[i].name);
    strbuf_putc(out, '\n');
}

void
ir_dump(const struct plan *p, const struct source_set *sources, struct strbuf *out)
{
    for (size_t i = 0; i < p->nversions + p->nderived; i++) {
        const struct plan_version *v =
            i < p->nversions ? p->versions[i] : p->derived[i - p->nversions];
        const struct ir_step *s = v->ir;
        strbuf_printf(out, "step %zu: %s -> %s%s%s%s\n", i + 1,
                      v->parent ? v->parent->name : "empty", v->name, s ? "" : " (not checked)",
                      v->merged ? " (composite: the line to the merged " : "",
                      v->merged       ? "version, then its own)"
                      : v->derived_of ? " (derived)"
                                      : "");
        if (!s)
            continue;
        for (size_t k = 0; k < v->nnotices; k++)
            strbuf_printf(out, "  notice (%s)\n", v->notices[k].warning ? "warning" : "info");
        for (size_t k = 0; k < v->nbreaking; k++)
            strbuf_printf(out, "  breaking %s\n", v->breaking[k].id);
        for (size_t k = 0; k < s->nops; k++) {
            const struct ir_op *op = s->ops[k];
            const struct source *src = source_get(sources, op->span.file);
            strbuf_printf(out, "  %s", kind_names[op->kind]);
            if (src)
                strbuf_printf(out, " at %zu:%zu", source_line_of(src, op->span.start),
                              source_col_of(src, op->span.start));
            if (op->kind != IR_SQL)
                strbuf_printf(out, " table %s", ir_op_table_name(op));
            if (op->col) {
                const struct snap_col *c = snap_find_col(op->after, op->col);
                if (!c)
                    c = snap_find_col(op->before, op->col);
                strbuf_printf(out, " column %s", c ? c->name : "?");
            }
            if (op->key)
                strbuf_printf(out, " key %s", op->key->name);
            if (op->index)
                strbuf_printf(out, " index %s", op->index->name);
            strbuf_printf(out, "%s%s\n", op->has_rows ? " has_rows" : "",
                          op->lossy ? " lossy" : "");
            for (int d = 0; op->kind == IR_SQL && d < DIALECT_COUNT; d++)
                if (plan_has_dialect(p, (enum dialect_id)d))
                    strbuf_printf(out, "      %s: up %zu bytes, %s\n",
                                  dialect_name((enum dialect_id)d),
                                  op->sql_up[d] ? strlen(op->sql_up[d]) : 0,
                                  op->irreversible[d] ? "irreversible"
                                  : op->sql_down[d]   ? "down"
                                                      : "no down");
            dump_table(out, "before", op->before);
            dump_table(out, "after ", op->after);
        }
        for (size_t k = 0; k < v->findings.len; k++) {
            const struct plan_finding *f = v->findings.items[k];
            strbuf_printf(out, "  finding %s%s%s: %s\n", f->lint, f->dialect ? " " : "",
                          f->dialect ? f->dialect->name : "", f->message);
        }
    }
}

/* Appends a list's items to another (arena-grown). */
static void
list_append(struct arena *a, struct sm_list *to, const struct sm_list *from)
{
    if (!from->len)
        return;
    if (to->len + from->len > to->cap) {
        size_t ncap = to->len + from->len;
        void **items = ARENA_ARRAY(a, void *, ncap);
        if (to->len)
            memcpy(items, to->items, to->len * sizeof *items);
        to->items = items;
        to->cap = ncap;
    }
    memcpy(to->items + to->len, from->items, from->len * sizeof *from->items);
    to->len += from->len;
}

void
ir_merge_steps(struct plan *p, struct arena *a)
{
    for (size_t i = 0; i < p->nversions; i++) {
        struct plan_version *v = p->versions[i], *d = v->merge_step, **line = NULL;
        struct ir_step *all;
        size_t n, k, nn = 0, nb = 0;

        if (!d || !v->ok || !v->ir)
            continue;
        /* the derived step takes what the version's statements make */
        d->ir = v->ir;
        d->notices = v->notices;
        d->nnotices = v->nnotices;
        d->breaking = v->breaking;
        d->nbreaking = v->nbreaking;
        d->findings = v->findings;
        /* the composite step: the line from the parent to the merged version, then the own */
        n = plan_path(p, v->parent, v->merged, &line);
        assert(n != SIZE_MAX && n > 0);
        all = ARENA_NEW(a, struct ir_step);
        memset(&v->findings, 0, sizeof v->findings);
        for (k = 0; k < n; k++) {
            nn += line[k]->nnotices;
            nb += line[k]->nbreaking;
        }
        v->notices = ARENA_ARRAY(a, struct plan_notice, nn + d->nnotices + 1);
        v->breaking = ARENA_ARRAY(a, struct plan_breaking, nb + d->nbreaking + 1);
        v->nnotices = v->nbreaking = 0;
        for (k = 0; k <= n; k++) {
            const struct plan_version *s = k < n ? line[k] : d;
            for (size_t j = 0; s->ir && j < s->ir->nops; j++)
                ir_push(a, all, s->ir->ops[j]);
            for (size_t j = 0; s->ir && j < s->ir->nstmts; j++)
                ir_push_stmt(a, all, s->ir->stmts[j]);
            memcpy(v->notices + v->nnotices, s->notices, s->nnotices * sizeof *s->notices);
            v->nnotices += s->nnotices;
            memcpy(v->breaking + v->nbreaking, s->breaking, s->nbreaking * sizeof *s->breaking);
            v->nbreaking += s->nbreaking;
            list_append(a, &v->findings, &s->findings);
        }
        v->ir = all;
        free(line);
    }
}
