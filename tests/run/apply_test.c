/* SPDX-License-Identifier: MIT */
/*
 * apply_test.c: proves the generated SQL on a real database.
 *
 *     apply_test PLAN DIALECT URL
 *
 * For every leaf version of the plan, from an empty database: apply each
 * step up, one at a time, then each step down back to empty. After every
 * step it reads the live schema back (runtime/introspect.c) and compares it
 * with the model's expectation (compiler/expect.c), and it checks that the
 * rows the tables held before the step are all there after it, with the
 * same values, in every column that exists on both sides (tables and
 * columns are matched by identity, so renames are followed). Between steps
 * it inserts a few rows into every table, parents before children, so that
 * every step runs on data.
 *
 * On PostgreSQL it works in a schema of its own, dropped at the end. The URL
 * "sqlite:temp" makes a temporary SQLite file, removed at the end; the URL
 * "env:NAME" is read from the environment variable NAME.
 * Exit status: 0 when everything held, 1 on a failure (all are printed), 2
 * on a usage error, 77 when the plan does not declare the dialect.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compiler/driver.h"
#include "compiler/expect.h"
#include "compiler/lower.h"
#include "runtime/canon.h"
#include "runtime/db.h"
#include "runtime/introspect.h"
#include "runtime/sqlsplit.h"

enum { SEED_ROWS = 3 };

struct tester {
    struct compilation c;
    struct lower_ctx lctx;
    enum dialect_id d;
    struct db *db;
    size_t failures;
    size_t steps;
    unsigned long serial; /* makes every seeded value unique */
};

