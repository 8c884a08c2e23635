/* SPDX-License-Identifier: MIT */
/*
 * sqlite.c: the SQLite dialect (dialect.h).
 *
 * SQLite's ALTER TABLE can rename a table or a column, add a column (not a
 * key, not an identity, with a default when not null) and drop a plain
 * column. Everything else uses the procedure of SQLite's documentation
 * ("Making Other Kinds Of Table Schema Changes", section 7 of lang_altertable):
 *
 *     PRAGMA foreign_keys=OFF          -- outside the transaction (step flag fk_off)
 *     BEGIN
 *     CREATE TABLE "_upg_new_T" (...)  -- the table as it must become
 *     INSERT INTO "_upg_new_T" (...) SELECT ... FROM "T"
 *     DROP TABLE "T"                   -- with foreign keys off: no cascade into children
 *     ALTER TABLE "_upg_new_T" RENAME TO "T"
 *     CREATE INDEX ...                 -- its indexes again
 *     foreign key check                -- fails the step if a reference broke
 *     COMMIT
 *     PRAGMA foreign_keys=ON
 *
 * The copy maps columns by identity (ir.h), so renames and type changes in
 * the same rebuild are followed; values are copied without CAST and take
 * the new column's affinity, as SQLite would store them, so nothing is
 * truncated. Consecutive operations that each need a rebuild of the same
 * table are merged into one rebuild. Unique constraints are unique indexes
 * in SQLite, which need no rebuild to add or drop.
 */
#include <stdlib.h>
#include <string.h>

#include "compiler/lint.h"
#include "compiler/lower.h"
#include "runtime/canon.h"

/* --- types, values ---------------------------------------------------------------- */

/* The affinity names Entity Framework uses. Decimals are TEXT, so that they stay exact;
 * booleans are INTEGER 0 and 1. */
static void
sqlite_declared_type(struct strbuf *out, const struct sm_type *t)
{
    switch (t->kind) {
    case TY_BOOL:
    case TY_INT:
    case TY_BIGINT:
        strbuf_puts(out, "INTEGER");
        return;
    case TY_DOUBLE:
        strbuf_puts(out, "REAL");
        return;
    case TY_BYTES:
        strbuf_puts(out, "BLOB");
        return;
    default:
        strbuf_puts(out, "TEXT");
        return;
    }
}

static void
sqlite_literal(struct strbuf *out, const struct sm_type *t, const struct sm_value *v)
{
    switch (v->kind) {
    case VAL_TRUE:
    case VAL_FALSE:
        strbuf_puts(out, v->kind == VAL_TRUE ? "1" : "0");
        return;
    case VAL_NULL:
        strbuf_puts(out, "NULL");
        return;
    case VAL_INT:
    case VAL_DECIMAL:
        if (t->kind == TY_DECIMAL) {
            sql_quote_string_std(out, v->text); /* decimals are exact TEXT in SQLite */
            return;
        }
        strbuf_puts(out, v->text);
        return;
    case VAL_STRING:
        sql_quote_string_std(out, v->text);
        return;
    case VAL_EXPR:
        /* the portable expressions (types.h); SQLite has no UUID function, so a version 4 UUID is
         * made of random bytes, in parentheses as a default expression must be */
        if (strcmp(v->text, "current_timestamp") == 0)
            strbuf_puts(out, "CURRENT_TIMESTAMP");
        else if (strcmp(v->text, "current_date") == 0)
            strbuf_puts(out, "CURRENT_DATE");
        else
            strbuf_puts(out, CANON_SQLITE_RANDOM_UUID);
        return;
    }
}

static const char *
sqlite_default_text(const struct sm_value *v)
{
    return v->kind == VAL_TRUE ? "1" : v->kind == VAL_FALSE ? "0" : v->text;
}

/* --- costs ------------------------------------------------------------------- */

static bool cols_have(const char *const *cols, size_t n, const char *name);

/*
 * Whether an added column needs a rebuild for its values: ALTER TABLE ADD COLUMN takes no
 * default that is an expression (CURRENT_TIMESTAMP, a random UUID), and a not null column
 * without a default that existing rows fill has no way in but a copy. A nullable column, or
 * one with a constant default, is added and then filled (UPDATE).
 */
static bool
adds_with_values(const struct ir_op *op, const struct snap_col *c)
{
    if (c->dflt && c->dflt->kind == VAL_EXPR)
        return true;
    return op->kind == IR_ADD_COLUMN && op->fill && c->not_null && !c->dflt;
}

