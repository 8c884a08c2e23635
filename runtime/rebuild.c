/* SPDX-License-Identifier: MIT */
/*
 * rebuild.c: what a SQLite table rebuild must not destroy (rebuild.h).
 *
 * The statements are read with a small tokenizer that knows SQLite's
 * quoting ("name", `name`, [name], 'string') and comments, enough to
 * recognise DROP TABLE and ALTER TABLE ... RENAME TO and to tell whether a
 * trigger's or a view's definition names a table. Names compare without
 * regard to ASCII case, as SQLite compares them.
 */
#include "runtime/rebuild.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime/sqlsplit.h"

/* --- tokens -------------------------------------------------------------- */

enum tok_kind { TOK_END, TOK_WORD, TOK_NAME, TOK_STRING, TOK_PUNCT };

struct tok {
    enum tok_kind kind;
    char text[256]; /* a word or a name (unquoted), truncated; a punctuation character */
};

/* The next token of *p (advancing it), comments and blanks skipped. */
static void
next_tok(const char **p, const char *end, struct tok *t)
{
    const char *s = *p;
    size_t n = 0;

    t->kind = TOK_END;
    t->text[0] = '\0';
    for (;;) {
        while (s < end && isspace((unsigned char)*s))
            s++;
        if (s + 1 < end && s[0] == '-' && s[1] == '-') {
            while (s < end && *s != '\n')
                s++;
        } else if (s + 1 < end && s[0] == '/' && s[1] == '*') {
            for (s += 2; s + 1 < end && !(s[0] == '*' && s[1] == '/'); s++)
                ;
            s = s + 1 < end ? s + 2 : end;
        } else {
            break;
        }
    }
    if (s >= end) {
        *p = s;
        return;
    }
    if (*s == '"' || *s == '`' || *s == '[' || *s == '\'') {
        char close = *s == '[' ? ']' : *s;
        t->kind = *s == '\'' ? TOK_STRING : TOK_NAME;
        for (s++; s < end; s++) {
            if (*s == close) {
                if (close != ']' && s + 1 < end && s[1] == close) {
                    s++;
                } else {
                    s++;
                    break;
                }
            }
            if (n + 1 < sizeof t->text)
                t->text[n++] = *s;
        }
    } else if (isalnum((unsigned char)*s) || *s == '_' || (unsigned char)*s >= 0x80) {
        t->kind = TOK_WORD;
        while (s < end && (isalnum((unsigned char)*s) || *s == '_' || *s == '$' ||
                           (unsigned char)*s >= 0x80)) {
            if (n + 1 < sizeof t->text)
                t->text[n++] = *s;
            s++;
        }
    } else {
        t->kind = TOK_PUNCT;
        t->text[n++] = *s++;
    }
    t->text[n] = '\0';
    *p = s;
}

static bool
is_word(const struct tok *t, const char *w)
{
    return t->kind == TOK_WORD && strcasecmp(t->text, w) == 0;
}

/* A table name, possibly schema-qualified ("main"."T"): the last part, into name. */
static bool
read_name(const char **p, const char *end, char *name, size_t size)
{
    struct tok t;
    const char *save;

    next_tok(p, end, &t);
    if (t.kind != TOK_WORD && t.kind != TOK_NAME)
        return false;
    snprintf(name, size, "%s", t.text);
    save = *p;
    next_tok(p, end, &t);
    if (t.kind == TOK_PUNCT && t.text[0] == '.') {
        next_tok(p, end, &t);
        if (t.kind != TOK_WORD && t.kind != TOK_NAME)
            return false;
        snprintf(name, size, "%s", t.text);
    } else {
        *p = save;
    }
    return true;
}

static bool
in_list(char *const *names, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcasecmp(names[i], name) == 0)
            return true;
    return false;
}

/* Appends a copy of name to *names (growing it); false when out of memory. */
static bool
add_name(char ***names, size_t *n, const char *name)
{
    char **grown = realloc(*names, (*n + 1) * sizeof **names);

    if (!grown)
        return false;
    *names = grown;
    if (!(grown[*n] = strdup(name)))
        return false;
    (*n)++;
    return true;
}

