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

#include "compiler/core/arena.h"
#include "compiler/core/diag.h"
#include "compiler/core/hmap.h"
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

struct plan_version {
    const char *name;        /* as written: "6.1" */
    struct semver sv;
    struct ast_version *ast;
    struct plan_version *parent; /* NULL for the first version (from an empty database) */
    struct sm_list children;     /* struct plan_version *, in declaration order */
    size_t index;                /* declaration order, from 0 */
    bool ok;                     /* header valid and parent known: its statements are checked */
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

/* The passes. Each returns the number of errors it reported. */
int pass_resolve(struct plan *p, struct ast_file *ast, struct arena *a, struct diag_sink *d);
int pass_check(struct plan *p, struct arena *a, struct diag_sink *d);

void plan_free(struct plan *p);

#endif
