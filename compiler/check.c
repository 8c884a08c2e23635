/* SPDX-License-Identifier: MIT */
/*
 * check.c: the semantic checks of each statement, against the schema as it
 * stands at that point of the history (walk.c replays it over the version
 * tree; schema.h explains the undo log that keeps this linear): every
 * table, column, index and constraint named must exist; new names must be
 * free; keys and indexes must name existing columns; foreign keys must
 * reference a key with compatible types; type changes must convert; a not
 * null column added to a table with rows needs a default; a drop must not
 * pull the ground from under an index, a key or a foreign key.
 *
 * Each schema statement that passes is recorded as an operation of the
 * version's step IR (ir.h), with its table before and after; each statement
 * as a record of its own (its span and "allow"s), for the lint pass.
 * Notices and breaking changes become part of the version (plan.h).
 *
 * Previous pass: resolve.c (header, dialects, the version tree).
 * Next: lint.c, over the IR this pass records.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compiler/check.h"
#include "compiler/dialect.h"
#include "runtime/sqlsplit.h"

/* --- recording the step IR --------------------------------------------- */

/* A snapshot of t before the statement changes it. */
static const struct snap_table *
rec_before(struct checker *ck, struct sm_table *t)
{
    return snap_table(ck->arena, t);
}

/*
 * Records the operation of the current statement on table t, with t's
 * snapshot before (or NULL: t is new) and after (NULL: t is gone).
 */
static struct ir_op *
rec(struct checker *ck, enum ir_kind kind, struct sm_table *t, const struct snap_table *before,
    bool gone_after)
{
    struct ir_op *op = ARENA_NEW(ck->arena, struct ir_op);

    op->kind = kind;
    op->span = ck->stmt->span;
    op->has_rows = t && has_rows(ck, t);
    op->before = before;
    op->after = gone_after ? NULL : snap_table(ck->arena, t);
    ir_push(ck->arena, ck->ver->ir, op);
    ck->ir_stmt->op = op;
    return op;
}

/* A table whose foreign keys reference another, and its snapshot before a change of it. */
struct referrer {
    struct sm_table *t; /* NULL ends a list */
    const struct snap_table *before;
};

/*
 * The other tables whose foreign keys reference t (each once), with their
 * snapshots before a rename of t or of one of its columns, which changes
 * their ref_table or ref_columns. In the arena; NULL when none.
 */
static struct referrer *
referrers_before(struct checker *ck, struct sm_table *t)
{
    struct referrer *out = NULL;
    size_t n = 0, i, k;

    for (i = 0; i < t->incoming.len; i++) {
        struct sm_table *x = ((const struct sm_key *)t->incoming.items[i])->table;
        bool seen = x == t;
        for (k = 0; k < n && !seen; k++)
            seen = out[k].t == x;
        if (seen)
            continue;
        if (!out)
            out = ARENA_ARRAY(ck->arena, struct referrer, t->incoming.len + 1);
        out[n].t = x;
        out[n++].before = snap_table(ck->arena, x);
    }
    if (out)
        out[n].t = NULL;
    return out;
}

/* Records on op the new snapshots of the referrers whose foreign keys changed with it. */
static void
record_referrers(struct checker *ck, struct ir_op *op, const struct referrer *r)
{
    size_t n = 0, i;

    for (i = 0; r && r[i].t; i++)
        n++;
    if (!n)
        return;
    op->effects = ARENA_ARRAY(ck->arena, struct ir_effect, n);
    for (i = 0; i < n; i++) {
        const struct snap_table *now = snap_table(ck->arena, r[i].t);
        if (now == r[i].before)
            continue; /* its foreign keys do not name what changed */
        op->effects[op->neffects].before = r[i].before;
        op->effects[op->neffects++].after = now;
    }
}

static void
stmt_create_table(struct checker *ck, const struct ast_stmt *s)
{
    struct sm_table *t;
    struct col_extras *ex;
    struct sm_column **built;
    size_t i;

    if (!claim_name(ck, s->table.name, s->table.span, "table"))
        return;
    t = ARENA_NEW(ck->arena, struct sm_table);
    t->name = s->table.name;
    t->span = s->table.span;
    t->born = ck->ver;
    schema_add_table(&ck->schema, t);
    /* Columns first, so that every constraint may name any of them. */
    ex = ARENA_ARRAY(ck->arena, struct col_extras, s->elems.len + 1);
    built = ARENA_ARRAY(ck->arena, struct sm_column *, s->elems.len + 1);
    for (i = 0; i < s->elems.len; i++) {
        const struct ast_column *ac = s->elems.items[i];
        struct sm_column *c;
        if (!s->elem_is_column.items[i])
            continue;
        c = build_column(ck, ac, &ex[i]);
        if (ex[i].fill_at) {
            diag_error(ck->diag, ex[i].fill_at->span, "E0403",
                       "column \"%s\" of a new table has no rows to fill", c->name);
            diag_help(ck->diag, "fill is for \"add column\", where the table's rows need a value; "
                                "use default here.");
        }
        if (!column_name_free(ck, t, c->name, ac->name.span, NULL))
            continue;
        schema_add_column(&ck->schema, t, c, t->cols.len);
        built[i] = c;
    }
    if (t->cols.len == 0) {
        diag_error(ck->diag, s->table.span, "E0416", "table \"%s\" has no columns", t->name);
        return;
    }
    for (i = 0; i < s->elems.len; i++)
        if (built[i])
            add_column_keys(ck, t, built[i], &ex[i]);
    for (i = 0; i < s->elems.len; i++)
        if (!s->elem_is_column.items[i])
            table_constraint(ck, t, s->elems.items[i]);
    check_identity(ck, t, (struct src_span){0, 0, 0});
    rec(ck, IR_CREATE_TABLE, t, NULL, false);
}

