/* SPDX-License-Identifier: MIT */
/* db.c: dispatching a URL to its driver, and result sets. */
#include "runtime/db.h"

#include <stdlib.h>
#include <string.h>

int
db_open_flags(const char *url, int flags, struct db **out, struct rt_error *err)
{
    *out = NULL;
    rt_error_clear(err);
    if (strncmp(url, "sqlite:", 7) == 0)
        return db_sqlite_driver.open(url + 7, flags, out, err);
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

bool
db_error_is_busy(const struct rt_error *err)
{
    /* SQLITE_BUSY (5) with any extended code; PostgreSQL lock_not_available */
    return (err->code && (err->code & 0xFF) == 5) || strcmp(err->sqlstate, "55P03") == 0;
}

int
db_backup(struct db *db, const char *path, struct rt_error *err)
{
    rt_error_clear(err);
    if (!db->driver->backup)
        return rt_fail(err, "--backup works with SQLite databases only; back PostgreSQL up with "
                            "pg_dump");
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
