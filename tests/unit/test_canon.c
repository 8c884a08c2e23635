/* SPDX-License-Identifier: MIT */
/*
 * test_canon.c: the canonical schema form (runtime/canon.h): PostgreSQL and
 * SQLite defaults read back as values only when they are constants (issue
 * 10: a default expression was cut at its first "::", so that
 * 'free'::text || '-trial'::text read as "free"), and the differences
 * between two schemas named field by field; the schema at a version built
 * from a bundle's deltas and patches, and patches that do not fit refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unittest.h"

#include "runtime/canon.h"

static void
expect_pg(const char *expr, const char *value)
{
    char *v = canon_pg_default_value(expr);

    if (!value) {
        if (v)
            fail_msg("%s read as \"%s\", expected NULL", expr, v);
    } else {
        if (!v)
            fail_msg("%s read as NULL, expected \"%s\"", expr, value);
        if (strcmp(v, value) != 0)
            fail_msg("%s read as \"%s\", expected \"%s\"", expr, v, value);
    }
    free(v);
}

static void
test_canon_pg_constants_are_values(void **state)
{
    (void)state;
    expect_pg("'free'::text", "free");
    expect_pg("'x'::character varying", "x");
    expect_pg("'a''b'::character varying", "a'b");
    expect_pg("'-1'::integer", "-1");
    expect_pg("(-1)", "-1");
    expect_pg("0.00", "0.00");
    expect_pg("5", "5");
    expect_pg("true", "true");
    expect_pg("NULL::integer", NULL);
    expect_pg("'2024-01-01 10:00:00'::timestamp without time zone", "2024-01-01 10:00:00");
    expect_pg("'{1,2}'::integer[]", "{1,2}");
    expect_pg("'1.5'::numeric(10,2)", "1.5");
    expect_pg("('x'::text)", "x");
    expect_pg("E'a\\nb'::text", "a\nb");
}

/* issue 10: an expression is kept whole, never cut at its first cast */
static void
test_canon_pg_expressions_are_kept_whole(void **state)
{
    (void)state;
    expect_pg("('free'::text || '-trial'::text)", "('free'::text || '-trial'::text)");
    expect_pg("'free'::text || '-trial'::text", "'free'::text || '-trial'::text");
    expect_pg("nextval('d_j_seq'::regclass)", "nextval('d_j_seq'::regclass)");
    expect_pg("now()", "now()");
    expect_pg("(1 + 2)", "(1 + 2)");
    expect_pg("('a'::text) || ('b'::text)", "('a'::text) || ('b'::text)");
    expect_pg("0::integer + 1", "0::integer + 1");
    expect_pg("'x'::text COLLATE \"C\"", "'x'::text COLLATE \"C\"");
}

static void
test_canon_sqlite_defaults(void **state)
{
    char *v;

    (void)state;
    v = canon_sqlite_default_value("'abc'");
    assert_string_equal(v, "abc");
    free(v);
    v = canon_sqlite_default_value("'it''s'");
    assert_string_equal(v, "it's");
    free(v);
    v = canon_sqlite_default_value("('a' || 'b')");
    assert_string_equal(v, "('a' || 'b')");
    free(v);
    v = canon_sqlite_default_value("-1");
    assert_string_equal(v, "-1");
    free(v);
    assert_null(canon_sqlite_default_value("NULL"));
}

/* --- differences, field by field -------------------------------------------- */

struct seen {
    size_t n;
    char lines[16][512];
    char fields[16][64];
    char objects[16][64];
    char tables[16][64];
    char expected[16][128];
    char found[16][128];
    int changes[16];
};

