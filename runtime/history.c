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

/* Whether uprun's table `name` is there (the first write that needs it creates it). */
static int
table_there(struct db *db, const char *name, bool *there, struct rt_error *err)
{
    const char *p[1] = {name};
    struct db_rows *r = NULL;

    if (db_query(db, db_driver_of(db)->table_exists, p, 1, &r, err))
        return -1;
    *there = r->nrows > 0;
    db_rows_free(r);
    return 0;
}

int
history_ensure(struct db *db, struct rt_error *err)
{
    return db_exec(db, db_driver_of(db)->history_ddl, err) || releases_ensure(db, err);
}

int
releases_ensure(struct db *db, struct rt_error *err)
{
    return db_exec(db,
                   "CREATE TABLE IF NOT EXISTS " UPG_RELEASES_TABLE " (\n"
                   "    plan text NOT NULL,\n"
                   "    channel text NOT NULL,\n"
                   "    sequence bigint NOT NULL,\n"
                   "    manifest_sha256 text NOT NULL,\n"
                   "    first_run_at text NOT NULL\n"
                   ")",
                   err);
}

int
releases_highest(struct db *db, const char *plan, const char *channel, unsigned long long *highest,
                 struct rt_error *err)
{
    const char *p[2] = {plan, channel};
    struct db_rows *r = NULL;
    char q[256];
    bool there;

    *highest = 0;
    if (table_there(db, UPG_RELEASES_TABLE, &there, err))
        return -1;
    if (!there)
        return 0;
    if (db_query(db,
                 sql_for(db,
                         "SELECT max(sequence) FROM " UPG_RELEASES_TABLE
                         " WHERE plan = ?1 AND channel = ?2",
                         q, sizeof q),
                 p, 2, &r, err))
        return -1;
    if (r->nrows > 0 && db_cell(r, 0, 0))
        *highest = strtoull(db_cell(r, 0, 0), NULL, 10);
    db_rows_free(r);
    return 0;
}

int
releases_record(struct db *db, const char *plan, const char *channel, unsigned long long sequence,
                const char *manifest_sha256, const char *at, struct rt_error *err)
{
    char seq[24], q[512];
    const char *p[5] = {plan, channel, seq, manifest_sha256, at};
    struct db_rows *none = NULL;
    int rc;

    snprintf(seq, sizeof seq, "%llu", sequence);
    rc = db_query(db,
                  sql_for(db,
                          "INSERT INTO " UPG_RELEASES_TABLE " (plan, channel, sequence, "
                          "manifest_sha256, first_run_at) SELECT ?1, ?2, ?3, ?4, ?5 WHERE NOT "
                          "EXISTS (SELECT 1 FROM " UPG_RELEASES_TABLE " WHERE plan = ?1 AND "
                          "channel = ?2 AND sequence = ?3 AND manifest_sha256 = ?4)",
                          q, sizeof q),
                  p, 5, &none, err);
    db_rows_free(none);
    return rc;
}

