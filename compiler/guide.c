/* SPDX-License-Identifier: MIT */
/*
 * guide.c: `upc guide` and `upc graph` (guide.h).
 *
 * The guide has the shape of the guides maintainers write by hand (an
 * overview of the versions and the recommended path, then one section per
 * step), with every line taken from the checked model:
 *
 *   - the schema changes come from the step IR, in plain words and grouped
 *     by table in the order the plan first touches each table; a column is
 *     described as the model has it ("bool, nullable"), a type change says
 *     when PostgreSQL rewrites the table (the same rule as lint W0401);
 *   - notices and breaking changes are the plan's text, verbatim;
 *   - what takes time is the checker's findings, as worded for operators;
 *   - the commands are uprun's, with the --ack of each breaking change and
 *     --allow-data-loss where the rollback needs it.
 *
 * Identifiers are written as Markdown code spans, with a fence longer than
 * any run of backticks they contain, so that no name can break the layout.
 */
#include "compiler/guide.h"

#include <stdlib.h>
#include <string.h>

#include "compiler/ir.h"
#include "compiler/types.h"
#include "core/util.h"

/* --- Markdown and DOT text ----------------------------------------------- */

/* `s` as a code span that s cannot end early. */
static void
md_code(struct strbuf *out, const char *s)
{
    size_t run = 0, longest = 0, n = strlen(s);
    bool pad;

    for (const char *p = s; *p; p++) {
        run = *p == '`' ? run + 1 : 0;
        if (run > longest)
            longest = run;
    }
    pad = n && (s[0] == '`' || s[n - 1] == '`' || s[0] == ' ');
    strbuf_repeat(out, '`', longest + 1);
    if (pad)
        strbuf_putc(out, ' ');
    for (const char *p = s; *p; p++)
        strbuf_putc(out, *p == '\n' || *p == '\r' ? ' ' : *p);
    if (pad)
        strbuf_putc(out, ' ');
    strbuf_repeat(out, '`', longest + 1);
}

/* Our own sentences that quote names (findings): Markdown punctuation escaped, one line. */
static bool
is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c & 0x80);
}

static void
md_plain(struct strbuf *out, const char *s)
{
    for (const char *p = s; *p; p++) {
        /* an underscore inside a word never starts emphasis: IX_Orders_Paid stays as it is */
        bool inword = *p == '_' && p > s && is_alnum(p[-1]) && is_alnum(p[1]);
        if (strchr("\\`*[]<>#|~!&", *p) || (*p == '_' && !inword))
            strbuf_putc(out, '\\');
        strbuf_putc(out, *p == '\n' || *p == '\r' ? ' ' : *p);
    }
}

/* A fence longer than any run of backticks in s (at least three). */
static size_t
fence_for(const char *s)
{
    size_t run = 0, longest = 0;

    for (; *s; s++) {
        run = *s == '`' ? run + 1 : 0;
        if (run > longest)
            longest = run;
    }
    return longest + 1 > 3 ? longest + 1 : 3;
}

/* Text inside a table cell: no line breaks, pipes escaped. */
static void
md_cell(struct strbuf *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            strbuf_puts(out, "\\|");
        else
            strbuf_putc(out, *s == '\n' || *s == '\r' ? ' ' : *s);
    }
}

/*
 * A paragraph of the plan's text, kept as written (it may hold Markdown):
 * first before its first line, cont before each line after it, so that it
 * stays inside a list item or a quote.
 */
static void
md_text(struct strbuf *out, const char *first, const char *cont, const char *s)
{
    strbuf_puts(out, first);
    for (; *s; s++) {
        if (*s == '\r')
            continue;
        strbuf_putc(out, *s);
        if (*s == '\n')
            strbuf_puts(out, cont);
    }
    strbuf_putc(out, '\n');
}

/* A DOT string's body: quotes and backslashes escaped, line breaks as \n. */
static void
dot_str(struct strbuf *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            strbuf_putc(out, '\\');
        if (*s == '\n')
            strbuf_puts(out, "\\n");
        else if (*s != '\r')
            strbuf_putc(out, *s);
    }
}

static const char *
vname(const struct plan_version *v)
{
    return v ? v->name : "empty";
}

static const char *
plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* --- what a step does ---------------------------------------------------- */

/* Whether a finding concerns one of the dialects in the mask (or every dialect). */
static bool
finding_in(const struct plan_finding *f, unsigned dialects)
{
    return !f->dialect || ((dialects >> f->dialect->id) & 1u);
}

/* The tables a first version creates (its delta from an empty database), sorted by name. */
static size_t
first_tables(struct arena *a, const struct plan_version *v, const struct snap_table *const **out)
{
    struct ir_delta d;

    assert(!v->parent);
    ir_step_delta(a, v->ir, &d);
    *out = d.changed;
    return d.nchanged;
}

void
step_summarize(const struct plan_version *v, unsigned dialects, struct step_summary *s)
{
    const struct ir_step *ir = v->ir;
    struct ir_group *groups;
    size_t *order, ng, i, k;

    memset(s, 0, sizeof *s);
    s->notices = v->nnotices;
    for (i = 0; i < v->nnotices; i++)
        s->warnings += v->notices[i].warning;
    s->breaking = v->nbreaking;
    for (i = 0; i < v->findings.len; i++) {
        const struct plan_finding *f = v->findings.items[i];
        if (finding_in(f, dialects) &&
            (strcmp(f->lint, "table_rewrite") == 0 || strcmp(f->lint, "sqlite_rebuild") == 0 ||
             strcmp(f->lint, "table_lock") == 0))
            s->rewrites = true;
    }
    if (!ir)
        return;
    for (i = 0; i < ir->nops; i++) {
        const struct ir_op *op = ir->ops[i];
        if (op->lossy)
            s->lossy = true;
        if (op->kind == IR_SQL) {
            s->sql_blocks++;
            for (k = 0; k < DIALECT_COUNT; k++)
                if (op->irreversible[k] && ((dialects >> k) & 1u))
                    s->irreversible_in |= 1u << k;
        }
        s->new_tables += op->kind == IR_CREATE_TABLE;
        s->dropped_tables += op->kind == IR_DROP_TABLE;
        s->renamed_tables += op->kind == IR_RENAME_TABLE;
    }
    /* a table created, dropped or renamed counts there; any other table touched is "changed" */
    ng = ir_group_by_table(ir, &groups, &order);
    for (i = 0; i < ng; i++) {
        bool counted = false;
        for (k = groups[i].start; k < groups[i].start + groups[i].n; k++) {
            enum ir_kind kind = ir->ops[order[k]]->kind;
            counted = counted || kind == IR_CREATE_TABLE || kind == IR_DROP_TABLE ||
                      kind == IR_RENAME_TABLE;
        }
        s->changed_tables += !counted;
    }
    free(groups);
    free(order);
    if (!v->parent) {
        /* a new database: what counts is the tables it ends with */
        const struct snap_table *const *t;
        struct arena a;
        arena_init(&a);
        s->new_tables = first_tables(&a, v, &t);
        arena_free(&a);
        s->changed_tables = s->renamed_tables = s->dropped_tables = 0;
    }
}

