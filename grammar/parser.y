/* SPDX-License-Identifier: MIT */
/*
 * parser.y: the grammar of the .upg plan language (grammar/README.md has the
 * EBNF and the conflict policy).
 *
 * Rules of this file (STYLE §2.7):
 *   - Actions only build the tree with ast_*() constructors and VEC_PUSH.
 *     No checks, no folding, no I/O: a version string is not parsed here, a
 *     name is not resolved, a type is not validated. compiler/ does that.
 *   - The parser is pure (api.pure full) and gets one context pointer,
 *     struct parse_ctx, which holds the scanner, the arena and the sink.
 *   - Locations are byte spans (struct src_span); YYLLOC_DEFAULT makes a
 *     rule's span run from its first child to its last, and an empty rule a
 *     zero-width span at the end of what came before.
 *   - %expect 0: the grammar has no conflicts. Keywords that may be used as
 *     names are listed in `name` below; the five reserved ones (primary,
 *     unique, foreign, check, not) start table constraints or column
 *     constraints and would make a column definition ambiguous.
 *
 * Error recovery, so one run reports many errors:
 *   - a statement, a plan item or a sql item that goes wrong is skipped to
 *     its ";" (`stmt: error ";"`);
 *   - if the closing "}" of the block comes first, the block ends there
 *     (`block: "{" items error "}"`), so the next version is parsed normally;
 *   - a bad version or plan header (`version error "{"`) skips to its body;
 *   - junk between versions is skipped to the next "}".
 * Each recovery ends with yyerrok: the sync tokens ";" and "}" are reliable,
 * so the next statement's own mistake is reported even if it comes at once
 * (bison would otherwise stay silent for three tokens).
 * The scanner reports lexical errors itself and returns INVALID; a syntax
 * error on an INVALID token is not reported a second time.
 */

%code requires {
#include "core/source.h"
#include "grammar/ast.h"
struct parse_ctx;
}

%code provides {
int upg_yyparse(struct parse_ctx *ctx);
}

%code {
#include <string.h>

#include "core/diag.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "grammar/keywords.h"
#include "grammar/parse.h"

int lexer_scan(UPG_YYSTYPE *lval, UPG_YYLTYPE *lloc, void *scanner);

static int
upg_yylex(UPG_YYSTYPE *lval, UPG_YYLTYPE *lloc, struct parse_ctx *ctx)
{
    return lexer_scan(lval, lloc, ctx->scanner);
}

/*
 * Syntax errors go through yyreport_syntax_error(); bison still calls
 * yyerror() for one thing, an exhausted parser stack, which the grammar's
 * left recursion makes unreachable for any real plan.
 */
static void
upg_yyerror(UPG_YYLTYPE *loc, struct parse_ctx *ctx, const char *msg)
{
    ctx->errors++;
    if (diag_error(ctx->diag, *loc, "E0202", "the plan is too deeply nested (%s)", msg))
        diag_help(ctx->diag, "Split the construct into smaller statements.");
}

#define YYLLOC_DEFAULT(Cur, Rhs, N)                                                                \
    do {                                                                                           \
        if (N) {                                                                                   \
            (Cur).file = YYRHSLOC(Rhs, 1).file;                                                    \
            (Cur).start = YYRHSLOC(Rhs, 1).start;                                                  \
            (Cur).end = YYRHSLOC(Rhs, N).end;                                                      \
        } else {                                                                                   \
            (Cur).file = YYRHSLOC(Rhs, 0).file;                                                    \
            (Cur).start = (Cur).end = YYRHSLOC(Rhs, 0).end;                                        \
        }                                                                                          \
    } while (0)

/* Arena shorthand for the actions. */
#define A (ctx->arena)

static struct ast_ident
no_ident(void)
{
    struct ast_ident id = {NULL, {0, 0, 0}};
    return id;
}
}

%define api.pure full
%define api.prefix {upg_yy}
%define api.token.prefix {TOK_}
%define api.location.type {struct src_span}
%define parse.error custom
%define parse.lac full
%locations
%param {struct parse_ctx *ctx}
%expect 0

%initial-action {
    @$.file = ctx->file;
    @$.start = @$.end = 0;
}

