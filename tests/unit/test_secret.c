/* SPDX-License-Identifier: MIT */
/*
 * test_secret.c: passwords masked in connection strings and in any text
 * that quotes one (runtime/secret.h; issue 10: uprun status echoed
 * postgresql://tt:ttpw@/... and password=... as given).
 */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unittest.h"

#include "runtime/secret.h"

static void
expect_redacted(const char *in, const char *out)
{
    char *r = secret_redact(in);

    assert_non_null(r);
    if (strcmp(r, out) != 0)
        fail_msg("redact(%s) = %s, expected %s", in, r, out);
    free(r);
}

static void
test_secret_redacts_uri_user_information(void **state)
{
    (void)state;
    expect_redacted("postgresql://tt:ttpw@/db?host=/tmp/x", "postgresql://tt:****@/db?host=/tmp/x");
    expect_redacted("postgres://u:p%40ss@db.example:5433/app",
                    "postgres://u:****@db.example:5433/app");
    expect_redacted("--dbb=postgresql://u:secret@h/db", "--dbb=postgresql://u:****@h/db");
    expect_redacted("postgresql://u@h/db", "postgresql://u@h/db");
    expect_redacted("postgresql://h:5432/db", "postgresql://h:5432/db");
}

static void
test_secret_redacts_query_and_keywords(void **state)
{
    (void)state;
    expect_redacted("postgresql://u@/db?password=ttpw&host=/x",
                    "postgresql://u@/db?password=****&host=/x");
    expect_redacted("host=/tmp user=tt password=ttpw dbname=x",
                    "host=/tmp user=tt password=**** dbname=x");
    expect_redacted("password = 'tt pw\\' x' dbname=x", "password = '****' dbname=x");
    expect_redacted("dbname='postgresql://u:pw@h/d'", "dbname='postgresql://u:****@h/d'");
    expect_redacted("PASSWORD=abc", "PASSWORD=****");
    expect_redacted("sqlite:app.db", "sqlite:app.db");
    expect_redacted("host=/tmp passwordless=1", "host=/tmp passwordless=1");
    assert_false(secret_present("host=/tmp dbname=x"));
    assert_true(secret_present("host=/tmp password=x"));
}

static void
test_secret_finds_raw_and_decoded(void **state)
{
    char *s[SECRET_MAX];
    size_t n;

    (void)state;
    n = secret_find("postgresql://u:p%40ss@h/db", s, SECRET_MAX);
    assert_int_equal(n, 2);
    assert_string_equal(s[0], "p%40ss");
    assert_string_equal(s[1], "p@ss");
    secret_free(s, n);
    n = secret_find("user=u password='a\\'b'", s, SECRET_MAX);
    assert_int_equal(n, 2);
    assert_string_equal(s[0], "a\\'b");
    assert_string_equal(s[1], "a'b");
    secret_free(s, n);
    assert_int_equal(secret_find("host=x", s, SECRET_MAX), 0);
}

static void
test_secret_scrubs_in_place(void **state)
{
    char buf[64] = "missing \"=\" after \"ttpw\" and ttpw again";
    char small[12] = "a-ttpw-b";
    char *s[1] = {(char *)"ttpw"};

    (void)state;
    secret_scrub(buf, sizeof buf, s, 1);
    assert_string_equal(buf, "missing \"=\" after \"****\" and **** again");
    secret_scrub(small, sizeof small, s, 1);
    assert_string_equal(small, "a-****-b");
    {
        char tiny[6] = "xxttp";
        char *t[1] = {(char *)"ttp"};
        secret_scrub(tiny, sizeof tiny, t, 1);
        assert_null(strstr(tiny, "ttp"));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secret_redacts_uri_user_information),
        cmocka_unit_test(test_secret_redacts_query_and_keywords),
        cmocka_unit_test(test_secret_finds_raw_and_decoded),
        cmocka_unit_test(test_secret_scrubs_in_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
