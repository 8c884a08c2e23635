/* SPDX-License-Identifier: MIT */
/*
 * test_canon_defaults.c: defaults in canonical form (canon_pg_default,
 * canon_sqlite_default; issue 13): a constant is its value, the portable
 * expressions are {"expr": name} however the database spells them, any other
 * expression is {"sql": text}; the string 'CURRENT_TIMESTAMP' is not the
 * expression, and SQLite's 'false' is not false.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unittest.h"

#include "runtime/canon.h"

/* The canonical default as compact JSON, to compare as text. */
static void
expect(json_t *got, const char *what, const char *want)
{
    char *s;

    if (!got)
        fail_msg("%s: out of memory", what);
    s = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (strcmp(s, want) != 0)
        fail_msg("%s read as %s, expected %s", what, s, want);
    free(s);
    json_decref(got);
}

#define PG(type, expr, want) expect(canon_pg_default(type, expr), expr, want)
#define LITE(type, dflt, want) expect(canon_sqlite_default(type, dflt), dflt, want)

static void
test_pg_default_expressions_and_strings_differ(void **state)
{
    (void)state;
    PG("timestamp without time zone", "CURRENT_TIMESTAMP", "{\"expr\":\"current_timestamp\"}");
    PG("timestamp without time zone", "now()", "{\"expr\":\"current_timestamp\"}");
    PG("date", "CURRENT_DATE", "{\"expr\":\"current_date\"}");
    PG("uuid", "gen_random_uuid()", "{\"expr\":\"random_uuid\"}");
    PG("character varying(40)", "'CURRENT_TIMESTAMP'::character varying", "\"CURRENT_TIMESTAMP\"");
    PG("text", "'now()'::text", "\"now()\"");
    PG("boolean", "false", "\"false\"");
    PG("character varying(10)", "'false'::character varying", "\"false\"");
    PG("integer", "nextval('\"T_Id_seq\"'::regclass)",
       "{\"sql\":\"nextval('\\\"T_Id_seq\\\"'::regclass)\"}");
    PG("text", "('a'::text || 'b'::text)", "{\"sql\":\"('a'::text || 'b'::text)\"}");
    PG("integer", NULL, "null");
    PG("integer", "NULL::integer", "null");
    PG("numeric(10,2)", "9.990", "\"9.99\"");
}

static void
test_sqlite_default_expressions_and_strings_differ(void **state)
{
    (void)state;
    LITE("DATETIME", "CURRENT_TIMESTAMP", "{\"expr\":\"current_timestamp\"}");
    LITE("DATETIME", "current_timestamp", "{\"expr\":\"current_timestamp\"}");
    LITE("DATETIME", "'CURRENT_TIMESTAMP'", "\"CURRENT_TIMESTAMP\"");
    LITE("TEXT", "CURRENT_DATE", "{\"expr\":\"current_date\"}");
    LITE("char(36)", CANON_SQLITE_RANDOM_UUID, "{\"expr\":\"random_uuid\"}");
    /* PRAGMA table_info reports DEFAULT (expr) without its parentheses */
    {
        char inner[sizeof CANON_SQLITE_RANDOM_UUID];
        memcpy(inner, CANON_SQLITE_RANDOM_UUID + 1, sizeof inner - 3);
        inner[sizeof inner - 3] = '\0';
        LITE("char(36)", inner, "{\"expr\":\"random_uuid\"}");
    }
    LITE("bool", "false", "\"0\"");
    LITE("bool", "TRUE", "\"1\"");
    LITE("bool", "0", "\"0\"");
    LITE("bool", "'false'", "\"false\"");
    LITE("TEXT", "'a''b'", "\"a'b\"");
    LITE("INTEGER", "-1", "\"-1\"");
    LITE("NUMERIC", "'9.990'", "\"9.99\"");
    LITE("TEXT", "NULL", "null");
    LITE("TEXT", NULL, "null");
    LITE("TEXT", "'a' || 'b'", "{\"sql\":\"'a' || 'b'\"}");
    LITE("INTEGER", "abs(-1)", "{\"sql\":\"abs(-1)\"}");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pg_default_expressions_and_strings_differ),
        cmocka_unit_test(test_sqlite_default_expressions_and_strings_differ),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