%union {
    struct ast_ident ident;
    struct ast_string str;
    struct ast_literal *lit;
    struct ast_type type;
    ast_ident_list idents;
    struct ast_column *column;
    struct ast_colcons *colcons;
    struct ast_tcons *tcons;
    struct ast_stmt *stmt;
    struct ast_version *version;
    struct ast_plan *plan;
    struct ast_plan_item *plan_item;
    enum ast_fk_action action;
    struct ast_fk_actions actions;
    struct ast_type_decl type_decl;
    struct ast_legacy legacy;
    bool flag;
}

/* Punctuation and literals. */
%token END 0 "end of input"
%token INVALID "invalid token"
%token <ident> IDENT "identifier"
%token <str> SCONST "string literal"
%token <str> ICONST "integer"
%token <str> FCONST "decimal number"
%token LPAREN "(" RPAREN ")" LBRACE "{" RBRACE "}" COMMA "," SEMI ";" MINUS "-"

/* Keywords: the same list, in the same order, as keywords.def. Every keyword
 * token carries its text and span, because most may also be names. */
%token <ident> ACTION "action" ADD "add" ALLOW "allow" ALTER "alter" AS "as" BIGINT "bigint"
%token <ident> BOOL "bool" BREAKING "breaking" BYTES "bytes" CASCADE "cascade" CHECK "check"
%token <ident> COLUMN "column" CONCURRENTLY "concurrently" CONSTRAINT "constraint" CREATE "create" DATE "date"
%token <ident> DECIMAL "decimal" DEFAULT "default" DELETE "delete" DESCRIPTION "description"
%token <ident> DIALECTS "dialects" DOUBLE "double" DOWN "down" DROP "drop" FALSE "false"
%token <ident> FILL "fill" FOREIGN "foreign" FROM "from" IDENTITY "identity" INDEX "index"
%token <ident> INFO "info" INT "int" INTERVAL "interval" IRREVERSIBLE "irreversible" JSON "json"
%token <ident> KEY "key" LEGACY "legacy" MERGES "merges" NO "no" NOT "not" NOTICE "notice" NULL "null" ON "on"
%token <ident> ONLINE "online"
%token <ident> PLAN "plan" PRIMARY "primary" REFERENCES "references" RENAME "rename"
%token <ident> RESTRICT "restrict" SET "set" SQL "sql" STRING "string" TABLE "table" TEXT "text"
%token <ident> TIMESTAMP "timestamp" TITLE "title" TO "to" TRUE "true" TYPE "type" TYPES "types"
%token <ident> UNIQUE "unique" UP "up" UPDATE "update" UUID "uuid" VERSION "version"
%token <ident> WARNING "warning"

%type <ident> name opt_name unreserved_keyword type_keyword
%type <str> opt_from
%type <version> opt_merges
%type <idents> name_list opt_ref_cols opt_allow
%type <lit> literal default_value
%type <type> type
%type <ident> type_name
%type <column> column_def
%type <colcons> col_cons col_cons_body
%type <tcons> table_constraint
%type <action> fk_action
%type <actions> opt_fk_actions
%type <flag> opt_concurrently
%type <type_decl> type_decl
%type <plan_item> legacy_tables legacy_items
%type <legacy> legacy_item
%type <stmt> stmt ddl alter_action create_table table_elems
%type <stmt> sql_block sql_body sql_items notice breaking
%type <version> version_decl version_body stmts
%type <plan> plan_decl plan_body plan_items
%type <plan_item> plan_item type_decls

%%

/*
 * The file: plan headers and versions, in any order as far as the grammar is
 * concerned. "Exactly one plan header, first" is a rule of the checker, so
 * that its error can say what is wrong instead of "unexpected".
 */
file:
      %empty                { ctx->ast->span = @$; }
    | file plan_decl        { VEC_PUSH(A, &ctx->ast->plans, $2); ctx->ast->span = @$; }
    | file version_decl     { VEC_PUSH(A, &ctx->ast->versions, $2); ctx->ast->span = @$; }
    | file error RBRACE     { yyerrok; /* junk between versions: skipped to the next "}" */ }
    ;

/* plan "name" { title "..."; dialects postgres, sqlite; } */
plan_decl:
      PLAN SCONST plan_body { $$ = $3; $$->name = $2; $$->span = @$; }
    | PLAN error plan_body  { $$ = $3; $$->span = @$; }
    ;

