/* SPDX-License-Identifier: MIT */
/*
 * test_sqlsplit.c: where statements end (runtime/sqlsplit.h), above all
 * in the body of a SQLite trigger, whose statements end with ';' too: a sql
 * block that creates a trigger must reach the database as one statement
 * (issue 10: the triggers of sql blocks, carried over a table rebuild).
 */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unittest.h"

#include "runtime/sqlsplit.h"

/* Splits text and checks that the statements are want[] (NULL-terminated), text for text. */
static void
expect_split(const char *text, const char *const *want)
{
    struct sql_stmt *st = NULL;
    size_t n = sql_split(text, strlen(text), &st), i;

    for (i = 0; want[i]; i++) {
        if (i >= n)
            fail_msg("statement %zu missing in: %s", i + 1, text);
        if (strlen(want[i]) != st[i].end - st[i].start ||
            strncmp(text + st[i].start, want[i], st[i].end - st[i].start) != 0)
            fail_msg("statement %zu is \"%.*s\", expected \"%s\"", i + 1,
                     (int)(st[i].end - st[i].start), text + st[i].start, want[i]);
    }
    if (n != i)
        fail_msg("%zu statements, expected %zu, in: %s", n, i, text);
    free(st);
}

static void
test_sqlsplit_plain(void **state)
{
    const char *const a[] = {"SELECT 1;", "SELECT ';' AS \"a;b\";", "SELECT $x$;$x$;", NULL};
    const char *const b[] = {"CREATE TABLE trigger_log (x);", "CREATE INDEX \"trigger\" ON t (x);",
                             "SELECT 2", NULL};

    (void)state;
    expect_split("SELECT 1; -- one;\nSELECT ';' AS \"a;b\"; /* ; */ SELECT $x$;$x$;", a);
    expect_split("CREATE TABLE trigger_log (x); CREATE INDEX \"trigger\" ON t (x); SELECT 2", b);
}

static void
test_sqlsplit_sqlite_trigger_body(void **state)
{
    const char *const a[] = {
        "CREATE TRIGGER \"t\" AFTER INSERT ON \"a\" BEGIN INSERT INTO l VALUES (1); "
        "UPDATE x SET y = CASE WHEN 1 THEN 2 END; END;",
        "SELECT 1;", NULL};
    const char *const b[] = {"create temp trigger t2 before delete on a begin\n"
                             "  select raise(abort, 'no;');\nend;",
                             "DROP TABLE a;", NULL};

    (void)state;
    expect_split("CREATE TRIGGER \"t\" AFTER INSERT ON \"a\" BEGIN INSERT INTO l VALUES (1); "
                 "UPDATE x SET y = CASE WHEN 1 THEN 2 END; END; SELECT 1;",
                 a);
    expect_split("create temp trigger t2 before delete on a begin\n  select raise(abort, 'no;');\n"
                 "end; DROP TABLE a;",
                 b);
}

/* PostgreSQL's CREATE TRIGGER has no body: its ';' ends it */
static void
test_sqlsplit_postgres_trigger(void **state)
{
    const char *const a[] = {
        "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW EXECUTE FUNCTION f();", "SELECT 1;",
        NULL};

    (void)state;
    expect_split("CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW EXECUTE FUNCTION f(); SELECT 1;",
                 a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sqlsplit_plain),
        cmocka_unit_test(test_sqlsplit_sqlite_trigger_body),
        cmocka_unit_test(test_sqlsplit_postgres_trigger),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
