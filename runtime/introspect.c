/* SPDX-License-Identifier: MIT */
/*
 * introspect.c: a live schema in canonical form (canon.h). One query per
 * table and kind of object; identifiers travel as query parameters, never
 * pasted into SQL. Multi-column keys are read one row per column (with
 * their ordinal) rather than as PostgreSQL array literals, which names with
 * commas or quotes would make ambiguous.
 */
#include "runtime/introspect.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/canon.h"

static json_t *
str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *
new_table(const char *name)
{
    json_t *t = json_object();

    json_object_set_new(t, "name", json_string(name));
    json_object_set_new(t, "columns", json_array());
    json_object_set_new(t, "primary_key", json_null());
    json_object_set_new(t, "unique", json_array());
    json_object_set_new(t, "foreign_keys", json_array());
    json_object_set_new(t, "checks", json_array());
    json_object_set_new(t, "indexes", json_array());
    return t;
}

static json_t *
new_column(const char *name, const char *type, bool not_null, json_t *dflt, bool identity)
{
    json_t *c = json_object();

    json_object_set_new(c, "name", json_string(name));
    json_object_set_new(c, "type", json_string(type));
    json_object_set_new(c, "not_null", json_boolean(not_null));
    json_object_set_new(c, "default", dflt ? dflt : json_null());
    json_object_set_new(c, "identity", json_boolean(identity));
    return c;
}

static const char *
action_name(const char *a)
{
    /* SQLite spells them out; PostgreSQL has one letter (confdeltype) */
    if (!a)
        return "no action";
    if (strcmp(a, "c") == 0 || strcmp(a, "CASCADE") == 0)
        return "cascade";
    if (strcmp(a, "n") == 0 || strcmp(a, "SET NULL") == 0)
        return "set null";
    if (strcmp(a, "r") == 0 || strcmp(a, "RESTRICT") == 0)
        return "restrict";
    if (strcmp(a, "d") == 0 || strcmp(a, "SET DEFAULT") == 0)
        return "set default";
    return "no action";
}

/* --- SQLite ------------------------------------------------------------- */

/* True when word appears in s, ignoring ASCII case (SQLite keywords are case-insensitive). */
static bool
contains_word_nocase(const char *s, const char *word)
{
    size_t n = strlen(word);

    for (; s && *s; s++) {
        size_t i;
        for (i = 0; i < n && s[i]; i++) {
            char a = s[i], b = word[i];
            if (a >= 'a' && a <= 'z')
                a = (char)(a - 'a' + 'A');
            if (a != b)
                break;
        }
        if (i == n)
            return true;
    }
    return false;
}