/* Whether adding the column needs a rebuild: ALTER TABLE ADD COLUMN takes no identity, no
 * primary key, and no REFERENCES with a default. */
static bool
add_column_rebuilds(const struct ir_op *op, const struct snap_col *c)
{
    const struct snap_table *b = op->before, *a = op->after;
    size_t i;
    if (c->identity || adds_with_values(op, c))
        return true;
    if (a->pk && !(b->pk && strcmp(b->pk->name, a->pk->name) == 0))
        return true;
    for (i = 0; c->dflt && i < a->nkeys; i++)
        if (a->keys[i].kind == KEY_FOREIGN && !snap_find_key(b, a->keys[i].name) &&
            cols_have(a->keys[i].cols, a->keys[i].ncols, c->name))
            return true;
    return false;
}

static void
rebuild_finding(struct lint_report *r, const char *table, const char *what)
{
    lint_report(r, LINT_SQLITE_REBUILD,
                "SQLite's ALTER TABLE cannot do this: the table is copied row by row.",
                "%s rebuilds table \"%s\" on SQLite", what, table);
}

static void
sqlite_costs(const struct ir_op *op, struct lint_report *r)
{
    static const char *const adding[] = {"adding a primary key", "adding a unique constraint",
                                         "adding a foreign key", "adding a check constraint"};
    static const char *const keys[] = {"primary key", "unique constraint", "foreign key",
                                       "check constraint"};
    const struct snap_col *b, *a;
    char what[160];

    switch (op->kind) {
    case IR_ADD_COLUMN:
        a = snap_col_of(op->after, op->col);
        if (add_column_rebuilds(op, a))
            lint_report(
                r, LINT_SQLITE_REBUILD,
                "SQLite's ALTER TABLE cannot add such a column: the table is copied row by row.",
                "adding column \"%s\" rebuilds table \"%s\" on SQLite", a->name, op->after->name);
        return;
    case IR_ALTER_COLUMN:
        b = snap_col_of(op->before, op->col);
        a = snap_col_of(op->after, op->col);
        if (!type_equal(&b->type, &a->type)) {
            lint_report(
                r, LINT_SQLITE_REBUILD,
                "SQLite cannot change a column's type in place: the table is copied row by row.",
                "changing the type of column \"%s\" rebuilds table \"%s\" on SQLite", a->name,
                op->after->name);
        } else if (b->not_null != a->not_null) {
            snprintf(what, sizeof what, "%s not null on column \"%.60s\"",
                     a->not_null ? "setting" : "dropping", a->name);
            rebuild_finding(r, op->after->name, what);
        } else if (!value_equal(b->dflt, a->dflt)) {
            snprintf(what, sizeof what, "%s the default of column \"%.60s\"",
                     a->dflt ? "setting" : "dropping", a->name);
            rebuild_finding(r, op->after->name, what);
        }
        return;
    case IR_ADD_KEY:
        if (op->key->kind != KEY_UNIQUE)
            rebuild_finding(r, op->after->name, adding[op->key->kind]);
        return;
    case IR_DROP_KEY:
        if (op->key->kind != KEY_UNIQUE) {
            snprintf(what, sizeof what, "dropping %s \"%.60s\"", keys[op->key->kind],
                     op->key->name);
            rebuild_finding(r, op->after->name, what);
        }
        return;
    default:
        return;
    }
}

/* --- lowering ------------------------------------------------------------------ */

static void
column_def(struct strbuf *b, const struct snap_col *c, const struct snap_key *pk)
{
    sql_quote_ident(b, c->name);
    strbuf_putc(b, ' ');
    sql_column_type(b, &dialect_sqlite, c);
    if (c->not_null)
        strbuf_puts(b, " NOT NULL");
    if (c->identity && pk) {
        /* the rowid alias: values are generated, never reused */
        strbuf_puts(b, " CONSTRAINT ");
        sql_quote_ident(b, pk->name);
        strbuf_puts(b, " PRIMARY KEY AUTOINCREMENT");
    }
    if (c->dflt) {
        strbuf_puts(b, " DEFAULT ");
        sqlite_literal(b, &c->type, c->dflt);
    }
}