static void
stmt_drop_table(struct checker *ck, const struct ast_stmt *s)
{
    struct sm_table *t = find_table(ck, &s->table);
    struct ir_op *op;
    size_t i;

    if (!t)
        return;
    for (i = 0; i < t->incoming.len; i++) {
        const struct sm_key *fk = t->incoming.items[i];
        if (fk->table == t)
            continue;
        diag_error(ck->diag, s->table.span, "E0412",
                   "table \"%s\" is referenced by foreign key \"%s\" of table \"%s\"", t->name,
                   fk->name, fk->table->name);
        diag_help(ck->diag, "Drop the foreign key first: alter table %s drop constraint %s;",
                  fk->table->name, fk->name);
        return;
    }
    op = rec(ck, IR_DROP_TABLE, t, rec_before(ck, t), true);
    op->lossy = has_rows(ck, t); /* a table made in this step held nothing to lose */
    schema_drop_table(&ck->schema, t);
    schema_mark_gone(&ck->schema, gone(ck, "table", t->name, NULL, s->span));
}

static void
stmt_rename_table(struct checker *ck, const struct ast_stmt *s)
{
    struct sm_table *t = find_table(ck, &s->table);
    const struct snap_table *before;
    struct referrer *referrers;
    const char *old;

    if (!t)
        return;
    if (strcmp(t->name, s->name.name) == 0) {
        diag_warning(ck->diag, s->name.span, "W0404", "table \"%s\" already has this name",
                     t->name);
        return;
    }
    if (ascii_casecmp(t->name, s->name.name) != 0 &&
        !claim_name(ck, s->name.name, s->name.span, "table"))
        return;
    if (!check_name_length(ck, s->name.name, s->name.span, "table"))
        return;
    old = t->name;
    before = rec_before(ck, t);
    referrers = referrers_before(ck, t);
    schema_rename_table(&ck->schema, t, s->name.name);
    record_referrers(ck, rec(ck, IR_RENAME_TABLE, t, before, false), referrers);
    schema_mark_gone(&ck->schema, gone(ck, "table", old, s->name.name, s->span));
}

static void
stmt_add_column(struct checker *ck, const struct ast_stmt *s)
{
    struct sm_table *t = find_table(ck, &s->table);
    const struct snap_table *before;
    struct col_extras ex;
    struct sm_column *c;
    struct ir_op *op;

    if (!t)
        return;
    c = build_column(ck, s->column, &ex);
    if (!column_name_free(ck, t, c->name, s->column->name.span, NULL))
        return;
    if (has_rows(ck, t) && c->not_null && !c->dflt && !c->identity && !ex.fill_at) {
        diag_error(ck->diag, s->column->name.span, "E0405",
                   "not null column \"%s\" is added to table \"%s\" without a default", c->name,
                   t->name);
        diag_note(ck->diag, "The rows the table already holds need a value for it.");
        diag_help(ck->diag, "Give it a default, or the value the rows get (fill \"...\"), or add "
                            "it nullable, fill it with a sql block, then set not null.");
    }
    if (!has_rows(ck, t) && ex.fill) {
        diag_warning(ck->diag, ex.fill_at->span, "W0404",
                     "column \"%s\" fills no rows: table \"%s\" is created in this version",
                     c->name, t->name);
        diag_help(ck->diag, "Remove the fill.");
        ex.fill = NULL;
    }
    before = rec_before(ck, t);
    schema_add_column(&ck->schema, t, c, t->cols.len);
    add_column_keys(ck, t, c, &ex);
    if (c->identity)
        check_identity(ck, t, (struct src_span){0, 0, 0});
    op = rec(ck, IR_ADD_COLUMN, t, before, false);
    op->col = c;
    op->fill = ex.fill;
}

static void
stmt_drop_column(struct checker *ck, const struct ast_stmt *s)
{
    struct sm_table *t = find_table(ck, &s->table);
    const struct snap_table *before;
    struct sm_column *c;
    struct ir_op *op;

    if (!t || !(c = find_column(ck, t, &s->name)))
        return;
    if (!column_unused(ck, t, c, s->name.span))
        return;
    if (t->cols.len == 1) {
        diag_error(ck->diag, s->name.span, "E0416", "column \"%s\" is the last column of \"%s\"",
                   c->name, t->name);
        diag_help(ck->diag, "Drop the table instead.");
        return;
    }
    before = rec_before(ck, t);
    schema_drop_column(&ck->schema, t, c);
    op = rec(ck, IR_DROP_COLUMN, t, before, false);
    op->col = c;
    op->lossy = has_rows(ck, t);
    schema_mark_column_gone(&ck->schema, t, gone(ck, "column", c->name, NULL, s->span));
}

