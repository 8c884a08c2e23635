/* SPDX-License-Identifier: MIT */
/* db.c: dispatching a URL to its driver, and result sets. */
#include "runtime/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/secret.h"

/* The URL's scheme ("mysql" of mysql://...), into out; false when it has none. */
static bool
url_scheme(const char *url, char *out, size_t size)
{
    const char *p = strstr(url, "://"), *q;

    if (!p || p == url)
        return false;
    for (q = url; q < p; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
              *q == '+' || *q == '-' || *q == '.'))
            return false;
    snprintf(out, size, "%.*s", (int)(p - url), url);
    return true;
}

int
db_open_flags(const char *url, int flags, struct db **out, struct rt_error *err)
{
    char scheme[32];

    *out = NULL;
    rt_error_clear(err);
    if (strncmp(url, "sqlite:", 7) == 0) {
        if (strncmp(url + 7, "//", 2) == 0) {
            rt_fail(err,
                    "the SQLite URL \"%.200s\" has a \"//\" after \"sqlite:\", which uprun "
                    "does not guess at",
                    url);
            snprintf(err->hint, sizeof err->hint,
                     "Write sqlite:%s for a path relative to the current folder, or "
                     "sqlite:/%s for an absolute one.",
                     url + 9 + strspn(url + 9, "/"), url + 9 + strspn(url + 9, "/"));
            return -1;
        }
        return db_sqlite_driver.open(url + 7, flags, out, err);
    }
    if (url_scheme(url, scheme, sizeof scheme) && strcmp(scheme, "postgresql") != 0 &&
        strcmp(scheme, "postgres") != 0) {
        rt_fail(err, "uprun does not know databases of the URL scheme \"%s\"", scheme);
        snprintf(err->hint, sizeof err->hint,
                 "Name a SQLite file as sqlite:path/to.db, or a PostgreSQL database as "
                 "postgresql://user@host/dbname or host=... dbname=....");
        return -1;
    }
    if (*url && !strchr(url, '=') && strncmp(url, "postgresql://", 13) != 0 &&
        strncmp(url, "postgres://", 11) != 0) {
        char *shown = secret_redact(url);
        rt_fail(err, "\"%.200s\" is neither a SQLite URL nor a PostgreSQL connection string",
                shown ? shown : "?");
        snprintf(
            err->hint, sizeof err->hint,
            "For a SQLite file, write sqlite:%.200s; for PostgreSQL, postgresql://user@host/dbname "
            "or host=... dbname=....",
            shown ? shown : "path/to.db");
        free(shown);
        return -1;
    }
    return db_pg_driver.open(url, flags, out, err);
}

int
db_open(const char *url, struct db **out, struct rt_error *err)
{
    return db_open_flags(url, 0, out, err);
}

void
db_close(struct db *db)
{
    if (db)
        db->driver->close(db);
}

enum db_kind
db_kind(const struct db *db)
{
    return db->driver->kind;
}

const char *
db_dialect(const struct db *db)
{
    return db->driver->dialect;
}

int
db_exec(struct db *db, const char *sql, struct rt_error *err)
{
    rt_error_clear(err);
    return db->driver->exec(db, sql, err);
}

int
db_query(struct db *db, const char *sql, const char *const *params, size_t nparams,
         struct db_rows **out, struct rt_error *err)
{
    *out = NULL;
    rt_error_clear(err);
    return db->driver->query(db, sql, params, nparams, out, err);
}

void
db_set_progress(struct db *db, void (*cb)(void *arg), void *arg)
{
    db->progress = cb;
    db->progress_arg = arg;
}

void
db_set_busy_timeout(struct db *db, int ms)
{
    if (db->driver->set_busy_timeout)
        db->driver->set_busy_timeout(db, ms);
}

int
db_set_timeouts(struct db *db, int lock_ms, int statement_ms, bool local, struct rt_error *err)
{
    rt_error_clear(err);
    return db->driver->set_timeouts(db, lock_ms, statement_ms, local, err);
}

void
db_interrupt(struct db *db)
{
    if (db && db->driver->interrupt)
        db->driver->interrupt(db);
}

bool
db_error_is_busy(const struct rt_error *err)
{
    /* SQLITE_BUSY (5) with any extended code; PostgreSQL lock_not_available */
    return (err->code && (err->code & 0xFF) == 5) || strcmp(err->sqlstate, "55P03") == 0;
}

bool
db_error_is_cancel(const struct rt_error *err)
{
    /* SQLITE_INTERRUPT (9); PostgreSQL query_canceled (user request or statement_timeout) */
    return (err->code && (err->code & 0xFF) == 9) || strcmp(err->sqlstate, "57014") == 0;
}

bool
db_error_is_statement_timeout(const struct rt_error *err)
{
    return db_error_is_cancel(err) && strstr(err->message, "statement timeout") != NULL;
}

int
db_backup(struct db *db, const char *path, struct rt_error *err)
{
    rt_error_clear(err);
    if (!db->driver->backup)
        return rt_fail(err, "this database cannot be backed up by uprun (--backup)");
    return db->driver->backup(db, path, err);
}

struct db_rows *
db_rows_new(size_t ncols)
{
    struct db_rows *r = calloc(1, sizeof *r);

    if (!r)
        return NULL;
    r->ncols = ncols;
    r->names = calloc(ncols + 1, sizeof *r->names);
    if (!r->names) {
        free(r);
        return NULL;
    }
    return r;
}

int
db_rows_add(struct db_rows *r, char **cells)
{
    if (r->nrows == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 16;
        char **grown = realloc(r->cells, ncap * (r->ncols ? r->ncols : 1) * sizeof *grown);
        if (!grown)
            return -1;
        r->cells = grown;
        r->cap = ncap;
    }
    memcpy(&r->cells[r->nrows * r->ncols], cells, r->ncols * sizeof *cells);
    r->nrows++;
    return 0;
}

void
db_rows_free(struct db_rows *r)
{
    size_t i;

    if (!r)
        return;
    for (i = 0; i < r->nrows * r->ncols; i++)
        free(r->cells[i]);
    for (i = 0; i < r->ncols; i++)
        free(r->names[i]);
    free(r->cells);
    free(r->names);
    free(r);
}
