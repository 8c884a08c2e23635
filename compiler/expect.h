/* SPDX-License-Identifier: MIT */
/*
 * expect.h: the schema a database must have after a version, per dialect,
 * in the canonical form of runtime/canon.h. It is what the integration
 * tests compare a live database with after each step, and what the bundle
 * will carry for uprun's drift check.
 */
#ifndef UPG_COMPILER_EXPECT_H
#define UPG_COMPILER_EXPECT_H

#include <jansson.h>

#include "compiler/ir.h"
#include "compiler/plan.h"

/* The canonical type name of t in dialect d (PostgreSQL's format_type(), SQLite's declared type). */
void expect_type_name(struct strbuf *out, const struct sm_type *t, enum dialect_id d);

/*
 * The expected schema after version v (NULL: an empty database), which must
 * have been checked with the IR recorded. A new reference; the caller
 * json_decref()s it.
 */
json_t *expect_schema(const struct plan_version *v, enum dialect_id d);

#endif