plan_body:
      LBRACE plan_items RBRACE       { $$ = $2; }
    | LBRACE plan_items error RBRACE { $$ = $2; yyerrok; }
    ;

plan_items:
      %empty                { struct ast_string none = {NULL, 0, @$}; $$ = ast_plan_new(A, none, @$); }
    | plan_items plan_item  { $$ = $1; if ($2) VEC_PUSH(A, &$$->items, $2); }
    ;

plan_item:
      TITLE SCONST SEMI           { $$ = ast_plan_item_new(A, PLAN_ITEM_TITLE, @$); $$->text = $2; }
    | DESCRIPTION SCONST SEMI     { $$ = ast_plan_item_new(A, PLAN_ITEM_DESCRIPTION, @$); $$->text = $2; }
    | DIALECTS name_list SEMI     { $$ = ast_plan_item_new(A, PLAN_ITEM_DIALECTS, @$); $$->dialects = $2; }
    | TYPES name LBRACE type_decls RBRACE {
            $$ = $4; $$->dialect = $2; $$->span = @$;
        }
    | LEGACY name LBRACE legacy_tables RBRACE {
            $$ = $4; $$->dialect = $2; $$->span = @$;
        }
    | error SEMI                  { $$ = NULL; yyerrok; }
    ;

/* legacy sqlite { table T { id null; forced default "false"; no foreign key (nid); } } */
legacy_tables:
      %empty                { $$ = ast_plan_item_new(A, PLAN_ITEM_LEGACY, @$); }
    | legacy_tables TABLE name LBRACE legacy_items RBRACE {
            $$ = $1;
            for (size_t i = 0; i < $5->legacy.len; i++) {
                $5->legacy.items[i].table = $3;
                VEC_PUSH(A, &$$->legacy, $5->legacy.items[i]);
            }
        }
    | legacy_tables error RBRACE { $$ = $1; yyerrok; }
    ;

legacy_items:
      %empty                    { $$ = ast_plan_item_new(A, PLAN_ITEM_LEGACY, @$); }
    | legacy_items legacy_item  { $$ = $1; VEC_PUSH(A, &$$->legacy, $2); }
    | legacy_items error SEMI   { $$ = $1; yyerrok; }
    ;

legacy_item:
      name NULL SEMI {
            memset(&$$, 0, sizeof $$); $$.kind = LEGACY_NULLABLE; $$.column = $1; $$.span = @$;
        }
    | name DEFAULT default_value SEMI {
            memset(&$$, 0, sizeof $$); $$.kind = LEGACY_DEFAULT; $$.column = $1; $$.dflt = $3;
            $$.span = @$;
        }
    | name AS SCONST SEMI {
            memset(&$$, 0, sizeof $$); $$.kind = LEGACY_TYPE; $$.column = $1; $$.declared = $3;
            $$.span = @$;
        }
    | NO FOREIGN KEY LPAREN name_list RPAREN SEMI {
            memset(&$$, 0, sizeof $$); $$.kind = LEGACY_NO_FK; $$.cols = $5; $$.span = @$;
        }
    ;

/* types sqlite { timestamp as "DATETIME"; bool as "bool"; } */
type_decls:
      %empty                { $$ = ast_plan_item_new(A, PLAN_ITEM_TYPES, @$); }
    | type_decls type_decl  { $$ = $1; VEC_PUSH(A, &$$->type_decls, $2); }
    | type_decls error SEMI { $$ = $1; yyerrok; }
    ;

type_decl:
      type_name AS SCONST SEMI { $$.type = $1; $$.declared = $3; $$.span = @$; }
    ;

/* version "6.1" [from "6.0"] [merges "6.0.1", ...] { statements } */
version_decl:
      VERSION SCONST opt_from opt_merges version_body {
            $$ = $5; $$->version = $2; $$->from = $3; $$->merges = $4->merges; $$->span = @$;
        }
    | VERSION error version_body {
            /* a bad header: the body is still parsed for its own errors */
            $$ = $3; $$->span = @$;
        }
    ;

opt_from:
      %empty                { $$.text = NULL; $$.len = 0; $$.span = @$; }
    | FROM SCONST           { $$ = $2; }
    ;

