/* SPDX-License-Identifier: MIT */
/*
 * plan.h: the checked plan, the pivot of the compiler: header, dialects and
 * the version tree (the resolve pass builds them from the raw tree), and per
 * version its notices, breaking changes, step IR and lint findings (the check
 * and lint passes). Everything after the checker reads this and ir.h, never
 * the AST: the two AST pointers below are opaque to the back end, which is
 * compiled with UPG_NO_AST (the grammar's tree header refuses to be included there).
 */
#ifndef UPG_COMPILER_PLAN_H
#define UPG_COMPILER_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/diag.h"
#include "core/hmap.h"
#include "compiler/dialect.h"
#include "compiler/schema.h"
#include "compiler/version.h"

struct ast_file; /* the front end's; opaque here */
struct ast_version;
struct ir_step;

/* A lint finding of a version (the lint pass), allowed or not: what operators are told. */
struct plan_finding {
    const char *lint;              /* "table_rewrite" */
    const struct dialect *dialect; /* the dialect it concerns, or NULL for all */
    const char *message;
};

/* A notice of a version, for operators. */
struct plan_notice {
    bool warning; /* level warning (else info) */
    const char *text;
};

/* A breaking change of a version, which operators acknowledge by its id. */
struct plan_breaking {
    const char *id;
    const char *text;
};

struct plan_version {
    const char *name; /* as written: "6.1" */
    struct semver sv;
    const struct ast_version *ast; /* the front end's only */
    struct plan_version *parent;   /* NULL for the first version (from an empty database) */
    struct sm_list children;       /* struct plan_version *, in declaration order */
    size_t index;                  /* declaration order, from 0 */
    bool ok;                       /* header valid and parent known: its statements are checked */
    /* Filled by the check pass (for the versions it checks): */
    struct plan_notice *notices; /* in the plan's order */
    size_t nnotices;
    struct plan_breaking *breaking;
    size_t nbreaking;
    struct ir_step *ir; /* the operations of the step from parent to this version */
    /* Filled by the lint pass: */
    struct sm_list findings; /* struct plan_finding * */
};

struct plan {
    const struct ast_file *ast; /* the front end's only */
    const char *name;           /* NULL when the header is missing */
    const char *title;
    const char *description;
    unsigned dialects; /* bit (1 << enum dialect_id) per declared dialect */
    /* types DIALECT { TYPE as "declared"; }: the type a dialect declares a portable type with,
     * unless a column says otherwise; NULL: the dialect's own */
    const char *declared[DIALECT_COUNT][TY_COUNT];
    enum dialect_id dialect_order[DIALECT_COUNT];
    size_t ndialects;
    struct plan_version **versions;
    size_t nversions;
    struct hmap by_name; /* canonical version text -> struct plan_version * */
    /* Filled by the check and lint passes. */
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

/* The canonical text of a version ("7.0.0-preview.1"), the key of plan.by_name. */
const char *plan_version_key(struct arena *a, const struct semver *v);

void plan_free(struct plan *p);

#endif
