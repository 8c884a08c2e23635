/* SPDX-License-Identifier: MIT */
/* test_diag.c: rendering of diagnostics (core/diag.c, source.c). */
#include "tests/unit/unittest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/strbuf.h"

struct fixture {
    struct arena arena;
    struct source_set set;
    struct diag_sink sink;
    uint32_t file;
};

static struct fixture *
fixture(const char *src)
{
    struct fixture *f = calloc(1, sizeof *f);

    arena_init(&f->arena);
    source_set_init(&f->set, &f->arena);
    diag_init(&f->sink, &f->arena, &f->set);
    f->file = source_add(&f->set, "p.upg", src, strlen(src));
    return f;
}

static void
fixture_free(struct fixture *f)
{
    source_set_free(&f->set);
    arena_free(&f->arena);
    free(f);
}

/* Renders into a string the caller frees. */
static char *
render(struct fixture *f, bool json)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    struct diag_render_opts o = {false, false};

    if (json)
        diag_render_json(&f->sink, out, false);
    else
        diag_render(&f->sink, out, &o);
    fclose(out);
    return buf;
}

static struct src_span
span(struct fixture *f, uint32_t start, uint32_t end)
{
    struct src_span s = {f->file, start, end};
    return s;
}

static void
test_diag_header_snippet_and_caret(void **state)
{
    struct fixture *f = fixture("plan \"p\" {\n  dialects postgress;\n}\n");
    char *out;

    (void)state;
    diag_error(&f->sink, span(f, 22, 31), "E0306", "unknown dialect \"%s\"", "postgress");
    diag_help(&f->sink, "Did you mean \"%s\"?", "postgres");
    out = render(f, false);
    assert_string_equal(out, "p.upg:2:12: error: unknown dialect \"postgress\" [E0306]\n"
                             "    2 |   dialects postgress;\n"
                             "      |            ^~~~~~~~~\n"
                             "      = help: Did you mean \"postgres\"?\n");
    free(out);
    fixture_free(f);
}

static void
test_diag_sorted_by_location_then_insertion(void **state)
{
    struct fixture *f = fixture("a\nb\nc\n");
    char *out;

    (void)state;
    diag_error(&f->sink, span(f, 4, 5), "E0001", "third");
    diag_warning(&f->sink, span(f, 0, 1), "W0001", "first");
    diag_error(&f->sink, span(f, 4, 5), "E0002", "fourth");
    diag_error(&f->sink, span(f, 2, 3), "E0003", "second");
    out = render(f, false);
    assert_true(strstr(out, "first") < strstr(out, "second"));
    assert_true(strstr(out, "second") < strstr(out, "third"));
    assert_true(strstr(out, "third") < strstr(out, "fourth"));
    assert_non_null(strstr(out, "p.upg:1:1: warning: first [W0001]"));
    free(out);
    fixture_free(f);
}

static void
test_diag_columns_count_code_points_and_tabs(void **state)
{
    struct fixture *f = fixture("\t`Ünï` x;\n");
    char *out;

    (void)state;
    /* "x" is at byte 9 (Ü and ï take two bytes each): column 8 */
    diag_error(&f->sink, span(f, 9, 10), "E0001", "here");
    out = render(f, false);
    assert_string_equal(out, "p.upg:1:8: error: here [E0001]\n"
                             "    1 |  `Ünï` x;\n"
                             "      |        ^\n");
    free(out);
    fixture_free(f);
}

static void
test_diag_end_of_input_points_past_last_char(void **state)
{
    struct fixture *f = fixture("version \"1\" {");
    char *out;

    (void)state;
    diag_error(&f->sink, span(f, 13, 13), "E0201", "unexpected end of input");
    out = render(f, false);
    assert_non_null(strstr(out, "p.upg:1:14: error"));
    assert_non_null(strstr(out, "      |              ^\n"));
    free(out);
    fixture_free(f);
}

