/* SPDX-License-Identifier: MIT */
/*
 * db_pg.c: the PostgreSQL driver on libpq. Errors carry the server's own
 * fields: SQLSTATE, primary message, detail, hint and position
 * (PG_DIAG_STATEMENT_POSITION, 1-based, in characters of the text sent).
 * Server notices are not printed: the runtime reports what matters itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/db.h"
#include "runtime/canon.h"
#include "runtime/introspect.h"
#include "runtime/names.h"
#include "runtime/secret.h"

struct db_pg {
    struct db base;
    PGconn *conn;
    PGcancel *cancel;          /* made at connection time, for db_interrupt() */
    char *secrets[SECRET_MAX]; /* the connection string's passwords, scrubbed from errors */
    size_t nsecrets;
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

/* No text that uprun writes may quote a password: the server's and libpq's included. */
static void
scrub(struct db_pg *d, struct rt_error *err)
{
    secret_scrub(err->message, sizeof err->message, d->secrets, d->nsecrets);
    secret_scrub(err->detail, sizeof err->detail, d->secrets, d->nsecrets);
    secret_scrub(err->hint, sizeof err->hint, d->secrets, d->nsecrets);
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
        if (!err->message[0])
            copy_field(err->message, sizeof err->message, "the connection to the server was lost");
    } else {
        copy_field(err->message, sizeof err->message,
                   PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
        if (!err->message[0])
            copy_field(err->message, sizeof err->message, PQresultErrorMessage(res));
        copy_field(err->detail, sizeof err->detail,
                   PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL));
        copy_field(err->hint, sizeof err->hint, PQresultErrorField(res, PG_DIAG_MESSAGE_HINT));
        copy_field(err->sqlstate, sizeof err->sqlstate, PQresultErrorField(res, PG_DIAG_SQLSTATE));
        pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
        if (pos)
            err->position = strtol(pos, NULL, 10);
    }
    n = strlen(err->message);
    while (n && (err->message[n - 1] == '\n' || err->message[n - 1] == ' '))
        err->message[--n] = '\0';
    scrub(d, err);
    return -1;
}

static void
free_handle(struct db_pg *d)
{
    if (d->cancel)
        PQfreeCancel(d->cancel);
    PQfinish(d->conn);
    secret_free(d->secrets, d->nsecrets);
    free(d);
}

/*
 * A connection string libpq cannot parse: its message may quote any part of
 * the string (a URI whole, or the word after a password with a blank in
 * it), so when the string holds a password, every quoted part is hidden.
 */
static int
parse_error(const char *conninfo, const char *msg, struct rt_error *err)
{
    char text[RT_ERROR_MSG_MAX];
    size_t i, k = 0;
    bool hide = secret_present(conninfo), quoted = false;

    for (i = 0; msg && msg[i] && k + 8 < sizeof text; i++) {
        if (hide && msg[i] == '"') {
            if (!quoted) {
                memcpy(text + k, "\"...\"", 5);
                k += 5;
            }
            quoted = !quoted;
        } else if (!quoted && msg[i] != '\n') {
            text[k++] = msg[i];
        }
    }
    text[k] = '\0';
    rt_fail(err, "the PostgreSQL connection string is not valid: %s", text);
    snprintf(err->hint, sizeof err->hint,
             "Write postgresql://user@host/dbname or host=... dbname=... (quote a value with "
             "blanks as password='...'); for a SQLite file, write sqlite:path/to.db.");
    return -1;
}

static int
pg_open(const char *conninfo, int flags, struct db **out, struct rt_error *err)
{
    struct db_pg *d = calloc(1, sizeof *d);
    PQconninfoOption *opts;
    char *perr = NULL;

    if (!d)
        return rt_fail(err, "out of memory");
    d->base.driver = &db_pg_driver;
    d->nsecrets = secret_find(conninfo, d->secrets, SECRET_MAX);
    /* parse it first: libpq's own parse errors may quote the password */
    if (!(opts = PQconninfoParse(conninfo, &perr))) {
        parse_error(conninfo, perr ? perr : "out of memory", err);
        PQfreemem(perr);
        free_handle(d);
        return -1;
    }
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, "password") == 0 && o->val && o->val[0] && d->nsecrets < SECRET_MAX)
            d->secrets[d->nsecrets++] = strdup(o->val);
    PQconninfoFree(opts);
    d->conn = PQconnectdb(conninfo);
    if (!d->conn) {
        free_handle(d);
        return rt_fail(err, "out of memory connecting to PostgreSQL");
    }
    if (PQstatus(d->conn) != CONNECTION_OK) {
        fail_res(d, NULL, err);
        snprintf(err->hint, sizeof err->hint,
                 "Check the connection string (postgresql://... or host=... dbname=...) and "
                 "libpq's PG* environment variables.");
        free_handle(d);
        return -1;
    }
    PQsetNoticeReceiver(d->conn, ignore_notice, NULL);
    d->cancel = PQgetCancel(d->conn);
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
    free_handle((struct db_pg *)db);
}