void
step_summary_text(const struct step_summary *s, struct strbuf *out)
{
    size_t start = out->len;

#define PART(n, one, many)                                                                         \
    do {                                                                                           \
        if (n) {                                                                                   \
            if (out->len > start)                                                                  \
                strbuf_puts(out, ", ");                                                            \
            strbuf_printf(out, "%zu %s", (size_t)(n), plural(n, one, many));                       \
        }                                                                                          \
    } while (0)
    PART(s->new_tables, "new table", "new tables");
    PART(s->changed_tables, "table changed", "tables changed");
    PART(s->renamed_tables, "table renamed", "tables renamed");
    PART(s->dropped_tables, "table dropped", "tables dropped");
    PART(s->sql_blocks, "SQL block", "SQL blocks");
#undef PART
    if (out->len == start)
        strbuf_puts(out, "no schema change");
}

/* --- the schema changes in words ------------------------------------------ */

static void
literal_text(struct strbuf *out, const struct sm_value *l)
{
    switch (l->kind) {
    case VAL_TRUE:
        strbuf_puts(out, "true");
        break;
    case VAL_FALSE:
        strbuf_puts(out, "false");
        break;
    case VAL_NULL:
        strbuf_puts(out, "null");
        break;
    case VAL_STRING:
        strbuf_putc(out, '"');
        strbuf_append(out, l->text, l->len);
        strbuf_putc(out, '"');
        break;
    case VAL_EXPR:
        /* an expression: the time of the insert, a new UUID per row */
        strbuf_puts(out, strcmp(l->text, "random_uuid") == 0 ? "random_uuid()" : l->text);
        break;
    default:
        strbuf_append(out, l->text, l->len);
        break;
    }
}

/* "(bool, nullable)", "(bigint, identity, not null, default 0)" */
static void
col_traits(struct strbuf *out, const struct snap_col *c)
{
    char buf[64];

    strbuf_printf(out, "(%s", type_str(&c->type, buf, sizeof buf));
    if (c->identity)
        strbuf_puts(out, ", identity");
    strbuf_puts(out, c->not_null ? ", not null" : ", nullable");
    if (c->dflt) {
        strbuf_puts(out, ", default ");
        literal_text(out, c->dflt);
    }
    strbuf_putc(out, ')');
}

static void
name_list(struct strbuf *out, const char *const *names, size_t n)
{
    strbuf_putc(out, '(');
    for (size_t i = 0; i < n; i++) {
        if (i)
            strbuf_puts(out, ", ");
        md_code(out, names[i]);
    }
    strbuf_putc(out, ')');
}

/* ", on delete cascade", ", on update restrict", or nothing. */
static void
fk_action_text(struct strbuf *out, const char *on, enum sm_fk_action a)
{
    static const char *const names[] = {NULL, "cascade", "set null", "restrict", "no action"};

    if (a != SM_FK_NONE)
        strbuf_printf(out, ", on %s %s", on, names[a]);
}

/* "primary key `PK_T` (`Id`)" and the like. */
static void
key_text(struct strbuf *out, const struct snap_key *k)
{
    switch (k->kind) {
    case KEY_PRIMARY:
        strbuf_puts(out, "primary key ");
        break;
    case KEY_UNIQUE:
        strbuf_puts(out, "unique constraint ");
        break;
    case KEY_FOREIGN:
        strbuf_puts(out, "foreign key ");
        break;
    case KEY_CHECK:
        strbuf_puts(out, "check ");
        md_code(out, k->name);
        strbuf_puts(out, ": ");
        md_code(out, k->expr ? k->expr : "");
        return;
    }
    md_code(out, k->name);
    strbuf_putc(out, ' ');
    name_list(out, k->cols, k->ncols);
    if (k->kind == KEY_FOREIGN) {
        strbuf_puts(out, " references ");
        md_code(out, k->ref_table);
        strbuf_putc(out, ' ');
        name_list(out, k->ref_cols, k->nref);
        fk_action_text(out, "delete", k->on_delete);
        fk_action_text(out, "update", k->on_update);
    }
}

static void
index_text(struct strbuf *out, const struct snap_index *x)
{
    strbuf_puts(out, x->unique ? "unique index " : "index ");
    md_code(out, x->name);
    strbuf_putc(out, ' ');
    name_list(out, x->cols, x->ncols);
}

/* The bullets of a new table: its columns, keys and indexes as created. */
static void
new_table_lines(struct strbuf *out, const struct snap_table *t)
{
    size_t i;

    for (i = 0; i < t->ncols; i++) {
        strbuf_puts(out, "- column ");
        md_code(out, t->cols[i].name);
        strbuf_putc(out, ' ');
        col_traits(out, &t->cols[i]);
        strbuf_putc(out, '\n');
    }
    if (t->pk) {
        strbuf_puts(out, "- ");
        key_text(out, t->pk);
        strbuf_putc(out, '\n');
    }
    for (i = 0; i < t->nkeys; i++) {
        strbuf_puts(out, "- ");
        key_text(out, &t->keys[i]);
        strbuf_putc(out, '\n');
    }
    for (i = 0; i < t->nindexes; i++) {
        strbuf_puts(out, "- ");
        index_text(out, &t->indexes[i]);
        strbuf_putc(out, '\n');
    }
}

