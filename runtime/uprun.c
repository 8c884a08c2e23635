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
 * which the server releases if the runner dies, waited for up to
 * --lock-timeout; on SQLite the write lock that BEGIN IMMEDIATE takes for
 * each step. Either way a second runner waits, then gives up with
 * UPRUN_LOCKED, and the in-transaction re-read of the history makes sure a
 * step is never applied twice.
 *
 * Bounded waits: every statement waits at most --db-lock-timeout for the
 * database's own locks (PostgreSQL's lock_timeout, set for the session and
 * again with SET LOCAL in each step's transaction; SQLite's busy handler)
 * and runs at most --statement-timeout. A step whose lock wait timed out is
 * rolled back and tried again, --retries times, after 0.5 s, 1 s, 2 s ...
 * (at most 10 s); then the run stops with UPRUN_LOCKED, having changed
 * nothing and written no history row for it.
 *
 * Before the first step (pre-flight), apply, rollback and plan compare the
 * live schema with the one the plan expects at the recorded version, as
 * verify does, and refuse on drift (UPRUN_DRIFT) unless allow_drift. On
 * SQLite a step that rebuilds tables is guarded inside its transaction
 * (rebuild.h): what the plan does not know is carried over the rebuild or,
 * when it cannot be, the step is refused.
 *
 * Interruption: uprun_interrupt() (uprun's SIGINT and SIGTERM handler)
 * sets a flag and cancels the running statement through the handle
 * published in live_db; the step then fails, is rolled back and recorded
 * as failed, and the command returns UPRUN_INTERRUPTED.
 *
 * Fault injection (builds with UPG_FAULT_INJECTION, never release builds):
 * UPG_FAULT_EXIT_AFTER=N makes the runner _exit() right after the Nth
 * statement it sends (BEGIN, COMMIT and history writes included), the way
 * a crash would; UPG_FAULT_COUNT=1 prints how many statements a run sent.
 */
#include "runtime/uprun.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
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
#include "runtime/names.h"
#include "runtime/rebuild.h"
#include "runtime/secret.h"
#include "runtime/sqlsplit.h"

/* uprun_interrupt() reads live_db from a signal handler: the pointer must be lock-free. */
_Static_assert(ATOMIC_POINTER_LOCK_FREE == 2, "uprun_interrupt needs lock-free atomic pointers");

struct uprun {
    struct uprun_config cfg;
    struct bundle *bundle;
    struct db *db;
    /*
     * The handle uprun_interrupt() may cancel: db while it is open, NULL
     * before it is closed. A signal handler runs on the thread it
     * interrupts, so it sees either a valid handle or NULL.
     */
    _Atomic(struct db *) live_db;
    volatile sig_atomic_t interrupted; /* uprun_interrupt() was called */
    const char *dialect;
    size_t legacy_accepted; /* the last comparison's differences that are legacy forms */
    bool locked;
    bool missing;   /* status, plan: the SQLite file does not exist (an empty database stands in) */
    char *pending;  /* apply: the file of a database that does not exist yet; an empty stand-in is
                      open until the first write, when materialize() creates the file */
    bool restarted; /* apply started again on a file another runner created meanwhile */
    char whoami[320];
    unsigned long statements;  /* statements sent by apply or rollback */
    unsigned long fault_after; /* fault injection: exit after this many (0: never) */
    bool fault_count;
    /* the running step, for progress events */
    struct timespec step_started;
    double progress_shown; /* the elapsed time of the last progress event of the step; 0: none */
    bool expired;          /* the bundle is past its expiry and --allow-expired runs it */
    struct uprun_event progress;
    char progress_msg[256];
    bool path_may_retry; /* --atomic: a lock timeout of a step is retried for the whole path */
};

static int lock_ms(const uprun *u);
static int statement_ms(const uprun *u);

/* A step on a path, in the direction of travel. */
struct path_step {
    const struct mf_step *step;
    const struct mf_dialect_step *ds;
    bool down;
    const char *from;            /* the version before (NULL: empty) */
    const char *to;              /* the version after (NULL: empty) */
    const struct mf_file *entry; /* its SQL file (NULL: an irreversible step, going down) */
    const struct mf_unit *units; /* the statements of entry that are units of their own */
    size_t nunits;               /* 0: the step runs in one transaction */
    unsigned nstatements;        /* entry's, by the compiler's count */
    /* a step with two lowerings (an online change): "online" or "offline", which entry, units
     * and nstatements are of (choose_lowerings()), and why; NULL: one lowering */
    const char *lowering;
    char reason[256];
    /* the SQL of entry while the step runs (run_step() reads it, checked, and frees it) */
    unsigned char *sql;
    size_t sql_size;
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

/* "at version 1.0", or "empty": where the database is, for a sentence. */
static const char *
where(char *buf, size_t size, const char *v)
{
    if (!v)
        return "empty";
    snprintf(buf, size, "at version %s", v);
    return buf;
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

    u->progress.kind = UPRUN_EV_PROGRESS;
    u->progress.elapsed = seconds_since(&u->step_started);
    if (u->progress.elapsed < 1)
        return; /* a step that runs for less than a second is not "long" */
    if (u->progress_shown > 0 && u->progress.elapsed - u->progress_shown < 1)
        return; /* a line a second: the drivers report more often, or at any time */
    u->progress_shown = u->progress.elapsed;
    snprintf(u->progress_msg, sizeof u->progress_msg,
             "step %u (%zu of %zu, %s -> %s) running for %.0f s", u->progress.step,
             u->progress.position, u->progress.count, vname(u->progress.from),
             vname(u->progress.to), u->progress.elapsed);
    u->progress.message = u->progress_msg;
    emit(u, &u->progress);
}

/* --- interruption ---------------------------------------------------------- */

void
uprun_interrupt(uprun *u)
{
    struct db *db;

    if (!u)
        return;
    u->interrupted = 1;
    db = atomic_load(&u->live_db);
    if (db)
        db_interrupt(db);
}

/* Closes the database handle, unpublishing it first (see live_db). */
static void
close_db(uprun *u)
{
    atomic_store(&u->live_db, NULL);
    db_close(u->db);
    u->db = NULL;
}

/* Fills err for a command that stopped because of uprun_interrupt(), unless it says more already. */
static int
interrupted(uprun *u, struct rt_error *err)
{
    char msg[RT_ERROR_MSG_MAX], hint[RT_ERROR_MSG_MAX];

    (void)u;
    if (strncmp(err->message, "interrupted", 11) != 0) {
        snprintf(msg, sizeof msg, "%s", err->message);
        snprintf(hint, sizeof hint, "%s", err->hint);
        rt_fail(err, "interrupted%s%s", msg[0] ? ": " : "", msg);
        snprintf(err->hint, sizeof err->hint, "%s", hint);
    }
    if (!err->hint[0])
        snprintf(err->hint, sizeof err->hint, "Run the same command again when you are ready.");
    return UPRUN_INTERRUPTED;
}

/*
 * A command's outcome: UPRUN_INTERRUPTED for any failure once u was
 * interrupted (the failure is the interruption's doing); a command that
 * finished all the same (the signal came after its last step committed)
 * keeps its success.
 */
static int lock_failed(uprun *u, const char *what, unsigned tries, struct rt_error *err);

static int
outcome(uprun *u, int rc, struct rt_error *err)
{
    if (rc != UPRUN_OK && rc != UPRUN_INTERRUPTED && u->interrupted)
        return interrupted(u, err);
    /* a lock held elsewhere, met outside a step (reading the history, creating its table, a
     * backup): the documented exit 5 with its hint, not a usage error */
    if (rc == UPRUN_USAGE && db_error_is_busy(err))
        return lock_failed(u, "uprun", 1, err);
    return rc;
}

/*
 * Sleeps for seconds, or less when interrupted (a signal cuts nanosleep
 * short, and the flag is then set). Returns false when interrupted.
 */
static bool
pause_for(uprun *u, double seconds)
{
    struct timespec t0;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!u->interrupted) {
        double left = seconds - seconds_since(&t0);
        struct timespec p;
        if (left <= 0)
            break;
        if (left > 0.1)
            left = 0.1;
        p.tv_sec = 0;
        p.tv_nsec = (long)(left * 1e9);
        nanosleep(&p, NULL);
    }
    return !u->interrupted;
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

/*
 * A bundle past the expiry its signed manifest gives is refused before any
 * database is touched, unless --allow-expired (then every history row it
 * writes says so).
 */
static int
check_expiry(uprun *u, struct rt_error *err)
{
    const struct manifest *m = &u->bundle->manifest;
    char when[96];

    if (!manifest_expired(m, (long long)time(NULL), when, sizeof when))
        return UPRUN_OK;
    if (!u->cfg.allow_expired) {
        rt_fail(err,
                "the bundle %s (sequence %llu of channel %s of plan %s): an old bundle is not "
                "run",
                when, m->sequence, m->channel, m->plan_name);
        snprintf(err->hint, sizeof err->hint,
                 "Get the current release. In an emergency without one (an air-gapped site), "
                 "--allow-expired runs it anyway, and the history records that. Nothing was "
                 "opened.");
        return UPRUN_BUNDLE_REFUSED;
    }
    u->expired = true;
    info(u, "the bundle %s; running it because of --allow-expired (recorded in the history)", when);
    return UPRUN_OK;
}

/*
 * A bundle whose sequence is lower than one the database has run, on the
 * same plan and channel, is an older release: refused, whatever its
 * signature (a replay would undo what the newer ones fixed).
 */
static int
check_sequence(uprun *u, struct rt_error *err)
{
    const struct manifest *m = &u->bundle->manifest;
    unsigned long long highest = 0;

    if (!u->db || u->missing)
        return UPRUN_OK;
    if (releases_highest(u->db, m->plan_name, m->channel, &highest, err))
        return UPRUN_USAGE;
    if (highest <= m->sequence)
        return UPRUN_OK;
    rt_fail(err,
            "this database has run sequence %llu of channel %s of plan %s; this bundle is "
            "sequence %llu, an older release",
            highest, m->channel, m->plan_name, m->sequence);
    snprintf(err->hint, sizeof err->hint,
             "Use the bundle of the newest release (uprun verify-bundle shows its sequence): a "
             "bundle never goes back, so that an old one, validly signed, cannot be replayed. "
             "To undo a release, the maintainers build one with a higher sequence. "
             "Nothing was changed.");
    return UPRUN_DB_REFUSED;
}

int
uprun_open(const struct uprun_config *cfg, uprun **out, struct rt_error *err)
{
    struct sig_keyring keys;
    uprun *u;
    int rc;

    *out = NULL;
    rt_error_clear(err);
    keys.n = 0;
    if (!cfg->pubkey_path && !cfg->npubkey_paths) {
        rt_fail(err, "the release's public key is needed to verify the bundle");
        snprintf(err->hint, sizeof err->hint, "Give it with --pubkey FILE.");
        return UPRUN_USAGE;
    }
    if (sig_init(err))
        return UPRUN_USAGE;
    if (cfg->pubkey_path && sig_keyring_add_file(&keys, cfg->pubkey_path, err))
        return UPRUN_USAGE;
    for (size_t i = 0; i < cfg->npubkey_paths; i++)
        if (sig_keyring_add_file(&keys, cfg->pubkey_paths[i], err))
            return UPRUN_USAGE;
    if (!(u = calloc(1, sizeof *u))) {
        rt_fail(err, "out of memory");
        return UPRUN_USAGE;
    }
    u->cfg = *cfg;
    rc = bundle_open(cfg->bundle_dir ? cfg->bundle_dir : ".", &keys, &u->bundle, err);
    if (rc) {
        free(u);
        return rc == -1 ? UPRUN_BUNDLE_REFUSED : UPRUN_USAGE;
    }
    history_whoami(u->whoami, sizeof u->whoami);
    if ((rc = check_expiry(u, err))) {
        bundle_free(u->bundle);
        free(u);
        return rc;
    }
#ifdef UPG_FAULT_INJECTION
    if (getenv("UPG_FAULT_EXIT_AFTER"))
        u->fault_after = strtoul(getenv("UPG_FAULT_EXIT_AFTER"), NULL, 10);
    u->fault_count = getenv("UPG_FAULT_COUNT") != NULL;
#endif
    *out = u;
    return UPRUN_OK;
}

/*
 * How a command opens the database: only apply may create a SQLite file;
 * status and plan take one that does not exist for an empty database
 * (CONNECT_PEEK), so that a fresh install can be previewed.
 */
enum connect_mode { CONNECT_PEEK, CONNECT_READ, CONNECT_WRITE, CONNECT_CREATE };

static int
lock_ms(const uprun *u)
{
    double s = u->cfg.db_lock_timeout > 0 ? u->cfg.db_lock_timeout : UPRUN_DB_LOCK_TIMEOUT_DEFAULT;
    return s * 1000 > 2e9 ? 2000000000 : s * 1000 < 1 ? 1 : (int)(s * 1000);
}

static int
statement_ms(const uprun *u)
{
    double s = u->cfg.statement_timeout;
    return s <= 0 ? 0 : s * 1000 > 2e9 ? 2000000000 : s * 1000 < 1 ? 1 : (int)(s * 1000);
}

static int
connect_db(uprun *u, enum connect_mode mode, struct rt_error *err)
{
    bool read_only = mode == CONNECT_READ || mode == CONNECT_PEEK;
    const char *url = u->cfg.db_url;
    size_t i;
    bool known = false;

    if (u->db)
        return UPRUN_OK;
    if (u->interrupted)
        return interrupted(u, err);
    if (!url) {
        rt_fail(err, "no database was named");
        snprintf(err->hint, sizeof err->hint,
                 "Give it with --db URL: sqlite:path/to.db, or a PostgreSQL connection string.");
        return UPRUN_USAGE;
    }
    {
        /* a database that is a file and does not exist yet: apply creates it (and removes it
         * again if it writes nothing); status and plan look at an empty stand-in */
        const struct db_driver *drv = db_driver_for(url);
        char fbuf[4096];
        const char *file = drv && drv->file_of ? drv->file_of(url, fbuf, sizeof fbuf) : NULL;
        if (file && access(file, F_OK) != 0) {
            /* apply makes the file only when it first writes (materialize()): a refused apply
             * leaves nothing behind, and deletes nothing another runner may hold */
            if (mode == CONNECT_CREATE && !(u->pending = strdup(file)))
                return rt_fail(err, "out of memory"), UPRUN_USAGE;
            if (mode == CONNECT_PEEK || mode == CONNECT_CREATE) {
                url = drv->empty_url;
                u->missing = true;
            }
        }
    }
    if (db_open_flags(url,
                      read_only               ? DB_OPEN_READONLY
                      : mode == CONNECT_WRITE ? DB_OPEN_EXISTING
                                              : 0,
                      &u->db, err))
        return UPRUN_USAGE;
    atomic_store(&u->live_db, u->db);
    if (u->interrupted) /* a signal before the handle was published */
        db_interrupt(u->db);
    u->dialect = db_dialect(u->db);
    for (i = 0; i < u->bundle->manifest.ndialects; i++)
        known = known || strcmp(u->bundle->manifest.dialects[i], u->dialect) == 0;
    if (!known) {
        rt_fail(err, "the bundle has no SQL for %s databases", u->dialect);
        snprintf(err->hint, sizeof err->hint,
                 "Build the bundle with that dialect (upc build "
                 "--dialect %s).",
                 u->dialect);
        close_db(u);
        return UPRUN_USAGE;
    }
    if (db_driver_of(u->db)->session(u->db, read_only, err))
        return UPRUN_USAGE;
    if (db_set_timeouts(u->db, lock_ms(u), statement_ms(u), false, err))
        return UPRUN_USAGE;
    return UPRUN_OK;
}

/*
 * Apply's first write to a database that did not exist: the file is made
 * now, exclusively, and the connection moves from the empty stand-in to it.
 * UPRUN_RESTART when another runner made it meanwhile: what this run read
 * (an empty database) may be stale, so apply starts again on the real file.
 */
enum { UPRUN_RESTART = -100 };

static int
materialize(uprun *u, struct rt_error *err)
{
    int fd, rc;
    bool theirs;

    if (!u->pending)
        return UPRUN_OK;
    fd = open(u->pending, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    theirs = fd < 0 && errno == EEXIST;
    if (fd < 0 && !theirs) {
        rt_fail(err, "could not create the database file \"%s\": %s", u->pending, strerror(errno));
        snprintf(err->hint, sizeof err->hint,
                 "Check that its folder exists and that uprun may write there. Nothing was "
                 "changed.");
        return UPRUN_USAGE;
    }
    if (fd >= 0)
        close(fd);
    free(u->pending);
    u->pending = NULL;
    u->missing = false;
    close_db(u);
    u->locked = false;
    if ((rc = connect_db(u, CONNECT_WRITE, err)) != UPRUN_OK)
        return rc;
    if (theirs) {
        if (u->restarted)
            return rt_fail(err, "the database file was made by another runner twice over"),
                   UPRUN_LOCKED;
        info(u, "another runner created the database meanwhile: starting again on it");
        return UPRUN_RESTART;
    }
    return UPRUN_OK;
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
    close_db(u);
    free(u->pending);
    bundle_free(u->bundle);
    free(u);
}

const char *
uprun_plan_name(const uprun *u)
{
    return u->bundle->manifest.plan_name;
}

/* --- the bundle's files ------------------------------------------------------ */

/*
 * The SQL of the file that entry names, read from the bundle and checked
 * against the signed manifest again (bundle_read): what runs is what was
 * signed. *data is malloc'd. The one place that reads a step's SQL.
 */
static int
step_sql(const uprun *u, const struct mf_file *entry, unsigned char **data, size_t *size,
         struct rt_error *err)
{
    *data = NULL;
    *size = 0;
    if (!entry)
        return 0;
    return bundle_read(u->bundle, entry->path, data, size, err);
}

/*
 * The canonical schema (canon.h) the plan expects at version (NULL: the
 * empty database), into *out (the caller's: json_decref): the deltas of the
 * steps from the first version to it applied in order (docs/bundle-format.md),
 * each file read again and checked against the manifest. The one place that
 * reads an expected schema from the bundle.
 */
static int
expected_schema(uprun *u, const char *version, json_t **out, struct rt_error *err)
{
    const struct manifest *m = &u->bundle->manifest;
    const char **chain = NULL;
    json_t *tables = canon_tables_new(), *schema = NULL;
    char why[512];
    size_t depth = 0, i;
    const char *w;
    int rc = UPRUN_OK;

    *out = NULL;
    for (w = version; w; w = manifest_version(m, w)->from)
        depth++;
    chain = calloc(depth + 1, sizeof *chain);
    if (!chain || !tables) {
        rc = UPRUN_USAGE;
        rt_fail(err, "out of memory");
        goto done;
    }
    i = depth;
    for (w = version; w; w = manifest_version(m, w)->from)
        chain[--i] = w;
    for (i = 0; i < depth && rc == UPRUN_OK; i++) {
        const struct mf_dialect_step *d =
            manifest_step_dialect(manifest_step_to(m, chain[i]), u->dialect);
        unsigned char *data;
        size_t len;
        json_error_t jerr;
        json_t *delta;
        if (!d) {
            rt_fail(err, "the bundle has no expected schema of version %s for %s", chain[i],
                    u->dialect);
            rc = UPRUN_USAGE;
            break;
        }
        if (bundle_read(u->bundle, d->schema.path, &data, &len, err)) {
            rc = UPRUN_BUNDLE_REFUSED;
            break;
        }
        delta = json_loadb((const char *)data, len, 0, &jerr);
        free(data);
        if (!delta || !canon_delta_apply(tables, delta, why, sizeof why)) {
            rt_fail(err, "the bundle's schema file %s is not a schema delta that fits (%s)",
                    d->schema.path, delta ? why : jerr.text);
            json_decref(delta);
            rc = UPRUN_BUNDLE_REFUSED;
            break;
        }
        json_decref(delta);
    }
    if (rc == UPRUN_OK) {
        if (!(schema = canon_tables_schema(tables))) {
            rc = UPRUN_USAGE;
            rt_fail(err, "out of memory");
            goto done;
        }
        *out = schema;
    }
done:
    json_decref(tables);
    free(chain);
    return rc;
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
        ps->units = down ? ps->ds->down_units : ps->ds->up_units;
        ps->nunits = down ? ps->ds->ndown_units : ps->ds->nup_units;
        ps->nstatements = down ? ps->ds->down_statements : ps->ds->up_statements;
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
            if (step_sql(u, &d->up, &sql, &len, err)) {
                free(sha);
                return UPRUN_BUNDLE_REFUSED;
            }
            sql_statements_sha256(sql, len, digest);
            free(sql);
            if (strcmp(sha, digest) == 0)
                break;
            if (d->offline) { /* the step's other lowering ran, perhaps */
                char other[65];
                if (step_sql(u, &d->offline->up, &sql, &len, err)) {
                    free(sha);
                    return UPRUN_BUNDLE_REFUSED;
                }
                sql_statements_sha256(sql, len, other);
                free(sql);
                if (strcmp(sha, other) == 0) {
                    memcpy(digest, other, sizeof other);
                    break;
                }
            }
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

/*
 * The runners' lock key: one per database, whatever the plan, so that two
 * plans never run on one database at once (the one that comes second finds
 * the other's history, under the lock, and is refused).
 */
static uint64_t
lock_key(void)
{
    uint64_t h = 0xcbf29ce484222325u;

    for (const char *p = "upgrade-plan:" UPG_HISTORY_TABLE; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3u;
    return h;
}

/*
 * Inside the transaction of a step: the history names no other plan. The
 * check before (read_state) ran outside it; another plan's runner may have
 * got in since (on SQLite there is no runners' lock but the write lock).
 */
static int
plan_alone(uprun *u, struct rt_error *err)
{
    const char *plan = u->bundle->manifest.plan_name;
    char *others = NULL;

    if (history_other_plans(u->db, plan, &others, err))
        return UPRUN_USAGE;
    if (!others)
        return UPRUN_OK;
    rt_fail(err,
            "while this run waited, plan \"%s\" was applied to this database; the bundle's plan "
            "is \"%s\"",
            others, plan);
    snprintf(err->hint, sizeof err->hint,
             "Two products' upgrades ran on one database: check --db. Nothing of plan \"%s\" was "
             "run.",
             plan);
    free(others);
    return UPRUN_DB_REFUSED;
}

/* PostgreSQL: the plan's advisory lock, waited for up to --lock-timeout. */
static int
lock_pg(uprun *u, struct rt_error *err)
{
    const struct db_driver *drv = db_driver_of(u->db);
    long long key = (long long)lock_key();
    struct timespec t0;
    bool waited = false;

    if (!drv->try_lock || u->locked)
        return UPRUN_OK;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        bool got = false;
        if (drv->try_lock(u->db, key, &got, err))
            return UPRUN_USAGE;
        if (got) {
            u->locked = true;
            return UPRUN_OK;
        }
        if (!waited) {
            info(u,
                 "another uprun holds this database's upgrade lock (one for every plan); plan "
                 "\"%s\" waits up to %.0f s",
                 u->bundle->manifest.plan_name, u->cfg.lock_timeout);
            waited = true;
        }
        if (seconds_since(&t0) >= u->cfg.lock_timeout) {
            rt_fail(err, "another uprun has held this database's upgrade lock for more than %.0f s",
                    u->cfg.lock_timeout);
            snprintf(err->hint, sizeof err->hint,
                     "Wait for it to finish, or raise --lock-timeout. The server releases the lock "
                     "if that runner dies.");
            return UPRUN_LOCKED;
        }
        if (!pause_for(u, 0.1))
            return interrupted(u, err);
    }
}

/*
 * The outcome of a lock wait that timed out on every try: err says what
 * waited for what, and how to go on.
 */
static int
lock_failed(uprun *u, const char *what, unsigned tries, struct rt_error *err)
{
    char msg[RT_ERROR_MSG_MAX];
    double s = lock_ms(u) / 1000.0;

    snprintf(msg, sizeof msg, "%s", err->message);
    if (tries > 1)
        rt_fail(err,
                "%s waited more than %g s for a lock held by another session, on each of %u "
                "tries (%s)",
                what, s, tries, msg);
    else
        rt_fail(err, "%s waited more than %g s for a lock held by another session (%s)", what, s,
                msg);
    snprintf(err->hint, sizeof err->hint,
             "Another session (an application, a DBA, another uprun) holds a lock on what the step "
             "changes: let it finish, or raise --db-lock-timeout or --retries; then run the same "
             "command again.");
    return UPRUN_LOCKED;
}

/* --- running a step ------------------------------------------------------ */

enum step_state {
    STEP_PENDING,
    STEP_BEGUN,
    STEP_GUARDED,
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

static void
failure_reset(struct failure *f)
{
    free(f->sql);
    memset(f, 0, sizeof *f);
}

/* Runs statements first to last (from 1; at most the file's) of a step's file one by one; on
 * failure fills f. */
static int
run_range(uprun *u, const struct path_step *ps, size_t first, size_t last, struct failure *f,
          struct rt_error *err)
{
    const char *text = (const char *)ps->sql;
    struct sql_stmt *st = NULL;
    size_t n = sql_split(text, ps->sql_size, &st), i;
    int rc = 0;

    f->nstmts = n;
    for (i = first ? first - 1 : 0; i < n && i < last; i++) {
        char *one;
        if (u->interrupted) {
            rc = rt_fail(err, "interrupted before statement %zu of %zu", i + 1, n);
            break;
        }
        if (!(one = strndup(text + st[i].start, st[i].end - st[i].start))) {
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

/* Runs every statement of a step's file; on failure fills f. */
static int
run_statements(uprun *u, const struct path_step *ps, struct failure *f, struct rt_error *err)
{
    return run_range(u, ps, 1, SIZE_MAX, f, err);
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
record(uprun *u, const struct path_step *ps, const char *started, const struct timespec *t0,
       const char *status, const char *message, struct rt_error *err)
{
    struct history_entry h;
    char finished[32], digest[65], note[RT_ERROR_MSG_MAX + 64];

    memset(&h, 0, sizeof h);
    history_now(finished);
    sql_statements_sha256(ps->sql, ps->sql_size, digest);
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
    if (u->expired || ps->lowering) {
        /* what else the row must say: how the step ran, and with what */
        int len = snprintf(note, sizeof note, "%s", message ? message : "");
        if (ps->lowering && len >= 0 && (size_t)len < sizeof note)
            len += snprintf(note + len, sizeof note - (size_t)len, "%sran %s (%s)", len ? "; " : "",
                            ps->lowering, ps->reason);
        if (u->expired && len >= 0 && (size_t)len < sizeof note)
            snprintf(note + len, sizeof note - (size_t)len,
                     "%srun with an expired bundle (--allow-expired)", len ? "; " : "");
        h.message = note;
    }
    if (history_insert(u->db, &h, err))
        return -1;
    /* the releases that ran: a failed step (rolled back, nothing changed) does not count */
    if (strcmp(status, "failed") == 0)
        return 0;
    return releases_record(u->db, h.plan, u->bundle->manifest.channel, u->bundle->manifest.sequence,
                           h.manifest_sha256, finished, err);
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

/* The pause before try `attempt` (2, 3, ...) after a lock timeout: 0.5 s, 1 s, 2 s ... at most 10 s. */
static double
backoff(unsigned attempt)
{
    double w = 0.5;

    while (attempt-- > 2 && w < 10)
        w *= 2;
    return w < 10 ? w : 10;
}

/* Reports that a lock wait timed out and the work is tried again after a pause. */
static void
retry_event(uprun *u, const struct path_step *ps, size_t pos, size_t count, unsigned attempt,
            const struct rt_error *cause, bool whole_path)
{
    struct uprun_event ev;
    char msg[RT_ERROR_MSG_MAX + 256];

    step_event(u, &ev, UPRUN_EV_RETRY, ps, pos, count);
    ev.attempt = attempt;
    ev.attempts = u->cfg.retries + 1;
    ev.wait = backoff(attempt);
    ev.atomic = whole_path;
    ev.db_error = cause;
    snprintf(msg, sizeof msg,
             "step %u (%s -> %s) waited more than %g s for a lock (%s): %s rolled back; trying "
             "again in %g s (try %u of %u)",
             ps->step->index, vname(ps->from), vname(ps->to), lock_ms(u) / 1000.0, cause->message,
             whole_path ? "the whole path was" : "it was", ev.wait, attempt, ev.attempts);
    ev.message = msg;
    emit(u, &ev);
}

/* An object carried over a SQLite rebuild (rebuild_restore's report). */
static void
carried_event(void *arg, const struct rebuild_object *o)
{
    uprun *u = arg;
    struct uprun_event ev;
    char msg[512];

    memset(&ev, 0, sizeof ev);
    ev.kind = UPRUN_EV_CARRIED;
    ev.table = o->table;
    ev.object = o->type;
    ev.name = o->name;
    if (strcmp(o->table, o->name) == 0) /* a view */
        snprintf(msg, sizeof msg,
                 "%s \"%.200s\", which the plan does not know, was carried over the "
                 "table rebuild",
                 o->type, o->name);
    else
        snprintf(msg, sizeof msg,
                 "%s \"%.200s\" of \"%.200s\", which the plan does not know, was "
                 "carried over the table rebuild",
                 o->type, o->name, o->table);
    ev.message = msg;
    emit(u, &ev);
}

/*
 * The rebuild guard of a SQLite step (rebuild.h), inside its transaction:
 * 0 (carry holds what to re-create after the statements), 1 refused (err),
 * -1 a database error (err).
 */
static int
guard_rebuild(uprun *u, const struct path_step *ps, struct rebuild_plan *carry,
              struct rt_error *err)
{
    char **tables = NULL;
    size_t n;
    json_t *expected = NULL, *live = NULL;
    int rc = -1;

    memset(carry, 0, sizeof *carry);
    if (!db_driver_of(u->db)->rebuilds ||
        !(n = rebuild_tables((const char *)ps->sql, ps->sql_size, &tables)))
        return 0;
    if (expected_schema(u, ps->from, &expected, err) == UPRUN_OK &&
        introspect(u->db, HISTORY_TABLE, &live, err) == 0)
        rc = rebuild_prepare(u->db, tables, n, expected, live, carry, err);
    json_decref(expected);
    json_decref(live);
    rebuild_tables_free(tables, n);
    return rc;
}

/*
 * The connection was lost while the reply to a step's COMMIT was read: the
 * step may or may not have committed. A new connection asks the history,
 * which commits with the step. 1: it committed (uprun goes on, on the new
 * connection, under its lock again); 0: it did not (err says so; the step
 * failed and was rolled back); -1: no new connection (err says the outcome
 * is unknown, *outcome is UPRUN_UNKNOWN).
 */
static int
commit_lost(uprun *u, const struct path_step *ps, const char *started, enum uprun_outcome *outcome,
            struct rt_error *err)
{
    char lost[RT_ERROR_MSG_MAX];
    bool found = false;
    int rc;

    snprintf(lost, sizeof lost, "%s", err->message);
    for (char *c = lost; *c; c++) /* libpq's message runs over lines */
        if (*c == '\n' || *c == '\t')
            *c = ' ';
    for (size_t n = strlen(lost); n && lost[n - 1] == ' ';)
        lost[--n] = '\0';
    close_db(u);
    u->locked = false;
    if ((rc = connect_db(u, CONNECT_WRITE, err)) != UPRUN_OK ||
        history_has_step(u->db, (int)ps->step->index, ps->down ? "down" : "up", started, &found,
                         err) != 0) {
        rt_fail(err,
                "the connection was lost while step %u (%s -> %s) committed (%s), and could not "
                "be made again to find out whether it did",
                ps->step->index, vname(ps->from), vname(ps->to), lost);
        snprintf(err->hint, sizeof err->hint,
                 "Run uprun status once the server answers: the history says whether step %u was "
                 "applied. Then run the same command again.",
                 ps->step->index);
        close_db(u);
        *outcome = UPRUN_UNKNOWN;
        return -1;
    }
    if (found) {
        info(u,
             "the connection was lost at the COMMIT of step %u (%s); the history, read on a new "
             "connection, shows that the step committed",
             ps->step->index, lost);
        if ((rc = lock_pg(u, err)) != UPRUN_OK) {
            *outcome = UPRUN_ROLLED_BACK;
            return 0;
        }
        return 1;
    }
    rt_fail(err,
            "the connection was lost at the COMMIT of step %u (%s -> %s) (%s); the history, read "
            "on a new connection, shows that the step did not commit",
            ps->step->index, vname(ps->from), vname(ps->to), lost);
    return 0;
}

/* The hint of a failed step, by what failed it. */
static void
failure_hint(uprun *u, int code, bool atomic, struct rt_error *err)
{
    if (code == UPRUN_INTERRUPTED)
        snprintf(err->hint, sizeof err->hint,
                 "Run the same command again when you are ready: it %s.",
                 atomic ? "starts the whole path again" : "resumes at this step");
    else if (code == UPRUN_STEP_FAILED && db_error_is_statement_timeout(err))
        snprintf(err->hint, sizeof err->hint,
                 "The statement ran longer than --statement-timeout (%g s): raise it, or run the "
                 "upgrade at a quieter time; then run the same command again.",
                 statement_ms(u) / 1000.0);
    else if (code == UPRUN_STEP_FAILED)
        snprintf(err->hint, sizeof err->hint,
                 "Fix the cause (the data, the database, or, if the step's SQL is wrong, a "
                 "corrected bundle from the release), then run the same command again: it %s.",
                 atomic ? "starts the whole path again" : "resumes at this step");
}

/*
 * A failure that names the table a SQLite rebuild fills ("NOT NULL constraint
 * failed: _upg_new_T.c"): say that it is the new copy of table T, made by the
 * plan statements of the origin comment (every statement of a merged
 * rebuild), in the hint, before what to do.
 */
static void
rebuild_note(struct rt_error *err, const char *origin)
{
    const char *at = strstr(err->message, UPG_RESERVED_PREFIX "new_");
    char table[128], note[1024];
    size_t n = 0, len, keep;

    if (!at)
        return;
    at += strlen(UPG_RESERVED_PREFIX "new_");
    while (n + 1 < sizeof table && at[n] && at[n] != '.' && at[n] != ' ' && at[n] != '"' &&
           at[n] != '\'' && at[n] != ',' && at[n] != ')')
        table[n] = at[n], n++;
    table[n] = '\0';
    snprintf(note, sizeof note,
             "\"%snew_%s\" is the new copy of table \"%s\" that SQLite's table rebuild fills%s%s. ",
             UPG_RESERVED_PREFIX, table, table,
             origin && *origin ? ", for the plan's statements at " : "", origin ? origin : "");
    /* the note first, then as much of the hint as fits */
    len = strlen(note);
    if (len >= sizeof err->hint)
        return;
    keep = strlen(err->hint);
    if (keep > sizeof err->hint - 1 - len)
        keep = sizeof err->hint - 1 - len;
    memmove(err->hint + len, err->hint, keep);
    memcpy(err->hint, note, len);
    err->hint[len + keep] = '\0';
}

/* The failure event of a step: where it failed (f), what the database said (dbe). */
static void
failed_event(uprun *u, struct uprun_event *ev, const struct path_step *ps, size_t pos, size_t count,
             const struct failure *f, const struct rt_error *dbe, const struct timespec *t0,
             const struct rt_error *err)
{
    step_event(u, ev, UPRUN_EV_STEP_FAILED, ps, pos, count);
    ev->message = err->message;
    ev->file = ps->entry->path;
    ev->line = f->line;
    ev->statement = f->stmt;
    ev->statements = f->nstmts;
    ev->sql = f->sql;
    ev->sql_position = f->position;
    ev->origin = f->origin[0] ? f->origin : NULL;
    ev->db_error = f->sql ? &f->db : dbe;
    ev->elapsed = seconds_since(t0);
}

/* --- steps that run in units ----------------------------------------------- */

/*
 * A step whose file has statements that run outside a transaction
 * (manifest.h, struct mf_unit) runs as a list of units: each of those
 * statements is a unit of its own, and the statements between them are
 * transactional units. Every unit done is journaled (history.h, units_*); the
 * last one writes the step's history row. A run that finds units of the step
 * journaled at the database's base resumes after them, and a unit of its own
 * is never run twice: its postcheck says whether it already ran, its fix
 * removes what an interrupted attempt left (an INVALID index), its precheck
 * says whether it can run; when neither check holds uprun stops and changes
 * nothing.
 */
struct unit_span {
    size_t first, last;         /* its statements (from 1) */
    const struct mf_unit *self; /* a unit of its own; NULL: a transactional unit */
};

/* The units of ps, into *out (malloc'd); their number. */
static size_t
step_units(const struct path_step *ps, struct unit_span **out)
{
    size_t n = ps->nstatements, k = 0, next = 1;
    struct unit_span *us = calloc(2 * ps->nunits + 2, sizeof *us);

    *out = us;
    if (!us)
        return 0;
    for (size_t i = 0; i < ps->nunits; i++) {
        size_t at = ps->units[i].statement;
        if (at > next)
            us[k++] = (struct unit_span){next, at - 1, NULL};
        if (ps->units[i].kind == MF_UNIT_TRANSACTION) { /* a transactional unit begins at `at` */
            next = at;
            continue;
        }
        us[k++] = (struct unit_span){at, at, &ps->units[i]};
        next = at + 1;
    }
    if (next <= n)
        us[k++] = (struct unit_span){next, n, NULL};
    return k;
}

/* Whether a check (a query of one row, one boolean) holds; -1 with err when it cannot be asked. */
static int
check_holds(uprun *u, const char *sql, bool *holds, struct rt_error *err)
{
    struct db_rows *r = NULL;
    const char *v;

    *holds = false;
    if (db_query(u->db, sql, NULL, 0, &r, err))
        return -1;
    v = r->nrows > 0 ? db_cell(r, 0, 0) : NULL;
    *holds = v && (strcmp(v, "t") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
    db_rows_free(r);
    return 0;
}

/* The plan line of statement k of ps's file ("plan.upg:12:3"), into buf; "" when none. */
static const char *
statement_origin(const struct path_step *ps, size_t k, char *buf, size_t size)
{
    struct sql_stmt *st = NULL;
    size_t n = sql_split((const char *)ps->sql, ps->sql_size, &st);

    buf[0] = '\0';
    if (k >= 1 && k <= n)
        sql_origin_before((const char *)ps->sql, st[k - 1].start, buf, size);
    free(st);
    return buf;
}

static int
journal_unit(uprun *u, const struct path_step *ps, long long base, unsigned unit, unsigned units,
             const char *how, struct rt_error *err)
{
    struct unit_entry e;
    char finished[32];

    history_now(finished);
    e.plan = u->bundle->manifest.plan_name;
    e.step = (int)ps->step->index;
    e.direction = ps->down ? "down" : "up";
    e.base = base;
    e.unit = unit;
    e.units = units;
    e.file_sha256 = ps->entry->sha256;
    e.how = how;
    e.finished_at = finished;
    e.applied_by = u->whoami;
    return units_insert(u->db, &e, err);
}

static void
unit_done_event(uprun *u, const struct path_step *ps, size_t pos, size_t count,
                const struct unit_span *us, unsigned unit, unsigned units, const char *how)
{
    struct uprun_event ev;
    char origin[256], msg[512];

    step_event(u, &ev, UPRUN_EV_UNIT, ps, pos, count);
    ev.unit = unit;
    ev.units = units;
    ev.how = how;
    ev.statement = us->first;
    ev.statements = us->last;
    ev.origin = statement_origin(ps, us->first, origin, sizeof origin)[0] ? origin : NULL;
    snprintf(msg, sizeof msg, "step %u (%s -> %s): unit %u of %u done (%s%s)", ps->step->index,
             vname(ps->from), vname(ps->to), unit, units, us->self ? "outside a transaction, " : "",
             how);
    ev.message = msg;
    emit(u, &ev);
}

/*
 * Inside a transaction of a unit: still this plan's database, still at the
 * step's start? 0, or the code to stop with (err set, the transaction rolled
 * back).
 */
static int
unit_guard(uprun *u, const struct path_step *ps, struct rt_error *err)
{
    struct rt_error ignored;
    char *now = NULL;
    bool any;
    int rc;

    if ((rc = plan_alone(u, err)) != UPRUN_OK) {
        db_exec(u->db, "ROLLBACK", &ignored);
        return rc;
    }
    if (history_current(u->db, &now, &any, err)) {
        db_exec(u->db, "ROLLBACK", &ignored);
        return UPRUN_STEP_FAILED;
    }
    if (!same_version(now, ps->from)) {
        rt_fail(err,
                "the database moved to version %s meanwhile; step %u (%s -> %s) no longer "
                "applies",
                vname(now), ps->step->index, vname(ps->from), vname(ps->to));
        snprintf(err->hint, sizeof err->hint, "Run uprun status, then start again.");
        free(now);
        db_exec(u->db, "ROLLBACK", &ignored);
        return UPRUN_DB_REFUSED;
    }
    free(now);
    return 0;
}

/* The step's history row, in a transaction of its own (after a last unit of its own):
 * UPRUN_STEP_FAILED when it could not be written, or the guard's refusal. */
static int
record_alone(uprun *u, const struct path_step *ps, const char *started, const struct timespec *t0,
             struct rt_error *err)
{
    struct rt_error ignored;
    int rc;

    if (exec_counted(u, db_driver_of(u->db)->begin_write, err))
        return UPRUN_STEP_FAILED;
    if ((rc = unit_guard(u, ps, err)))
        return rc;
    if (record(u, ps, started, t0, ps->down ? "reverted" : "applied", NULL, err)) {
        db_exec(u->db, "ROLLBACK", &ignored);
        return UPRUN_STEP_FAILED;
    }
    fault_point(u);
    if (exec_counted(u, "COMMIT", err))
        return UPRUN_STEP_FAILED;
    return 0;
}

/*
 * The COMMIT that carried the step's history row failed: when the
 * connection was lost, find out on a new one whether it committed
 * (commit_lost). 1: it did; 0: it did not, or the connection is there (an
 * ordinary failure); -1: unknown, no connection (*outcome says so).
 */
static int
settle_lost_commit(uprun *u, const struct path_step *ps, const char *started,
                   enum uprun_outcome *outcome, struct rt_error *err)
{
    const struct db_driver *drv = u->db ? db_driver_of(u->db) : NULL;

    if (!drv || !drv->lost || !drv->lost(u->db))
        return 0;
    return commit_lost(u, ps, started, outcome, err);
}

/* How long a statement of a unit of ps waits for a lock: the swap of an online change waits
 * less (UPRUN_ONLINE_LOCK_MS), so that the writes queued behind it are not held long. */
static int
unit_lock_ms(const uprun *u, const struct path_step *ps)
{
    int ms = lock_ms(u);

    return ps->lowering && strcmp(ps->lowering, "online") == 0 && ms > UPRUN_ONLINE_LOCK_MS
               ? UPRUN_ONLINE_LOCK_MS
               : ms;
}

/* A progress event of a unit in batches, at most one a second. */
static void
batch_progress(uprun *u, const struct path_step *ps, unsigned k, unsigned nu, long long rows,
               long long total, bool last)
{
    struct uprun_event ev = u->progress;
    double elapsed = seconds_since(&u->step_started);
    char msg[320];

    if (!last && (elapsed < 1 || (u->progress_shown > 0 && elapsed - u->progress_shown < 1)))
        return;
    u->progress_shown = elapsed;
    ev.kind = UPRUN_EV_PROGRESS;
    ev.elapsed = elapsed < 1 ? 1 : elapsed;
    ev.has_rows = true;
    ev.rows = rows;
    ev.rows_total = total;
    ev.unit = k;
    ev.units = nu;
    if (total > 0)
        snprintf(msg, sizeof msg,
                 "step %u (%s -> %s), unit %u of %u: %lld rows copied of about %lld (%.0f%%), "
                 "running for %.0f s",
                 ps->step->index, vname(ps->from), vname(ps->to), k, nu, rows, total,
                 rows >= total ? 100.0 : 100.0 * (double)rows / (double)total, elapsed);
    else
        snprintf(msg, sizeof msg,
                 "step %u (%s -> %s), unit %u of %u: %lld rows copied, running "
                 "for %.0f s",
                 ps->step->index, vname(ps->from), vname(ps->to), k, nu, rows, elapsed);
    ev.message = msg;
    emit(u, &ev);
}

/*
 * A unit in batches (MF_UNIT_BATCHES): its statement again and again, each
 * time in a transaction of its own that also records the last key it did
 * (upgrade_plan_batches), so that a run stopped anywhere goes on after the
 * last batch that committed. A batch that waited too long for a lock is rolled
 * back and tried again (--retries); --batch-pause waits between batches.
 */
static int
run_batches(uprun *u, const struct path_step *ps, const struct unit_span *x, long long base,
            unsigned k, unsigned nu, struct failure *f, struct rt_error *err)
{
    const struct db_driver *drv = db_driver_of(u->db);
    const char *text = (const char *)ps->sql;
    struct sql_stmt *st = NULL;
    size_t n = sql_split(text, ps->sql_size, &st);
    struct unit_entry e;
    struct rt_error ignored;
    char now[32], size[16], *stmt = NULL, *last = NULL;
    long long rows = 0, total = -1;
    unsigned attempt = 1;
    int rc = -1;

    memset(&e, 0, sizeof e);
    e.plan = u->bundle->manifest.plan_name;
    e.step = (int)ps->step->index;
    e.direction = ps->down ? "down" : "up";
    e.base = base;
    e.unit = k;
    e.units = nu;
    e.file_sha256 = ps->entry->sha256;
    e.applied_by = u->whoami;
    f->nstmts = n;
    if (x->first < 1 || x->first > n) {
        rt_fail(err, "unit %u of step %u names statement %zu of %zu", k, ps->step->index, x->first,
                n);
        goto out;
    }
    if (!(stmt = strndup(text + st[x->first - 1].start,
                         st[x->first - 1].end - st[x->first - 1].start))) {
        rt_fail(err, "out of memory");
        goto out;
    }
    snprintf(size, sizeof size, "%u",
             u->cfg.batch_size ? u->cfg.batch_size : UPRUN_BATCH_SIZE_DEFAULT);
    if (batches_ensure(u->db, err) || batches_get(u->db, &e, &last, &rows, err))
        goto out;
    if (ps->ds->estimate) {
        struct db_rows *r = NULL;
        if (db_query(u->db, ps->ds->estimate, NULL, 0, &r, err) == 0 && r->nrows > 0 &&
            db_cell(r, 0, 0))
            total = strtoll(db_cell(r, 0, 0), NULL, 10);
        db_rows_free(r);
        rt_error_clear(err);
    }
    if (last)
        info(u,
             "step %u, unit %u of %u: an earlier run copied %lld rows in batches up to key %s; "
             "going on after it",
             ps->step->index, k, nu, rows, last);
    for (;;) {
        const char *p[2] = {last, size};
        struct db_rows *r = NULL;
        long long seen, changed;
        char *next;
        if (u->interrupted) {
            rt_fail(err, "interrupted between two batches of unit %u of step %u", k,
                    ps->step->index);
            goto out;
        }
        if (exec_counted(u, drv->begin_write, err))
            goto out;
        if (db_set_timeouts(u->db, lock_ms(u), statement_ms(u), true, err))
            goto rollback;
        if (db_query(u->db, stmt, p, 2, &r, err)) {
            failure_reset(f);
            f->nstmts = n;
            f->stmt = x->first;
            f->sql = strdup(stmt);
            f->line = sql_line_of(text, st[x->first - 1].start);
            sql_origin_before(text, st[x->first - 1].start, f->origin, sizeof f->origin);
            f->db = *err;
            goto rollback;
        }
        fault_point(u);
        seen = r->nrows > 0 && db_cell(r, 0, 0) ? strtoll(db_cell(r, 0, 0), NULL, 10) : 0;
        changed = r->nrows > 0 && r->ncols > 2 && db_cell(r, 0, 2)
                      ? strtoll(db_cell(r, 0, 2), NULL, 10)
                      : 0;
        if (seen == 0 || !db_cell(r, 0, 1)) { /* past the last key: done */
            db_rows_free(r);
            if (exec_counted(u, "COMMIT", err))
                goto out;
            break;
        }
        next = strdup(db_cell(r, 0, 1));
        db_rows_free(r);
        if (!next) {
            rt_fail(err, "out of memory");
            goto rollback;
        }
        history_now(now);
        e.finished_at = now;
        if (batches_put(u->db, &e, next, rows + changed, err)) {
            free(next);
            goto rollback;
        }
        fault_point(u);
        if (exec_counted(u, "COMMIT", err)) { /* a lost COMMIT: the batch runs again, the same */
            free(next);
            goto out;
        }
        free(last);
        last = next;
        rows += changed;
        attempt = 1;
        batch_progress(u, ps, k, nu, rows, total, false);
        if (u->cfg.batch_pause > 0 && !pause_for(u, u->cfg.batch_pause)) {
            rt_fail(err, "interrupted between two batches of unit %u of step %u", k,
                    ps->step->index);
            goto out;
        }
        continue;
    rollback:
        db_exec(u->db, "ROLLBACK", &ignored);
        if (!u->interrupted && db_error_is_busy(err) && attempt <= u->cfg.retries) {
            attempt++;
            retry_event(u, ps, 0, 0, attempt, err, false);
            if (!pause_for(u, backoff(attempt))) {
                rt_fail(err, "interrupted while waiting to try a batch of unit %u again", k);
                goto out;
            }
            continue;
        }
        goto out;
    }
    batch_progress(u, ps, k, nu, rows, total, true);
    rc = 0;
out:
    free(st);
    free(stmt);
    free(last);
    return rc;
}

static int
run_units(uprun *u, struct path_step *path, size_t idx, size_t count, const char *started,
          const struct timespec *t0, struct rt_error *err)
{
    struct path_step *ps = &path[idx];
    const struct db_driver *drv = db_driver_of(u->db);
    size_t pos = idx + 1;
    struct unit_span *us = NULL;
    size_t nu = step_units(ps, &us);
    struct failure f;
    struct uprun_event ev;
    struct rt_error ignored, dbe;
    long long base = 0;
    unsigned done = 0, k = 0;
    bool in_tx = false, stop = false;
    enum uprun_outcome outcome = UPRUN_ROLLED_BACK;
    int code = UPRUN_STEP_FAILED, rc;

    memset(&f, 0, sizeof f);
    if (!us || nu == 0) {
        free(us);
        rt_fail(err, "out of memory");
        return UPRUN_USAGE;
    }
    if (units_ensure(u->db, err) ||
        history_base(u->db, u->bundle->manifest.plan_name, &base, err) ||
        units_done(u->db, u->bundle->manifest.plan_name, (int)ps->step->index,
                   ps->down ? "down" : "up", base, ps->entry->sha256, &done, err))
        goto failed;
    if (done > nu)
        done = (unsigned)nu;
    if (done == 0 && us[0].self &&
        journal_unit(u, ps, base, 0, (unsigned)nu, "begun", err)) /* unit 1 runs outside a
                                                                    transaction: say the step
                                                                    began, so that a rerun
                                                                    resumes it */
        goto failed;
    if (done)
        info(u, "step %u (%s -> %s): %u of %zu units were done by an earlier run; resuming at %s",
             ps->step->index, vname(ps->from), vname(ps->to), done, nu,
             done < nu ? "the next" : "its history row");
    for (k = done + 1; k <= nu; k++) {
        const struct unit_span *x = &us[k - 1];
        const char *how = "ran";
        bool holds;
        if (u->interrupted) {
            rt_fail(err, "interrupted before unit %u of %zu", k, nu);
            code = UPRUN_INTERRUPTED;
            goto failed;
        }
        if (!x->self) {
            /* a transactional unit: its statements and its journal row (the last unit: the
             * step's history row) commit together; a lock not had in time rolls it back, and it
             * is tried again (--retries) */
            unsigned attempt = 1;
        tx_again:
            if (exec_counted(u, drv->begin_write, err))
                goto tx_failed;
            in_tx = true;
            if (db_set_timeouts(u->db, unit_lock_ms(u, ps), statement_ms(u), true, err))
                goto tx_failed;
            if ((rc = unit_guard(u, ps, err))) { /* a refusal: nothing is written */
                in_tx = false;
                code = rc;
                stop = true;
                goto failed;
            }
            if (run_range(u, ps, x->first, x->last, &f, err))
                goto tx_failed;
            if (!drv->in_transaction(u->db)) {
                in_tx = false;
                rt_fail(err, "the SQL of unit %u of step %u ended the transaction uprun runs it in",
                        k, ps->step->index);
                goto failed;
            }
            if (k == nu ? record(u, ps, started, t0, ps->down ? "reverted" : "applied", NULL, err)
                        : journal_unit(u, ps, base, k, (unsigned)nu, how, err))
                goto tx_failed;
            fault_point(u);
            in_tx = false;
            if (exec_counted(u, "COMMIT", err)) {
                int lost = k == nu ? settle_lost_commit(u, ps, started, &outcome, err) : 0;
                if (lost > 0) { /* it committed: the history, read again, says so */
                    unit_done_event(u, ps, pos, count, x, k, (unsigned)nu, how);
                    goto applied;
                }
                stop = lost < 0; /* no connection: nothing more can be written */
                goto failed;
            }
            goto tx_done;
        tx_failed:
            if (!u->interrupted && db_error_is_busy(err) && attempt <= u->cfg.retries) {
                if (in_tx)
                    db_exec(u->db, "ROLLBACK", &ignored);
                in_tx = false;
                attempt++;
                retry_event(u, ps, pos, count, attempt, err, false);
                if (!pause_for(u, backoff(attempt))) {
                    rt_fail(err, "interrupted while waiting to try unit %u of step %u again", k,
                            ps->step->index);
                    code = UPRUN_INTERRUPTED;
                    goto failed;
                }
                failure_reset(&f);
                goto tx_again;
            }
            goto failed;
        tx_done:;
        } else {
            /* a unit of its own: never in a transaction, never run twice */
            if (check_holds(u, x->self->post, &holds, err))
                goto failed;
            if (holds) {
                how = "found done";
            } else {
                bool fixed = false;
                if (x->self->fix_when) {
                    if (check_holds(u, x->self->fix_when, &holds, err))
                        goto failed;
                    if (holds) {
                        info(u,
                             "step %u, unit %u of %zu: an earlier attempt left something "
                             "behind (an invalid index); removing it first",
                             ps->step->index, k, nu);
                        if (exec_counted(u, x->self->fix, err))
                            goto failed;
                        fault_point(u);
                        fixed = true;
                    }
                }
                if (check_holds(u, x->self->pre, &holds, err))
                    goto failed;
                if (!holds) {
                    char origin[256];
                    statement_origin(ps, x->first, origin, sizeof origin);
                    rt_fail(err,
                            "step %u (%s -> %s), unit %u of %zu (statement %zu of %s%s%s): "
                            "neither its postcheck (it ran) nor its precheck (it can run) holds, "
                            "so uprun cannot tell whether to run it",
                            ps->step->index, vname(ps->from), vname(ps->to), k, nu, x->first,
                            ps->entry->path, origin[0] ? ", " : "", origin);
                    snprintf(err->hint, sizeof err->hint,
                             "The database is not as the plan expects at this point (changed by "
                             "hand?). Compare it with uprun verify, make it what the plan "
                             "expects before or after this statement, then run uprun apply "
                             "again. Nothing was changed by this run%s.",
                             fixed ? " but the removal of the invalid index" : "");
                    code = UPRUN_DRIFT;
                    stop = true;
                    goto failed;
                }
                if (x->self->kind == MF_UNIT_BATCHES) {
                    /* its postcheck is that the whole change is there: not yet, after it */
                    if (run_batches(u, ps, x, base, k, (unsigned)nu, &f, err))
                        goto failed;
                    holds = true;
                } else {
                    if (run_range(u, ps, x->first, x->last, &f, err))
                        goto failed;
                    if (check_holds(u, x->self->post, &holds, err))
                        goto failed;
                }
                if (!holds) {
                    rt_fail(err,
                            "unit %u of step %u ran, but its postcheck does not hold: the "
                            "database did not do what the statement says",
                            k, ps->step->index);
                    goto failed;
                }
                how = fixed ? "fixed and ran" : "ran";
            }
            if (journal_unit(u, ps, base, k, (unsigned)nu, how, err))
                goto failed;
            fault_point(u);
            if (k == nu && (rc = record_alone(u, ps, started, t0, err))) {
                unit_done_event(u, ps, pos, count, x, k, (unsigned)nu, how);
                goto unrecorded;
            }
        }
        unit_done_event(u, ps, pos, count, x, k, (unsigned)nu, how);
    }
    if (done == nu && (rc = record_alone(u, ps, started, t0, err))) {
        k = (unsigned)nu;
        goto unrecorded;
    }
applied:
    step_event(u, &ev, UPRUN_EV_STEP_DONE, ps, pos, count);
    ev.elapsed = seconds_since(t0);
    ev.units = (unsigned)nu;
    ev.message = ps->down ? "step rolled back" : "step applied";
    emit(u, &ev);
    failure_reset(&f);
    free(us);
    return UPRUN_OK;

unrecorded:
    /* every unit is done, the step's history row was not written: a refusal of the guard
     * (nothing more is written), or a failure, perhaps a COMMIT whose answer was lost */
    if (rc != UPRUN_STEP_FAILED) {
        code = rc;
        stop = true;
    } else {
        int lost = settle_lost_commit(u, ps, started, &outcome, err);
        if (lost > 0)
            goto applied;
        stop = lost < 0;
    }
failed:
    dbe = *err;
    if (in_tx && u->db)
        db_exec(u->db, "ROLLBACK", &ignored);
    if (u->interrupted)
        code = UPRUN_INTERRUPTED;
    else if (db_error_is_busy(err) && code == UPRUN_STEP_FAILED)
        code = UPRUN_LOCKED;
    if (k > nu)
        k = (unsigned)nu;
    if (!stop && code != UPRUN_LOCKED && u->db && db_exec(u->db, drv->begin_write, &ignored) == 0) {
        char msg[RT_ERROR_MSG_MAX + 64];
        snprintf(msg, sizeof msg, "unit %u of %zu: %s", k, nu, err->message);
        if (record(u, ps, started, t0, "failed", msg, &ignored) == 0)
            db_exec(u->db, "COMMIT", &ignored);
        else
            db_exec(u->db, "ROLLBACK", &ignored);
    }
    if (!stop && outcome != UPRUN_UNKNOWN) {
        char hint[RT_ERROR_MSG_MAX];
        snprintf(hint, sizeof hint,
                 "%u of %zu units of step %u are done and journaled. %s then run the same "
                 "command again: it resumes at unit %u, and a unit outside a transaction that "
                 "was interrupted is finished or cleaned up first.",
                 k ? k - 1 : 0, nu, ps->step->index,
                 code == UPRUN_INTERRUPTED ? "When you are ready," : "Fix the cause,", k ? k : 1);
        snprintf(err->hint, sizeof err->hint, "%s", hint);
    }
    failed_event(u, &ev, ps, pos, count, &f, &dbe, t0, err);
    ev.at = ps->from;
    ev.interrupted = code == UPRUN_INTERRUPTED;
    ev.outcome = outcome == UPRUN_UNKNOWN          ? UPRUN_UNKNOWN
                 : k > 1 || (k == 1 && us[0].self) ? UPRUN_IN_PROGRESS
                                                   : UPRUN_ROLLED_BACK;
    ev.unit = k;
    ev.units = (unsigned)nu;
    ev.code = code;
    emit(u, &ev);
    failure_reset(&f);
    free(us);
    return code;
}

/*
 * One step, as a state machine (see the file comment). In atomic mode the
 * caller owns the transaction: no BEGIN, COMMIT or pragma here, and the
 * history was checked once at the start; a lock timeout is retried by the
 * caller, for the whole path.
 */
static int
run_step(uprun *u, struct path_step *path, size_t idx, size_t count, bool atomic,
         struct rt_error *err)
{
    struct path_step *ps = &path[idx];
    size_t pos = idx + 1;
    enum step_state state = STEP_PENDING;
    const struct db_driver *drv = db_driver_of(u->db);
    bool fk_off = drv->fk_off && ps->ds->foreign_keys_off && !atomic;
    bool in_tx = false, busy = false;
    struct failure f;
    struct rebuild_plan carry;
    struct uprun_event ev;
    struct rt_error ignored, dbe;
    struct timespec t0;
    char started[32], *now = NULL;
    unsigned attempt = 1;
    bool any;
    enum uprun_outcome outcome = UPRUN_ROLLED_BACK;
    int code = UPRUN_OK, rc;

    memset(&f, 0, sizeof f);
    memset(&carry, 0, sizeof carry);
    /* the step's SQL, read again and checked against the signed manifest: what runs is what
     * was signed, and only one step's SQL is in memory at a time */
    if (step_sql(u, ps->entry, &ps->sql, &ps->sql_size, err))
        return UPRUN_BUNDLE_REFUSED;
    {
        /* where statements end was decided when the bundle was built, with this splitter
         * (sqlsplit.h): a file that splits otherwise here is not run at all */
        struct sql_stmt *st = NULL;
        size_t n = ps->sql ? sql_split((const char *)ps->sql, ps->sql_size, &st) : 0;
        unsigned want = ps->nstatements;
        free(st);
        if (ps->sql && n != want) {
            rt_fail(err,
                    "the SQL of step %u (%s) holds %zu statements by this uprun's count, but %u "
                    "by the compiler's",
                    ps->step->index, ps->entry->path, n, want);
            snprintf(err->hint, sizeof err->hint,
                     "This uprun and the upc that built the bundle disagree where statements "
                     "end: use the uprun of the bundle's release. Nothing was run.");
            free(ps->sql);
            ps->sql = NULL;
            return UPRUN_BUNDLE_REFUSED;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    u->step_started = t0;
    u->progress_shown = 0;
    history_now(started);
    if (ps->lowering)
        info(u, "step %u (%s -> %s) runs %s: %s", ps->step->index, vname(ps->from), vname(ps->to),
             ps->lowering, ps->reason);
    step_event(u, &ev, UPRUN_EV_STEP_BEGIN, ps, pos, count);
    ev.message = ps->down ? "rolling back a step" : "applying a step";
    ev.lowering = ps->lowering;
    ev.reason = ps->lowering ? ps->reason : NULL;
    emit(u, &ev);
    step_event(u, &u->progress, UPRUN_EV_PROGRESS, ps, pos, count);
    db_set_progress(u->db, on_progress, u);
    if (ps->nunits && !atomic) {
        code = run_units(u, path, idx, count, started, &t0, err);
        goto out;
    }
    for (;;) {
        switch (state) {
        case STEP_PENDING:
            code =
                UPRUN_STEP_FAILED; /* what a failure from here on leads to, unless it says more */
            if (atomic) {
                state = STEP_BEGUN;
                break;
            }
            if (fk_off && exec_counted(u, drv->fk_off, err)) {
                code = UPRUN_USAGE;
                goto out;
            }
            if (exec_counted(u, drv->begin_write, err)) {
                state = STEP_FAILED;
                break;
            }
            in_tx = true;
            /* the limits again, for this transaction: a sql block of an earlier step may have
             * changed them */
            if (db_set_timeouts(u->db, lock_ms(u), statement_ms(u), true, err)) {
                state = STEP_FAILED;
                break;
            }
            state = STEP_BEGUN;
            break;
        case STEP_BEGUN:
            if (atomic) {
                state = STEP_GUARDED;
                break;
            }
            /* inside the transaction: still this plan's database, and still where this step
             * starts? */
            free(now);
            now = NULL;
            if ((rc = plan_alone(u, err)) != UPRUN_OK) {
                db_exec(u->db, "ROLLBACK", &ignored);
                if (fk_off)
                    db_exec(u->db, drv->fk_on, &ignored);
                code = rc;
                goto out;
            }
            if (history_current(u->db, &now, &any, err)) {
                state = STEP_FAILED;
                break;
            }
            if (same_version(now, ps->from)) {
                state = STEP_GUARDED;
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
                    db_exec(u->db, drv->fk_on, &ignored);
                code = UPRUN_DB_REFUSED;
                goto out;
            }
            break;
        case STEP_GUARDED:
            /* a SQLite rebuild drops nothing the plan does not know (rebuild.h) */
            rc = guard_rebuild(u, ps, &carry, err);
            if (rc == 1)
                code = UPRUN_DRIFT;
            state = rc ? STEP_FAILED : STEP_RUNNING;
            break;
        case STEP_RUNNING:
            if (run_statements(u, ps, &f, err)) {
                state = STEP_FAILED;
                break;
            }
            if ((rc = rebuild_restore(u->db, &carry, carried_event, u, err)) != 0) {
                if (rc == 1)
                    code = UPRUN_DRIFT;
                state = STEP_FAILED;
                break;
            }
            if (!drv->in_transaction(u->db)) {
                /* the step's SQL ended the transaction (a COMMIT or ROLLBACK the compiler could
                 * not see): what it did up to there may be committed, and no history row may
                 * be written for it */
                rt_fail(err,
                        "the SQL of step %u (%s -> %s) ended the transaction uprun runs it in: "
                        "what it did before that may be committed, and the step was not recorded",
                        ps->step->index, vname(ps->from), vname(ps->to));
                snprintf(err->hint, sizeof err->hint,
                         "The database may be between versions %s and %s: compare it with "
                         "uprun verify, restore the backup or repair it, then uprun baseline. "
                         "Report the step to the plan's maintainers.",
                         vname(ps->from), vname(ps->to));
                in_tx = false;
                outcome = UPRUN_PARTIAL;
                code = UPRUN_STEP_FAILED;
                state = STEP_FAILED;
                break;
            }
            if (record(u, ps, started, &t0, ps->down ? "reverted" : "applied", NULL, err)) {
                state = STEP_FAILED;
                break;
            }
            fault_point(u);
            state = STEP_RECORDED;
            break;
        case STEP_RECORDED:
            if (!atomic && exec_counted(u, "COMMIT", err)) {
                in_tx = false;
                if (drv->lost && drv->lost(u->db)) {
                    rc = commit_lost(u, ps, started, &outcome, err);
                    if (rc == 1) {
                        state = STEP_APPLIED;
                        break;
                    }
                    if (rc < 0) {
                        code = UPRUN_STEP_FAILED;
                        state =
                            STEP_ROLLED_BACK; /* nothing to roll back or record: no connection */
                        break;
                    }
                }
                state = STEP_FAILED;
                break;
            }
            state = STEP_APPLIED;
            break;
        case STEP_APPLIED:
            if (fk_off && exec_counted(u, drv->fk_on, err)) {
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
            code = UPRUN_OK;
            goto out;
        case STEP_SKIPPED:
            db_exec(u->db, "ROLLBACK", &ignored);
            if (fk_off)
                db_exec(u->db, drv->fk_on, &ignored);
            step_event(u, &ev, UPRUN_EV_STEP_SKIPPED, ps, pos, count);
            ev.message = "another runner applied this step meanwhile";
            emit(u, &ev);
            code = UPRUN_OK;
            goto out;
        case STEP_FAILED:
            busy = !u->interrupted && db_error_is_busy(err);
            if (u->interrupted)
                code = UPRUN_INTERRUPTED;
            else if (busy)
                code = UPRUN_LOCKED;
            if (!atomic) {
                if (in_tx)
                    db_exec(u->db, "ROLLBACK", &ignored);
                in_tx = false;
                if (fk_off)
                    db_exec(u->db, drv->fk_on, &ignored);
                rebuild_plan_free(&carry);
                if (busy && attempt <= u->cfg.retries) {
                    /* nothing is recorded for a lock wait: the step is tried again */
                    attempt++;
                    retry_event(u, ps, pos, count, attempt, err, false);
                    if (!pause_for(u, backoff(attempt))) {
                        code = UPRUN_INTERRUPTED;
                        rt_fail(err, "interrupted while waiting to try step %u again",
                                ps->step->index);
                        state = STEP_ROLLED_BACK;
                        break;
                    }
                    failure_reset(&f);
                    clock_gettime(CLOCK_MONOTONIC, &t0);
                    u->step_started = t0;
                    u->progress_shown = 0;
                    history_now(started);
                    state = STEP_PENDING;
                    break;
                }
                /* the failure is recorded in a transaction of its own, if it can be (not for a
                 * lock that was not had: nothing ran) */
                if (!busy && db_exec(u->db, "BEGIN", &ignored) == 0) {
                    char msg[RT_ERROR_MSG_MAX + 16];
                    snprintf(msg, sizeof msg, "%s%s",
                             code == UPRUN_INTERRUPTED && strncmp(err->message, "interrupted", 11)
                                 ? "interrupted: "
                                 : "",
                             err->message);
                    if (record(u, ps, started, &t0, "failed", msg, &ignored) == 0)
                        db_exec(u->db, "COMMIT", &ignored);
                    else
                        db_exec(u->db, "ROLLBACK", &ignored);
                }
            }
            if (busy) {
                char what[256];
                snprintf(what, sizeof what, "step %u (%s -> %s)", ps->step->index, vname(ps->from),
                         vname(ps->to));
                lock_failed(u, what, attempt, err);
            }
            state = STEP_ROLLED_BACK;
            break;
        case STEP_ROLLED_BACK:
            dbe = *err; /* the failure as the database told it, before our hint */
            if (outcome == UPRUN_ROLLED_BACK) /* the others say what to do themselves */
                failure_hint(u, code, atomic, err);
            rebuild_note(err, f.origin);
            if (atomic && busy && u->path_may_retry)
                goto out; /* the caller tries the whole path again, and says so */
            failed_event(u, &ev, ps, pos, count, &f, &dbe, &t0, err);
            ev.atomic = atomic;
            ev.at = atomic ? path[0].from : ps->from;
            ev.interrupted = code == UPRUN_INTERRUPTED;
            ev.outcome = outcome;
            ev.code = code;
            emit(u, &ev);
            goto out;
        }
    }
out:
    if (u->db) /* none after a connection lost at COMMIT that could not be made again */
        db_set_progress(u->db, NULL, NULL);
    rebuild_plan_free(&carry);
    failure_reset(&f);
    free(now);
    free(ps->sql);
    ps->sql = NULL;
    ps->sql_size = 0;
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

/* Resolves a target version name: NULL -> last; "empty" -> NULL. */
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

/* --- drift ---------------------------------------------------------------- */

static void
drift_item(void *arg, const struct canon_drift *d)
{
    static const char *const changes[] = {"missing", "unexpected", "differs"};
    uprun *u = arg;
    struct uprun_event ev;
    char *expected = d->expected
                         ? json_dumps(d->expected, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)
                         : NULL;
    char *found =
        d->found ? json_dumps(d->found, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;

    memset(&ev, 0, sizeof ev);
    ev.kind = UPRUN_EV_DRIFT;
    ev.text = ev.message = d->text;
    ev.table = d->table;
    ev.object = d->object;
    ev.name = d->name;
    ev.change = changes[d->change];
    ev.field = d->field;
    ev.expected = expected;
    ev.found = found;
    emit(u, &ev);
    free(expected);
    free(found);
}

/* canon_diff_items()'s callback: drift, unless the plan declares it a legacy form. */
struct drift_count {
    uprun *u;
    size_t drift, legacy;
};

static void
drift_or_legacy(void *arg, const struct canon_drift *d)
{
    struct drift_count *c = arg;

    if (manifest_legacy_accepts(&c->u->bundle->manifest, c->u->dialect, d)) {
        c->legacy++;
        info(c->u, "accepted: %s (a legacy form that the plan declares)", d->text);
        return;
    }
    c->drift++;
    drift_item(c->u, d);
}

/*
 * Compares the live schema with the expected one at version v (NULL: empty):
 * drift events, and the legacy forms of the plan accepted (info events; their
 * number in u->legacy_accepted). *ndiff counts the drift only.
 */
static int
compare_schema(uprun *u, const char *v, size_t *ndiff, struct rt_error *err)
{
    json_t *expected = NULL, *live = NULL;
    int rc;

    *ndiff = 0;
    if ((rc = expected_schema(u, v, &expected, err)))
        return rc;
    if (introspect(u->db, HISTORY_TABLE, &live, err)) {
        json_decref(expected);
        return UPRUN_USAGE;
    }
    {
        struct drift_count c = {u, 0, 0};
        canon_diff_items(expected, live, drift_or_legacy, &c);
        *ndiff = c.drift;
        u->legacy_accepted = c.legacy;
    }
    json_decref(expected);
    json_decref(live);
    return UPRUN_OK;
}

/*
 * Reads, in one read-only snapshot, the version the history says the
 * database is at (*at, malloc'd; NULL: empty) and the live schema, and
 * compares the two: a runner that commits a step meanwhile cannot make a
 * database that is where it should be look drifted.
 */
static int
compare_current(uprun *u, char **at, size_t *ndiff, struct rt_error *err)
{
    struct rt_error ignored;
    bool exists = false, any;
    int rc;

    *at = NULL;
    *ndiff = 0;
    if (db_exec(u->db, db_driver_of(u->db)->begin_snapshot, err))
        return db_error_is_busy(err) ? UPRUN_LOCKED : UPRUN_USAGE;
    if (history_exists(u->db, &exists, err) || (exists && history_current(u->db, at, &any, err))) {
        db_exec(u->db, "ROLLBACK", &ignored);
        return db_error_is_busy(err) ? UPRUN_LOCKED : UPRUN_USAGE;
    }
    rc = compare_schema(u, *at, ndiff, err);
    db_exec(u->db, "ROLLBACK", &ignored); /* it only read */
    return rc;
}

/* A step that runs in units and is in progress at the database's base (history.h). */
struct progress {
    bool found;
    const struct mf_step *step; /* NULL: a step the bundle does not have */
    bool down;
    unsigned stepno, done, units;
    bool same_file; /* journaled with the file this bundle has for it */
    bool offline;   /* that file is the step's offline lowering */
    struct uprun_step_ref ref;
};

static int
step_progress(uprun *u, struct progress *pg, struct rt_error *err)
{
    const struct manifest *m = &u->bundle->manifest;
    char dir[8], sha[65];
    long long base;
    bool exists;
    int step = 0;

    memset(pg, 0, sizeof *pg);
    if (!u->db || u->missing)
        return 0;
    if (history_exists(u->db, &exists, err))
        return -1;
    if (!exists)
        return 0;
    if (history_base(u->db, m->plan_name, &base, err) ||
        units_in_progress(u->db, m->plan_name, base, &pg->found, &step, dir, &pg->done, &pg->units,
                          sha, err))
        return -1;
    if (!pg->found)
        return 0;
    pg->stepno = (unsigned)step;
    pg->down = strcmp(dir, "down") == 0;
    for (size_t i = 0; i < m->nsteps; i++)
        if (m->steps[i].index == pg->stepno)
            pg->step = &m->steps[i];
    if (pg->step) {
        const struct mf_dialect_step *d = manifest_step_dialect(pg->step, u->dialect);
        const struct mf_file *f = d ? (pg->down ? (d->has_down ? &d->down : NULL) : &d->up) : NULL;
        const struct mf_dialect_step *o = d ? d->offline : NULL;
        const struct mf_file *of = o ? (pg->down ? (o->has_down ? &o->down : NULL) : &o->up) : NULL;
        pg->offline = of && strcmp(of->sha256, sha) == 0;
        pg->same_file = (f && strcmp(f->sha256, sha) == 0) || pg->offline;
        pg->ref.from = pg->down ? pg->step->to : pg->step->from;
        pg->ref.to = pg->down ? pg->step->from : pg->step->to;
    }
    pg->ref.step = pg->stepno;
    return 0;
}

/*
 * Before a path runs: a step in progress must be the path's first, with the
 * same file; then it is resumed (and the drift check, which would see the
 * database between versions, is skipped). *resume says so.
 */
static int
check_progress(uprun *u, const struct path_step *path, size_t n, bool *resume, struct rt_error *err)
{
    struct progress pg;

    *resume = false;
    if (step_progress(u, &pg, err))
        return UPRUN_USAGE;
    if (!pg.found)
        return UPRUN_OK;
    if (n && path[0].step == pg.step && path[0].down == pg.down && pg.same_file) {
        *resume = true;
        info(u,
             "step %u (%s -> %s) is in progress: %u of %u units done; resuming it (the "
             "schema check before a run is skipped: the database is between versions)",
             pg.stepno, vname(path[0].from), vname(path[0].to), pg.done, pg.units);
        return UPRUN_OK;
    }
    if (pg.step && !pg.same_file)
        rt_fail(err,
                "step %u is in progress (%u of %u units done), but with another bundle's "
                "SQL for it than this one's",
                pg.stepno, pg.done, pg.units);
    else
        rt_fail(err,
                "step %u (%s -> %s, %s) is in progress: %u of %u units done, and this run "
                "does not start with it",
                pg.stepno, pg.step ? vname(pg.ref.from) : "?", pg.step ? vname(pg.ref.to) : "?",
                pg.down ? "down" : "up", pg.done, pg.units);
    snprintf(err->hint, sizeof err->hint,
             "Finish it first with the bundle that started it: uprun %s --to %s. Nothing was "
             "changed.",
             pg.down ? "rollback" : "apply", pg.step ? vname(pg.ref.to) : "VERSION");
    return UPRUN_PATH_REFUSED;
}

/*
 * For each step of the path with two lowerings (an online change): which one
 * runs, and why (--online). A step in progress goes on with the one it began
 * with; auto asks the database how many rows the tables changed online are
 * estimated to hold (the step's estimate query) and goes online above
 * --online-threshold. The path's entry, units and statement count follow.
 */
static int
choose_lowerings(uprun *u, struct path_step *path, size_t n, bool atomic, struct rt_error *err)
{
    unsigned long long threshold =
        u->cfg.online_threshold ? u->cfg.online_threshold : UPRUN_ONLINE_THRESHOLD_DEFAULT;
    struct progress pg;

    if (step_progress(u, &pg, err))
        return UPRUN_USAGE;
    for (size_t i = 0; i < n; i++) {
        struct path_step *ps = &path[i];
        const struct mf_dialect_step *o = ps->ds->offline;
        bool online;
        if (!o || !ps->entry)
            continue;
        if (pg.found && pg.step == ps->step && pg.down == ps->down && pg.same_file) {
            online = !pg.offline;
            snprintf(ps->reason, sizeof ps->reason, "it is in progress so, and goes on so");
        } else if (u->cfg.online == UPRUN_ONLINE_NEVER) {
            online = false;
            snprintf(ps->reason, sizeof ps->reason, "--online never");
        } else if (u->cfg.online == UPRUN_ONLINE_ALWAYS) {
            online = true;
            snprintf(ps->reason, sizeof ps->reason, "--online always");
        } else if (atomic) {
            online = false;
            snprintf(ps->reason, sizeof ps->reason,
                     "--online auto with --atomic: the path runs in one transaction");
        } else {
            long long rows = 0;
            if (u->db && !u->missing) {
                struct db_rows *r = NULL;
                if (db_query(u->db, ps->ds->estimate, NULL, 0, &r, err))
                    return UPRUN_USAGE;
                rows = r->nrows > 0 && db_cell(r, 0, 0) ? strtoll(db_cell(r, 0, 0), NULL, 10) : 0;
                db_rows_free(r);
            }
            online = rows > 0 && (unsigned long long)rows > threshold;
            snprintf(ps->reason, sizeof ps->reason,
                     "--online auto: the database estimates about %lld row%s in the largest table "
                     "it changes online, %s than --online-threshold %llu%s",
                     rows, rows == 1 ? "" : "s", online ? "more" : "no more", threshold,
                     i > 0 ? " (estimated before the steps before it run)" : "");
        }
        ps->lowering = online ? "online" : "offline";
        if (!online) {
            ps->entry = ps->down ? &o->down : &o->up;
            ps->units = ps->down ? o->down_units : o->up_units;
            ps->nunits = ps->down ? o->ndown_units : o->nup_units;
            ps->nstatements = ps->down ? o->down_statements : o->up_statements;
        }
    }
    return UPRUN_OK;
}

/* --atomic runs the whole path in one transaction: no step of it may run in units. */
static int
check_atomic(const struct path_step *path, size_t n, bool atomic, struct rt_error *err)
{
    for (size_t i = 0; atomic && i < n; i++) {
        if (!path[i].nunits)
            continue;
        rt_fail(err,
                "--atomic cannot include step %u (%s -> %s): statement %u of it runs outside "
                "a transaction (a unit of its own)",
                path[i].step->index, vname(path[i].from), vname(path[i].to),
                path[i].units[0].statement);
        snprintf(err->hint, sizeof err->hint,
                 "Run without --atomic: each step then commits on its own, and a step in units "
                 "resumes where it stopped. Nothing was changed.");
        return UPRUN_USAGE;
    }
    return UPRUN_OK;
}

/*
 * Before the first step: the live schema must be the one the plan expects
 * at the recorded version, or the command refuses (UPRUN_DRIFT) unless
 * allow_drift, with every difference as a drift event.
 */
static int
preflight(uprun *u, bool allow_drift, const char *command, struct rt_error *err)
{
    char *at = NULL, buf[256];
    size_t n = 0;
    int rc;

    if ((rc = compare_current(u, &at, &n, err)))
        goto done;
    if (n && !allow_drift) {
        if (at)
            snprintf(buf, sizeof buf, "version %s of the plan", at);
        rt_fail(err,
                "the live schema differs from %s in %zu place%s (above): %s refuses to "
                "change a schema it does not know",
                at ? buf : "the empty database the history records", n, n == 1 ? "" : "s", command);
        snprintf(err->hint, sizeof err->hint,
                 "Reconcile the schema with the plan (uprun verify lists the differences), or, if "
                 "they are harmless, run again with --allow-drift (a SQLite table rebuild still "
                 "refuses to drop what the plan does not know). Nothing was changed.");
        rc = UPRUN_DRIFT;
    } else if (n) {
        info(u, "going on despite %zu difference%s from the plan's schema (--allow-drift)", n,
             n == 1 ? "" : "s");
    }
done:
    free(at);
    return rc;
}

/* --- status ---------------------------------------------------------------- */

int
uprun_status(uprun *u, struct rt_error *err)
{
    const struct manifest *m = &u->bundle->manifest;
    struct history_row *rows = NULL;
    struct uprun_history_entry *hist = NULL;
    struct uprun_target *targets = NULL;
    struct uprun_step_ref *way = NULL;
    struct path_step *waypath = NULL;
    struct uprun_status st;
    struct uprun_event ev;
    struct progress pg;
    char *current = NULL, *database = NULL, msg[512];
    bool has_history, exists = false, *after = NULL;
    size_t n = 0, i, ntargets = 0;
    int rc;

    rt_error_clear(err);
    memset(&st, 0, sizeof st);
    if ((rc = connect_db(u, CONNECT_PEEK, err)) ||
        (rc = read_state(u, &current, &has_history, err)))
        goto done;
    if (history_exists(u->db, &exists, err) || (exists && history_read(u->db, &rows, &n, err))) {
        rc = UPRUN_USAGE;
        goto done;
    }
    /* the versions the current one leads to, by the versions' own steps or by merges (parents
     * and merged versions come first), and the way to the last one */
    {
        const struct mf_version *cv = manifest_version(m, current);
        size_t c = cv ? (size_t)(cv - m->versions) : SIZE_MAX, np;
        after = calloc(m->nversions + 1, sizeof *after);
        targets = calloc(m->nversions + 1, sizeof *targets);
        if (!after || !targets) {
            rt_fail(err, "out of memory");
            rc = UPRUN_USAGE;
            goto done;
        }
        for (i = 0; i < m->nversions; i++) {
            size_t p = m->versions[i].parent, g = m->versions[i].merged;
            after[i] = !cv || (p != SIZE_MAX && (p == c || after[p])) ||
                       (g != SIZE_MAX && (g == c || after[g]));
            if (after[i])
                targets[ntargets++] = (struct uprun_target){m->versions[i].name};
        }
        st.last = m->versions[m->nversions - 1].name;
        np = find_path(u, current, st.last, &waypath);
        st.way_exists = np != SIZE_MAX && (np == 0 || !waypath[0].down);
        if (st.way_exists && np) {
            if (!(way = calloc(np + 1, sizeof *way))) {
                rt_fail(err, "out of memory");
                rc = UPRUN_USAGE;
                goto done;
            }
            for (size_t k = 0; k < np; k++)
                way[k] =
                    (struct uprun_step_ref){waypath[k].step->index, waypath[k].from, waypath[k].to};
            st.way = way;
            st.nway = np;
        }
    }
    hist = calloc(n + 1, sizeof *hist);
    if (!hist) {
        rt_fail(err, "out of memory");
        rc = UPRUN_USAGE;
        goto done;
    }
    for (i = 0; i < n; i++)
        hist[i] = (struct uprun_history_entry){
            (unsigned)rows[i].step, rows[i].from_version, rows[i].to_version,  rows[i].direction,
            rows[i].status,         rows[i].started_at,   rows[i].finished_at, rows[i].duration_ms,
            rows[i].applied_by,     rows[i].message};
    if (step_progress(u, &pg, err)) {
        rc = UPRUN_USAGE;
        goto done;
    }
    if (pg.found) {
        st.in_progress = &pg.ref;
        st.units_done = pg.done;
        st.units = pg.units;
    }
    database = secret_redact(u->cfg.db_url);
    st.plan = m->plan_name;
    st.title = m->plan_title;
    st.database = database ? database : "****";
    st.dialect = u->dialect;
    st.exists = !u->missing;
    st.has_history = has_history;
    st.current = current;
    st.targets = targets;
    st.ntargets = ntargets;
    st.history = hist;
    st.nhistory = n;
    memset(&ev, 0, sizeof ev);
    ev.kind = UPRUN_EV_STATUS;
    ev.status = &st;
    snprintf(msg, sizeof msg, "%s: %s", m->plan_name,
             current      ? current
             : u->missing ? "the database does not exist yet"
                          : "empty");
    ev.message = msg;
    emit(u, &ev);
done:
    free(targets);
    free(way);
    free(waypath);
    free(after);
    free(hist);
    free(database);
    history_rows_free(rows, n);
    free(current);
    return outcome(u, rc, err);
}

/* --- plan, apply, rollback ------------------------------------------------- */

/*
 * A path down: every step must have a down-step, and a lossy one needs
 * allow_data_loss (UPRUN_PATH_REFUSED, err says which step and why).
 */
static int
check_down_path(const struct path_step *path, size_t n, bool allow_data_loss, struct rt_error *err)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (!path[i].down)
            continue;
        if (!path[i].entry) {
            rt_fail(err, "step %u (%s -> %s) cannot be rolled back: it is irreversible%s%s%s",
                    path[i].step->index, vname(path[i].from), vname(path[i].to),
                    path[i].ds->irreversible && path[i].ds->irreversible[0] ? " (" : "",
                    path[i].ds->irreversible ? path[i].ds->irreversible : "",
                    path[i].ds->irreversible && path[i].ds->irreversible[0] ? ")" : "");
            snprintf(err->hint, sizeof err->hint,
                     "Roll back to %s at the furthest, or restore a "
                     "backup.",
                     vname(path[i].from));
            return UPRUN_PATH_REFUSED;
        }
        if (path[i].ds->down_lossy && !allow_data_loss) {
            rt_fail(err,
                    "rolling back step %u (%s -> %s) restores dropped tables or columns "
                    "without their data",
                    path[i].step->index, vname(path[i].from), vname(path[i].to));
            snprintf(err->hint, sizeof err->hint,
                     "If that is acceptable, add --allow-data-loss; nothing was changed.");
            return UPRUN_PATH_REFUSED;
        }
    }
    return UPRUN_OK;
}

int
uprun_plan(uprun *u, const struct uprun_plan_opts *o, struct rt_error *err)
{
    struct path_step *path = NULL;
    char *current = NULL, buf[256];
    const char *to;
    bool has_history;
    size_t n, i, k;
    int rc;

    rt_error_clear(err);
    if ((rc = connect_db(u, CONNECT_PEEK, err)) ||
        (rc = read_state(u, &current, &has_history, err)) ||
        (rc = resolve_target(u, o->target, &to, err)))
        goto done;
    if ((rc = path_for(u, current, to, PATH_EITHER, &path, &n, err)))
        goto done;
    if (n == 0) {
        info(u, "the database is %s already: nothing to do", where(buf, sizeof buf, current));
        goto done;
    }
    if ((rc = choose_lowerings(u, path, n, false, err)))
        goto done;
    info(u, "%s from %s to %s: %zu step%s (dry run: nothing is changed)%s",
         path[0].down ? "rollback" : "upgrade", vname(current), vname(to), n, n == 1 ? "" : "s",
         u->missing ? "; the database does not exist yet" : "");
    for (i = 0; i < n; i++) {
        struct uprun_event ev;
        char msg[512];
        step_event(u, &ev, UPRUN_EV_INFO, &path[i], i + 1, n);
        snprintf(msg, sizeof msg, "step %u (%zu of %zu): %s -> %s (%s)%s%s%s%s%s%s",
                 path[i].step->index, i + 1, n, vname(path[i].from), vname(path[i].to),
                 path[i].entry ? path[i].entry->path : "irreversible: no down-step",
                 path[i].down && path[i].ds->down_lossy ? "  lossy: dropped data is not restored"
                                                        : "",
                 path[i].ds->foreign_keys_off ? "  rebuilds tables (foreign keys off)" : "",
                 path[i].lowering ? "  runs " : "", path[i].lowering ? path[i].lowering : "",
                 path[i].lowering ? ": " : "", path[i].lowering ? path[i].reason : "");
        ev.message = msg;
        ev.lowering = path[i].lowering;
        ev.reason = path[i].lowering ? path[i].reason : NULL;
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
        if (o->with_sql && path[i].entry) {
            struct uprun_event ev;
            unsigned char *sql;
            size_t len;
            if (step_sql(u, path[i].entry, &sql, &len, err)) {
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
    /* what the real command would refuse, the dry run refuses too */
    if ((rc = check_down_path(path, n, o->allow_data_loss, err)) ||
        (rc = preflight(u, o->allow_drift, path[0].down ? "uprun rollback" : "uprun apply", err)))
        goto done;
done:
    free(path);
    free(current);
    return outcome(u, rc, err);
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

/* Every --ack must name a breaking change of the bundle: a typo is refused, not ignored. */
static int
check_acks(uprun *u, const struct uprun_apply_opts *o, struct rt_error *err)
{
    const struct manifest *m = &u->bundle->manifest;
    size_t i, s, k;

    for (i = 0; i < o->nacks; i++) {
        bool found = false;
        for (s = 0; s < m->nsteps && !found; s++)
            for (k = 0; k < m->steps[s].nbreaking && !found; k++)
                found = strcmp(m->steps[s].breaking[k].id, o->acks[i]) == 0;
        if (!found) {
            size_t len = 0, listed = 0;
            rt_fail(err, "no step of the bundle has a breaking change \"%.200s\" (--ack)",
                    o->acks[i]);
            len = (size_t)snprintf(err->hint, sizeof err->hint, "Check the spelling; ");
            for (s = 0; s < m->nsteps; s++)
                for (k = 0; k < m->steps[s].nbreaking && len < sizeof err->hint; k++)
                    len += (size_t)snprintf(err->hint + len, sizeof err->hint - len, "%s\"%s\"",
                                            listed++ ? ", " : "the bundle has ",
                                            m->steps[s].breaking[k].id);
            if (len < sizeof err->hint)
                snprintf(err->hint + len, sizeof err->hint - len, "%s",
                         listed ? " (uprun plan shows those on the path)."
                                : "the bundle has none.");
            return UPRUN_USAGE;
        }
    }
    return UPRUN_OK;
}

/* The common body of apply and rollback: run the path, step by step or as one transaction. */
static int
run_path(uprun *u, struct path_step *path, size_t n, bool atomic, struct rt_error *err)
{
    const struct db_driver *drv = db_driver_of(u->db);
    struct rt_error ignored;
    bool fk_off = false;
    unsigned attempt = 1;
    char buf[256];
    size_t i;
    int rc;

    if (!atomic) {
        for (i = 0; i < n; i++) {
            if (u->interrupted) {
                rt_fail(err, "interrupted before step %u: the database is %s", path[i].step->index,
                        where(buf, sizeof buf, path[i].from));
                return UPRUN_INTERRUPTED;
            }
            if ((rc = run_step(u, path, i, n, false, err)))
                return rc;
        }
        return UPRUN_OK;
    }
    /* --atomic: one transaction for the whole path, tried again as a whole after a lock timeout */
    for (i = 0; i < n; i++)
        fk_off = fk_off || (drv->fk_off && path[i].ds->foreign_keys_off);
again:
    u->path_may_retry = attempt <= u->cfg.retries;
    if (fk_off && exec_counted(u, drv->fk_off, err))
        return UPRUN_USAGE;
    if (exec_counted(u, drv->begin_write, err) ||
        db_set_timeouts(u->db, lock_ms(u), statement_ms(u), true, err)) {
        db_exec(u->db, "ROLLBACK", &ignored);
        rc = u->interrupted          ? UPRUN_INTERRUPTED
             : db_error_is_busy(err) ? UPRUN_LOCKED
                                     : UPRUN_USAGE;
        i = 0;
        goto failed;
    }
    if ((rc = plan_alone(u, err)) != UPRUN_OK) {
        db_exec(u->db, "ROLLBACK", &ignored);
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
            goto failed;
        }
    }
    if (exec_counted(u, "COMMIT", err)) {
        db_exec(u->db, "ROLLBACK", &ignored);
        rc = u->interrupted ? UPRUN_INTERRUPTED : UPRUN_STEP_FAILED;
        goto undo_pragma;
    }
    rc = UPRUN_OK;
    goto undo_pragma;
failed:
    if (rc == UPRUN_LOCKED && u->path_may_retry && !u->interrupted) {
        if (fk_off)
            db_exec(u->db, drv->fk_on, &ignored);
        attempt++;
        retry_event(u, &path[i < n ? i : 0], (i < n ? i : 0) + 1, n, attempt, err, true);
        if (!pause_for(u, backoff(attempt))) {
            rt_fail(err, "interrupted while waiting to try the path again: the database is %s",
                    where(buf, sizeof buf, path[0].from));
            return UPRUN_INTERRUPTED;
        }
        rt_error_clear(err);
        goto again;
    }
    if (rc == UPRUN_LOCKED && i == 0 && !err->message[0])
        rt_fail(err, "the database is locked");
undo_pragma:
    if (fk_off)
        db_exec(u->db, drv->fk_on, &ignored);
    return rc;
}

int
uprun_apply(uprun *u, const struct uprun_apply_opts *o, struct rt_error *err)
{
    struct path_step *path = NULL;
    char *current = NULL, buf[256];
    const char *to;
    bool has_history, missing = false, resume = false;
    size_t n = 0, i, k;
    int rc;

    rt_error_clear(err);
    if ((rc = check_acks(u, o, err)) || (rc = connect_db(u, CONNECT_CREATE, err)) ||
        (rc = resolve_target(u, o->target, &to, err)))
        goto done;
    if ((rc = lock_pg(u, err)) || (rc = read_state(u, &current, &has_history, err)) ||
        (rc = check_sequence(u, err)) || (rc = path_for(u, current, to, PATH_UP, &path, &n, err)) ||
        (rc = check_progress(u, path, n, &resume, err)))
        goto done;
    if (n == 0) {
        info(u, "the database is %s already: nothing to do", where(buf, sizeof buf, current));
        goto done;
    }
    if ((rc = choose_lowerings(u, path, n, o->atomic, err)) ||
        (rc = check_atomic(path, n, o->atomic, err)) ||
        (!resume && (rc = preflight(u, o->allow_drift, "uprun apply", err))))
        goto done;
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
    if (o->backup && u->pending) {
        info(u, "nothing to back up: the database is new (--backup %s not written)", o->backup);
    } else if (o->backup) {
        if (db_backup(u->db, o->backup, err)) {
            rc = db_error_is_busy(err) ? UPRUN_LOCKED : UPRUN_USAGE;
            goto done;
        }
        info(u, "backup written to %s", o->backup);
    }
    if ((rc = materialize(u, err)) != UPRUN_OK)
        goto done;
    if ((rc = history_ensure(u->db, err)) != 0) {
        rc = db_error_is_busy(err) ? lock_failed(u, "creating the history table", 1, err)
                                   : UPRUN_USAGE;
        goto done;
    }
    rc = run_path(u, path, n, o->atomic, err);
    if (rc == UPRUN_OK)
        info(u, "done: the database is %s", where(buf, sizeof buf, to));
done:
    free(path);
    free(current);
    if (rc == UPRUN_RESTART) {
        u->restarted = true;
        return uprun_apply(u, o, err);
    }
    return outcome(u, rc, err);
}

int
uprun_rollback(uprun *u, const struct uprun_rollback_opts *o, struct rt_error *err)
{
    struct path_step *path = NULL;
    char *current = NULL, buf[256];
    const char *to;
    bool has_history, resume = false;
    size_t n = 0;
    int rc;

    rt_error_clear(err);
    if ((rc = connect_db(u, CONNECT_WRITE, err)) ||
        (rc = resolve_target(u, o->target ? o->target : "empty", &to, err)) ||
        (rc = lock_pg(u, err)) || (rc = read_state(u, &current, &has_history, err)) ||
        (rc = check_sequence(u, err)))
        goto done;
    if ((rc = path_for(u, current, to, PATH_DOWN, &path, &n, err)) ||
        (rc = check_progress(u, path, n, &resume, err)))
        goto done;
    if (n == 0) {
        info(u, "the database is %s already: nothing to do", where(buf, sizeof buf, current));
        goto done;
    }
    if ((rc = check_down_path(path, n, o->allow_data_loss, err)) ||
        (rc = choose_lowerings(u, path, n, o->atomic, err)) ||
        (rc = check_atomic(path, n, o->atomic, err)) ||
        (!resume && (rc = preflight(u, o->allow_drift, "uprun rollback", err))))
        goto done;
    info(u, "rolling %s back from %s to %s: %zu step%s", u->bundle->manifest.plan_name,
         vname(current), vname(to), n, n == 1 ? "" : "s");
    if (releases_ensure(u->db, err)) { /* a history an older uprun made has none */
        rc = db_error_is_busy(err) ? lock_failed(u, "creating the releases table", 1, err)
                                   : UPRUN_USAGE;
        goto done;
    }
    rc = run_path(u, path, n, o->atomic, err);
    if (rc == UPRUN_OK)
        info(u, "done: the database is %s", where(buf, sizeof buf, to));
done:
    free(path);
    free(current);
    return outcome(u, rc, err);
}

/* --- verify, baseline ------------------------------------------------------- */

int
uprun_verify(uprun *u, struct rt_error *err)
{
    char *current = NULL, *at = NULL;
    bool has_history;
    size_t ndiff = 0;
    int rc;

    rt_error_clear(err);
    if ((rc = connect_db(u, CONNECT_READ, err)) ||
        (rc = read_state(u, &current, &has_history, err)) ||
        (rc = compare_current(u, &at, &ndiff, err)))
        goto done;
    if (ndiff) {
        if (at)
            rt_fail(err, "the live schema differs from version %s of the plan in %zu place%s", at,
                    ndiff, ndiff == 1 ? "" : "s");
        else
            rt_fail(err,
                    "the database should be empty, and differs from an empty one in %zu "
                    "place%s",
                    ndiff, ndiff == 1 ? "" : "s");
        snprintf(err->hint, sizeof err->hint,
                 "Someone changed the schema by hand, or a sql block changed it: reconcile before "
                 "the next upgrade.");
        rc = UPRUN_DRIFT;
    } else if (at) {
        info(u, "the live schema matches version %s of the plan", at);
    } else {
        info(u, "the database is empty, as its history says (no table but the history)");
    }
done:
    free(current);
    free(at);
    return outcome(u, rc, err);
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

    struct rt_error ignored;
    bool in_tx = false;

    rt_error_clear(err);
    if ((rc = connect_db(u, CONNECT_WRITE, err)) || (rc = resolve_target(u, version, &v, err)) ||
        (rc = lock_pg(u, err)))
        goto done;
    /* the check and the row in one writing transaction: of baselines run at once, one records
     * and the others find its history (on SQLite there is no runners' lock but this) */
    if (db_exec(u->db, db_driver_of(u->db)->begin_write, err) ||
        (in_tx = true, history_ensure(u->db, err))) {
        rc = db_error_is_busy(err) ? lock_failed(u, "the baseline", 1, err) : UPRUN_USAGE;
        goto done;
    }
    if ((rc = read_state(u, &current, &has_history, err)))
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
    {
        struct history_entry h;
        char now[32], note[160];
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
        h.message = ndiff                ? "baselined with --force despite differences"
                    : u->legacy_accepted ? "baselined: the schema is in a legacy form the plan "
                                           "declares"
                                         : NULL;
        if (u->expired) {
            snprintf(note, sizeof note, "%s%srun with an expired bundle (--allow-expired)",
                     h.message ? h.message : "", h.message ? "; " : "");
            h.message = note;
        }
        if (history_insert(u->db, &h, err) ||
            releases_record(u->db, h.plan, u->bundle->manifest.channel,
                            u->bundle->manifest.sequence, h.manifest_sha256, now, err) ||
            db_exec(u->db, "COMMIT", err)) {
            rc = db_error_is_busy(err) ? lock_failed(u, "the baseline", 1, err) : UPRUN_USAGE;
            goto done;
        }
        in_tx = false;
    }
    info(u, "recorded: the database is at version %s of plan \"%s\"%s", v,
         u->bundle->manifest.plan_name,
         u->legacy_accepted ? " (its differences are legacy forms the plan declares, above)" : "");
done:
    if (in_tx)
        db_exec(u->db, "ROLLBACK", &ignored);
    free(current);
    return outcome(u, rc, err);
}