/* The primary key when it is an identity column's (declared on the column). */
static const struct snap_key *
identity_pk(const struct snap_table *t, const struct snap_col *c)
{
    return c->identity && t->pk && t->pk->ncols == 1 && strcmp(t->pk->cols[0], c->name) == 0 ? t->pk
                                                                                             : NULL;
}

/* The unique constraints (as unique indexes) and the indexes of t. */
static void
table_indexes(struct lower_out *lo, const struct ir_op *op, const struct snap_table *t)
{
    size_t i;

    for (i = 0; i < t->nkeys; i++)
        if (t->keys[i].kind == KEY_UNIQUE)
            lower_create_index(lo, op, t->name, t->keys[i].name, true, t->keys[i].cols,
                               t->keys[i].ncols);
    for (i = 0; i < t->nindexes; i++)
        lower_create_index(lo, op, t->name, t->indexes[i].name, t->indexes[i].unique,
                           t->indexes[i].cols, t->indexes[i].ncols);
}

/* CREATE TABLE "name" (...) for the definition t (under another name for a rebuild). */
static void
create_table_as(struct lower_out *lo, const struct ir_op *op, const struct snap_table *t,
                const char *name)
{
    struct strbuf *b = &lo->out->body;
    bool pk_on_column = false;
    size_t i;

    lower_begin(lo, op);
    strbuf_puts(b, "CREATE TABLE ");
    sql_quote_ident(b, name);
    strbuf_puts(b, " (");
    for (i = 0; i < t->ncols; i++) {
        const struct snap_key *ipk = identity_pk(t, &t->cols[i]);
        strbuf_puts(b, i ? ",\n    " : "\n    ");
        column_def(b, &t->cols[i], ipk);
        pk_on_column = pk_on_column || ipk;
    }
    if (t->pk && !pk_on_column) {
        strbuf_puts(b, ",\n    ");
        sql_constraint_def(b, &dialect_sqlite, t->pk);
    }
    for (i = 0; i < t->nkeys; i++) {
        if (t->keys[i].kind == KEY_UNIQUE)
            continue;
        strbuf_puts(b, ",\n    ");
        sql_constraint_def(b, &dialect_sqlite, &t->keys[i]);
    }
    strbuf_puts(b, "\n)");
    lower_end(lo);
}

static bool
cols_have(const char *const *cols, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(cols[i], name) == 0)
            return true;
    return false;
}

/*
 * Whether an operation needs a rebuild in this direction: what ALTER TABLE
 * cannot do. `from` and `to` are the table before and after, in the
 * direction of travel.
 */
static bool
needs_rebuild(const struct ir_op *op, const struct snap_table *from, const struct snap_table *to)
{
    const struct snap_col *c;
    const struct snap_key *k;
    size_t i;

    switch (op->kind) {
    case IR_ADD_COLUMN:
    case IR_DROP_COLUMN:
        /* adding: ALTER TABLE ADD COLUMN takes no key, no identity, no NOT NULL without a
         * default, no REFERENCES with a default other than NULL, and no default that is an
         * expression */
        if ((c = ir_op_col_in(op, to))) {
            if (c->identity ||
                (c->not_null && !c->dflt && !(op->kind == IR_ADD_COLUMN && op->fill)) ||
                adds_with_values(op, c))
                return true;
            if (to->pk && cols_have(to->pk->cols, to->pk->ncols, c->name))
                return true;
            for (i = 0; i < to->nkeys; i++) {
                k = &to->keys[i];
                if (k->kind == KEY_FOREIGN && cols_have(k->cols, k->ncols, c->name) &&
                    (c->dflt || k->ncols > 1))
                    return true;
                if (k->kind == KEY_CHECK && !snap_find_key(from, k->name) && k->ncols != 1)
                    return true;
            }
            return false;
        }
        /* dropping: DROP COLUMN fails on a column in a key, a foreign key or a check */
        c = snap_col_of(from, op->col);
        if (from->pk && cols_have(from->pk->cols, from->pk->ncols, c->name))
            return true;
        for (i = 0; i < from->nkeys; i++) {
            k = &from->keys[i];
            if (k->kind != KEY_UNIQUE && cols_have(k->cols, k->ncols, c->name))
                return true;
        }
        return false;
    case IR_ALTER_COLUMN:
        return true;
    case IR_ADD_KEY:
    case IR_DROP_KEY:
        return op->key->kind != KEY_UNIQUE;
    default:
        return false;
    }
}

