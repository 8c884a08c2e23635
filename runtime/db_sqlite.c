/* SPDX-License-Identifier: MIT */
/*
 * db_sqlite.c: the SQLite driver. db_exec() prepares and steps the
 * statements of a script one by one (sqlite3_prepare_v2's tail), so that a
 * failure is located: the failing statement's position, plus the error
 * offset inside it when SQLite knows one (sqlite3_error_offset).
 */
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/db.h"

struct db_sqlite {
    struct db base;
    sqlite3 *conn;
    struct timespec last_progress;
    struct timespec stmt_started;      /* the running statement's start, for its time limit */
    struct timespec busy_started;      /* the current lock wait's start */
    int busy_ms;                       /* how long a lock is waited for */
    int statement_ms;                  /* how long a statement may run (0: no limit) */
    bool timed_out;                    /* the progress handler stopped a statement for its limit */
    volatile sig_atomic_t interrupted; /* db_interrupt() was called: no more waiting */
};

static long
ms_since(const struct timespec *t0)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * SQLite calls this every 100000 virtual-machine steps. It reports progress
 * once a second, and stops the statement (a non-zero return: SQLITE_INTERRUPT)
 * when it has run past its time limit or the handle was interrupted.
 */
static int
progress_handler(void *arg)
{
    struct db_sqlite *d = arg;
    struct timespec now;

    if (d->interrupted)
        return 1;
    if (d->statement_ms > 0 && ms_since(&d->stmt_started) > d->statement_ms) {
        d->timed_out = true;
        return 1;
    }
    if (!d->base.progress)
        return 0;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec > d->last_progress.tv_sec) {
        d->last_progress = now;
        d->base.progress(d->base.progress_arg);
    }
    return 0;
}

/*
 * The lock wait, instead of sqlite3_busy_timeout(): the same bounded wait
 * with growing sleeps, but one that db_interrupt() ends at once (SQLite's
 * own busy handler would sleep on to its timeout).
 */
static int
busy_handler(void *arg, int count)
{
    static const int delays[] = {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};
    struct db_sqlite *d = arg;
    long waited, left;
    int delay = delays[count < 12 ? count : 11];

    if (count == 0)
        clock_gettime(CLOCK_MONOTONIC, &d->busy_started);
    if (d->interrupted)
        return 0;
    waited = ms_since(&d->busy_started);
    if (waited >= d->busy_ms)
        return 0;
    left = d->busy_ms - waited;
    {
        struct timespec pause = {0, (long)(delay < left ? delay : left) * 1000000L};
        nanosleep(&pause, NULL); /* a signal cuts it short: then interrupted is set */
    }
    return !d->interrupted;
}