/*
 * Asks the server to cancel the statement running now. PQcancel() is safe
 * in a signal handler when its buffer is a local variable (libpq's
 * documentation); it opens a connection of its own to deliver the request.
 */
static void
pg_interrupt(struct db *db)
{
    struct db_pg *d = (struct db_pg *)db;
    char errbuf[256];

    if (d->cancel)
        (void)PQcancel(d->cancel, errbuf, (int)sizeof errbuf);
}

/* Session limits: lock_timeout and statement_timeout, in milliseconds (0: none). */
static int
pg_set_timeouts(struct db *db, int lock_ms, int statement_ms, bool local, struct rt_error *err)
{
    char sql[160];

    snprintf(sql, sizeof sql, "SET %slock_timeout = %d; SET %sstatement_timeout = %d",
             local ? "LOCAL " : "", lock_ms, local ? "LOCAL " : "", statement_ms);
    return db->driver->exec(db, sql, err);
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
            int ready = select(sock + 1, &fds, NULL, NULL, &tv);
            if (ready < 0 && errno == EINTR)
                continue; /* a signal: the cancel request, if any, is on its way */
            if (ready == 0 && db->progress)
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

/* pg_dump: $UPRUN_PG_DUMP, or the first on PATH; NULL when there is none (malloc'd). */
static char *
find_pg_dump(void)
{
    const char *env = getenv("UPRUN_PG_DUMP"), *path = getenv("PATH");
    char buf[4096];

    if (env && *env)
        return access(env, X_OK) == 0 ? strdup(env) : NULL;
    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n && n + 10 < sizeof buf) {
            snprintf(buf, sizeof buf, "%.*s/pg_dump", (int)n, p);
            if (access(buf, X_OK) == 0)
                return strdup(buf);
        }
        p += n + (end ? 1 : 0);
    }
    return NULL;
}

/*
 * A custom-format dump (pg_dump -Fc) of the connected database into path, a
 * new file (created here, exclusively, not through a symbolic link, readable
 * by its owner only: it holds the data). pg_dump gets the connection's
 * parameters through libpq's environment variables, never on its command
 * line (which other users of the machine can read), and --no-password: it
 * never prompts. On failure the file is removed and err says why (pg_dump's
 * own message, passwords scrubbed).
 */
static int
pg_backup(struct db *db, const char *path, struct rt_error *err)
{
    struct db_pg *d = (struct db_pg *)db;
    char *exe = find_pg_dump(), msg[1024];
    PQconninfoOption *opts = NULL;
    int fd, pipefd[2] = {-1, -1}, status = 0;
    size_t got = 0;
    pid_t pid;

    if (!exe) {
        rt_fail(err, "--backup on PostgreSQL needs pg_dump, which is not on PATH");
        snprintf(err->hint, sizeof err->hint,
                 "Install the PostgreSQL client (pg_dump of the server's version or later), or "
                 "set UPRUN_PG_DUMP to it. Nothing was changed.");
        return -1;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        rt_fail(err, "could not create the backup \"%s\": %s", path,
                errno == EEXIST ? "it already exists (or is a symbolic link); choose a new name"
                                : strerror(errno));
        free(exe);
        return -1;
    }
    if (!(opts = PQconninfo(d->conn)) || pipe(pipefd) != 0) {
        rt_fail(err, "could not start pg_dump: %s", opts ? strerror(errno) : "out of memory");
        goto fail;
    }
    pid = fork();
    if (pid < 0) {
        rt_fail(err, "could not start pg_dump: %s", strerror(errno));
        goto fail;
    }
    if (pid == 0) {
        /* the child: the dump on stdout (the new file), its messages on the pipe */
        char *const argv[] = {"pg_dump", "--format=custom", "--no-password", NULL};
        for (PQconninfoOption *o = opts; o->keyword; o++)
            if (o->envvar && o->val && o->val[0])
                setenv(o->envvar, o->val, 1);
        if (dup2(fd, STDOUT_FILENO) < 0 || dup2(pipefd[1], STDERR_FILENO) < 0)
            _exit(127);
        execv(exe, argv);
        _exit(127);
    }
    close(pipefd[1]);
    pipefd[1] = -1;
    for (;;) {
        ssize_t n = read(pipefd[0], msg + got, sizeof msg - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
        if (got == sizeof msg - 1) { /* keep reading, so that pg_dump never blocks on it */
            char sink[512];
            while ((n = read(pipefd[0], sink, sizeof sink)) > 0 || (n < 0 && errno == EINTR))
                ;
            break;
        }
    }
    msg[got] = '\0';
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        while (got && (msg[got - 1] == '\n' || msg[got - 1] == ' '))
            msg[--got] = '\0';
        rt_fail(err, "pg_dump failed (%s %d)%s%s", WIFEXITED(status) ? "exit status" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), got ? ": " : "", msg);
        snprintf(err->hint, sizeof err->hint, "No backup was written and nothing was changed.");
        scrub(d, err);
        goto fail;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        rt_fail(err, "could not write the backup \"%s\": %s", path, strerror(errno));
        goto fail;
    }
    close(pipefd[0]);
    PQconninfoFree(opts);
    free(exe);
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    unlink(path);
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    PQconninfoFree(opts);
    free(exe);
    return -1;
}

