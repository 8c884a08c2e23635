/* SPDX-License-Identifier: MIT */
/* test_parser.c: the grammar (grammar/parser.y): trees, spans and error recovery. */
#include "tests/unit/unittest.h"

#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "grammar/parse.h"

struct parsed {
    struct arena arena;
    struct source_set set;
    struct diag_sink diag;
    struct ast_file *ast;
    size_t errors;
    struct strbuf dump;
};

static struct parsed *
parse(const char *src)
{
    struct parsed *p = calloc(1, sizeof *p);
    uint32_t file;

    arena_init(&p->arena);
    source_set_init(&p->set, &p->arena);
    diag_init(&p->diag, &p->arena, &p->set);
    file = source_add(&p->set, "t.upg", src, strlen(src));
    p->ast = parse_file(&p->arena, &p->diag, &p->set, file, &p->errors);
    ast_dump(p->ast, &p->dump);
    return p;
}

static void
parsed_free(struct parsed *p)
{
    strbuf_free(&p->dump);
    source_set_free(&p->set);
    arena_free(&p->arena);
    free(p);
}

static void
test_parser_plan_header_and_versions(void **state)
{
    struct parsed *p = parse("plan \"shop\" { title \"Shop\"; dialects postgres, sqlite; }\n"
                             "version \"1.0\" { }\n"
                             "version \"1.2\" from \"1.0\" { notice warning \"Back up.\"; }\n");

    (void)state;
    assert_int_equal(p->errors, 0);
    assert_string_equal(strbuf_str(&p->dump), "plan \"shop\"\n"
                                              "  title \"Shop\"\n"
                                              "   dialects=(`postgres`,`sqlite`)\n"
                                              "version \"1.0\"\n"
                                              "version \"1.2\" from \"1.0\"\n"
                                              "    notice level=warning text=\"Back up.\"\n");
    parsed_free(p);
}

static void
test_parser_create_table_with_every_constraint(void **state)
{
    struct parsed *p = parse("version \"1.0\" {\n"
                             "  create table Orders (\n"
                             "    Id bigint identity primary key,\n"
                             "    Key string(200) not null unique,\n"
                             "    Total decimal(18, 2) default -1.5,\n"
                             "    Flag bool null default true,\n"
                             "    Cust int references Customers (Id) on delete set null,\n"
                             "    Qty int check \"Qty > 0\",\n"
                             "    unique UQ_x (Key, Total),\n"
                             "    foreign key (Cust) references Customers on delete cascade,\n"
                             "    check CK_y \"Total >= 0\"\n"
                             "  ) allow table_lock;\n"
                             "}\n");

    (void)state;
    assert_int_equal(p->errors, 0);
    assert_string_equal(
        strbuf_str(&p->dump),
        "version \"1.0\"\n"
        "    create-table table=`Orders` allow=(`table_lock`)\n"
        "      column `Id` type=bigint identity primary-key\n"
        "      column `Key` type=string(200) not-null unique\n"
        "      column `Total` type=decimal(18,2) default=decimal:-1.5\n"
        "      column `Flag` type=bool null default=true\n"
        "      column `Cust` type=int references=`Customers` cols=(`Id`) on-delete=set-null\n"
        "      column `Qty` type=int check=\"Qty > 0\"\n"
        "      unique name=`UQ_x` cols=(`Key`,`Total`)\n"
        "      foreign-key cols=(`Cust`) ref=`Customers` on-delete=cascade\n"
        "      check name=`CK_y` expr=\"Total >= 0\"\n");
    parsed_free(p);
}

