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
 * The value of a PostgreSQL default as pg_get_expr() prints it, when it is
 * one constant, possibly cast and parenthesised ('abc'::text, (-1), 0.00,
 * true): a malloc'd string; NULL for NULL::type. Any other expression
 * ('a'::text || 'b'::text, nextval(...), now()) is returned whole, as
 * PostgreSQL printed it, so that it never reads as the value it starts with.
 */
char *canon_pg_default_value(const char *expr);

/*
 * The value of a SQLite default as PRAGMA table_info reports it: a string
 * literal ('abc') is its value, NULL is NULL, anything else (-1,
 * CURRENT_TIMESTAMP, (expr)) is kept as written.
 */
char *canon_sqlite_default_value(const char *dflt);

/*
 * How SQLite makes a random (version 4) UUID as a default: it has no UUID
 * function. The compiler writes it in a DEFAULT clause; the runtime reads it
 * back as the portable expression random_uuid.
 */
#define CANON_SQLITE_RANDOM_UUID                                                                    \
    "(lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || "                    \
    "substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || " \
    "substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))))"

/*
 * A default in canonical form, from what the database reports: JSON null
 * (no default, or NULL); a string, for a constant (its value, normalised by
 * canon_default() for the column's type); {"expr": NAME} for one of the
 * portable expressions a plan may give (current_timestamp, current_date,
 * random_uuid), however the database spells it; {"sql": TEXT} for any other
 * expression, as the database printed it. So the string 'CURRENT_TIMESTAMP'
 * and the expression are told apart, and so are 'false' and false (SQLite
 * reads the keywords TRUE and FALSE as 1 and 0, which is what they store).
 * type is the column's type as the catalogue reports it. Returns a new
 * reference, or NULL when out of memory.
 */
json_t *canon_pg_default(const char *type, const char *expr);
json_t *canon_sqlite_default(const char *type, const char *dflt);

/* Sorts the arrays of a schema in place, as the form above requires. */
void canon_sort(json_t *schema);

/* One difference between an expected and a live schema. */
enum canon_change {
    CANON_MISSING,    /* expected, not in the live schema */
    CANON_UNEXPECTED, /* in the live schema, not expected */
    CANON_DIFFERS,    /* in both, with one member (field) different */
};

struct canon_drift {
    enum canon_change change;
    const char *table;      /* the table it is in (or is) */
    const char *object;     /* "table", "column", "primary key", "unique constraint", "foreign key",
                           "check constraint", "index" */
    const char *name;       /* the object's name; NULL when the dialect keeps none (SQLite's primary
                           and foreign keys: expected or found then say which one) */
    const char *field;      /* CANON_DIFFERS: the member that differs ("type", "not_null",
                           "default", "identity", "columns", "unique", "on_delete", ...); NULL
                           otherwise */
    const json_t *expected; /* CANON_DIFFERS: the member's expected value (may be NULL when the
                               member is absent); CANON_MISSING: the whole object; else NULL */
    const json_t *found;    /* likewise, in the live schema */
    const char *text;       /* the sentence: table "T": column "c" differs in not_null:
                               expected false, found true */
};

/*
 * Calls report(arg, item) once per difference between the expected and the
 * live schema, in a stable order (the expected tables first, by name; for
 * each, columns, primary key, unique constraints, foreign keys, checks,
 * indexes; then unexpected tables), and returns how many there are. An
 * object that differs in several members is reported once per member.
 * Everything item points to is borrowed for the call. report may be NULL
 * (only the count).
 */
size_t canon_diff_items(const json_t *expected, const json_t *live,
                        void (*report)(void *arg, const struct canon_drift *item), void *arg);

/* The same, with only each difference's sentence (report may be NULL). */
size_t canon_diff(const json_t *expected, const json_t *live,
                  void (*report)(void *arg, const char *text), void *arg);

/*
 * Building the schema at a version from a bundle's schema deltas
 * (docs/bundle-format.md): start with canon_tables_new(), apply each step's
 * delta in order with canon_delta_apply(), and get the schema with
 * canon_tables_schema(). In between, a table's arrays are kept as objects by
 * each element's name (an unnamed one by its compact text), so that a patch
 * costs what it changes, not the width of the table.
 */
json_t *canon_tables_new(void);

/* Applies one delta; false, with the reason in why, when it is not a delta that fits. */
bool canon_delta_apply(json_t *tables, const json_t *delta, char *why, size_t whylen);

/* The schema ({"tables": [...]}, sorted) that tables holds; a new reference, or NULL (memory). */
json_t *canon_tables_schema(json_t *tables);

/* The serialisation used in files and comparisons: sorted keys, two-space indent. */
char *canon_dump(const json_t *schema);

#endif
