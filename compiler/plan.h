/* SPDX-License-Identifier: MIT */
/*
 * plan.h: the checked plan: header, dialects and the version tree, as the
 * resolve pass builds them from the raw tree. The check pass then replays
 * the schema over the tree; later passes lower it to SQL.
 */
#ifndef UPG_COMPILER_PLAN_H
#define UPG_COMPILER_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/diag.h"
#include "core/hmap.h"
#include "compiler/schema.h"
#include "compiler/version.h"
#include "grammar/ast.h"

enum dialect_id { DIALECT_POSTGRES, DIALECT_SQLITE, DIALECT_COUNT };

/* "postgres", "sqlite" */
const char *dialect_name(enum dialect_id d);
/* Looks a dialect up by its name in the language; false when unknown. */
bool dialect_lookup(const char *name, enum dialect_id *out);

/* PostgreSQL truncates longer names (NAMEDATALEN - 1). */
#define PG_MAX_IDENT_BYTES 63

struct ir_step;
struct snap_table;

/* A lint finding of a version (recorded with the IR), allowed or not: what operators are told. */
struct plan_finding {
    const char *lint;    /* "table_rewrite" */
    const char *dialect; /* the dialect it concerns, or NULL for all */
    const char *message;
};

struct plan_version {
    const char *name;        /* as written: "6.1" */
    struct semver sv;
    struct ast_version *ast;
    struct plan_version *parent; /* NULL for the first version (from an empty database) */
    struct sm_list children;     /* struct plan_version *, in declaration order */
    size_t index;                /* declaration order, from 0 */
    bool ok;                     /* header valid and parent known: its statements are checked */
    /* Recorded by the check pass when plan.record_ir is set, for the lowerings: */
    struct ir_step *ir;              /* the operations of the step from parent to this version */
    struct snap_table **schema;      /* every table after this version, sorted by name */
    size_t ntables;
    struct sm_list findings;         /* struct plan_finding * */
};

struct plan {
    struct ast_file *ast;
    const char *name; /* NULL when the header is missing */
    const char *title;
    const char *description;
    unsigned dialects; /* bit (1 << enum dialect_id) per declared dialect */
    enum dialect_id dialect_order[DIALECT_COUNT];
    size_t ndialects;
    struct plan_version **versions;
    size_t nversions;
    struct hmap by_name; /* canonical version text -> struct plan_version * */
    /* Set before the check pass to record the step IR (compiler/ir.h). */
    bool record_ir;
    /* Filled by the check pass. */
    size_t nstatements;
    size_t nallowed; /* lint findings accepted by an "allow" */
};

static inline bool
plan_has_dialect(const struct plan *p, enum dialect_id d)
{
    return (p->dialects >> d) & 1u;
}

/* The version named text (by semantic equality: "7.0" finds "7.0.0"), or NULL. */
struct plan_version *plan_find_version(const struct plan *p, struct arena *a, const char *text);

/*
 * The versions whose steps lead from `from` (NULL: an empty database) up to
 * `to`, in the order they apply, into an array the caller frees. Returns
 * their number, or SIZE_MAX when `to` does not follow `from` (no path).
 */
size_t plan_path(const struct plan *p, struct plan_version *from, struct plan_version *to,
                 struct plan_version ***out);

/* The last version declared (the default target), or NULL. */
struct plan_version *plan_last(const struct plan *p);

/* The passes. Each returns the number of errors it reported. */
int pass_resolve(struct plan *p, struct ast_file *ast, struct arena *a, struct diag_sink *d);
int pass_check(struct plan *p, struct arena *a, struct diag_sink *d);

void plan_free(struct plan *p);

#endif
