/* SPDX-License-Identifier: MIT */
/*
 * manifest.h: the bundle's manifest.json, the contract between upc and
 * uprun. This is the one writer and the one reader of the format
 * (docs/bundle-format.md, docs/manifest.schema.json); upc links it.
 *
 * The writer produces canonical bytes: keys sorted, two-space indent, ASCII
 * only (non-ASCII escaped), integers only, a final newline. The same model
 * always gives the same bytes, so the same plan gives the same signature.
 *
 * The reader is strict: every required member with its type, sizes and
 * digests well-formed, paths inside the bundle. It runs only after the
 * signature verified (bundle.c), but it trusts nothing all the same.
 */
#ifndef UPG_RUNTIME_MANIFEST_H
#define UPG_RUNTIME_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/rt_error.h"

#define MANIFEST_FORMAT "upgrade-plan-bundle"
/* 2: each step's schema file holds what the step changes (a delta), not the whole schema;
 * 3: and a table it changes under the same name as a patch (what differs), not whole;
 * 4: channel, sequence and expires;
 * 5: units of kind "batches" and "transaction", a step's "estimate" and "offline" lowering */
#define MANIFEST_FORMAT_VERSION 5
#define MANIFEST_FILE "manifest.json"
#define MANIFEST_SIG_FILE "manifest.json.minisig"
#define MANIFEST_MAX_BYTES ((size_t)256 << 20) /* read bound for the envelope */

struct mf_file {
    char *path;      /* relative to the bundle: "postgres/0002-6.0-to-6.1.up.sql" */
    char sha256[65]; /* lower-case hex */
    uint64_t size;
};

/* A statement of a step's file that runs as a unit of its own, outside a transaction, with the
 * catalogue queries (one row, one boolean) that let a run resume it (docs/bundle-format.md). */
enum mf_unit_kind {
    MF_UNIT_ALONE,       /* "alone" (the default): outside a transaction, never run twice */
    MF_UNIT_BATCHES,     /* "batches": run again and again, each batch in a transaction of its own
                            with the journal of the last key; $1 that key (NULL at first), $2 the
                            batch size; one row back: keys seen, the last as text, rows changed */
    MF_UNIT_TRANSACTION, /* "transaction": a transactional unit begins here; no checks */
};

struct mf_unit {
    enum mf_unit_kind kind;
    unsigned statement; /* its number in the file, from 1 */
    char *pre;          /* the statement can run (NULL for MF_UNIT_TRANSACTION) */
    char *post;         /* its effect is there: it ran (NULL for MF_UNIT_TRANSACTION) */
    char *fix_when;     /* an earlier attempt left something fix removes first; or NULL */
    char *fix;          /* a statement; NULL exactly when fix_when is */
};

struct mf_dialect_step {
    char *dialect; /* "postgres", "sqlite" */
    struct mf_file up;
    bool has_down;
    struct mf_file down; /* when has_down */
    unsigned up_statements, down_statements;
    bool transactional;    /* the step runs in one transaction */
    bool foreign_keys_off; /* SQLite: PRAGMA foreign_keys=OFF around the transaction */
    bool down_lossy;       /* the down-step cannot restore dropped data */
    char *irreversible;    /* no down-step: the reason ("" when none was given), or NULL */
    struct mf_file schema; /* what the step changes in the expected schema (a delta, see
                                 docs/bundle-format.md) */
    struct mf_unit *up_units, *down_units; /* in statement order; none: the direction runs in
                                              one transaction */
    size_t nup_units, ndown_units;
    /* a step with a change lowered online (PostgreSQL): the query (one row, one integer) of the
     * largest estimated rows of the tables so changed, and the step's other lowering, offline
     * (its up, down, statements, units and transactional; the rest is this one's); else NULL */
    char *estimate;
    struct mf_dialect_step *offline;
};

struct mf_notice {
    char *level; /* "info", "warning" */
    char *text;
};

struct mf_breaking {
    char *id;
    char *text;
};

struct mf_finding {
    char *lint;    /* "table_rewrite", "sqlite_rebuild", ... */
    char *dialect; /* the dialect it concerns, or NULL for all */
    char *message;
};

struct mf_step {
    unsigned index; /* 1-based, the version's declaration order */
    char *from;     /* NULL: an empty database */
    char *to;
    struct mf_notice *notices;
    size_t nnotices;
    struct mf_breaking *breaking;
    size_t nbreaking;
    struct mf_finding *findings;
    size_t nfindings;
    struct mf_dialect_step *dialects;
    size_t ndialects;
};