/* the hotfix versions a version takes in, besides the one it follows */
opt_merges:
      %empty                { struct ast_string none = {NULL, 0, @$}; $$ = ast_version_new(A, none, none, @$); }
    | MERGES SCONST         {
            struct ast_string none = {NULL, 0, @$};
            $$ = ast_version_new(A, none, none, @$); VEC_PUSH(A, &$$->merges, $2);
        }
    | opt_merges COMMA SCONST { $$ = $1; VEC_PUSH(A, &$$->merges, $3); }
    ;

version_body:
      LBRACE stmts RBRACE        { $$ = $2; }
    | LBRACE stmts error RBRACE  { $$ = $2; yyerrok; }
    ;

stmts:
      %empty      {
            struct ast_string none = {NULL, 0, @$};
            $$ = ast_version_new(A, none, none, @$);
        }
    | stmts stmt  { $$ = $1; if ($2) VEC_PUSH(A, &$$->stmts, $2); }
    ;

stmt:
      ddl opt_allow SEMI  { $$ = $1; $$->allows = $2; $$->span = @1; }
    | notice              { $$ = $1; }
    | breaking            { $$ = $1; }
    | sql_block           { $$ = $1; }
    | SEMI                { $$ = NULL; /* an empty statement, e.g. after a sql block */ }
    | error SEMI          { $$ = NULL; yyerrok; }
    ;

/* allow data_loss, table_rewrite: lints the author accepts for this statement */
opt_allow:
      %empty              { memset(&$$, 0, sizeof $$); }
    | ALLOW name_list     { $$ = $2; }
    ;

ddl:
      create_table        { $$ = $1; }
    | DROP TABLE name     { $$ = ast_stmt_new(A, STMT_DROP_TABLE, @$); $$->table = $3; }
    | ALTER TABLE name alter_action {
            $$ = $4; $$->table = $3; $$->span = @$;
        }
    | CREATE INDEX name ON name LPAREN name_list RPAREN opt_concurrently {
            $$ = ast_stmt_new(A, STMT_CREATE_INDEX, @$);
            $$->name = $3; $$->table = $5; $$->cols = $7; $$->concurrently = $9;
        }
    | CREATE UNIQUE INDEX name ON name LPAREN name_list RPAREN opt_concurrently {
            $$ = ast_stmt_new(A, STMT_CREATE_INDEX, @$);
            $$->unique = true; $$->name = $4; $$->table = $6; $$->cols = $8;
            $$->concurrently = $10;
        }
    | DROP INDEX name opt_concurrently {
            $$ = ast_stmt_new(A, STMT_DROP_INDEX, @$); $$->name = $3; $$->concurrently = $4;
        }
    ;

/* create index ... concurrently: built (or dropped) without blocking writes, outside the
 * step's transaction where the dialect needs that */
opt_concurrently:
      %empty              { $$ = false; }
    | CONCURRENTLY        { $$ = true; }
    ;

create_table:
      CREATE TABLE name LPAREN table_elems RPAREN {
            $$ = $5; $$->table = $3; $$->span = @$;
        }
    ;

table_elems:
      column_def {
            $$ = ast_stmt_new(A, STMT_CREATE_TABLE, @$);
            VEC_PUSH(A, &$$->elems, $1); VEC_PUSH(A, &$$->elem_is_column, true);
        }
    | table_constraint {
            $$ = ast_stmt_new(A, STMT_CREATE_TABLE, @$);
            VEC_PUSH(A, &$$->elems, $1); VEC_PUSH(A, &$$->elem_is_column, false);
        }
    | table_elems COMMA column_def {
            $$ = $1; VEC_PUSH(A, &$$->elems, $3); VEC_PUSH(A, &$$->elem_is_column, true);
        }
    | table_elems COMMA table_constraint {
            $$ = $1; VEC_PUSH(A, &$$->elems, $3); VEC_PUSH(A, &$$->elem_is_column, false);
        }
    ;

/* name type [not null | null] [primary key] [unique] [identity] [default v] [references ...] */
column_def:
      name type           { $$ = ast_column_new(A, $1, $2, @$); }
    | column_def col_cons { $$ = $1; VEC_PUSH(A, &$$->cons, $2); $$->span = @$; }
    ;