/* The origin comments of the statements a merged rebuild covers. */
static void
rebuild_comment(struct lower_out *lo, struct ir_op *const *run, size_t n, const char *table)
{
    struct strbuf text = STRBUF_INIT;
    size_t i;

    strbuf_printf(&text,
                  "SQLite cannot make %s in place: table \"%s\" is rebuilt and its rows "
                  "copied",
                  n == 1 ? "this change" : "these changes", table);
    if (n > 1) {
        strbuf_puts(&text, " (statements at lines");
        for (i = 0; i < n; i++)
            strbuf_printf(&text, "%s %zu", i ? "," : "", lower_line_of(lo, run[i]));
        strbuf_putc(&text, ')');
    }
    if (lo->out->body.len)
        strbuf_putc(&lo->out->body, '\n');
    lower_comment(lo, strbuf_str(&text));
    strbuf_free(&text);
}

/* The value that existing rows get in a column that one of the operations adds (fill), or NULL. */
static const struct sm_value *
fill_of(struct ir_op *const *run, size_t n, const struct sm_column *col)
{
    for (size_t i = 0; i < n; i++)
        if (run[i]->kind == IR_ADD_COLUMN && run[i]->col == col && run[i]->fill)
            return run[i]->fill;
    return NULL;
}

/* The rebuild of one table from `from` to `to` (see the file comment). */
static void
rebuild(struct lower_out *lo, struct ir_op *const *run, size_t n, const struct snap_table *from,
        const struct snap_table *to)
{
    struct strbuf *b = &lo->out->body;
    const struct ir_op *op = run[0];
    struct strbuf tmp = STRBUF_INIT;
    const char *tmpname;
    bool first = true, from_seq = false, to_seq = false;
    size_t i;

    lo->out->fk_off = true;
    lo->out->rebuilds = true;
    lo->out->before_tx = "PRAGMA foreign_keys = OFF;";
    lo->out->after_tx = "PRAGMA foreign_keys = ON;";
    strbuf_printf(&tmp, "_upg_new_%s", to->name);
    tmpname = strbuf_str(&tmp);
    rebuild_comment(lo, run, n, from->name);
    create_table_as(lo, op, to, tmpname);
    /* copy the columns that exist on both sides, by identity */
    {
        struct strbuf into = STRBUF_INIT, sel = STRBUF_INIT;
        for (i = 0; i < to->ncols; i++) {
            const struct snap_col *cf = snap_find_col_near(from, to->cols[i].id, i);
            const struct sm_value *fill = cf ? NULL : fill_of(run, n, to->cols[i].id);
            if (!cf && !fill)
                continue; /* a new column: its default, or null */
            if (!first) {
                strbuf_puts(&into, ", ");
                strbuf_puts(&sel, ", ");
            }
            sql_quote_ident(&into, to->cols[i].name);
            if (cf)
                sql_quote_ident(&sel, cf->name);
            else
                sqlite_literal(&sel, &to->cols[i].type, fill); /* what the rows there get */
            first = false;
        }
        /* A rebuild always keeps a column: the checker refuses to drop a table's last one, and a
         * column leaves a key (by a rebuild) before it can be dropped (natively). */
        if (!NEVER(first)) {
            lower_begin(lo, op);
            strbuf_puts(b, "INSERT INTO ");
            sql_quote_ident(b, tmpname);
            strbuf_printf(b, " (%s)\n    SELECT %s FROM ", strbuf_str(&into), strbuf_str(&sel));
            sql_quote_ident(b, from->name);
            lower_end(lo);
        }
        strbuf_free(&into);
        strbuf_free(&sel);
    }
    /* AUTOINCREMENT: keep the sequence, so that ids of deleted rows are not reused */
    for (i = 0; i < from->ncols; i++)
        from_seq = from_seq || identity_pk(from, &from->cols[i]);
    for (i = 0; i < to->ncols; i++)
        to_seq = to_seq || identity_pk(to, &to->cols[i]);
    if (from_seq && to_seq) {
        lower_begin(lo, op);
        strbuf_puts(b, "UPDATE sqlite_sequence SET seq = (SELECT max(seq) FROM sqlite_sequence "
                       "WHERE name IN (");
        sql_quote_string_std(b, from->name);
        strbuf_puts(b, ", ");
        sql_quote_string_std(b, tmpname);
        strbuf_puts(b, ")) WHERE name = ");
        sql_quote_string_std(b, tmpname);
        lower_end(lo);
        lower_begin(lo, op);
        strbuf_puts(b, "INSERT INTO sqlite_sequence (name, seq) SELECT ");
        sql_quote_string_std(b, tmpname);
        strbuf_puts(b, ", seq FROM sqlite_sequence WHERE name = ");
        sql_quote_string_std(b, from->name);
        strbuf_puts(b, " AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ");
        sql_quote_string_std(b, tmpname);
        strbuf_putc(b, ')');
        lower_end(lo);
    }
    lower_drop(lo, op, "TABLE", from->name);
    lower_rename(lo, op, tmpname, NULL, to->name);
    table_indexes(lo, op, to);
    strbuf_free(&tmp);
}

