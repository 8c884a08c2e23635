/* SPDX-License-Identifier: MIT */
/*
 * lower.c: the dialect-independent half of the lowering: quoting, literals,
 * types, origin comments, and the driver that walks a step's operations up
 * or down and hands them to a dialect's emitter.
 *
 * Nothing from the plan reaches SQL unquoted: names go through
 * sql_quote_ident(), strings through sql_quote_string(), numbers were
 * validated by the lexer and the checker, and the only raw text is the
 * author's own (sql blocks and check expressions).
 */
#include "compiler/lower.h"

#include <string.h>

#include "core/util.h"

void
sql_quote_ident(struct strbuf *out, const char *name)
{
    strbuf_putc(out, '"');
    for (; *name; name++) {
        if (*name == '"')
            strbuf_putc(out, '"');
        strbuf_putc(out, *name);
    }
    strbuf_putc(out, '"');
}

void
sql_quote_string(struct strbuf *out, const char *s, enum dialect_id d)
{
    /* With a backslash, PostgreSQL's meaning of '...' depends on
     * standard_conforming_strings; E'...' with the backslash doubled does not. */
    bool escape = d == DIALECT_POSTGRES && strchr(s, '\\');

    if (escape)
        strbuf_putc(out, 'E');
    strbuf_putc(out, '\'');
    for (; *s; s++) {
        if (*s == '\'' || (escape && *s == '\\'))
            strbuf_putc(out, *s);
        strbuf_putc(out, *s);
    }
    strbuf_putc(out, '\'');
}

void
sql_type(struct strbuf *out, const struct sm_type *t, enum dialect_id d)
{
    if (d == DIALECT_POSTGRES) {
        switch (t->kind) {
        case TY_BOOL:
            strbuf_puts(out, "boolean");
            return;
        case TY_INT:
            strbuf_puts(out, "integer");
            return;
        case TY_BIGINT:
            strbuf_puts(out, "bigint");
            return;
        case TY_DOUBLE:
            strbuf_puts(out, "double precision");
            return;
        case TY_DECIMAL:
            strbuf_printf(out, "numeric(%u, %u)", (unsigned)t->precision, (unsigned)t->scale);
            return;
        case TY_STRING:
            strbuf_printf(out, "varchar(%u)", (unsigned)t->len);
            return;
        case TY_TEXT:
            strbuf_puts(out, "text");
            return;
        case TY_BYTES:
            strbuf_puts(out, "bytea");
            return;
        case TY_DATE:
            strbuf_puts(out, "date");
            return;
        case TY_TIMESTAMP:
            strbuf_puts(out, "timestamp");
            return;
        case TY_INTERVAL:
            strbuf_puts(out, "interval");
            return;
        case TY_UUID:
            strbuf_puts(out, "uuid");
            return;
        case TY_JSON:
            strbuf_puts(out, "jsonb");
            return;
        }
    }
    /* SQLite: the affinity names Entity Framework uses. Decimals are TEXT, so
     * that they stay exact; booleans are INTEGER 0 and 1. */
    switch (t->kind) {
    case TY_BOOL:
    case TY_INT:
    case TY_BIGINT:
        strbuf_puts(out, "INTEGER");
        return;
    case TY_DOUBLE:
        strbuf_puts(out, "REAL");
        return;
    case TY_BYTES:
        strbuf_puts(out, "BLOB");
        return;
    default:
        strbuf_puts(out, "TEXT");
        return;
    }
}

void
sql_literal(struct strbuf *out, const struct sm_type *t, const struct ast_literal *lit,
            enum dialect_id d)
{
    switch (lit->kind) {
    case LIT_TRUE:
    case LIT_FALSE:
        if (d == DIALECT_SQLITE)
            strbuf_puts(out, lit->kind == LIT_TRUE ? "1" : "0");
        else
            strbuf_puts(out, lit->kind == LIT_TRUE ? "true" : "false");
        return;
    case LIT_NULL:
        strbuf_puts(out, "NULL");
        return;
    case LIT_INT:
    case LIT_DECIMAL:
        if (d == DIALECT_SQLITE && t->kind == TY_DECIMAL) {
            sql_quote_string(out, lit->text, d); /* decimals are exact TEXT in SQLite */
            return;
        }
        strbuf_puts(out, lit->text);
        return;
    case LIT_STRING:
        sql_quote_string(out, lit->text, d);
        return;
    }
}