/* [constraint NAME] and the constraint; the checker says which may be named */
col_cons:
      col_cons_body                 { $$ = $1; }
    | CONSTRAINT name col_cons_body { $$ = $3; $$->name = $2; $$->span = @$; }
    ;

col_cons_body:
      NOT NULL            { $$ = ast_colcons_new(A, CC_NOT_NULL, @$); }
    | NULL                { $$ = ast_colcons_new(A, CC_NULL, @$); }
    | PRIMARY KEY         { $$ = ast_colcons_new(A, CC_PRIMARY_KEY, @$); }
    | UNIQUE              { $$ = ast_colcons_new(A, CC_UNIQUE, @$); }
    | IDENTITY            { $$ = ast_colcons_new(A, CC_IDENTITY, @$); }
    | DEFAULT default_value { $$ = ast_colcons_new(A, CC_DEFAULT, @$); $$->dflt = $2; }
    | FILL default_value  { $$ = ast_colcons_new(A, CC_FILL, @$); $$->dflt = $2; }
    | AS name SCONST      { $$ = ast_colcons_new(A, CC_DECLARED, @$); $$->dialect = $2; $$->expr = $3; }
    | REFERENCES name opt_ref_cols opt_fk_actions {
            $$ = ast_colcons_new(A, CC_REFERENCES, @$);
            $$->ref_table = $2; $$->ref_cols = $3; $$->actions = $4;
        }
    | CHECK SCONST        { $$ = ast_colcons_new(A, CC_CHECK, @$); $$->expr = $2; }
    ;

table_constraint:
      PRIMARY KEY opt_name LPAREN name_list RPAREN {
            $$ = ast_tcons_new(A, TC_PRIMARY_KEY, @$); $$->name = $3; $$->cols = $5;
        }
    | UNIQUE opt_name LPAREN name_list RPAREN {
            $$ = ast_tcons_new(A, TC_UNIQUE, @$); $$->name = $2; $$->cols = $4;
        }
    | FOREIGN KEY opt_name LPAREN name_list RPAREN REFERENCES name opt_ref_cols opt_fk_actions {
            $$ = ast_tcons_new(A, TC_FOREIGN_KEY, @$);
            $$->name = $3; $$->cols = $5; $$->ref_table = $8; $$->ref_cols = $9;
            $$->actions = $10;
        }
    | CHECK opt_name SCONST {
            $$ = ast_tcons_new(A, TC_CHECK, @$); $$->name = $2; $$->expr = $3;
        }
    ;

opt_ref_cols:
      %empty                    { memset(&$$, 0, sizeof $$); }
    | LPAREN name_list RPAREN   { $$ = $2; }
    ;

/* on delete ..., on update ..., in either order */
opt_fk_actions:
      %empty                    { memset(&$$, 0, sizeof $$); }
    | opt_fk_actions ON DELETE fk_action {
            $$ = $1;
            if ($$.on_delete != FK_ACTION_NONE && !$$.twice.file) { $$.twice = @2; $$.twice.end = @4.end; }
            $$.on_delete = $4;
        }
    | opt_fk_actions ON UPDATE fk_action {
            $$ = $1;
            if ($$.on_update != FK_ACTION_NONE && !$$.twice.file) { $$.twice = @2; $$.twice.end = @4.end; }
            $$.on_update = $4;
        }
    ;

fk_action:
      CASCADE                   { $$ = FK_ACTION_CASCADE; }
    | SET NULL                  { $$ = FK_ACTION_SET_NULL; }
    | RESTRICT                  { $$ = FK_ACTION_RESTRICT; }
    | NO ACTION                 { $$ = FK_ACTION_NO_ACTION; }
    ;

