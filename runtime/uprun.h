/* SPDX-License-Identifier: MIT */
/*
 * uprun.h: the public interface of libuprun, the runtime that applies
 * compiled upgrade plans. uprun (the command) is a thin front over it; a
 * product can link it and run its own upgrades.
 *
 *     uprun *u;
 *     struct uprun_config cfg = {.bundle_dir = "bundle", .pubkey_path = "release.pub",
 *                                .db_url = "sqlite:app.db", .lock_timeout = 30};
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
    UPRUN_STEP_FAILED = 1,    /* a step failed and was rolled back: the database is at the last good version */
    UPRUN_USAGE = 2,          /* usage, configuration or I/O error: nothing was changed */
    UPRUN_BUNDLE_REFUSED = 3, /* the bundle did not verify: nothing was run, no database opened */
    UPRUN_DB_REFUSED = 4,     /* the database's history does not fit this bundle (another plan, an
                                 unknown version, a step applied from different SQL) */
    UPRUN_LOCKED = 5,         /* another runner held the lock past --lock-timeout */
    UPRUN_ACK_MISSING = 6,    /* a breaking change on the path was not acknowledged */
    UPRUN_DRIFT = 7,          /* the live schema differs from the plan's (verify, baseline) */
    UPRUN_PATH_REFUSED = 8,   /* no such path: unknown or unreachable version, irreversible or lossy rollback */
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
    UPRUN_EV_HISTORY,      /* a row of the history (status): the history fields */
    UPRUN_EV_DRIFT,        /* a difference between the live and the expected schema: text */
};

struct uprun_event {
    enum uprun_event_kind kind;
    const char *message; /* a sentence for people, always set */
    /* the step, for step events (and notices, breaking changes, findings, SQL) */
    unsigned step;        /* the manifest's step index */
    size_t position;      /* i of count on this run's path */
    size_t count;
    const char *from;     /* NULL: an empty database */
    const char *to;
    const char *direction; /* "up", "down" */
    double elapsed;       /* seconds */
    bool atomic;          /* apply --atomic: a step done commits only with the whole path, and a
                             failure rolls the whole path back */
    const char *at;       /* a failed step: the version the database is at now (NULL: empty) */
    /* notices, breaking changes, findings, SQL, drift */
    const char *level;
    const char *id;
    const char *text;
    bool acknowledged;
    /* a failed step */
    const char *file;       /* the bundle's SQL file */
    size_t line;            /* the failing statement's line in it (exact when the database says) */
    size_t statement;       /* the failing statement, 1-based, of statements */
    size_t statements;
    const char *sql;        /* its text */
    long sql_position;      /* 1-based character of the error in sql, or 0 */
    const char *origin;     /* the plan line it comes from ("plan.upg:12:3"), or NULL */
    const struct rt_error *db_error;
    /* a history row */
    const char *started_at;
    const char *status;
    const char *applied_by;
    long long duration_ms;
};

typedef void (*uprun_event_fn)(void *arg, const struct uprun_event *ev);

struct uprun_config {
    const char *bundle_dir;
    const char *pubkey_path;
    const char *db_url;     /* sqlite:path, or a PostgreSQL connection string */
    double lock_timeout;    /* seconds to wait for another runner (default 0: fail at once) */
    uprun_event_fn event;   /* NULL: events are dropped */
    void *event_arg;
};

/*
 * Asked once per unacknowledged breaking change when acknowledgements may
 * be given interactively; returns true to acknowledge.
 */
typedef bool (*uprun_confirm_fn)(void *arg, const char *id, const char *text);

struct uprun_apply_opts {
    const char *target;        /* NULL: the bundle's last version */
    const char *const *acks;   /* breaking change ids acknowledged */
    size_t nacks;
    bool ack_all;
    bool atomic;               /* the whole path in one transaction */
    const char *backup;        /* SQLite: an online backup to this file first */
    uprun_confirm_fn confirm;  /* NULL: no interactive acknowledgement */
    void *confirm_arg;
};

/* Verifies the bundle against the public key. No database is opened. */
int uprun_open(const struct uprun_config *cfg, uprun **out, struct rt_error *err);
/*
 * Connects to the database now (only after uprun_open verified the bundle),
 * creating a SQLite file that does not exist, as apply does. Optional: each
 * command connects when it first needs to, with no more than it needs
 * (status, plan and verify read-only; rollback and baseline never create a
 * file).
 */
int uprun_connect(uprun *u, struct rt_error *err);
void uprun_close(uprun *u);

/* Plan, database, current version, reachable versions, and the history, as events. */
int uprun_status(uprun *u, struct rt_error *err);
/* The dry run to target (NULL: the last version): path, notices, breaking changes, findings, SQL. */
int uprun_plan(uprun *u, const char *target, bool with_sql, struct rt_error *err);
int uprun_apply(uprun *u, const struct uprun_apply_opts *opts, struct rt_error *err);
/* The down-steps from the current version back to target (NULL: an empty database). */
int uprun_rollback(uprun *u, const char *target, bool allow_data_loss, struct rt_error *err);
/* Compares the live schema with the plan's at the current version; UPRUN_DRIFT on a difference. */
int uprun_verify(uprun *u, struct rt_error *err);
/* Records that a database made without upgrade-plan is at version (after comparing its schema). */
int uprun_baseline(uprun *u, const char *version, bool force, struct rt_error *err);

/* The verified bundle's plan name and versions, for callers that need them. */
const char *uprun_plan_name(const uprun *u);

#endif
