/* SPDX-License-Identifier: MIT */
/*
 * history.h: the history table, upgrade_plan_history, in the target
 * database. One row per step applied, reverted or failed, and one for a
 * baseline. A step's row is written in the same transaction as the step,
 * so the two commit or vanish together; the database's current version is
 * the version the last applied, reverted or baselined row leads to.
 *
 *   id               row number (identity)
 *   plan             the plan's name
 *   step             the manifest's step index
 *   from_version     where the step started (NULL: an empty database)
 *   to_version       where it led (NULL: an empty database, after the first step's down)
 *   direction        up, down or baseline
 *   manifest_sha256  of the bundle's manifest.json
 *   file_sha256      of the SQL file that ran (the schema file for a baseline)
 *   sql_sha256       of the statements alone, without comments: what the history check
 *                    compares, so that a bundle rebuilt from a plan whose comments or line
 *                    numbers moved is still recognised ("" for a baseline)
 *   started_at, finished_at   UTC, ISO 8601 with milliseconds
 *   duration_ms
 *   applied_by       user@host
 *   status           applied, reverted, baselined, failed
 *   message          the database's error, for a failed step
 */
#ifndef UPG_RUNTIME_HISTORY_H
#define UPG_RUNTIME_HISTORY_H

#include "runtime/names.h"
#include <stdbool.h>

#include "runtime/db.h"

#define HISTORY_TABLE UPG_HISTORY_TABLE

struct history_row {
    char *id;
    char *plan;
    int step;
    char *from_version; /* NULL: empty */
    char *to_version;   /* NULL: empty */
    char *direction;
    char *manifest_sha256;
    char *file_sha256;
    char *sql_sha256;
    char *started_at;
    char *finished_at;
    long long duration_ms;
    char *applied_by;
    char *status;
    char *message;
};

/* Creates the table when it is missing (in its own statement). */
int history_ensure(struct db *db, struct rt_error *err);
/* Whether the table exists. */
int history_exists(struct db *db, bool *exists, struct rt_error *err);

/*
 * Reads the current version into *version (malloc'd; NULL for an empty
 * database) and whether any row exists at all. The table must exist.
 */
int history_current(struct db *db, char **version, bool *any, struct rt_error *err);

/*
 * Whether the history has the row of a step that started at started_at
 * (history_now()'s text) in direction, with status applied or reverted:
 * how a runner whose connection was lost at COMMIT finds out, on a new one,
 * whether the step committed.
 */
int history_has_step(struct db *db, int step, const char *direction, const char *started_at,
                     bool *found, struct rt_error *err);

/* The plans the history names (other than `plan`), as one malloc'd, comma-separated string, or NULL. */
int history_other_plans(struct db *db, const char *plan, char **others, struct rt_error *err);

/*
 * The sql_sha256 of the last up-step applied to `to` (malloc'd), or NULL
 * when that step was never applied (or was baselined).
 */
int history_applied_sha(struct db *db, const char *to, char **sha, struct rt_error *err);

/* Every row, oldest first; the caller frees them with history_rows_free(). */
int history_read(struct db *db, struct history_row **rows, size_t *n, struct rt_error *err);
void history_rows_free(struct history_row *rows, size_t n);

/* A row to insert. */
struct history_entry {
    const char *plan;
    int step;
    const char *from_version;
    const char *to_version;
    const char *direction;
    const char *manifest_sha256;
    const char *file_sha256;
    const char *sql_sha256;
    const char *started_at;
    const char *finished_at;
    long long duration_ms;
    const char *applied_by;
    const char *status;
    const char *message;
};

int history_insert(struct db *db, const struct history_entry *row, struct rt_error *err);

/*
 * The journal of units (upgrade_plan_units): a step that runs in units
 * (manifest.h, struct mf_unit) records each unit it finishes, with the
 * history row the step started from (its base, history_base()). The units of
 * a step in progress are the rows of its plan, step, direction, file and
 * base; when the step is done its history row is the newer base, and the old
 * rows no longer count.
 */
int units_ensure(struct db *db, struct rt_error *err);
/* The id of the plan's newest row that is not a failure (0: none), the base of a step. */
int history_base(struct db *db, const char *plan, long long *base, struct rt_error *err);
/* The highest unit journaled for the step at base (0: none yet); false *exists: no journal. */
int units_done(struct db *db, const char *plan, int step, const char *direction, long long base,
               const char *file_sha256, unsigned *done, struct rt_error *err);

/* The step of the plan with units journaled at base, if any: *found, its step, direction ("up",
 * "down"), units done and in all, and file (sha256, 64 hex digits). */
int units_in_progress(struct db *db, const char *plan, long long base, bool *found, int *step,
                      char direction[8], unsigned *done, unsigned *units, char file_sha256[65],
                      struct rt_error *err);

struct unit_entry {
    const char *plan;
    int step;
    const char *direction;
    long long base;
    unsigned unit, units;
    const char *file_sha256;
    const char *how; /* "ran", "found done" (its postcheck held), "fixed and ran" */
    const char *finished_at;
    const char *applied_by;
};

int units_insert(struct db *db, const struct unit_entry *e, struct rt_error *err);

/*
 * The journal of a unit that runs in batches (upgrade_plan_batches): one row
 * per unit in progress (plan, step, direction, base, unit, file), its last
 * key done and the rows changed so far, rewritten in each batch's
 * transaction, so that a batch and its row commit together.
 */
int batches_ensure(struct db *db, struct rt_error *err);
/* The last key of e's unit (malloc'd; NULL: no batch yet) and its rows changed so far. */
int batches_get(struct db *db, const struct unit_entry *e, char **last, long long *rows,
                struct rt_error *err);
/* Records e's unit at last (the key) with rows changed so far, inside the caller's transaction. */
int batches_put(struct db *db, const struct unit_entry *e, const char *last, long long rows,
                struct rt_error *err);

/*
 * The releases a database has run (upgrade_plan_releases): the plan, the
 * channel and the sequence of every bundle that wrote a history row, so that
 * an older bundle, validly signed, cannot be replayed against it.
 */
int releases_ensure(struct db *db, struct rt_error *err);
/* The highest sequence of plan and channel the database has run (0: none, or no table). */
int releases_highest(struct db *db, const char *plan, const char *channel,
                     unsigned long long *highest, struct rt_error *err);
/* Records that this sequence ran (once per plan, channel, sequence and manifest). */
int releases_record(struct db *db, const char *plan, const char *channel,
                    unsigned long long sequence, const char *manifest_sha256, const char *at,
                    struct rt_error *err);

/* "2026-11-22T03:45:12.123Z" for now, into out[32]. */
void history_now(char out[32]);
/* user@host of this process, into out. */
void history_whoami(char *out, size_t size);

#endif
