/* SPDX-License-Identifier: MIT */
/*
 * uprun.c: libuprun (uprun.h): verify, connect, read the history, find the
 * path, lock, and run each step in one transaction together with its
 * history row.
 *
 * Order of every command: the bundle is verified in uprun_open(), before
 * any database is opened. Then the history decides where the database is;
 * a history that names another plan, a version the bundle does not know,
 * or a step applied from other SQL than the bundle's is refused rather
 * than guessed at.
 *
 * The life of a step is one switch (run_step): PENDING (foreign keys off
 * for a SQLite rebuild, BEGIN) -> BEGUN (the history is read again inside
 * the transaction: if another runner moved the database meanwhile, the step
 * is skipped or the run stops) -> RUNNING (the statements, one at a time,
 * so that a failure is located) -> RECORDED (the history row, in the same
 * transaction) -> APPLIED (COMMIT, foreign keys back on). Any failure goes
 * to FAILED: ROLLBACK, then a "failed" history row in a transaction of its
 * own, and the database is where it was before the step.
 *
 * Locking: on PostgreSQL a session advisory lock keyed by the plan's name,
 * which the server releases if the runner dies; on SQLite the write lock
 * that BEGIN IMMEDIATE takes for each step, with the busy timeout set to
 * --lock-timeout. Either way a second runner waits, then gives up with
 * UPRUN_LOCKED, and the in-transaction re-read of the history makes sure a
 * step is never applied twice.
 *
 * Fault injection (builds with UPG_FAULT_INJECTION, never release builds):
 * UPG_FAULT_EXIT_AFTER=N makes the runner _exit() right after the Nth
 * statement it sends (BEGIN, COMMIT and history writes included), the way
 * a crash would; UPG_FAULT_COUNT=1 prints how many statements a run sent.
 */
#include "runtime/uprun.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/bundle.h"
#include "runtime/canon.h"
#include "runtime/db.h"
#include "runtime/history.h"
#include "runtime/introspect.h"
#include "runtime/sqlsplit.h"

struct uprun {
    struct uprun_config cfg;
    struct bundle *bundle;
    struct db *db;
    const char *dialect;
    bool locked;
    char *created; /* a SQLite file this run created: removed again if nothing was written to it */
    char whoami[320];
    unsigned long statements;  /* statements sent by apply or rollback */
    unsigned long fault_after; /* fault injection: exit after this many (0: never) */
    bool fault_count;
    /* the running step, for progress events */
    struct timespec step_started;
    struct uprun_event progress;
};

/* A step on a path, in the direction of travel. */
struct path_step {
    const struct mf_step *step;
    const struct mf_dialect_step *ds;
    bool down;
    const char *from;            /* the version before (NULL: empty) */
    const char *to;              /* the version after (NULL: empty) */
    const struct mf_file *entry; /* its SQL file (NULL: an irreversible step, going down) */
};

/* --- events -------------------------------------------------------------- */

static void
emit(uprun *u, struct uprun_event *ev)
{
    if (u->cfg.event)
        u->cfg.event(u->cfg.event_arg, ev);
}