static void
stmt_rename_column(struct checker *ck, const struct ast_stmt *s)
{
    struct sm_table *t = find_table(ck, &s->table);
    const struct snap_table *before;
    struct referrer *referrers;
    struct sm_column *c, now;
    struct ir_op *op;

    if (!t || !(c = find_column(ck, t, &s->name)))
        return;
    if (strcmp(c->name, s->new_name.name) == 0) {
        diag_warning(ck->diag, s->new_name.span, "W0404", "column \"%s\" already has this name",
                     c->name);
        return;
    }
    if (!column_name_free(ck, t, s->new_name.name, s->new_name.span, c) ||
        !check_name_length(ck, s->new_name.name, s->new_name.span, "column"))
        return;
    now = *c;
    now.name = s->new_name.name;
    before = rec_before(ck, t);
    referrers = referrers_before(ck, t);
    schema_set_column(&ck->schema, c, &now);
    op = rec(ck, IR_RENAME_COLUMN, t, before, false);
    op->col = c;
    record_referrers(ck, op, referrers);
    schema_mark_column_gone(&ck->schema, t, gone(ck, "column", s->name.name, now.name, s->span));
}

/* Changes column c of t to `now` (type, nullability or default) and records it. */
static void
alter_column(struct checker *ck, struct sm_table *t, struct sm_column *c,
             const struct sm_column *now)
{
    const struct snap_table *before = rec_before(ck, t);
    struct ir_op *op;

    schema_set_column(&ck->schema, c, now);
    op = rec(ck, IR_ALTER_COLUMN, t, before, false);
    op->col = c;
}

/* Whether the words of a check's expression name column `name` (case aside). */
static bool
expr_names(const char *expr, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = expr; *p; p++) {
        bool before, after;
        if (strncasecmp(p, name, n) != 0)
            continue;
        before = p > expr && (isalnum((unsigned char)p[-1]) || p[-1] == '_');
        after = isalnum((unsigned char)p[n]) || p[n] == '_';
        if (!before && !after)
            return true;
    }
    return false;
}

/*
 * alter column ... type ... online: a copy of the column kept in step by a
 * trigger, filled in batches along the primary key and swapped in
 * (compiler/dialect/pg.c, online_type_change). It needs a primary key of one
 * column to walk, and it moves the primary key, the unique constraints and
 * the indexes that hold the column, but not foreign keys or checks: E0606
 * says why, W0405 when PostgreSQL does not rewrite the table anyway.
 */
static bool
online_type_holds(struct checker *ck, const struct ast_stmt *s, struct sm_table *t,
                  struct sm_column *c, const struct sm_type *to)
{
    const struct sm_key *k = NULL;
    size_t i;

    if (!dialect_postgres.type_change_rewrites(&c->type, to)) {
        char b1[32], b2[32];
        diag_warning(ck->diag, s->span, "W0405",
                     "\"online\" has no effect here: PostgreSQL changes column \"%s\" from %s to "
                     "%s without rewriting the table",
                     c->name, tstr(&c->type, b1), tstr(to, b2));
        diag_help(ck->diag, "Remove \"online\".");
        return true;
    }
    if (!t->pk || t->pk->ncols != 1) {
        diag_error(ck->diag, s->span, "E0606",
                   "\"online\" cannot change column \"%s\" without blocking writes: table \"%s\" "
                   "has %s",
                   c->name, t->name,
                   t->pk ? "a primary key of more than one column" : "no primary key");
        diag_note(ck->diag, "The copy is filled in batches walked along a primary key of one "
                            "column.");
        diag_help(ck->diag, "Give the table a primary key of one column first, or remove "
                            "\"online\".");
        return false;
    }
    for (i = 0; i < t->keys.len && !k; i++) {
        const struct sm_key *x = t->keys.items[i];
        if ((x->kind == KEY_FOREIGN && cols_contain(x->cols, x->ncols, c)) ||
            (x->kind == KEY_CHECK && x->expr && expr_names(x->expr, c->name)))
            k = x;
    }
    for (i = 0; i < t->incoming.len && !k; i++) {
        const struct sm_key *x = t->incoming.items[i];
        if (cols_contain(x->ref_cols, x->nref, c))
            k = x;
    }
    if (k) {
        diag_error(
            ck->diag, s->span, "E0606",
            "\"online\" cannot change column \"%s\" without blocking writes: %s \"%s\"%s%s%s "
            "uses it",
            c->name, k->kind == KEY_CHECK ? "check" : "foreign key", k->name,
            k->table != t ? " of table \"" : "", k->table != t ? k->table->name : "",
            k->table != t ? "\"" : "");
        diag_note(ck->diag, "An online change moves the primary key, the unique constraints and "
                            "the indexes of the column onto its copy, but not foreign keys or "
                            "checks.");
        diag_help(ck->diag, "Drop the constraint before the change and add it again after it (a "
                            "foreign key or check can be added \"online\"), or remove \"online\".");
        return false;
    }
    return true;
}

static void
stmt_alter_type(struct checker *ck, const struct ast_stmt *s)
{
    struct sm_table *t = find_table(ck, &s->table);
    struct sm_column *c, now;
    struct sm_type to;
    enum type_conv conv;
    char b1[32], b2[32];

    if (!t || !(c = find_column(ck, t, &s->name)))
        return;
    if (!type_resolve(s->type, &to, ck->diag))
        return;
    conv = type_conversion(&c->type, &to);
    if (conv == CONV_SAME) {
        diag_warning(ck->diag, s->type->span, "W0404", "column \"%s\" already has type %s", c->name,
                     tstr(&to, b1));
        return;
    }
    if (conv == CONV_NONE) {
        diag_error(ck->diag, s->type->span, "E0406", "column \"%s\" cannot change from %s to %s",
                   c->name, tstr(&c->type, b1), tstr(&to, b2));
        diag_help(ck->diag, "Add a new column, copy the data with a sql block, then drop the old "
                            "column.");
        return;
    }
    if (c->identity && !type_is_integer(&to)) {
        diag_error(ck->diag, s->type->span, "E0406",
                   "identity column \"%s\" must stay int or bigint", c->name);
        return;
    }
    if (c->dflt && type_check_value(&to, c->dflt)) {
        diag_error(ck->diag, s->type->span, "E0404",
                   "the default of column \"%s\" does not fit type %s", c->name, tstr(&to, b1));
        diag_help(ck->diag, "Drop the default first.");
        return;
    }
    if (!fk_types_hold(ck, t, c, &to, s->type->span))
        return;
    bool online = s->online && dialect_postgres.type_change_rewrites(&c->type, &to);

    if (s->online && !online_type_holds(ck, s, t, c, &to))
        return;
    now = *c;
    now.type = to;
    /* a type of the dialect's choosing was for the old type: the plan's for the new one applies */
    for (size_t i = 0; i < DIALECT_COUNT; i++)
        now.declared[i] = ck->plan->declared[i][to.kind];
    alter_column(ck, t, c, &now);
    if (online && ck->ir_stmt->op)
        ck->ir_stmt->op->online = true;
}

