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

static const struct db_driver *const drivers[] = {
#define DRIVER(name) &name,
#include "runtime/drivers.def"
#undef DRIVER
};

void
db_url_forms(char *buf, size_t size)
{
    size_t n = sizeof drivers / sizeof *drivers, len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < n && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s",
                                i == 0       ? ""
                                : i + 1 == n ? " or "
                                             : ", ",
                                drivers[i]->url_forms);
}

int
db_open_flags(const char *url, int flags, struct db **out, struct rt_error *err)
{
    char scheme[32], forms[256];
    size_t i;

    *out = NULL;
    rt_error_clear(err);
    for (i = 0; i < sizeof drivers / sizeof *drivers; i++)
        if (drivers[i]->claims(url))
            return drivers[i]->open(url, flags, out, err);
    db_url_forms(forms, sizeof forms);
    if (url_scheme(url, scheme, sizeof scheme)) {
        rt_fail(err, "uprun does not know databases of the URL scheme \"%s\"", scheme);
        snprintf(err->hint, sizeof err->hint, "Name a database as %s.", forms);
        return -1;
    }
    {
        char *shown = secret_redact(url);
        rt_fail(err, "\"%.200s\" is not the URL of a database uprun knows", shown ? shown : "?");
        snprintf(err->hint, sizeof err->hint,
                 "For a SQLite file, write sqlite:%.200s; otherwise name a database as %s.",
                 shown ? shown : "path/to.db", forms);
        free(shown);
    }
    return -1;
}

const struct db_driver *
db_driver_for(const char *url)
{
    for (size_t i = 0; i < sizeof drivers / sizeof *drivers; i++)
        if (drivers[i]->claims(url))
            return drivers[i];
    return NULL;
}

const struct db_driver *
db_driver_of(const struct db *db)
{
    return db->driver;
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