/* The keys declared with a column as it is added (add column ... primary key). */
static void
new_keys_lines(struct strbuf *out, const struct snap_table *before, const struct snap_table *after)
{
    if (after->pk && !(before->pk && strcmp(before->pk->name, after->pk->name) == 0)) {
        strbuf_puts(out, "- new ");
        key_text(out, after->pk);
        strbuf_putc(out, '\n');
    }
    for (size_t i = 0; i < after->nkeys; i++) {
        if (snap_find_key(before, after->keys[i].name))
            continue;
        strbuf_puts(out, "- new ");
        key_text(out, &after->keys[i]);
        strbuf_putc(out, '\n');
    }
}

/* One bullet for an operation on a table that exists before and after it. */
static void
op_line(struct strbuf *out, const struct ir_op *op, unsigned dialects)
{
    const struct snap_col *b = NULL, *a = NULL;
    char tb[64], ta[64];

    switch (op->kind) {
    case IR_RENAME_TABLE:
        strbuf_puts(out, "- renamed from ");
        md_code(out, op->before->name);
        strbuf_puts(out, " to ");
        md_code(out, op->after->name);
        break;
    case IR_ADD_COLUMN:
        a = snap_find_col(op->after, op->col);
        strbuf_puts(out, "- gains column ");
        md_code(out, a ? a->name : "?");
        if (a) {
            strbuf_putc(out, ' ');
            col_traits(out, a);
        }
        if (op->fill) {
            strbuf_puts(out, "; the rows there get ");
            literal_text(out, op->fill);
        }
        strbuf_putc(out, '\n');
        new_keys_lines(out, op->before, op->after);
        return;
    case IR_DROP_COLUMN:
        b = snap_find_col(op->before, op->col);
        strbuf_puts(out, "- loses column ");
        md_code(out, b ? b->name : "?");
        strbuf_puts(out,
                    op->lossy ? ", and its values: rolling back brings the column back empty" : "");
        break;
    case IR_RENAME_COLUMN:
        b = snap_find_col(op->before, op->col);
        a = snap_find_col(op->after, op->col);
        strbuf_puts(out, "- column ");
        md_code(out, b ? b->name : "?");
        strbuf_puts(out, " is renamed to ");
        md_code(out, a ? a->name : "?");
        break;
    case IR_ALTER_COLUMN: {
        bool first = true;
        b = snap_find_col(op->before, op->col);
        a = snap_find_col(op->after, op->col);
        if (!a || !b)
            return;
        strbuf_puts(out, "- ");
        md_code(out, a->name);
        strbuf_puts(out, ": ");
        if (!type_equal(&b->type, &a->type)) {
            strbuf_printf(out, "%s -> %s", type_str(&b->type, tb, sizeof tb),
                          type_str(&a->type, ta, sizeof ta));
            for (size_t d = 0; d < DIALECT_COUNT; d++) {
                const struct dialect *dl = dialect_get((enum dialect_id)d);
                if (((dialects >> d) & 1u) && dl->type_change_rewrites &&
                    dl->type_change_rewrites(&b->type, &a->type))
                    strbuf_printf(out, ", rewrites the table on %s", dl->title);
            }
            first = false;
        }
        if (b->not_null != a->not_null) {
            strbuf_puts(out, first ? "" : "; ");
            strbuf_puts(out, a->not_null ? "becomes not null" : "becomes nullable");
            first = false;
        }
        if (!value_equal(b->dflt, a->dflt)) {
            strbuf_puts(out, first ? "" : "; ");
            if (a->dflt) {
                strbuf_puts(out, "default ");
                literal_text(out, a->dflt);
            } else {
                strbuf_puts(out, "no default any more");
            }
            first = false;
        }
        if (b->identity != a->identity) {
            strbuf_puts(out, first ? "" : "; ");
            strbuf_puts(out, a->identity ? "becomes an identity column"
                                         : "no longer an identity column");
            first = false;
        }
        if (first)
            strbuf_puts(out, "unchanged");
        break;
    }
    case IR_ADD_KEY:
        strbuf_puts(out, "- new ");
        key_text(out, op->key);
        break;
    case IR_DROP_KEY:
        strbuf_puts(out, "- drops ");
        key_text(out, op->key);
        break;
    case IR_CREATE_INDEX:
        strbuf_puts(out, "- new ");
        index_text(out, op->index);
        break;
    case IR_DROP_INDEX:
        strbuf_puts(out, "- drops ");
        index_text(out, op->index);
        break;
    default:
        return;
    }
    strbuf_putc(out, '\n');
}

