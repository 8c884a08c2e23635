/* SPDX-License-Identifier: MIT */
/* ir.c: snapshots of tables for the step IR (ir.h). */
#include "compiler/ir.h"

#include <string.h>

static const char **
col_names(struct arena *a, struct sm_column *const *cols, size_t n)
{
    const char **names = ARENA_ARRAY(a, const char *, n + 1);
    size_t i;

    for (i = 0; i < n; i++)
        names[i] = cols[i]->name;
    return names;
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
    }
    out->expr = k->expr;
}

struct snap_table *
snap_table(struct arena *a, const struct sm_table *t)
{
    struct snap_table *s = ARENA_NEW(a, struct snap_table);
    size_t i;

    s->id = t;
    s->name = t->name;
    s->ncols = t->cols.len;
    s->cols = ARENA_ARRAY(a, struct snap_col, s->ncols + 1);
    for (i = 0; i < s->ncols; i++) {
        const struct sm_column *c = t->cols.items[i];
        s->cols[i].id = c;
        s->cols[i].name = c->name;
        s->cols[i].type = c->type;
        s->cols[i].not_null = c->not_null;
        s->cols[i].identity = c->identity;
        s->cols[i].dflt = c->dflt;
    }
    if (t->pk) {
        s->pk = ARENA_NEW(a, struct snap_key);
        snap_key_into(a, s->pk, t->pk);
    }
    s->nkeys = t->keys.len;
    s->keys = ARENA_ARRAY(a, struct snap_key, s->nkeys + 1);
    for (i = 0; i < s->nkeys; i++)
        snap_key_into(a, &s->keys[i], t->keys.items[i]);
    s->nindexes = t->indexes.len;
    s->indexes = ARENA_ARRAY(a, struct snap_index, s->nindexes + 1);
    for (i = 0; i < s->nindexes; i++) {
        const struct sm_index *ix = t->indexes.items[i];
        s->indexes[i].name = ix->name;
        s->indexes[i].unique = ix->unique;
        s->indexes[i].cols = col_names(a, ix->cols, ix->ncols);
        s->indexes[i].ncols = ix->ncols;
    }
    return s;
}

const struct snap_col *
snap_find_col(const struct snap_table *t, const struct sm_column *id)
{
    size_t i;

    for (i = 0; i < t->ncols; i++)
        if (t->cols[i].id == id)
            return &t->cols[i];
    return NULL;
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