int
history_exists(struct db *db, bool *exists, struct rt_error *err)
{
    return table_there(db, HISTORY_TABLE, exists, err);
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

int
units_ensure(struct db *db, struct rt_error *err)
{
    return db_exec(db,
                   "CREATE TABLE IF NOT EXISTS " UPG_UNITS_TABLE " (\n"
                   "    plan text NOT NULL,\n"
                   "    step integer NOT NULL,\n"
                   "    direction text NOT NULL,\n"
                   "    base bigint NOT NULL,\n"
                   "    unit integer NOT NULL,\n"
                   "    units integer NOT NULL,\n"
                   "    file_sha256 text NOT NULL,\n"
                   "    how text NOT NULL,\n"
                   "    finished_at text NOT NULL,\n"
                   "    applied_by text NOT NULL\n"
                   ")",
                   err);
}

int
history_base(struct db *db, const char *plan, long long *base, struct rt_error *err)
{
    const char *p[1] = {plan};
    struct db_rows *r = NULL;
    char q[256];

    *base = 0;
    if (db_query(db,
                 sql_for(db,
                         "SELECT max(id) FROM " HISTORY_TABLE
                         " WHERE plan = ?1 AND status IN ('applied', 'reverted', 'baselined')",
                         q, sizeof q),
                 p, 1, &r, err))
        return -1;
    if (r->nrows > 0 && db_cell(r, 0, 0))
        *base = strtoll(db_cell(r, 0, 0), NULL, 10);
    db_rows_free(r);
    return 0;
}

int
units_done(struct db *db, const char *plan, int step, const char *direction, long long base,
           const char *file_sha256, unsigned *done, struct rt_error *err)
{
    char n[16], b[24], q[512];
    const char *p[5] = {plan, n, direction, b, file_sha256};
    struct db_rows *r = NULL;
    bool there;

    *done = 0;
    if (table_there(db, UPG_UNITS_TABLE, &there, err))
        return -1;
    if (!there)
        return 0;
    snprintf(n, sizeof n, "%d", step);
    snprintf(b, sizeof b, "%lld", base);
    if (db_query(db,
                 sql_for(db,
                         "SELECT max(unit) FROM " UPG_UNITS_TABLE " WHERE plan = ?1 AND step = ?2 "
                         "AND direction = ?3 AND base = ?4 AND file_sha256 = ?5",
                         q, sizeof q),
                 p, 5, &r, err))
        return -1;
    if (r->nrows > 0 && db_cell(r, 0, 0))
        *done = (unsigned)strtoul(db_cell(r, 0, 0), NULL, 10);
    db_rows_free(r);
    return 0;
}

int
units_in_progress(struct db *db, const char *plan, long long base, bool *found, int *step,
                  char direction[8], unsigned *done, unsigned *units, char file_sha256[65],
                  struct rt_error *err)
{
    char b[24], q[512];
    const char *p[2] = {plan, b};
    struct db_rows *r = NULL;
    bool there;

    *found = false;
    if (table_there(db, UPG_UNITS_TABLE, &there, err))
        return -1;
    if (!there)
        return 0;
    snprintf(b, sizeof b, "%lld", base);
    if (db_query(
            db,
            sql_for(
                db,
                "SELECT step, direction, max(unit), max(units), file_sha256 FROM " UPG_UNITS_TABLE
                " WHERE plan = ?1 AND base = ?2 GROUP BY step, direction, file_sha256 "
                "ORDER BY max(finished_at) DESC",
                q, sizeof q),
            p, 2, &r, err))
        return -1;
    if (r->nrows > 0 && db_cell(r, 0, 0) && db_cell(r, 0, 1) && db_cell(r, 0, 4)) {
        *found = true;
        *step = atoi(db_cell(r, 0, 0));
        snprintf(direction, 8, "%s", db_cell(r, 0, 1));
        *done = db_cell(r, 0, 2) ? (unsigned)strtoul(db_cell(r, 0, 2), NULL, 10) : 0;
        *units = db_cell(r, 0, 3) ? (unsigned)strtoul(db_cell(r, 0, 3), NULL, 10) : 0;
        snprintf(file_sha256, 65, "%s", db_cell(r, 0, 4));
    }
    db_rows_free(r);
    return 0;
}

int
units_insert(struct db *db, const struct unit_entry *e, struct rt_error *err)
{
    char step[16], base[24], unit[16], units[16], q[512];
    const char *p[10];
    struct db_rows *none = NULL;
    int rc;

    snprintf(step, sizeof step, "%d", e->step);
    snprintf(base, sizeof base, "%lld", e->base);
    snprintf(unit, sizeof unit, "%u", e->unit);
    snprintf(units, sizeof units, "%u", e->units);
    p[0] = e->plan;
    p[1] = step;
    p[2] = e->direction;
    p[3] = base;
    p[4] = unit;
    p[5] = units;
    p[6] = e->file_sha256;
    p[7] = e->how;
    p[8] = e->finished_at;
    p[9] = e->applied_by;
    rc = db_query(db,
                  sql_for(db,
                          "INSERT INTO " UPG_UNITS_TABLE " (plan, step, direction, base, unit, "
                          "units, file_sha256, how, finished_at, applied_by) VALUES (?1, ?2, ?3, "
                          "?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                          q, sizeof q),
                  p, 10, &none, err);
    db_rows_free(none);
    return rc;
}

int
batches_ensure(struct db *db, struct rt_error *err)
{
    return db_exec(db,
                   "CREATE TABLE IF NOT EXISTS " UPG_BATCHES_TABLE " (\n"
                   "    plan text NOT NULL,\n"
                   "    step integer NOT NULL,\n"
                   "    direction text NOT NULL,\n"
                   "    base bigint NOT NULL,\n"
                   "    unit integer NOT NULL,\n"
                   "    file_sha256 text NOT NULL,\n"
                   "    last_key text NOT NULL,\n"
                   "    rows_done bigint NOT NULL,\n"
                   "    updated_at text NOT NULL,\n"
                   "    applied_by text NOT NULL\n"
                   ")",
                   err);
}

/* The parameters ?1 to ?6 that name e's unit. */
static void
batch_key(const struct unit_entry *e, char step[16], char base[24], char unit[16], const char *p[6])
{
    snprintf(step, 16, "%d", e->step);
    snprintf(base, 24, "%lld", e->base);
    snprintf(unit, 16, "%u", e->unit);
    p[0] = e->plan;
    p[1] = step;
    p[2] = e->direction;
    p[3] = base;
    p[4] = unit;
    p[5] = e->file_sha256;
}

#define BATCH_WHERE                                                                                \
    " WHERE plan = ?1 AND step = ?2 AND direction = ?3 AND base = ?4 AND unit = ?5 AND "           \
    "file_sha256 = ?6"

int
batches_get(struct db *db, const struct unit_entry *e, char **last, long long *rows,
            struct rt_error *err)
{
    char step[16], base[24], unit[16], q[512];
    const char *p[6];
    struct db_rows *r = NULL;

    *last = NULL;
    *rows = 0;
    batch_key(e, step, base, unit, p);
    if (db_query(db,
                 sql_for(db, "SELECT last_key, rows_done FROM " UPG_BATCHES_TABLE BATCH_WHERE, q,
                         sizeof q),
                 p, 6, &r, err))
        return -1;
    if (r->nrows > 0 && db_cell(r, 0, 0)) {
        if (!(*last = strdup(db_cell(r, 0, 0)))) {
            db_rows_free(r);
            return rt_fail(err, "out of memory");
        }
        *rows = db_cell(r, 0, 1) ? strtoll(db_cell(r, 0, 1), NULL, 10) : 0;
    }
    db_rows_free(r);
    return 0;
}

int
batches_put(struct db *db, const struct unit_entry *e, const char *last, long long rows,
            struct rt_error *err)
{
    char step[16], base[24], unit[16], n[24], q[512];
    const char *p[10];
    struct db_rows *none = NULL;
    int rc;

    batch_key(e, step, base, unit, p);
    rc = db_query(db, sql_for(db, "DELETE FROM " UPG_BATCHES_TABLE BATCH_WHERE, q, sizeof q), p, 6,
                  &none, err);
    db_rows_free(none);
    none = NULL;
    if (rc)
        return rc;
    snprintf(n, sizeof n, "%lld", rows);
    p[6] = last;
    p[7] = n;
    p[8] = e->finished_at;
    p[9] = e->applied_by;
    rc = db_query(db,
                  sql_for(db,
                          "INSERT INTO " UPG_BATCHES_TABLE " (plan, step, direction, base, unit, "
                          "file_sha256, last_key, rows_done, updated_at, applied_by) VALUES (?1, "
                          "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                          q, sizeof q),
                  p, 10, &none, err);
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
