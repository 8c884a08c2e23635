/* SPDX-License-Identifier: MIT */
/*
 * keywords.c: keyword lookup by binary search over keywords.def, which is
 * kept sorted (a unit test checks it). Only ASCII letters fold, so a word
 * with any other byte is never a keyword.
 */
#include "grammar/keywords.h"

#include <string.h>

#include "grammar/parser.h"

const struct keyword keyword_table[] = {
#define KW(word, tok, cat) {word, TOK_##tok, cat},
#include "grammar/keywords.def"
#undef KW
};

const size_t keyword_count = sizeof keyword_table / sizeof keyword_table[0];

const struct keyword *
keyword_lookup(const char *s, size_t len)
{
    char buf[16];
    size_t i, lo = 0, hi = keyword_count;

    if (len == 0 || len >= sizeof buf)
        return NULL;
    for (i = 0; i < len; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        else if (!(c >= 'a' && c <= 'z'))
            return NULL;
        buf[i] = c;
    }
    buf[len] = '\0';
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(buf, keyword_table[mid].word);
        if (r == 0)
            return &keyword_table[mid];
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}