alter_action:
      RENAME TO name              { $$ = ast_stmt_new(A, STMT_RENAME_TABLE, @$); $$->name = $3; }
    | RENAME COLUMN name TO name  {
            $$ = ast_stmt_new(A, STMT_RENAME_COLUMN, @$); $$->name = $3; $$->new_name = $5;
        }
    | ADD COLUMN column_def       { $$ = ast_stmt_new(A, STMT_ADD_COLUMN, @$); $$->column = $3; }
    | ADD table_constraint        { $$ = ast_stmt_new(A, STMT_ADD_CONSTRAINT, @$); $$->tcons = $2; }
    | ADD table_constraint ONLINE {
            $$ = ast_stmt_new(A, STMT_ADD_CONSTRAINT, @$); $$->tcons = $2; $$->online = true;
        }
    | DROP COLUMN name            { $$ = ast_stmt_new(A, STMT_DROP_COLUMN, @$); $$->name = $3; }
    | DROP PRIMARY KEY            { $$ = ast_stmt_new(A, STMT_DROP_PRIMARY_KEY, @$); }
    | DROP CONSTRAINT name        { $$ = ast_stmt_new(A, STMT_DROP_CONSTRAINT, @$); $$->name = $3; }
    | ALTER COLUMN name TYPE type {
            $$ = ast_stmt_new(A, STMT_ALTER_TYPE, @$); $$->name = $3;
            $$->type = ARENA_NEW(A, struct ast_type); *$$->type = $5;
        }
    | ALTER COLUMN name TYPE type ONLINE {
            $$ = ast_stmt_new(A, STMT_ALTER_TYPE, @$); $$->name = $3;
            $$->type = ARENA_NEW(A, struct ast_type); *$$->type = $5; $$->online = true;
        }
    | ALTER COLUMN name SET NOT NULL  { $$ = ast_stmt_new(A, STMT_SET_NOT_NULL, @$); $$->name = $3; }
    | ALTER COLUMN name SET NOT NULL ONLINE {
            $$ = ast_stmt_new(A, STMT_SET_NOT_NULL, @$); $$->name = $3; $$->online = true;
        }
    | ALTER COLUMN name DROP NOT NULL { $$ = ast_stmt_new(A, STMT_DROP_NOT_NULL, @$); $$->name = $3; }
    | ALTER COLUMN name SET DEFAULT default_value {
            $$ = ast_stmt_new(A, STMT_SET_DEFAULT, @$); $$->name = $3; $$->dflt = $6;
        }
    | ALTER COLUMN name DROP DEFAULT  { $$ = ast_stmt_new(A, STMT_DROP_DEFAULT, @$); $$->name = $3; }
    ;

type:
      type_name {
            memset(&$$, 0, sizeof $$); $$.name = $1.name; $$.name_span = $1.span; $$.span = @$;
        }
    | type_name LPAREN ICONST RPAREN {
            memset(&$$, 0, sizeof $$); $$.name = $1.name; $$.name_span = $1.span; $$.span = @$;
            $$.nparams = 1; $$.params[0] = $3.text; $$.param_spans[0] = @3;
        }
    | type_name LPAREN ICONST COMMA ICONST RPAREN {
            memset(&$$, 0, sizeof $$); $$.name = $1.name; $$.name_span = $1.span; $$.span = @$;
            $$.nparams = 2; $$.params[0] = $3.text; $$.param_spans[0] = @3;
            $$.params[1] = $5.text; $$.param_spans[1] = @5;
        }
    ;

/* A type is a type keyword or, so that the checker can say "unknown type"
 * with a suggestion, any identifier. */
type_name:
      type_keyword          { $$ = $1; }
    | IDENT                 { $$ = $1; }
    ;

type_keyword:
      BIGINT | BOOL | BYTES | DATE | DECIMAL | DOUBLE | INT | INTERVAL | JSON | STRING | TEXT
    | TIMESTAMP | UUID
    ;

/* A default: a literal, or one of a few expressions (current_timestamp, random_uuid()), which
 * the checker knows. */
default_value:
      literal               { $$ = $1; }
    | IDENT                 { $$ = ast_literal_new(A, LIT_EXPR, $1.name, strlen($1.name), @$); }
    | IDENT LPAREN RPAREN   {
            $$ = ast_literal_new(A, LIT_EXPR, $1.name, strlen($1.name), @$); $$->call = true;
        }
    ;

literal:
      ICONST            { $$ = ast_literal_new(A, LIT_INT, $1.text, $1.len, @$); }
    | FCONST            { $$ = ast_literal_new(A, LIT_DECIMAL, $1.text, $1.len, @$); }
    | MINUS ICONST      { $$ = ast_literal_negate(A, ast_literal_new(A, LIT_INT, $2.text, $2.len, @2), @$); }
    | MINUS FCONST      { $$ = ast_literal_negate(A, ast_literal_new(A, LIT_DECIMAL, $2.text, $2.len, @2), @$); }
    | SCONST            { $$ = ast_literal_new(A, LIT_STRING, $1.text, $1.len, @$); }
    | TRUE              { $$ = ast_literal_new(A, LIT_TRUE, "true", 4, @$); }
    | FALSE             { $$ = ast_literal_new(A, LIT_FALSE, "false", 5, @$); }
    | NULL              { $$ = ast_literal_new(A, LIT_NULL, "null", 4, @$); }
    ;

