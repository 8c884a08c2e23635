/* SPDX-License-Identifier: MIT */
/*
 * schema_dump.c: prints the live schema of a database in canonical form
 * (runtime/canon.h), for the tests that compare it with `upc schema`.
 *
 *     schema_dump URL
 */
#include <stdio.h>
#include <stdlib.h>

#include "runtime/canon.h"
#include "runtime/db.h"
#include "runtime/introspect.h"

int
main(int argc, char **argv)
{
    struct rt_error err;
    struct db *db = NULL;
    json_t *schema = NULL;
    char *text;

    if (argc != 2) {
        fputs("usage: schema_dump URL\n", stderr);
        return 2;
    }
    if (db_open(argv[1], &db, &err) || introspect(db, "upgrade_plan_history", &schema, &err)) {
        fprintf(stderr, "schema_dump: %s\n", err.message);
        db_close(db);
        return 1;
    }
    text = canon_dump(schema);
    printf("%s\n", text ? text : "");
    free(text);
    json_decref(schema);
    db_close(db);
    return 0;
}
