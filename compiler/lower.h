/* SPDX-License-Identifier: MIT */
/*
 * lower.h: turning the step IR into SQL, one dialect at a time.
 *
 * lower_step() writes the body of one step (its statements, each preceded by
 * a comment naming the plan line it comes from) for one dialect and one
 * direction. The body runs inside one transaction; what must happen outside
 * it (SQLite's foreign keys off) is reported in the flags, and the writers
 * (upc sql, the bundle) add the BEGIN/COMMIT and pragmas around it.
 *
 * The down-step is derived from the model: the operations in reverse order,
 * each lowered with its before and after swapped (ir.h).
 */
#ifndef UPG_COMPILER_LOWER_H
#define UPG_COMPILER_LOWER_H

#include <stdbool.h>

#include "core/strbuf.h"
#include "compiler/ir.h"
#include "compiler/plan.h"

struct step_sql {
    struct strbuf body;     /* the statements */
    size_t nstatements;
    bool fk_off;            /* SQLite: run with PRAGMA foreign_keys=OFF around the transaction */
    bool rebuilds;          /* SQLite: the step rebuilds at least one table */
    bool lossy;             /* the down-step restores the structure but not the data of a drop */
    bool irreversible;      /* there is no down-step: a sql block of the step cannot be undone */
    const char *irreversible_reason;
};

/* What a step lowering needs besides the IR. */
struct lower_ctx {
    const struct plan *plan;
    enum dialect_id dialect;
    const char *origin_file; /* the plan's file name, as written in origin comments */
    const struct source_set *sources;
};

/*
 * Lowers the step of version v (from its parent) for one dialect, up or
 * down. v->ir must have been recorded. out is initialised here; the caller
 * frees out->body.
 */
void lower_step(const struct lower_ctx *ctx, const struct plan_version *v, bool down,
                struct step_sql *out);

/* "identifier" with embedded quotes doubled: the same rule in both dialects. */
void sql_quote_ident(struct strbuf *out, const char *name);
/* 'literal' with quotes doubled; for PostgreSQL, E'...' when it holds a backslash. */
void sql_quote_string(struct strbuf *out, const char *s, enum dialect_id d);

/* The dialect's spelling of a type (PostgreSQL: varchar(200); SQLite: TEXT). */
void sql_type(struct strbuf *out, const struct sm_type *t, enum dialect_id d);

/* A default literal for a column of type t. */
void sql_literal(struct strbuf *out, const struct sm_type *t, const struct ast_literal *lit,
                 enum dialect_id d);

/* The emitters (dialect_pg.c, dialect_sqlite.c); lower_step() dispatches to them. */
struct lower_out;
void pg_lower_op(struct lower_out *lo, const struct ir_op *op, bool down);
void sqlite_lower_ops(struct lower_out *lo, struct ir_op *const *ops, size_t n, bool down);

/* Shared by the emitters (lower.c). */
struct lower_out {
    const struct lower_ctx *ctx;
    struct step_sql *out;
};
/* Starts a statement: the origin comment of op, then the caller appends SQL and ends it. */
void lower_begin(struct lower_out *lo, const struct ir_op *op);
/* Ends a statement with ";\n" and counts it. */
void lower_end(struct lower_out *lo);
/* Appends a comment line ("-- text") to the body. */
void lower_comment(struct lower_out *lo, const char *text);
/* The column list ("a", "b"). */
void sql_col_list(struct strbuf *out, const char *const *cols, size_t n);
/*
 * CONSTRAINT "name" PRIMARY KEY (...) | UNIQUE (...) | FOREIGN KEY ... | CHECK (...):
 * the same in both dialects (SQLite makes unique constraints indexes, and does not ask).
 */
void sql_constraint_def(struct strbuf *b, const struct snap_key *k);
/* ON DELETE ... of a foreign key, with a leading space, or nothing. */
void sql_on_delete(struct strbuf *out, enum ast_fk_action a);
/* Appends an author's sql text, making sure it ends with ";" and a newline. */
void lower_author_sql(struct lower_out *lo, const struct ir_op *op, const char *text);

#endif