/* notice [info | warning] "text"; */
notice:
      NOTICE SCONST SEMI {
            $$ = ast_stmt_new(A, STMT_NOTICE, @$); $$->text = $2; $$->level = NOTICE_INFO;
        }
    | NOTICE INFO SCONST SEMI {
            $$ = ast_stmt_new(A, STMT_NOTICE, @$); $$->text = $3; $$->level = NOTICE_INFO;
            $$->level_given = true;
        }
    | NOTICE WARNING SCONST SEMI {
            $$ = ast_stmt_new(A, STMT_NOTICE, @$); $$->text = $3; $$->level = NOTICE_WARNING;
            $$->level_given = true;
        }
    ;

/* breaking "id" "text"; */
breaking:
      BREAKING SCONST SCONST SEMI {
            $$ = ast_stmt_new(A, STMT_BREAKING, @$); $$->id = $2; $$->text = $3;
        }
    ;

/* sql [dialect] { up "..."; down "..."; }  or  { up "..."; irreversible ["why"]; } */
sql_block:
      SQL sql_body        { $$ = $2; $$->span = @$; }
    | SQL name sql_body   { $$ = $3; $$->dialect = $2; $$->span = @$; }
    ;

sql_body:
      LBRACE sql_items RBRACE        { $$ = $2; }
    | LBRACE sql_items error RBRACE  { $$ = $2; yyerrok; }
    ;

sql_items:
      %empty              { $$ = ast_stmt_new(A, STMT_SQL, @$); }
    | sql_items UP SCONST SEMI {
            $$ = $1; ast_sql_add(A, $$, AST_SQL_UP, $3, @2);
        }
    | sql_items DOWN SCONST SEMI {
            $$ = $1; ast_sql_add(A, $$, AST_SQL_DOWN, $3, @2);
        }
    | sql_items IRREVERSIBLE SEMI {
            struct ast_string none = {NULL, 0, @2};
            $$ = $1; ast_sql_add(A, $$, AST_SQL_IRREVERSIBLE, none, @2);
        }
    | sql_items IRREVERSIBLE SCONST SEMI {
            $$ = $1; ast_sql_add(A, $$, AST_SQL_IRREVERSIBLE, $3, @2);
        }
    | sql_items error SEMI { $$ = $1; yyerrok; }
    ;

name_list:
      name                  { memset(&$$, 0, sizeof $$); VEC_PUSH(A, &$$, $1); }
    | name_list COMMA name  { $$ = $1; VEC_PUSH(A, &$$, $3); }
    ;

opt_name:
      %empty                { $$ = no_ident(); $$.span = @$; }
    | name                  { $$ = $1; }
    ;

/* A name: an identifier, a `quoted identifier`, or a keyword that is not reserved. */
name:
      IDENT                 { $$ = $1; }
    | unreserved_keyword    { $$ = $1; }
    | type_keyword          { $$ = $1; }
    ;

unreserved_keyword:
      ACTION | ADD | ALLOW | ALTER | BREAKING | CASCADE | COLUMN | CONSTRAINT | CREATE | DEFAULT
    | DELETE | DESCRIPTION | DIALECTS | DOWN | DROP | FROM | IDENTITY | INDEX | INFO | CONCURRENTLY
    | IRREVERSIBLE | KEY | NO | NOTICE | ON | ONLINE | PLAN | REFERENCES | RENAME | RESTRICT | SET | SQL
    | TABLE | TITLE | TO | TYPE | UP | VERSION | WARNING | AS | FILL | MERGES | TYPES | UPDATE
    | LEGACY
    ;

%%

/*
 * How a token is named in messages: keywords and punctuation quoted, as
 * written ("create", ";"); classes of tokens by what they are (identifier,
 * string literal, end of input). bison gives aliases without their quotes.
 */