/* --- introspection (introspect.h): the system catalogs, the tables of the current schema */

static int
pg_read_table(struct db *db, const char *oid, json_t *t, struct rt_error *err)
{
    const char *p[1] = {oid};
    struct db_rows *r = NULL;
    size_t i;
    int rc = -1;

    if (db_query(db,
                 "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
                 "pg_get_expr(d.adbin, d.adrelid), a.attidentity "
                 "FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND "
                 "d.adnum = a.attnum WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT "
                 "a.attisdropped ORDER BY a.attnum",
                 p, 1, &r, err))
        goto done;
    for (i = 0; i < r->nrows; i++) {
        const char *ident = db_cell(r, i, 4);
        json_array_append_new(
            json_object_get(t, "columns"),
            introspect_column(
                db_cell(r, i, 0), db_cell(r, i, 1), strcmp(db_cell(r, i, 2), "t") == 0,
                canon_pg_default(db_cell(r, i, 1), db_cell(r, i, 3)), ident && *ident));
    }
    db_rows_free(r);
    r = NULL;
    /* primary keys, unique and foreign keys: one row per column, in key order */
    if (db_query(db,
                 "SELECT con.conname, con.contype, a.attname, confrel.relname, fa.attname, "
                 "con.confdeltype, con.confupdtype FROM pg_constraint con "
                 "CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, o) "
                 "JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum "
                 "LEFT JOIN pg_class confrel ON confrel.oid = con.confrelid "
                 "LEFT JOIN pg_attribute fa ON fa.attrelid = con.confrelid AND "
                 "fa.attnum = con.confkey[k.o] "
                 "WHERE con.conrelid = $1::oid AND con.contype IN ('p', 'u', 'f') "
                 "ORDER BY con.conname, k.o",
                 p, 1, &r, err))
        goto done;
    {
        json_t *k = NULL;
        const char *cur = NULL;
        for (i = 0; i < r->nrows; i++) {
            const char *name = db_cell(r, i, 0), *type = db_cell(r, i, 1);
            if (!cur || strcmp(cur, name) != 0) {
                k = json_object();
                json_object_set_new(k, "name", json_string(name));
                json_object_set_new(k, "columns", json_array());
                if (*type == 'f') {
                    json_object_set_new(k, "ref_table", json_string(db_cell(r, i, 3)));
                    json_object_set_new(k, "ref_columns", json_array());
                    json_object_set_new(k, "on_delete",
                                        json_string(introspect_action(db_cell(r, i, 5))));
                    json_object_set_new(k, "on_update",
                                        json_string(introspect_action(db_cell(r, i, 6))));
                    json_array_append_new(json_object_get(t, "foreign_keys"), k);
                } else if (*type == 'u') {
                    json_array_append_new(json_object_get(t, "unique"), k);
                } else {
                    json_object_set_new(t, "primary_key", k);
                }
                cur = name;
            }
            json_array_append_new(json_object_get(k, "columns"), json_string(db_cell(r, i, 2)));
            if (*type == 'f')
                json_array_append_new(json_object_get(k, "ref_columns"),
                                      introspect_str(db_cell(r, i, 4)));
        }
    }
    db_rows_free(r);
    r = NULL;
    if (db_query(db, "SELECT conname FROM pg_constraint WHERE conrelid = $1::oid AND contype = 'c'",
                 p, 1, &r, err))
        goto done;
    for (i = 0; i < r->nrows; i++)
        json_array_append_new(json_object_get(t, "checks"), json_string(db_cell(r, i, 0)));
    db_rows_free(r);
    r = NULL;
    /* indexes that no primary key or unique constraint owns */
    if (db_query(db,
                 "SELECT ic.relname, i.indisunique, a.attname FROM pg_index i "
                 "JOIN pg_class ic ON ic.oid = i.indexrelid "
                 "CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, o) "
                 "LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                 "WHERE i.indrelid = $1::oid AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE "
                 "c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x')) "
                 "ORDER BY ic.relname, k.o",
                 p, 1, &r, err))
        goto done;
    {
        json_t *ix = NULL;
        const char *cur = NULL;
        for (i = 0; i < r->nrows; i++) {
            const char *name = db_cell(r, i, 0);
            if (!cur || strcmp(cur, name) != 0) {
                ix = json_object();
                json_object_set_new(ix, "name", json_string(name));
                json_object_set_new(ix, "unique", json_boolean(strcmp(db_cell(r, i, 1), "t") == 0));
                json_object_set_new(ix, "columns", json_array());
                json_array_append_new(json_object_get(t, "indexes"), ix);
                cur = name;
            }
            json_array_append_new(json_object_get(ix, "columns"), introspect_str(db_cell(r, i, 2)));
        }
    }
    rc = 0;
done:
    db_rows_free(r);
    return rc;
}

