/* SPDX-License-Identifier: MIT */
/*
 * ir.h: the step IR. While the checker replays a version it can record, for
 * every schema statement, an operation with a snapshot of the table as it
 * was before and as it is after (snapshots are copies: later statements do
 * not change them). The lowerings read nothing else: each operation is
 * self-contained, and its inverse is the same operation read backwards
 * (the down-step of "add column" lowers with before and after swapped).
 *
 * Columns keep their identity across renames and type changes through
 * snap_col.id (the model's column), which is how a SQLite rebuild maps the
 * old table's columns onto the new one.
 */
#ifndef UPG_COMPILER_IR_H
#define UPG_COMPILER_IR_H

#include <stdbool.h>
#include <stddef.h>

#include "compiler/plan.h"
#include "compiler/schema.h"

struct snap_col {
    const struct sm_column *id; /* identity; never dereferenced by the lowerings */
    const char *name;
    struct sm_type type;
    bool not_null;
    bool identity;
    const struct ast_literal *dflt;
};

struct snap_key {
    enum sm_key_kind kind;
    const char *name;
    const char **cols;
    size_t ncols;
    const char *ref_table;
    const char **ref_cols;
    size_t nref;
    enum ast_fk_action on_delete;
    const char *expr;
};

struct snap_index {
    const char *name;
    bool unique;
    const char **cols;
    size_t ncols;
};

struct snap_table {
    const struct sm_table *id; /* identity across renames; never dereferenced by the lowerings */
    const char *name;
    struct snap_col *cols;
    size_t ncols;
    struct snap_key *pk; /* NULL: none */
    struct snap_key *keys; /* unique, foreign and check constraints, in model order */
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
    IR_SQL,          /* per-dialect texts */
};

struct ir_op {
    enum ir_kind kind;
    const struct ast_stmt *stmt;       /* where it comes from */
    const struct snap_table *before;   /* NULL: the table does not exist before */
    const struct snap_table *after;    /* NULL: it does not exist after */
    const struct sm_column *col;       /* column operations */
    const struct snap_key *key;        /* key operations */
    const struct snap_index *index;    /* index operations */
    bool lossy;                        /* its inverse cannot restore data (drops) */
    /* IR_SQL: the text of each dialect (NULL: nothing to do there) */
    const char *sql_up[DIALECT_COUNT];
    const char *sql_down[DIALECT_COUNT];
    const char *irreversible[DIALECT_COUNT]; /* a reason ("" when none given), or NULL */
};

/* The operations of one version (its step from its parent). */
struct ir_step {
    struct ir_op **ops;
    size_t nops, cap;
};

/* A deep copy of table t into the arena. */
struct snap_table *snap_table(struct arena *a, const struct sm_table *t);

/* The column of snapshot t whose identity is id, or NULL. */
const struct snap_col *snap_find_col(const struct snap_table *t, const struct sm_column *id);

/* The key (the primary key, or a unique, foreign or check constraint) of t called name, or NULL. */
const struct snap_key *snap_find_key(const struct snap_table *t, const char *name);

void ir_push(struct arena *a, struct ir_step *step, struct ir_op *op);

#endif
