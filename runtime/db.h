/* SPDX-License-Identifier: MIT */
/*
 * db.h: the runtime's database interface, one driver per engine behind a
 * small vtable (db_sqlite.c, db_pg.c).
 *
 * A database is named by a URL: "sqlite:path/to.db" (or sqlite::memory:), or
 * a libpq connection string ("postgresql://...", "postgres://..." or
 * "host=... dbname=...", with libpq's environment variables honoured; ""
 * takes everything from them). Anything else is refused with a message
 * that says how to write it: "app.db" (neither), "sqlite://x.db" (an
 * ambiguous "//"), "mysql://..." (a scheme uprun does not know).
 *
 * Ownership: db_open() returns a handle the caller closes with db_close();
 * db_query() returns rows the caller frees with db_rows_free(). Strings
 * passed in are borrowed. Every function returns 0 on success or -1 with
 * err filled; none exits.
 */
#ifndef UPG_RUNTIME_DB_H
#define UPG_RUNTIME_DB_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "runtime/rt_error.h"

struct db;

struct db_rows {
    size_t nrows, ncols;
    size_t cap;   /* rows allocated */
    char **cells; /* nrows * ncols, row-major; NULL for SQL NULL */
    char **names; /* ncols column names */
};

/* Flags of db_open(). */
enum {
    DB_OPEN_READONLY = 1, /* SQLite: do not create the file, open it read-only;
                             PostgreSQL: read-only transactions */
    DB_OPEN_EXISTING = 2, /* SQLite: do not create the file (read-write); PostgreSQL: no effect */
};

int db_open(const char *url, struct db **out, struct rt_error *err);
int db_open_flags(const char *url, int flags, struct db **out, struct rt_error *err);
void db_close(struct db *db);
/* "postgres" or "sqlite": the dialect names of the plan language. */
const char *db_dialect(const struct db *db);

/*
 * Executes sql, which may hold several statements, to the end or to the
 * first error. On error, err->position is the 1-based character offset of
 * the failing statement's error in sql, when the database says.
 */
int db_exec(struct db *db, const char *sql, struct rt_error *err);

/* Runs one statement with text parameters ($1, $2 ... or ?1, ?2 ...), returning its rows. */
int db_query(struct db *db, const char *sql, const char *const *params, size_t nparams,
             struct db_rows **out, struct rt_error *err);
void db_rows_free(struct db_rows *rows);
static inline const char *
db_cell(const struct db_rows *r, size_t row, size_t col)
{
    return r->cells[row * r->ncols + col];
}

/*
 * Progress: while a statement runs, cb(arg) is called about once a second
 * (SQLite's progress handler, libpq's asynchronous interface). NULL stops it.
 */
void db_set_progress(struct db *db, void (*cb)(void *arg), void *arg);

/* How long a lock is waited for, in milliseconds (SQLite's busy timeout). */
void db_set_busy_timeout(struct db *db, int ms);

/*
 * The limits of every statement, in milliseconds (0: none): how long it
 * waits for a lock (PostgreSQL's lock_timeout; SQLite's busy timeout) and
 * how long it may run (PostgreSQL's statement_timeout; on SQLite the
 * progress handler stops it). local: for the current transaction only
 * (PostgreSQL's SET LOCAL; the same as not local on SQLite).
 */
int db_set_timeouts(struct db *db, int lock_ms, int statement_ms, bool local, struct rt_error *err);

/*
 * Asks the database to stop the statement running now (PQcancel on
 * PostgreSQL, sqlite3_interrupt on SQLite); the statement then fails with
 * an error that db_error_is_cancel() recognises. Safe to call from a signal
 * handler, while the handle's owner is inside any other db_* call. On
 * SQLite, lock waits stop too, and stay stopped: once interrupted, a handle
 * is only good for a ROLLBACK and closing.
 */
void db_interrupt(struct db *db);

/* True when err says a lock could not be had in time (SQLITE_BUSY, lock_not_available). */
bool db_error_is_busy(const struct rt_error *err);
/* True when err says the statement was cancelled: by db_interrupt(), or by its time limit. */
bool db_error_is_cancel(const struct rt_error *err);
/* True when err says the statement ran out of its time limit (db_set_timeouts). */
bool db_error_is_statement_timeout(const struct rt_error *err);

