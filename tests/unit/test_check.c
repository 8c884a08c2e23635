/* SPDX-License-Identifier: MIT */
/*
 * test_check.c: the resolve and check passes on small plans. Each test
 * names the behaviour; the exact wording of each diagnostic is pinned by
 * the golden files of tests/diag/.
 */
#include "tests/unit/unittest.h"

#include <stdio.h>
#include <string.h>

#include "core/strbuf.h"
#include "compiler/driver.h"

#define HEADER "plan \"p\" { dialects postgres, sqlite; }\n"

/* Compiles src and returns its diagnostic codes in source order, e.g. "E0320 W0601". */
static char *
codes_opts(const char *src, bool werror)
{
    static char buf[1024];
    struct compile_opts o = {0};
    struct compilation c;
    struct strbuf sb = STRBUF_INIT;
    size_t i;

    o.werror = werror;
    o.error_limit = 20;
    compilation_init(&c, &o);
    compile_front_buffer(&c, "t.upg", src, strlen(src), &o);
    {
        /* render to nowhere: sorts the records by location */
        FILE *null = fopen("/dev/null", "w");
        struct diag_render_opts ro = {false, false};
        diag_render(&c.diag, null, &ro);
        fclose(null);
    }
    for (i = 0; i < c.diag.records.len; i++)
        strbuf_printf(&sb, "%s%s", i ? " " : "", c.diag.records.items[i]->code);
    snprintf(buf, sizeof buf, "%s", strbuf_str(&sb));
    strbuf_free(&sb);
    compilation_free(&c);
    return buf;
}

static char *
codes(const char *src)
{
    return codes_opts(src, false);
}

static void
test_check_clean_plan_has_no_diagnostics(void **state)
{
    (void)state;
    assert_string_equal(
        codes(
            HEADER
            "version \"1.0\" {\n"
            "  create table A (Id int identity primary key, Name string(50) not null unique);\n"
            "  create table B (Id bigint identity primary key, A int not null references A on delete cascade);\n"
            "  create index IX_B_A on B (A);\n"
            "}\n"
            "version \"1.1\" {\n"
            "  alter table A add column Note text;\n"
            "  alter table A rename column Note to Remark;\n"
            "  notice warning \"Back up first.\";\n"
            "  breaking \"names\" \"Names are unique now.\";\n"
            "  sql { up \"update A set Remark = 'x'\"; down \"update A set Remark = null\"; }\n"
            "}\n"),
        "");
}

static void
test_check_branches_see_only_their_own_history(void **state)
{
    (void)state;
    /* 2.0 follows 1.0, not 1.1: table X of 1.1 does not exist there. 1.2 follows 1.1 and sees it. */
    assert_string_equal(codes(HEADER
                              "version \"1.0\" { create table A (Id int); }\n"
                              "version \"1.1\" { create table X (Id int); }\n"
                              "version \"1.2\" { alter table X add column Y int; }\n"
                              "version \"2.0\" from \"1.0\" { alter table X add column Z int; }\n"
                              "version \"2.1\" { create table X (Id int); }\n"),
                        "W0315 E0320"); /* and 1.2, whose line 2.1 never meets, is warned about */
    /* Deeper: 1.2 and 1.3 both follow 1.1 (1.3 must not see 1.2's table), and 2.0 follows 1.0
     * (it must see neither 1.1's nor 1.2's). */
    assert_string_equal(
        codes(
            HEADER
            "version \"1.0\" { create table A (Id int); }\n"
            "version \"1.1\" { create table X (Id int); }\n"
            "version \"1.2\" { create table Y (Id int); }\n"
            "version \"1.3\" from \"1.1\" { create table Y (Id int); drop table X allow data_loss; }\n"
            "version \"2.0\" from \"1.0\" { create table X (Id int); create table Y (Id int); }\n"
            "version \"2.1\" from \"1.3\" { create table X (Id int); drop table Y allow data_loss; drop table A allow data_loss; }\n"
            "version \"2.2\" { drop table Y; }\n"),
        "W0315 W0315 E0320"); /* 1.2 and 2.1 are dead ends: the latest is 2.2, after 2.0 */
}

