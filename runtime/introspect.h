/* SPDX-License-Identifier: MIT */
/*
 * introspect.h: reading a live database's schema into the canonical form of
 * canon.h: sqlite_schema and the table-valued pragmas on SQLite, the system
 * catalogs on PostgreSQL (the tables of the current schema).
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

#endif