/* A backup of the whole database into path, a new file: SQLite's online backup; PostgreSQL's
 * pg_dump -Fc (custom format: pg_restore reads it). */
int db_backup(struct db *db, const char *path, struct rt_error *err);

/* The driver vtable (drivers.def lists them). */
struct db_driver {
    const char *dialect; /* the plan language's name for it */
    /* Whether url is this driver's (db_open() asks each in turn), and how its URLs are written,
     * for messages ("sqlite:path/to.db"). */
    bool (*claims)(const char *url);
    const char *url_forms;
    /* A database that is a file: the file a URL names (in buf; NULL for none), and the URL of an
     * empty database that stands in for a file that does not exist yet (status, plan). NULL
     * for a server. */
    const char *(*file_of)(const char *url, char *buf, size_t size);
    const char *empty_url;
    /* The SQL the runtime sends itself. */
    const char *history_ddl;    /* CREATE TABLE IF NOT EXISTS of the history table */
    const char *table_exists;   /* a query with a row when the table named by the parameter is
                                   in the schema that the connection works in */
    char param;                 /* how query parameters are numbered: '?' (?1) or '$' ($1) */
    const char *begin_write;    /* a transaction that takes the write lock at once */
    const char *begin_snapshot; /* a read-only transaction that sees one snapshot */
    const char *fk_off, *fk_on; /* around a step that rebuilds tables (NULL: not needed) */
    bool rebuilds; /* steps may rebuild tables (SQLite): the rebuild guard (rebuild.h) runs */
    /* After connecting: the session's settings (read_only: nothing may be written). */
    int (*session)(struct db *db, bool read_only, struct rt_error *err);
    /* The runners' lock of a plan (key) on a server, tried once (*got); NULL when the
     * database's own write lock (begin_write) keeps runners apart. Released when the
     * connection closes. */
    int (*try_lock)(struct db *db, long long key, bool *got, struct rt_error *err);
    /* Whether a transaction is open on the connection (the one uprun began, unless the step's
     * SQL ended it). */
    bool (*in_transaction)(struct db *db);
    /* Whether the connection to a server is gone (after an error); NULL: it cannot be. */
    bool (*lost)(struct db *db);
    int (*open)(const char *target, int flags, struct db **out, struct rt_error *err);
    void (*close)(struct db *db);
    int (*exec)(struct db *db, const char *sql, struct rt_error *err);
    int (*query)(struct db *db, const char *sql, const char *const *params, size_t nparams,
                 struct db_rows **out, struct rt_error *err);
    void (*set_busy_timeout)(struct db *db, int ms);
    int (*backup)(struct db *db, const char *path, struct rt_error *err); /* NULL: not supported */
    void (*interrupt)(struct db *db);                                     /* async-signal-safe */
    int (*set_timeouts)(struct db *db, int lock_ms, int statement_ms, bool local,
                        struct rt_error *err);
    /* appends every table but exclude to tables (a JSON array), in canonical form (canon.h);
     * introspect() sorts them */
    int (*introspect)(struct db *db, const char *exclude, json_t *tables, struct rt_error *err);
};

/* Every handle starts with this header. */
struct db {
    const struct db_driver *driver;
    void (*progress)(void *arg);
    void *progress_arg;
};

#define DRIVER(name) extern const struct db_driver name;
#include "runtime/drivers.def"
#undef DRIVER

/* The driver that claims url, or NULL. */
const struct db_driver *db_driver_for(const char *url);
/* The driver of an open database. */
const struct db_driver *db_driver_of(const struct db *db);
/* "sqlite:path/to.db, postgresql://user@host/dbname or host=... dbname=...": every driver's. */
void db_url_forms(char *buf, size_t size);

/* Helpers for the drivers: an empty result, and appending a row. */
struct db_rows *db_rows_new(size_t ncols);
int db_rows_add(struct db_rows *r, char **cells_moved);

#endif
