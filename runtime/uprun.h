/* SPDX-License-Identifier: MIT */
/*
 * uprun.h: the public interface of libuprun, the runtime that applies
 * compiled upgrade plans. uprun (the command) is a thin front over it; a
 * product can link it and run its own upgrades.
 *
 *     uprun *u;
 *     struct uprun_config cfg = {.bundle_dir = "bundle", .pubkey_path = "release.pub",
 *                                .db_url = "sqlite:app.db", .lock_timeout = 30,
 *                                .retries = UPRUN_RETRIES_DEFAULT};
 *     int rc = uprun_open(&cfg, &u, &err);           verifies the bundle: no database yet
 *     if (rc == 0) rc = uprun_connect(u, &err);
 *     if (rc == 0) rc = uprun_apply(u, &opts, &err);
 *     uprun_close(u);
 *
 * Every function returns one of enum uprun_code (0 on success) and fills err
 * otherwise; nothing exits, nothing prints: what happens is reported
 * through the config's event callback, which the caller renders (uprun
 * prints lines, or JSON objects with --json).
 */
#ifndef UPG_RUNTIME_UPRUN_H
#define UPG_RUNTIME_UPRUN_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/rt_error.h"

/* The outcomes, which are also uprun's exit statuses. */
enum uprun_code {
    UPRUN_OK = 0,
    UPRUN_STEP_FAILED =
        1, /* a step failed and was rolled back: the database is at the last good version */
    UPRUN_USAGE = 2,          /* usage, configuration or I/O error: nothing was changed */
    UPRUN_BUNDLE_REFUSED = 3, /* the bundle did not verify: nothing was run, no database opened */
    UPRUN_DB_REFUSED = 4,     /* the database's history does not fit this bundle (another plan, an
                                 unknown version, a step applied from different SQL) */
    UPRUN_LOCKED = 5,         /* a lock was not had in time: another runner past --lock-timeout, or
                                 the database's own locks past --db-lock-timeout on every try */
    UPRUN_ACK_MISSING = 6,    /* a breaking change on the path was not acknowledged */
    UPRUN_DRIFT = 7,          /* the live schema differs from the plan's (verify, baseline, and
                                 apply, rollback and plan before any change); or a SQLite rebuild
                                 would drop what the plan does not know */
    UPRUN_PATH_REFUSED =
        8, /* no such path: unknown or unreachable version, irreversible or lossy rollback */
    UPRUN_INTERRUPTED = 9, /* uprun_interrupt() (uprun: SIGINT, SIGTERM): the running statement was
                                 cancelled and its step rolled back; the database is at the last
                                 completed version */
};

/* Defaults of struct uprun_config. */
#define UPRUN_DB_LOCK_TIMEOUT_DEFAULT 5.0 /* seconds a statement waits for a lock */
#define UPRUN_RETRIES_DEFAULT 3           /* uprun's --retries */
#define UPRUN_ONLINE_THRESHOLD_DEFAULT                                                             \
    100000ULL                          /* rows: --online auto runs a change online above */
#define UPRUN_BATCH_SIZE_DEFAULT 1000u /* rows a batch of a backfill changes at most */
#define UPRUN_ONLINE_LOCK_MS                                                                       \
    1000 /* at most this long the swap of an online change waits for its
                                     table's lock before it is tried again */

/* For a step with a change that can run online (the bundle carries both lowerings). */
enum uprun_online {
    UPRUN_ONLINE_AUTO,   /* online when the tables are estimated above online_threshold rows */
    UPRUN_ONLINE_ALWAYS, /* online */
    UPRUN_ONLINE_NEVER,  /* offline: the table locked while it is rewritten, one transaction */
};

typedef struct uprun uprun;

enum uprun_event_kind {
    UPRUN_EV_INFO,         /* a line of information: message */
    UPRUN_EV_NOTICE,       /* a notice of a step on the path: level, text */
    UPRUN_EV_BREAKING,     /* a breaking change on the path: id, text, acknowledged */
    UPRUN_EV_FINDING,      /* a lint finding on the path: id (the lint), text */
    UPRUN_EV_STEP_BEGIN,   /* a step starts */
    UPRUN_EV_STEP_DONE,    /* a step committed: elapsed */
    UPRUN_EV_STEP_SKIPPED, /* a step another runner applied meanwhile */
    UPRUN_EV_STEP_FAILED,  /* a step failed and was rolled back: the failure fields */
    UPRUN_EV_PROGRESS,     /* about once a second during a long step: elapsed */
    UPRUN_EV_SQL,          /* the SQL of a step (plan --sql): text */
    UPRUN_EV_STATUS,       /* the database's state (status): status */
    UPRUN_EV_DRIFT,   /* a difference between the live and the expected schema: the drift fields */
    UPRUN_EV_RETRY,   /* a step (or --atomic, the path) timed out on a lock, was rolled back, and
                              is tried again after wait seconds: attempt of attempts */
    UPRUN_EV_CARRIED, /* an object the plan does not know was carried over a SQLite table
                              rebuild (re-created after it): table, object, name */
    UPRUN_EV_UNIT,    /* a unit of a step that runs in units is done: unit of units, statement,
                         origin, how */
};

