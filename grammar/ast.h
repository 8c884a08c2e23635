/* SPDX-License-Identifier: MIT */
/*
 * ast.h: the raw syntax tree built by parser.y.
 *
 * The tree records what was written and where, nothing more: names are not
 * resolved, versions are not parsed, types are not checked. compiler/ does
 * all of that. Every node lives in the compilation's arena and carries the
 * span of the source it came from, so later passes can point at it.
 */
#ifndef UPG_GRAMMAR_AST_H
#define UPG_GRAMMAR_AST_H

#ifdef UPG_NO_AST
#error                                                                                             \
    "grammar/ast.h reached from the back end: after the checker, code reads the model (compiler/plan.h, compiler/ir.h), never the AST (docs/hacking.md)"
#endif

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/source.h"
#include "core/vec.h"

/* A name as written: bare identifier, keyword used as a name, or `quoted`. */
struct ast_ident {
    const char *name; /* NULL when absent (optional names) */
    struct src_span span;
};

/* A string literal ("..." or $tag$...$tag$), escapes already processed. */
struct ast_string {
    const char *text; /* NULL when absent */
    size_t len;
    struct src_span span;
};

/* LIT_EXPR: a default that is an expression, as written (current_timestamp, random_uuid()). */
enum ast_lit_kind { LIT_INT, LIT_DECIMAL, LIT_STRING, LIT_TRUE, LIT_FALSE, LIT_NULL, LIT_EXPR };

struct ast_literal {
    enum ast_lit_kind kind;
    const char
        *text; /* digits (with a leading '-' when negative), the string, or the expression's name */
    size_t len;
    bool call; /* LIT_EXPR: written with "()" */
    struct src_span span;
};

/* A type as written: name (lower-cased keyword or identifier) and 0-2 integer parameters. */
struct ast_type {
    const char *name;
    struct src_span name_span;
    int nparams;
    const char *params[2];
    struct src_span param_spans[2];
    struct src_span span;
};

enum ast_fk_action {
    FK_ACTION_NONE, /* not given: the database's default (no action) */
    FK_ACTION_CASCADE,
    FK_ACTION_SET_NULL,
    FK_ACTION_RESTRICT,
    FK_ACTION_NO_ACTION,
};

typedef VEC(struct ast_ident) ast_ident_list;

/* Column constraints, in the order written. */
enum ast_colcons_kind {
    CC_NOT_NULL,
    CC_NULL,
    CC_PRIMARY_KEY,
    CC_UNIQUE,
    CC_IDENTITY,
    CC_DEFAULT,
    CC_REFERENCES,
    CC_CHECK,
    CC_FILL,     /* fill v: the value existing rows get (add column) */
    CC_DECLARED, /* as DIALECT "type": the type the dialect declares it with */
};

/* The actions of a foreign key: on delete, on update, in either order, each at most once. */
struct ast_fk_actions {
    enum ast_fk_action on_delete, on_update;
    struct src_span twice; /* an action given twice (file 0: none) */
};

struct ast_colcons {
    enum ast_colcons_kind kind;
    struct src_span span;
    struct ast_ident name;      /* constraint NAME before it (optional) */
    struct ast_literal *dflt;   /* CC_DEFAULT, CC_FILL */
    struct ast_ident ref_table; /* CC_REFERENCES */
    ast_ident_list ref_cols;    /* CC_REFERENCES: empty means the referenced table's key */
    struct ast_fk_actions actions;
    struct ast_string expr;   /* CC_CHECK; CC_DECLARED: the type */
    struct ast_ident dialect; /* CC_DECLARED */
};

struct ast_column {
    struct ast_ident name;
    struct ast_type type;
    VEC(struct ast_colcons *) cons;
    struct src_span span;
};

enum ast_tcons_kind { TC_PRIMARY_KEY, TC_UNIQUE, TC_FOREIGN_KEY, TC_CHECK };

struct ast_tcons {
    enum ast_tcons_kind kind;
    struct ast_ident name; /* optional */
    ast_ident_list cols;   /* key columns; FK: the referencing columns */
    struct ast_ident ref_table;
    ast_ident_list ref_cols;
    struct ast_fk_actions actions;
    struct ast_string expr; /* TC_CHECK */
    struct src_span span;
};

enum ast_stmt_kind {
    STMT_CREATE_TABLE,
    STMT_DROP_TABLE,
    STMT_RENAME_TABLE,
    STMT_ADD_COLUMN,
    STMT_DROP_COLUMN,
    STMT_RENAME_COLUMN,
    STMT_ALTER_TYPE,
    STMT_SET_NOT_NULL,
    STMT_DROP_NOT_NULL,
    STMT_SET_DEFAULT,
    STMT_DROP_DEFAULT,
    STMT_ADD_CONSTRAINT, /* primary key, unique, foreign key, check */
    STMT_DROP_PRIMARY_KEY,
    STMT_DROP_CONSTRAINT,
    STMT_CREATE_INDEX,
    STMT_DROP_INDEX,
    STMT_NOTICE,
    STMT_BREAKING,
    STMT_SQL,
};

enum ast_notice_level { NOTICE_INFO, NOTICE_WARNING };

enum ast_sql_item_kind { AST_SQL_UP, AST_SQL_DOWN, AST_SQL_IRREVERSIBLE };