static void
test_parser_keywords_as_names(void **state)
{
    /* IdentityServer's columns Key, Type, Version, Data; a table called Table. */
    struct parsed *p = parse("version \"1.0\" {\n"
                             "  create table `Table` (Key text, Type int, Version int, Data text,"
                             " Date date, Index int);\n"
                             "  alter table Keys alter column Type type bigint;\n"
                             "  create index Index on Keys (Key, Type);\n"
                             "}\n");

    (void)state;
    assert_int_equal(p->errors, 0);
    assert_non_null(strstr(strbuf_str(&p->dump), "column `Date` type=date"));
    assert_non_null(
        strstr(strbuf_str(&p->dump), "alter-type table=`Keys` name=`Type` type=bigint"));
    assert_non_null(
        strstr(strbuf_str(&p->dump), "create-index table=`Keys` name=`Index` cols=(`Key`,`Type`)"));
    parsed_free(p);
}

static void
test_parser_every_alter_action(void **state)
{
    struct parsed *p = parse("version \"1.0\" {\n"
                             "  alter table T rename to U;\n"
                             "  alter table T rename column a to b;\n"
                             "  alter table T add column c int not null default 0;\n"
                             "  alter table T drop column c allow data_loss;\n"
                             "  alter table T alter column c set not null;\n"
                             "  alter table T alter column c drop not null;\n"
                             "  alter table T alter column c set default \"x\";\n"
                             "  alter table T alter column c drop default;\n"
                             "  alter table T add primary key PK_T (a, b);\n"
                             "  alter table T drop primary key;\n"
                             "  alter table T add unique (a);\n"
                             "  alter table T add foreign key (a) references U (b);\n"
                             "  alter table T add check \"a > 0\";\n"
                             "  alter table T drop constraint UQ_T_a;\n"
                             "  create unique index I on T (a);\n"
                             "  drop index I;\n"
                             "  drop table T;\n"
                             "}\n");
    static const char *const kinds[] = {
        "rename-table",   "rename-column",  "add-column",     "drop-column",     "set-not-null",
        "drop-not-null",  "set-default",    "drop-default",   "add-constraint",  "drop-primary-key",
        "add-constraint", "add-constraint", "add-constraint", "drop-constraint", "create-index",
        "drop-index",     "drop-table"};
    size_t i;

    (void)state;
    assert_int_equal(p->errors, 0);
    assert_int_equal(p->ast->versions.items[0]->stmts.len, sizeof kinds / sizeof kinds[0]);
    for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        assert_string_equal(ast_stmt_kind_name(p->ast->versions.items[0]->stmts.items[i]->kind),
                            kinds[i]);
    parsed_free(p);
}

static void
test_parser_sql_blocks(void **state)
{
    struct parsed *p = parse("version \"1.0\" {\n"
                             "  sql { up \"update t set a = 1\"; down $$update t set a = 0$$; }\n"
                             "  sql postgres { up \"x\"; irreversible \"no way back\"; }\n"
                             "  sql sqlite { }\n"
                             "}\n");

    (void)state;
    assert_int_equal(p->errors, 0);
    assert_non_null(
        strstr(strbuf_str(&p->dump), "sql up=\"update t set a = 1\" down=\"update t set a = 0\""));
    assert_non_null(strstr(strbuf_str(&p->dump),
                           "sql dialect=`postgres` up=\"x\" irreversible=\"no way back\""));
    assert_non_null(strstr(strbuf_str(&p->dump), "sql dialect=`sqlite`\n"));
    parsed_free(p);
}

static void
test_parser_statement_span_covers_statement(void **state)
{
    const char *src = "version \"1.0\" {\n  drop table Foo;\n}\n";
    struct parsed *p = parse(src);
    const struct ast_stmt *s = p->ast->versions.items[0]->stmts.items[0];

    (void)state;
    assert_int_equal(s->span.start, (uint32_t)(strstr(src, "drop") - src));
    assert_int_equal(s->span.end, (uint32_t)(strstr(src, "Foo") - src + 3));
    assert_int_equal(s->table.span.start, (uint32_t)(strstr(src, "Foo") - src));
    parsed_free(p);
}