static void
test_check_same_version_changes_are_not_linted(void **state)
{
    (void)state;
    /* A table created in this version has no rows: no data_loss, rewrite or rebuild findings. */
    assert_string_equal(codes(HEADER "version \"1.0\" {\n"
                                     "  create table A (Id int, V int);\n"
                                     "  alter table A alter column Id type bigint;\n"
                                     "  alter table A drop column V;\n"
                                     "  alter table A add column W int not null;\n"
                                     "}\n"),
                        "");
    assert_string_equal(codes(HEADER
                              "version \"1.0\" { create table A (Id int, V int); }\n"
                              "version \"1.1\" { alter table A alter column Id type bigint; }\n"),
                        "W0401 W0501");
}

static void
test_check_allow_accepts_a_finding_and_stale_allows_warn(void **state)
{
    (void)state;
    assert_string_equal(
        codes(HEADER
              "version \"1.0\" { create table A (Id int, V int); }\n"
              "version \"1.1\" {\n"
              "  alter table A alter column Id type bigint allow table_rewrite, sqlite_rebuild;\n"
              "  alter table A drop column V allow data_loss, table_lock;\n"
              "  alter table A add column W int allow typo_lint;\n"
              "}\n"),
        "W0301 E0330");
}

static void
test_check_werror_fails_on_warnings(void **state)
{
    (void)state;
    assert_string_equal(codes_opts(HEADER "version \"1.0\" { create table A (Id int, V int); }\n"
                                          "version \"1.1\" { alter table A drop column V; }\n",
                                   true),
                        "W0601");
}

static void
test_check_renames_carry_references(void **state)
{
    (void)state;
    assert_string_equal(codes(HEADER
                              "version \"1.0\" {\n"
                              "  create table A (Id int primary key);\n"
                              "  create table B (Id int primary key, AId int references A);\n"
                              "}\n"
                              "version \"1.1\" {\n"
                              "  alter table A rename to A2;\n"
                              "  alter table A2 rename column Id to Key;\n"
                              "  drop table A2;\n" /* still referenced by B's foreign key */
                              "}\n"),
                        "E0412");
}

static void
test_check_foreign_keys_need_a_key_and_matching_types(void **state)
{
    (void)state;
    assert_string_equal(codes(HEADER
                              "version \"1.0\" {\n"
                              "  create table A (Id int primary key, Code string(10), Other int);\n"
                              "  create table B (X int references A (Other));\n"
                              "  create table C (X string(10) references A);\n"
                              "  create table D (X int, Y int, foreign key (X, Y) references A);\n"
                              "  create table E (X int not null references A on delete set null);\n"
                              "  create table F (X int references Nope);\n"
                              "}\n"),
                        "E0407 E0409 E0408 E0415 E0320");
}

static void
test_check_primary_key_columns_become_not_null(void **state)
{
    (void)state;
    assert_string_equal(
        codes(HEADER "version \"1.0\" { create table A (Id int, V int); }\n"
                     "version \"1.1\" {\n"
                     "  alter table A add primary key (Id) allow table_lock, sqlite_rebuild;\n"
                     "  alter table A alter column Id drop not null;\n"
                     "}\n"),
        "E0414");
}

static void
test_check_drops_that_pull_the_ground_away_are_refused(void **state)
{
    (void)state;
    assert_string_equal(codes(HEADER "version \"1.0\" {\n"
                                     "  create table A (Id int, Code int);\n"
                                     "  create unique index IX_A_Code on A (Code);\n"
                                     "  create table B (X int references A (Code));\n"
                                     "  create index IX_A_Id on A (Id);\n"
                                     "}\n"
                                     "version \"1.1\" {\n"
                                     "  drop index IX_A_Code;\n"
                                     "  alter table A drop column Id allow data_loss;\n"
                                     "  alter table A drop column Code allow data_loss;\n"
                                     "}\n"),
                        "E0413 E0411 E0411");
}

