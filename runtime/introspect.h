/* SPDX-License-Identifier: MIT */
/*
 * introspect.h: reading a live database's schema into the canonical form of
 * canon.h. Each driver reads its own catalogue (struct db_driver.introspect):
 * sqlite_schema and the table-valued pragmas on SQLite, the system catalogs
 * on PostgreSQL (the tables of the current schema). One query per table and
 * kind of object; identifiers travel as query parameters, never pasted into
 * SQL; multi-column keys are read one row per column, with their ordinal.
 */
#ifndef UPG_RUNTIME_INTROSPECT_H
#define UPG_RUNTIME_INTROSPECT_H

#include <jansson.h>

#include "runtime/db.h"

/*
 * Reads every table but `exclude` (the history table; NULL for none) into a
 * new canonical schema the caller frees with json_decref(). Returns 0, or -1
 * with err filled.
 */
int introspect(struct db *db, const char *exclude, json_t **out, struct rt_error *err);

/* For the drivers' introspect(): the pieces of the canonical form. */
json_t *introspect_str(const char *s); /* a string, or null */
/* A table with no columns, keys or indexes yet. */
json_t *introspect_table(const char *name);
/* A column; takes dflt (a canonical default, canon.h; NULL: none). */
json_t *introspect_column(const char *name, const char *type, bool not_null, json_t *dflt,
                          bool identity);
/* A foreign key action, as SQLite spells it or as PostgreSQL's letter: "cascade", ... */
const char *introspect_action(const char *a);

#endif