static void
collect(void *arg, const struct canon_drift *d)
{
    struct seen *s = arg;
    char *e, *f;

    if (s->n >= 16)
        return;
    snprintf(s->lines[s->n], sizeof s->lines[0], "%s", d->text);
    snprintf(s->fields[s->n], sizeof s->fields[0], "%s", d->field ? d->field : "");
    snprintf(s->objects[s->n], sizeof s->objects[0], "%s", d->object);
    snprintf(s->tables[s->n], sizeof s->tables[0], "%s", d->table ? d->table : "");
    e = d->expected ? json_dumps(d->expected, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    f = d->found ? json_dumps(d->found, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    snprintf(s->expected[s->n], sizeof s->expected[0], "%s", e ? e : "-");
    snprintf(s->found[s->n], sizeof s->found[0], "%s", f ? f : "-");
    s->changes[s->n] = (int)d->change;
    free(e);
    free(f);
    s->n++;
}

static json_t *
parse(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);

    if (!j)
        fail_msg("bad test JSON: %s", err.text);
    return j;
}

#define TABLE(cols, extra)                                                                         \
    "{\"tables\": [{\"name\": \"T\", \"columns\": [" cols "], \"primary_key\": null, "             \
    "\"unique\": [], \"foreign_keys\": [], \"checks\": [], \"indexes\": [" extra "]}]}"
#define COL(name, type, nn, dflt)                                                                  \
    "{\"name\": \"" name "\", \"type\": \"" type "\", \"not_null\": " nn ", \"default\": " dflt    \
    ", \"identity\": false}"

/* issue 10: a drift line names the field that differs, not two whole objects */
static void
test_canon_diff_names_the_field(void **state)
{
    json_t *e = parse(
        TABLE(COL("a", "text", "false", "\"free\"") "," COL("b", "integer", "false", "null"), ""));
    json_t *l =
        parse(TABLE(COL("a", "text", "true", "\"('free'::text || '-trial'::text)\"") "," COL(
                        "b", "integer", "false", "null"),
                    ""));
    struct seen s;
    size_t n;

    (void)state;
    memset(&s, 0, sizeof s);
    n = canon_diff_items(e, l, collect, &s);
    assert_int_equal(n, 2);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.fields[0], "default");
    assert_string_equal(s.expected[0], "\"free\"");
    assert_string_equal(s.found[0], "\"('free'::text || '-trial'::text)\"");
    assert_string_equal(s.fields[1], "not_null");
    assert_string_equal(s.expected[1], "false");
    assert_string_equal(s.found[1], "true");
    assert_string_equal(s.objects[1], "column");
    assert_string_equal(s.tables[1], "T");
    assert_int_equal(s.changes[1], CANON_DIFFERS);
    assert_string_equal(
        s.lines[1], "table \"T\": column \"a\" differs in not_null: expected false, found true");
    json_decref(e);
    json_decref(l);
}

static void
test_canon_diff_missing_and_unexpected(void **state)
{
    json_t *e = parse(TABLE(COL("a", "text", "false", "null"),
                            "{\"name\": \"IX\", \"unique\": false, \"columns\": [\"a\"]}"));
    json_t *l =
        parse(TABLE(COL("a", "text", "false", "null") "," COL("Extra", "TEXT", "false", "null"),
                    "{\"name\": \"IX\", \"unique\": true, \"columns\": [\"a\"]},"
                    "{\"name\": \"Mine\", \"unique\": false, \"columns\": [\"Extra\"]}"));
    struct seen s;

    (void)state;
    memset(&s, 0, sizeof s);
    assert_int_equal(canon_diff_items(e, l, collect, &s), 3);
    assert_string_equal(s.lines[0], "table \"T\": unexpected column \"Extra\"");
    assert_int_equal(s.changes[0], CANON_UNEXPECTED);
    assert_string_equal(s.expected[0], "-");
    assert_string_equal(s.lines[1],
                        "table \"T\": index \"IX\" differs in unique: expected false, found true");
    assert_string_equal(s.lines[2], "table \"T\": unexpected index \"Mine\"");
    /* the text-only interface counts the same */
    assert_int_equal(canon_diff(e, l, NULL, NULL), 3);
    json_decref(e);
    json_decref(l);
}

/* SQLite's foreign keys have no names: they are matched by their columns */
static void
test_canon_diff_unnamed_foreign_keys(void **state)
{
    json_t *e = parse(
        "{\"tables\": [{\"name\": \"C\", \"columns\": [], \"primary_key\": null, \"unique\": [], "
        "\"foreign_keys\": [{\"name\": null, \"columns\": [\"P\"], \"ref_table\": \"Par\", "
        "\"ref_columns\": [\"Id\"], \"on_delete\": \"cascade\"}], \"checks\": [], \"indexes\": []}]}");
    json_t *l = parse(
        "{\"tables\": [{\"name\": \"C\", \"columns\": [], \"primary_key\": null, \"unique\": [], "
        "\"foreign_keys\": [{\"name\": null, \"columns\": [\"P\"], \"ref_table\": \"Par\", "
        "\"ref_columns\": [\"Id\"], \"on_delete\": \"no action\"}], \"checks\": [], \"indexes\": []}]}");
    struct seen s;

    (void)state;
    memset(&s, 0, sizeof s);
    assert_int_equal(canon_diff_items(e, l, collect, &s), 1);
    assert_string_equal(s.fields[0], "on_delete");
    assert_string_equal(
        s.lines[0],
        "table \"C\": foreign key (\"P\") differs in on_delete: expected \"cascade\", found \"no action\"");
    json_decref(e);
    json_decref(l);
}

