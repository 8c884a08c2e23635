/* SPDX-License-Identifier: MIT */
/*
 * dialect.h: everything the compiler knows about one database, behind one
 * struct. One file per dialect (compiler/dialect/<name>.c) defines it, and
 * compiler/dialect/dialects.def registers it; nothing else in the compiler
 * knows a dialect by name: the checker, the lints, the lowering, the
 * expected schemas, the bundle and the guide ask the dialect.
 *
 * What a dialect says:
 *   - its names: in plans and bundles ("postgres") and in sentences ("PostgreSQL");
 *   - the limits and rules the checker enforces for it (name length, how check
 *     expressions read unquoted names, what an identity column must be);
 *   - how a portable type is declared in DDL and reported by the catalogue, and
 *     how a value and a name are written in SQL;
 *   - what the catalogue keeps of a schema (runtime/canon.h): key names, unique
 *     constraints as indexes, checks;
 *   - the cost of an operation (a table rewrite, a lock, a rebuild): the lints it
 *     raises, in its own words (lint.c asks every dialect the plan declares);
 *   - the lowering of a step's operations to SQL, and how a script runs by hand.
 *
 * docs/hacking.md walks through adding a dialect.
 */
#ifndef UPG_COMPILER_DIALECT_H
#define UPG_COMPILER_DIALECT_H

#include <stdbool.h>
#include <stddef.h>

#include "compiler/types.h"
#include "core/strbuf.h"

enum dialect_id {
#define DIALECT(id, sym) id,
#include "compiler/dialect/dialects.def"
#undef DIALECT
    DIALECT_COUNT
};

struct ir_op;
struct lint_report;
struct lower_out;
struct step_sql;

struct dialect {
    enum dialect_id id;
    const char *name;  /* "postgres": in plans, bundles and on the command line */
    const char *title; /* "PostgreSQL": in sentences */

    /* --- what the checker enforces for this dialect (when the plan declares it) --- */
    size_t max_ident_bytes;       /* longer names are refused (E0501); 0: no limit */
    const char *ident_limit_help; /* "PostgreSQL truncates names to 63 bytes" */
    const char *reserved_prefix;  /* names it keeps for itself ("sqlite_"), refused (E0332) */
    /* Unquoted names in check expressions fold to lower case (E0506 looks for mixed-case columns). */
    bool folds_unquoted_names;
    /* An identity column must be the table's whole primary key (E0505), with the help lines
     * for a table being created (printf: the column, its type) and for a later change (the column). */
    bool identity_is_rowid;
    const char *identity_help_create;
    const char *identity_help_change;

    /* --- types, values and names in SQL --- */ void (*declared_type)(
        struct strbuf *out, const struct sm_type *t); /* in CREATE TABLE */
    /* Whether a plan may declare a column with a type of its own choosing ("as sqlite
     * \"DATETIME\""): then the catalogue reports that type, as written. */
    bool declared_types;
    void (*canonical_type)(struct strbuf *out,
                           const struct sm_type *t); /* as the catalogue reports it */
    void (*literal)(struct strbuf *out, const struct sm_type *t, const struct sm_value *v);
    void (*quote_string)(struct strbuf *out, const char *s);
    void (*quote_ident)(struct strbuf *out, const char *name);
    /* A default's value as the catalogue reports it, before canon_default() (SQLite's 1 for true). */
    const char *(*default_text)(const struct sm_value *v);

    /* --- what the catalogue keeps (the canonical schema of runtime/canon.h) --- */
    bool keeps_key_names;  /* primary and foreign keys have names */
    bool concurrent_units; /* an index built or dropped concurrently runs outside the step's
                              transaction, a unit of its own (lower.h, struct step_unit) */
    bool unique_constraints_are_indexes;
    bool reports_checks;

    /* --- costs --- */
    /* Reports the findings of one operation (lint_report() in lint.h); op->has_rows says whether
     * its table may hold rows. */
    void (*costs)(
        const struct ir_op *op,
        struct lint_report *
            r); /* Whether adding a column with default v makes the database compute it for every existing
     * row, rewriting the table (a volatile default); NULL when it never does. */
    bool (*add_column_default_rewrites)(const struct sm_value *v);
    /* Whether changing a column from one type to the other rewrites the table (the guide's
     * words); NULL when the dialect never does. */
    bool (*type_change_rewrites)(const struct sm_type *from, const struct sm_type *to);

    /* --- lowering --- */
    /* The statements of n operations of a step, in the direction of travel (lower.h). */
    void (*lower)(struct lower_out *lo, struct ir_op *const *ops, size_t n, bool down);
    /* The comment lines that tell a reader of a bundle's script how to run it by hand. */
    void (*script_header)(struct strbuf *out, const struct step_sql *s);
    const char *sql_run_hint; /* upc sql's header: "psql -v ON_ERROR_STOP=1 -f FILE ..." */
};

/* The dialect of an id (always valid for id < DIALECT_COUNT). */
const struct dialect *dialect_get(enum dialect_id id);
/* The dialect called name, or NULL. */
const struct dialect *dialect_find(const char *name);
/* Its name ("postgres"). */
const char *dialect_name(enum dialect_id id);
/* Looks a dialect up by its name in the language; false when unknown. */
bool dialect_lookup(const char *name, enum dialect_id *out);
/* "postgres and sqlite": every dialect's name, for help lines. */
void dialect_names_text(struct strbuf *out);
/* The dialect whose name is within a small edit distance of name, for "did you mean", or NULL. */
const struct dialect *dialect_suggest(const char *name);

/* The dialects, defined in compiler/dialect/<name>.c. */
#define DIALECT(id, sym) extern const struct dialect sym;
#include "compiler/dialect/dialects.def"
#undef DIALECT

#endif