/*
 * A legacy form the plan declares (legacy DIALECT { ... }): a way in which a
 * real installation's schema may differ from the plan's; verify and
 * baseline accept exactly these.
 */
struct mf_legacy {
    char *dialect;
    char *table;
    char *column;   /* NULL for "no_foreign_key" */
    char *kind;     /* "nullable", "default", "type", "no_foreign_key" */
    char *value;    /* "default": the default in canonical form, as compact JSON; "type": the
                     declared type; NULL otherwise */
    char **columns; /* "no_foreign_key": the foreign key's columns */
    size_t ncolumns;
};

struct mf_version {
    char *name;
    char *from;        /* the version it follows; NULL for the first */
    char *merges;      /* the hotfix it takes in (a version on a line that parts from `from`), whose
                      derived step leads here too; NULL for none */
    size_t parent;     /* manifest_read(): the index of `from` (always lower), or SIZE_MAX */
    size_t step;       /* manifest_read(): the index of the step leading here from `from` */
    size_t merged;     /* manifest_read(): the index of `merges` (lower), or SIZE_MAX */
    size_t merge_step; /* manifest_read(): the index of the step from `merges`, or SIZE_MAX */
};

struct manifest {
    unsigned format_version;
    char *compiler;    /* "upc 0.1.0" */
    long long created; /* SOURCE_DATE_EPOCH of the build, or -1 */
    /* release safety (signed with the rest): the release channel, the bundle's number on it
     * (monotonic per plan and channel: uprun refuses one lower than a database has seen), and
     * when it stops being valid (seconds since the epoch; -1: never) */
    char *channel;
    unsigned long long sequence;
    long long expires;
    char *plan_name;
    char *plan_title; /* may be NULL */
    char *plan_description;
    char *source_file; /* the plan's file name */
    char source_sha256[65];
    char **dialects;
    size_t ndialects;
    struct mf_version *versions;
    size_t nversions;
    struct mf_step *steps;
    size_t nsteps;
    struct mf_file *files; /* other files of the bundle (guide.md) */
    size_t nfiles;
    struct mf_legacy *legacy; /* the plan's legacy forms; none in most bundles */
    size_t nlegacy;
    size_t *by_name; /* manifest_read(): version indices sorted by name, for lookups */
    bool sorted;     /* by_name is complete and sorted */
};

/*
 * The shortest upgrade path from version `from` (NULL: an empty database) to
 * `to` through the bundle's steps, the versions' own and the derived steps of
 * merges: *n step indices (into m->steps, in the order they apply) into a
 * malloc'd *steps. 0, or -1 when there is none (or out of memory: *steps is
 * then NULL with *n SIZE_MAX). m must have been read by manifest_read().
 */
int manifest_route(const struct manifest *m, const char *from, const char *to, size_t **steps,
                   size_t *n);

struct canon_drift;
/*
 * Whether a difference between the expected and the live schema of a
 * database of `dialect` is one of the legacy forms of the bundle's plan.
 */
bool manifest_legacy_accepts(const struct manifest *m, const char *dialect,
                             const struct canon_drift *item);

/* Frees everything a manifest owns (all strings and arrays are malloc'd). */
void manifest_free(struct manifest *m);

/* The canonical bytes of m; *out is malloc'd. 0, or -1 with err. */
/*
 * Whether m's expiry is past at now (seconds since the epoch), and in text
 * what it is: "expired at 2027-03-01 12:00:00 UTC", "expires at ...", or
 * "never expires".
 */
bool manifest_expired(const struct manifest *m, long long now, char *text, size_t size);

/* Whether c can name a release channel: 1 to 64 of [A-Za-z0-9._-]. */
bool manifest_channel_ok(const char *c);

int manifest_write(const struct manifest *m, char **out, size_t *len, struct rt_error *err);

/*
 * Parses and validates bytes into *m (zeroed first; free with
 * manifest_free() even on failure). 0, or -1 with err naming the member.
 */
int manifest_read(const char *bytes, size_t len, struct manifest *m, struct rt_error *err);

/* True when path may name a file of a bundle: relative, no "..", [A-Za-z0-9._-/] only. */
bool manifest_path_ok(const char *path);

/* The version called name, or NULL (O(log n) after manifest_read()). */
const struct mf_version *manifest_version(const struct manifest *m, const char *name);
/* The step whose `to` is version name, or NULL. */
const struct mf_step *manifest_step_to(const struct manifest *m, const char *name);
/* A step's part for one dialect, or NULL. */
const struct mf_dialect_step *manifest_step_dialect(const struct mf_step *s, const char *dialect);

#endif
