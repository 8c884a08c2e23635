/* SPDX-License-Identifier: MIT */
/*
 * history.c: reading and writing upgrade_plan_history (history.h). Values
 * travel as query parameters; the table's name is a constant. What differs
 * between the databases (the DDL, how parameters are numbered, how a table's
 * existence is asked) is the driver's (db.h).
 */
#include "runtime/history.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/*
 * A query of this file for db's driver: the template numbers its parameters
 * ?1, ?2 ... (SQLite's way); a driver that numbers them $1 gets those. No
 * '?' appears in the templates but as a parameter.
 */
static const char *
sql_for(const struct db *db, const char *tmpl, char *buf, size_t size)
{
    char param = db_driver_of(db)->param;
    size_t n = 0;

    if (param == '?')
        return tmpl;
    for (; *tmpl && n + 1 < size; tmpl++)
        buf[n++] = *tmpl == '?' ? param : *tmpl;
    buf[n] = '\0';
    return buf;
}

int
history_ensure(struct db *db, struct rt_error *err)
{
    return db_exec(db, db_driver_of(db)->history_ddl, err);
}

int
history_exists(struct db *db, bool *exists, struct rt_error *err)
{
    const char *p[1] = {HISTORY_TABLE};
    struct db_rows *r = NULL;

    if (db_query(db, db_driver_of(db)->table_exists, p, 1, &r, err))
        return -1;
    *exists = r->nrows > 0;
    db_rows_free(r);
    return 0;
}

int
history_has_step(struct db *db, int step, const char *direction, const char *started_at,
                 bool *found, struct rt_error *err)
{
    char n[16], q[256];
    const char *p[3] = {n, direction, started_at};
    struct db_rows *r = NULL;

    snprintf(n, sizeof n, "%d", step);
    *found = false;
    if (db_query(db,
                 sql_for(db,
                         "SELECT 1 FROM " HISTORY_TABLE " WHERE step = ?1 AND direction = ?2 AND "
                         "started_at = ?3 AND status IN ('applied', 'reverted')",
                         q, sizeof q),
                 p, 3, &r, err))
        return -1;
    *found = r->nrows > 0;
    db_rows_free(r);
    return 0;
}

int
history_current(struct db *db, char **version, bool *any, struct rt_error *err)
{
    struct db_rows *r = NULL;

    *version = NULL;
    *any = false;
    if (db_query(db,
                 "SELECT to_version FROM " HISTORY_TABLE
                 " WHERE status IN ('applied', 'reverted', 'baselined') ORDER BY id DESC LIMIT 1",
                 NULL, 0, &r, err))
        return -1;
    if (r->nrows > 0) {
        *any = true;
        if (db_cell(r, 0, 0) && !(*version = strdup(db_cell(r, 0, 0)))) {
            db_rows_free(r);
            return rt_fail(err, "out of memory");
        }
    } else {
        struct db_rows *c = NULL;
        if (db_query(db, "SELECT 1 FROM " HISTORY_TABLE " LIMIT 1", NULL, 0, &c, err)) {
            db_rows_free(r);
            return -1;
        }
        *any = c->nrows > 0;
        db_rows_free(c);
    }
    db_rows_free(r);
    return 0;
}

int
history_other_plans(struct db *db, const char *plan, char **others, struct rt_error *err)
{
    const char *p[1] = {plan};
    struct db_rows *r = NULL;
    size_t i, len = 1;

    *others = NULL;
    char q[256];

    if (db_query(db,
                 sql_for(db,
                         "SELECT DISTINCT plan FROM " HISTORY_TABLE
                         " WHERE plan <> ?1 ORDER BY plan",
                         q, sizeof q),
                 p, 1, &r, err))
        return -1;
    for (i = 0; i < r->nrows; i++)
        len += strlen(db_cell(r, i, 0)) + 2;
    if (r->nrows) {
        *others = calloc(len, 1);
        for (i = 0; *others && i < r->nrows; i++) {
            if (i)
                strcat(*others, ", ");
            strcat(*others, db_cell(r, i, 0));
        }
    }
    db_rows_free(r);
    return 0;
}

int
history_applied_sha(struct db *db, const char *to, char **sha, struct rt_error *err)
{
    const char *p[1] = {to};
    struct db_rows *r = NULL;

    *sha = NULL;
    char q[256];

    if (db_query(db,
                 sql_for(db,
                         "SELECT sql_sha256 FROM " HISTORY_TABLE " WHERE to_version = ?1 AND "
                         "direction = 'up' AND status = 'applied' ORDER BY id DESC LIMIT 1",
                         q, sizeof q),
                 p, 1, &r, err))
        return -1;
    if (r->nrows && !(*sha = strdup(db_cell(r, 0, 0)))) {
        db_rows_free(r);
        return rt_fail(err, "out of memory");
    }
    db_rows_free(r);
    return 0;
}

static char *
dup_cell(const struct db_rows *r, size_t row, size_t col)
{
    const char *c = db_cell(r, row, col);
    return c ? strdup(c) : NULL;
}

int
history_read(struct db *db, struct history_row **rows, size_t *n, struct rt_error *err)
{
    struct db_rows *r = NULL;
    size_t i;

    *rows = NULL;
    *n = 0;
    if (db_query(db,
                 "SELECT id, plan, step, from_version, to_version, direction, manifest_sha256, "
                 "file_sha256, started_at, finished_at, duration_ms, applied_by, status, message, "
                 "sql_sha256 FROM " HISTORY_TABLE " ORDER BY id",
                 NULL, 0, &r, err))
        return -1;
    *rows = calloc(r->nrows + 1, sizeof **rows);
    if (!*rows) {
        db_rows_free(r);
        return rt_fail(err, "out of memory");
    }
    for (i = 0; i < r->nrows; i++) {
        struct history_row *h = &(*rows)[i];
        h->id = dup_cell(r, i, 0);
        h->plan = dup_cell(r, i, 1);
        h->step = atoi(db_cell(r, i, 2) ? db_cell(r, i, 2) : "0");
        h->from_version = dup_cell(r, i, 3);
        h->to_version = dup_cell(r, i, 4);
        h->direction = dup_cell(r, i, 5);
        h->manifest_sha256 = dup_cell(r, i, 6);
        h->file_sha256 = dup_cell(r, i, 7);
        h->started_at = dup_cell(r, i, 8);
        h->finished_at = dup_cell(r, i, 9);
        h->duration_ms = atoll(db_cell(r, i, 10) ? db_cell(r, i, 10) : "0");
        h->applied_by = dup_cell(r, i, 11);
        h->status = dup_cell(r, i, 12);
        h->message = dup_cell(r, i, 13);
        h->sql_sha256 = dup_cell(r, i, 14);
    }
    *n = r->nrows;
    db_rows_free(r);
    return 0;
}

void
history_rows_free(struct history_row *rows, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        struct history_row *h = &rows[i];
        free(h->id);
        free(h->plan);
        free(h->from_version);
        free(h->to_version);
        free(h->direction);
        free(h->manifest_sha256);
        free(h->file_sha256);
        free(h->sql_sha256);
        free(h->started_at);
        free(h->finished_at);
        free(h->applied_by);
        free(h->status);
        free(h->message);
    }
    free(rows);
}