static void
test_diag_multiline_span_notes_continuation(void **state)
{
    struct fixture *f = fixture("create table A (\n  x int\n);\n");
    char *out;

    (void)state;
    diag_error(&f->sink, span(f, 0, 27), "E0001", "spans lines");
    out = render(f, false);
    assert_non_null(strstr(out, "      | ^~~~~~~~~~~~~~~~\n"));
    assert_non_null(strstr(out, "= note: span continues to line 3"));
    free(out);
    fixture_free(f);
}

static void
test_diag_long_line_is_windowed(void **state)
{
    size_t n = 100000;
    char *src = malloc(n + 8);
    struct fixture *f;
    char *out;

    (void)state;
    memset(src, 'a', n);
    memcpy(src + 50000, "@", 1);
    src[n] = '\0';
    f = fixture(src);
    diag_error(&f->sink, span(f, 50000, 50001), "E0101", "unexpected character");
    out = render(f, false);
    assert_true(strlen(out) < 600);
    assert_non_null(strstr(out, "p.upg:1:50001: error"));
    assert_non_null(strstr(out, "...aaaa"));
    free(out);
    fixture_free(f);
    free(src);
}

/* The length of the (valid) UTF-8 character that starts with byte c. */
static size_t
utf8_len(char c)
{
    unsigned char u = (unsigned char)c;

    return u < 0x80 ? 1 : u >= 0xF0 ? 4 : u >= 0xE0 ? 3 : 2;
}

/*
 * A line of tens of kilobytes, with characters of 1 to 4 bytes: the window
 * and the caret of every diagnostic are those of the plain rendering (each
 * code point one cell), however far into the line, and the header's column
 * counts code points from the line's start (checked against a plain count).
 */
static void
test_diag_very_long_line_window_matches_a_plain_count(void **state)
{
    static const char *const pieces[] = {"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\t"};
    size_t cap = 70000, n = 0, k, col;
    char *text = malloc(cap + 8);
    struct fixture *f;
    char *out;

    (void)state;
    while (n < cap) {
        const char *p = pieces[n % 5 == 0 ? (n / 5) % 5 : 0];
        size_t l = strlen(p);
        memcpy(text + n, p, l);
        n += l;
    }
    text[n] = '\0';
    f = fixture(text);
    for (k = 0; k < 5; k++) {
        size_t at = (size_t)((double)n * k / 5.0), b;
        char header[64], expect_window[1024];
        struct strbuf win = STRBUF_INIT;
        while (at > 0 && ((unsigned char)text[at] & 0xC0) == 0x80)
            at--;
        /* the plain count: cells up to `at`, then the window from col - 40 */
        for (b = 0, col = 1; b < at; col++)
            b += utf8_len(text[b]);
        diag_error(&f->sink, span(f, (uint32_t)at, (uint32_t)at + 1), "E0001", "here");
        out = render(f, false);
        snprintf(header, sizeof header, "p.upg:1:%zu: error: here", col);
        assert_non_null(strstr(out, header));
        /* the window's first cells as the plain rendering has them */
        {
            size_t from = col > 40 ? col - 40 : 0, c = 0;
            for (b = 0; b < n && c < from + 120; c++) {
                size_t l = utf8_len(text[b]);
                if (c >= from)
                    strbuf_append(&win, text[b] == '\t' ? " " : text + b, text[b] == '\t' ? 1 : l);
                b += l;
            }
            snprintf(expect_window, sizeof expect_window, "%s%s", from ? "..." : "",
                     strbuf_str(&win));
        }
        assert_non_null(strstr(out, expect_window));
        strbuf_free(&win);
        free(out);
        f->sink.records.len = 0; /* one diagnostic a round */
    }
    fixture_free(f);
    free(text);
}

/*
 * A byte order mark before a first line longer than a column checkpoint's
 * step: the column and the caret are the ones without the mark (the
 * checkpoints counted the mark as a column, and the window was 3 bytes off).
 */