static int
sqlite_table(struct db *db, const char *name, const char *sql, json_t *t, struct rt_error *err)
{
    const char *p[1] = {name};
    struct db_rows *r = NULL;
    json_t *pk_cols = json_array(), *fk = NULL;
    bool autoinc = contains_word_nocase(sql, "AUTOINCREMENT");
    size_t i, npk = 0;
    long last_id = -1;
    int rc = -1;

    /* columns; pk is the 1-based position in the primary key */
    if (db_query(db,
                 "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1) "
                 "ORDER BY pk",
                 p, 1, &r, err))
        goto done;
    for (i = 0; i < r->nrows; i++)
        if (atoi(db_cell(r, i, 4)) > 0)
            npk++;
    for (i = 0; i < r->nrows; i++) {
        int pk = atoi(db_cell(r, i, 4));
        const char *type = db_cell(r, i, 1) ? db_cell(r, i, 1) : "";
        bool identity = pk > 0 && npk == 1 && autoinc && strcmp(type, "INTEGER") == 0;
        json_array_append_new(json_object_get(t, "columns"),
                              new_column(db_cell(r, i, 0), type, strcmp(db_cell(r, i, 2), "0") != 0,
                                         canon_sqlite_default(type, db_cell(r, i, 3)), identity));
        if (pk > 0)
            json_array_append_new(pk_cols, json_string(db_cell(r, i, 0)));
    }
    if (json_array_size(pk_cols)) {
        json_t *pkj = json_object();
        json_object_set_new(pkj, "name", json_null()); /* SQLite does not keep it */
        json_object_set(pkj, "columns", pk_cols);
        json_object_set_new(t, "primary_key", pkj);
    }
    db_rows_free(r);
    r = NULL;
    /* foreign keys, one row per column */
    if (db_query(db,
                 "SELECT id, seq, \"table\", \"from\", \"to\", on_delete, on_update FROM "
                 "pragma_foreign_key_list(?1) ORDER BY id, seq",
                 p, 1, &r, err))
        goto done;
    for (i = 0; i < r->nrows; i++) {
        long id = strtol(db_cell(r, i, 0), NULL, 10);
        if (id != last_id) {
            fk = json_object();
            json_object_set_new(fk, "name", json_null());
            json_object_set_new(fk, "columns", json_array());
            json_object_set_new(fk, "ref_table", json_string(db_cell(r, i, 2)));
            json_object_set_new(fk, "ref_columns", json_array());
            json_object_set_new(fk, "on_delete", json_string(action_name(db_cell(r, i, 5))));
            json_object_set_new(fk, "on_update", json_string(action_name(db_cell(r, i, 6))));
            json_array_append_new(json_object_get(t, "foreign_keys"), fk);
            last_id = id;
        }
        json_array_append_new(json_object_get(fk, "columns"), json_string(db_cell(r, i, 3)));
        json_array_append_new(json_object_get(fk, "ref_columns"), str_or_null(db_cell(r, i, 4)));
    }
    db_rows_free(r);
    r = NULL;
    /* indexes made by CREATE INDEX (origin c); unique constraints would be origin u */
    if (db_query(db,
                 "SELECT l.name, l.\"unique\", l.origin, i.name FROM pragma_index_list(?1) l, "
                 "pragma_index_info(l.name) i WHERE l.origin <> 'pk' ORDER BY l.name, i.seqno",
                 p, 1, &r, err))
        goto done;
    {
        json_t *ix = NULL;
        const char *cur = NULL;
        for (i = 0; i < r->nrows; i++) {
            const char *iname = db_cell(r, i, 0);
            if (!cur || strcmp(cur, iname) != 0) {
                bool constraint = strcmp(db_cell(r, i, 2), "u") == 0;
                ix = json_object();
                json_object_set_new(ix, "name", json_string(iname));
                if (!constraint)
                    json_object_set_new(ix, "unique", json_boolean(strcmp(db_cell(r, i, 1), "0")));
                json_object_set_new(ix, "columns", json_array());
                json_array_append_new(json_object_get(t, constraint ? "unique" : "indexes"), ix);
                cur = iname;
            }
            json_array_append_new(json_object_get(ix, "columns"), str_or_null(db_cell(r, i, 3)));
        }
    }
    rc = 0;
done:
    db_rows_free(r);
    json_decref(pk_cols);
    return rc;
}

static int
introspect_sqlite(struct db *db, const char *exclude, json_t *tables, struct rt_error *err)
{
    const char *p[1] = {exclude ? exclude : ""};
    struct db_rows *r = NULL;
    size_t i;
    int rc = 0;

    if (db_query(db,
                 "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE "
                 "'sqlite\\_%' ESCAPE '\\' AND name <> ?1 ORDER BY name",
                 p, 1, &r, err))
        return -1;
    for (i = 0; i < r->nrows && rc == 0; i++) {
        json_t *t = new_table(db_cell(r, i, 0));
        rc = sqlite_table(db, db_cell(r, i, 0), db_cell(r, i, 1), t, err);
        json_array_append_new(tables, t);
    }
    db_rows_free(r);
    return rc;
}

/* --- PostgreSQL ----------------------------------------------------------- */