size_t
rebuild_tables(const char *sql, size_t len, char ***out)
{
    struct sql_stmt *st = NULL;
    size_t n = sql_split(sql, len, &st), i, ndropped = 0, nrebuilt = 0;
    char **dropped = NULL, **rebuilt = NULL;

    *out = NULL;
    for (i = 0; i < n; i++) {
        const char *p = sql + st[i].start, *end = sql + st[i].end;
        char name[256], to[256];
        struct tok t, t2;
        next_tok(&p, end, &t);
        next_tok(&p, end, &t2);
        if (is_word(&t, "DROP") && is_word(&t2, "TABLE")) {
            const char *save = p;
            struct tok t3;
            next_tok(&p, end, &t3);
            if (is_word(&t3, "IF")) {
                next_tok(&p, end, &t3); /* EXISTS */
            } else {
                p = save;
            }
            if (read_name(&p, end, name, sizeof name) && !in_list(dropped, ndropped, name))
                add_name(&dropped, &ndropped, name);
        } else if (is_word(&t, "ALTER") && is_word(&t2, "TABLE") &&
                   read_name(&p, end, name, sizeof name)) {
            next_tok(&p, end, &t);
            next_tok(&p, end, &t2);
            if (is_word(&t, "RENAME") && is_word(&t2, "TO") && read_name(&p, end, to, sizeof to) &&
                in_list(dropped, ndropped, to) && !in_list(rebuilt, nrebuilt, to))
                add_name(&rebuilt, &nrebuilt, to);
        }
    }
    rebuild_tables_free(dropped, ndropped);
    free(st);
    *out = rebuilt;
    return nrebuilt;
}