/* The schema changes of a step, grouped by table in the order the plan first touches each. */
static void
schema_changes(struct strbuf *out, const struct plan *p, const struct plan_version *v,
               unsigned dialects)
{
    const struct ir_step *ir = v->ir;
    struct ir_group *groups;
    size_t *order, ng = ir_group_by_table(ir, &groups, &order), g, i, k, nsql = 0;

    for (g = 0; g < ng; g++) {
        const struct ir_op *first = ir->ops[order[groups[g].start]];
        const struct ir_op *last = ir->ops[order[groups[g].start + groups[g].n - 1]];
        /* the heading: the table as the step leaves it */
        strbuf_puts(out, "\n");
        if (first->kind == IR_CREATE_TABLE) {
            strbuf_puts(out, "**New table ");
            md_code(out, first->after->name);
            strbuf_puts(out, "**\n\n");
            new_table_lines(out, first->after);
        } else if (last->kind == IR_DROP_TABLE && !last->after) {
            /* named as the database has it before the step (it may be renamed, then dropped) */
            strbuf_puts(out, "**");
            md_code(out, first->before->name);
            strbuf_puts(out, " is dropped**");
            if (last->lossy)
                strbuf_puts(out, ", with its rows: rolling back brings the table back empty");
            strbuf_puts(out, "\n");
            continue;
        } else {
            strbuf_puts(out, "**");
            md_code(out, ir_op_table_name(last));
            strbuf_puts(out, "**\n\n");
        }
        for (k = groups[g].start; k < groups[g].start + groups[g].n; k++) {
            const struct ir_op *op = ir->ops[order[k]];
            if (op == first && first->kind == IR_CREATE_TABLE)
                continue;
            if (op->kind == IR_DROP_TABLE) {
                strbuf_puts(out, "- dropped");
                strbuf_puts(out, op->lossy
                                     ? ", with its rows: rolling back brings the table back empty\n"
                                     : "\n");
                continue;
            }
            if (op->kind == IR_CREATE_TABLE) {
                strbuf_puts(out, "- created again:\n");
                continue;
            }
            op_line(out, op, dialects);
        }
    }
    free(groups);
    free(order);
    for (i = 0; i < ir->nops; i++)
        nsql += ir->ops[i]->kind == IR_SQL;
    if (nsql) {
        strbuf_printf(out,
                      "\n**SQL written by the maintainers** (%zu %s, run in the step's order)\n",
                      nsql, plural(nsql, "block", "blocks"));
        for (i = 0; i < ir->nops; i++) {
            const struct ir_op *op = ir->ops[i];
            if (op->kind != IR_SQL)
                continue;
            for (k = 0; k < p->ndialects; k++) {
                enum dialect_id d = p->dialect_order[k];
                const char *up = op->sql_up[d];
                if (!((dialects >> d) & 1u))
                    continue;
                strbuf_printf(out, "\n%s:", dialect_get(d)->title);
                if (!up || !*up) {
                    strbuf_puts(out, " nothing to run.\n");
                } else {
                    size_t fence = fence_for(up); /* a fence the text cannot close */
                    strbuf_puts(out, "\n\n");
                    strbuf_repeat(out, '`', fence);
                    strbuf_puts(out, "sql\n");
                    strbuf_puts(out, up);
                    if (up[strlen(up) - 1] != '\n')
                        strbuf_putc(out, '\n');
                    strbuf_repeat(out, '`', fence);
                    strbuf_putc(out, '\n');
                }
                if (op->irreversible[d]) {
                    strbuf_printf(out, "\nIt cannot be undone on %s", dialect_get(d)->title);
                    if (op->irreversible[d][0]) {
                        strbuf_puts(out, ": ");
                        md_plain(out, op->irreversible[d]);
                    }
                    strbuf_puts(out, ".\n");
                }
            }
        }
    }
}

/* --- the guide ----------------------------------------------------------- */

static void
breaking_ids(struct strbuf *out, const struct plan_version *v, const char *sep, bool code)
{
    size_t n = 0;

    for (size_t i = 0; i < v->nbreaking; i++) {
        if (n++)
            strbuf_puts(out, sep);
        if (code)
            md_code(out, v->breaking[i].id);
        else
            md_cell(out, v->breaking[i].id);
    }
}

/* The apply command of a step, with an --ack for each breaking change. */
static void
apply_command(struct strbuf *out, const struct plan_version *to,
              const struct plan_version *const *path, size_t n)
{
    strbuf_printf(out, "uprun apply --to %s", to->name);
    for (size_t i = 0; i < n; i++) {
        const struct plan_version *v = path[i];
        for (size_t k = 0; k < v->nbreaking; k++) {
            const char *id = v->breaking[k].id;
            strbuf_puts(out, " \\\n    --ack ");
            /* ids are shell words only when plain; quote the others */
            bool plain = true;
            for (const char *q = id; *q; q++)
                if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                      (*q >= '0' && *q <= '9') || strchr("._-:/", *q)))
                    plain = false;
            if (plain) {
                strbuf_puts(out, id);
            } else {
                strbuf_putc(out, '\'');
                for (const char *q = id; *q; q++) {
                    if (*q == '\'')
                        strbuf_puts(out, "'\\''");
                    else
                        strbuf_putc(out, *q);
                }
                strbuf_putc(out, '\'');
            }
        }
    }
    strbuf_putc(out, '\n');
}

/*
 * The findings of v whose lint is one of lints (space-separated) under a
 * heading: the dialects in the plan's order, then those of every dialect.
 */
static void
findings_section(struct strbuf *out, const struct plan *p, const struct plan_version *v,
                 unsigned dialects, const char *heading, const char *lints)
{
    bool any = false;

    for (size_t k = 0; k <= p->ndialects; k++) {
        const char *d = k < p->ndialects ? dialect_name(p->dialect_order[k]) : NULL;
        if (k < p->ndialects && !((dialects >> p->dialect_order[k]) & 1u))
            continue;
        for (size_t i = 0; i < v->findings.len; i++) {
            const struct plan_finding *f = v->findings.items[i];
            const char *hit = strstr(lints, f->lint);
            size_t n = strlen(f->lint);
            if (!hit || (hit != lints && hit[-1] != ' ') || (hit[n] != ' ' && hit[n] != '\0'))
                continue;
            if ((d == NULL) != (f->dialect == NULL) || (d && strcmp(d, f->dialect->name) != 0))
                continue;
            if (!any)
                strbuf_printf(out, "\n### %s\n\n", heading);
            any = true;
            strbuf_puts(out, "- ");
            md_plain(out, f->message);
            strbuf_putc(out, '\n');
        }
    }
}

/* The name a table has when the step starts (before any rename in it). */
static const char *
table_start_name(const struct ir_step *ir, const void *id)
{
    for (size_t i = 0; i < ir->nops; i++)
        if (ir->ops[i]->kind != IR_SQL && ir_op_table_id(ir->ops[i]) == id && ir->ops[i]->before)
            return ir->ops[i]->before->name;
    return "?";
}

/* The name a column has when the step starts. */
static const char *
column_start_name(const struct ir_step *ir, const struct sm_column *col)
{
    const struct snap_col *c;

    for (size_t i = 0; i < ir->nops; i++)
        if (ir->ops[i]->col == col && ir->ops[i]->before &&
            (c = snap_find_col(ir->ops[i]->before, col)))
            return c->name;
    return "?";
}

static const char *
dialect_title(enum dialect_id d)
{
    return dialect_get(d)->title;
}