/* A step of a path, for status. */
struct uprun_step_ref {
    unsigned step;    /* the manifest's step index */
    const char *from; /* NULL: an empty database */
    const char *to;
};

/* A version the database can be upgraded to. */
struct uprun_target {
    const char *version;
};

/* A row of the history table. */
struct uprun_history_entry {
    unsigned step;
    const char *from, *to; /* NULL: empty */
    const char *direction; /* up, down, baseline */
    const char *status;    /* applied, reverted, baselined, failed */
    const char *started_at, *finished_at;
    long long duration_ms;
    const char *applied_by;
    const char *message; /* a failed step's error, or NULL */
};

/* What uprun_status() reports, in one event. */
struct uprun_status {
    const char *plan, *title; /* title may be NULL */
    const char *database;     /* the URL, its password masked */
    const char *dialect;
    bool exists; /* false: a SQLite file that does not exist yet (apply creates it) */
    bool has_history;
    const char *current;                /* NULL: empty */
    const struct uprun_target *targets; /* the versions current leads to (its branch, and
                                           those that merge it) */
    size_t ntargets;
    /* the way to the bundle's last version: the steps uprun apply would take (a path is linear
     * in the plan; one per target would be quadratic) */
    const char *last;
    bool way_exists; /* false: no step leads from current to last (a line that ends) */
    const struct uprun_step_ref *way;
    size_t nway;
    /* a step that runs in units and is in progress: some of its units are done (journaled),
     * the others not; uprun apply resumes it. NULL: none */
    const struct uprun_step_ref *in_progress;
    unsigned units_done, units;
    const struct uprun_history_entry *history; /* oldest first */
    size_t nhistory;
};

struct uprun_event {
    enum uprun_event_kind kind;
    const char *message; /* a sentence for people, always set */
    /* the step, for step events (and notices, breaking changes, findings, SQL) */
    unsigned step;   /* the manifest's step index */
    size_t position; /* i of count on this run's path */
    size_t count;
    const char *from; /* NULL: an empty database */
    const char *to;
    const char *direction; /* "up", "down" */
    double elapsed;        /* seconds */
    bool atomic;           /* --atomic: a step done commits only with the whole path, and a
                             failure rolls the whole path back */
    const char *at;        /* a failed step: the version the database is at now (NULL: empty) */
    /* notices, breaking changes, findings, SQL */
    const char *level;
    const char *id;
    const char *text;
    bool acknowledged;
    /* a failed step */
    const char *file; /* the bundle's SQL file */
    size_t line;      /* the failing statement's line in it (exact when the database says) */
    size_t statement; /* the failing statement, 1-based, of statements (0: none ran) */
    size_t statements;
    const char *sql;    /* its text */
    long sql_position;  /* 1-based character of the error in sql, or 0 */
    const char *origin; /* the plan line it comes from ("plan.upg:12:3"), or NULL */
    const struct rt_error *db_error;
    bool interrupted; /* the step was cancelled by uprun_interrupt() */
    /* a failed step: what became of it; UPRUN_ROLLED_BACK but for the two cases below */
    enum uprun_outcome {
        UPRUN_ROLLED_BACK, /* the database is at ev.at */
        UPRUN_PARTIAL,     /* the step's own SQL ended uprun's transaction: it may be partly
                              committed, unrecorded */
        UPRUN_UNKNOWN,     /* the connection was lost at COMMIT and could not be made again:
                              the history row (status) will say whether it committed */
        UPRUN_IN_PROGRESS, /* a step that runs in units stopped after unit - 1 of units:
                              those are done and journaled, uprun apply resumes at unit */
    } outcome;
    int code; /* a failed step: the outcome it leads to (enum uprun_code) */
    /* drift (and carried objects: table, object, name) */
    const char *table;    /* the table */
    const char *object;   /* "table", "column", "primary key", "unique constraint",
                               "foreign key", "check constraint", "index", "trigger", "view" */
    const char *name;     /* the object's name (NULL: a SQLite key, which has none) */
    const char *change;   /* "missing", "unexpected", "differs" */
    const char *field;    /* "differs": the member that differs ("not_null", "default", ...) */
    const char *expected; /* JSON text of the expected value (the object when missing), or NULL */
    const char *found;    /* JSON text of the live value (the object when unexpected), or NULL */
    /* a unit (and a failed step that runs in units: the unit that failed) */
    unsigned unit, units;
    const char *how; /* a unit done: "ran", "found done" (its postcheck held), "fixed and ran" */
    /* a step with two lowerings (step_begin, and plan's line of the step): "online" or "offline",
     * and why; NULL for the others */
    const char *lowering;
    const char *reason;
    /* progress of a unit in batches: rows changed so far, and the table's estimated rows (-1:
     * unknown); has_rows says they are set */
    bool has_rows;
    long long rows, rows_total;
    /* a retry */
    unsigned attempt;  /* the try about to start, 2 or more */
    unsigned attempts; /* how many tries there are in all */
    double wait;       /* seconds before it */
    /* status */
    const struct uprun_status *status;
};

