/* SPDX-License-Identifier: MIT */
/*
 * canon.h: the canonical form of a database schema, the one form in which
 * the compiler writes the schema a plan expects after each step (from its
 * model) and the runtime reads a live database (introspect.c). Two schemas
 * are the same when their canonical forms are equal; canon_diff() names
 * every difference.
 *
 * The form is JSON:
 *
 *   {"tables": [                                   sorted by name
 *     {"name": "Clients",
 *      "columns": [                                sorted by name
 *        {"name": "Id", "type": "integer", "not_null": true, "default": null, "identity": true}],
 *      "primary_key": {"name": "PK_Clients", "columns": ["Id"]} | null,
 *      "unique": [{"name": ..., "columns": [...]}],                     sorted by name
 *      "foreign_keys": [{"name": ..., "columns": [...], "ref_table": ...,
 *                        "ref_columns": [...], "on_delete": "cascade"}],  sorted
 *      "checks": ["CK_..."],                                            sorted
 *      "indexes": [{"name": ..., "unique": true, "columns": [...]}]}]}   sorted by name
 *
 * Types are the dialect's own spelling (PostgreSQL's format_type(), SQLite's
 * declared type). Defaults are normalised values (canon_default()). What a
 * dialect does not keep is left out on both sides: SQLite has no names for
 * primary and foreign keys and no introspectable checks, and its unique
 * constraints are unique indexes. Column order is not compared: PostgreSQL
 * cannot put a re-added column back in its place.
 */
#ifndef UPG_RUNTIME_CANON_H
#define UPG_RUNTIME_CANON_H

#include <jansson.h>
#include <stdbool.h>

/*
 * Normalises a default value given as the value itself (not SQL: no
 * quotes): numbers lose trailing fractional zeros, JSON is re-serialised
 * compactly with sorted keys, UUIDs are lower-cased, times lose trailing
 * fractional zeros. type is the dialect's type name. Returns a malloc'd
 * string, or NULL when out of memory.
 */
char *canon_default(const char *type, const char *value);

/*
 * The value of a PostgreSQL default expression as pg_get_expr() prints it
 * ('abc'::text, (-1), 0.00, true, NULL::integer): a malloc'd string, or NULL
 * when the expression is not a constant (then the expression itself is kept).
 */
char *canon_pg_default_value(const char *expr);

/* The value of a SQLite default as PRAGMA table_info reports it ('abc', -1, NULL). */
char *canon_sqlite_default_value(const char *dflt);

/* Sorts the arrays of a schema in place, as the form above requires. */
void canon_sort(json_t *schema);

/*
 * Calls report(arg, text) once per difference between the expected and the
 * live schema ("table \"T\": column \"c\" is missing"), and returns how many.
 */
size_t canon_diff(const json_t *expected, const json_t *live,
                  void (*report)(void *arg, const char *text), void *arg);

/* The serialisation used in files and comparisons: sorted keys, two-space indent. */
char *canon_dump(const json_t *schema);

#endif
