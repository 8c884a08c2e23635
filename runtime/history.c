/* SPDX-License-Identifier: MIT */
/*
 * history.c: reading and writing upgrade_plan_history (history.h). Values
 * travel as query parameters; the table's name is a constant. The DDL is
 * the one place that differs between the dialects.
 */
#include "runtime/history.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char ddl_sqlite[] =
    "CREATE TABLE IF NOT EXISTS " HISTORY_TABLE " (\n"
    "    id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "    plan TEXT NOT NULL,\n"
    "    step INTEGER NOT NULL,\n"
    "    from_version TEXT,\n"
    "    to_version TEXT,\n"
    "    direction TEXT NOT NULL CHECK (direction IN ('up', 'down', 'baseline')),\n"
    "    manifest_sha256 TEXT NOT NULL,\n"
    "    file_sha256 TEXT NOT NULL,\n"
    "    sql_sha256 TEXT NOT NULL,\n"
    "    started_at TEXT NOT NULL,\n"
    "    finished_at TEXT NOT NULL,\n"
    "    duration_ms INTEGER NOT NULL,\n"
    "    applied_by TEXT NOT NULL,\n"
    "    status TEXT NOT NULL CHECK (status IN ('applied', 'reverted', 'baselined', 'failed')),\n"
    "    message TEXT\n"
    ")";

static const char ddl_pg[] =
    "CREATE TABLE IF NOT EXISTS " HISTORY_TABLE " (\n"
    "    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "    plan text NOT NULL,\n"
    "    step integer NOT NULL,\n"
    "    from_version text,\n"
    "    to_version text,\n"
    "    direction text NOT NULL CHECK (direction IN ('up', 'down', 'baseline')),\n"
    "    manifest_sha256 text NOT NULL,\n"
    "    file_sha256 text NOT NULL,\n"
    "    sql_sha256 text NOT NULL,\n"
    "    started_at text NOT NULL,\n"
    "    finished_at text NOT NULL,\n"
    "    duration_ms bigint NOT NULL,\n"
    "    applied_by text NOT NULL,\n"
    "    status text NOT NULL CHECK (status IN ('applied', 'reverted', 'baselined', 'failed')),\n"
    "    message text\n"
    ")";

int
history_ensure(struct db *db, struct rt_error *err)
{
    return db_exec(db, db_kind(db) == DB_SQLITE ? ddl_sqlite : ddl_pg, err);
}

int
history_exists(struct db *db, bool *exists, struct rt_error *err)
{
    const char *p[1] = {HISTORY_TABLE};
    struct db_rows *r = NULL;

    if (db_query(db,
                 db_kind(db) == DB_SQLITE
                     ? "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1"
                     : "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE c.relname = $1 AND n.nspname = current_schema()",
                 p, 1, &r, err))
        return -1;
    *exists = r->nrows > 0;
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
    if (db_query(db,
                 db_kind(db) == DB_SQLITE
                     ? "SELECT DISTINCT plan FROM " HISTORY_TABLE " WHERE plan <> ?1 ORDER BY plan"
                     : "SELECT DISTINCT plan FROM " HISTORY_TABLE " WHERE plan <> $1 ORDER BY plan",
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
    if (db_query(db,
                 db_kind(db) == DB_SQLITE
                     ? "SELECT sql_sha256 FROM " HISTORY_TABLE " WHERE to_version = ?1 AND "
                       "direction = 'up' AND status = 'applied' ORDER BY id DESC LIMIT 1"
                     : "SELECT sql_sha256 FROM " HISTORY_TABLE " WHERE to_version = $1 AND "
                       "direction = 'up' AND status = 'applied' ORDER BY id DESC LIMIT 1",
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
    char step[16], ms[24];
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
                  db_kind(db) == DB_SQLITE
                      ? "INSERT INTO " HISTORY_TABLE " (plan, step, from_version, to_version, "
                        "direction, manifest_sha256, file_sha256, started_at, finished_at, "
                        "duration_ms, applied_by, status, message, sql_sha256) VALUES (?1, ?2, ?3, "
                        "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
                      : "INSERT INTO " HISTORY_TABLE " (plan, step, from_version, to_version, "
                        "direction, manifest_sha256, file_sha256, started_at, finished_at, "
                        "duration_ms, applied_by, status, message, sql_sha256) VALUES ($1, "
                        "$2::integer, $3, $4, $5, $6, $7, $8, $9, $10::bigint, $11, $12, $13, $14)",
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
