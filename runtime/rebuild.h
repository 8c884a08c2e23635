/* SPDX-License-Identifier: MIT */
/*
 * rebuild.h: keeping a SQLite table rebuild from destroying what the plan
 * does not know.
 *
 * SQLite cannot change a column in place, so a step rebuilds the table the
 * way SQLite's documentation says (CREATE TABLE new_T, copy the rows, DROP
 * TABLE T, ALTER TABLE new_T RENAME TO T, re-create T's indexes). The step
 * is compiled from the plan's model, so it re-creates what the plan knows
 * and nothing else: a column added by hand would be dropped with its data,
 * an index added by hand would vanish, and the triggers and views of sql
 * blocks (which no model describes) would be lost or, for a view that names
 * T, make the RENAME fail.
 *
 * So, inside the step's transaction, before its statements:
 *   - rebuild_tables() finds the tables the step rebuilds (a DROP TABLE of T
 *     followed by a RENAME TO T);
 *   - rebuild_prepare() refuses the step when a rebuilt table has a column,
 *     a unique constraint or a foreign key that the schema before the step
 *     does not have (those are in the table's definition, which the step
 *     replaces: they cannot be carried), and otherwise notes what to carry:
 *     the indexes of the table the plan does not know, the triggers on it or
 *     naming it, and the views naming it (and those naming them), whose
 *     definitions it keeps; the views and the triggers of other tables among
 *     them are dropped first, so that the RENAME succeeds;
 * and after the statements, rebuild_restore() re-creates each carried
 * object that does not exist again, in the order they were first created,
 * then has SQLite check every view and trigger against the new tables (a
 * RENAME COLUMN of a column to itself, which changes nothing but fails on
 * "error in view v: no such column: c"): SQLite creates views and triggers
 * without resolving their names, so a re-created one that names a column
 * the step dropped would otherwise break silently. Such an object fails
 * the step, named.
 */
#ifndef UPG_RUNTIME_REBUILD_H
#define UPG_RUNTIME_REBUILD_H

#include <jansson.h>
#include <stddef.h>

#include "runtime/db.h"

struct rebuild_object {
    char *type; /* "index", "trigger", "view" */
    char *name;
    char *table; /* the table (or view) it belongs to */
    char *sql;   /* its definition, as sqlite_schema keeps it */
};

struct rebuild_plan {
    struct rebuild_object *carry; /* in sqlite_schema order (the order of creation) */
    size_t ncarry;
    char **tables; /* the rebuilt tables */
    size_t ntables;
};

/*
 * The tables that the statements in sql (len bytes) rebuild, into a
 * malloc'd array of malloc'd names (*out; free with rebuild_tables_free).
 * Returns how many (0: none, and *out is NULL).
 */
size_t rebuild_tables(const char *sql, size_t len, char ***out);
void rebuild_tables_free(char **names, size_t n);

/*
 * Before the statements of a step that rebuilds tables[] (inside its
 * transaction): expected is the canonical schema the step starts from, live
 * the database's (canon.h). Returns 0 with *plan filled (free with
 * rebuild_plan_free, even on failure); 1 when the step must be refused (err
 * names the table and the object); -1 on a database error.
 */
int rebuild_prepare(struct db *db, char *const *tables, size_t ntables, const json_t *expected,
                    const json_t *live, struct rebuild_plan *plan, struct rt_error *err);

/*
 * After the statements: re-creates each carried object that is gone,
 * calling carried(arg, object) for each. Returns 0; 1 when one could not
 * be re-created (err names it and says why); -1 on a database error.
 */
int rebuild_restore(struct db *db, const struct rebuild_plan *plan,
                    void (*carried)(void *arg, const struct rebuild_object *o), void *arg,
                    struct rt_error *err);

void rebuild_plan_free(struct rebuild_plan *plan);

#endif