static void
stmt_nullability(struct checker *ck, const struct ast_stmt *s, bool set)
{
    struct sm_table *t = find_table(ck, &s->table);
    struct sm_column *c, now;

    if (!t || !(c = find_column(ck, t, &s->name)))
        return;
    if (c->not_null == set) {
        diag_warning(ck->diag, s->span, "W0404", "column \"%s\" is already %s", c->name,
                     set ? "not null" : "nullable");
        return;
    }
    if (!set && ((t->pk && cols_contain(t->pk->cols, t->pk->ncols, c)) || c->identity)) {
        diag_error(ck->diag, s->name.span, "E0414", "column \"%s\" is %s and must stay not null",
                   c->name, c->identity ? "an identity column" : "in the primary key");
        return;
    }
    now = *c;
    now.not_null = set;
    alter_column(ck, t, c, &now);
    if (s->online && ck->ir_stmt->op)
        ck->ir_stmt->op->online = true;
}

static void
stmt_default(struct checker *ck, const struct ast_stmt *s, const struct ast_literal *lit)
{
    struct sm_table *t = find_table(ck, &s->table);
    const struct sm_value *v;
    struct sm_column *c, now;
    char b[32];

    if (!t || !(c = find_column(ck, t, &s->name)))
        return;
    if (c->identity) {
        diag_error(ck->diag, s->name.span, "E0414", "identity column \"%s\" has no default to %s",
                   c->name, lit ? "set" : "drop");
        diag_note(ck->diag, "The database generates its values.");
        return;
    }
    if (lit && lit->kind == LIT_NULL) {
        if (c->not_null) {
            diag_error(ck->diag, lit->span, "E0404",
                       "column \"%s\" is not null but its default is null", c->name);
            return;
        }
        lit = NULL; /* "set default null" is "drop default" */
    }
    v = value_of(ck->arena, lit);
    if (v) {
        const char *why = type_check_value(&c->type, v);
        if (why) {
            diag_error(ck->diag, lit->span, "E0404",
                       "default of column \"%s\" does not fit its type %s", c->name,
                       tstr(&c->type, b));
            diag_note(ck->diag, "%c%s.", why[0] - 'a' + 'A', why + 1);
            return;
        }
    }
    if (value_equal(c->dflt, v)) {
        diag_warning(ck->diag, s->span, "W0404", "column \"%s\" %s", c->name,
                     lit ? "already has this default" : "has no default");
        return;
    }
    now = *c;
    now.dflt = v;
    alter_column(ck, t, c, &now);
}

static void
stmt_add_constraint(struct checker *ck, const struct ast_stmt *s)
{
    struct sm_table *t = find_table(ck, &s->table);
    const struct ast_tcons *tc = s->tcons;
    const struct snap_table *before;
    struct sm_key *k;
    struct ir_op *op;
    size_t i;

    if (!t)
        return;
    before = rec_before(ck, t);
    k = table_constraint(ck, t, tc);
    if (!k)
        return;
    if (k->kind == KEY_PRIMARY)
        check_identity(ck, t, s->span);
    if (k->kind == KEY_PRIMARY) {
        /* As in PostgreSQL, the key's columns become not null. */
        for (i = 0; i < k->ncols; i++) {
            if (!k->cols[i]->not_null) {
                struct sm_column now = *k->cols[i];
                now.not_null = true;
                schema_set_column(&ck->schema, k->cols[i], &now);
            }
        }
    }
    op = rec(ck, IR_ADD_KEY, t, before, false);
    op->key = snap_find_key(op->after, k->name);
    if (s->online && (k->kind == KEY_PRIMARY || k->kind == KEY_UNIQUE)) {
        diag_error(ck->diag, s->span, "E0605", "\"online\" cannot add a %s without blocking writes",
                   k->kind == KEY_PRIMARY ? "primary key" : "unique constraint");
        diag_note(ck->diag, "PostgreSQL builds the index of a primary key or unique constraint "
                            "under a lock that blocks writes; only foreign keys and checks can be "
                            "added as NOT VALID and validated afterwards.");
        diag_help(ck->diag, "Build a unique index instead, without blocking writes: create "
                            "unique index ... concurrently; or remove \"online\".");
    }
    op->online = s->online;
}