static void
token_name(struct strbuf *out, yysymbol_kind_t sym)
{
    const char *name = yysymbol_name(sym);
    size_t n = strlen(name);

    if (keyword_lookup(name, n) || (n == 1 && !((*name >= 'a' && *name <= 'z'))))
        strbuf_printf(out, "\"%s\"", name);
    else
        strbuf_puts(out, name);
}

/* The unexpected token: as token_name(), but identifiers and numbers with their text. */
static void
describe_token(struct strbuf *out, struct parse_ctx *ctx, yysymbol_kind_t sym,
               const UPG_YYLTYPE *loc)
{
    if (sym == YYSYMBOL_IDENT || sym == YYSYMBOL_ICONST || sym == YYSYMBOL_FCONST) {
        size_t n = loc->end - loc->start;
        const char *text = ctx->src->text + loc->start;
        /* quote the text when it is short enough to read */
        if (n > 0 && n <= 40 && utf8_valid(text, n)) {
            strbuf_printf(out, "%s \"%.*s\"", yysymbol_name(sym), (int)n, text);
            return;
        }
    }
    token_name(out, sym);
}

/*
 * The custom syntax error (parse.error custom with LAC): "syntax error:
 * unexpected X, expected A, B or C" with at most four alternatives, a "Did
 * you mean" when an identifier is close to an expected keyword, and a hint
 * when a ";" is missing.
 */
static int
yyreport_syntax_error(const yypcontext_t *yyctx, struct parse_ctx *ctx)
{
    enum { MAX_SHOWN = 4 };
    yysymbol_kind_t expected[YYNTOKENS];
    yysymbol_kind_t lookahead = yypcontext_token(yyctx);
    const UPG_YYLTYPE *loc = yypcontext_location(yyctx);
    struct strbuf msg = STRBUF_INIT;
    const char *suggest = NULL;
    bool want_semi = false;
    int n, i;

    if (lookahead == YYSYMBOL_INVALID)
        return 0; /* the scanner has reported it */
    ctx->errors++;
    n = yypcontext_expected_tokens(yyctx, expected, YYNTOKENS);
    strbuf_puts(&msg, "syntax error: unexpected ");
    describe_token(&msg, ctx, lookahead, loc);
    for (i = 0; i < n; i++)
        want_semi = want_semi || expected[i] == YYSYMBOL_SEMI;
    if (n > 0) {
        int shown = n <= MAX_SHOWN ? n : MAX_SHOWN;
        strbuf_puts(&msg, ", expected ");
        for (i = 0; i < shown; i++) {
            if (i > 0)
                strbuf_puts(&msg, i == n - 1 ? " or " : ", ");
            token_name(&msg, expected[i]);
        }
        if (n > MAX_SHOWN)
            strbuf_puts(&msg, ", ...");
    }
    if (lookahead == YYSYMBOL_IDENT) {
        const char *word = ctx->src->text + loc->start;
        size_t wlen = loc->end - loc->start;
        char buf[40];
        if (wlen < sizeof buf) {
            memcpy(buf, word, wlen);
            buf[wlen] = '\0';
            for (i = 0; i < n; i++) {
                const char *kw = yysymbol_name(expected[i]);
                size_t klen = strlen(kw);
                if (keyword_lookup(kw, klen) &&
                    edit_distance(buf, kw, 2) <= (klen < 5 ? 1u : 2u)) {
                    suggest = kw;
                    break;
                }
            }
        }
    }
    if (diag_error(ctx->diag, *loc, "E0201", "%s", strbuf_str(&msg))) {
        if (suggest)
            diag_help(ctx->diag, "Did you mean \"%s\"?", suggest);
        else if (lookahead == YYSYMBOL_YYEOF)
            diag_note(ctx->diag, "The plan ends before this construct is complete.");
        else if (want_semi && lookahead != YYSYMBOL_SEMI)
            diag_help(ctx->diag, "Statements and plan items end with \";\"; is one missing "
                                 "before this?");
    }
    strbuf_free(&msg);
    return 0;
}

const char *
parser_token_alias(int token)
{
    yysymbol_kind_t sym = YYTRANSLATE(token);
    return sym == YYSYMBOL_YYUNDEF ? NULL : yysymbol_name(sym);
}

int
parser_token_count(void)
{
    return YYNTOKENS;
}
