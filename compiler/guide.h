/* SPDX-License-Identifier: MIT */
/*
 * guide.h: the human side of a plan, from the same checked model as the
 * SQL: `upc guide` (the upgrade guide, Markdown, in the spirit of the guides
 * maintainers write by hand) and `upc graph` (the versions and steps as
 * Graphviz DOT). Both need the step IR (compile with record_ir).
 *
 * Neither adds a fact of its own: every sentence is a statement of the plan
 * in plain words (a new table, a column gained, a type changed), a notice or
 * breaking change as written, a lint finding as the checker words it, or the
 * uprun command that applies or rolls back the step.
 */
#ifndef UPG_COMPILER_GUIDE_H
#define UPG_COMPILER_GUIDE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/strbuf.h"
#include "compiler/plan.h"

/* What one step (from v's parent to v) does, counted for overviews and edge labels. */
struct step_summary {
    size_t new_tables, dropped_tables, renamed_tables, changed_tables;
    size_t sql_blocks;
    size_t notices, warnings, breaking;
    bool lossy; /* the up-step drops data (a table or column that may hold rows) */
    unsigned
        irreversible_in; /* bit per dialect (of those asked for) where a sql block cannot be undone */
    bool rewrites; /* a finding (of those dialects) says a table is rewritten, rebuilt or locked */
};

/* The summary of v's step, for the dialects in the bit mask (1 << enum dialect_id). */
void step_summarize(const struct plan_version *v, unsigned dialects, struct step_summary *s);
/* "1 new table, 2 tables changed", or "no schema change"; appended to out. */
void step_summary_text(const struct step_summary *s, struct strbuf *out);

struct guide_opts {
    struct plan_version *from; /* NULL: from an empty database */
    struct plan_version *to;   /* the last version covered */
    const char *plan_file;     /* the plan's file name, as the guide names it */
    unsigned dialects;         /* bit per dialect covered (0: the plan's) */
};

/*
 * Writes the guide of the path from o->from to o->to (which must follow
 * it) into out. The plan must be checked clean with the IR recorded.
 */
void guide_write(const struct plan *p, const struct guide_opts *o, struct strbuf *out);

/* Writes the whole version tree as a DOT digraph into out. */
void graph_write(const struct plan *p, struct strbuf *out);

#endif