/* Before a step that deletes data or cannot be rolled back: what is lost, and to back up first. */
static void
backup_advice(struct strbuf *out, const struct plan_version *v, const struct step_summary *s,
              unsigned dialects)
{
    const struct ir_step *ir = v->ir;

    strbuf_puts(out, "\n**Back up the database before this step.**");
    for (size_t d = 0; d < DIALECT_COUNT; d++) {
        bool everywhere = s->irreversible_in == dialects;
        if (!((s->irreversible_in >> d) & 1u))
            continue;
        if (everywhere)
            strbuf_puts(out, " It cannot be rolled back: a SQL block cannot be undone");
        else
            strbuf_printf(out, " On %s it cannot be rolled back: a SQL block cannot be undone",
                          dialect_title((enum dialect_id)d));
        for (size_t i = 0; i < ir->nops; i++) {
            const struct ir_op *op = ir->ops[i];
            if (op->kind == IR_SQL && op->irreversible[d] && op->irreversible[d][0]) {
                strbuf_puts(out, " (");
                md_plain(out, op->irreversible[d]);
                strbuf_putc(out, ')');
                break;
            }
        }
        strbuf_putc(out, '.');
        if (everywhere)
            break;
    }
    if (!s->lossy) {
        strbuf_putc(out, '\n');
        return;
    }
    strbuf_puts(out, " It deletes data that rolling it back cannot restore:\n\n");
    for (size_t i = 0; i < ir->nops; i++) {
        const struct ir_op *op = ir->ops[i];
        if (!op->lossy)
            continue;
        if (op->kind == IR_DROP_TABLE) {
            strbuf_puts(out, "- the rows of table ");
            md_code(out, table_start_name(ir, ir_op_table_id(op)));
            strbuf_putc(out, '\n');
        } else if (op->kind == IR_DROP_COLUMN) {
            strbuf_puts(out, "- the values of column ");
            md_code(out, column_start_name(ir, op->col));
            strbuf_puts(out, " of table ");
            md_code(out, table_start_name(ir, ir_op_table_id(op)));
            strbuf_putc(out, '\n');
        }
    }
}

/* Whether the step adds a table or a column, which its rollback drops again. */
static bool
added_something(const struct plan_version *v)
{
    for (size_t i = 0; v->ir && i < v->ir->nops; i++)
        if (v->ir->ops[i]->kind == IR_CREATE_TABLE || v->ir->ops[i]->kind == IR_ADD_COLUMN)
            return true;
    return false;
}

/*
 * A change of type marked online: the two ways PostgreSQL can take it, and how
 * uprun chooses (uprun apply --online; docs/operators.md, "Online changes").
 */
static void
online_paths(struct strbuf *out, const struct plan_version *v, unsigned dialects)
{
    for (size_t i = 0; v->ir && i < v->ir->nops; i++) {
        const struct ir_op *op = v->ir->ops[i];
        const struct snap_col *b, *a;
        if (op->kind != IR_ALTER_COLUMN || !op->online || !((dialects >> DIALECT_POSTGRES) & 1u))
            continue;
        b = snap_col_of(op->before, op->col);
        a = snap_col_of(op->after, op->col);
        if (type_equal(&b->type, &a->type))
            continue;
        strbuf_puts(out, "\nOn PostgreSQL the change of the type of column ");
        md_code(out, a->name);
        strbuf_puts(out, " of table ");
        md_code(out, op->after->name);
        strbuf_puts(
            out,
            " can run two ways, and `uprun apply --online` chooses; `uprun plan` shows which one "
            "will run, and why, and the history records it:\n\n"
            "- **online** (`--online always`, and the default `--online auto` when the database "
            "estimates more than 100,000 rows in the table, `--online-threshold`): the column is "
            "copied into a new column that a trigger keeps in step with every write, in batches "
            "along the primary key (`--batch-size`, 1,000 rows by default, each batch a "
            "transaction of its own, `--batch-pause` between them), checked, indexed "
            "concurrently, and swapped in in one short transaction that waits at most a second "
            "for the table's lock and is tried again if it must; the old column is dropped last. "
            "Reads and writes go on all the while. It takes longer and needs room for a second "
            "copy of the column and its indexes. Stopped anywhere (Ctrl-C, a crash, a lost "
            "connection), the same command goes on where it stopped, after the last batch "
            "that committed.\n"
            "- **offline** (`--online never`, and `--online auto` for a smaller table): one `ALTER TABLE "
            "... TYPE` in the step's transaction, which rewrites the table while reads and writes "
            "wait: a moment for a small table, minutes for one of many millions of rows.\n");
    }
}

