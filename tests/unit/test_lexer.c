/* SPDX-License-Identifier: MIT */
/* test_lexer.c: the scanner alone (grammar/lexer.l): tokens, texts, spans, errors. */
#include "tests/unit/unittest.h"

#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/diag.h"
#include "core/source.h"
#include "grammar/parse.h"
#include "grammar/parser.h"

#define YYSTYPE UPG_YYSTYPE
#define YYLTYPE UPG_YYLTYPE
#include "grammar/lexer.h"

int lexer_scan(UPG_YYSTYPE *lval, UPG_YYLTYPE *lloc, void *scanner);

enum { MAX_TOKENS = 64 };

struct lexed {
    struct arena arena;
    struct source_set set;
    struct diag_sink diag;
    int tok[MAX_TOKENS];
    UPG_YYSTYPE val[MAX_TOKENS];
    struct src_span span[MAX_TOKENS];
    size_t n;
    size_t errors;
};

/* Scans src (len bytes) to the end; the caller frees with lexed_free(). */
static struct lexed *
lex(const char *src, size_t len)
{
    struct lexed *l = calloc(1, sizeof *l);
    struct parse_ctx ctx = {0};
    struct lex_state st = {0};
    yyscan_t scanner;
    YY_BUFFER_STATE buf;
    uint32_t file;

    arena_init(&l->arena);
    source_set_init(&l->set, &l->arena);
    diag_init(&l->diag, &l->arena, &l->set);
    file = source_add(&l->set, "t.upg", src, len);
    ctx.arena = &l->arena;
    ctx.diag = &l->diag;
    ctx.src = source_get(&l->set, file);
    ctx.file = file;
    st.ctx = &ctx;
    upg_yylex_init_extra(&st, &scanner);
    ctx.scanner = scanner;
    buf = upg_yy_scan_bytes(ctx.src->text, (int)ctx.src->len, scanner);
    for (;;) {
        UPG_YYSTYPE v;
        UPG_YYLTYPE loc;
        int t = lexer_scan(&v, &loc, scanner);
        if (l->n < MAX_TOKENS) {
            l->tok[l->n] = t;
            l->val[l->n] = v;
            l->span[l->n] = loc;
            l->n++;
        }
        if (t == TOK_END)
            break;
    }
    upg_yy_delete_buffer(buf, scanner);
    upg_yylex_destroy(scanner);
    l->errors = ctx.errors;
    return l;
}

static struct lexed *
lexs(const char *src)
{
    return lex(src, strlen(src));
}

static void
lexed_free(struct lexed *l)
{
    source_set_free(&l->set);
    arena_free(&l->arena);
    free(l);
}

static const char *
first_code(struct lexed *l)
{
    return l->diag.records.len ? l->diag.records.items[0]->code : "";
}

static void
test_lexer_keywords_are_case_insensitive_and_keep_text(void **state)
{
    struct lexed *l = lexs("CREATE Table key `Key`");

    (void)state;
    assert_int_equal(l->n, 5);
    assert_int_equal(l->tok[0], TOK_CREATE);
    assert_string_equal(l->val[0].ident.name, "CREATE");
    assert_int_equal(l->tok[1], TOK_TABLE);
    assert_int_equal(l->tok[2], TOK_KEY);
    assert_string_equal(l->val[2].ident.name, "key");
    assert_int_equal(l->tok[3], TOK_IDENT); /* backquotes make any word a plain name */
    assert_string_equal(l->val[3].ident.name, "Key");
    assert_int_equal(l->tok[4], TOK_END);
    assert_int_equal(l->errors, 0);
    lexed_free(l);
}

static void
test_lexer_spans_are_byte_offsets(void **state)
{
    struct lexed *l = lexs("  drop\n\ttable `a b`;");

    (void)state;
    assert_int_equal(l->span[0].start, 2);
    assert_int_equal(l->span[0].end, 6);
    assert_int_equal(l->span[1].start, 8);
    assert_int_equal(l->span[2].start, 14);
    assert_int_equal(l->span[2].end, 19);
    assert_int_equal(l->tok[3], TOK_SEMI);
    assert_int_equal(l->span[4].start, 20); /* end of input: zero width at the end */
    assert_int_equal(l->span[4].end, 20);
    lexed_free(l);
}

static void
test_lexer_string_escapes(void **state)
{
    struct lexed *l = lexs("\"a\\\"b\\\\c\\nd\\te\"");

    (void)state;
    assert_int_equal(l->tok[0], TOK_SCONST);
    assert_string_equal(l->val[0].str.text, "a\"b\\c\nd\te");
    assert_int_equal(l->val[0].str.len, 9);
    lexed_free(l);
}

static void
test_lexer_rejects_unknown_escape(void **state)
{
    struct lexed *l = lexs("notice \"bad \\q escape\";");

    (void)state;
    assert_int_equal(l->tok[1], TOK_INVALID);
    assert_int_equal(l->errors, 1);
    assert_string_equal(first_code(l), "E0104");
    assert_int_equal(l->diag.records.items[0]->span.start, 12); /* the backslash */
    assert_int_equal(l->tok[2], TOK_SEMI);                      /* scanning goes on */
    lexed_free(l);
}

static void
test_lexer_rejects_unterminated_string(void **state)
{
    struct lexed *l = lexs("title \"no end\ntitle \"ok\";");

    (void)state;
    assert_int_equal(l->tok[1], TOK_INVALID);
    assert_string_equal(first_code(l), "E0103");
    assert_int_equal(l->tok[2], TOK_TITLE); /* the next line scans normally */
    assert_int_equal(l->tok[3], TOK_SCONST);
    lexed_free(l);
}