static void
test_check_reports_errors_beyond_a_bad_header(void **state)
{
    (void)state;
    /* A typo in the dialects does not hide the schema's own errors. */
    assert_string_equal(codes("plan \"p\" { dialects postgress, sqlite; }\n"
                              "version \"1.0\" { create table A (Id int); }\n"
                              "version \"1.1\" { drop table B; }\n"),
                        "E0306 E0320");
}

static void
test_check_unknown_from_skips_the_branch(void **state)
{
    (void)state;
    assert_string_equal(codes(HEADER
                              "version \"1.0\" { create table A (Id int); }\n"
                              "version \"1.1\" from \"0.9\" { drop table Nope; }\n"
                              "version \"1.2\" { drop table AlsoNope; }\n"
                              "version \"2.0\" from \"1.0\" { drop table A allow data_loss; }\n"),
                        "E0313");
}

static void
test_check_identity_rules(void **state)
{
    (void)state;
    assert_string_equal(codes(HEADER "version \"1.0\" {\n"
                                     "  create table A (Id string(10) identity primary key);\n"
                                     "  create table B (Id int identity, V int primary key);\n"
                                     "  create table C (Id int identity primary key default 1);\n"
                                     "}\n"),
                        "E0403 E0505 E0403");
    /* Without SQLite, identity need not be the primary key. */
    assert_string_equal(
        codes("plan \"p\" { dialects postgres; }\n"
              "version \"1.0\" { create table B (Id int identity, V int primary key); }\n"),
        "");
}

static void
test_check_identifier_length_is_a_postgres_limit(void **state)
{
    (void)state;
    assert_string_equal(codes(HEADER
                              "version \"1.0\" { create table "
                              "A234567890123456789012345678901234567890123456789012345678901234"
                              " (Id int); }\n"),
                        "E0501");
    assert_string_equal(codes("plan \"p\" { dialects sqlite; }\n"
                              "version \"1.0\" { create table "
                              "A234567890123456789012345678901234567890123456789012345678901234"
                              " (Id int); }\n"),
                        "");
}

static void
test_check_linear_in_plan_size(void **state)
{
    /* 2,000 versions in a chain, each creating and altering tables: no quadratic blow-up in
     * the undo log or the namespace. (Timing is measured by tests/bench, not asserted here.) */
    struct strbuf sb = STRBUF_INIT;
    int i;

    (void)state;
    strbuf_puts(&sb, HEADER);
    for (i = 0; i < 2000; i++) {
        strbuf_printf(
            &sb, "version \"1.%d\" {\n  create table T%d (Id int identity primary key, V int);\n",
            i, i);
        if (i > 0)
            strbuf_printf(
                &sb, "  alter table T%d add column W int;\n  drop table T%d allow data_loss;\n",
                i - 1, i - 1);
        strbuf_puts(&sb, "}\n");
    }
    assert_string_equal(codes(strbuf_str(&sb)), "");
    strbuf_free(&sb);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_clean_plan_has_no_diagnostics),
        cmocka_unit_test(test_check_branches_see_only_their_own_history),
        cmocka_unit_test(test_check_same_version_changes_are_not_linted),
        cmocka_unit_test(test_check_allow_accepts_a_finding_and_stale_allows_warn),
        cmocka_unit_test(test_check_werror_fails_on_warnings),
        cmocka_unit_test(test_check_renames_carry_references),
        cmocka_unit_test(test_check_foreign_keys_need_a_key_and_matching_types),
        cmocka_unit_test(test_check_primary_key_columns_become_not_null),
        cmocka_unit_test(test_check_drops_that_pull_the_ground_away_are_refused),
        cmocka_unit_test(test_check_reports_errors_beyond_a_bad_header),
        cmocka_unit_test(test_check_unknown_from_skips_the_branch),
        cmocka_unit_test(test_check_identity_rules),
        cmocka_unit_test(test_check_identifier_length_is_a_postgres_limit),
        cmocka_unit_test(test_check_linear_in_plan_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