/* The schema that a list of deltas (JSON texts) builds, as canon_dump text (malloc'd). */
static char *
apply_all(const char *const *deltas, size_t n, char *why, size_t whylen)
{
    json_t *tables = canon_tables_new(), *schema;
    char *text = NULL;

    for (size_t i = 0; i < n; i++) {
        json_t *d = json_loads(deltas[i], 0, NULL);
        assert_non_null(d);
        bool ok = canon_delta_apply(tables, d, why, whylen);
        json_decref(d);
        if (!ok) {
            json_decref(tables);
            return NULL;
        }
    }
    schema = canon_tables_schema(tables);
    text = json_dumps(schema, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(schema);
    json_decref(tables);
    return text;
}

#define T_WHOLE                                                                                       \
    "{\"checks\":[\"CK_A\"],\"columns\":[{\"name\":\"A\",\"type\":\"int\"},{\"name\":\"B\",\"type\":" \
    "\"int\"}],\"foreign_keys\":[{\"columns\":[\"B\"],\"name\":null,\"ref_table\":\"U\"}],"           \
    "\"indexes\":[{\"columns\":[\"A\"],\"name\":\"IX_A\"}],\"name\":\"T\",\"primary_key\":null,"      \
    "\"unique\":[]}"

static void
test_canon_delta_patches_build_the_schema(void **state)
{
    (void)state;
    char why[256];
    const char *deltas[] = {
        "{\"changed\":[" T_WHOLE ",{\"checks\":[],\"columns\":[],\"foreign_keys\":[],"
        "\"indexes\":[],\"name\":\"Old\",\"primary_key\":null,\"unique\":[]}],\"patched\":[],"
        "\"removed\":[]}",
        /* a column replaced and one added, one dropped; the unnamed foreign key dropped by its
         * whole object; the primary key set; a check dropped; a table removed */
        "{\"changed\":[],\"patched\":[{\"name\":\"T\",\"checks\":{\"drop\":[\"CK_A\"],\"put\":[]},"
        "\"columns\":{\"drop\":[\"B\"],\"put\":[{\"name\":\"A\",\"type\":\"bigint\"},"
        "{\"name\":\"C\",\"type\":\"text\"}]},\"foreign_keys\":{\"drop\":[{\"columns\":[\"B\"],"
        "\"name\":null,\"ref_table\":\"U\"}],\"put\":[]},\"primary_key\":{\"columns\":[\"A\"],"
        "\"name\":null}}],\"removed\":[\"Old\"]}",
    };
    char *got = apply_all(deltas, 2, why, sizeof why);

    assert_non_null(got);
    assert_string_equal(
        got, "{\"tables\":[{\"checks\":[],\"columns\":[{\"name\":\"A\",\"type\":\"bigint\"},"
             "{\"name\":\"C\",\"type\":\"text\"}],\"foreign_keys\":[],\"indexes\":[{\"columns\":"
             "[\"A\"],\"name\":\"IX_A\"}],\"name\":\"T\",\"primary_key\":{\"columns\":[\"A\"],"
             "\"name\":null},\"unique\":[]}]}");
    free(got);
}

static void
test_canon_delta_refuses_what_does_not_fit(void **state)
{
    (void)state;
    char why[256];
    const char *unknown_table[] = {
        "{\"changed\":[],\"patched\":[{\"name\":\"Nope\",\"columns\":{\"drop\":[],\"put\":[]}}],"
        "\"removed\":[]}"};
    const char *missing_elem[] = {
        "{\"changed\":[" T_WHOLE "],\"patched\":[],\"removed\":[]}",
        "{\"changed\":[],\"patched\":[{\"name\":\"T\",\"indexes\":{\"drop\":[\"IX_Z\"],\"put\":[]}}],"
        "\"removed\":[]}"};
    const char *no_arrays[] = {"{\"changed\":[],\"removed\":[]}"};
    const char *bad_member[] = {"{\"changed\":[" T_WHOLE
                                "],\"patched\":[{\"name\":\"T\",\"columns\":[]}],\"removed\":[]}"};

    assert_null(apply_all(unknown_table, 1, why, sizeof why));
    assert_non_null(strstr(why, "table \"Nope\""));
    assert_null(apply_all(missing_elem, 2, why, sizeof why));
    assert_non_null(strstr(why, "drops an element that the table has not"));
    assert_null(apply_all(no_arrays, 1, why, sizeof why));
    assert_non_null(strstr(why, "\"patched\""));
    assert_null(apply_all(bad_member, 1, why, sizeof why));
    assert_non_null(strstr(why, "\"drop\" and \"put\""));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canon_pg_constants_are_values),
        cmocka_unit_test(test_canon_pg_expressions_are_kept_whole),
        cmocka_unit_test(test_canon_sqlite_defaults),
        cmocka_unit_test(test_canon_diff_names_the_field),
        cmocka_unit_test(test_canon_diff_missing_and_unexpected),
        cmocka_unit_test(test_canon_diff_unnamed_foreign_keys),
        cmocka_unit_test(test_canon_delta_patches_build_the_schema),
        cmocka_unit_test(test_canon_delta_refuses_what_does_not_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