static int
pg_table(struct db *db, const char *oid, json_t *t, struct rt_error *err)
{
    const char *p[1] = {oid};
    struct db_rows *r = NULL;
    size_t i;
    int rc = -1;

    if (db_query(db,
                 "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
                 "pg_get_expr(d.adbin, d.adrelid), a.attidentity "
                 "FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND "
                 "d.adnum = a.attnum WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT "
                 "a.attisdropped ORDER BY a.attnum",
                 p, 1, &r, err))
        goto done;
    for (i = 0; i < r->nrows; i++) {
        const char *ident = db_cell(r, i, 4);
        json_array_append_new(
            json_object_get(t, "columns"),
            new_column(db_cell(r, i, 0), db_cell(r, i, 1), strcmp(db_cell(r, i, 2), "t") == 0,
                       canon_pg_default(db_cell(r, i, 1), db_cell(r, i, 3)), ident && *ident));
    }
    db_rows_free(r);
    r = NULL;
    /* primary keys, unique and foreign keys: one row per column, in key order */
    if (db_query(db,
                 "SELECT con.conname, con.contype, a.attname, confrel.relname, fa.attname, "
                 "con.confdeltype, con.confupdtype FROM pg_constraint con "
                 "CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, o) "
                 "JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum "
                 "LEFT JOIN pg_class confrel ON confrel.oid = con.confrelid "
                 "LEFT JOIN pg_attribute fa ON fa.attrelid = con.confrelid AND "
                 "fa.attnum = con.confkey[k.o] "
                 "WHERE con.conrelid = $1::oid AND con.contype IN ('p', 'u', 'f') "
                 "ORDER BY con.conname, k.o",
                 p, 1, &r, err))
        goto done;
    {
        json_t *k = NULL;
        const char *cur = NULL;
        for (i = 0; i < r->nrows; i++) {
            const char *name = db_cell(r, i, 0), *type = db_cell(r, i, 1);
            if (!cur || strcmp(cur, name) != 0) {
                k = json_object();
                json_object_set_new(k, "name", json_string(name));
                json_object_set_new(k, "columns", json_array());
                if (*type == 'f') {
                    json_object_set_new(k, "ref_table", json_string(db_cell(r, i, 3)));
                    json_object_set_new(k, "ref_columns", json_array());
                    json_object_set_new(k, "on_delete", json_string(action_name(db_cell(r, i, 5))));
                    json_object_set_new(k, "on_update", json_string(action_name(db_cell(r, i, 6))));
                    json_array_append_new(json_object_get(t, "foreign_keys"), k);
                } else if (*type == 'u') {
                    json_array_append_new(json_object_get(t, "unique"), k);
                } else {
                    json_object_set_new(t, "primary_key", k);
                }
                cur = name;
            }
            json_array_append_new(json_object_get(k, "columns"), json_string(db_cell(r, i, 2)));
            if (*type == 'f')
                json_array_append_new(json_object_get(k, "ref_columns"),
                                      str_or_null(db_cell(r, i, 4)));
        }
    }
    db_rows_free(r);
    r = NULL;
    if (db_query(db, "SELECT conname FROM pg_constraint WHERE conrelid = $1::oid AND contype = 'c'",
                 p, 1, &r, err))
        goto done;
    for (i = 0; i < r->nrows; i++)
        json_array_append_new(json_object_get(t, "checks"), json_string(db_cell(r, i, 0)));
    db_rows_free(r);
    r = NULL;
    /* indexes that no primary key or unique constraint owns */
    if (db_query(db,
                 "SELECT ic.relname, i.indisunique, a.attname FROM pg_index i "
                 "JOIN pg_class ic ON ic.oid = i.indexrelid "
                 "CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, o) "
                 "LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                 "WHERE i.indrelid = $1::oid AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE "
                 "c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x')) "
                 "ORDER BY ic.relname, k.o",
                 p, 1, &r, err))
        goto done;
    {
        json_t *ix = NULL;
        const char *cur = NULL;
        for (i = 0; i < r->nrows; i++) {
            const char *name = db_cell(r, i, 0);
            if (!cur || strcmp(cur, name) != 0) {
                ix = json_object();
                json_object_set_new(ix, "name", json_string(name));
                json_object_set_new(ix, "unique", json_boolean(strcmp(db_cell(r, i, 1), "t") == 0));
                json_object_set_new(ix, "columns", json_array());
                json_array_append_new(json_object_get(t, "indexes"), ix);
                cur = name;
            }
            json_array_append_new(json_object_get(ix, "columns"), str_or_null(db_cell(r, i, 2)));
        }
    }
    rc = 0;
done:
    db_rows_free(r);
    return rc;
}

static int
introspect_pg(struct db *db, const char *exclude, json_t *tables, struct rt_error *err)
{
    const char *p[1] = {exclude ? exclude : ""};
    struct db_rows *r = NULL;
    size_t i;
    int rc = 0;

    if (db_query(db,
                 "SELECT c.oid::text, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
                 "c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() "
                 "AND c.relname <> $1 ORDER BY c.relname",
                 p, 1, &r, err))
        return -1;
    for (i = 0; i < r->nrows && rc == 0; i++) {
        json_t *t = new_table(db_cell(r, i, 1));
        rc = pg_table(db, db_cell(r, i, 0), t, err);
        json_array_append_new(tables, t);
    }
    db_rows_free(r);
    return rc;
}

int
introspect(struct db *db, const char *exclude, json_t **out, struct rt_error *err)
{
    json_t *schema = json_object(), *tables = json_array();
    int rc;

    json_object_set_new(schema, "tables", tables);
    rc = db_kind(db) == DB_SQLITE ? introspect_sqlite(db, exclude, tables, err)
                                  : introspect_pg(db, exclude, tables, err);
    if (rc) {
        json_decref(schema);
        *out = NULL;
        return -1;
    }
    canon_sort(schema);
    *out = schema;
    return 0;
}
