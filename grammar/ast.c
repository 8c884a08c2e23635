/* SPDX-License-Identifier: MIT */
/*
 * ast.c: constructors for the nodes parser.y builds, and ast_dump(), a
 * stable text form of the tree used by `upc check --dump=ast` and by the
 * parser's unit tests.
 */
#include "grammar/ast.h"

#include <string.h>

#include "core/strbuf.h"

struct ast_file *
ast_file_new(struct arena *a)
{
    return ARENA_NEW(a, struct ast_file);
}

struct ast_stmt *
ast_stmt_new(struct arena *a, enum ast_stmt_kind kind, struct src_span span)
{
    struct ast_stmt *s = ARENA_NEW(a, struct ast_stmt);

    s->kind = kind;
    s->span = span;
    return s;
}

struct ast_column *
ast_column_new(struct arena *a, struct ast_ident name, struct ast_type type, struct src_span span)
{
    struct ast_column *c = ARENA_NEW(a, struct ast_column);

    c->name = name;
    c->type = type;
    c->span = span;
    return c;
}

struct ast_colcons *
ast_colcons_new(struct arena *a, enum ast_colcons_kind kind, struct src_span span)
{
    struct ast_colcons *c = ARENA_NEW(a, struct ast_colcons);

    c->kind = kind;
    c->span = span;
    return c;
}

struct ast_tcons *
ast_tcons_new(struct arena *a, enum ast_tcons_kind kind, struct src_span span)
{
    struct ast_tcons *c = ARENA_NEW(a, struct ast_tcons);

    c->kind = kind;
    c->span = span;
    return c;
}

struct ast_literal *
ast_literal_new(struct arena *a, enum ast_lit_kind kind, const char *text, size_t len,
                struct src_span span)
{
    struct ast_literal *l = ARENA_NEW(a, struct ast_literal);

    l->kind = kind;
    l->text = text;
    l->len = len;
    l->span = span;
    return l;
}

/* "-" applied to a number literal: a new literal whose text starts with '-'. */
struct ast_literal *
ast_literal_negate(struct arena *a, struct ast_literal *lit, struct src_span span)
{
    char *t = arena_alloc(a, lit->len + 2);

    t[0] = '-';
    memcpy(t + 1, lit->text, lit->len);
    return ast_literal_new(a, lit->kind, t, lit->len + 1, span);
}

struct ast_version *
ast_version_new(struct arena *a, struct ast_string version, struct ast_string from,
                struct src_span span)
{
    struct ast_version *v = ARENA_NEW(a, struct ast_version);

    v->version = version;
    v->from = from;
    v->span = span;
    return v;
}

struct ast_plan *
ast_plan_new(struct arena *a, struct ast_string name, struct src_span span)
{
    struct ast_plan *p = ARENA_NEW(a, struct ast_plan);

    p->name = name;
    p->span = span;
    return p;
}

struct ast_plan_item *
ast_plan_item_new(struct arena *a, enum ast_plan_item_kind kind, struct src_span span)
{
    struct ast_plan_item *i = ARENA_NEW(a, struct ast_plan_item);

    i->kind = kind;
    i->span = span;
    return i;
}

void
ast_sql_add(struct arena *a, struct ast_stmt *sql, enum ast_sql_item_kind kind,
            struct ast_string text, struct src_span span)
{
    struct ast_sql_item *it = ARENA_NEW(a, struct ast_sql_item);

    it->kind = kind;
    it->text = text;
    it->span = span;
    VEC_PUSH(a, &sql->sql_items, it);
}

const char *
ast_stmt_kind_name(enum ast_stmt_kind kind)
{
    switch (kind) {
    case STMT_CREATE_TABLE:
        return "create-table";
    case STMT_DROP_TABLE:
        return "drop-table";
    case STMT_RENAME_TABLE:
        return "rename-table";
    case STMT_ADD_COLUMN:
        return "add-column";
    case STMT_DROP_COLUMN:
        return "drop-column";
    case STMT_RENAME_COLUMN:
        return "rename-column";
    case STMT_ALTER_TYPE:
        return "alter-type";
    case STMT_SET_NOT_NULL:
        return "set-not-null";
    case STMT_DROP_NOT_NULL:
        return "drop-not-null";
    case STMT_SET_DEFAULT:
        return "set-default";
    case STMT_DROP_DEFAULT:
        return "drop-default";
    case STMT_ADD_CONSTRAINT:
        return "add-constraint";
    case STMT_DROP_PRIMARY_KEY:
        return "drop-primary-key";
    case STMT_DROP_CONSTRAINT:
        return "drop-constraint";
    case STMT_CREATE_INDEX:
        return "create-index";
    case STMT_DROP_INDEX:
        return "drop-index";
    case STMT_NOTICE:
        return "notice";
    case STMT_BREAKING:
        return "breaking";
    case STMT_SQL:
        return "sql";
    }
    return "?";
}

