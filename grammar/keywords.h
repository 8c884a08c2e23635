/* SPDX-License-Identifier: MIT */
/* keywords.h: the keyword table built from keywords.def, and its lookup. */
#ifndef UPG_GRAMMAR_KEYWORDS_H
#define UPG_GRAMMAR_KEYWORDS_H

#include <stddef.h>

enum keyword_category { KW_RESERVED, KW_UNRESERVED, KW_TYPE };

struct keyword {
    const char *word; /* lower case */
    int token;        /* TOK_* of parser.h */
    enum keyword_category category;
};

extern const struct keyword keyword_table[];
extern const size_t keyword_count;

/* Case-insensitive lookup of s[0..len); NULL when it is not a keyword. */
const struct keyword *keyword_lookup(const char *s, size_t len);

#endif