typedef void (*uprun_event_fn)(void *arg, const struct uprun_event *ev);

struct uprun_config {
    const char *bundle_dir;
    const char *pubkey_path;         /* the release's public key file (one key, or several) */
    const char *const *pubkey_paths; /* more key files, trusted too (a key rotation); may be NULL */
    size_t npubkey_paths;
    const char *db_url;       /* sqlite:path, or a PostgreSQL connection string */
    double lock_timeout;      /* seconds to wait for another runner's lock (PostgreSQL's advisory
                               lock; default 0: fail at once) */
    double db_lock_timeout;   /* seconds each statement waits for the database's own locks
                               (PostgreSQL's lock_timeout, SQLite's busy timeout); 0: the default,
                               UPRUN_DB_LOCK_TIMEOUT_DEFAULT */
    unsigned retries;         /* how many times a step that timed out on a lock is rolled back and
                               tried again, after 0.5 s, 1 s, 2 s, ... (at most 10 s) */
    double statement_timeout; /* seconds a statement may run (PostgreSQL's statement_timeout; on
                                 SQLite uprun stops it); 0: no limit */
    bool allow_expired;       /* run a bundle past its expiry (an air-gapped emergency); each
                                 history row says so */
    enum uprun_online online; /* which lowering of a step with an online change runs */
    unsigned long long online_threshold; /* rows; 0: UPRUN_ONLINE_THRESHOLD_DEFAULT */
    unsigned batch_size;                 /* rows per batch of a backfill; 0: the default */
    double batch_pause;                  /* seconds between batches (0: none) */
    uprun_event_fn event;                /* NULL: events are dropped */
    void *event_arg;
};

/*
 * Asked once per unacknowledged breaking change when acknowledgements may
 * be given interactively; returns true to acknowledge.
 */
typedef bool (*uprun_confirm_fn)(void *arg, const char *id, const char *text);

struct uprun_apply_opts {
    const char *target; /* NULL: the bundle's last version */
    const char *const
        *acks; /* breaking change ids acknowledged (each must be one the bundle has) */
    size_t nacks;
    bool ack_all;
    bool atomic;              /* the whole path in one transaction */
    bool allow_drift;         /* go on when the live schema differs from the recorded version's */
    const char *backup;       /* SQLite: an online backup to this file first */
    uprun_confirm_fn confirm; /* NULL: no interactive acknowledgement */
    void *confirm_arg;
};

struct uprun_rollback_opts {
    const char *target;   /* NULL: an empty database */
    bool allow_data_loss; /* allow down-steps that cannot restore dropped data */
    bool atomic;          /* the whole path in one transaction */
    bool allow_drift;
};

struct uprun_plan_opts {
    const char *target;   /* NULL: the bundle's last version */
    bool with_sql;        /* the SQL of each step, as events */
    bool allow_data_loss; /* as rollback: a lossy path is shown, not refused */
    bool allow_drift;     /* as apply: drift is shown, not refused */
};

/* Verifies the bundle against the public key. No database is opened. */
int uprun_open(const struct uprun_config *cfg, uprun **out, struct rt_error *err);
/*
 * Connects to the database now (only after uprun_open verified the bundle),
 * creating a SQLite file that does not exist, as apply does. Optional: each
 * command connects when it first needs to, with no more than it needs
 * (status, plan and verify read-only; rollback and baseline never create a
 * file; status and plan take a SQLite file that does not exist for an
 * empty database).
 */
int uprun_connect(uprun *u, struct rt_error *err);
void uprun_close(uprun *u);

/*
 * Stops the command running on u, from a signal handler or another thread
 * (it is async-signal-safe): the statement running is cancelled on the
 * server (PQcancel; sqlite3_interrupt on SQLite), its step is rolled back,
 * and the command returns UPRUN_INTERRUPTED. Every later command on u does
 * too: close it.
 */
void uprun_interrupt(uprun *u);

/* Plan, database, current version, reachable versions (with their paths), and the history:
 * one UPRUN_EV_STATUS event. */
int uprun_status(uprun *u, struct rt_error *err);
/*
 * The dry run: path, notices, breaking changes, findings, SQL. It refuses
 * what apply or rollback would refuse (an irreversible or lossy path, drift).
 */
int uprun_plan(uprun *u, const struct uprun_plan_opts *opts, struct rt_error *err);
int uprun_apply(uprun *u, const struct uprun_apply_opts *opts, struct rt_error *err);
/* The down-steps from the current version back to target. */
int uprun_rollback(uprun *u, const struct uprun_rollback_opts *opts, struct rt_error *err);
/* Compares the live schema with the plan's at the current version; UPRUN_DRIFT on a difference. */
int uprun_verify(uprun *u, struct rt_error *err);
/* Records that a database made without upgrade-plan is at version (after comparing its schema). */
int uprun_baseline(uprun *u, const char *version, bool force, struct rt_error *err);

/* The verified bundle's plan name and versions, for callers that need them. */
const char *uprun_plan_name(const uprun *u);

#endif