static void
step_section(struct strbuf *out, const struct plan *p, const struct plan_version *v, size_t index,
             unsigned dialects)
{
    struct step_summary s;
    size_t i;

    step_summarize(v, dialects, &s);
    strbuf_printf(out, "\n## Step %zu: %s -> %s\n", index, vname(v->parent), v->name);
    if (!v->parent)
        strbuf_printf(out, "\nA new database: this step creates the schema of version %s.\n",
                      v->name);
    if (v->merged)
        strbuf_printf(out,
                      "\nVersion %s takes in the hotfixes up to %s (it merges %s): this step makes "
                      "their changes first, then its own. A database at %s takes step %zu "
                      "instead, with only the changes of %s.\n",
                      v->name, v->merged->name, v->merged->name, v->merged->name,
                      plan_step_number(p, v->merge_step), v->name);
    if (v->derived_of)
        strbuf_printf(out,
                      "\nA database at %s, a hotfix that version %s merges, is upgraded by this "
                      "step: %s's own changes, without the ones it already has.\n",
                      v->parent->name, v->name, v->name);

    /* notices, in the plan's order, each in a quote (which also contains the author's Markdown) */
    for (i = 0; i < v->nnotices; i++) {
        strbuf_putc(out, '\n');
        md_text(out, v->notices[i].warning ? "> **Warning:** " : "> **Note:** ", "> ",
                v->notices[i].text);
    }

    if (s.lossy || s.irreversible_in)
        backup_advice(out, v, &s, dialects);

    strbuf_puts(out, "\n### Schema changes\n");
    if (!v->ir || v->ir->nops == 0) {
        strbuf_puts(out, "\nNone: the database schema does not change in this step.\n");
    } else if (!v->parent) {
        /* a new database: the tables the step leaves, by name */
        const struct snap_table *const *tables;
        struct arena a;
        size_t nt;
        arena_init(&a);
        nt = first_tables(&a, v, &tables);
        if (nt)
            strbuf_printf(out, "\n%zu %s:", nt, plural(nt, "table", "tables"));
        else
            strbuf_puts(out, "\nNo table.");
        for (i = 0; i < nt; i++) {
            strbuf_puts(out, i ? ", " : " ");
            md_code(out, tables[i]->name);
        }
        strbuf_puts(out, nt ? ".\n" : "\n");
        arena_free(&a);
        if (s.sql_blocks)
            strbuf_printf(out, "\n%zu SQL %s written by the maintainers %s too.\n", s.sql_blocks,
                          plural(s.sql_blocks, "block", "blocks"),
                          plural(s.sql_blocks, "runs", "run"));
    } else {
        schema_changes(out, p, v, dialects);
    }

    findings_section(out, p, v, dialects, "What takes time",
                     "table_rewrite table_lock sqlite_rebuild");
    findings_section(out, p, v, dialects, "What can fail", "narrowing");

    if (s.breaking) {
        strbuf_puts(out, "\n### Breaking changes\n\n");
        for (i = 0; i < v->nbreaking; i++) {
            strbuf_puts(out, "- ");
            md_code(out, v->breaking[i].id);
            md_text(out, ": ", "  ", v->breaking[i].text);
        }
    }

    strbuf_puts(out, "\n### Apply this step\n\n```sh\n");
    apply_command(out, v, &v, 1);
    {
        /* the dialects of the guide on which the step runs in units (lower.h) */
        bool concurrent = false;
        const char *titles[DIALECT_COUNT];
        size_t nt = 0;
        for (i = 0; v->ir && i < v->ir->nops; i++)
            concurrent = concurrent || v->ir->ops[i]->concurrently || v->ir->ops[i]->online;
        for (size_t d = 0; concurrent && d < DIALECT_COUNT; d++)
            if (((dialects >> d) & 1u) && dialect_get((enum dialect_id)d)->concurrent_units)
                titles[nt++] = dialect_get((enum dialect_id)d)->title;
        if (nt) {
            strbuf_puts(out, "```\n\nOn ");
            for (size_t k = 0; k < nt; k++)
                strbuf_printf(out, "%s%s", k ? (k + 1 == nt ? " and " : ", ") : "", titles[k]);
            strbuf_puts(
                out,
                " it runs in units: each index built or dropped concurrently, each "
                "constraint validated online and each batch of an online copy is a unit of its "
                "own, outside the step's transaction, and the statements between them run in "
                "transactions. If it stops half way, `uprun status` says how many units "
                "are done, and the same `uprun apply` resumes it: no unit runs twice.");
            size_t nd = 0;
            for (size_t d = 0; d < DIALECT_COUNT; d++)
                nd += (dialects >> d) & 1u;
            strbuf_puts(out, nt == nd ? " " : " Elsewhere it runs in one transaction. ");
            strbuf_puts(out, "Its row in the history table is written with the last unit: until "
                             "then, the database ");
        } else {
            strbuf_puts(out, "```\n\nIt runs in one transaction together with its row in the "
                             "history table: if a statement fails, the database ");
        }
    }
    if (v->parent)
        strbuf_printf(out, "stays at version %s.", v->parent->name);
    else
        strbuf_puts(out, "stays empty.");
    strbuf_printf(out, "%s\n",
                  s.breaking ? " uprun refuses to start until every breaking change of the "
                               "step is acknowledged (`--ack`)."
                             : "");
    online_paths(out, v, dialects);

    strbuf_puts(out, "\n### Roll back this step\n\n");
    if (s.irreversible_in == dialects) {
        strbuf_puts(
            out, "It cannot be rolled back: a SQL block of the step cannot be undone (see above). "
                 "Restore the backup instead.\n");
        return;
    }
    for (size_t d = 0; d < DIALECT_COUNT; d++)
        if ((s.irreversible_in >> d) & 1u)
            strbuf_printf(
                out,
                "On %s it cannot be rolled back (a SQL block cannot be undone): restore the "
                "backup instead. Elsewhere:\n\n",
                dialect_title((enum dialect_id)d));
    strbuf_printf(out, "```sh\nuprun rollback --to %s%s\n```\n", vname(v->parent),
                  s.lossy ? " --allow-data-loss" : "");
    if (added_something(v))
        strbuf_puts(out,
                    "\nRolling back drops what the step added (tables, columns), with the data "
                    "they hold by then.");
    if (s.lossy)
        strbuf_puts(
            out, "\nThe rollback brings back the structure of what the step dropped, but not its "
                 "data: restore the backup if you need the data.");
    if (added_something(v) || s.lossy)
        strbuf_putc(out, '\n');
}

/*
 * The way from every version to `to`: its first step, then as from where
 * that leads (one line per version, so the section grows with the plan, not
 * with the square of it); or why there is none.
 */
static void
way_section(struct strbuf *out, const struct plan *p, const struct plan_version *to,
            struct plan_version *const *next)
{
    size_t i;

    strbuf_printf(out,
                  "\n## The way from every version\n\n"
                  "What `uprun apply --to %s` runs on a database at each version of the plan "
                  "(`uprun status` shows the same for the database at hand):\n\n"
                  "| At version | First step | Then |\n| --- | --- | --- |\n",
                  to->name);
    /* the empty database first, then the versions in the plan's order */
    for (i = 0; i <= p->nversions; i++) {
        size_t k = i == 0 ? p->nversions : i - 1;
        const struct plan_version *v = k < p->nversions ? p->versions[k] : NULL, *s = next[k];
        const struct plan_version *at = s ? (s->derived_of ? s->derived_of : s) : NULL;
        if (v == to || (v && v->index > to->index))
            continue;
        strbuf_puts(out, "| ");
        md_cell(out, vname(v));
        strbuf_puts(out, " | ");
        if (!s) {
            strbuf_printf(out, "none | no way leads from %s to %s: their lines never meet |\n",
                          vname(v), to->name);
            continue;
        }
        strbuf_printf(out, "step %zu (%s -> %s", plan_step_number(p, s), vname(v), at->name);
        if (s->derived_of)
            strbuf_printf(out, ", as %s merges %s", at->name, vname(v));
        strbuf_puts(out, ") | ");
        if (at == to)
            strbuf_puts(out, "done |\n");
        else
            strbuf_printf(out, "as from %s |\n", at->name);
    }
}

