/* SPDX-License-Identifier: MIT */
/*
 * lower.c: the dialect-independent half of the lowering: the SQL standard's
 * quoting, origin comments, the helpers the dialects share, the walk over a
 * step's operations that hands them to the dialect's lower(), and the
 * framing of a step's script for the bundle and for upc sql.
 */
#include "compiler/lower.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "runtime/sqlsplit.h"

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
sql_quote_string_std(struct strbuf *out, const char *s)
{
    strbuf_putc(out, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            strbuf_putc(out, '\'');
        strbuf_putc(out, *s);
    }
    strbuf_putc(out, '\'');
}

void
sql_ident(struct strbuf *out, const struct dialect *d, const char *name)
{
    d->quote_ident(out, name);
}

void
sql_col_list(struct strbuf *out, const struct dialect *d, const char *const *cols, size_t n)
{
    size_t i;

    strbuf_putc(out, '(');
    for (i = 0; i < n; i++) {
        if (i)
            strbuf_puts(out, ", ");
        d->quote_ident(out, cols[i]);
    }
    strbuf_putc(out, ')');
}

void
sql_fk_actions(struct strbuf *out, enum sm_fk_action on_delete, enum sm_fk_action on_update)
{
    static const char *const names[] = {NULL, "CASCADE", "SET NULL", "RESTRICT", "NO ACTION"};

    if (on_delete != SM_FK_NONE)
        strbuf_printf(out, " ON DELETE %s", names[on_delete]);
    if (on_update != SM_FK_NONE)
        strbuf_printf(out, " ON UPDATE %s", names[on_update]);
}

void
sql_column_type(struct strbuf *out, const struct dialect *d, const struct snap_col *c)
{
    if (c->declared[d->id])
        strbuf_puts(out, c->declared[d->id]);
    else
        d->declared_type(out, &c->type);
}

