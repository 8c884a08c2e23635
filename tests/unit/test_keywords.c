/* SPDX-License-Identifier: MIT */
/*
 * test_keywords.c: keywords.def and parser.y's %token list agree (the spirit
 * of PostgreSQL's check_keywords.pl), and the table is sorted for bsearch.
 */
#include "tests/unit/unittest.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "grammar/keywords.h"
#include "grammar/parse.h"
#include "grammar/parser.h"

static void
test_keywords_table_is_sorted(void **state)
{
    size_t i;

    (void)state;
    for (i = 1; i < keyword_count; i++)
        if (strcmp(keyword_table[i - 1].word, keyword_table[i].word) >= 0)
            fail_msg("\"%s\" is not before \"%s\"", keyword_table[i - 1].word,
                     keyword_table[i].word);
}

static void
test_keywords_match_token_aliases(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < keyword_count; i++) {
        const char *alias = parser_token_alias(keyword_table[i].token);
        assert_non_null(alias);
        assert_string_equal(alias, keyword_table[i].word);
    }
}

static void
test_keywords_every_keyword_token_is_in_table(void **state)
{
    int tok;
    size_t found = 0;

    (void)state;
    /* Token numbers of named tokens start after the character range. */
    for (tok = 256; tok < 256 + parser_token_count() + 16; tok++) {
        const char *alias = parser_token_alias(tok);
        static const char *const not_keywords[] = {"error", "identifier", "integer", "end of input",
                                                   "invalid token", "string literal",
                                                   "decimal number"};
        size_t k;
        bool skip = false;
        if (!alias || strlen(alias) < 2 || !(alias[0] >= 'a' && alias[0] <= 'z'))
            continue; /* punctuation, bison's own symbols */
        for (k = 0; k < sizeof not_keywords / sizeof not_keywords[0]; k++)
            skip = skip || strcmp(alias, not_keywords[k]) == 0;
        if (skip)
            continue;
        if (!keyword_lookup(alias, strlen(alias)))
            fail_msg("token \"%s\" is not in keywords.def", alias);
        found++;
    }
    assert_int_equal(found, keyword_count);
}

static void
test_keywords_lookup_folds_ascii_case_only(void **state)
{
    (void)state;
    assert_non_null(keyword_lookup("CREATE", 6));
    assert_non_null(keyword_lookup("Key", 3));
    assert_null(keyword_lookup("créate", strlen("créate")));
    assert_null(keyword_lookup("keys", 4));
    assert_null(keyword_lookup("", 0));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keywords_table_is_sorted),
        cmocka_unit_test(test_keywords_match_token_aliases),
        cmocka_unit_test(test_keywords_every_keyword_token_is_in_table),
        cmocka_unit_test(test_keywords_lookup_folds_ascii_case_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
