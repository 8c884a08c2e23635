/* SPDX-License-Identifier: MIT */
/*
 * lint.c: the lint pass (lint.h). For each statement of each checked
 * version, in the plan's order, it evaluates the lints of its operation:
 * first the portable ones (data loss, narrowing), then each declared
 * dialect's costs in the registry's order. A finding is recorded with the
 * version, and reported as a warning unless the statement allows it; then
 * the statement's allows that suppressed nothing are reported (W0301).
 */
#include "compiler/lint.h"

#include <stdarg.h>
#include <string.h>

#include "compiler/ir.h"
#include "core/strbuf.h"

/* What the pass knows while it lints one statement. */
struct lint_report {
    struct plan *plan;
    struct plan_version *ver;
    struct arena *arena;
    struct diag_sink *diag;
    const struct ir_stmt *stmt;
    const struct dialect *dialect; /* whose costs are being asked; NULL: the portable lints */
    unsigned used;                 /* allowed lints that fired (bit per enum lint_id) */
};

static bool
allowed(const struct ir_stmt *st, enum lint_id l)
{
    for (size_t i = 0; i < st->nallows; i++)
        if (st->allows[i].lint == l)
            return true;
    return false;
}

static void
report(struct lint_report *r, enum lint_id l, const char *why, const char *help, const char *fmt,
       va_list ap)
{
    struct plan_finding *f = ARENA_NEW(r->arena, struct plan_finding);
    struct sm_list *list = &r->ver->findings;
    struct strbuf msg = STRBUF_INIT;

    strbuf_vprintf(&msg, fmt, ap);
    /* the bundle and the guide tell operators about every finding, allowed or not */
    f->lint = lint_name(l);
    f->dialect = r->dialect;
    f->message = arena_strdup(r->arena, strbuf_str(&msg));
    if (list->len == list->cap) {
        size_t ncap = list->cap ? list->cap * 2 : 4;
        void **items = ARENA_ARRAY(r->arena, void *, ncap);
        if (list->len)
            memcpy(items, list->items, list->len * sizeof *items);
        list->items = items;
        list->cap = ncap;
    }
    list->items[list->len++] = f;
    if (allowed(r->stmt, l)) {
        r->used |= 1u << l;
        r->plan->nallowed++;
    } else if (diag_warning(r->diag, r->stmt->span, lint_code(l), "%s", strbuf_str(&msg))) {
        if (why)
            diag_note(r->diag, "%s", why);
        if (help)
            diag_help(r->diag, "%s", help);
        else
            diag_help(r->diag, "If this is intended, add \"allow %s\" to the statement.",
                      lint_name(l));
    }
    strbuf_free(&msg);
}

void
lint_report(struct lint_report *r, enum lint_id l, const char *why, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report(r, l, why, NULL, fmt, ap);
    va_end(ap);
}

void
lint_report_help(struct lint_report *r, enum lint_id l, const char *why, const char *help,
                 const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report(r, l, why, help, fmt, ap);
    va_end(ap);
}

/* The lints of every dialect: deleting data, and conversions that can fail. */
static void
portable_costs(const struct ir_op *op, struct lint_report *r)
{
    const struct snap_col *b, *a;
    char t1[32], t2[32];

    if (!op->has_rows)
        return;
    switch (op->kind) {
    case IR_DROP_TABLE:
        lint_report(r, LINT_DATA_LOSS,
                    "Its down-step re-creates the table empty: the rows cannot come back.",
                    "dropping table \"%s\" deletes its rows", op->before->name);
        return;
    case IR_DROP_COLUMN:
        lint_report(r, LINT_DATA_LOSS,
                    "Its down-step adds the column back empty: the values cannot come back.",
                    "dropping column \"%s\" of table \"%s\" deletes its values",
                    snap_col_of(op->before, op->col)->name, op->before->name);
        return;
    case IR_ALTER_COLUMN:
        b = snap_col_of(op->before, op->col);
        a = snap_col_of(op->after, op->col);
        if (!type_equal(&b->type, &a->type) && type_conversion(&b->type, &a->type) == CONV_NARROW)
            lint_report(
                r, LINT_NARROWING,
                "The step fails, and is rolled back, if an existing value does not convert.",
                "changing column \"%s\" from %s to %s may fail on existing values", a->name,
                type_str(&b->type, t1, sizeof t1), type_str(&a->type, t2, sizeof t2));
        return;
    default:
        return;
    }
}

/* The allows of a statement that suppressed nothing, on a statement that is otherwise clean. */
static void
unused_allows(struct lint_report *r)
{
    for (size_t i = 0; i < r->stmt->nallows; i++) {
        const struct ir_allow *al = &r->stmt->allows[i];
        if (r->used & (1u << al->lint))
            continue;
        if (diag_warning(r->diag, al->span, "W0301", "allow \"%s\" has no effect on this statement",
                         lint_name(al->lint)))
            diag_help(r->diag, "Remove it.");
    }
}

int
pass_lint(struct plan *p, struct arena *a, struct diag_sink *d)
{
    size_t before = diag_errors(d);
    struct lint_report r;

    memset(&r, 0, sizeof r);
    r.plan = p;
    r.arena = a;
    r.diag = d;
    for (size_t i = 0; i < p->nversions; i++) {
        struct plan_version *v = p->versions[i];
        if (!v->ir)
            continue; /* not checked */
        r.ver = v;
        for (size_t k = 0; k < v->ir->nstmts; k++) {
            const struct ir_stmt *st = v->ir->stmts[k];
            size_t errors = diag_errors(d);
            r.stmt = st;
            r.used = 0;
            if (st->op) {
                r.dialect = NULL;
                portable_costs(st->op, &r);
                for (size_t di = 0; di < DIALECT_COUNT; di++) {
                    if (!plan_has_dialect(p, (enum dialect_id)di))
                        continue;
                    r.dialect = dialect_get((enum dialect_id)di);
                    if (st->op->has_rows && r.dialect->costs)
                        r.dialect->costs(st->op, &r);
                }
            }
            /* -Werror: a lint warning makes the statement fail, and its allows go unjudged */
            if (st->clean && diag_errors(d) == errors)
                unused_allows(&r);
        }
    }
    return (int)(diag_errors(d) - before);
}