static void
dump_ident(struct strbuf *out, const char *label, const struct ast_ident *id)
{
    if (id->name)
        strbuf_printf(out, " %s=`%s`", label, id->name);
}

static void
dump_idents(struct strbuf *out, const char *label, const ast_ident_list *l)
{
    size_t i;

    if (!l->len)
        return;
    strbuf_printf(out, " %s=(", label);
    for (i = 0; i < l->len; i++)
        strbuf_printf(out, "%s`%s`", i ? "," : "", l->items[i].name);
    strbuf_putc(out, ')');
}

static void
dump_type(struct strbuf *out, const struct ast_type *t)
{
    int i;

    strbuf_printf(out, " type=%s", t->name);
    if (t->nparams) {
        strbuf_putc(out, '(');
        for (i = 0; i < t->nparams; i++)
            strbuf_printf(out, "%s%s", i ? "," : "", t->params[i]);
        strbuf_putc(out, ')');
    }
}

static void
dump_literal(struct strbuf *out, const char *label, const struct ast_literal *l)
{
    static const char *const kinds[] = {"int",   "decimal", "string", "true",
                                        "false", "null",    "expr"};

    strbuf_printf(out, " %s=%s", label, kinds[l->kind]);
    if (l->kind == LIT_INT || l->kind == LIT_DECIMAL || l->kind == LIT_STRING ||
        l->kind == LIT_EXPR)
        strbuf_printf(out, ":%s%s", l->text, l->call ? "()" : "");
}

static const char *
fk_action_name(enum ast_fk_action a)
{
    static const char *const names[] = {"", "cascade", "set-null", "restrict", "no-action"};
    return names[a];
}

static void
dump_actions(struct strbuf *out, const struct ast_fk_actions *a)
{
    if (a->on_delete)
        strbuf_printf(out, " on-delete=%s", fk_action_name(a->on_delete));
    if (a->on_update)
        strbuf_printf(out, " on-update=%s", fk_action_name(a->on_update));
}

static void
dump_column(struct strbuf *out, const struct ast_column *c)
{
    static const char *const kinds[] = {"not-null", "null",    "primary-key", "unique",
                                        "identity", "default", "references",  "check",
                                        "fill",     "as"};
    size_t i;

    strbuf_printf(out, "      column `%s`", c->name.name);
    dump_type(out, &c->type);
    for (i = 0; i < c->cons.len; i++) {
        const struct ast_colcons *cc = c->cons.items[i];
        if (cc->name.name)
            strbuf_printf(out, " constraint=`%s`", cc->name.name);
        if (cc->kind == CC_DEFAULT || cc->kind == CC_FILL) {
            dump_literal(out, kinds[cc->kind], cc->dflt);
            continue;
        }
        strbuf_printf(out, " %s", kinds[cc->kind]);
        if (cc->kind == CC_REFERENCES) {
            strbuf_printf(out, "=`%s`", cc->ref_table.name);
            dump_idents(out, "cols", &cc->ref_cols);
            dump_actions(out, &cc->actions);
        } else if (cc->kind == CC_CHECK) {
            strbuf_printf(out, "=\"%s\"", cc->expr.text);
        } else if (cc->kind == CC_DECLARED) {
            strbuf_printf(out, "=`%s`:\"%s\"", cc->dialect.name, cc->expr.text);
        }
    }
    strbuf_putc(out, '\n');
}

static void
dump_tcons(struct strbuf *out, const struct ast_tcons *t, const char *indent)
{
    static const char *const kinds[] = {"primary-key", "unique", "foreign-key", "check"};

    strbuf_printf(out, "%s%s", indent, kinds[t->kind]);
    dump_ident(out, "name", &t->name);
    dump_idents(out, "cols", &t->cols);
    if (t->kind == TC_FOREIGN_KEY) {
        dump_ident(out, "ref", &t->ref_table);
        dump_idents(out, "ref-cols", &t->ref_cols);
        dump_actions(out, &t->actions);
    }
    if (t->kind == TC_CHECK)
        strbuf_printf(out, " expr=\"%s\"", t->expr.text);
    strbuf_putc(out, '\n');
}