static void
test_parser_recovers_and_reports_each_error(void **state)
{
    /* Five independent mistakes: each is reported, and the good statements survive. */
    struct parsed *p = parse("plan \"p\" { title \"t\" dialects sqlite; }\n"
                             "version \"1.0\" {\n"
                             "  create table A (x int);\n"
                             "  crate table B (y int);\n"
                             "  drop tabel C;\n"
                             "  create table D (z int;\n"
                             "  alter table A add column w int\n"
                             "}\n"
                             "version \"1.1\" {\n"
                             "  drop table A;\n"
                             "}\n");
    size_t i, syntax = 0;

    (void)state;
    for (i = 0; i < p->diag.records.len; i++)
        if (strcmp(p->diag.records.items[i]->code, "E0201") == 0)
            syntax++;
    assert_int_equal(syntax, 5);
    assert_int_equal(p->ast->versions.len, 2);
    assert_int_equal(p->ast->versions.items[1]->stmts.len, 1);
    parsed_free(p);
}

static void
test_parser_syntax_error_names_tokens_and_suggests(void **state)
{
    struct parsed *p = parse("version \"1.0\" { crate table B (y int); }\n");
    const struct diag *d;

    (void)state;
    assert_int_equal(p->diag.records.len, 1);
    d = p->diag.records.items[0];
    assert_non_null(strstr(d->msg, "unexpected identifier \"crate\""));
    assert_non_null(d->children);
    assert_string_equal(d->children->msg, "Did you mean \"create\"?");
    parsed_free(p);
}

static void
test_parser_unexpected_end_of_input(void **state)
{
    struct parsed *p = parse("version \"1.0\" { create table A (x int");
    const struct diag *d;

    (void)state;
    assert_true(p->errors >= 1);
    d = p->diag.records.items[0];
    assert_non_null(strstr(d->msg, "unexpected end of input"));
    assert_int_equal(d->span.start, strlen("version \"1.0\" { create table A (x int"));
    parsed_free(p);
}

static void
test_parser_deep_nesting_is_an_error_not_a_crash(void **state)
{
    size_t n = 10000, i;
    char *src = malloc(n * 2 + 64);
    struct parsed *p;

    (void)state;
    strcpy(src, "version \"1.0\" { create table A ");
    i = strlen(src);
    memset(src + i, '(', n);
    src[i + n] = '\0';
    p = parse(src);
    assert_true(p->errors >= 1);
    parsed_free(p);
    free(src);
}

/* A UTF-8 byte order mark at the start (some editors write one) is skipped; spans still count
 * it, and columns on the first line count from after it. */
static void
test_parser_skips_a_byte_order_mark(void **state)
{
    struct parsed *p =
        parse("\xEF\xBB\xBFplan \"shop\" { dialects sqlite; }\nversion \"1.0\" { }\n");
    const struct source *src;

    (void)state;
    assert_int_equal(p->errors, 0);
    assert_int_equal(p->ast->plans.len, 1);
    assert_int_equal(p->ast->plans.items[0]->span.start, 3);
    src = source_get(&p->set, p->ast->plans.items[0]->span.file);
    assert_int_equal(source_col_of(src, 3), 1);
    assert_int_equal(source_col_of(src, 8), 6);
    parsed_free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parser_plan_header_and_versions),
        cmocka_unit_test(test_parser_skips_a_byte_order_mark),
        cmocka_unit_test(test_parser_create_table_with_every_constraint),
        cmocka_unit_test(test_parser_keywords_as_names),
        cmocka_unit_test(test_parser_every_alter_action),
        cmocka_unit_test(test_parser_sql_blocks),
        cmocka_unit_test(test_parser_statement_span_covers_statement),
        cmocka_unit_test(test_parser_recovers_and_reports_each_error),
        cmocka_unit_test(test_parser_syntax_error_names_tokens_and_suggests),
        cmocka_unit_test(test_parser_unexpected_end_of_input),
        cmocka_unit_test(test_parser_deep_nesting_is_an_error_not_a_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
