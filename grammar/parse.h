/* SPDX-License-Identifier: MIT */
/*
 * parse.h: the entry point of grammar/ (PostgreSQL's parser.c): parse_file()
 * sets up a reentrant scanner over a loaded source, runs the pure parser,
 * and returns the raw tree. Syntax and lexical errors go to the sink.
 */
#ifndef UPG_GRAMMAR_PARSE_H
#define UPG_GRAMMAR_PARSE_H

#include <stdint.h>

#include "core/arena.h"
#include "core/diag.h"
#include "core/source.h"
#include "grammar/ast.h"

/* Everything the scanner and the parser share: one pointer, passed to both. */
struct parse_ctx {
    struct arena *arena;
    struct diag_sink *diag;
    const struct source *src;
    uint32_t file;
    void *scanner;        /* yyscan_t */
    struct ast_file *ast; /* the tree being built */
    size_t errors;        /* lexical and syntax errors of this file */
};

/* The scanner's extra data (flex extra-type). */
struct lex_state {
    struct parse_ctx *ctx;
    uint32_t offset;    /* byte offset of the next unread byte */
    uint32_t tok_start; /* start of a token scanned in several rules (dollar quotes) */
    const char *dq_tag; /* the open dollar-quote tag, "$tag$" */
    size_t dq_taglen;
};

/*
 * Parses file `file` of the set. Returns the tree (arena-owned; never NULL:
 * on syntax errors it holds what was parsed). *errors receives the number of
 * lexical and syntax errors; when it is non-zero the tree must not go to
 * semantic passes.
 */
struct ast_file *parse_file(struct arena *a, struct diag_sink *diag, const struct source_set *set,
                            uint32_t file, size_t *errors);

/* For tests: the alias of a token number ("\"key\""), or NULL. */
const char *parser_token_alias(int token);
/* For tests: the number of token kinds. */
int parser_token_count(void);

#endif
