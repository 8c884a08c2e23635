/* SPDX-License-Identifier: MIT */
/*
 * db_sqlite.c: the SQLite driver. db_exec() prepares and steps the
 * statements of a script one by one (sqlite3_prepare_v2's tail), so that a
 * failure is located: the failing statement's position, plus the error
 * offset inside it when SQLite knows one (sqlite3_error_offset).
 */
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/db.h"
#include "runtime/canon.h"
#include "runtime/introspect.h"
#include "runtime/names.h"

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
 * every quarter of a second (uprun emits a line a second of those), and stops the statement (a non-zero return: SQLITE_INTERRUPT)
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
    if (ms_since(&d->last_progress) >= 250) { /* the caller decides what is worth a line */
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
    switch (err->code & 0xFF) {
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
        /* SQLite's own words ("disk I/O error") do not say what to do */
        snprintf(err->hint, sizeof err->hint,
                 "SQLite could not write the database or its journal: the file and its folder "
                 "must be writable by this user (SQLite writes the journal next to the file, and "
                 "a journal left by a crash must be rolled back there), and the disk must have "
                 "room. Fix that, then run the same command again.");
        break;
    case SQLITE_FULL:
        snprintf(err->hint, sizeof err->hint,
                 "The disk is full: free space where the database is, then run the same command "
                 "again.");
        break;
    default:
        break;
    }
    d->timed_out = false;
    return -1;
}