/* An operation that ALTER TABLE (or CREATE/DROP) can do in place. */
static void
native(struct lower_out *lo, const struct ir_op *op, bool down, const struct snap_table *from,
       const struct snap_table *to)
{
    struct strbuf *b = &lo->out->body;
    const struct snap_col *cf, *ct;
    size_t i;

    switch (op->kind) {
    case IR_CREATE_TABLE:
    case IR_DROP_TABLE:
        if (to) {
            create_table_as(lo, op, to, to->name);
            table_indexes(lo, op, to);
        } else {
            lower_drop(lo, op, "TABLE", from->name);
        }
        return;
    case IR_RENAME_TABLE:
        lower_rename(lo, op, from->name, NULL, to->name);
        return;
    case IR_ADD_COLUMN:
    case IR_DROP_COLUMN:
        if ((ct = ir_op_col_in(op, to))) {
            lower_begin(lo, op);
            strbuf_puts(b, "ALTER TABLE ");
            sql_quote_ident(b, to->name);
            strbuf_puts(b, " ADD COLUMN ");
            column_def(b, ct, NULL);
            for (i = 0; i < to->nkeys; i++) {
                const struct snap_key *k = &to->keys[i];
                if (snap_find_key(from, k->name) || !cols_have(k->cols, k->ncols, ct->name))
                    continue;
                if (k->kind == KEY_FOREIGN) {
                    strbuf_puts(b, " CONSTRAINT ");
                    sql_quote_ident(b, k->name);
                    strbuf_puts(b, " REFERENCES ");
                    sql_quote_ident(b, k->ref_table);
                    strbuf_putc(b, ' ');
                    sql_col_list(b, &dialect_sqlite, k->ref_cols, k->nref);
                    sql_fk_actions(b, k->on_delete, k->on_update);
                } else if (k->kind == KEY_CHECK) {
                    strbuf_puts(b, " CONSTRAINT ");
                    sql_quote_ident(b, k->name);
                    strbuf_printf(b, " CHECK (%s)", k->expr);
                }
            }
            lower_end(lo);
            if (op->kind == IR_ADD_COLUMN && op->fill && !value_equal(op->fill, ct->dflt)) {
                /* the rows there get the fill (a not null one without a default is rebuilt) */
                lower_begin(lo, op);
                strbuf_puts(b, "UPDATE ");
                sql_quote_ident(b, to->name);
                strbuf_puts(b, " SET ");
                sql_quote_ident(b, ct->name);
                strbuf_puts(b, " = ");
                sqlite_literal(b, &ct->type, op->fill);
                lower_end(lo);
            }
            for (i = 0; i < to->nkeys; i++)
                if (to->keys[i].kind == KEY_UNIQUE && !snap_find_key(from, to->keys[i].name))
                    lower_create_index(lo, op, to->name, to->keys[i].name, true, to->keys[i].cols,
                                       to->keys[i].ncols);
            return;
        }
        cf = snap_col_of(from, op->col);
        /* the unique indexes that went with the column go first */
        for (i = 0; i < from->nkeys; i++)
            if (from->keys[i].kind == KEY_UNIQUE && !snap_find_key(to, from->keys[i].name))
                lower_drop(lo, op, "INDEX", from->keys[i].name);
        lower_begin(lo, op);
        strbuf_puts(b, "ALTER TABLE ");
        sql_quote_ident(b, from->name);
        strbuf_puts(b, " DROP COLUMN ");
        sql_quote_ident(b, cf->name);
        lower_end(lo);
        return;
    case IR_RENAME_COLUMN:
        lower_rename(lo, op, from->name, snap_col_of(from, op->col)->name,
                     snap_col_of(to, op->col)->name);
        return;
    case IR_ADD_KEY:
    case IR_DROP_KEY: /* unique constraints only: the others rebuild */
        if (snap_find_key(to, op->key->name))
            lower_create_index(lo, op, to->name, op->key->name, true, op->key->cols,
                               op->key->ncols);
        else
            lower_drop(lo, op, "INDEX", op->key->name);
        return;
    case IR_CREATE_INDEX:
    case IR_DROP_INDEX:
        lower_index_op(lo, op, to);
        return;
    case IR_SQL:
        lower_sql_op(lo, op, down);
        return;
    case IR_ALTER_COLUMN:
        return; /* always a rebuild */
    }
}