static int
pg_introspect(struct db *db, const char *exclude, json_t *tables, struct rt_error *err)
{
    const char *p[1] = {exclude ? exclude : ""};
    struct db_rows *r = NULL;
    size_t i;
    int rc = 0;

    if (db_query(db,
                 "SELECT c.oid::text, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
                 "c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() "
                 "AND c.relname <> $1 AND c.relname <> '" UPG_UNITS_TABLE
                 "' AND c.relname <> '" UPG_RELEASES_TABLE "' AND c.relname <> '" UPG_BATCHES_TABLE
                 "' ORDER BY c.relname",
                 p, 1, &r, err))
        return -1;
    for (i = 0; i < r->nrows && rc == 0; i++) {
        json_t *t = introspect_table(db_cell(r, i, 1));
        rc = pg_read_table(db, db_cell(r, i, 0), t, err);
        json_array_append_new(tables, t);
    }
    db_rows_free(r);
    return rc;
}

static bool
pg_in_transaction(struct db *db)
{
    PGTransactionStatusType t = PQtransactionStatus(((struct db_pg *)db)->conn);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

static bool
pg_lost(struct db *db)
{
    return PQstatus(((struct db_pg *)db)->conn) == CONNECTION_BAD;
}

static bool
pg_claims(const char *url)
{
    /* a URI of libpq's, or a keyword/value string (host=... dbname=...) without a scheme */
    return strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0 ||
           (!strstr(url, "://") && strchr(url, '=') != NULL);
}

/* The session: named uprun, and a backend whose uprun died stops within a second (14+). */
static int
pg_session(struct db *db, bool read_only, struct rt_error *err)
{
    struct rt_error ignored;

    (void)read_only; /* DB_OPEN_READONLY made the transactions read-only already */
    pg_exec(db, "SET application_name = 'uprun'", &ignored);
    pg_exec(db, "SET client_connection_check_interval = '1s'", &ignored);
    /* the bundle's literals, and pg_get_expr()'s defaults that introspection reads back, are
     * standard strings: a server set otherwise would read backslashes as escapes */
    return pg_exec(db, "SET standard_conforming_strings = on", err);
}

/* The plan's advisory lock (session level: the server releases it if the runner dies). */
static int
pg_try_lock(struct db *db, long long key, bool *got, struct rt_error *err)
{
    char k[32];
    const char *p[1] = {k};
    struct db_rows *r = NULL;

    snprintf(k, sizeof k, "%lld", key);
    if (pg_query(db, "SELECT pg_try_advisory_lock($1::bigint)", p, 1, &r, err))
        return -1;
    *got = r->nrows == 1 && db_cell(r, 0, 0) && strcmp(db_cell(r, 0, 0), "t") == 0;
    db_rows_free(r);
    return 0;
}

/* The history table: see history.h. */
static const char pg_history_ddl[] =
    "CREATE TABLE IF NOT EXISTS " UPG_HISTORY_TABLE " (\n"
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

const struct db_driver db_pg_driver = {
    .claims = pg_claims,
    .url_forms = "postgresql://user@host/dbname or host=... dbname=...",
    .history_ddl = pg_history_ddl,
    .table_exists = "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relname = $1 AND n.nspname = current_schema()",
    .param = '$',
    .begin_write = "BEGIN",
    .begin_snapshot = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    .session = pg_session,
    .try_lock = pg_try_lock,
    .in_transaction = pg_in_transaction,
    .lost = pg_lost,
    .introspect = pg_introspect,
    .dialect = "postgres",
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .query = pg_query,
    .interrupt = pg_interrupt,
    .set_timeouts = pg_set_timeouts,
    .backup = pg_backup,
};
