/* SPDX-License-Identifier: MIT */
/*
 * ir.h: the step IR. While the checker replays a version it records, for
 * every schema statement, an operation with a snapshot of the table as it
 * was before and as it is after (snapshots are copies: later statements do
 * not change them), and the source span it comes from. The lints, the
 * lowerings, the expected schemas and the guide read nothing else: each
 * operation is self-contained, and its inverse is the same operation read
 * backwards (the down-step of "add column" lowers with before and after
 * swapped).
 *
 * Invariants (ir_check() asserts them in debug builds): every operation but
 * a sql one has a table before or after it, both for those that keep the
 * table; a column operation's column is in the snapshot(s) it concerns; a key
 * or index operation's object is in the snapshot that has it; names in a
 * snapshot are unique; every operation belongs to one statement.
 *
 * Columns keep their identity across renames and type changes through
 * snap_col.id (the model's column), which is how a SQLite rebuild maps the
 * old table's columns onto the new one.
 */
#ifndef UPG_COMPILER_IR_H
#define UPG_COMPILER_IR_H

#include <stdbool.h>
#include <stddef.h>

#include "compiler/lint.h"
#include "compiler/plan.h"
#include "compiler/schema.h"
#include "core/strbuf.h"

struct snap_col {
    const struct sm_column *id; /* identity; never dereferenced by the lowerings */
    const char *name;
    struct sm_type type;
    bool not_null;
    bool identity;
    const struct sm_value *dflt;
    const char *declared[DIALECT_COUNT]; /* as struct sm_column's */
};

struct snap_key {
    enum sm_key_kind kind;
    const char *name;
    const char **cols;
    size_t ncols;
    const char *ref_table;
    const char **ref_cols;
    size_t nref;
    enum sm_fk_action on_delete;
    enum sm_fk_action on_update;
    const char *expr;
};

struct snap_index {
    const char *name;
    bool unique;
    const char **cols;
    size_t ncols;
};

/* The array that the columns of successive snapshots of one table share while the table only
 * gains columns at its end: element i is the same in every snapshot of ncols > i (ir.c). */
struct snap_colbuf;

struct snap_table {
    const struct sm_table *id; /* identity across renames; never dereferenced by the lowerings */
    const char *name;
    struct snap_col *cols;
    size_t ncols;
    struct snap_colbuf *colbuf; /* where cols lives: two snapshots of one colbuf have the same
                                   first min(ncols) columns (snap_cols_prefix) */
    struct snap_key *pk;        /* NULL: none */
    struct snap_key *keys;      /* unique, foreign and check constraints, in model order */
    size_t nkeys;
    struct snap_index *indexes;
    size_t nindexes;
};

enum ir_kind {
    IR_CREATE_TABLE, /* after */
    IR_DROP_TABLE,   /* before (with its indexes) */
    IR_RENAME_TABLE, /* before, after */
    IR_ADD_COLUMN,   /* col; before, after */
    IR_DROP_COLUMN,  /* col; before, after */
    IR_RENAME_COLUMN,
    IR_ALTER_COLUMN, /* type, nullability or default: compare the column before and after */
    IR_ADD_KEY,      /* key (in after) */
    IR_DROP_KEY,     /* key (in before) */
    IR_CREATE_INDEX, /* index */
    IR_DROP_INDEX,
    IR_SQL, /* per-dialect texts */
};

struct ir_op {
    enum ir_kind kind;
    struct src_span span;            /* the statement it comes from */
    bool has_rows;                   /* its table exists before the version: it may hold rows */
    const struct snap_table *before; /* NULL: the table does not exist before */
    const struct snap_table *after;  /* NULL: it does not exist after */
    const struct sm_column *col;     /* column operations */
    const struct snap_key *key;      /* key operations */
    const struct snap_index *index;  /* index operations */
    const struct sm_value *fill;     /* IR_ADD_COLUMN: what existing rows get (NULL: the default) */
    bool lossy;                      /* its inverse cannot restore data (drops) */
    bool concurrently; /* index operations: without blocking writes (and its inverse too) */
    bool online; /* adding a foreign key or check, set not null, a change of type: without blocking
                   writes (PostgreSQL; compiler/dialect/pg.c) */
    /* other tables whose snapshot the operation changes: renaming a table or a column that
     * foreign keys of other tables reference changes their ref_table or ref_columns; the
     * expected schema (ir_step_delta) must carry them */
    struct ir_effect *effects;
    size_t neffects;
    /* IR_SQL: the text of each dialect (NULL: nothing to do there) */
    const char *sql_up[DIALECT_COUNT];
    const char *sql_down[DIALECT_COUNT];
    const char *irreversible[DIALECT_COUNT]; /* a reason ("" when none given), or NULL */
};

struct ir_effect {
    const struct snap_table *before, *after;
};

/* An "allow" of a statement: a lint its author accepts, and where it is written. */
struct ir_allow {
    enum lint_id lint;
    struct src_span span;
};