static void
dump_stmt(struct strbuf *out, const struct ast_stmt *s)
{
    size_t i;

    strbuf_printf(out, "    %s", ast_stmt_kind_name(s->kind));
    dump_ident(out, "table", &s->table);
    dump_ident(out, "name", &s->name);
    dump_ident(out, "to", &s->new_name);
    if (s->type)
        dump_type(out, s->type);
    if (s->dflt)
        dump_literal(out, "default", s->dflt);
    if (s->kind == STMT_CREATE_INDEX) {
        strbuf_printf(out, "%s", s->unique ? " unique" : "");
        dump_idents(out, "cols", &s->cols);
    }
    if ((s->kind == STMT_CREATE_INDEX || s->kind == STMT_DROP_INDEX) && s->concurrently)
        strbuf_puts(out, " concurrently");
    if (s->online)
        strbuf_puts(out, " online");
    if (s->kind == STMT_NOTICE)
        strbuf_printf(out, " level=%s text=\"%s\"", s->level == NOTICE_WARNING ? "warning" : "info",
                      s->text.text);
    if (s->kind == STMT_BREAKING)
        strbuf_printf(out, " id=\"%s\" text=\"%s\"", s->id.text, s->text.text);
    if (s->kind == STMT_SQL) {
        static const char *const kinds[] = {"up", "down", "irreversible"};
        dump_ident(out, "dialect", &s->dialect);
        for (i = 0; i < s->sql_items.len; i++) {
            const struct ast_sql_item *it = s->sql_items.items[i];
            strbuf_printf(out, " %s", kinds[it->kind]);
            if (it->text.text)
                strbuf_printf(out, "=\"%s\"", it->text.text);
        }
    }
    dump_idents(out, "allow", &s->allows);
    strbuf_putc(out, '\n');
    if (s->column)
        dump_column(out, s->column);
    if (s->tcons)
        dump_tcons(out, s->tcons, "      ");
    for (i = 0; i < s->elems.len; i++) {
        if (s->elem_is_column.items[i])
            dump_column(out, s->elems.items[i]);
        else
            dump_tcons(out, s->elems.items[i], "      ");
    }
}

void
ast_dump(const struct ast_file *file, struct strbuf *out)
{
    size_t i, j;

    for (i = 0; i < file->plans.len; i++) {
        const struct ast_plan *p = file->plans.items[i];
        strbuf_printf(out, "plan \"%s\"\n", p->name.text);
        for (j = 0; j < p->items.len; j++) {
            const struct ast_plan_item *it = p->items.items[j];
            if (it->kind == PLAN_ITEM_DIALECTS) {
                dump_idents(out, "  dialects", &it->dialects), strbuf_putc(out, '\n');
            } else if (it->kind == PLAN_ITEM_TYPES) {
                strbuf_printf(out, "  types `%s`", it->dialect.name);
                for (size_t k = 0; k < it->type_decls.len; k++)
                    strbuf_printf(out, " %s=\"%s\"", it->type_decls.items[k].type.name,
                                  it->type_decls.items[k].declared.text);
                strbuf_putc(out, '\n');
            } else if (it->kind == PLAN_ITEM_LEGACY) {
                static const char *const kinds[] = {"null", "default", "as", "no foreign key"};
                strbuf_printf(out, "  legacy `%s`", it->dialect.name);
                for (size_t k = 0; k < it->legacy.len; k++) {
                    const struct ast_legacy *l = &it->legacy.items[k];
                    strbuf_printf(out, " `%s`", l->table.name);
                    if (l->kind != LEGACY_NO_FK)
                        strbuf_printf(out, ".`%s`", l->column.name);
                    strbuf_printf(out, " %s", kinds[l->kind]);
                    if (l->kind == LEGACY_TYPE)
                        strbuf_printf(out, " \"%s\"", l->declared.text);
                }
                strbuf_putc(out, '\n');
            } else
                strbuf_printf(out, "  %s \"%s\"\n",
                              it->kind == PLAN_ITEM_TITLE ? "title" : "description", it->text.text);
        }
    }
    for (i = 0; i < file->versions.len; i++) {
        const struct ast_version *v = file->versions.items[i];
        strbuf_printf(out, "version \"%s\"", v->version.text);
        if (v->from.text)
            strbuf_printf(out, " from \"%s\"", v->from.text);
        for (j = 0; j < v->merges.len; j++)
            strbuf_printf(out, " merges \"%s\"", v->merges.items[j].text);
        strbuf_putc(out, '\n');
        for (j = 0; j < v->stmts.len; j++)
            dump_stmt(out, v->stmts.items[j]);
    }
}
