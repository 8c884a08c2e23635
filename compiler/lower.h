/* SPDX-License-Identifier: MIT */
/*
 * lower.h: turning the step IR into SQL, one dialect at a time.
 *
 * lower_step() writes the body of one step (its statements, each preceded by
 * a comment naming the plan line it comes from) for one dialect and one
 * direction, through the dialect's lower() (compiler/dialect/<name>.c). The
 * body runs inside one transaction; what must run outside it (SQLite's
 * foreign keys off) the dialect gives in before_tx and after_tx.
 * step_script() frames a body the one way each writer needs it: a bundle's
 * script (a header for a reader who runs it by hand) or upc sql's output
 * (BEGIN and COMMIT around it).
 *
 * The down-step is derived from the model: the operations in reverse order,
 * each lowered with its before and after swapped (ir.h).
 *
 * Nothing from the plan reaches SQL unquoted: names go through the dialect's
 * quote_ident(), strings through its quote_string(), numbers were validated
 * by the lexer and the checker, and the only raw text is the author's own
 * (sql blocks and check expressions).
 */
#ifndef UPG_COMPILER_LOWER_H
#define UPG_COMPILER_LOWER_H

#include <stdbool.h>

#include "compiler/dialect.h"
#include "compiler/ir.h"
#include "compiler/plan.h"
#include "core/source.h"
#include "core/strbuf.h"

/*
 * A statement that runs outside the step's transaction, a unit of its own
 * (docs/bundle-format.md): PostgreSQL's CREATE INDEX CONCURRENTLY. The
 * checks are catalogue queries of one row and one boolean column that the
 * runtime evaluates to resume without running anything twice: post (the
 * statement's effect is there), fix_when (a failed attempt left something
 * that fix, a statement, removes first) and pre (the statement can run).
 */
enum step_unit_kind {
    UNIT_ALONE,       /* one statement outside a transaction, never run twice (the checks) */
    UNIT_BATCHES,     /* one statement that uprun runs again and again, each time in a transaction
                         of its own with the journal of how far it got: $1 the last key done (NULL
                         at first), $2 the batch size; it returns one row (keys seen, the last of
                         them as text, rows changed) and is done when it sees no key */
    UNIT_TRANSACTION, /* no checks: a transactional unit begins at this statement (it would
                         otherwise go on in the transaction of the statements before it) */
};

struct step_unit {
    enum step_unit_kind kind;
    size_t statement;     /* its number in the step's file, from 1 */
    char *pre, *post;     /* UNIT_TRANSACTION: NULL */
    char *fix_when, *fix; /* both or neither */
};

struct step_sql {
    struct strbuf body; /* the statements */
    size_t nstatements;
    struct step_unit *units; /* the statements that are units of their own, in order; the others
                                run in transactions between them (step_sql_free) */
    size_t nunits;
    bool fk_off;       /* SQLite: run with PRAGMA foreign_keys=OFF around the transaction */
    bool rebuilds;     /* SQLite: the step rebuilds at least one table */
    bool lossy;        /* the down-step restores the structure but not the data of a drop */
    bool irreversible; /* there is no down-step: a sql block of the step cannot be undone */
    const char *irreversible_reason;
    const char *before_tx; /* a statement to run before the transaction, or NULL */
    const char *after_tx;  /* and after it */
    /* a change lowered "online" (PostgreSQL): a query of one row, one integer, the largest number
     * of rows the tables so changed are estimated to hold, by which uprun chooses this lowering
     * or the step's offline one (lower_ctx.offline); NULL: nothing online */
    char *estimate;
};

/* What a step lowering needs besides the IR. */
struct lower_ctx {
    const struct plan *plan;
    const struct dialect *dialect;
    const char *origin_file; /* the plan's file name, as written in origin comments */
    const struct source_set *sources;
    bool offline; /* lower what the plan marks "online" the plain way (one transaction, the
                     table locked while it is rewritten): the other lowering of the bundle */
};

/*
 * Lowers the step of version v (from its parent) for one dialect, up or
 * down. out is initialised here; the caller frees out->body.
 */
void lower_step(const struct lower_ctx *ctx, const struct plan_version *v, bool down,
                struct step_sql *out);

enum step_frame {
    FRAME_BUNDLE, /* a bundle's script: a header comment, then the statements */
    FRAME_SQL,    /* upc sql: the statements between BEGIN and COMMIT, with before_tx, after_tx */
};

/*
 * The script of the step of v for one dialect and direction, framed for a
 * writer, appended to out; index is the step's number in the bundle. The
 * lowering itself is returned in *s (its body freed already). Returns false
 * when down is asked of an irreversible step (nothing is appended).
 */
