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

/*
 * legacy DIALECT { table T { ... } }: a way in which the schema of a real
 * installation (one the product's own migrations built) may differ from the
 * plan's, on one dialect, at any version where the table has that column.
 * uprun verify and baseline accept exactly these, and say so.
 */
enum plan_legacy_kind {
    PLAN_LEGACY_NULLABLE, /* the column may be nullable */
    PLAN_LEGACY_DEFAULT,  /* it may have this default (dflt: as the database reports it) */
    PLAN_LEGACY_TYPE,     /* it may be declared with this type (declared) */
    PLAN_LEGACY_NO_FK     /* the foreign key on cols may be missing */
};

struct plan_legacy {
    enum plan_legacy_kind kind;
    const struct dialect *dialect;
    const char *table;
    const char *column; /* NULL for PLAN_LEGACY_NO_FK */
    const struct sm_value *dflt;
    const char *declared;
    const char **cols;
    size_t ncols;
    struct src_span span;
};

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

/* The longest version text: a step's file name, "NNNN-FROM-to-TO.schema.json" in its dialect's
 * folder, must fit the 255 bytes of a bundle path (docs/bundle-format.md). */
#define UPG_VERSION_MAX 100

struct plan_version {
    const char *name; /* as written: "6.1" */
    struct semver sv;
    const struct ast_version *ast; /* the front end's only */
    struct plan_version *parent;   /* NULL for the first version (from an empty database) */
    /* merges "M": a version on a line that parts from parent (a hotfix), whose changes this
     * version takes in. Its statements are written, and checked, on top of M's schema; the step
     * from parent replays the line's steps first (a composite step, built by pass_merge), and a
     * derived step (merge_step) leads from M. NULL without merges. */
    struct plan_version *merged;
    struct plan_version *merge_step;       /* the derived step M -> this version: a plan_version of
                                        its own (name and schema this one's, parent M, the own
                                        statements' IR), listed in plan.derived */
    const struct plan_version *derived_of; /* set on a derived step: the version it leads to */
    struct sm_list children; /* struct plan_version *: the versions checked on top of this
                                one's schema (those that follow it, and those that merge it),
                                in declaration order */
    size_t index;            /* declaration order, from 0; a derived step: nversions + its place in
                     plan.derived. Its step's number in the bundle is index + 1. */
    bool ok;                 /* header valid and parent known: its statements are checked */
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
    struct plan_legacy *legacy; /* in the plan's order */
    size_t nlegacy;
    size_t ndialects;
    struct plan_version **versions;
    size_t nversions;
    /* the derived steps (plan_version.merge_step), in the order of the versions they lead to;
     * the bundle numbers them after the versions' own steps */
    struct plan_version **derived;
    size_t nderived;
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
 * The steps that lead from `from` (NULL: an empty database) up to `to`, in
 * the order they apply, into an array the caller frees: each is the version
 * it leads to (the step from its parent) or a derived step (merge_step, from
 * the version it merges). The path is the shortest; without merges it is the
 * only one. Returns its length, or SIZE_MAX when `to` cannot be reached from
 * `from` (no path).
 */
size_t plan_path(const struct plan *p, struct plan_version *from, struct plan_version *to,
                 struct plan_version ***out);

/*
 * The way from every version to `to`: next[i] is the first step of the
 * shortest path from p->versions[i] (next[p->nversions]: from an empty
 * database), NULL when there is none or the version is `to`. next has
 * p->nversions + 1 entries. Linear in the plan.
 */
void plan_ways(const struct plan *p, const struct plan_version *to, struct plan_version **next);

/* Whether a database at `from` (NULL: empty) can be upgraded to `to`. */
bool plan_reaches(const struct plan *p, const struct plan_version *from,
                  const struct plan_version *to);

/* The 1-based number of a step in the bundle: a version's own, or a derived step's (after
 * all the versions'). */
size_t plan_step_number(const struct plan *p, const struct plan_version *step);

/* The last version declared (the default target), or NULL. */
struct plan_version *plan_last(const struct plan *p);

/* The canonical text of a version ("7.0.0-preview.1"), the key of plan.by_name. */
const char *plan_version_key(struct arena *a, const struct semver *v);

void plan_free(struct plan *p);

#endif