static void
stmt_drop_key(struct checker *ck, const struct ast_stmt *s, struct sm_table *t, struct sm_key *k)
{
    static const char *const what[] = {"primary key", "unique constraint", "foreign key",
                                       "check constraint"};
    const struct snap_table *before;
    struct ir_op *op;

    if ((k->kind == KEY_PRIMARY || k->kind == KEY_UNIQUE) &&
        !check_fk_dependents(ck, t, k->cols, k->ncols, k, s->span, what[k->kind], k->name))
        return;
    before = rec_before(ck, t);
    if (k->kind == KEY_PRIMARY) {
        schema_set_pk(&ck->schema, t, NULL);
        check_identity(ck, t, s->span);
    } else {
        schema_drop_key(&ck->schema, t, k);
    }
    op = rec(ck, IR_DROP_KEY, t, before, false);
    op->key = snap_find_key(before, k->name);
}

static void
stmt_drop_primary_key(struct checker *ck, const struct ast_stmt *s)
{
    struct sm_table *t = find_table(ck, &s->table);

    if (!t)
        return;
    if (!t->pk) {
        diag_error(ck->diag, s->span, "E0328", "table \"%s\" has no primary key in version \"%s\"",
                   t->name, ck->ver->name);
        return;
    }
    stmt_drop_key(ck, s, t, t->pk);
}

static void
stmt_drop_constraint(struct checker *ck, const struct ast_stmt *s)
{
    struct sm_table *t = find_table(ck, &s->table);
    struct sm_key *k;

    if (!t)
        return;
    k = table_key(t, s->name.name);
    if (!k || strcmp(k->name, s->name.name) != 0) {
        unknown_constraint(ck, t, &s->name);
        return;
    }
    stmt_drop_key(ck, s, t, k);
}

static void
stmt_create_index(struct checker *ck, const struct ast_stmt *s)
{
    struct sm_table *t = find_table(ck, &s->table);
    const struct snap_table *before;
    struct sm_index *ix;
    struct sm_column **cols;
    struct ir_op *op;

    if (!t)
        return;
    if (!(cols = find_columns(ck, t, &s->cols)))
        return;
    if (!claim_name(ck, s->name.name, s->name.span, "index"))
        return;
    ix = ARENA_NEW(ck->arena, struct sm_index);
    ix->name = s->name.name;
    ix->table = t;
    ix->unique = s->unique;
    ix->cols = cols;
    ix->ncols = s->cols.len;
    ix->span = s->name.span;
    before = rec_before(ck, t);
    schema_add_index(&ck->schema, ix);
    op = rec(ck, IR_CREATE_INDEX, t, before, false);
    op->index = snap_find_index(op->after, ix->name);
    op->concurrently = s->concurrently;
}

static void
stmt_drop_index(struct checker *ck, const struct ast_stmt *s)
{
    struct sm_index *ix = schema_index(&ck->schema, s->name.name);
    const struct snap_table *before;
    struct ir_op *op;

    if (!ix) {
        unknown_index(ck, &s->name);
        return;
    }
    if (ix->unique && !check_fk_dependents(ck, ix->table, ix->cols, ix->ncols, ix, s->name.span,
                                           "index", ix->name))
        return;
    before = rec_before(ck, ix->table);
    schema_drop_index(&ck->schema, ix);
    schema_mark_gone(&ck->schema, gone(ck, "index", ix->name, NULL, s->span));
    op = rec(ck, IR_DROP_INDEX, ix->table, before, false);
    op->index = snap_find_index(before, ix->name);
    op->concurrently = s->concurrently;
}

static bool
blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

static void
stmt_notice(struct checker *ck, const struct ast_stmt *s)
{
    struct plan_notice *n = &ck->ver->notices[ck->ver->nnotices++];

    if (blank(s->text.text))
        diag_error(ck->diag, s->text.span, "E0420", "the notice is empty");
    n->warning = s->level == NOTICE_WARNING;
    n->text = s->text.text;
}

static void
stmt_breaking(struct checker *ck, const struct ast_stmt *s)
{
    const struct src_span *first;

    if (!plain_name(s->id.text)) {
        diag_error(ck->diag, s->id.span, "E0419", "breaking change id \"%s\" is not valid",
                   s->id.text);
        diag_help(ck->diag, "An id is made of letters, digits, '-', '_' and '.'; operators type it "
                            "in \"uprun apply --ack ID\".");
    } else if ((first = hmap_get(&ck->breaking_ids, s->id.text))) {
        diag_error(ck->diag, s->id.span, "E0331", "breaking change id \"%s\" is used twice",
                   s->id.text);
        diag_note_at(ck->diag, *first, "It is first used here.");
    } else {
        struct src_span *at = ARENA_NEW(ck->arena, struct src_span);
        *at = s->id.span;
        hmap_put(&ck->breaking_ids, s->id.text, at);
    }
    if (blank(s->text.text))
        diag_error(ck->diag, s->text.span, "E0420", "breaking change \"%s\" has no text",
                   s->id.text);
    ck->ver->breaking[ck->ver->nbreaking].id = s->id.text;
    ck->ver->breaking[ck->ver->nbreaking++].text = s->text.text;
}

/*
 * The transaction control a statement of author SQL would run, or NULL: it
 * would end (or nest) the transaction uprun runs the step in, leaving the
 * step half committed and its history row unwritten. ROLLBACK TO SAVEPOINT,
 * SAVEPOINT and RELEASE stay inside it and are fine.
 */