static int
sqlite_open(const char *url, int flags, struct db **out, struct rt_error *err)
{
    const char *path = url + 7; /* after "sqlite:" */
    struct db_sqlite *d;
    int rc;

    if (strncmp(path, "//", 2) == 0) {
        rt_fail(err,
                "the SQLite URL \"%.200s\" has a \"//\" after \"sqlite:\", which uprun does not "
                "guess at",
                url);
        snprintf(err->hint, sizeof err->hint,
                 "Write sqlite:%s for a path relative to the current folder, or sqlite:/%s for an "
                 "absolute one.",
                 path + strspn(path, "/"), path + strspn(path, "/"));
        return -1;
    }
    if (!(d = calloc(1, sizeof *d)))
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

    /* the copy is made exclusively, never through a symbolic link (a dangling one in /tmp is
     * the classic attack on a runner with rights), with the database's own permissions: it
     * holds the same data */
    {
        const char *src = sqlite3_db_filename(d->conn, "main");
        struct stat st;
        mode_t mode = src && *src && stat(src, &st) == 0 ? (st.st_mode & 0777) : 0600;
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
            return rt_fail(err, "could not create the backup \"%s\": %s", path,
                           errno == EEXIST ? "it already exists (or is a symbolic link); choose "
                                             "a new name"
                                           : strerror(errno));
        if (fchmod(fd, mode) != 0 || close(fd) != 0) {
            rt_fail(err, "could not set the permissions of the backup \"%s\": %s", path,
                    strerror(errno));
            unlink(path);
            return -1;
        }
    }
    rc = sqlite3_open_v2(path, &to, SQLITE_OPEN_READWRITE, NULL);
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

/* --- introspection (introspect.h): sqlite_schema and the table-valued pragmas ---- */

/* True when word appears in s, ignoring ASCII case (SQLite keywords are case-insensitive). */
static bool
contains_word_nocase(const char *s, const char *word)
{
    size_t n = strlen(word);

    for (; s && *s; s++) {
        size_t i;
        for (i = 0; i < n && s[i]; i++) {
            char a = s[i], b = word[i];
            if (a >= 'a' && a <= 'z')
                a = (char)(a - 'a' + 'A');
            if (a != b)
                break;
        }
        if (i == n)
            return true;
    }
    return false;
}

static int
sqlite_read_table(struct db *db, const char *name, const char *sql, json_t *t, struct rt_error *err)
{
    const char *p[1] = {name};
    struct db_rows *r = NULL;
    json_t *pk_cols = json_array(), *fk = NULL;
    bool autoinc = contains_word_nocase(sql, "AUTOINCREMENT");
    size_t i, npk = 0;
    long last_id = -1;
    int rc = -1;

    /* columns; pk is the 1-based position in the primary key */
    if (db_query(db,
                 "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1) "
                 "ORDER BY pk",
                 p, 1, &r, err))
        goto done;
    for (i = 0; i < r->nrows; i++)
        if (atoi(db_cell(r, i, 4)) > 0)
            npk++;
    for (i = 0; i < r->nrows; i++) {
        int pk = atoi(db_cell(r, i, 4));
        const char *type = db_cell(r, i, 1) ? db_cell(r, i, 1) : "";
        bool identity = pk > 0 && npk == 1 && autoinc && strcmp(type, "INTEGER") == 0;
        json_array_append_new(
            json_object_get(t, "columns"),
            introspect_column(db_cell(r, i, 0), type, strcmp(db_cell(r, i, 2), "0") != 0,
                              canon_sqlite_default(type, db_cell(r, i, 3)), identity));
        if (pk > 0)
            json_array_append_new(pk_cols, json_string(db_cell(r, i, 0)));
    }
    if (json_array_size(pk_cols)) {
        json_t *pkj = json_object();
        json_object_set_new(pkj, "name", json_null()); /* SQLite does not keep it */
        json_object_set(pkj, "columns", pk_cols);
        json_object_set_new(t, "primary_key", pkj);
    }
    db_rows_free(r);
    r = NULL;
    /* foreign keys, one row per column */
    if (db_query(db,
                 "SELECT id, seq, \"table\", \"from\", \"to\", on_delete, on_update FROM "
                 "pragma_foreign_key_list(?1) ORDER BY id, seq",
                 p, 1, &r, err))
        goto done;
    for (i = 0; i < r->nrows; i++) {
        long id = strtol(db_cell(r, i, 0), NULL, 10);
        if (id != last_id) {
            fk = json_object();
            json_object_set_new(fk, "name", json_null());
            json_object_set_new(fk, "columns", json_array());
            json_object_set_new(fk, "ref_table", json_string(db_cell(r, i, 2)));
            json_object_set_new(fk, "ref_columns", json_array());
            json_object_set_new(fk, "on_delete", json_string(introspect_action(db_cell(r, i, 5))));
            json_object_set_new(fk, "on_update", json_string(introspect_action(db_cell(r, i, 6))));
            json_array_append_new(json_object_get(t, "foreign_keys"), fk);
            last_id = id;
        }
        json_array_append_new(json_object_get(fk, "columns"), json_string(db_cell(r, i, 3)));
        json_array_append_new(json_object_get(fk, "ref_columns"), introspect_str(db_cell(r, i, 4)));
    }
    db_rows_free(r);
    r = NULL;
    /* indexes made by CREATE INDEX (origin c); unique constraints would be origin u */
    if (db_query(db,
                 "SELECT l.name, l.\"unique\", l.origin, i.name FROM pragma_index_list(?1) l, "
                 "pragma_index_info(l.name) i WHERE l.origin <> 'pk' ORDER BY l.name, i.seqno",
                 p, 1, &r, err))
        goto done;
    {
        json_t *ix = NULL;
        const char *cur = NULL;
        for (i = 0; i < r->nrows; i++) {
            const char *iname = db_cell(r, i, 0);
            if (!cur || strcmp(cur, iname) != 0) {
                bool constraint = strcmp(db_cell(r, i, 2), "u") == 0;
                ix = json_object();
                json_object_set_new(ix, "name", json_string(iname));
                if (!constraint)
                    json_object_set_new(ix, "unique", json_boolean(strcmp(db_cell(r, i, 1), "0")));
                json_object_set_new(ix, "columns", json_array());
                json_array_append_new(json_object_get(t, constraint ? "unique" : "indexes"), ix);
                cur = iname;
            }
            json_array_append_new(json_object_get(ix, "columns"), introspect_str(db_cell(r, i, 3)));
        }
    }
    rc = 0;
done:
    db_rows_free(r);
    json_decref(pk_cols);
    return rc;
}

static int
sqlite_introspect(struct db *db, const char *exclude, json_t *tables, struct rt_error *err)
{
    const char *p[1] = {exclude ? exclude : ""};
    struct db_rows *r = NULL;
    size_t i;
    int rc = 0;

    if (db_query(db,
                 "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE "
                 "'sqlite\\_%' ESCAPE '\\' AND name <> ?1 AND name <> '" UPG_RELEASES_TABLE
                 "' AND name <> '" UPG_UNITS_TABLE "' AND name <> '" UPG_BATCHES_TABLE
                 "' ORDER BY name",
                 p, 1, &r, err))
        return -1;
    for (i = 0; i < r->nrows && rc == 0; i++) {
        json_t *t = introspect_table(db_cell(r, i, 0));
        rc = sqlite_read_table(db, db_cell(r, i, 0), db_cell(r, i, 1), t, err);
        json_array_append_new(tables, t);
    }
    db_rows_free(r);
    return rc;
}

static bool
sqlite_in_transaction(struct db *db)
{
    return !sqlite3_get_autocommit(((struct db_sqlite *)db)->conn);
}

static bool
sqlite_claims(const char *url)
{
    return strncmp(url, "sqlite:", 7) == 0;
}

static const char *
sqlite_file_of(const char *url, char *buf, size_t size)
{
    const char *path = url + 7;

    if (!*path || strncmp(path, "//", 2) == 0 || strcmp(path, ":memory:") == 0)
        return NULL;
    snprintf(buf, size, "%s", path);
    return buf;
}

/* Foreign keys are enforced (SQLite's default is off) unless nothing may be written. */
static int
sqlite_session(struct db *db, bool read_only, struct rt_error *err)
{
    return read_only ? 0 : sqlite_exec(db, "PRAGMA foreign_keys = ON", err);
}

/* The history table: see history.h. */
static const char sqlite_history_ddl[] =
    "CREATE TABLE IF NOT EXISTS " UPG_HISTORY_TABLE " (\n"
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

const struct db_driver db_sqlite_driver = {
    .claims = sqlite_claims,
    .url_forms = "sqlite:path/to.db",
    .file_of = sqlite_file_of,
    .empty_url = "sqlite::memory:",
    .history_ddl = sqlite_history_ddl,
    .table_exists = "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
    .param = '?',
    .begin_write = "BEGIN IMMEDIATE", /* the write lock at once: one runner at a time */
    .begin_snapshot = "BEGIN",        /* a read transaction sees one snapshot */
    .fk_off = "PRAGMA foreign_keys = OFF",
    .fk_on = "PRAGMA foreign_keys = ON",
    .rebuilds = true,
    .session = sqlite_session,
    .in_transaction = sqlite_in_transaction,
    .introspect = sqlite_introspect,
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
