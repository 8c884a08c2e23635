/* SPDX-License-Identifier: MIT */
/*
 * parse.c: the driver of grammar/ (PostgreSQL's parser.c). It owns the
 * lifetime of the scanner and the parser for one file: create the scanner
 * with its lex_state, hand it a private copy of the source, run the pure
 * parser, destroy the scanner. The tree lives in the caller's arena.
 */
#include "grammar/parse.h"

#include "core/util.h"
#include "grammar/parser.h"

#define YYSTYPE UPG_YYSTYPE
#define YYLTYPE UPG_YYLTYPE
#include "grammar/lexer.h"

struct ast_file *
parse_file(struct arena *a, struct diag_sink *diag, const struct source_set *set, uint32_t file,
           size_t *errors)
{
    struct parse_ctx ctx = {0};
    struct lex_state st = {0};
    yyscan_t scanner;
    YY_BUFFER_STATE buf;

    ctx.arena = a;
    ctx.diag = diag;
    ctx.src = source_get(set, file);
    ctx.file = file;
    ctx.ast = ast_file_new(a);
    assert(ctx.src);
    st.ctx = &ctx;
    if (upg_yylex_init_extra(&st, &scanner) != 0)
        fatal("could not create the scanner");
    ctx.scanner = scanner;
    /* A copy: flex writes into the buffer it scans, and diagnostics need the original. A byte
     * order mark is skipped; offsets still count it, so spans are the file's. */
    st.offset = ctx.src->bom;
    buf = upg_yy_scan_bytes(ctx.src->text + ctx.src->bom, (int)(ctx.src->len - ctx.src->bom),
                            scanner);
    upg_yyparse(&ctx);
    upg_yy_delete_buffer(buf, scanner);
    upg_yylex_destroy(scanner);
    *errors = ctx.errors;
    return ctx.ast;
}