/* 1-based character (code point) position of byte offset off in s. */
static long
char_pos(const char *s, size_t off)
{
    long n = 1;
    size_t i;

    for (i = 0; i < off && s[i]; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

static int
fail_db(struct db_sqlite *d, struct rt_error *err, int rc)
{
    rt_error_clear(err);
    snprintf(err->message, sizeof err->message, "%s", sqlite3_errmsg(d->conn));
    err->code = sqlite3_extended_errcode(d->conn);
    if (!err->code)
        err->code = rc;
    err->from_db = 1;
    if ((err->code & 0xFF) == SQLITE_INTERRUPT) {
        /* ours, not SQLite's: say which of the two stopped it */
        err->from_db = 0;
        if (d->timed_out)
            snprintf(err->message, sizeof err->message,
                     "the statement ran for more than its time limit (statement timeout, %d ms) "
                     "and was stopped",
                     d->statement_ms);
        else
            snprintf(err->message, sizeof err->message,
                     "the statement was cancelled (interrupted)");
    }
    d->timed_out = false;
    return -1;
}

static int
sqlite_open(const char *path, int flags, struct db **out, struct rt_error *err)
{
    struct db_sqlite *d = calloc(1, sizeof *d);
    int rc;

    if (!d)
        return rt_fail(err, "out of memory");
    d->base.driver = &db_sqlite_driver;
    if (!*path) {
        free(d);
        return rt_fail(err, "the SQLite URL names no file: write sqlite:path/to.db");
    }
    if ((flags & (DB_OPEN_READONLY | DB_OPEN_EXISTING)) && strcmp(path, ":memory:") != 0 &&
        access(path, F_OK) != 0) {
        free(d);
        rt_fail(err, "the SQLite database \"%s\" does not exist", path);
        snprintf(err->hint, sizeof err->hint,
                 "Check the path; uprun apply creates a new database.");
        return -1;
    }
    rc = sqlite3_open_v2(path, &d->conn,
                         (flags & DB_OPEN_READONLY)   ? SQLITE_OPEN_READONLY
                         : (flags & DB_OPEN_EXISTING) ? SQLITE_OPEN_READWRITE
                                                      : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                         NULL);
    if (rc != SQLITE_OK) {
        if (d->conn)
            fail_db(d, err, rc);
        else
            rt_fail(err, "could not open SQLite database \"%s\"", path);
        snprintf(err->hint, sizeof err->hint, "Check the path and its permissions.");
        sqlite3_close(d->conn);
        free(d);
        return -1;
    }
    sqlite3_extended_result_codes(d->conn, 1);
    d->busy_ms = 5000;
    sqlite3_busy_handler(d->conn, busy_handler, d);
    sqlite3_progress_handler(d->conn, 100000, progress_handler, d);
    clock_gettime(CLOCK_MONOTONIC, &d->last_progress);
    *out = &d->base;
    return 0;
}

static void
sqlite_close(struct db *db)
{
    struct db_sqlite *d = (struct db_sqlite *)db;

    sqlite3_close(d->conn);
    free(d);
}

static int
sqlite_exec(struct db *db, const char *sql, struct rt_error *err)
{
    struct db_sqlite *d = (struct db_sqlite *)db;
    const char *p = sql;

    while (*p) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        int rc = sqlite3_prepare_v2(d->conn, p, -1, &st, &tail);
        if (rc != SQLITE_OK) {
            int off = sqlite3_error_offset(d->conn);
            fail_db(d, err, rc);
            err->stmt_position = char_pos(sql, (size_t)(p - sql));
            if (off >= 0)
                err->position = char_pos(sql, (size_t)(p - sql) + (size_t)off);
            return -1;
        }
        if (!st) { /* only whitespace or comments left */
            p = tail;
            continue;
        }
        clock_gettime(CLOCK_MONOTONIC, &d->stmt_started);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            ;
        if (rc != SQLITE_DONE) {
            fail_db(d, err, rc);
            err->stmt_position = char_pos(sql, (size_t)(p - sql));
            sqlite3_finalize(st);
            return -1;
        }
        sqlite3_finalize(st);
        p = tail;
    }
    return 0;
}

static int
sqlite_query(struct db *db, const char *sql, const char *const *params, size_t nparams,
             struct db_rows **out, struct rt_error *err)
{
    struct db_sqlite *d = (struct db_sqlite *)db;
    sqlite3_stmt *st = NULL;
    struct db_rows *rows = NULL;
    size_t i, ncols;
    int rc;

    rc = sqlite3_prepare_v2(d->conn, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail_db(d, err, rc);
    for (i = 0; i < nparams; i++) {
        rc = params[i] ? sqlite3_bind_text(st, (int)i + 1, params[i], -1, SQLITE_TRANSIENT)
                       : sqlite3_bind_null(st, (int)i + 1);
        if (rc != SQLITE_OK)
            goto fail;
    }
    ncols = (size_t)sqlite3_column_count(st);
    clock_gettime(CLOCK_MONOTONIC, &d->stmt_started);
    if (!(rows = db_rows_new(ncols)))
        goto oom;
    for (i = 0; i < ncols; i++)
        if (!(rows->names[i] = strdup(sqlite3_column_name(st, (int)i))))
            goto oom;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char **cells = calloc(ncols + 1, sizeof *cells);
        if (!cells)
            goto oom;
        for (i = 0; i < ncols; i++) {
            const unsigned char *t = sqlite3_column_text(st, (int)i);
            if (t && !(cells[i] = strdup((const char *)t))) {
                while (i--)
                    free(cells[i]);
                free(cells);
                goto oom;
            }
        }
        if (db_rows_add(rows, cells) != 0) {
            for (i = 0; i < ncols; i++)
                free(cells[i]);
            free(cells);
            goto oom;
        }
        free(cells);
    }
    if (rc != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(st);
    *out = rows;
    return 0;
oom:
    sqlite3_finalize(st);
    db_rows_free(rows);
    return rt_fail(err, "out of memory reading query results");
fail:
    fail_db(d, err, rc);
    sqlite3_finalize(st);
    db_rows_free(rows);
    return -1;
}

static void
sqlite_set_busy_timeout(struct db *db, int ms)
{
    ((struct db_sqlite *)db)->busy_ms = ms;
}

static int
sqlite_set_timeouts(struct db *db, int lock_ms, int statement_ms, bool local, struct rt_error *err)
{
    struct db_sqlite *d = (struct db_sqlite *)db;

    (void)local;
    (void)err;
    d->busy_ms = lock_ms;
    d->statement_ms = statement_ms;
    return 0;
}

/*
 * sqlite3_interrupt() is safe from another thread or a signal handler (the
 * sqlite3 shell calls it from its SIGINT handler); the flag makes lock waits
 * and the progress handler stop too, where sqlite3_interrupt() alone would
 * not reach (a statement not yet started, a busy wait).
 */
static void
sqlite_interrupt(struct db *db)
{
    struct db_sqlite *d = (struct db_sqlite *)db;

    d->interrupted = 1;
    sqlite3_interrupt(d->conn);
}

static int
sqlite_backup(struct db *db, const char *path, struct rt_error *err)
{
    struct db_sqlite *d = (struct db_sqlite *)db;
    sqlite3 *to = NULL;
    sqlite3_backup *bk;
    int rc;

    if (access(path, F_OK) == 0)
        return rt_fail(err, "the backup file \"%s\" already exists; choose a new name", path);
    rc = sqlite3_open_v2(path, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        rt_fail(err, "could not create the backup \"%s\": %s", path,
                to ? sqlite3_errmsg(to) : "out of memory");
        sqlite3_close(to);
        return -1;
    }
    bk = sqlite3_backup_init(to, "main", d->conn, "main");
    if (!bk) {
        rt_fail(err, "could not start the backup: %s", sqlite3_errmsg(to));
        sqlite3_close(to);
        unlink(path);
        return -1;
    }
    /* a writer elsewhere holds the database: wait as long as for any lock, not forever */
    clock_gettime(CLOCK_MONOTONIC, &d->busy_started);
    while ((rc = sqlite3_backup_step(bk, 256)) == SQLITE_OK || rc == SQLITE_BUSY ||
           rc == SQLITE_LOCKED) {
        if (rc == SQLITE_OK) {
            clock_gettime(CLOCK_MONOTONIC, &d->busy_started);
            continue;
        }
        if (d->interrupted || ms_since(&d->busy_started) > d->busy_ms)
            break;
        sqlite3_sleep(50);
    }
    sqlite3_backup_finish(bk);
    if (rc != SQLITE_DONE) {
        rt_fail(err, "the backup to \"%s\" failed: %s", path, sqlite3_errmsg(to));
        sqlite3_close(to);
        unlink(path);
        return -1;
    }
    if (sqlite3_close(to) != SQLITE_OK)
        return rt_fail(err, "could not close the backup \"%s\"", path);
    return 0;
}

const struct db_driver db_sqlite_driver = {
    .kind = DB_SQLITE,
    .dialect = "sqlite",
    .open = sqlite_open,
    .close = sqlite_close,
    .exec = sqlite_exec,
    .query = sqlite_query,
    .set_busy_timeout = sqlite_set_busy_timeout,
    .backup = sqlite_backup,
    .interrupt = sqlite_interrupt,
    .set_timeouts = sqlite_set_timeouts,
};