void
guide_write(const struct plan *p, const struct guide_opts *o, struct strbuf *out)
{
    struct plan_version **path = NULL, **next;
    size_t n = plan_path(p, o->from, o->to, &path), i;
    /* a guide of the whole plan (from its start) says how every version gets there; one from a
     * later version is for the databases there */
    bool whole = !o->from || !o->from->parent;
    size_t others = 0;
    struct strbuf offpath = STRBUF_INIT;
    unsigned dialects = o->dialects ? o->dialects & p->dialects : p->dialects;

    /* the title on one line; the description in a quote, which contains its Markdown */
    strbuf_puts(out, "# ");
    md_cell(out, p->title ? p->title : p->name);
    strbuf_puts(out, ": upgrade guide\n\n");
    if (p->description) {
        md_text(out, "> ", "> ", p->description);
        strbuf_putc(out, '\n');
    }
    strbuf_printf(
        out,
        "This guide covers the upgrade from %s to %s. It is generated by `upc guide` from "
        "the plan ",
        o->from ? o->from->name : "an empty database", o->to->name);
    md_code(out, o->plan_file);
    strbuf_puts(out, " (plan ");
    md_code(out, p->name);
    strbuf_puts(out,
                "), the source the SQL of its bundle is compiled from: it describes exactly what "
                "that SQL does.\n");
    if (n == SIZE_MAX || n == 0) {
        strbuf_puts(out, "\nThere is nothing to do: no step leads there.\n");
        free(path);
        return;
    }

    /* the overview */
    strbuf_puts(out, "\n## Overview\n\n| Step | From | To | Schema changes | Breaking changes |\n"
                     "| --- | --- | --- | --- | --- |\n");
    for (i = 0; i < n; i++) {
        struct step_summary s;
        struct strbuf ids = STRBUF_INIT;
        step_summarize(path[i], dialects, &s);
        strbuf_printf(out, "| %zu | %s | %s | ", path[i]->index + 1, vname(path[i]->parent),
                      path[i]->name);
        step_summary_text(&s, out);
        if (s.rewrites)
            strbuf_puts(out, "; rewrites or locks tables");
        strbuf_puts(out, " | ");
        breaking_ids(&ids, path[i], ", ", false);
        strbuf_puts(out, ids.len ? strbuf_str(&ids) : "none");
        strbuf_puts(out, " |\n");
        strbuf_free(&ids);
    }
    for (i = 0; i < p->nversions; i++) {
        bool on = p->versions[i] == o->from;
        for (size_t k = 0; k < n; k++)
            on = on || path[k] == p->versions[i];
        if (!on) {
            strbuf_puts(&offpath, others++ ? ", " : "");
            strbuf_puts(&offpath, p->versions[i]->name);
        }
    }

    /* the recommended path, from each version on it */
    strbuf_puts(out, "\n## The recommended path\n\n");
    strbuf_printf(out, "Upgrade through every version in order: %s", vname(path[0]->parent));
    for (i = 0; i < n; i++)
        strbuf_printf(out, " -> %s", path[i]->name);
    strbuf_puts(
        out, ". `uprun apply` takes this path by itself, one step at a time, each step in its own "
             "transaction, and stops at the first failure with the database at the last good "
             "version; run it again to resume.\n");
    if (o->from && !o->from->parent) {
        struct step_summary s0;
        step_summarize(o->from, dialects, &s0);
        strbuf_printf(
            out,
            "\nA new, empty database starts with step %zu (empty -> %s), which creates the "
            "schema of version %s (%zu %s); `uprun apply` runs it first (`uprun plan --sql` "
            "on the empty database shows its SQL).\n",
            o->from->index + 1, o->from->name, o->from->name, s0.new_tables,
            plural(s0.new_tables, "table", "tables"));
    }
    if (others)
        strbuf_printf(
            out,
            "\n%s %s of the plan (%s) %s not on this path: %s says how a database at %s gets "
            "to %s.\n",
            others == 1 ? "One" : "Other", plural(others, "version", "versions"),
            strbuf_str(&offpath), plural(others, "is", "are"),
            whole ? "\"The way from every version\" below" : "`uprun status` on the database",
            plural(others, "it", "them"), o->to->name);
    strbuf_free(&offpath);
    for (i = 0; i < n; i++) {
        struct step_summary s;
        const struct plan_version *v = path[i];
        step_summarize(v, dialects, &s);
        if (!v->parent)
            strbuf_puts(out, "\n### Starting with an empty database\n\n");
        else
            strbuf_printf(out, "\n### Upgrading from version %s\n\n", v->parent->name);
        strbuf_printf(out, "Step %zu (%s -> %s) ", v->index + 1, vname(v->parent), v->name);
        bool has = !v->ir || v->ir->nops == 0;
        if (has) {
            strbuf_puts(out, "has no schema change");
        } else if (s.sql_blocks &&
                   s.new_tables + s.changed_tables + s.renamed_tables + s.dropped_tables == 0) {
            strbuf_printf(out, "runs %zu SQL %s written by the maintainers", s.sql_blocks,
                          plural(s.sql_blocks, "block", "blocks"));
        } else {
            strbuf_puts(out, "changes the schema (");
            step_summary_text(&s, out);
            strbuf_putc(out, ')');
        }
        if (s.breaking) {
            strbuf_printf(out, " and %s%zu breaking %s (", has ? "" : "has ", s.breaking,
                          plural(s.breaking, "change", "changes"));
            breaking_ids(out, v, ", ", true);
            strbuf_puts(out, ")");
        } else {
            strbuf_puts(out, has ? " and no breaking change" : " and has no breaking change");
        }
        strbuf_puts(out, ".");
        if (s.rewrites)
            strbuf_puts(out, " It rewrites or locks tables: on large tables, plan for downtime.");
        if (s.lossy)
            strbuf_puts(out, " It deletes data: back up first.");
        else if (s.irreversible_in)
            strbuf_puts(out, " It cannot be undone: back up first.");
        if (i + 1 < n)
            strbuf_printf(out, " Then continue with \"Upgrading from version %s\".\n", v->name);
        else
            strbuf_puts(out, "\n");
    }

    next = xmalloc((p->nversions + 1) * sizeof *next);
    plan_ways(p, o->to, next);
    if (whole)
        way_section(out, p, o->to, next);

    /* before you start */
    strbuf_puts(
        out,
        "\n## Before you start\n\n"
        "The commands below take the bundle, the release's public key and the database from "
        "the environment:\n\n```sh\nexport UPRUN_BUNDLE=path/to/bundle UPRUN_PUBKEY=release.pub\n"
        "export UPRUN_DB=sqlite:path/to/app.db       # or a PostgreSQL connection string\n"
        "uprun verify-bundle                          # the signature and every file\n"
        "uprun status                                 # the version the database is at\n```\n\n"
        "Back up the database first (`pg_dump` on PostgreSQL; `uprun apply --backup FILE` "
        "on SQLite). To go the whole way in one command:\n\n```sh\n");
    apply_command(out, o->to, (const struct plan_version *const *)path, n);
    strbuf_puts(out, "```\n\n`uprun plan --to ");
    strbuf_puts(out, o->to->name);
    strbuf_puts(out,
                "` shows the same path without changing anything, and `--sql` adds its SQL.\n");

    for (i = 0; i < n; i++)
        step_section(out, p, path[i], path[i]->index + 1, dialects);
    /* then the steps that lead versions off the path there (a hotfix line, a merge), once
     * each, in their order in the bundle */
    {
        size_t nsteps = p->nversions + p->nderived;
        unsigned char *mark = xcalloc(nsteps + 1, 1); /* 1: on the path, 2: to describe */
        for (i = 0; i < n; i++)
            mark[path[i]->index] = 1;
        for (i = 0; whole && i < p->nversions; i++) /* not the empty database's: the baseline's */
            if (next[i] && !mark[next[i]->index])
                mark[next[i]->index] = 2;
        for (i = 0; i < nsteps; i++) {
            struct plan_version *s =
                i < p->nversions ? p->versions[i] : p->derived[i - p->nversions];
            if (mark[i] == 2)
                step_section(out, p, s, s->index + 1, dialects);
        }
        free(mark);
    }
    free(next);
    free(path);
}