static const char *
transaction_control(const char *t, size_t n)
{
    static const char *const words[] = {"BEGIN", "START",  "COMMIT",  "END",    "ROLLBACK",
                                        "ABORT", "VACUUM", "PREPARE", "DETACH", "ATTACH"};
    size_t i = 0, k, len;

    while (i < n && !((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z')))
        i++;
    for (len = 0; i + len < n && ((t[i + len] >= 'A' && t[i + len] <= 'Z') ||
                                  (t[i + len] >= 'a' && t[i + len] <= 'z'));
         len++)
        ;
    for (k = 0; k < sizeof words / sizeof *words; k++) {
        const char *w = words[k];
        if (strlen(w) != len || strncasecmp(t + i, w, len) != 0)
            continue;
        if (k == 1) { /* START TRANSACTION; START alone is no statement of either */
            size_t j = i + len;
            while (j < n && (t[j] == ' ' || t[j] == '\t' || t[j] == '\n' || t[j] == '\r'))
                j++;
            if (!(n - j >= 11 && strncasecmp(t + j, "TRANSACTION", 11) == 0))
                return NULL;
        }
        if (k == 4) { /* ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] name stays inside */
            size_t j = i + len;
            while (j < n) {
                while (j < n && (t[j] == ' ' || t[j] == '\t' || t[j] == '\n' || t[j] == '\r'))
                    j++;
                if (n - j >= 2 && strncasecmp(t + j, "TO", 2) == 0 &&
                    (j + 2 == n || !((t[j + 2] | 0x20) >= 'a' && (t[j + 2] | 0x20) <= 'z')))
                    return NULL;
                if ((n - j >= 4 && strncasecmp(t + j, "WORK", 4) == 0) ||
                    (n - j >= 11 && strncasecmp(t + j, "TRANSACTION", 11) == 0)) {
                    while (j < n && ((t[j] | 0x20) >= 'a' && (t[j] | 0x20) <= 'z'))
                        j++;
                    continue;
                }
                break;
            }
        }
        if (k == 7) { /* PREPARE TRANSACTION; PREPARE name AS ... is a prepared statement */
            size_t j = i + len;
            while (j < n && (t[j] == ' ' || t[j] == '\t' || t[j] == '\n' || t[j] == '\r'))
                j++;
            if (!(n - j >= 11 && strncasecmp(t + j, "TRANSACTION", 11) == 0))
                return NULL;
        }
        return w;
    }
    return NULL;
}

/*
 * Whether a statement of author SQL is one that PostgreSQL refuses inside a
 * transaction because of CONCURRENTLY (CREATE INDEX, DROP INDEX, REINDEX,
 * ALTER TABLE ... DETACH PARTITION): the word among its first ones, before
 * any parenthesis. REFRESH MATERIALIZED VIEW CONCURRENTLY runs in one.
 */
static const char *
concurrent_statement(const char *t, size_t n)
{
    static const char *const first[] = {"CREATE", "DROP", "REINDEX", "ALTER"};
    size_t i = 0, words = 0;
    bool starts = false;

    while (i < n && t[i] != '(' && t[i] != '\'' && t[i] != '"' && words < 24) {
        size_t len = 0;
        while (i < n && !((t[i] | 0x20) >= 'a' && (t[i] | 0x20) <= 'z') && t[i] != '(' &&
               t[i] != '\'' && t[i] != '"')
            i++;
        while (i + len < n && (((t[i + len] | 0x20) >= 'a' && (t[i + len] | 0x20) <= 'z') ||
                               t[i + len] == '_' || (t[i + len] >= '0' && t[i + len] <= '9')))
            len++;
        if (!len)
            break;
        if (words++ == 0) {
            for (size_t k = 0; k < sizeof first / sizeof *first; k++)
                starts =
                    starts || (strlen(first[k]) == len && strncasecmp(t + i, first[k], len) == 0);
            if (!starts)
                return NULL;
        } else if (len == 12 && strncasecmp(t + i, "CONCURRENTLY", 12) == 0) {
            return "a statement with CONCURRENTLY";
        }
        i += len;
    }
    return NULL;
}

/* E0604: transaction control in an up or down of a sql block. */
static void
sql_item_transaction(struct checker *ck, const struct ast_sql_item *it)
{
    const char *text = it->text.text;
    struct sql_stmt *st = NULL;
    size_t n, i;

    if (!text)
        return;
    n = sql_split(text, strlen(text), &st);
    for (i = 0; i < n; i++) {
        const char *what = transaction_control(text + st[i].start, st[i].end - st[i].start);
        if (!what && (what = concurrent_statement(text + st[i].start, st[i].end - st[i].start))) {
            diag_error(ck->diag, it->text.span, "E0604",
                       "the sql block's %s runs %s, which cannot run inside the transaction of "
                       "its step",
                       it->kind == AST_SQL_UP ? "up" : "down", what);
            diag_note(ck->diag, "PostgreSQL refuses CONCURRENTLY inside a transaction block, and "
                                "uprun runs a sql block inside the step's transaction.");
            diag_help(ck->diag, "For an index, write the statement of the language: create "
                                "index ... concurrently (or drop index ... concurrently) runs as "
                                "a unit of its own, outside the transaction, and resumes.");
            break;
        }
        if (!what)
            continue;
        diag_error(ck->diag, it->text.span, "E0604",
                   "the sql block's %s runs %s%s, which ends the transaction of its step",
                   it->kind == AST_SQL_UP ? "up" : "down", what,
                   strcmp(what, "VACUUM") == 0 || strcmp(what, "ATTACH") == 0 ||
                           strcmp(what, "DETACH") == 0
                       ? " (it cannot run inside a transaction)"
                       : "");
        diag_note(ck->diag,
                  "uprun runs each step in one transaction together with its history row: a "
                  "COMMIT in the middle would leave the step half done and unrecorded.");
        diag_help(ck->diag, "Remove it; use SAVEPOINT and ROLLBACK TO SAVEPOINT inside a step.");
        break;
    }
    free(st);
}

/* One sql block: exactly one up; a down or irreversible, not both; no transaction control. */
static void
sql_block_items(struct checker *ck, const struct ast_stmt *s)
{
    const struct ast_sql_item *up = NULL, *down = NULL, *irr = NULL;
    size_t i;

    if (s->sql_items.len == 0) {
        if (!s->dialect.name) {
            diag_error(ck->diag, s->span, "E0603", "sql block is empty");
            diag_help(ck->diag, "Give it an up and a down: sql { up \"...\"; down \"...\"; }");
        }
        return; /* an empty block for one dialect: nothing to do there, both ways */
    }
    for (i = 0; i < s->sql_items.len; i++) {
        const struct ast_sql_item *it = s->sql_items.items[i];
        const struct ast_sql_item **slot = it->kind == AST_SQL_UP     ? &up
                                           : it->kind == AST_SQL_DOWN ? &down
                                                                      : &irr;
        static const char *const names[] = {"up", "down", "irreversible"};
        if (*slot) {
            diag_error(ck->diag, it->span, "E0603", "sql block has a second %s", names[it->kind]);
            diag_note_at(ck->diag, (*slot)->span, "The first is here.");
            continue;
        }
        *slot = it;
        sql_item_transaction(ck, it);
    }
    if (!up)
        diag_error(ck->diag, s->span, "E0603", "sql block has no up");
    if (down && irr) {
        diag_error(ck->diag, irr->span, "E0602", "sql block has both a down and irreversible");
        diag_help(ck->diag, "Keep the down if the change can be undone; otherwise remove it.");
    } else if (up && !down && !irr) {
        diag_error(ck->diag, s->span, "E0601", "sql block has no down");
        diag_help(ck->diag,
                  "Add down \"...\"; to undo it, or mark it irreversible \"why\"; so that "
                  "operators know rollback stops here.");
    }
}

/* The up, down and irreversible items of a sql block (the first of each). */
static void
sql_items(const struct ast_stmt *b, const char **up, const char **down, const char **irr)
{
    size_t i;

    *up = *down = *irr = NULL;
    for (i = 0; i < b->sql_items.len; i++) {
        const struct ast_sql_item *it = b->sql_items.items[i];
        const char **slot = it->kind == AST_SQL_UP ? up : it->kind == AST_SQL_DOWN ? down : irr;
        if (!*slot)
            *slot = it->text.text ? it->text.text : "";
    }
}

/* Fills the per-dialect texts of an IR_SQL operation from one block. */
static void
rec_sql_dialect(struct ir_op *op, enum dialect_id d, const struct ast_stmt *b)
{
    sql_items(b, &op->sql_up[d], &op->sql_down[d], &op->irreversible[d]);
}

/* Records the IR_SQL operation of a block or group of blocks starting at s. */
static struct ir_op *
rec_sql(struct checker *ck, const struct ast_stmt *s)
{
    struct ir_op *op = ARENA_NEW(ck->arena, struct ir_op);

    op->kind = IR_SQL;
    op->span = s->span;
    ir_push(ck->arena, ck->ver->ir, op);
    return op;
}

/*
 * The sql block(s) at av->stmts[i]: a block without a dialect serves every
 * dialect; consecutive blocks with dialects form a group that must give each
 * declared dialect exactly one block. Records one IR_SQL operation for the
 * block or the group, and returns the index of the statement after it.
 */
static size_t
check_sql_at(struct checker *ck, const struct ast_version *av, size_t i)
{
    const struct ast_stmt *s = av->stmts.items[i];
    const struct ast_stmt *seen[DIALECT_COUNT] = {0};
    struct ir_op *op;
    bool any = false;
    size_t j, k;

    ck->plan->nstatements++;
    if (!s->dialect.name) {
        sql_block_items(ck, s);
        op = rec_sql(ck, s);
        for (k = 0; k < ck->plan->ndialects; k++)
            rec_sql_dialect(op, ck->plan->dialect_order[k], s);
        return i + 1;
    }
    for (j = i; j < av->stmts.len; j++) {
        const struct ast_stmt *b = av->stmts.items[j];
        enum dialect_id dl;
        if (b->kind != STMT_SQL || !b->dialect.name)
            break;
        if (j > i)
            ck->plan->nstatements++;
        sql_block_items(ck, b);
        if (!dialect_lookup(b->dialect.name, &dl)) {
            const struct dialect *near = dialect_suggest(b->dialect.name);
            diag_error(ck->diag, b->dialect.span, "E0306", "unknown dialect \"%s\"",
                       b->dialect.name);
            if (near)
                diag_help(ck->diag, "Did you mean \"%s\"?", near->name);
            any = true;
            continue;
        }
        if (!plan_has_dialect(ck->plan, dl)) {
            diag_error(ck->diag, b->dialect.span, "E0502",
                       "sql block for dialect \"%s\", which the plan does not declare",
                       b->dialect.name);
            diag_help(ck->diag, "Add %s to the plan's dialects, or remove the block.",
                      b->dialect.name);
            any = true;
            continue;
        }
        if (seen[dl]) {
            diag_error(ck->diag, b->dialect.span, "E0504",
                       "second sql block for dialect \"%s\" in a row", b->dialect.name);
            diag_note_at(ck->diag, seen[dl]->dialect.span, "The first is here.");
            diag_help(ck->diag, "Put both changes in one block, or separate the groups with "
                                "another statement.");
            any = true;
            continue;
        }
        seen[dl] = b;
    }
    if (!any) {
        for (k = 0; k < ck->plan->ndialects; k++) {
            enum dialect_id dl = ck->plan->dialect_order[k];
            if (!seen[dl]) {
                struct src_span at = s->span;
                at.end = s->dialect.span.end;
                diag_error(ck->diag, at, "E0503", "sql blocks give no block for dialect \"%s\"",
                           dialect_name(dl));
                diag_help(ck->diag,
                          "Add sql %s { ... } next to the others (an empty block "
                          "means nothing to do there), or write one block without a "
                          "dialect.",
                          dialect_name(dl));
            }
        }
    }
    op = rec_sql(ck, s);
    for (k = 0; k < DIALECT_COUNT; k++)
        if (seen[k])
            rec_sql_dialect(op, (enum dialect_id)k, seen[k]);
    return j;
}

/* Records the statement's "allow a, b" in its IR record; unknown lints are errors. */
static void
read_allows(struct checker *ck, const struct ast_stmt *s)
{
    struct ir_stmt *st = ck->ir_stmt;
    size_t i;

    st->allows = ARENA_ARRAY(ck->arena, struct ir_allow, s->allows.len + 1);
    for (i = 0; i < s->allows.len; i++) {
        const struct ast_ident *id = &s->allows.items[i];
        struct suggest sg;
        enum lint_id l;
        if (lint_lookup(id->name, &l)) {
            st->allows[st->nallows].lint = l;
            st->allows[st->nallows++].span = id->span;
            continue;
        }
        if (!diag_error(ck->diag, id->span, "E0330", "unknown lint \"%s\"", id->name))
            continue;
        suggest_init(&sg, id->name);
        for (l = 0; l < LINT_COUNT; l++)
            suggest_try(&sg, lint_name(l));
        if (sg.best)
            suggest_help(ck, &sg);
        else
            diag_help(ck->diag, "The lints are %s.", lint_names_text());
    }
}

static void
check_stmt(struct checker *ck, const struct ast_stmt *s)
{
    size_t errors_before = diag_errors(ck->diag);
    struct ir_stmt *st = ARENA_NEW(ck->arena, struct ir_stmt);

    st->span = s->span;
    ck->stmt = s;
    ck->ir_stmt = st;
    read_allows(ck, s);
    ck->plan->nstatements++;
    switch (s->kind) {
    case STMT_CREATE_TABLE:
        stmt_create_table(ck, s);
        break;
    case STMT_DROP_TABLE:
        stmt_drop_table(ck, s);
        break;
    case STMT_RENAME_TABLE:
        stmt_rename_table(ck, s);
        break;
    case STMT_ADD_COLUMN:
        stmt_add_column(ck, s);
        break;
    case STMT_DROP_COLUMN:
        stmt_drop_column(ck, s);
        break;
    case STMT_RENAME_COLUMN:
        stmt_rename_column(ck, s);
        break;
    case STMT_ALTER_TYPE:
        stmt_alter_type(ck, s);
        break;
    case STMT_SET_NOT_NULL:
        stmt_nullability(ck, s, true);
        break;
    case STMT_DROP_NOT_NULL:
        stmt_nullability(ck, s, false);
        break;
    case STMT_SET_DEFAULT:
        stmt_default(ck, s, s->dflt);
        break;
    case STMT_DROP_DEFAULT:
        stmt_default(ck, s, NULL);
        break;
    case STMT_ADD_CONSTRAINT:
        stmt_add_constraint(ck, s);
        break;
    case STMT_DROP_PRIMARY_KEY:
        stmt_drop_primary_key(ck, s);
        break;
    case STMT_DROP_CONSTRAINT:
        stmt_drop_constraint(ck, s);
        break;
    case STMT_CREATE_INDEX:
        stmt_create_index(ck, s);
        break;
    case STMT_DROP_INDEX:
        stmt_drop_index(ck, s);
        break;
    case STMT_NOTICE:
        stmt_notice(ck, s);
        break;
    case STMT_BREAKING:
        stmt_breaking(ck, s);
        break;
    case STMT_SQL:
        break; /* checked with its group, by check_sql_at() */
    }
    st->clean = diag_errors(ck->diag) == errors_before;
    ir_push_stmt(ck->arena, ck->ver->ir, st);
}

void
check_version(struct checker *ck, struct plan_version *v)
{
    size_t i = 0, nn = 0, nb = 0;

    ck->ver = v;
    v->ir = ARENA_NEW(ck->arena, struct ir_step);
    for (i = 0; i < v->ast->stmts.len; i++) {
        nn += v->ast->stmts.items[i]->kind == STMT_NOTICE;
        nb += v->ast->stmts.items[i]->kind == STMT_BREAKING;
    }
    v->notices = ARENA_ARRAY(ck->arena, struct plan_notice, nn + 1);
    v->breaking = ARENA_ARRAY(ck->arena, struct plan_breaking, nb + 1);
    i = 0;
    while (i < v->ast->stmts.len) {
        const struct ast_stmt *s = v->ast->stmts.items[i];
        if (diag_should_stop(ck->diag)) {
            ck->diag->limit_hit = true; /* statements are left unchecked */
            return;
        }
        if (s->kind == STMT_SQL) {
            i = check_sql_at(ck, v->ast, i);
            continue;
        }
        check_stmt(ck, s);
        i++;
    }
}