/* One item of a sql block: up "...", down "..." or irreversible ["reason"]. */
struct ast_sql_item {
    enum ast_sql_item_kind kind;
    struct ast_string text; /* text NULL for a bare irreversible */
    struct src_span span;   /* the keyword */
};

struct ast_stmt {
    enum ast_stmt_kind kind;
    struct src_span span;
    struct ast_ident table;    /* the table the statement works on */
    struct ast_ident name;     /* column / index / constraint; new table for rename */
    struct ast_ident new_name; /* rename column: the new name */
    VEC(void *) elems;         /* create table: struct ast_column * or struct ast_tcons * */
    VEC(bool) elem_is_column;  /* parallel to elems */
    struct ast_column *column; /* add column */
    struct ast_type *type;     /* alter column ... type */
    struct ast_literal *dflt;  /* set default */
    struct ast_tcons *tcons;   /* add constraint */
    ast_ident_list cols;       /* create index */
    bool unique;               /* create unique index */
    bool concurrently;         /* create index, drop index: ... concurrently */
    bool online;               /* add constraint, set not null: ... online */
    enum ast_notice_level level;
    bool level_given;
    struct ast_string text; /* notice, breaking */
    struct ast_string id;   /* breaking */
    /* sql blocks: the dialect (optional) and the items in the order written */
    struct ast_ident dialect;
    VEC(struct ast_sql_item *) sql_items;
    /* "allow lint, ...": the lints the author accepts for this statement */
    ast_ident_list allows;
};

struct ast_version {
    struct ast_string version;
    struct ast_string from;        /* text NULL when there is no from */
    VEC(struct ast_string) merges; /* merges "1.2.1", ...: hotfixes it takes in */
    VEC(struct ast_stmt *) stmts;
    struct src_span span;
};

enum ast_plan_item_kind {
    PLAN_ITEM_TITLE,
    PLAN_ITEM_DIALECTS,
    PLAN_ITEM_DESCRIPTION,
    PLAN_ITEM_TYPES,
    PLAN_ITEM_LEGACY
};

/* legacy DIALECT { table T { ... } }: one way a real installation's schema may differ. */
enum ast_legacy_kind {
    LEGACY_NULLABLE, /* T { c null; }: the column may be nullable */
    LEGACY_DEFAULT,  /* T { c default v; }: it may have this default (a string, as the database
                        reports it: "false" where the plan has false) */
    LEGACY_TYPE,     /* T { c as "DECL"; }: it may be declared with this type */
    LEGACY_NO_FK     /* T { no foreign key (a, b); }: this foreign key may be missing */
};

struct ast_legacy {
    enum ast_legacy_kind kind;
    struct ast_ident table;
    struct ast_ident column; /* all but LEGACY_NO_FK */
    struct ast_literal *dflt;
    struct ast_string declared;
    ast_ident_list cols; /* LEGACY_NO_FK */
    struct src_span span;
};

/* types DIALECT { TYPE as "declared"; ... }: one mapping. */
struct ast_type_decl {
    struct ast_ident type; /* the portable type's name */
    struct ast_string declared;
    struct src_span span;
};

struct ast_plan_item {
    enum ast_plan_item_kind kind;
    struct ast_string text;
    ast_ident_list dialects;
    struct ast_ident dialect;             /* PLAN_ITEM_TYPES */
    VEC(struct ast_type_decl) type_decls; /* PLAN_ITEM_TYPES */
    VEC(struct ast_legacy) legacy;        /* PLAN_ITEM_LEGACY (dialect too) */
    struct src_span span;
};

struct ast_plan {
    struct ast_string name;
    VEC(struct ast_plan_item *) items;
    struct src_span span;
};

/* The whole file: plan headers and versions in the order written. */
struct ast_file {
    VEC(struct ast_plan *) plans;
    VEC(struct ast_version *) versions;
    struct src_span first_version_span;
    struct src_span span;
};

/* Constructors used by parser.y; all allocate in the arena. */
struct ast_file *ast_file_new(struct arena *a);
struct ast_stmt *ast_stmt_new(struct arena *a, enum ast_stmt_kind kind, struct src_span span);
struct ast_column *ast_column_new(struct arena *a, struct ast_ident name, struct ast_type type,
                                  struct src_span span);
struct ast_colcons *ast_colcons_new(struct arena *a, enum ast_colcons_kind kind,
                                    struct src_span span);
struct ast_tcons *ast_tcons_new(struct arena *a, enum ast_tcons_kind kind, struct src_span span);
struct ast_literal *ast_literal_new(struct arena *a, enum ast_lit_kind kind, const char *text,
                                    size_t len, struct src_span span);
struct ast_literal *ast_literal_negate(struct arena *a, struct ast_literal *lit,
                                       struct src_span span);
struct ast_version *ast_version_new(struct arena *a, struct ast_string version,
                                    struct ast_string from, struct src_span span);
struct ast_plan *ast_plan_new(struct arena *a, struct ast_string name, struct src_span span);
void ast_sql_add(struct arena *a, struct ast_stmt *sql, enum ast_sql_item_kind kind,
                 struct ast_string text, struct src_span span);
struct ast_plan_item *ast_plan_item_new(struct arena *a, enum ast_plan_item_kind kind,
                                        struct src_span span);

/* Prints the tree in a stable, indented form (upc --dump=ast, parser tests). */
struct strbuf;
void ast_dump(const struct ast_file *file, struct strbuf *out);

const char *ast_stmt_kind_name(enum ast_stmt_kind kind);

#endif