/* --- the graph ----------------------------------------------------------- */

void
graph_write(const struct plan *p, struct strbuf *out)
{
    size_t i;

    strbuf_puts(out, "digraph \"");
    dot_str(out, p->name ? p->name : "plan");
    strbuf_puts(out, "\" {\n  rankdir=LR;\n  labelloc=t;\n  label=\"");
    dot_str(out, p->title ? p->title : p->name ? p->name : "plan");
    strbuf_puts(out, ": upgrade paths\";\n"
                     "  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n"
                     "  edge [fontname=\"Helvetica\", fontsize=10];\n"
                     "  \"empty\" [label=\"empty database\", shape=ellipse, style=dashed];\n");
    for (i = 0; i < p->nversions; i++) {
        strbuf_puts(out, "  \"v:");
        dot_str(out, p->versions[i]->name);
        strbuf_puts(out, "\" [label=\"");
        dot_str(out, p->versions[i]->name);
        strbuf_puts(out, "\"];\n");
    }
    for (i = 0; i < p->nversions; i++) {
        const struct plan_version *v = p->versions[i];
        struct step_summary s;
        struct strbuf label = STRBUF_INIT, ids = STRBUF_INIT;

        step_summarize(v, p->dialects, &s);
        strbuf_printf(&label, "step %zu: ", v->index + 1);
        step_summary_text(&s, &label);
        if (s.rewrites)
            strbuf_puts(&label, "\nrewrites or locks tables");
        if (s.lossy)
            strbuf_puts(&label, "\ndeletes data");
        if (s.irreversible_in == p->dialects)
            strbuf_puts(&label, "\nirreversible");
        else
            for (size_t d = 0; d < DIALECT_COUNT; d++)
                if ((s.irreversible_in >> d) & 1u)
                    strbuf_printf(&label, "\nirreversible on %s",
                                  dialect_title((enum dialect_id)d));
        for (size_t k = 0; k < v->nbreaking; k++)
            strbuf_printf(&ids, "\nbreaking: %s", v->breaking[k].id);
        strbuf_puts(out, "  ");
        if (v->parent) {
            strbuf_puts(out, "\"v:");
            dot_str(out, v->parent->name);
            strbuf_puts(out, "\"");
        } else {
            strbuf_puts(out, "\"empty\"");
        }
        strbuf_puts(out, " -> \"v:");
        dot_str(out, v->name);
        strbuf_puts(out, "\" [label=\"");
        dot_str(out, strbuf_str(&label));
        if (ids.len)
            dot_str(out, strbuf_str(&ids));
        strbuf_puts(out, "\"");
        if (s.breaking)
            strbuf_puts(out, ", color=red, fontcolor=red, penwidth=2");
        if (s.irreversible_in)
            strbuf_puts(out, ", style=bold, arrowhead=tee");
        else if (!v->ir || v->ir->nops == 0)
            strbuf_puts(out, ", style=dashed");
        strbuf_puts(out, "];\n");
        strbuf_free(&label);
        strbuf_free(&ids);
    }
    /* the derived steps of merges: from the hotfix to the version that takes it in */
    for (i = 0; i < p->nderived; i++) {
        const struct plan_version *v = p->derived[i];
        strbuf_puts(out, "  \"v:");
        dot_str(out, v->parent->name);
        strbuf_puts(out, "\" -> \"v:");
        dot_str(out, v->name);
        strbuf_printf(out, "\" [label=\"step %zu: %s merges ", v->index + 1, v->name);
        dot_str(out, v->parent->name);
        strbuf_puts(out, "\", color=blue, fontcolor=blue, style=dashed];\n");
    }
    strbuf_puts(out, "}\n");
}