/* The check that closes a step that rebuilt tables with foreign keys off. */
static void
foreign_key_check(struct lower_out *lo)
{
    struct strbuf *b = &lo->out->body;

    strbuf_putc(b, '\n');
    lower_comment(lo, "Foreign keys were off during the rebuild: fail the step if one no longer "
                      "holds.");
    strbuf_puts(b, "CREATE TEMP TABLE \"_upg_fk_check\" (\"violations\" INTEGER CONSTRAINT "
                   "\"foreign keys must hold after a table rebuild\" CHECK (\"violations\" = 0));\n"
                   "INSERT INTO \"_upg_fk_check\" SELECT count(*) FROM pragma_foreign_key_check;\n"
                   "DROP TABLE \"_upg_fk_check\";\n");
    lo->out->nstatements += 3;
}

static void
sqlite_lower(struct lower_out *lo, struct ir_op *const *seq, size_t n, bool down)
{
    size_t i = 0, j;

    while (i < n) {
        const struct ir_op *op = seq[i];
        const struct snap_table *from = down ? op->after : op->before;
        const struct snap_table *to = down ? op->before : op->after;
        if (!(from && to && needs_rebuild(op, from, to))) {
            native(lo, op, down, from, to);
            i++;
            continue;
        }
        /* merge the following operations that rebuild the same table */
        for (j = i + 1; j < n; j++) {
            const struct ir_op *nx = seq[j];
            const struct snap_table *nf = down ? nx->after : nx->before;
            const struct snap_table *nt = down ? nx->before : nx->after;
            if (!(nf && nt && strcmp(nf->name, to->name) == 0 && needs_rebuild(nx, nf, nt)))
                break;
            to = nt;
        }
        lo->run = &seq[i];
        lo->nrun = j - i;
        rebuild(lo, &seq[i], j - i, from, to);
        lo->run = NULL;
        lo->nrun = 0;
        i = j;
    }
    if (lo->out->rebuilds)
        foreign_key_check(lo);
}

static void
sqlite_script_header(struct strbuf *out, const struct step_sql *s)
{
    if (s->fk_off)
        strbuf_puts(out, "-- Runs in one transaction, with PRAGMA foreign_keys = OFF before BEGIN "
                         "and ON after COMMIT:\n-- uprun does it, or see upc sql.\n");
    else
        strbuf_puts(out, "-- Runs in one transaction: uprun does it, or sqlite3 -bail with "
                         "BEGIN; ... COMMIT; around it.\n");
}

const struct dialect dialect_sqlite = {
    .id = DIALECT_SQLITE,
    .name = "sqlite",
    .title = "SQLite",
    .identity_is_rowid = true,
    .reserved_prefix = "sqlite_", /* "object name reserved for internal use" */
    .identity_help_create =
        "Declare it \"%s %s identity primary key\"; SQLite generates values only "
        "for an INTEGER PRIMARY KEY.",
    .identity_help_change = "SQLite generates values only for the INTEGER PRIMARY KEY: keep \"%s\" "
                            "the whole primary key, or drop the column first.",
    .declared_type = sqlite_declared_type,
    .declared_types = true,
    .canonical_type = sqlite_declared_type, /* PRAGMA table_info reports the declared type */
    .literal = sqlite_literal,
    .quote_string = sql_quote_string_std,
    .quote_ident = sql_quote_ident,
    .default_text = sqlite_default_text,
    .keeps_key_names = false,
    .unique_constraints_are_indexes = true,
    .reports_checks = false,
    .costs = sqlite_costs,
    .lower = sqlite_lower,
    .script_header = sqlite_script_header,
    .sql_run_hint = "sqlite3 -bail DATABASE < FILE",
};