static void
test_diag_byte_order_mark_before_a_long_first_line(void **state)
{
    size_t n = 3000, k;
    char *plain = malloc(n + 1), *marked = malloc(n + 4);
    char *out[2];

    (void)state;
    for (k = 0; k < n; k++)
        plain[k] = (char)('a' + k % 26);
    plain[n] = '\0';
    memcpy(marked, "\xEF\xBB\xBF", 3);
    memcpy(marked + 3, plain, n + 1);
    for (k = 0; k < 2; k++) {
        struct fixture *f = fixture(k ? marked : plain);
        uint32_t at = (uint32_t)(2950 + (k ? 3 : 0));
        diag_error(&f->sink, span(f, at, at + 3), "E0001", "here");
        out[k] = render(f, false);
        fixture_free(f);
    }
    assert_non_null(strstr(out[0], "p.upg:1:2951: error: here"));
    assert_string_equal(out[1], out[0]);
    free(out[0]);
    free(out[1]);
    free(plain);
    free(marked);
}

static void
test_diag_unprintable_bytes_render_as_question_marks(void **state)
{
    struct fixture *f = fixture("a\x01\xff"
                                "b\n");
    char *out;

    (void)state;
    diag_error(&f->sink, span(f, 3, 4), "E0001", "after junk");
    out = render(f, false);
    assert_non_null(strstr(out, "    1 | a??b\n"));
    assert_non_null(strstr(out, "      |    ^\n"));
    free(out);
    fixture_free(f);
}

static void
test_diag_error_limit_drops_and_says_so(void **state)
{
    struct fixture *f = fixture("x\n");
    char *out;
    int i;

    (void)state;
    f->sink.error_limit = 3;
    for (i = 0; i < 5; i++)
        diag_error(&f->sink, span(f, 0, 1), "E0001", "error %d", i);
    assert_int_equal(f->sink.n_errors, 3);
    assert_true(diag_should_stop(&f->sink));
    out = render(f, false);
    assert_non_null(strstr(out, "too many errors; stopped after 3"));
    free(out);
    fixture_free(f);
}

static void
test_diag_werror_turns_warnings_into_errors(void **state)
{
    struct fixture *f = fixture("x\n");

    (void)state;
    f->sink.werror = true;
    diag_warning(&f->sink, span(f, 0, 1), "W0601", "lossy");
    assert_int_equal(diag_errors(&f->sink), 1);
    fixture_free(f);
}

static void
test_diag_json_lines(void **state)
{
    struct fixture *f = fixture("ab\ncd\n");
    char *out;

    (void)state;
    diag_error(&f->sink, span(f, 3, 5), "E0320", "table \"%s\" does not exist", "cd");
    diag_help(&f->sink, "Did you mean \"ab\"?");
    out = render(f, true);
    assert_string_equal(out, "{\"code\":\"E0320\",\"col\":1,\"end_col\":3,\"end_line\":2,"
                             "\"file\":\"p.upg\",\"line\":2,\"message\":\"table \\\"cd\\\" "
                             "does not exist\",\"notes\":[{\"kind\":\"help\",\"message\":"
                             "\"Did you mean \\\"ab\\\"?\"}],\"severity\":\"error\"}\n");
    free(out);
    fixture_free(f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diag_header_snippet_and_caret),
        cmocka_unit_test(test_diag_sorted_by_location_then_insertion),
        cmocka_unit_test(test_diag_columns_count_code_points_and_tabs),
        cmocka_unit_test(test_diag_end_of_input_points_past_last_char),
        cmocka_unit_test(test_diag_multiline_span_notes_continuation),
        cmocka_unit_test(test_diag_long_line_is_windowed),
        cmocka_unit_test(test_diag_very_long_line_window_matches_a_plain_count),
        cmocka_unit_test(test_diag_byte_order_mark_before_a_long_first_line),
        cmocka_unit_test(test_diag_unprintable_bytes_render_as_question_marks),
        cmocka_unit_test(test_diag_error_limit_drops_and_says_so),
        cmocka_unit_test(test_diag_werror_turns_warnings_into_errors),
        cmocka_unit_test(test_diag_json_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