/* A schema statement of a version, as the lint pass sees it. */
struct ir_stmt {
    struct src_span span;
    struct ir_allow *allows; /* the known lints it allows, as written */
    size_t nallows;
    bool clean;       /* checked without error: its lints count, its allows must be used */
    struct ir_op *op; /* what it does to the schema; NULL when nothing (or an error) */
};

/* The operations of one version (its step from its parent), and its schema statements. */
struct ir_step {
    struct ir_op **ops;
    size_t nops, cap;
    struct ir_stmt **stmts;
    size_t nstmts, stmts_cap;
};

/*
 * What a step leaves different in the expected schema: the tables it creates
 * or changes (their snapshots after the step, sorted by name) and the names
 * of the tables of the step's start that are gone (dropped or renamed),
 * sorted. Applying it to the schema at the parent gives the schema at the
 * version; it is what a bundle stores per step (docs/bundle-format.md).
 */
struct ir_delta {
    const struct snap_table **changed;
    const struct snap_table **before; /* parallel to changed: the same table at the step's start
                                         under the same name, or NULL (new or renamed) */
    size_t nchanged;
    const char **removed;
    size_t nremoved;
};

/*
 * A snapshot of table t in the arena: immutable, so what did not change since
 * t's last snapshot (its columns, keys or indexes, or all of it) is shared
 * with that one rather than copied again.
 */
const struct snap_table *snap_table(struct arena *a, struct sm_table *t);

/* Whether the first a->ncols columns of b are a's (true when b only added columns to a, by the
 * sharing above; false does not mean they differ). O(1). */
bool snap_cols_prefix(const struct snap_table *a, const struct snap_table *b);

/* The column of snapshot t whose identity is id, or NULL; searched from the end, where an added
 * column is. */
const struct snap_col *snap_find_col(const struct snap_table *t, const struct sm_column *id);
/* The column of an add or drop column operation in t, op's snapshot before or after it: NULL at
 * once on the side without it (a down-step's target), else found from the end. */
const struct snap_col *ir_op_col_in(const struct ir_op *op, const struct snap_table *t);
/* The same, searched outward from position hint: where a loop over another snapshot of the table
 * expects it, so that walking a table's columns costs its width, not its square. */
const struct snap_col *snap_find_col_near(const struct snap_table *t, const struct sm_column *id,
                                          size_t hint);
/* The same when the column must be there (an invariant of the operation): asserted. */
const struct snap_col *snap_col_of(const struct snap_table *t, const struct sm_column *id);

/* The key (the primary key, or a unique, foreign or check constraint) of t called name, or NULL. */
const struct snap_key *snap_find_key(const struct snap_table *t, const char *name);

/* The name of the table an operation concerns, as it is after the operation (before, when it is
 * gone); NULL for a sql operation. */
const char *ir_op_table_name(const struct ir_op *op);
/* Its identity (struct sm_table *), for grouping operations by table; NULL for sql. */
const void *ir_op_table_id(const struct ir_op *op);

/* The index of t called name, or NULL. */
const struct snap_index *snap_find_index(const struct snap_table *t, const char *name);

void ir_push(struct arena *a, struct ir_step *step, struct ir_op *op);
void ir_push_stmt(struct arena *a, struct ir_step *step, struct ir_stmt *st);

/*
 * The operations of a step grouped by table: groups in the order the step
 * first touches each table, each group's operations (indices into
 * step->ops, in *order) in the step's order; sql operations are left out.
 * Both arrays are malloc'd; returns the number of groups.
 */
struct ir_group {
    size_t start, n; /* the group's operations are order[start .. start + n) */
    size_t first;    /* order[start]: where the step first touches the table */
};
size_t ir_group_by_table(const struct ir_step *step, struct ir_group **groups, size_t **order);

/* The delta of a step (see struct ir_delta); arrays in the arena. */
void ir_step_delta(struct arena *a, const struct ir_step *step, struct ir_delta *out);

/*
 * The tables after version v (NULL: none), sorted by name, by applying the
 * deltas of the steps from the first version to v; an arena array.
 */
size_t ir_schema_at(struct arena *a, const struct plan_version *v, const struct snap_table ***out);

/* Asserts the invariants above over every step of the plan (debug builds; nothing in release). */
void ir_check(const struct plan *p);

/*
 * The steps of merges (plan.h), once the versions are checked and linted:
 * a merging version's own IR, notices, breaking changes and findings move
 * to its derived step (from the version it merges), and its step from its
 * parent becomes the composite one: the steps of the merged line, then its
 * own. Both end in the version's schema by construction; ir_schema_at()
 * and the deltas hold for either.
 */
void ir_merge_steps(struct plan *p, struct arena *a);

/* Why the step cannot be undone on dialect d (the last irreversible sql block's reason, "" when
 * it gives none), or NULL. */
const char *ir_irreversible(const struct ir_step *step, enum dialect_id d);

/* upc --dump=ir: every checked version's operations and findings, in a stable text form. */
struct source_set;
void ir_dump(const struct plan *p, const struct source_set *sources, struct strbuf *out);

#endif
