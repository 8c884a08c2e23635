/* SPDX-License-Identifier: MIT */
/*
 * lint.h: the lints, and the lint pass over the step IR.
 *
 * A lint names a risky change: one that loses data, may fail on existing
 * values, or costs a database a rewrite, a lock or a rebuild of a table. The
 * portable ones (data loss, narrowing) are decided here; what an operation
 * costs a database is decided by its dialect (struct dialect's costs()),
 * asked for every dialect the plan declares. A table created in the same
 * version has no rows yet, so its changes are never linted.
 *
 * A finding is a warning unless its statement says "allow <lint>"; either
 * way it is recorded with its version (plan_version.findings): the bundle and
 * the guide tell operators about every finding. An allow that suppresses
 * nothing on a statement checked without error is itself a warning (W0301).
 *
 * Previous pass: check (the IR). Next: the lowerings.
 */
#ifndef UPG_COMPILER_LINT_H
#define UPG_COMPILER_LINT_H

#include <stdbool.h>

#include "core/arena.h"
#include "core/diag.h"
#include "core/util.h"

enum lint_id {
    LINT_DATA_LOSS,
    LINT_TABLE_REWRITE,
    LINT_TABLE_LOCK,
    LINT_SQLITE_REBUILD,
    LINT_NARROWING,
    LINT_COUNT
};

/* "table_rewrite": the name that "allow" takes. */
const char *lint_name(enum lint_id l);
/* "W0401" */
const char *lint_code(enum lint_id l);
/* The lint called name; false when there is none. */
bool lint_lookup(const char *name, enum lint_id *out);
/* "data_loss, table_rewrite, table_lock, sqlite_rebuild and narrowing" */
const char *lint_names_text(void);

struct plan;
struct lint_report;

/*
 * From a dialect's costs(): one finding of the operation being linted.
 * why is the note that explains it (or NULL); the message names the table.
 */
void lint_report(struct lint_report *r, enum lint_id l, const char *why, const char *fmt, ...)
    PRINTF(4, 5);
/* The same with the help line given (else: add "allow NAME" to the statement). */
void lint_report_help(struct lint_report *r, enum lint_id l, const char *why, const char *help,
                      const char *fmt, ...) PRINTF(5, 6);

/* The lint pass over every checked version. Returns the number of errors it reported (-Werror). */
int pass_lint(struct plan *p, struct arena *a, struct diag_sink *d);

#endif