bool step_script(const struct lower_ctx *ctx, const struct plan_version *v, size_t index, bool down,
                 enum step_frame frame, struct strbuf *out, struct step_sql *s);

/* "identifier" with embedded quotes doubled: the SQL standard's rule (PostgreSQL, SQLite). */
void sql_quote_ident(struct strbuf *out, const char *name);
/* 'literal' with quotes doubled: the SQL standard's rule. */
void sql_quote_string_std(struct strbuf *out, const char *s);

/* Shared by the dialects: the state of one lowering. */
struct lower_out {
    const struct lower_ctx *ctx;
    const struct dialect *d;
    struct step_sql *out;
    /* while the statements of one change made of several operations are written (a merged
     * SQLite rebuild): those operations, all named in each statement's origin comment */
    struct ir_op *const *run;
    size_t nrun;
    /* the tables changed online so far (their estimated rows choose the lowering at apply time:
     * step_sql.estimate) */
    const char **online_tables;
    size_t nonline_tables;
};
/* Starts a statement: the origin comment of op (of every operation of lo->run, as
 * "file:12:3,13:3", when one is set), then the caller appends SQL and ends it. */
void lower_begin(struct lower_out *lo, const struct ir_op *op);
/* Ends a statement with ";\n" and counts it. */
void lower_end(struct lower_out *lo);
/* Makes the statement just ended a unit of its own, outside a transaction, with its checks
 * (struct step_unit; copied; fix_when and fix may be NULL). */
void lower_unit(struct lower_out *lo, const char *pre, const char *post, const char *fix_when,
                const char *fix);
/* Makes the statement just ended a unit run in batches (UNIT_BATCHES), with its checks. */
void lower_unit_batches(struct lower_out *lo, const char *pre, const char *post);
/* Makes the next statement begin a transactional unit of its own (UNIT_TRANSACTION). */
void lower_unit_break(struct lower_out *lo);
/* Frees what lower_step() allocated besides the body (which step_script() frees). */
void step_sql_free(struct step_sql *s);
/* CREATE [UNIQUE] INDEX "name" ON "table" ("col", ...), a statement of its own. */
void lower_create_index(struct lower_out *lo, const struct ir_op *op, const char *table,
                        const char *name, bool unique, const char *const *cols, size_t ncols);
/* DROP <what> "name" (what: TABLE, INDEX), a statement of its own. */
void lower_drop(struct lower_out *lo, const struct ir_op *op, const char *what, const char *name);
/* Appends a comment line ("-- text") to the body. */
void lower_comment(struct lower_out *lo, const char *text);
/* The line of the plan an operation comes from. */
size_t lower_line_of(const struct lower_out *lo, const struct ir_op *op);
/* The column list ("a", "b") and a name, quoted for the dialect. */
void sql_col_list(struct strbuf *out, const struct dialect *d, const char *const *cols, size_t n);
void sql_ident(struct strbuf *out, const struct dialect *d, const char *name);
/*
 * CONSTRAINT "name" PRIMARY KEY (...) | UNIQUE (...) | FOREIGN KEY ... | CHECK (...):
 * the standard's form (SQLite makes unique constraints indexes, and does not ask).
 */
void sql_constraint_def(struct strbuf *b, const struct dialect *d, const struct snap_key *k);
/* ON DELETE ... ON UPDATE ... of a foreign key, each with a leading space, or nothing. */
void sql_fk_actions(struct strbuf *out, enum sm_fk_action on_delete, enum sm_fk_action on_update);
/* The type a column is declared with: the plan's choice for the dialect, or the dialect's own. */
void sql_column_type(struct strbuf *out, const struct dialect *d, const struct snap_col *c);
/* ALTER TABLE "table" RENAME TO "to", or RENAME COLUMN "column" TO "to" when column is set. */
void lower_rename(struct lower_out *lo, const struct ir_op *op, const char *table,
                  const char *column, const char *to);
/* An index operation in the direction of travel: CREATE INDEX when `to` has it, else DROP INDEX. */
void lower_index_op(struct lower_out *lo, const struct ir_op *op, const struct snap_table *to);
/* A sql operation: the author's up or down text for the dialect, if any. */
void lower_sql_op(struct lower_out *lo, const struct ir_op *op, bool down);
/* Appends an author's sql text, making sure it ends with ";" and a newline. */
void lower_author_sql(struct lower_out *lo, const struct ir_op *op, const char *text);

#endif