void
sql_col_list(struct strbuf *out, const char *const *cols, size_t n)
{
    size_t i;

    strbuf_putc(out, '(');
    for (i = 0; i < n; i++) {
        if (i)
            strbuf_puts(out, ", ");
        sql_quote_ident(out, cols[i]);
    }
    strbuf_putc(out, ')');
}

void
sql_on_delete(struct strbuf *out, enum ast_fk_action a)
{
    static const char *const names[] = {NULL, "CASCADE", "SET NULL", "RESTRICT", "NO ACTION"};

    if (a != FK_ACTION_NONE)
        strbuf_printf(out, " ON DELETE %s", names[a]);
}

void
lower_comment(struct lower_out *lo, const char *text)
{
    struct strbuf *b = &lo->out->body;

    /* one comment line per line of text, so that nothing escapes the comment */
    strbuf_puts(b, "-- ");
    for (; *text; text++) {
        if (*text == '\n')
            strbuf_puts(b, "\n-- ");
        else if (*text != '\r')
            strbuf_putc(b, *text);
    }
    strbuf_putc(b, '\n');
}

void
lower_begin(struct lower_out *lo, const struct ir_op *op)
{
    const struct source *src = source_get(lo->ctx->sources, op->stmt->span.file);
    struct strbuf *b = &lo->out->body;

    if (b->len)
        strbuf_putc(b, '\n');
    if (src)
        strbuf_printf(b, "-- %s:%zu:%zu\n", lo->ctx->origin_file, source_line_of(src, op->stmt->span.start),
                      source_col_of(src, op->stmt->span.start));
}

void
lower_end(struct lower_out *lo)
{
    strbuf_puts(&lo->out->body, ";\n");
    lo->out->nstatements++;
}

void
lower_author_sql(struct lower_out *lo, const struct ir_op *op, const char *text)
{
    struct strbuf *b = &lo->out->body;
    size_t n = strlen(text);

    /* trim surrounding blank lines; the author's text is otherwise verbatim */
    while (n && (text[n - 1] == '\n' || text[n - 1] == ' ' || text[n - 1] == '\t' ||
                 text[n - 1] == '\r'))
        n--;
    while (n && (*text == '\n' || *text == '\r')) {
        text++;
        n--;
    }
    if (n == 0)
        return;
    lower_begin(lo, op);
    strbuf_append(b, text, n);
    if (text[n - 1] != ';')
        strbuf_putc(b, ';');
    strbuf_putc(b, '\n');
    lo->out->nstatements++;
}

void
lower_step(const struct lower_ctx *ctx, const struct plan_version *v, bool down,
           struct step_sql *out)
{
    struct lower_out lo = {ctx, out};
    const struct ir_step *ir = v->ir;
    size_t i;

    memset(out, 0, sizeof *out);
    assert(ir);
    for (i = 0; i < ir->nops; i++) {
        const struct ir_op *op = ir->ops[i];
        if (op->lossy)
            out->lossy = true;
        if (op->kind == IR_SQL && op->irreversible[ctx->dialect]) {
            out->irreversible = true;
            out->irreversible_reason = op->irreversible[ctx->dialect];
        }
    }
    if (down && out->irreversible)
        return; /* no down-step: rollback stops at this step */
    if (ctx->dialect == DIALECT_SQLITE) {
        sqlite_lower_ops(&lo, ir->ops, ir->nops, down);
        return;
    }
    for (i = 0; i < ir->nops; i++)
        pg_lower_op(&lo, ir->ops[down ? ir->nops - 1 - i : i], down);
}

void
sql_constraint_def(struct strbuf *b, const struct snap_key *k)
{
    strbuf_puts(b, "CONSTRAINT ");
    sql_quote_ident(b, k->name);
    switch (k->kind) {
    case KEY_PRIMARY:
        strbuf_puts(b, " PRIMARY KEY ");
        sql_col_list(b, k->cols, k->ncols);
        break;
    case KEY_UNIQUE:
        strbuf_puts(b, " UNIQUE ");
        sql_col_list(b, k->cols, k->ncols);
        break;
    case KEY_FOREIGN:
        strbuf_puts(b, " FOREIGN KEY ");
        sql_col_list(b, k->cols, k->ncols);
        strbuf_puts(b, " REFERENCES ");
        sql_quote_ident(b, k->ref_table);
        strbuf_putc(b, ' ');
        sql_col_list(b, k->ref_cols, k->nref);
        sql_on_delete(b, k->on_delete);
        break;
    case KEY_CHECK:
        strbuf_printf(b, " CHECK (%s)", k->expr);
        break;
    }
}
