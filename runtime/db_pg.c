/* SPDX-License-Identifier: MIT */
/*
 * db_pg.c: the PostgreSQL driver on libpq. Errors carry the server's own
 * fields: SQLSTATE, primary message, detail, hint and position
 * (PG_DIAG_STATEMENT_POSITION, 1-based, in characters of the text sent).
 * Server notices are not printed: the runtime reports what matters itself.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <sys/select.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/db.h"

struct db_pg {
    struct db base;
    PGconn *conn;
};

static void
ignore_notice(void *arg, const PGresult *res)
{
    (void)arg;
    (void)res;
}

static void
copy_field(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

/* Fills err from a failed result (or the connection, when res is NULL). */
static int
fail_res(struct db_pg *d, const PGresult *res, struct rt_error *err)
{
    const char *pos;
    size_t n;

    rt_error_clear(err);
    err->from_db = 1;
    if (!res) {
        copy_field(err->message, sizeof err->message, PQerrorMessage(d->conn));
    } else {
        copy_field(err->message, sizeof err->message,
                   PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
        if (!err->message[0])
            copy_field(err->message, sizeof err->message, PQresultErrorMessage(res));
        copy_field(err->detail, sizeof err->detail, PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL));
        copy_field(err->hint, sizeof err->hint, PQresultErrorField(res, PG_DIAG_MESSAGE_HINT));
        copy_field(err->sqlstate, sizeof err->sqlstate, PQresultErrorField(res, PG_DIAG_SQLSTATE));
        pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
        if (pos)
            err->position = strtol(pos, NULL, 10);
    }
    n = strlen(err->message);
    while (n && (err->message[n - 1] == '\n' || err->message[n - 1] == ' '))
        err->message[--n] = '\0';
    return -1;
}

static int
pg_open(const char *conninfo, int flags, struct db **out, struct rt_error *err)
{
    struct db_pg *d = calloc(1, sizeof *d);

    if (!d)
        return rt_fail(err, "out of memory");
    d->base.driver = &db_pg_driver;
    d->conn = PQconnectdb(conninfo);
    if (!d->conn) {
        free(d);
        return rt_fail(err, "out of memory connecting to PostgreSQL");
    }
    if (PQstatus(d->conn) != CONNECTION_OK) {
        fail_res(d, NULL, err);
        snprintf(err->hint, sizeof err->hint,
                 "Check the connection string (postgresql://... or host=... dbname=...) and "
                 "libpq's PG* environment variables.");
        PQfinish(d->conn);
        free(d);
        return -1;
    }
    PQsetNoticeReceiver(d->conn, ignore_notice, NULL);
    *out = &d->base;
    if (flags & DB_OPEN_READONLY) {
        PGresult *res = PQexec(d->conn, "SET default_transaction_read_only = on");
        PQclear(res);
    }
    return 0;
}

static void
pg_close(struct db *db)
{
    struct db_pg *d = (struct db_pg *)db;

    PQfinish(d->conn);
    free(d);
}

/*
 * Runs sql through libpq's asynchronous interface, so that a progress
 * callback can run once a second while the server works. The first error
 * result is the one reported; every result is consumed.
 */
static int
pg_exec(struct db *db, const char *sql, struct rt_error *err)
{
    struct db_pg *d = (struct db_pg *)db;
    PGresult *res;
    int rc = 0, sock = PQsocket(d->conn);

    if (!PQsendQuery(d->conn, sql))
        return fail_res(d, NULL, err);
    for (;;) {
        while (PQisBusy(d->conn)) {
            fd_set fds;
            struct timeval tv = {1, 0};
            FD_ZERO(&fds);
            FD_SET(sock, &fds);
            if (select(sock + 1, &fds, NULL, NULL, &tv) == 0 && db->progress)
                db->progress(db->progress_arg);
            if (!PQconsumeInput(d->conn)) {
                if (rc == 0)
                    rc = fail_res(d, NULL, err);
                break;
            }
        }
        res = PQgetResult(d->conn);
        if (!res)
            break;
        if (rc == 0) {
            ExecStatusType st = PQresultStatus(res);
            if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY)
                rc = fail_res(d, res, err);
        }
        PQclear(res);
        if (PQstatus(d->conn) == CONNECTION_BAD)
            break;
    }
    return rc;
}

static int
pg_query(struct db *db, const char *sql, const char *const *params, size_t nparams,
         struct db_rows **out, struct rt_error *err)
{
    struct db_pg *d = (struct db_pg *)db;
    PGresult *res = PQexecParams(d->conn, sql, (int)nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    struct db_rows *rows;
    size_t r, c, nrows, ncols;

    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        fail_res(d, res, err);
        PQclear(res);
        return -1;
    }
    ncols = (size_t)PQnfields(res);
    nrows = (size_t)PQntuples(res);
    if (!(rows = db_rows_new(ncols)))
        goto oom;
    for (c = 0; c < ncols; c++)
        if (!(rows->names[c] = strdup(PQfname(res, (int)c))))
            goto oom;
    for (r = 0; r < nrows; r++) {
        char **cells = calloc(ncols + 1, sizeof *cells);
        if (!cells)
            goto oom;
        for (c = 0; c < ncols; c++) {
            if (PQgetisnull(res, (int)r, (int)c))
                continue;
            if (!(cells[c] = strdup(PQgetvalue(res, (int)r, (int)c)))) {
                while (c--)
                    free(cells[c]);
                free(cells);
                goto oom;
            }
        }
        if (db_rows_add(rows, cells) != 0) {
            for (c = 0; c < ncols; c++)
                free(cells[c]);
            free(cells);
            goto oom;
        }
        free(cells);
    }
    PQclear(res);
    *out = rows;
    return 0;
oom:
    PQclear(res);
    db_rows_free(rows);
    return rt_fail(err, "out of memory reading query results");
}

const struct db_driver db_pg_driver = {
    .kind = DB_POSTGRES,
    .dialect = "postgres",
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .query = pg_query,
};