static void info(uprun *u, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void
info(uprun *u, const char *fmt, ...)
{
    struct uprun_event ev;
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    memset(&ev, 0, sizeof ev);
    ev.kind = UPRUN_EV_INFO;
    ev.message = buf;
    emit(u, &ev);
}

static const char *
vname(const char *v)
{
    return v ? v : "empty";
}

static double
seconds_since(const struct timespec *t0)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void
on_progress(void *arg)
{
    uprun *u = arg;
    char msg[256];

    u->progress.kind = UPRUN_EV_PROGRESS;
    u->progress.elapsed = seconds_since(&u->step_started);
    snprintf(msg, sizeof msg, "step %zu of %zu (%s -> %s) running for %.0f s", u->progress.position,
             u->progress.count, vname(u->progress.from), vname(u->progress.to),
             u->progress.elapsed);
    u->progress.message = msg;
    emit(u, &u->progress);
}

/* --- fault injection ----------------------------------------------------- */

static void
fault_point(uprun *u)
{
    u->statements++;
#ifdef UPG_FAULT_INJECTION
    if (u->fault_after && u->statements == u->fault_after)
        _exit(99); /* as abrupt as a crash: no COMMIT, no cleanup, no message */
#endif
}

/* Runs one statement of the machinery (BEGIN, COMMIT, PRAGMA, history) and counts it. */
static int
exec_counted(uprun *u, const char *sql, struct rt_error *err)
{
    int rc = db_exec(u->db, sql, err);

    if (rc == 0)
        fault_point(u);
    return rc;
}

/* --- opening ------------------------------------------------------------- */

int
uprun_open(const struct uprun_config *cfg, uprun **out, struct rt_error *err)
{
    struct sig_pubkey key;
    uprun *u;
    int rc;

    *out = NULL;
    rt_error_clear(err);
    if (!cfg->pubkey_path) {
        rt_fail(err, "the release's public key is needed to verify the bundle");
        snprintf(err->hint, sizeof err->hint, "Give it with --pubkey FILE.");
        return UPRUN_USAGE;
    }
    if (sig_init(err))
        return UPRUN_USAGE;
    if (sig_pubkey_load(cfg->pubkey_path, &key, err))
        return UPRUN_USAGE;
    if (!(u = calloc(1, sizeof *u))) {
        rt_fail(err, "out of memory");
        return UPRUN_USAGE;
    }
    u->cfg = *cfg;
    rc = bundle_open(cfg->bundle_dir ? cfg->bundle_dir : ".", &key, &u->bundle, err);
    if (rc) {
        free(u);
        return rc == -1 ? UPRUN_BUNDLE_REFUSED : UPRUN_USAGE;
    }
    history_whoami(u->whoami, sizeof u->whoami);
#ifdef UPG_FAULT_INJECTION
    if (getenv("UPG_FAULT_EXIT_AFTER"))
        u->fault_after = strtoul(getenv("UPG_FAULT_EXIT_AFTER"), NULL, 10);
    u->fault_count = getenv("UPG_FAULT_COUNT") != NULL;
#endif
    *out = u;
    return UPRUN_OK;
}

/* How a command opens the database: only apply may create a SQLite file. */
enum connect_mode { CONNECT_READ, CONNECT_WRITE, CONNECT_CREATE };

static int
connect_db(uprun *u, enum connect_mode mode, struct rt_error *err)
{
    bool read_only = mode == CONNECT_READ;
    size_t i;
    bool known = false;

    if (u->db)
        return UPRUN_OK;
    if (!u->cfg.db_url) {
        rt_fail(err, "no database was named");
        snprintf(err->hint, sizeof err->hint,
                 "Give it with --db URL: sqlite:path/to.db, or a PostgreSQL connection string.");
        return UPRUN_USAGE;
    }
    if (mode == CONNECT_CREATE && strncmp(u->cfg.db_url, "sqlite:", 7) == 0 &&
        strcmp(u->cfg.db_url + 7, ":memory:") != 0 && u->cfg.db_url[7] &&
        access(u->cfg.db_url + 7, F_OK) != 0 && !(u->created = strdup(u->cfg.db_url + 7)))
        return rt_fail(err, "out of memory"), UPRUN_USAGE;
    if (db_open_flags(u->cfg.db_url,
                      mode == CONNECT_READ    ? DB_OPEN_READONLY
                      : mode == CONNECT_WRITE ? DB_OPEN_EXISTING
                                              : 0,
                      &u->db, err))
        return UPRUN_USAGE;
    u->dialect = db_dialect(u->db);
    for (i = 0; i < u->bundle->manifest.ndialects; i++)
        known = known || strcmp(u->bundle->manifest.dialects[i], u->dialect) == 0;
    if (!known) {
        rt_fail(err, "the bundle has no SQL for %s databases", u->dialect);
        snprintf(err->hint, sizeof err->hint,
                 "Build the bundle with that dialect (upc build "
                 "--dialect %s).",
                 u->dialect);
        db_close(u->db);
        u->db = NULL;
        return UPRUN_USAGE;
    }
    if (db_kind(u->db) == DB_SQLITE) {
        db_set_busy_timeout(u->db, (int)(u->cfg.lock_timeout * 1000));
        if (!read_only && db_exec(u->db, "PRAGMA foreign_keys = ON", err))
            return UPRUN_USAGE;
    } else {
        struct rt_error ignored;
        db_exec(u->db, "SET application_name = 'uprun'", &ignored);
    }
    return UPRUN_OK;
}

/*
 * A refused apply leaves no trace: a SQLite file it created, and to which
 * nothing was written (SQLite writes nothing before the first change), is
 * removed again.
 */
static void
forget_created(uprun *u)
{
    struct stat st;

    if (!u->created || !u->db || db_kind(u->db) != DB_SQLITE)
        return;
    if (stat(u->created, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0) {
        db_close(u->db);
        u->db = NULL;
        u->locked = false;
        unlink(u->created);
    }
    free(u->created);
    u->created = NULL;
}

int
uprun_connect(uprun *u, struct rt_error *err)
{
    rt_error_clear(err);
    return connect_db(u, CONNECT_CREATE, err);
}

void
uprun_close(uprun *u)
{
    if (!u)
        return;
    if (u->fault_count)
        fprintf(stderr, "uprun: fault injection: %lu statements\n", u->statements);
    db_close(u->db);
    free(u->created);
    bundle_free(u->bundle);
    free(u);
}

const char *
uprun_plan_name(const uprun *u)
{
    return u->bundle->manifest.plan_name;
}

/*
 * The digest of a SQL file's statements alone (sqlsplit.h), each followed by
 * a newline: comments and blank lines between statements do not count, so
 * a file whose origin comments moved has the same digest.
 */
static void
sql_digest(const unsigned char *data, size_t size, char out[65])
{
    struct sql_stmt *st = NULL;
    size_t n = sql_split((const char *)data, size, &st), i, len = 0;
    unsigned char *buf;

    for (i = 0; i < n; i++)
        len += st[i].end - st[i].start + 1;
    buf = malloc(len + 1);
    len = 0;
    for (i = 0; buf && i < n; i++) {
        memcpy(buf + len, data + st[i].start, st[i].end - st[i].start);
        len += st[i].end - st[i].start;
        buf[len++] = '\n';
    }
    sig_sha256_hex(buf ? buf : (unsigned char *)"", buf ? len : 0, out);
    free(buf);
    free(st);
}

/* --- versions and paths -------------------------------------------------- */

static bool
same_version(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The last version both a and b follow or are (NULL: none but the empty database). */
static const char *
meeting_point(const struct manifest *m, const char *a, const char *b)
{
    const struct mf_version *x = manifest_version(m, a), *y = manifest_version(m, b);
    size_t i, k;

    if (!x || !y)
        return NULL;
    i = (size_t)(x - m->versions);
    k = (size_t)(y - m->versions);
    /* parents have lower indices: step back from the higher one until they meet */
    while (i != k && i != SIZE_MAX && k != SIZE_MAX) {
        if (i > k)
            i = m->versions[i].parent;
        else
            k = m->versions[k].parent;
    }
    return i == k && i != SIZE_MAX ? m->versions[i].name : NULL;
}

/* The hint for two versions on different branches. */
static void
branches_hint(uprun *u, const char *current, const char *to, struct rt_error *err)
{
    const char *meet = meeting_point(&u->bundle->manifest, current, to);

    snprintf(err->hint, sizeof err->hint,
             "%s and %s are on different branches of the plan, which part at %s: roll back to it "
             "first (uprun rollback --to %s), then apply --to %s.",
             vname(current), vname(to), vname(meet), meet ? meet : "empty", vname(to));
}

/*
 * The steps from `from` to `to` (either may be NULL: empty), up when `to`
 * follows `from`, down when `from` follows `to`. Returns the number of
 * steps (in travel order, into a malloc'd *out), or SIZE_MAX when neither
 * follows the other.
 */
static size_t
find_path(uprun *u, const char *from, const char *to, struct path_step **out)
{
    const struct manifest *m = &u->bundle->manifest;
    size_t *steps = NULL, n = 0, i;
    bool down = false;

    *out = NULL;
    if (same_version(from, to)) {
        *out = calloc(1, sizeof **out);
        return *out ? 0 : SIZE_MAX;
    }
    /* up through the steps (the versions' own and the derived steps of merges), or down the
     * way up from `to` reversed; the shortest either way */
    if (!to || manifest_route(m, from, to, &steps, &n)) {
        free(steps);
        steps = NULL;
        if (!from || manifest_route(m, to, from, &steps, &n)) {
            free(steps);
            return SIZE_MAX;
        }
        down = true;
    }
    *out = calloc(n + 1, sizeof **out);
    if (!*out) {
        free(steps);
        return SIZE_MAX;
    }
    for (i = 0; i < n; i++) {
        struct path_step *ps = &(*out)[down ? n - 1 - i : i];
        ps->step = &m->steps[steps[i]];
        ps->ds = manifest_step_dialect(ps->step, u->dialect);
        ps->down = down;
        ps->from = down ? ps->step->to : ps->step->from;
        ps->to = down ? ps->step->from : ps->step->to;
        ps->entry = down ? (ps->ds->has_down ? &ps->ds->down : NULL) : &ps->ds->up;
    }
    free(steps);
    return n;
}

enum path_want { PATH_EITHER, PATH_UP, PATH_DOWN };

/*
 * The path from current to `to` that a command may take: *n steps into a
 * malloc'd *path. UPRUN_PATH_REFUSED, with the way round in the hint, when
 * there is none or it goes the other way than want.
 */
static int
path_for(uprun *u, const char *current, const char *to, enum path_want want,
         struct path_step **path, size_t *n, struct rt_error *err)
{
    *n = find_path(u, current, to, path);
    if (*n != SIZE_MAX &&
        (want == PATH_EITHER || *n == 0 || (*path)[0].down == (want == PATH_DOWN)))
        return UPRUN_OK;
    if (want == PATH_EITHER)
        rt_fail(err, "there is no path from %s to %s: neither follows the other", vname(current),
                vname(to));
    else
        rt_fail(err, "there is no %s path from %s to %s", want == PATH_UP ? "upgrade" : "rollback",
                vname(current), vname(to));
    if (*n == SIZE_MAX)
        branches_hint(u, current, to, err);
    else if (want == PATH_UP)
        snprintf(err->hint, sizeof err->hint,
                 "Version %s comes before %s: use uprun rollback --to %s.", vname(to),
                 vname(current), vname(to));
    else
        snprintf(err->hint, sizeof err->hint, "Version %s comes after %s: use uprun apply --to %s.",
                 vname(to), vname(current), vname(to));
    return UPRUN_PATH_REFUSED;
}

/*
 * status: the steps `uprun apply` would take to the bundle's last version,
 * or why there are none.
 */
static void
way_to_last(uprun *u, const char *current)
{
    const struct manifest *m = &u->bundle->manifest;
    const char *last = m->versions[m->nversions - 1].name;
    char line[1024];
    size_t *steps = NULL, n = 0, len = 0, i;

    if (same_version(current, last))
        return;
    if (manifest_route(m, current, last, &steps, &n)) {
        if (n != SIZE_MAX)
            info(u,
                 "the way to %s: none; no step leads on from %s to the bundle's last version "
                 "(its line ends there: ask the plan's maintainers for a version that merges it)",
                 last, vname(current));
        free(steps);
        return;
    }
    for (i = 0; i < n && len < sizeof line - 64; i++) {
        const struct mf_step *s = &m->steps[steps[i]];
        len += (size_t)snprintf(line + len, sizeof line - len, "%sstep %u (%s -> %s)",
                                i ? ", " : "", s->index, vname(s->from), s->to);
    }
    if (i < n)
        snprintf(line + len, sizeof line - len, " and %zu more", n - i);
    info(u, "the way to %s: %s", last, line);
    free(steps);
}

/*
 * Reads where the database is, and checks that its history fits the
 * bundle. Does not create the history table. *current is malloc'd (NULL:
 * empty).
 */
static int
read_state(uprun *u, char **current, bool *has_history, struct rt_error *err)
{
    const struct manifest *m = &u->bundle->manifest;
    char *others = NULL, *sha = NULL;
    const char *v;
    bool exists = false, any = false;

    *current = NULL;
    *has_history = false;
    if (history_exists(u->db, &exists, err))
        return UPRUN_USAGE;
    if (!exists)
        return UPRUN_OK;
    if (history_other_plans(u->db, m->plan_name, &others, err))
        return UPRUN_USAGE;
    if (others) {
        rt_fail(err, "the database's history names plan \"%s\", not the bundle's plan \"%s\"",
                others, m->plan_name);
        snprintf(err->hint, sizeof err->hint,
                 "This bundle is for another product's database; check --db and --bundle.");
        free(others);
        return UPRUN_DB_REFUSED;
    }
    if (history_current(u->db, current, &any, err))
        return UPRUN_USAGE;
    *has_history = any;
    if (*current && !manifest_version(m, *current)) {
        rt_fail(err,
                "the database is at version %s, which this bundle does not know (it has %s to "
                "%s)",
                *current, m->versions[0].name, m->versions[m->nversions - 1].name);
        snprintf(err->hint, sizeof err->hint,
                 "Use the bundle of version %s or later; uprun never guesses.", *current);
        return UPRUN_DB_REFUSED;
    }
    /* the steps that brought it here must be this bundle's: at a version that merges a
     * hotfix, either of the two steps that lead there, and on from where that one starts */
    for (v = *current; v;) {
        const struct mf_version *mv = manifest_version(m, v);
        const struct mf_step *s = &m->steps[mv->step];
        const struct mf_dialect_step *d = manifest_step_dialect(s, u->dialect);
        const char *next = mv->from;
        char digest[65];
        if (history_applied_sha(u->db, v, &sha, err))
            return UPRUN_USAGE;
        for (size_t k = 0; sha && k < 2; k++) {
            unsigned char *sql;
            size_t len;
            if (k == 1) {
                if (mv->merge_step == SIZE_MAX)
                    break;
                s = &m->steps[mv->merge_step];
                d = manifest_step_dialect(s, u->dialect);
                next = mv->merges;
            }
            if (bundle_read(u->bundle, d->up.path, &sql, &len, err)) {
                free(sha);
                return UPRUN_BUNDLE_REFUSED;
            }
            sql_digest(sql, len, digest);
            free(sql);
            if (strcmp(sha, digest) == 0)
                break;
        }
        if (sha && strcmp(sha, digest) != 0) {
            rt_fail(err,
                    "step %u (%s -> %s) was applied to this database from other SQL than "
                    "this bundle's (the statements of %s have SHA-256 %.12s..., the history "
                    "records %.12s...)",
                    s->index, vname(s->from), s->to, d->up.path, digest, sha);
            snprintf(err->hint, sizeof err->hint,
                     "The bundle and the database disagree about what version %s is; use the "
                     "bundle the database was upgraded with.",
                     v);
            free(sha);
            return UPRUN_DB_REFUSED;
        }
        free(sha);
        sha = NULL;
        v = next;
    }
    return UPRUN_OK;
}

/* --- locking ------------------------------------------------------------- */

static uint64_t
lock_key(const char *plan)
{
    uint64_t h = 0xcbf29ce484222325u;
    const char *p = "upgrade-plan:";

    for (; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3u;
    for (p = plan; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3u;
    return h;
}

/* PostgreSQL: the plan's advisory lock, waited for up to --lock-timeout. */
static int
lock_pg(uprun *u, struct rt_error *err)
{
    char key[32];
    const char *p[1] = {key};
    struct timespec t0;
    bool waited = false;

    if (db_kind(u->db) != DB_POSTGRES || u->locked)
        return UPRUN_OK;
    snprintf(key, sizeof key, "%lld", (long long)lock_key(u->bundle->manifest.plan_name));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct db_rows *r = NULL;
        bool got;
        if (db_query(u->db, "SELECT pg_try_advisory_lock($1::bigint)", p, 1, &r, err))
            return UPRUN_USAGE;
        got = strcmp(db_cell(r, 0, 0), "t") == 0;
        db_rows_free(r);
        if (got) {
            u->locked = true;
            return UPRUN_OK;
        }
        if (!waited) {
            info(u,
                 "another uprun holds the lock of plan \"%s\" on this database; waiting up to "
                 "%.0f s",
                 u->bundle->manifest.plan_name, u->cfg.lock_timeout);
            waited = true;
        }
        if (seconds_since(&t0) >= u->cfg.lock_timeout) {
            rt_fail(err, "another uprun has held the lock of plan \"%s\" for more than %.0f s",
                    u->bundle->manifest.plan_name, u->cfg.lock_timeout);
            snprintf(err->hint, sizeof err->hint,
                     "Wait for it to finish, or raise --lock-timeout. The server releases the lock "
                     "if that runner dies.");
            return UPRUN_LOCKED;
        }
        {
            struct timespec pause = {0, 100 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
    }
}

static int
lock_failed(uprun *u, struct rt_error *err)
{
    char msg[RT_ERROR_MSG_MAX];

    snprintf(msg, sizeof msg, "%s", err->message);
    rt_fail(err,
            "the database is locked by another writer (%s) and stayed locked for more than "
            "%.0f s",
            msg, u->cfg.lock_timeout);
    snprintf(err->hint, sizeof err->hint,
             "Another uprun (or the application) is writing; wait, or raise --lock-timeout.");
    return UPRUN_LOCKED;
}

/* --- running a step ------------------------------------------------------ */

enum step_state {
    STEP_PENDING,
    STEP_BEGUN,
    STEP_RUNNING,
    STEP_RECORDED,
    STEP_APPLIED,
    STEP_SKIPPED,
    STEP_FAILED,
    STEP_ROLLED_BACK,
};

struct failure {
    size_t stmt, nstmts, line;
    char *sql;
    long position;
    char origin[256];
    struct rt_error db;
};

/* Runs the statements of a step's file (text, of size bytes) one by one; on failure fills f. */
static int
run_statements(uprun *u, const char *text, size_t size, struct failure *f, struct rt_error *err)
{
    struct sql_stmt *st = NULL;
    size_t n = sql_split(text, size, &st), i;
    int rc = 0;

    f->nstmts = n;
    for (i = 0; i < n; i++) {
        char *one = strndup(text + st[i].start, st[i].end - st[i].start);
        if (!one) {
            rc = rt_fail(err, "out of memory");
            break;
        }
        if (db_exec(u->db, one, &f->db)) {
            f->stmt = i + 1;
            f->sql = one;
            f->position = f->db.position;
            f->line = sql_line_of(text, st[i].start);
            if (f->position > 0) {
                /* the database's character position, as a line of the file */
                long c;
                size_t b = 0;
                for (c = 1; c < f->position && one[b]; b++)
                    if (((unsigned char)one[b] & 0xC0) != 0x80)
                        c++;
                f->line = sql_line_of(text, st[i].start + b);
            }
            sql_origin_before(text, st[i].start, f->origin, sizeof f->origin);
            *err = f->db;
            rc = -1;
            break;
        }
        free(one);
        fault_point(u);
    }
    free(st);
    return rc;
}

static void
step_event(uprun *u, struct uprun_event *ev, enum uprun_event_kind kind, const struct path_step *ps,
           size_t pos, size_t count)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    ev->step = ps->step->index;
    ev->position = pos;
    ev->count = count;
    ev->from = ps->from;
    ev->to = ps->to;
    ev->direction = ps->down ? "down" : "up";
    (void)u;
}

static int
record(uprun *u, const struct path_step *ps, const char *digest, const char *started,
       const struct timespec *t0, const char *status, const char *message, struct rt_error *err)
{
    struct history_entry h;
    char finished[32];

    memset(&h, 0, sizeof h);
    history_now(finished);
    h.sql_sha256 = digest;
    h.plan = u->bundle->manifest.plan_name;
    h.step = (int)ps->step->index;
    h.from_version = ps->from;
    h.to_version = ps->to;
    h.direction = ps->down ? "down" : "up";
    h.manifest_sha256 = u->bundle->manifest_sha256;
    h.file_sha256 = ps->entry->sha256;
    h.started_at = started;
    h.finished_at = finished;
    h.duration_ms = (long long)(seconds_since(t0) * 1000);
    h.applied_by = u->whoami;
    h.status = status;
    h.message = message;
    return history_insert(u->db, &h, err);
}

/*
 * Whether another runner took the database to where this step, or a later
 * step of the same path, ends: then this step is skipped, and so are the
 * next ones until the path reaches the database's version.
 */
static bool
moved_along(const struct path_step *path, size_t idx, size_t count, const char *now)
{
    for (size_t k = idx; k < count; k++)
        if (same_version(now, path[k].to))
            return true;
    return false;
}

/*
 * One step, as a state machine (see the file comment). In atomic mode the
 * caller owns the transaction: no BEGIN, COMMIT or pragma here, and the
 * history was checked once at the start.
 */
static int
run_step(uprun *u, const struct path_step *path, size_t idx, size_t count, bool atomic,
         struct rt_error *err)
{
    const struct path_step *ps = &path[idx];
    size_t pos = idx + 1;
    enum step_state state = STEP_PENDING;
    bool sqlite = db_kind(u->db) == DB_SQLITE,
         fk_off = sqlite && ps->ds->foreign_keys_off && !atomic;
    struct failure f;
    struct uprun_event ev;
    struct rt_error ignored;
    struct timespec t0;
    char started[32], *now = NULL, digest[65];
    unsigned char *sql = NULL;
    size_t sql_size = 0;
    bool any;
    int code = UPRUN_OK;

    memset(&f, 0, sizeof f);
    /* the step's SQL, read again and checked against the signed manifest: what runs is what was signed */
    if (bundle_read(u->bundle, ps->entry->path, &sql, &sql_size, err))
        return UPRUN_BUNDLE_REFUSED;
    sql_digest(sql, sql_size, digest);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    u->step_started = t0;
    history_now(started);
    step_event(u, &ev, UPRUN_EV_STEP_BEGIN, ps, pos, count);
    ev.message = ps->down ? "rolling back a step" : "applying a step";
    emit(u, &ev);
    step_event(u, &u->progress, UPRUN_EV_PROGRESS, ps, pos, count);
    db_set_progress(u->db, on_progress, u);
    for (;;) {
        switch (state) {
        case STEP_PENDING:
            if (atomic) {
                state = STEP_RUNNING;
                break;
            }
            if (fk_off && exec_counted(u, "PRAGMA foreign_keys = OFF", err)) {
                code = UPRUN_USAGE;
                goto out;
            }
            if (exec_counted(u, sqlite ? "BEGIN IMMEDIATE" : "BEGIN", err)) {
                code = db_error_is_busy(err) ? lock_failed(u, err) : UPRUN_USAGE;
                if (fk_off)
                    db_exec(u->db, "PRAGMA foreign_keys = ON", &ignored);
                goto out;
            }
            state = STEP_BEGUN;
            break;
        case STEP_BEGUN:
            /* inside the transaction: is the database still where this step starts? */
            free(now);
            now = NULL;
            if (history_current(u->db, &now, &any, err)) {
                state = STEP_FAILED;
                break;
            }
            if (same_version(now, ps->from)) {
                state = STEP_RUNNING;
            } else if (moved_along(path, idx, count, now)) {
                state = STEP_SKIPPED;
            } else {
                rt_fail(err,
                        "while this run waited, the database moved to version %s; step %u "
                        "(%s -> %s) no longer applies",
                        vname(now), ps->step->index, vname(ps->from), vname(ps->to));
                snprintf(err->hint, sizeof err->hint, "Run uprun status, then start again.");
                db_exec(u->db, "ROLLBACK", &ignored);
                if (fk_off)
                    db_exec(u->db, "PRAGMA foreign_keys = ON", &ignored);
                code = UPRUN_DB_REFUSED;
                goto out;
            }
            break;
        case STEP_RUNNING:
            if (run_statements(u, (const char *)sql, sql_size, &f, err)) {
                state = STEP_FAILED;
                break;
            }
            if (record(u, ps, digest, started, &t0, ps->down ? "reverted" : "applied", NULL, err)) {
                state = STEP_FAILED;
                break;
            }
            fault_point(u);
            state = STEP_RECORDED;
            break;
        case STEP_RECORDED:
            if (!atomic && exec_counted(u, "COMMIT", err)) {
                state = STEP_FAILED;
                break;
            }
            state = STEP_APPLIED;
            break;
        case STEP_APPLIED:
            if (fk_off && exec_counted(u, "PRAGMA foreign_keys = ON", err)) {
                code = UPRUN_USAGE;
                goto out;
            }
            step_event(u, &ev, UPRUN_EV_STEP_DONE, ps, pos, count);
            ev.elapsed = seconds_since(&t0);
            ev.atomic = atomic;
            ev.message = atomic     ? "step done (it commits with the whole path)"
                         : ps->down ? "step rolled back"
                                    : "step applied";
            emit(u, &ev);
            goto out;
        case STEP_SKIPPED:
            db_exec(u->db, "ROLLBACK", &ignored);
            if (fk_off)
                db_exec(u->db, "PRAGMA foreign_keys = ON", &ignored);
            step_event(u, &ev, UPRUN_EV_STEP_SKIPPED, ps, pos, count);
            ev.message = "another runner applied this step meanwhile";
            emit(u, &ev);
            goto out;
        case STEP_FAILED:
            if (!atomic) {
                db_exec(u->db, "ROLLBACK", &ignored);
                if (fk_off)
                    db_exec(u->db, "PRAGMA foreign_keys = ON", &ignored);
                /* the failure is recorded in a transaction of its own, if it can be */
                if (db_exec(u->db, "BEGIN", &ignored) == 0) {
                    if (record(u, ps, digest, started, &t0, "failed", err->message, &ignored) == 0)
                        db_exec(u->db, "COMMIT", &ignored);
                    else
                        db_exec(u->db, "ROLLBACK", &ignored);
                }
            }
            state = STEP_ROLLED_BACK;
            break;
        case STEP_ROLLED_BACK:
            step_event(u, &ev, UPRUN_EV_STEP_FAILED, ps, pos, count);
            ev.message = err->message;
            ev.atomic = atomic;
            ev.at = atomic ? path[0].from : ps->from;
            ev.file = ps->entry->path;
            ev.line = f.line;
            ev.statement = f.stmt;
            ev.statements = f.nstmts;
            ev.sql = f.sql;
            ev.sql_position = f.position;
            ev.origin = f.origin[0] ? f.origin : NULL;
            ev.db_error = f.sql ? &f.db : err;
            ev.elapsed = seconds_since(&t0);
            emit(u, &ev);
            code = db_error_is_busy(err) ? lock_failed(u, err) : UPRUN_STEP_FAILED;
            goto out;
        }
    }
out:
    db_set_progress(u->db, NULL, NULL);
    free(f.sql);
    free(now);
    free(sql);
    return code;
}

/* --- commands ------------------------------------------------------------ */

static void
path_notes(uprun *u, const struct path_step *path, size_t n, bool findings)
{
    struct uprun_event ev;
    size_t i, k;

    for (i = 0; i < n; i++) {
        const struct path_step *ps = &path[i];
        if (ps->down)
            continue;
        for (k = 0; k < ps->step->nnotices; k++) {
            step_event(u, &ev, UPRUN_EV_NOTICE, ps, i + 1, n);
            ev.level = ps->step->notices[k].level;
            ev.text = ev.message = ps->step->notices[k].text;
            emit(u, &ev);
        }
        for (k = 0; findings && k < ps->step->nfindings; k++) {
            const struct mf_finding *fd = &ps->step->findings[k];
            if (fd->dialect && strcmp(fd->dialect, u->dialect) != 0)
                continue;
            step_event(u, &ev, UPRUN_EV_FINDING, ps, i + 1, n);
            ev.id = fd->lint;
            ev.text = ev.message = fd->message;
            emit(u, &ev);
        }
    }
}

/* Resolves a target version name: NULL -> last; "empty"/"0" not allowed here. */
static int
resolve_target(uprun *u, const char *target, const char **out, struct rt_error *err)
{
    const struct manifest *m = &u->bundle->manifest;

    if (!target) {
        *out = m->versions[m->nversions - 1].name;
        return UPRUN_OK;
    }
    if (strcmp(target, "empty") == 0) {
        *out = NULL;
        return UPRUN_OK;
    }
    if (!manifest_version(m, target)) {
        rt_fail(err, "the bundle has no version \"%s\" (it has %s to %s)", target,
                m->versions[0].name, m->versions[m->nversions - 1].name);
        return UPRUN_PATH_REFUSED;
    }
    *out = manifest_version(m, target)->name;
    return UPRUN_OK;
}

int
uprun_status(uprun *u, struct rt_error *err)
{
    const struct manifest *m = &u->bundle->manifest;
    struct history_row *rows = NULL;
    char *current = NULL;
    bool has_history, exists = false;
    size_t n = 0, i;
    int rc;

    rt_error_clear(err);
    if ((rc = connect_db(u, CONNECT_READ, err)))
        return rc;
    info(u, "plan: %s%s%s%s", m->plan_name, m->plan_title ? " (" : "",
         m->plan_title ? m->plan_title : "", m->plan_title ? ")" : "");
    info(u, "database: %s (%s)", u->cfg.db_url, u->dialect);
    rc = read_state(u, &current, &has_history, err);
    if (rc) {
        free(current);
        return rc;
    }
    info(u, "current version: %s%s", current ? current : "none",
         has_history ? "" : " (no history: an empty database, or one to baseline)");
    {
        /* the versions the current one leads to: by the versions' own steps or by a merge
         * (parents and merged versions come first) */
        char line[1024] = "";
        const struct mf_version *cv = manifest_version(m, current);
        bool *after = calloc(m->nversions + 1, sizeof *after);
        size_t len = 0, shown = 0, more = 0;
        for (i = 0; after && i < m->nversions; i++) {
            size_t p = m->versions[i].parent, g = m->versions[i].merged;
            size_t c = cv ? (size_t)(cv - m->versions) : SIZE_MAX;
            const char *v = m->versions[i].name;
            after[i] = cv ? (p != SIZE_MAX && (p == c || after[p])) ||
                                (g != SIZE_MAX && (g == c || after[g]))
                          : true;
            if (!after[i])
                continue;
            if (len + strlen(v) + 3 < sizeof line - 32) {
                len +=
                    (size_t)snprintf(line + len, sizeof line - len, "%s%s", shown ? ", " : "", v);
                shown++;
            } else {
                more++;
            }
        }
        if (more)
            snprintf(line + len, sizeof line - len, " and %zu more", more);
        free(after);
        info(u, "upgrade targets: %s",
             line[0] ? line
             : same_version(current, m->versions[m->nversions - 1].name)
                 ? "none (at the last version)"
                 : "none");
        way_to_last(u, current);
    }
    if (history_exists(u->db, &exists, err)) {
        free(current);
        return UPRUN_USAGE;
    }
    if (exists && history_read(u->db, &rows, &n, err)) {
        free(current);
        return UPRUN_USAGE;
    }
    if (n)
        info(u, "history (%zu entr%s, oldest first):", n, n == 1 ? "y" : "ies");
    else
        info(u, "history: none yet");
    for (i = 0; i < n; i++) {
        struct uprun_event ev;
        char msg[512];
        memset(&ev, 0, sizeof ev);
        ev.kind = UPRUN_EV_HISTORY;
        ev.step = (unsigned)rows[i].step;
        ev.from = rows[i].from_version;
        ev.to = rows[i].to_version;
        ev.direction = rows[i].direction;
        ev.started_at = rows[i].started_at;
        ev.status = rows[i].status;
        ev.applied_by = rows[i].applied_by;
        ev.duration_ms = rows[i].duration_ms;
        ev.text = rows[i].message;
        snprintf(msg, sizeof msg, "%s  step %d  %-4s %s -> %s  %s  %lld ms  %s%s%s",
                 rows[i].started_at, rows[i].step, rows[i].direction, vname(rows[i].from_version),
                 vname(rows[i].to_version), rows[i].status, rows[i].duration_ms, rows[i].applied_by,
                 rows[i].message ? "  " : "", rows[i].message ? rows[i].message : "");
        ev.message = msg;
        emit(u, &ev);
    }
    info(u, "no step is half done: every step runs in one transaction with its history row");
    history_rows_free(rows, n);
    free(current);
    return UPRUN_OK;
}

int
uprun_plan(uprun *u, const char *target, bool with_sql, struct rt_error *err)
{
    struct path_step *path = NULL;
    char *current = NULL;
    const char *to;
    bool has_history;
    size_t n, i, k;
    int rc;

    rt_error_clear(err);
    if ((rc = connect_db(u, CONNECT_READ, err)) ||
        (rc = read_state(u, &current, &has_history, err)) ||
        (rc = resolve_target(u, target, &to, err)))
        goto done;
    if ((rc = path_for(u, current, to, PATH_EITHER, &path, &n, err)))
        goto done;
    if (n == 0) {
        info(u, "the database is at %s already: nothing to do", vname(current));
        goto done;
    }
    info(u, "%s from %s to %s: %zu step%s (dry run: nothing is changed)",
         path[0].down ? "rollback" : "upgrade", vname(current), vname(to), n, n == 1 ? "" : "s");
    for (i = 0; i < n; i++) {
        struct uprun_event ev;
        char msg[256];
        step_event(u, &ev, UPRUN_EV_INFO, &path[i], i + 1, n);
        snprintf(msg, sizeof msg, "step %zu of %zu: %s -> %s (%s)%s%s%s", i + 1, n,
                 vname(path[i].from), vname(path[i].to), path[i].entry ? path[i].entry->path : "",
                 path[i].down && !path[i].entry ? "irreversible: no down-step" : "",
                 path[i].down && path[i].ds->down_lossy ? "  lossy: dropped data is not restored"
                                                        : "",
                 path[i].ds->foreign_keys_off ? "  rebuilds tables (foreign keys off)" : "");
        ev.message = msg;
        emit(u, &ev);
    }
    path_notes(u, path, n, true);
    for (i = 0; i < n; i++) {
        for (k = 0; !path[i].down && k < path[i].step->nbreaking; k++) {
            struct uprun_event ev;
            step_event(u, &ev, UPRUN_EV_BREAKING, &path[i], i + 1, n);
            ev.id = path[i].step->breaking[k].id;
            ev.text = ev.message = path[i].step->breaking[k].text;
            emit(u, &ev);
        }
        if (with_sql && path[i].entry) {
            struct uprun_event ev;
            unsigned char *sql;
            size_t len;
            if (bundle_read(u->bundle, path[i].entry->path, &sql, &len, err)) {
                rc = UPRUN_BUNDLE_REFUSED;
                goto done;
            }
            step_event(u, &ev, UPRUN_EV_SQL, &path[i], i + 1, n);
            ev.file = path[i].entry->path;
            ev.text = ev.message = (const char *)sql;
            emit(u, &ev);
            free(sql);
        }
    }
done:
    free(path);
    free(current);
    return rc;
}

/* Whether breaking change id is acknowledged (asking when the caller can). */
static bool
acknowledged(const struct uprun_apply_opts *o, const char *id, const char *text)
{
    size_t i;

    if (o->ack_all)
        return true;
    for (i = 0; i < o->nacks; i++)
        if (strcmp(o->acks[i], id) == 0)
            return true;
    return o->confirm && o->confirm(o->confirm_arg, id, text);
}

/* The common body of apply and rollback: lock, check, run the path. */
static int
run_path(uprun *u, struct path_step *path, size_t n, bool atomic, struct rt_error *err)
{
    struct rt_error ignored;
    bool fk_off = false;
    size_t i;
    int rc;

    if (!atomic) {
        for (i = 0; i < n; i++)
            if ((rc = run_step(u, path, i, n, false, err)))
                return rc;
        return UPRUN_OK;
    }
    /* --atomic: one transaction for the whole path */
    for (i = 0; i < n; i++)
        fk_off = fk_off || (db_kind(u->db) == DB_SQLITE && path[i].ds->foreign_keys_off);
    if (fk_off && exec_counted(u, "PRAGMA foreign_keys = OFF", err))
        return UPRUN_USAGE;
    if (exec_counted(u, db_kind(u->db) == DB_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN", err)) {
        rc = db_error_is_busy(err) ? lock_failed(u, err) : UPRUN_USAGE;
        goto undo_pragma;
    }
    {
        char *now = NULL;
        bool any;
        if (history_current(u->db, &now, &any, err) || !same_version(now, path[0].from)) {
            if (!err->message[0])
                rt_fail(err, "while this run waited, the database moved to version %s", vname(now));
            free(now);
            db_exec(u->db, "ROLLBACK", &ignored);
            rc = UPRUN_DB_REFUSED;
            goto undo_pragma;
        }
        free(now);
    }
    for (i = 0; i < n; i++) {
        if ((rc = run_step(u, path, i, n, true, err))) {
            db_exec(u->db, "ROLLBACK", &ignored);
            goto undo_pragma;
        }
    }
    if (exec_counted(u, "COMMIT", err)) {
        db_exec(u->db, "ROLLBACK", &ignored);
        rc = UPRUN_STEP_FAILED;
        goto undo_pragma;
    }
    rc = UPRUN_OK;
undo_pragma:
    if (fk_off)
        db_exec(u->db, "PRAGMA foreign_keys = ON", &ignored);
    return rc;
}

int
uprun_apply(uprun *u, const struct uprun_apply_opts *o, struct rt_error *err)
{
    struct path_step *path = NULL;
    char *current = NULL;
    const char *to;
    bool has_history, missing = false;
    size_t n = 0, i, k;
    int rc;

    rt_error_clear(err);
    if ((rc = connect_db(u, CONNECT_CREATE, err)) ||
        (rc = resolve_target(u, o->target, &to, err)) || (rc = lock_pg(u, err)) ||
        (rc = read_state(u, &current, &has_history, err)))
        goto done;
    if ((rc = path_for(u, current, to, PATH_UP, &path, &n, err)))
        goto done;
    if (n == 0) {
        info(u, "the database is at %s already: nothing to do", vname(current));
        goto done;
    }
    info(u, "upgrading %s from %s to %s: %zu step%s", u->bundle->manifest.plan_name, vname(current),
         vname(to), n, n == 1 ? "" : "s");
    path_notes(u, path, n, false);
    for (i = 0; i < n; i++) {
        for (k = 0; k < path[i].step->nbreaking; k++) {
            const struct mf_breaking *b = &path[i].step->breaking[k];
            struct uprun_event ev;
            step_event(u, &ev, UPRUN_EV_BREAKING, &path[i], i + 1, n);
            ev.id = b->id;
            ev.text = b->text;
            ev.acknowledged = acknowledged(o, b->id, b->text);
            ev.message = b->text;
            missing = missing || !ev.acknowledged;
            emit(u, &ev);
        }
    }
    if (missing) {
        rt_fail(err, "a breaking change on the path is not acknowledged");
        snprintf(err->hint, sizeof err->hint,
                 "Read it, then acknowledge it with --ack ID (or --ack-all); nothing was changed.");
        rc = UPRUN_ACK_MISSING;
        goto done;
    }
    for (i = 0; i < n; i++) {
        if (!path[i].ds->transactional) {
            rt_fail(err, "step %u is not transactional, which this uprun cannot run safely",
                    path[i].step->index);
            rc = UPRUN_USAGE;
            goto done;
        }
    }
    if (o->backup) {
        if (db_backup(u->db, o->backup, err)) {
            rc = UPRUN_USAGE;
            goto done;
        }
        info(u, "backup written to %s", o->backup);
    }
    if ((rc = history_ensure(u->db, err)) != 0) {
        rc = db_error_is_busy(err) ? lock_failed(u, err) : UPRUN_USAGE;
        goto done;
    }
    rc = run_path(u, path, n, o->atomic, err);
    if (rc == UPRUN_OK)
        info(u, "done: the database is at version %s", vname(to));
done:
    free(path);
    free(current);
    if (rc != UPRUN_OK)
        forget_created(u);
    return rc;
}

int
uprun_rollback(uprun *u, const char *target, bool allow_data_loss, struct rt_error *err)
{
    struct path_step *path = NULL;
    char *current = NULL;
    const char *to;
    bool has_history;
    size_t n = 0, i;
    int rc;

    rt_error_clear(err);
    if ((rc = connect_db(u, CONNECT_WRITE, err)) ||
        (rc = resolve_target(u, target ? target : "empty", &to, err)) || (rc = lock_pg(u, err)) ||
        (rc = read_state(u, &current, &has_history, err)))
        goto done;
    if ((rc = path_for(u, current, to, PATH_DOWN, &path, &n, err)))
        goto done;
    if (n == 0) {
        info(u, "the database is at %s already: nothing to do", vname(current));
        goto done;
    }
    for (i = 0; i < n; i++) {
        if (!path[i].entry) {
            rt_fail(err, "step %u (%s -> %s) cannot be rolled back: it is irreversible%s%s%s",
                    path[i].step->index, vname(path[i].to), vname(path[i].from),
                    path[i].ds->irreversible[0] ? " (" : "", path[i].ds->irreversible,
                    path[i].ds->irreversible[0] ? ")" : "");
            snprintf(err->hint, sizeof err->hint,
                     "Roll back to %s at the furthest, or restore a "
                     "backup.",
                     path[i].from);
            rc = UPRUN_PATH_REFUSED;
            goto done;
        }
        if (path[i].ds->down_lossy && !allow_data_loss) {
            rt_fail(err,
                    "rolling back step %u (%s -> %s) restores dropped tables or columns "
                    "without their data",
                    path[i].step->index, vname(path[i].to), vname(path[i].from));
            snprintf(err->hint, sizeof err->hint,
                     "If that is acceptable, add --allow-data-loss; nothing was changed.");
            rc = UPRUN_PATH_REFUSED;
            goto done;
        }
    }
    info(u, "rolling %s back from %s to %s: %zu step%s", u->bundle->manifest.plan_name,
         vname(current), vname(to), n, n == 1 ? "" : "s");
    rc = run_path(u, path, n, false, err);
    if (rc == UPRUN_OK)
        info(u, "done: the database is at version %s", vname(to));
done:
    free(path);
    free(current);
    if (rc != UPRUN_OK)
        forget_created(u);
    return rc;
}

static void
drift_report(void *arg, const char *text)
{
    uprun *u = arg;
    struct uprun_event ev;

    memset(&ev, 0, sizeof ev);
    ev.kind = UPRUN_EV_DRIFT;
    ev.text = ev.message = text;
    emit(u, &ev);
}

/*
 * The schema the plan expects at version v (NULL: an empty database), in
 * canonical form: the deltas of the steps from the first version to v
 * applied in order (docs/bundle-format.md), each file read again and
 * checked against the manifest. *out is a new reference.
 */
static int
expected_schema(uprun *u, const char *v, json_t **out, struct rt_error *err)
{
    const struct manifest *m = &u->bundle->manifest;
    const char **chain = NULL;
    json_t *tables = json_object(), *schema = NULL, *list;
    size_t depth = 0, i;
    const char *w;
    int rc = UPRUN_OK;

    *out = NULL;
    for (w = v; w; w = manifest_version(m, w)->from)
        depth++;
    chain = calloc(depth + 1, sizeof *chain);
    if (!chain || !tables) {
        rc = UPRUN_USAGE;
        rt_fail(err, "out of memory");
        goto done;
    }
    i = depth;
    for (w = v; w; w = manifest_version(m, w)->from)
        chain[--i] = w;
    for (i = 0; i < depth && rc == UPRUN_OK; i++) {
        const struct mf_dialect_step *d =
            manifest_step_dialect(manifest_step_to(m, chain[i]), u->dialect);
        unsigned char *data;
        size_t len, k;
        json_error_t jerr;
        json_t *delta, *changed, *removed, *t;
        if (bundle_read(u->bundle, d->schema.path, &data, &len, err)) {
            rc = UPRUN_BUNDLE_REFUSED;
            break;
        }
        delta = json_loadb((const char *)data, len, 0, &jerr);
        free(data);
        changed = json_object_get(delta, "changed");
        removed = json_object_get(delta, "removed");
        if (!json_is_array(changed) || !json_is_array(removed)) {
            rt_fail(err, "the bundle's schema file %s is not a schema delta (%s)", d->schema.path,
                    delta ? "no \"changed\" and \"removed\" arrays" : jerr.text);
            json_decref(delta);
            rc = UPRUN_BUNDLE_REFUSED;
            break;
        }
        json_array_foreach(removed, k, t) if (json_is_string(t))
            json_object_del(tables, json_string_value(t));
        json_array_foreach(changed, k, t) if (json_is_string(json_object_get(t, "name")))
            json_object_set(tables, json_string_value(json_object_get(t, "name")), t);
        json_decref(delta);
    }
    if (rc == UPRUN_OK) {
        const char *name;
        json_t *t;
        schema = json_object();
        list = json_array();
        json_object_foreach(tables, name, t) json_array_append(list, t);
        json_object_set_new(schema, "tables", list);
        canon_sort(schema);
        *out = schema;
    }
done:
    json_decref(tables);
    free(chain);
    return rc;
}

/* Compares the live schema with the expected one at version v (NULL: empty). */
static int
compare_schema(uprun *u, const char *v, size_t *ndiff, struct rt_error *err)
{
    json_t *expected, *live = NULL;
    int rc;

    if ((rc = expected_schema(u, v, &expected, err)))
        return rc;
    if (introspect(u->db, HISTORY_TABLE, &live, err)) {
        json_decref(expected);
        return UPRUN_USAGE;
    }
    *ndiff = canon_diff(expected, live, drift_report, u);
    json_decref(expected);
    json_decref(live);
    return UPRUN_OK;
}

int
uprun_verify(uprun *u, struct rt_error *err)
{
    char *current = NULL;
    bool has_history;
    size_t ndiff = 0;
    int rc;

    rt_error_clear(err);
    if ((rc = connect_db(u, CONNECT_READ, err)) ||
        (rc = read_state(u, &current, &has_history, err)) ||
        (rc = compare_schema(u, current, &ndiff, err)))
        goto done;
    if (ndiff) {
        rt_fail(err, "the live schema differs from version %s of the plan in %zu place%s",
                vname(current), ndiff, ndiff == 1 ? "" : "s");
        snprintf(err->hint, sizeof err->hint,
                 "Someone changed the schema by hand, or a sql block changed it: reconcile before "
                 "the next upgrade.");
        rc = UPRUN_DRIFT;
    } else {
        info(u, "the live schema matches version %s of the plan", vname(current));
    }
done:
    free(current);
    return rc;
}

int
uprun_baseline(uprun *u, const char *version, bool force, struct rt_error *err)
{
    const struct mf_step *s;
    struct path_step ps;
    char *current = NULL;
    const char *v;
    bool has_history;
    size_t ndiff = 0;
    int rc;

    rt_error_clear(err);
    if ((rc = connect_db(u, CONNECT_WRITE, err)) || (rc = resolve_target(u, version, &v, err)) ||
        (rc = lock_pg(u, err)) || (rc = read_state(u, &current, &has_history, err)))
        goto done;
    if (has_history) {
        rt_fail(err,
                "the database already has a history (it is at %s): a baseline is for a "
                "database upgrade-plan has never run on",
                vname(current));
        rc = UPRUN_DB_REFUSED;
        goto done;
    }
    if (!v) {
        rt_fail(err, "a baseline needs a version");
        rc = UPRUN_USAGE;
        goto done;
    }
    if ((rc = compare_schema(u, v, &ndiff, err)))
        goto done;
    if (ndiff && !force) {
        rt_fail(err, "the live schema differs from version %s of the plan in %zu place%s (above)",
                v, ndiff, ndiff == 1 ? "" : "s");
        snprintf(err->hint, sizeof err->hint,
                 "Baseline the version the database really is at, or reconcile it; --force records "
                 "it anyway.");
        rc = UPRUN_DRIFT;
        goto done;
    }
    s = manifest_step_to(&u->bundle->manifest, v);
    memset(&ps, 0, sizeof ps);
    ps.step = s;
    ps.ds = manifest_step_dialect(s, u->dialect);
    ps.to = v;
    ps.entry = &ps.ds->schema;
    if (history_ensure(u->db, err) || db_exec(u->db, "BEGIN", err)) {
        rc = UPRUN_USAGE;
        goto done;
    }
    {
        struct history_entry h;
        char now[32];
        memset(&h, 0, sizeof h);
        history_now(now);
        h.plan = u->bundle->manifest.plan_name;
        h.step = (int)s->index;
        h.to_version = v;
        h.direction = "baseline";
        h.manifest_sha256 = u->bundle->manifest_sha256;
        h.file_sha256 = ps.ds->schema.sha256;
        h.started_at = h.finished_at = now;
        h.applied_by = u->whoami;
        h.status = "baselined";
        h.message = ndiff ? "baselined with --force despite differences" : NULL;
        if (history_insert(u->db, &h, err) || db_exec(u->db, "COMMIT", err)) {
            struct rt_error ignored;
            db_exec(u->db, "ROLLBACK", &ignored);
            rc = UPRUN_USAGE;
            goto done;
        }
    }
    info(u, "recorded: the database is at version %s of plan \"%s\"", v,
         u->bundle->manifest.plan_name);
done:
    free(current);
    return rc;
}