static void
failf(struct tester *t, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("FAIL: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    t->failures++;
}

static void
report_diff(void *arg, const char *text)
{
    (void)arg;
    printf("    %s\n", text);
}

static const char *
vname(const struct plan_version *v)
{
    return v ? v->name : "empty";
}

/* Runs a step's SQL as the runtime will: one transaction, SQLite's pragmas around it. */
static int
run_step(struct tester *t, const struct plan_version *v, bool down)
{
    struct step_sql s;
    struct rt_error err;
    int rc = 0;

    lower_step(&t->lctx, v, down, &s);
    if (s.nstatements == 0)
        goto done;
    if (s.fk_off && db_exec(t->db, "PRAGMA foreign_keys = OFF", &err))
        goto fail;
    if (s.nunits) {
        /* in units, as uprun runs them: each unit of its own alone, the statements between
         * them in transactions */
        const char *body = strbuf_str(&s.body);
        struct sql_stmt *st = NULL;
        size_t n = sql_split(body, s.body.len, &st), u = 0, i;
        bool in_tx = false;
        for (i = 0; i < n && rc == 0; i++) {
            bool here = u < s.nunits && s.units[u].statement == i + 1;
            bool alone = here && s.units[u].kind != UNIT_TRANSACTION;
            char *one = strndup(body + st[i].start, st[i].end - st[i].start);
            if (here && !alone && in_tx) { /* a transactional unit begins here */
                rc = db_exec(t->db, "COMMIT", &err);
                in_tx = false;
            }
            if (rc == 0 && ((alone && in_tx) || (!alone && !in_tx))) {
                rc = db_exec(t->db, in_tx ? "COMMIT" : "BEGIN", &err);
                in_tx = !in_tx;
            }
            if (rc == 0 && here && s.units[u].kind == UNIT_BATCHES) {
                /* as uprun runs it: batches after the last key until it sees none (small
                 * batches, so that the seeded rows take several) */
                char *last = NULL;
                for (;;) {
                    const char *p[2] = {last, "3"};
                    struct db_rows *r = NULL;
                    if ((rc = db_query(t->db, one, p, 2, &r, &err)))
                        break;
                    if (r->nrows == 0 || !db_cell(r, 0, 1) || strcmp(db_cell(r, 0, 0), "0") == 0) {
                        db_rows_free(r);
                        break;
                    }
                    free(last);
                    last = strdup(db_cell(r, 0, 1));
                    db_rows_free(r);
                }
                free(last);
            } else if (rc == 0) {
                rc = db_exec(t->db, one, &err);
            }
            u += here;
            free(one);
        }
        if (rc == 0 && in_tx)
            rc = db_exec(t->db, "COMMIT", &err);
        free(st);
        if (rc) {
            struct rt_error ignored;
            db_exec(t->db, "ROLLBACK", &ignored);
            rc = 0;
            goto fail;
        }
        goto pragma_on;
    }
    if (db_exec(t->db, "BEGIN", &err))
        goto fail;
    if (db_exec(t->db, strbuf_str(&s.body), &err)) {
        struct rt_error ignored;
        db_exec(t->db, "ROLLBACK", &ignored);
        goto fail;
    }
    if (db_exec(t->db, "COMMIT", &err))
        goto fail;
pragma_on:
    if (s.fk_off && db_exec(t->db, "PRAGMA foreign_keys = ON", &err))
        goto fail;
    goto done;
fail:
    failf(t, "step %s %s -> %s failed: %s%s%s", down ? "down" : "up",
          down ? v->name : vname(v->parent), down ? vname(v->parent) : v->name, err.message,
          err.detail[0] ? " / " : "", err.detail);
    if (err.stmt_position || err.position) {
        long pos = err.position ? err.position : err.stmt_position;
        const char *b = strbuf_str(&s.body);
        long line = 1, i;
        for (i = 0; i + 1 < pos && b[i]; i++)
            line += b[i] == '\n';
        printf("    at line %ld of the step's SQL\n", line);
    }
    rc = -1;
done:
    step_sql_free(&s);
    return rc;
}

static void
compare_schema(struct tester *t, const struct plan_version *at, const char *when)
{
    struct rt_error err;
    json_t *live = NULL, *exp = expect_schema(at, t->d);

    if (introspect(t->db, NULL, &live, &err)) {
        failf(t, "%s: could not read the schema: %s", when, err.message);
    } else if (canon_diff(exp, live, report_diff, NULL)) {
        failf(t, "%s: the live schema differs from the model at %s (above)", when, vname(at));
    }
    json_decref(live);
    json_decref(exp);
}

/* --- rows ---------------------------------------------------------------- */

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The rows of table `name`, projected on the given columns, each row one
 * string (cells separated by 0x1F, NULL as 0x01), sorted. Caller frees.
 */
static char **
read_rows(struct tester *t, const char *name, const char *const *cols, const char *const *casts,
          size_t ncols, size_t *n)
{
    struct strbuf q = STRBUF_INIT;
    struct db_rows *rows = NULL;
    struct rt_error err;
    char **out;
    size_t i, j;

    strbuf_puts(&q, "SELECT ");
    for (i = 0; i < ncols; i++) {
        if (i)
            strbuf_puts(&q, ", ");
        if (casts && casts[i])
            strbuf_puts(&q, "CAST(");
        sql_quote_ident(&q, cols[i]);
        if (casts && casts[i])
            strbuf_printf(&q, " AS %s)", casts[i]);
        if (t->d == DIALECT_POSTGRES)
            strbuf_puts(&q, "::text");
    }
    if (!ncols)
        strbuf_puts(&q, "1");
    strbuf_puts(&q, " FROM ");
    sql_quote_ident(&q, name);
    if (db_query(t->db, strbuf_str(&q), NULL, 0, &rows, &err)) {
        failf(t, "could not read table \"%s\": %s", name, err.message);
        strbuf_free(&q);
        *n = 0;
        return NULL;
    }
    strbuf_free(&q);
    out = calloc(rows->nrows + 1, sizeof *out);
    for (i = 0; i < rows->nrows; i++) {
        struct strbuf r = STRBUF_INIT;
        for (j = 0; j < ncols; j++) {
            const char *cell = db_cell(rows, i, j);
            if (j)
                strbuf_putc(&r, '\x1f');
            strbuf_puts(&r, cell ? cell : "\x01");
        }
        out[i] = strbuf_detach(&r);
    }
    *n = rows->nrows;
    qsort(out, *n, sizeof *out, cmp_str);
    db_rows_free(rows);
    return out;
}

static void
free_rows(char **rows, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(rows[i]);
    free(rows);
}

/* The rows of every table of `from` (a schema) on the columns it shares with `to`. */
struct table_rows {
    const struct snap_table *from, *to;
    const char **from_cols, **to_cols;
    char **casts; /* PostgreSQL: the old values converted to the new type, when it changed */
    size_t ncols;
    char **rows;
    size_t nrows;
};

/* The tables at version v (NULL: none), sorted by name; the array is in the compilation's arena. */
static size_t
tables_at(struct tester *t, const struct plan_version *v, const struct snap_table ***out)
{
    return ir_schema_at(&t->c.arena, v, out);
}

static const struct snap_table *
table_by_id(struct tester *t, const struct plan_version *v, const struct sm_table *id)
{
    const struct snap_table **tables;
    size_t n = tables_at(t, v, &tables), i;

    for (i = 0; i < n; i++)
        if (tables[i]->id == id)
            return tables[i];
    return NULL;
}

static struct table_rows *
snapshot_rows(struct tester *t, const struct plan_version *from, const struct plan_version *to,
              size_t *n)
{
    const struct snap_table **tables;
    size_t ntables = tables_at(t, from, &tables), i, k = 0;
    struct table_rows *out = calloc(ntables + 1, sizeof *out);

    for (i = 0; i < ntables; i++) {
        const struct snap_table *a = tables[i], *b = table_by_id(t, to, a->id);
        struct table_rows *tr = &out[k];
        size_t c;
        if (!b)
            continue; /* the step drops it (or creates it, going down): nothing to compare */
        tr->from = a;
        tr->to = b;
        tr->from_cols = calloc(a->ncols + 1, sizeof *tr->from_cols);
        tr->to_cols = calloc(a->ncols + 1, sizeof *tr->to_cols);
        tr->casts = calloc(a->ncols + 1, sizeof *tr->casts);
        for (c = 0; c < a->ncols; c++) {
            const struct snap_col *bc = snap_find_col(b, a->cols[c].id);
            if (!bc)
                continue;
            tr->from_cols[tr->ncols] = a->cols[c].name;
            tr->to_cols[tr->ncols] = bc->name;
            if (t->d == DIALECT_POSTGRES && !type_equal(&a->cols[c].type, &bc->type)) {
                struct strbuf ty = STRBUF_INIT;
                dialect_get(t->d)->declared_type(&ty, &bc->type);
                tr->casts[tr->ncols] = strbuf_detach(&ty);
            }
            tr->ncols++;
        }
        tr->rows = read_rows(t, a->name, tr->from_cols, (const char *const *)tr->casts, tr->ncols,
                             &tr->nrows);
        k++;
    }
    *n = k;
    return out;
}

/* Whether every row of `old` is in `now` (both sorted). */
static bool
rows_kept(char **old, size_t nold, char **now, size_t nnow)
{
    size_t i = 0, j = 0;

    while (i < nold && j < nnow) {
        int c = strcmp(old[i], now[j]);
        if (c == 0)
            i++, j++;
        else if (c > 0)
            j++;
        else
            return false;
    }
    return i == nold;
}

/* Whether a step runs SQL blocks of the plan's authors (data changes: they may insert rows). */
static bool
has_sql(const struct plan_version *v)
{
    for (size_t i = 0; v->ir && i < v->ir->nops; i++)
        if (v->ir->ops[i]->kind == IR_SQL)
            return true;
    return false;
}

/*
 * Compares the rows now with the rows before. After a step that applied,
 * tables and columns are read by their new names; after one that failed
 * (and was rolled back), by their old ones. After a step with SQL blocks
 * (inserts) the rows before must all still be there; otherwise exactly.
 */
static void
check_rows(struct tester *t, struct table_rows *before, size_t n, const char *when, bool applied,
           bool inserts)
{
    size_t i, j, total = 0;

    for (i = 0; i < n; i++) {
        struct table_rows *tr = &before[i];
        size_t m;
        char **after = applied ? read_rows(t, tr->to->name, tr->to_cols, NULL, tr->ncols, &m)
                               : read_rows(t, tr->from->name, tr->from_cols,
                                           (const char *const *)tr->casts, tr->ncols, &m);
        total += tr->nrows;
        if (inserts && applied && m > tr->nrows) {
            if (!rows_kept(tr->rows, tr->nrows, after, m))
                failf(t, "%s: a row of table \"%s\" changed or went", when, tr->to->name);
        } else if (m != tr->nrows) {
            failf(t, "%s: table \"%s\" had %zu rows, now %zu", when, tr->to->name, tr->nrows, m);
        } else {
            for (j = 0; j < m; j++) {
                if (strcmp(after[j], tr->rows[j]) != 0) {
                    failf(t, "%s: a row of table \"%s\" changed", when, tr->to->name);
                    break;
                }
            }
        }
        free_rows(after, m);
        free_rows(tr->rows, tr->nrows);
        for (j = 0; j < tr->ncols; j++)
            free(tr->casts[j]);
        free(tr->casts);
        free(tr->from_cols);
        free(tr->to_cols);
    }
    free(before);
    (void)total;
}

/* --- seeding ------------------------------------------------------------- */

/* A value of type ty for row `serial`, as text (the database converts it). */
static char *
seed_value(const struct tester *t, const struct sm_type *ty, unsigned long n)
{
    char buf[256];

    switch (ty->kind) {
    case TY_BOOL:
        if (t->d == DIALECT_SQLITE)
            snprintf(buf, sizeof buf, "%lu", n % 2);
        else
            snprintf(buf, sizeof buf, "%s", n % 2 ? "true" : "false");
        break;
    case TY_INT:
    case TY_BIGINT:
        snprintf(buf, sizeof buf, "%lu", 1000 + n);
        break;
    case TY_DOUBLE:
        snprintf(buf, sizeof buf, "%lu.25", n);
        break;
    case TY_DECIMAL: {
        unsigned long lim = 1;
        int i;
        for (i = 0; i < ty->precision - ty->scale && i < 9; i++)
            lim *= 10;
        snprintf(buf, sizeof buf, "%lu%s", lim ? n % lim : 0, ty->scale ? ".5" : "");
        break;
    }
    case TY_STRING:
    case TY_TEXT: {
        /* quotes, a comment marker, a backslash and non-ASCII: values travel as parameters */
        static const char flavour[] = " it's \"q\" -- \\ Ünï";
        snprintf(buf, sizeof buf, "v%lu%s", n, flavour);
        if (ty->kind == TY_STRING && strlen(buf) > ty->len) {
            snprintf(buf, sizeof buf, "%lu", n);
            if (strlen(buf) > ty->len)
                buf[ty->len] = '\0';
        }
        break;
    }
    case TY_BYTES:
        snprintf(buf, sizeof buf, t->d == DIALECT_POSTGRES ? "\\x%02lx00ff" : "b%lu", n % 256);
        break;
    case TY_DATE:
        snprintf(buf, sizeof buf, "2024-01-%02lu", n % 28 + 1);
        break;
    case TY_TIMESTAMP:
        snprintf(buf, sizeof buf, "2024-01-02 03:04:%02lu", n % 60);
        break;
    case TY_INTERVAL:
        snprintf(buf, sizeof buf, "01:02:%02lu", n % 60);
        break;
    case TY_UUID:
        snprintf(buf, sizeof buf, "%08lx-0000-4000-8000-%012lx", n, n);
        break;
    case TY_JSON:
        snprintf(buf, sizeof buf, "{\"n\": %lu}", n);
        break;
    }
    return strdup(buf);
}

/* Tables of v in an order where every table comes after the tables it references. */
static const struct snap_table **
parents_first(struct tester *t, const struct plan_version *v, size_t *count)
{
    const struct snap_table **tables;
    size_t ntables = tables_at(t, v, &tables);
    const struct snap_table **out = calloc(ntables + 1, sizeof *out);
    bool *done = calloc(ntables + 1, sizeof *done);
    size_t n = 0, i, k, pass;

    *count = ntables;
    for (pass = 0; pass <= ntables && n < ntables; pass++) {
        for (i = 0; i < ntables; i++) {
            const struct snap_table *tb = tables[i];
            bool ready = !done[i];
            for (k = 0; ready && k < tb->nkeys; k++) {
                size_t j;
                if (tb->keys[k].kind != KEY_FOREIGN || strcmp(tb->keys[k].ref_table, tb->name) == 0)
                    continue;
                for (j = 0; j < ntables; j++)
                    if (strcmp(tables[j]->name, tb->keys[k].ref_table) == 0 && !done[j])
                        ready = false;
            }
            if (ready) {
                done[i] = true;
                out[n++] = tb;
            }
        }
    }
    free(done);
    return out;
}

static void
seed_table(struct tester *t, const struct snap_table *tb)
{
    struct strbuf q = STRBUF_INIT;
    const char **params = calloc(tb->ncols + 1, sizeof *params);
    struct db_rows **parent = calloc(tb->nkeys + 1, sizeof *parent);
    size_t row, c, k, np = 0;
    bool has_check = false;

    /* rows of the referenced tables, to point the foreign keys at */
    for (k = 0; k < tb->nkeys; k++) {
        const struct snap_key *fk = &tb->keys[k];
        struct rt_error err;
        has_check = has_check || fk->kind == KEY_CHECK;
        if (fk->kind != KEY_FOREIGN)
            continue;
        strbuf_reset(&q);
        strbuf_puts(&q, "SELECT ");
        for (c = 0; c < fk->nref; c++) {
            if (c)
                strbuf_puts(&q, ", ");
            sql_quote_ident(&q, fk->ref_cols[c]);
            if (t->d == DIALECT_POSTGRES)
                strbuf_puts(&q, "::text");
        }
        strbuf_puts(&q, " FROM ");
        sql_quote_ident(&q, fk->ref_table);
        strbuf_puts(&q, " LIMIT 20");
        if (db_query(t->db, strbuf_str(&q), NULL, 0, &parent[k], &err))
            failf(t, "seeding \"%s\": %s", tb->name, err.message);
    }
    for (row = 0; row < SEED_ROWS; row++) {
        char **vals = calloc(tb->ncols + 1, sizeof *vals);
        struct rt_error err;
        bool skip = false;
        unsigned long n = ++t->serial;
        strbuf_reset(&q);
        strbuf_puts(&q, "INSERT INTO ");
        sql_quote_ident(&q, tb->name);
        strbuf_puts(&q, " (");
        np = 0;
        for (c = 0; c < tb->ncols; c++) {
            const struct snap_col *col = &tb->cols[c];
            char *v = NULL;
            bool in_fk = false;
            if (col->identity)
                continue;
            for (k = 0; k < tb->nkeys; k++) {
                const struct snap_key *fk = &tb->keys[k];
                size_t p;
                if (fk->kind != KEY_FOREIGN)
                    continue;
                for (p = 0; p < fk->ncols; p++) {
                    if (strcmp(fk->cols[p], col->name) != 0)
                        continue;
                    in_fk = true;
                    if (parent[k] && parent[k]->nrows) {
                        const char *pv = db_cell(parent[k], n % parent[k]->nrows, p);
                        v = pv ? strdup(pv) : NULL;
                    } else if (col->not_null) {
                        skip = true; /* nothing to reference yet */
                    }
                }
            }
            if (!in_fk)
                v = seed_value(t, &col->type, n);
            vals[np] = v;
            params[np] = v;
            if (np)
                strbuf_puts(&q, ", ");
            sql_quote_ident(&q, col->name);
            np++;
        }
        strbuf_puts(&q, np ? ") VALUES (" : ") VALUES (");
        for (c = 0; c < np; c++)
            strbuf_printf(&q, t->d == DIALECT_POSTGRES ? "%s$%zu" : "%s?%zu", c ? ", " : "", c + 1);
        strbuf_putc(&q, ')');
        if (np == 0) {
            strbuf_reset(&q);
            strbuf_puts(&q, "INSERT INTO ");
            sql_quote_ident(&q, tb->name);
            strbuf_puts(&q, " DEFAULT VALUES");
        }
        if (!skip) {
            struct db_rows *none = NULL;
            if (db_query(t->db, strbuf_str(&q), params, np, &none, &err)) {
                if (!has_check)
                    failf(t, "seeding \"%s\": %s", tb->name, err.message);
                else
                    printf("    (a check of \"%s\" refused a seeded row: %s)\n", tb->name,
                           err.message);
            }
            db_rows_free(none);
        }
        for (c = 0; c < np; c++)
            free(vals[c]);
        free(vals);
    }
    for (k = 0; k < tb->nkeys; k++)
        db_rows_free(parent[k]);
    free(parent);
    free(params);
    strbuf_free(&q);
}

static void
seed(struct tester *t, const struct plan_version *v)
{
    size_t n, i;
    const struct snap_table **order = parents_first(t, v, &n);

    for (i = 0; i < n && order[i]; i++)
        seed_table(t, order[i]);
    free(order);
}

/* --- the walk ------------------------------------------------------------ */

/* Up a path from an empty database and back down; true when the walk got back to empty. */
static bool
walk(struct tester *t, struct plan_version **path, size_t n)
{
    bool down_all = true;
    size_t i;
    char when[256];

    printf("path to %s: %zu steps%s\n", path[n - 1]->name, n,
           path[n - 1]->derived_of ? " (the last one derived, from the version it merges)" : "");
    for (i = 0; i < n && !t->failures; i++) {
        struct plan_version *v = path[i];
        size_t ntr;
        struct table_rows *before = snapshot_rows(t, v->parent, v, &ntr);
        snprintf(when, sizeof when, "after step up %s -> %s", vname(v->parent), v->name);
        if (run_step(t, v, false) == 0) {
            compare_schema(t, v, when);
            check_rows(t, before, ntr, when, true, has_sql(v));
            seed(t, v);
            printf("  ok  up   %s -> %s\n", vname(v->parent), v->name);
        } else {
            check_rows(t, before, ntr, "after a failed step", false, false);
        }
        t->steps++;
    }
    for (i = n; i-- > 0 && !t->failures;) {
        struct plan_version *v = path[i];
        struct step_sql probe;
        size_t ntr;
        struct table_rows *before;
        lower_step(&t->lctx, v, true, &probe);
        step_sql_free(&probe);
        if (probe.irreversible) {
            printf("  --  down %s -> %s is irreversible: the walk down stops here\n", v->name,
                   vname(v->parent));
            down_all = false;
            break;
        }
        before = snapshot_rows(t, v, v->parent, &ntr);
        snprintf(when, sizeof when, "after step down %s -> %s", v->name, vname(v->parent));
        if (run_step(t, v, true) == 0) {
            compare_schema(t, v->parent, when);
            check_rows(t, before, ntr, when, true, has_sql(v));
            printf("  ok  down %s -> %s%s\n", v->name, vname(v->parent),
                   probe.lossy ? " (lossy: dropped data not restored)" : "");
        } else {
            check_rows(t, before, ntr, "after a failed step", false, false);
        }
        t->steps++;
    }
    return down_all;
}

/* Up to leaf and back down (see walk()). */
static bool
walk_to(struct tester *t, struct plan_version *leaf)
{
    struct plan_version **path;
    size_t n = plan_path(&t->c.plan, NULL, leaf, &path);
    bool ok = walk(t, path, n);

    free(path);
    return ok;
}

/* Up to the version a derived step starts from, through it, and back down (see walk()). */
static bool
walk_derived(struct tester *t, struct plan_version *step)
{
    struct plan_version **path;
    size_t n = plan_path(&t->c.plan, NULL, step->parent, &path);
    bool ok;

    path = realloc(path, (n + 2) * sizeof *path);
    if (!path) {
        fputs("apply_test: out of memory\n", stderr);
        exit(2);
    }
    path[n++] = step;
    ok = walk(t, path, n);
    free(path);
    return ok;
}

int
main(int argc, char **argv)
{
    struct compile_opts opts = {0};
    struct tester t;
    struct rt_error err;
    char schema[64], tmpfile[4096] = "", tmpurl[4200];
    const char *url;
    size_t i;
    int rc;

    if (argc != 4) {
        fputs("usage: apply_test PLAN DIALECT URL\n", stderr);
        return 2;
    }
    memset(&t, 0, sizeof t);
    opts.error_limit = 20;
    compilation_init(&t.c, &opts);
    rc = compile_front(&t.c, argv[1], &opts);
    if (rc) {
        struct diag_render_opts ro = {false, false};
        diag_render(&t.c.diag, stderr, &ro);
        fprintf(stderr, "apply_test: %s does not compile\n", argv[1]);
        compilation_free(&t.c);
        return 1;
    }
    if (!dialect_lookup(argv[2], &t.d) || !plan_has_dialect(&t.c.plan, t.d)) {
        printf("%s does not declare dialect %s: skipped\n", argv[1], argv[2]);
        compilation_free(&t.c);
        return 77;
    }
    t.lctx.plan = &t.c.plan;
    t.lctx.dialect = dialect_get(t.d);
    t.lctx.origin_file = argv[1];
    t.lctx.sources = &t.c.sources;
    url = argv[3];
    if (strncmp(url, "env:", 4) == 0) {
        /* the URL of a server that a wrapper started: with_postgres.sh sets UPG_TEST_PGURI */
        url = getenv(url + 4);
        if (!url || !*url) {
            fprintf(stderr, "apply_test: %s is not set\n", argv[3] + 4);
            return 2;
        }
    } else if (strcmp(url, "sqlite:temp") == 0) {
        const char *dir = getenv("TMPDIR");
        int fd;
        snprintf(tmpfile, sizeof tmpfile, "%s/upg-apply-XXXXXX", dir && *dir ? dir : "/tmp");
        if ((fd = mkstemp(tmpfile)) < 0) {
            perror("apply_test: mkstemp");
            return 2;
        }
        close(fd);
        snprintf(tmpurl, sizeof tmpurl, "sqlite:%s", tmpfile);
        url = tmpurl;
    }
    if (db_open(url, &t.db, &err)) {
        fprintf(stderr, "apply_test: %s\n", err.message);
        compilation_free(&t.c);
        return 2;
    }
    if (t.d == DIALECT_POSTGRES) {
        struct strbuf q = STRBUF_INIT;
        snprintf(schema, sizeof schema, "upg_apply_%ld_%d", (long)time(NULL), (int)getpid());
        strbuf_puts(&q, "CREATE SCHEMA ");
        sql_quote_ident(&q, schema);
        strbuf_puts(&q, "; SET search_path TO ");
        sql_quote_ident(&q, schema);
        if (db_exec(t.db, strbuf_str(&q), &err)) {
            fprintf(stderr, "apply_test: %s\n", err.message);
            return 2;
        }
        strbuf_free(&q);
    } else if (db_exec(t.db, "PRAGMA foreign_keys = ON", &err)) {
        fprintf(stderr, "apply_test: %s\n", err.message);
        return 2;
    }
    /* every leaf: a version that no other version follows or merges; then every derived step
     * of a merge, reached through the version it merges */
    for (i = 0; i < t.c.plan.nversions + t.c.plan.nderived; i++) {
        struct plan_version *v = i < t.c.plan.nversions ? t.c.plan.versions[i]
                                                        : t.c.plan.derived[i - t.c.plan.nversions];
        bool leaf = i < t.c.plan.nversions && v->ok && v->children.len == 0;
        if (!leaf && !(v->derived_of && v->ok))
            continue;
        if ((leaf ? walk_to(&t, v) : walk_derived(&t, v)) && !t.failures)
            compare_schema(&t, NULL, "back at the start");
        else if (!t.failures)
            break; /* the database stays where the walk stopped: nothing else can start */
    }
    if (t.d == DIALECT_POSTGRES) {
        struct strbuf q = STRBUF_INIT;
        strbuf_puts(&q, "DROP SCHEMA ");
        sql_quote_ident(&q, schema);
        strbuf_puts(&q, " CASCADE");
        db_exec(t.db, strbuf_str(&q), &err);
        strbuf_free(&q);
    }
    printf("%s on %s: %zu steps, %zu failures\n", argv[1], argv[2], t.steps, t.failures);
    db_close(t.db);
    if (tmpfile[0])
        unlink(tmpfile);
    compilation_free(&t.c);
    return t.failures ? 1 : 0;
}