void
rebuild_tables_free(char **names, size_t n)
{
    size_t i;

    for (i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

/* Whether the definition sql names one of names[] (as a word or a quoted name). */
static bool
mentions(const char *sql, char *const *names, size_t n)
{
    const char *p = sql, *end = sql + strlen(sql);
    struct tok t;

    for (next_tok(&p, end, &t); t.kind != TOK_END; next_tok(&p, end, &t))
        if ((t.kind == TOK_WORD || t.kind == TOK_NAME) && in_list(names, n, t.text))
            return true;
    return false;
}

/* --- before the step ------------------------------------------------------- */

static const json_t *
find_by_name(const json_t *arr, const char *name)
{
    size_t i;
    json_t *x;

    json_array_foreach(arr, i, x)
    {
        const char *n = json_string_value(json_object_get(x, "name"));
        if (n && strcasecmp(n, name) == 0)
            return x;
    }
    return NULL;
}

/* Whether arr holds an object with the same columns as x (SQLite's unnamed foreign keys). */
static bool
has_same_columns(const json_t *arr, const json_t *x)
{
    size_t i;
    json_t *y;

    json_array_foreach(arr, i, y)
    {
        if (json_equal(json_object_get(x, "columns"), json_object_get(y, "columns")))
            return true;
    }
    return false;
}

static char *
columns_text(const json_t *x)
{
    char *s = json_dumps(json_object_get(x, "columns"), JSON_COMPACT | JSON_ENCODE_ANY);
    return s;
}

/*
 * What the rebuild of table t would lose that cannot be carried: a column,
 * unique constraint or foreign key the expected table lacks. 1 with err.
 */
static int
check_definition(const char *t, const json_t *et, const json_t *lt, struct rt_error *err)
{
    size_t i;
    json_t *x;

    json_array_foreach(json_object_get(lt, "columns"), i, x)
    {
        const char *c = json_string_value(json_object_get(x, "name"));
        if (c && !find_by_name(json_object_get(et, "columns"), c)) {
            rt_fail(err,
                    "the step rebuilds table \"%s\", which has a column \"%s\" that the plan "
                    "does not know: the rebuild would drop it and its data",
                    t, c);
            snprintf(err->hint, sizeof err->hint,
                     "Move the column's data elsewhere and drop it, or have the plan's maintainers "
                     "add it; the step was not run.");
            return 1;
        }
    }
    json_array_foreach(json_object_get(lt, "unique"), i, x)
    {
        const char *c = json_string_value(json_object_get(x, "name"));
        if (c && !find_by_name(json_object_get(et, "unique"), c) &&
            !find_by_name(json_object_get(et, "indexes"), c)) {
            rt_fail(err,
                    "the step rebuilds table \"%s\", which has a unique constraint \"%s\" that "
                    "the plan does not know: the rebuild would drop it",
                    t, c);
            snprintf(err->hint, sizeof err->hint,
                     "Drop the constraint (or make it a unique index), or have the plan's "
                     "maintainers add it; the step was not run.");
            return 1;
        }
    }
    json_array_foreach(json_object_get(lt, "foreign_keys"), i, x)
    {
        if (!has_same_columns(json_object_get(et, "foreign_keys"), x)) {
            char *cols = columns_text(x);
            rt_fail(err,
                    "the step rebuilds table \"%s\", which has a foreign key on %s that the "
                    "plan does not know: the rebuild would drop it",
                    t, cols ? cols : "?");
            snprintf(err->hint, sizeof err->hint,
                     "Have the plan's maintainers add the foreign key, or remove it; the step was "
                     "not run.");
            free(cols);
            return 1;
        }
    }
    return 0;
}

static void
free_object(struct rebuild_object *o)
{
    free(o->type);
    free(o->name);
    free(o->table);
    free(o->sql);
}

void
rebuild_plan_free(struct rebuild_plan *plan)
{
    size_t i;

    for (i = 0; i < plan->ncarry; i++)
        free_object(&plan->carry[i]);
    free(plan->carry);
    rebuild_tables_free(plan->tables, plan->ntables);
    memset(plan, 0, sizeof *plan);
}

/* Quotes name for SQLite ("a""b") into out. */
static void
quote_name(char *out, size_t size, const char *name)
{
    size_t k = 0;

    if (size < 3)
        return;
    out[k++] = '"';
    for (; *name && k + 3 < size; name++) {
        if (*name == '"')
            out[k++] = '"';
        out[k++] = *name;
    }
    out[k++] = '"';
    out[k] = '\0';
}

int
rebuild_prepare(struct db *db, char *const *tables, size_t ntables, const json_t *expected,
                const json_t *live, struct rebuild_plan *plan, struct rt_error *err)
{
    const json_t *etables = json_object_get(expected, "tables");
    const json_t *ltables = json_object_get(live, "tables");
    struct db_rows *r = NULL;
    char **named = NULL; /* the rebuilt tables and the views to carry: what a definition may name */
    size_t nnamed = 0, i, k;
    bool *take = NULL, grew;
    int rc = -1;

    memset(plan, 0, sizeof *plan);
    for (i = 0; i < ntables; i++) {
        const json_t *et = find_by_name(etables, tables[i]), *lt = find_by_name(ltables, tables[i]);
        if (et && lt && check_definition(tables[i], et, lt, err))
            return 1;
        if (!add_name(&named, &nnamed, tables[i]) ||
            !add_name(&plan->tables, &plan->ntables, tables[i]))
            goto oom;
    }
    if (db_query(db,
                 "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE sql IS NOT NULL AND "
                 "type IN ('index', 'trigger', 'view') ORDER BY rowid",
                 NULL, 0, &r, err))
        goto done;
    if (!(take = calloc(r->nrows + 1, sizeof *take)))
        goto oom;
    /* the indexes of a rebuilt table that the plan does not know */
    for (i = 0; i < r->nrows; i++) {
        const char *type = db_cell(r, i, 0), *name = db_cell(r, i, 1), *tbl = db_cell(r, i, 2);
        const json_t *et;
        if (strcmp(type, "index") != 0 || !in_list(tables, ntables, tbl))
            continue;
        et = find_by_name(etables, tbl);
        take[i] = !et || (!find_by_name(json_object_get(et, "indexes"), name) &&
                          !find_by_name(json_object_get(et, "unique"), name));
    }
    /* views naming a rebuilt table or a view taken, until there are no more */
    do {
        grew = false;
        for (i = 0; i < r->nrows; i++) {
            if (take[i] || strcmp(db_cell(r, i, 0), "view") != 0 ||
                !mentions(db_cell(r, i, 3), named, nnamed))
                continue;
            take[i] = grew = true;
            if (!add_name(&named, &nnamed, db_cell(r, i, 1)))
                goto oom;
        }
    } while (grew);
    /* triggers on, or naming, a rebuilt table or a view taken */
    for (i = 0; i < r->nrows; i++)
        if (strcmp(db_cell(r, i, 0), "trigger") == 0 &&
            (in_list(named, nnamed, db_cell(r, i, 2)) || mentions(db_cell(r, i, 3), named, nnamed)))
            take[i] = true;
    for (i = 0, k = 0; i < r->nrows; i++)
        k += take[i];
    if (k && !(plan->carry = calloc(k, sizeof *plan->carry)))
        goto oom;
    for (i = 0; i < r->nrows; i++) {
        struct rebuild_object *o;
        if (!take[i])
            continue;
        o = &plan->carry[plan->ncarry++];
        o->type = strdup(db_cell(r, i, 0));
        o->name = strdup(db_cell(r, i, 1));
        o->table = strdup(db_cell(r, i, 2));
        o->sql = strdup(db_cell(r, i, 3));
        if (!o->type || !o->name || !o->table || !o->sql)
            goto oom;
    }
    /*
     * Out of the RENAME's way: the views taken, and the triggers of tables
     * that are not rebuilt (those of a rebuilt table go with it, and those
     * of a view with the view). Newest first.
     */
    for (i = plan->ncarry; i-- > 0;) {
        const struct rebuild_object *o = &plan->carry[i];
        char q[600], sql[700];
        bool view = strcmp(o->type, "view") == 0;
        if (!view && (strcmp(o->type, "trigger") != 0 || in_list(named, nnamed, o->table)))
            continue;
        quote_name(q, sizeof q, o->name);
        snprintf(sql, sizeof sql, "DROP %s IF EXISTS %s", view ? "VIEW" : "TRIGGER", q);
        if (db_exec(db, sql, err))
            goto done;
    }
    rc = 0;
    goto done;
oom:
    rc = rt_fail(err, "out of memory");
done:
    db_rows_free(r);
    free(take);
    rebuild_tables_free(named, nnamed);
    return rc;
}

/* --- after the step -------------------------------------------------------- */

/*
 * SQLite's own check of every view and trigger (see rebuild.h): renaming
 * the first column of a rebuilt table to itself. 0; 1 with err naming what
 * breaks; -1 on a database error.
 */
static int
check_schema(struct db *db, const struct rebuild_plan *plan, struct rt_error *err)
{
    size_t i;

    for (i = 0; i < plan->ntables; i++) {
        const char *p[1] = {plan->tables[i]};
        struct db_rows *r = NULL;
        char qt[600], qc[600], sql[1900];
        if (db_query(db, "SELECT name FROM pragma_table_info(?1) ORDER BY cid LIMIT 1", p, 1, &r,
                     err))
            return -1;
        if (r->nrows == 0) {
            db_rows_free(r);
            continue; /* the step dropped it for good */
        }
        quote_name(qt, sizeof qt, plan->tables[i]);
        quote_name(qc, sizeof qc, db_cell(r, 0, 0));
        db_rows_free(r);
        snprintf(sql, sizeof sql, "ALTER TABLE %s RENAME COLUMN %s TO %s", qt, qc, qc);
        if (db_exec(db, sql, err)) {
            char why[RT_ERROR_MSG_MAX];
            snprintf(why, sizeof why, "%s", err->message);
            rt_fail(err,
                    "the step's rebuild of table \"%s\" would break a view or trigger that the "
                    "plan does not know (%s)",
                    plan->tables[i], why);
            snprintf(
                err->hint, sizeof err->hint,
                "The view or trigger names something the step drops or changes: drop it, and "
                "re-create it after the upgrade, or have the plan's maintainers handle it. The "
                "step was rolled back.");
            return 1;
        }
    }
    return 0;
}

int
rebuild_restore(struct db *db, const struct rebuild_plan *plan,
                void (*carried)(void *arg, const struct rebuild_object *o), void *arg,
                struct rt_error *err)
{
    bool *made = calloc(plan->ncarry + 1, sizeof *made);
    bool definitions = false; /* a view or trigger was re-created */
    size_t i;
    int rc = 0;

    if (!made)
        return rt_fail(err, "out of memory");
    for (i = 0; i < plan->ncarry && rc == 0; i++) {
        const struct rebuild_object *o = &plan->carry[i];
        const char *p[2] = {o->type, o->name};
        struct db_rows *r = NULL;
        bool exists;
        if (db_query(db, "SELECT 1 FROM sqlite_schema WHERE type = ?1 AND name = ?2", p, 2, &r,
                     err)) {
            rc = -1;
            break;
        }
        exists = r->nrows > 0;
        db_rows_free(r);
        if (exists)
            continue; /* the step made it again itself */
        if (db_exec(db, o->sql, err)) {
            char why[RT_ERROR_MSG_MAX];
            snprintf(why, sizeof why, "%s", err->message);
            rt_fail(err,
                    "%s \"%s\" (of \"%s\"), which the plan does not know, cannot be carried "
                    "over the step's table rebuild: re-creating it failed: %s",
                    o->type, o->name, o->table, why);
            snprintf(
                err->hint, sizeof err->hint,
                "The %s names something the step changes; drop it (and re-create it after the "
                "upgrade), or have the plan's maintainers handle it. The step was rolled back.",
                o->type);
            rc = 1;
            break;
        }
        made[i] = true;
        definitions = definitions || strcmp(o->type, "index") != 0;
    }
    if (rc == 0 && definitions)
        rc = check_schema(db, plan, err);
    /* only now is each one carried for sure */
    for (i = 0; rc == 0 && carried && i < plan->ncarry; i++)
        if (made[i])
            carried(arg, &plan->carry[i]);
    free(made);
    return rc;
}
