/* SPDX-License-Identifier: MIT */
/*
 * expect.h: the schema a database must have after a version, per dialect,
 * in the canonical form of runtime/canon.h: what the integration tests
 * compare a live database with after each step, and what the bundle carries
 * (per step, what changed) for uprun's drift check.
 */
#ifndef UPG_COMPILER_EXPECT_H
#define UPG_COMPILER_EXPECT_H

#include <jansson.h>

#include "compiler/ir.h"
#include "compiler/plan.h"

/* One table in canonical form, as dialect d's catalogue reports it: as text (compact JSON, keys
 * and arrays sorted) appended to out, or as JSON. */
void expect_table_text(struct strbuf *out, const struct snap_table *t, const struct dialect *d);
json_t *expect_table(const struct snap_table *t, const struct dialect *d);

/*
 * The expected schema after version v (NULL: an empty database), replayed
 * from the deltas of the steps that lead to it. A new reference; the caller
 * json_decref()s it.
 */
json_t *expect_schema(const struct plan_version *v, enum dialect_id d);

/*
 * What the step to v changes in the expected schema (ir.h's struct
 * ir_delta), as a bundle's schema file holds it (docs/bundle-format.md):
 *
 *   {"changed": [
 *   table,
 *   ...
 *   ], "removed": ["name", ...]}
 *
 * the tables the step creates or changes, in canonical form sorted by name,
 * one a line, and the names of the tables of the parent's schema that are
 * gone. malloc'd.
 */
char *expect_delta_text(const struct plan_version *v, enum dialect_id d);

#endif
