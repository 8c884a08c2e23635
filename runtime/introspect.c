/* SPDX-License-Identifier: MIT */
/*
 * introspect.c: a live schema in canonical form (canon.h), through the
 * driver's introspect() (each driver reads its own catalogue: db_sqlite.c,
 * db_pg.c), and the pieces of the form that every driver builds with.
 */
#include "runtime/introspect.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/canon.h"

json_t *
introspect_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *
introspect_table(const char *name)
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

json_t *
introspect_column(const char *name, const char *type, bool not_null, json_t *dflt, bool identity)
{
    json_t *c = json_object();

    json_object_set_new(c, "name", json_string(name));
    json_object_set_new(c, "type", json_string(type));
    json_object_set_new(c, "not_null", json_boolean(not_null));
    json_object_set_new(c, "default", dflt ? dflt : json_null());
    json_object_set_new(c, "identity", json_boolean(identity));
    return c;
}

const char *
introspect_action(const char *a)
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

int
introspect(struct db *db, const char *exclude, json_t **out, struct rt_error *err)
{
    json_t *schema = json_object(), *tables = json_array();
    int rc;

    json_object_set_new(schema, "tables", tables);
    rc = db->driver->introspect(db, exclude, tables, err);
    if (rc) {
        json_decref(schema);
        *out = NULL;
        return -1;
    }
    canon_sort(schema);
    *out = schema;
    return 0;
}