static void
test_lexer_dollar_quotes(void **state)
{
    struct lexed *l = lexs("$$a \"b\" $x$ c$$ $fn$ x $$ y $fn$");

    (void)state;
    assert_int_equal(l->tok[0], TOK_SCONST);
    assert_string_equal(l->val[0].str.text, "a \"b\" $x$ c");
    assert_int_equal(l->span[0].start, 0);
    assert_int_equal(l->span[0].end, 15);
    assert_int_equal(l->tok[1], TOK_SCONST);
    assert_string_equal(l->val[1].str.text, " x $$ y ");
    assert_int_equal(l->tok[2], TOK_END);
    lexed_free(l);
}

static void
test_lexer_rejects_unterminated_dollar_quote(void **state)
{
    struct lexed *l = lexs("sql { up $tag$ select 1; $other$ }");

    (void)state;
    assert_int_equal(l->errors, 1);
    assert_string_equal(first_code(l), "E0108");
    assert_int_equal(l->diag.records.items[0]->span.start, 9);
    lexed_free(l);
}

static void
test_lexer_backquoted_names(void **state)
{
    struct lexed *l = lexs("`a``b` `Ünïcødé; --` ``");

    (void)state;
    assert_int_equal(l->tok[0], TOK_IDENT);
    assert_string_equal(l->val[0].ident.name, "a`b");
    assert_int_equal(l->tok[1], TOK_IDENT);
    assert_string_equal(l->val[1].ident.name, "Ünïcødé; --");
    assert_int_equal(l->tok[2], TOK_INVALID);
    assert_string_equal(first_code(l), "E0107");
    lexed_free(l);
}

static void
test_lexer_comments(void **state)
{
    struct lexed *l = lexs("-- one\n# two\n/* three\n * four */ drop /**/ table /* x */");

    (void)state;
    assert_int_equal(l->n, 3);
    assert_int_equal(l->tok[0], TOK_DROP);
    assert_int_equal(l->tok[1], TOK_TABLE);
    assert_int_equal(l->errors, 0);
    lexed_free(l);
}

static void
test_lexer_rejects_unterminated_comment(void **state)
{
    struct lexed *l = lexs("drop /* never closed *");

    (void)state;
    assert_int_equal(l->errors, 1);
    assert_string_equal(first_code(l), "E0105");
    assert_int_equal(l->diag.records.items[0]->span.start, 5);
    lexed_free(l);
}

static void
test_lexer_numbers_and_minus(void **state)
{
    struct lexed *l = lexs("42 3.25 -7 0");

    (void)state;
    assert_int_equal(l->tok[0], TOK_ICONST);
    assert_string_equal(l->val[0].str.text, "42");
    assert_int_equal(l->tok[1], TOK_FCONST);
    assert_string_equal(l->val[1].str.text, "3.25");
    assert_int_equal(l->tok[2], TOK_MINUS);
    assert_int_equal(l->tok[3], TOK_ICONST);
    lexed_free(l);
}

static void
test_lexer_rejects_invalid_utf8_and_unknown_characters(void **state)
{
    struct lexed *l = lexs("drop \xff\xfe table = @");

    (void)state;
    assert_int_equal(l->tok[1], TOK_INVALID);
    assert_int_equal(l->tok[2], TOK_TABLE);
    assert_int_equal(l->tok[3], TOK_INVALID);
    assert_int_equal(l->tok[4], TOK_INVALID);
    assert_int_equal(l->errors, 3);
    assert_string_equal(first_code(l), "E0102");
    assert_string_equal(l->diag.records.items[1]->code, "E0101");
    lexed_free(l);
}

static void
test_lexer_rejects_nul_bytes(void **state)
{
    static const char src[] = "notice \"a\0b\"; `x\0y`";
    struct lexed *l = lex(src, sizeof src - 1);

    (void)state;
    assert_int_equal(l->tok[1], TOK_INVALID);
    assert_int_equal(l->tok[2], TOK_SEMI);
    assert_int_equal(l->tok[3], TOK_INVALID);
    assert_int_equal(l->errors, 2);
    assert_string_equal(first_code(l), "E0109");
    lexed_free(l);
}

static void
test_lexer_stops_at_the_error_limit(void **state)
{
    char src[200];
    struct lexed *l;

    (void)state;
    memset(src, '=', sizeof src);
    l = lex(src, sizeof src);
    assert_int_equal(l->diag.n_errors, 20);
    assert_int_equal(l->tok[l->n - 1], TOK_END);
    assert_true(l->n <= 21);
    lexed_free(l);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lexer_keywords_are_case_insensitive_and_keep_text),
        cmocka_unit_test(test_lexer_spans_are_byte_offsets),
        cmocka_unit_test(test_lexer_string_escapes),
        cmocka_unit_test(test_lexer_rejects_unknown_escape),
        cmocka_unit_test(test_lexer_rejects_unterminated_string),
        cmocka_unit_test(test_lexer_dollar_quotes),
        cmocka_unit_test(test_lexer_rejects_unterminated_dollar_quote),
        cmocka_unit_test(test_lexer_backquoted_names),
        cmocka_unit_test(test_lexer_comments),
        cmocka_unit_test(test_lexer_rejects_unterminated_comment),
        cmocka_unit_test(test_lexer_numbers_and_minus),
        cmocka_unit_test(test_lexer_rejects_invalid_utf8_and_unknown_characters),
        cmocka_unit_test(test_lexer_rejects_nul_bytes),
        cmocka_unit_test(test_lexer_stops_at_the_error_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