void
sql_constraint_def(struct strbuf *b, const struct dialect *d, const struct snap_key *k)
{
    strbuf_puts(b, "CONSTRAINT ");
    d->quote_ident(b, k->name);
    switch (k->kind) {
    case KEY_PRIMARY:
        strbuf_puts(b, " PRIMARY KEY ");
        sql_col_list(b, d, k->cols, k->ncols);
        break;
    case KEY_UNIQUE:
        strbuf_puts(b, " UNIQUE ");
        sql_col_list(b, d, k->cols, k->ncols);
        break;
    case KEY_FOREIGN:
        strbuf_puts(b, " FOREIGN KEY ");
        sql_col_list(b, d, k->cols, k->ncols);
        strbuf_puts(b, " REFERENCES ");
        d->quote_ident(b, k->ref_table);
        strbuf_putc(b, ' ');
        sql_col_list(b, d, k->ref_cols, k->nref);
        sql_fk_actions(b, k->on_delete, k->on_update);
        break;
    case KEY_CHECK:
        strbuf_printf(b, " CHECK (%s)", k->expr);
        break;
    }
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

size_t
lower_line_of(const struct lower_out *lo, const struct ir_op *op)
{
    const struct source *src = source_get(lo->ctx->sources, op->span.file);

    return src ? source_line_of(src, op->span.start) : 0;
}

void
lower_begin(struct lower_out *lo, const struct ir_op *op)
{
    const struct source *src = source_get(lo->ctx->sources, op->span.file);
    struct strbuf *b = &lo->out->body;

    if (b->len)
        strbuf_putc(b, '\n');
    if (!src)
        return;
    strbuf_printf(b, "-- %s:%zu:%zu", lo->ctx->origin_file, source_line_of(src, op->span.start),
                  source_col_of(src, op->span.start));
    /* one token, no spaces: the runtime reports it as the statement's origin */
    for (size_t i = 1; lo->run && i < lo->nrun; i++)
        if ((src = source_get(lo->ctx->sources, lo->run[i]->span.file)))
            strbuf_printf(b, ",%zu:%zu", source_line_of(src, lo->run[i]->span.start),
                          source_col_of(src, lo->run[i]->span.start));
    strbuf_putc(b, '\n');
}

void
lower_create_index(struct lower_out *lo, const struct ir_op *op, const char *table,
                   const char *name, bool unique, const char *const *cols, size_t ncols)
{
    struct strbuf *b = &lo->out->body;

    lower_begin(lo, op);
    strbuf_printf(b, "CREATE %sINDEX ", unique ? "UNIQUE " : "");
    lo->d->quote_ident(b, name);
    strbuf_puts(b, " ON ");
    lo->d->quote_ident(b, table);
    strbuf_putc(b, ' ');
    sql_col_list(b, lo->d, cols, ncols);
    lower_end(lo);
}

void
lower_drop(struct lower_out *lo, const struct ir_op *op, const char *what, const char *name)
{
    lower_begin(lo, op);
    strbuf_printf(&lo->out->body, "DROP %s ", what);
    lo->d->quote_ident(&lo->out->body, name);
    lower_end(lo);
}

void
lower_end(struct lower_out *lo)
{
    strbuf_puts(&lo->out->body, ";\n");
    lo->out->nstatements++;
}

void
lower_unit(struct lower_out *lo, const char *pre, const char *post, const char *fix_when,
           const char *fix)
{
    struct step_sql *s = lo->out;
    struct step_unit *u;

    assert(s->nstatements > 0 && (!fix_when) == (!fix));
    s->units = xrealloc(s->units, (s->nunits + 1) * sizeof *s->units);
    u = &s->units[s->nunits++];
    u->kind = UNIT_ALONE;
    u->statement = s->nstatements;
    u->pre = xstrdup(pre);
    u->post = xstrdup(post);
    u->fix_when = fix_when ? xstrdup(fix_when) : NULL;
    u->fix = fix ? xstrdup(fix) : NULL;
}

void
lower_unit_batches(struct lower_out *lo, const char *pre, const char *post)
{
    lower_unit(lo, pre, post, NULL, NULL);
    lo->out->units[lo->out->nunits - 1].kind = UNIT_BATCHES;
}

void
lower_unit_break(struct lower_out *lo)
{
    struct step_sql *s = lo->out;
    struct step_unit *u;

    s->units = xrealloc(s->units, (s->nunits + 1) * sizeof *s->units);
    u = &s->units[s->nunits++];
    memset(u, 0, sizeof *u);
    u->kind = UNIT_TRANSACTION;
    u->statement = s->nstatements + 1;
}

void
step_sql_free(struct step_sql *s)
{
    for (size_t i = 0; i < s->nunits; i++) {
        free(s->units[i].pre);
        free(s->units[i].post);
        free(s->units[i].fix_when);
        free(s->units[i].fix);
    }
    free(s->units);
    s->units = NULL;
    s->nunits = 0;
    free(s->estimate);
    s->estimate = NULL;
    strbuf_free(&s->body);
}

void
lower_rename(struct lower_out *lo, const struct ir_op *op, const char *table, const char *column,
             const char *to)
{
    struct strbuf *b = &lo->out->body;

    lower_begin(lo, op);
    strbuf_puts(b, "ALTER TABLE ");
    lo->d->quote_ident(b, table);
    if (column) {
        strbuf_puts(b, " RENAME COLUMN ");
        lo->d->quote_ident(b, column);
        strbuf_puts(b, " TO ");
    } else {
        strbuf_puts(b, " RENAME TO ");
    }
    lo->d->quote_ident(b, to);
    lower_end(lo);
}

void
lower_index_op(struct lower_out *lo, const struct ir_op *op, const struct snap_table *to)
{
    const struct snap_index *ix = op->index;

    if (snap_find_index(to, ix->name))
        lower_create_index(lo, op, to->name, ix->name, ix->unique, ix->cols, ix->ncols);
    else
        lower_drop(lo, op, "INDEX", ix->name);
}

void
lower_sql_op(struct lower_out *lo, const struct ir_op *op, bool down)
{
    const char *text = down ? op->sql_down[lo->d->id] : op->sql_up[lo->d->id];

    if (text)
        lower_author_sql(lo, op, text);
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
    /* as many statements as uprun's splitter will see (the same code: sqlsplit.h), which it
     * checks against the manifest before it runs the step */
    {
        struct sql_stmt *st = NULL;
        size_t k = sql_split(text, n, &st);
        free(st);
        lo->out->nstatements += k ? k : 1;
    }
}

void
lower_step(const struct lower_ctx *ctx, const struct plan_version *v, bool down,
           struct step_sql *out)
{
    struct lower_out lo = {ctx, ctx->dialect, out, NULL, 0, NULL, 0};
    const struct ir_step *ir = v->ir;
    struct ir_op **seq;
    size_t i;

    memset(out, 0, sizeof *out);
    assert(ir);
    for (i = 0; i < ir->nops; i++)
        out->lossy = out->lossy || ir->ops[i]->lossy;
    out->irreversible_reason = ir_irreversible(ir, ctx->dialect->id);
    out->irreversible = out->irreversible_reason != NULL;
    if (down && out->irreversible)
        return; /* no down-step: rollback stops at this step */
    /* the operations in the order of travel */
    seq = xmalloc((ir->nops + 1) * sizeof *seq);
    for (i = 0; i < ir->nops; i++)
        seq[i] = ir->ops[down ? ir->nops - 1 - i : i];
    ctx->dialect->lower(&lo, seq, ir->nops, down);
    free(lo.online_tables);
    free(seq);
}

/* Where the text of a statement that starts at start begins: the comment lines above it. */
static size_t
chunk_start(const char *body, size_t start)
{
    size_t p = start;

    while (p && body[p - 1] != '\n')
        p--;
    for (;;) {
        size_t q = p;
        if (!q)
            break;
        q--; /* the newline that ends the line above */
        while (q && body[q - 1] != '\n')
            q--;
        if (strncmp(body + q, "--", 2) != 0)
            break;
        p = q;
    }
    return p;
}

/*
 * upc sql's frame: BEGIN and COMMIT around the statements of each
 * transactional unit, nothing around a unit of its own (struct step_unit).
 */
static void
frame_units(struct strbuf *out, const struct step_sql *s)
{
    const char *body = strbuf_str(&s->body);
    struct sql_stmt *st = NULL;
    size_t n = s->nunits ? sql_split(body, s->body.len, &st) : 0, pos = 0, next = 1;

    for (size_t u = 0; u < s->nunits && s->units[u].statement <= n; u++) {
        size_t k = s->units[u].statement, cut = chunk_start(body, st[k - 1].start), end, e;
        if (k > next) { /* the statements before it, in a transaction */
            for (e = cut; e > pos && body[e - 1] == '\n'; e--)
                ;
            strbuf_puts(out, "BEGIN;\n\n");
            strbuf_append(out, body + pos, e - pos);
            strbuf_puts(out, "\n\nCOMMIT;\n\n");
        }
        if (s->units[u].kind == UNIT_TRANSACTION) { /* a transaction begins at statement k */
            pos = cut;
            next = k;
            continue;
        }
        end = k < n ? chunk_start(body, st[k].start) : s->body.len;
        for (e = end; e > cut && body[e - 1] == '\n'; e--)
            ;
        strbuf_append(out, body + cut, e - cut);
        strbuf_puts(out, k < n ? "\n\n" : "\n");
        pos = end;
        next = k + 1;
    }
    if (next <= (s->nunits ? n : s->nstatements)) {
        strbuf_puts(out, "BEGIN;\n\n");
        strbuf_append(out, body + pos, s->body.len - pos);
        strbuf_puts(out, "\nCOMMIT;\n");
    }
    free(st);
}

bool
step_script(const struct lower_ctx *ctx, const struct plan_version *v, size_t index, bool down,
            enum step_frame frame, struct strbuf *out, struct step_sql *s)
{
    const char *from = v->parent ? v->parent->name : "empty";
    const struct dialect *d = ctx->dialect;

    lower_step(ctx, v, down, s);
    if (down && s->irreversible) {
        strbuf_free(&s->body);
        return false;
    }
    if (frame == FRAME_BUNDLE) {
        strbuf_printf(out, "-- upgrade-plan: plan \"%s\", step %zu, %s -> %s (%s), %s\n",
                      ctx->plan->name, index, down ? v->name : from, down ? from : v->name,
                      down ? "down" : "up", d->name);
        d->script_header(out, s);
        if (down && s->lossy)
            strbuf_puts(out,
                        "-- Lossy: the structure comes back, the data dropped by the step does "
                        "not.\n");
        if (s->nstatements == 0)
            strbuf_puts(out, "-- Nothing to do: the step changes no schema.\n");
        strbuf_putc(out, '\n');
        strbuf_append(out, strbuf_str(&s->body), s->body.len);
    } else if (s->nstatements) {
        if (s->before_tx)
            strbuf_printf(out, "%s\n", s->before_tx);
        frame_units(out, s);
        if (s->after_tx)
            strbuf_printf(out, "%s\n", s->after_tx);
    }
    strbuf_free(&s->body);
    return true;
}