int
history_insert(struct db *db, const struct history_entry *h, struct rt_error *err)
{
    char step[16], ms[24], q[512];
    const char *p[14];
    struct db_rows *none = NULL;
    int rc;

    snprintf(step, sizeof step, "%d", h->step);
    snprintf(ms, sizeof ms, "%lld", h->duration_ms);
    p[0] = h->plan;
    p[1] = step;
    p[2] = h->from_version;
    p[3] = h->to_version;
    p[4] = h->direction;
    p[5] = h->manifest_sha256;
    p[6] = h->file_sha256;
    p[7] = h->started_at;
    p[8] = h->finished_at;
    p[9] = ms;
    p[10] = h->applied_by;
    p[11] = h->status;
    p[12] = h->message;
    p[13] = h->sql_sha256 ? h->sql_sha256 : "";
    rc = db_query(db,
                  sql_for(db,
                          "INSERT INTO " HISTORY_TABLE " (plan, step, from_version, to_version, "
                          "direction, manifest_sha256, file_sha256, started_at, finished_at, "
                          "duration_ms, applied_by, status, message, sql_sha256) VALUES (?1, ?2, "
                          "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                          q, sizeof q),
                  p, 14, &none, err);
    db_rows_free(none);
    return rc;
}

void
history_now(char out[32])
{
    struct timeval tv;
    struct tm tm;
    char date[32];

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%.19s.%03uZ", date, (unsigned)(tv.tv_usec / 1000) % 1000u);
}

void
history_whoami(char *out, size_t size)
{
    char host[256] = "localhost";
    const char *user = getenv("USER");
    struct passwd *pw;

    if (!user || !*user) {
        pw = getpwuid(getuid());
        user = pw ? pw->pw_name : "unknown";
    }
    if (gethostname(host, sizeof host) != 0)
        strcpy(host, "localhost");
    host[sizeof host - 1] = '\0';
    snprintf(out, size, "%s@%s", user, host);
}
