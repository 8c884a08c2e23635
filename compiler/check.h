/* SPDX-License-Identifier: MIT */
/*
 * check.h: the checker, the compiler's front end after resolve.c. It is the
 * last stage that reads the AST: it replays the schema over the version
 * tree (walk.c), checks every statement against the schema as it stands at
 * that point of the history (check.c, with names in check_names.c and keys
 * and columns in check_keys.c), and records the model the back end reads:
 * each version's step IR (ir.h), notices and breaking changes (plan.h).
 * The lints run after it, over the IR (lint.c).
 *
 * This header is internal to those files.
 */
#ifndef UPG_COMPILER_CHECK_H
#define UPG_COMPILER_CHECK_H

#include <stdbool.h>

#include "compiler/ir.h"
#include "compiler/plan.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "grammar/ast.h"

struct checker {
    struct plan *plan;
    struct arena *arena;
    struct diag_sink *diag;
    struct schema schema;
    struct plan_version *ver;    /* the version being checked */
    const struct ast_stmt *stmt; /* the statement being checked */
    struct ir_stmt *ir_stmt;     /* its record in the IR */
    struct hmap breaking_ids;    /* id -> struct src_span * of its first use */
};

/* Pending constraints of a column definition, realised once the column exists. */
struct col_extras {
    const struct ast_colcons *pk, *unique, *fk, *check;
    const struct sm_value *fill; /* fill v: what the rows of the table get (add column) */
    const struct ast_colcons *fill_at;
};

/* The passes (driver.c calls them). Each returns the number of errors it reported. */
int pass_resolve(struct plan *p, const struct ast_file *ast, struct arena *a, struct diag_sink *d);
int pass_check(struct plan *p, struct arena *a, struct diag_sink *d);

/* walk.c calls this for each version, with the schema at its parent. */
void check_version(struct checker *ck, struct plan_version *v);

/* --- typeres.c: written types and literals into the model ----------------- */

/*
 * Resolves a written type. On an unknown name or bad parameters it reports
 * E0401/E0402 to d and returns false (out is then a usable stand-in: text).
 */
bool type_resolve(const struct ast_type *t, struct sm_type *out, struct diag_sink *d);
/* The type kind called name (no parameters); false when there is none. */
bool type_kind_lookup(const char *name, enum type_kind *out);
/* The dialect a declared type names, when the plan declares it; else reports E0306/E0502. */
const struct dialect *declared_dialect(const struct plan *p, const struct ast_ident *name,
                                       struct diag_sink *d);
/* Whether a declared type (as sqlite "DATETIME") is one the dialect takes; else reports E0507. */
bool declared_type_ok(const struct dialect *dl, const struct ast_string *type, struct diag_sink *d);
/* A literal as a value of the model (arena-allocated); NULL for NULL input. */
const struct sm_value *value_of(struct arena *a, const struct ast_literal *lit);
/* The legacy forms' names against every table state of the versions (walk.c). */
void check_legacy_names(struct plan *p, struct arena *a, struct diag_sink *d);
enum sm_fk_action fk_action_of(enum ast_fk_action a);

/* --- check_names.c -------------------------------------------------------- */

const char *tstr(const struct sm_type *t, char *buf);
/* A table created in an earlier version may hold rows; one created in this version cannot. */
bool has_rows(const struct checker *ck, const struct sm_table *t);
/* A plan name or a breaking change id: letters, digits, '-', '_' and '.', at least one. */
bool plain_name(const char *s);
/* The i-th dialect, in registry order, if the plan declares it; else NULL (for i < DIALECT_COUNT). */
const struct dialect *declared(const struct checker *ck, size_t i);
bool check_name_length(struct checker *ck, const char *name, struct src_span at, const char *what);
bool claim_name(struct checker *ck, const char *name, struct src_span at, const char *what);
struct sm_gone *gone(struct checker *ck, const char *kind, const char *name, const char *renamed_to,
                     struct src_span at);
struct sm_table *find_table(struct checker *ck, const struct ast_ident *id);
struct sm_column *find_column(struct checker *ck, struct sm_table *t, const struct ast_ident *id);
struct sm_column **find_columns(struct checker *ck, struct sm_table *t,
                                const ast_ident_list *names);
/* Reports E0322 (with a hint) for a drop index of a name that is no index. */
void unknown_index(struct checker *ck, const struct ast_ident *name);
/* Reports E0323 (with a hint) for a constraint t does not have. */
void unknown_constraint(struct checker *ck, struct sm_table *t, const struct ast_ident *name);
/* "Did you mean" for a name among candidates. */
struct suggest {
    const char *target;
    const char *best;
    size_t dist;
};
void suggest_init(struct suggest *s, const char *target);
void suggest_try(struct suggest *s, const char *candidate);
void suggest_help(struct checker *ck, const struct suggest *s);

/* --- check_keys.c --------------------------------------------------------- */

struct sm_column *build_column(struct checker *ck, const struct ast_column *ac,
                               struct col_extras *ex);
bool column_name_free(struct checker *ck, struct sm_table *t, const char *name, struct src_span at,
                      const struct sm_column *except);
void add_column_keys(struct checker *ck, struct sm_table *t, struct sm_column *c,
                     const struct col_extras *ex);
void check_identity(struct checker *ck, struct sm_table *t, struct src_span at);
struct sm_key *table_constraint(struct checker *ck, struct sm_table *t, const struct ast_tcons *tc);
bool check_fk_dependents(struct checker *ck, const struct sm_table *t,
                         struct sm_column *const *cols, size_t n, const void *going,
                         struct src_span at, const char *what, const char *name);
bool column_unused(struct checker *ck, struct sm_table *t, struct sm_column *c, struct src_span at);
bool fk_types_hold(struct checker *ck, struct sm_table *t, struct sm_column *c,
                   const struct sm_type *to, struct src_span at);

#endif
