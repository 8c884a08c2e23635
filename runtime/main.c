/* SPDX-License-Identifier: MIT */
/*
 * main.c: uprun, a thin command line over libuprun (uprun.h). It parses
 * options, renders the library's events (lines for people, or one JSON
 * object per event with --json, the last always the result), asks for
 * acknowledgements on a terminal, turns SIGINT and SIGTERM into a cancel
 * of the running statement, and turns the library's outcome into the exit
 * status (enum uprun_code).
 *
 * The only mutable state outside main()'s own is what the signal handler
 * needs, and nothing else may share it: how many signals came
 * (signals_seen), the uprun handle the handler interrupts (running:
 * published after uprun_open, withdrawn before uprun_close), and whether
 * the handler may write its line to stderr (quiet_signals, set once before
 * the handler is installed). A first signal cancels the statement and lets
 * the step roll back; a second exits at once, with 128 + the signal's
 * number.
 */
#include <jansson.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/bundle.h"
#include "runtime/secret.h"
#include "runtime/sig.h"
#include "runtime/uprun.h"

/* --- commands and their options --------------------------------------------- */

enum {
    CMD_STATUS = 1 << 0,
    CMD_PLAN = 1 << 1,
    CMD_APPLY = 1 << 2,
    CMD_ROLLBACK = 1 << 3,
    CMD_VERIFY = 1 << 4,
    CMD_BASELINE = 1 << 5,
    CMD_VERIFY_BUNDLE = 1 << 6,
    CMD_ALL = (1 << 7) - 1, /* the global options (verify-bundle ignores --db and the timeouts) */
};

struct command {
    const char *name;
    unsigned bit;
    const char *usage; /* its own help: what it does and its options */
};

static const struct command commands[] = {
    {"status", CMD_STATUS,
     "usage: uprun [global options] status\n"
     "\n"
     "The plan, the database's current version, the versions it can go to (and the steps to\n"
     "each), and its history. A SQLite file that does not exist yet is shown as an empty\n"
     "database. Changes nothing.\n"},
    {"plan", CMD_PLAN,
     "usage: uprun [global options] plan [--to V] [--sql] [--allow-data-loss] [--allow-drift]\n"
     "\n"
     "The dry run: the path of steps to V (default: the bundle's last version; a version before\n"
     "the current one gives the rollback path), its notices, breaking changes and findings.\n"
     "It refuses what apply or rollback would refuse (an irreversible or lossy path, drift),\n"
     "after showing the path. Changes nothing.\n"
     "\n"
     "Options:\n"
     "  --to V             the version to reach, or \"empty\"\n"
     "  --sql              show the SQL of each step\n"
     "  --allow-data-loss  show a rollback path through a lossy step instead of refusing it\n"
     "  --allow-drift      show the path even when the live schema differs from the plan's\n"
     "  --online MODE      a step with an online change (the bundle has both ways): auto\n"
     "                     (default: online when its table holds more than --online-threshold\n"
     "                     rows, by the database's estimate), always, or never\n"
     "  --online-threshold ROWS  auto's threshold (default 100000)\n"},
    {"apply", CMD_APPLY,
     "usage: uprun [global options] apply [--to V] [--ack ID]... [--ack-all] [--atomic]\n"
     "                                    [--backup FILE] [--allow-drift]\n"
     "\n"
     "Upgrade the database to V (default: the bundle's last version), each step in one\n"
     "transaction with its history row. Before the first step the live schema is compared\n"
     "with the plan's at the recorded version: any difference stops it (exit 7). A SQLite\n"
     "database that does not exist is created.\n"
     "\n"
     "Options:\n"
     "  --to V             the version to reach\n"
     "  --ack ID           acknowledge the breaking change ID (repeat it); on a terminal uprun\n"
     "                     asks; an ID that no step of the bundle has is refused\n"
     "  --ack-all          acknowledge every breaking change on the path\n"
     "  --atomic           the whole path in one transaction: all of it or nothing\n"
     "  --online MODE      a step with an online change (the bundle has both ways): auto\n"
     "                     (default: online when its table holds more than --online-threshold\n"
     "                     rows, by the database's estimate), always, or never\n"
     "  --online-threshold ROWS  auto's threshold (default 100000)\n"
     "  --batch-size N     rows a batch of an online backfill copies (default 1000)\n"
     "  --batch-pause DURATION  a pause between two batches (default none)\n"
     "  --backup FILE      back the database up to FILE (which must not exist) first: SQLite's\n"
     "                     online backup, or pg_dump -Fc on PostgreSQL\n"
     "  --allow-drift      go on when the live schema differs from the plan's (a SQLite table\n"
     "                     rebuild still refuses to drop what the plan does not know)\n"
     "  --online MODE      a step with an online change (the bundle has both ways): auto\n"
     "                     (default: online when its table holds more than --online-threshold\n"
     "                     rows, by the database's estimate), always, or never\n"
     "  --online-threshold ROWS  auto's threshold (default 100000)\n"
     "  --batch-size N     rows a batch of an online backfill copies (default 1000)\n"
     "  --batch-pause DURATION  a pause between two batches (default none)\n"},
    {"rollback", CMD_ROLLBACK,
     "usage: uprun [global options] rollback --to V [--allow-data-loss] [--atomic] [--allow-drift]\n"
     "\n"
     "Run the down-steps back to V (\"empty\" for an empty database), newest first, each in one\n"
     "transaction. A path through an irreversible step is refused (exit 8).\n"
     "\n"
     "Options:\n"
     "  --to V             the version to go back to, or \"empty\"\n"
     "  --allow-data-loss  allow down-steps that cannot restore data their up-step dropped\n"
     "  --atomic           the whole path in one transaction: all of it or nothing\n"
     "  --allow-drift      go on when the live schema differs from the plan's\n"},
    {"verify", CMD_VERIFY,
     "usage: uprun [global options] verify\n"
     "\n"
     "Compare the live schema with the plan's at the recorded version and name every\n"
     "difference: missing, unexpected or different tables, columns, keys, constraints and\n"
     "indexes (exit 7 on drift).\n"},
    {"baseline", CMD_BASELINE,
     "usage: uprun [global options] baseline --version V [--force]\n"
     "\n"
     "Record that a database made without upgrade-plan is at V, after comparing its schema with\n"
     "V's (exit 7 on a difference).\n"
     "\n"
     "Options:\n"
     "  --version V        the version the database is at\n"
     "  --force            record it even when the schema differs\n"},
    {"verify-bundle", CMD_VERIFY_BUNDLE,
     "usage: uprun [--bundle DIR] [--pubkey FILE] [--json] verify-bundle\n"
     "\n"
     "Verify the bundle's signature and every file; no database is needed.\n"},
};

static const char usage_text[] =
    "usage: uprun [--bundle DIR] [--pubkey FILE] [--db URL] [options] COMMAND [options]\n"
    "       uprun COMMAND --help\n"
    "\n"
    "Commands:\n"
    "  status                 the plan, the database's version, the versions it can go to, and\n"
    "                         its history\n"
    "  plan [--to V] [--sql]  the dry run: the path, its notices, breaking changes and findings,\n"
    "                         and with --sql the SQL; changes nothing\n"
    "  apply [--to V]         upgrade the database to V (default: the bundle's last version),\n"
    "                         each step in one transaction with its history row\n"
    "      --ack ID           acknowledge a breaking change (repeat it); on a terminal uprun asks\n"
    "      --ack-all          acknowledge every breaking change on the path\n"
    "      --atomic           the whole path in one transaction (also for rollback)\n"
    "      --backup FILE      a backup to FILE before the first change (SQLite's online\n"
    "                         backup; pg_dump -Fc on PostgreSQL)\n"
    "      --allow-drift      go on although the live schema differs from the plan's (also for\n"
    "                         rollback and plan)\n"
    "      --online MODE      a step with an online change: auto (default: online above\n"
    "                         --online-threshold ROWS, 100000, by the database's estimate),\n"
    "                         always or never (also for rollback and plan)\n"
    "      --batch-size N     rows a batch of an online backfill copies (default 1000)\n"
    "      --batch-pause DURATION  a pause between two batches (default none)\n"
    "  rollback --to V        run the down-steps back to V (\"empty\" for an empty database)\n"
    "      --allow-data-loss  allow down-steps that cannot restore dropped data\n"
    "  verify                 compare the live schema with the plan's at the current version\n"
    "  baseline --version V   record that a database made without upgrade-plan is at V, after\n"
    "                         comparing its schema with V's\n"
    "      --force            record it even when the schema differs\n"
    "  verify-bundle          verify the bundle's signature and every file; no database\n"
    "\n"
    "Options:\n"
    "  --bundle DIR           the bundle (default: $UPRUN_BUNDLE, or .)\n"
    "  --pubkey FILE          the release's public key, minisign format (default: $UPRUN_PUBKEY);\n"
    "                         again, or several keys in the file: each is trusted (key rotation)\n"
    "  --db URL               sqlite:path/to.db, or a PostgreSQL connection string\n"
    "                         (postgresql://... or host=... dbname=...; libpq's PG* variables\n"
    "                         apply) (default: $UPRUN_DB)\n"
    "  --lock-timeout SECONDS how long to wait for another runner's lock (default 30)\n"
    "  --db-lock-timeout DURATION\n"
    "                         how long each statement waits for the database's own locks\n"
    "                         (PostgreSQL lock_timeout, SQLite busy timeout; default 5s)\n"
    "  --retries N            after a lock wait timed out, roll the step back and try again N\n"
    "                         times, after 0.5 s, 1 s, 2 s ... (default 3)\n"
    "  --statement-timeout DURATION\n"
    "                         stop a statement that runs longer (default: no limit)\n"
    "  --allow-expired        run a bundle past its expiry (an air-gapped emergency; the\n"
    "                         history records it)\n"
    "  --json                 one JSON object per event on stdout, for CI; the last is the result\n"
    "  -q, --quiet            errors only\n"
    "  -h, --help             show this help (after a command: that command's)\n"
    "      --version          show the version\n";

/* (two strings: ISO C's limit on the length of one) */
static const char usage_tail[] =
    "\n"
    "A DURATION is a number with an optional unit: 500ms, 5s, 2m (seconds without one).\n"
    "The bundle is verified before any database is opened. Passwords in --db are never shown.\n"
    "The history table is upgrade_plan_history (created by the first apply or baseline).\n"
    "SIGINT or SIGTERM cancels the running statement and rolls its step back (exit 9); a\n"
    "second one exits at once.\n"
    "\n"
    "Exit status:\n"
    "  0  done\n"
    "  1  a step failed and was rolled back: the database is at the last good version\n"
    "  2  usage, configuration or I/O error: nothing was changed\n"
    "  3  the bundle did not verify: nothing was run, no database was opened\n"
    "  4  the database's history does not fit the bundle (another plan, an unknown version,\n"
    "     a step applied from other SQL): nothing was changed\n"
    "  5  a lock was not had in time (another runner past --lock-timeout, or the database's\n"
    "     locks past --db-lock-timeout on every try): nothing was changed\n"
    "  6  a breaking change on the path was not acknowledged: nothing was changed\n"
    "  7  drift: the live schema differs from the plan's (verify, baseline; apply, rollback and\n"
    "     plan before any change), or a SQLite rebuild would drop what the plan does not know\n"
    "  8  no such path: an unknown or unreachable version, an irreversible step, or a lossy\n"
    "     one without --allow-data-loss\n"
    "  9  interrupted (SIGINT, SIGTERM): the running step was rolled back; the database is at\n"
    "     the last completed version\n";

/* The options: which take a value, and which commands accept them. */
struct option {
    const char *name;
    bool value;
    unsigned cmds;
};

static const struct option options[] = {
    {"--bundle", true, CMD_ALL},
    {"--pubkey", true, CMD_ALL},
    {"--db", true, CMD_ALL},
    {"--lock-timeout", true, CMD_ALL},
    {"--db-lock-timeout", true, CMD_ALL},
    {"--retries", true, CMD_ALL},
    {"--statement-timeout", true, CMD_ALL},
    {"--json", false, CMD_ALL},
    {"-q", false, CMD_ALL},
    {"--quiet", false, CMD_ALL},
    {"--to", true, CMD_PLAN | CMD_APPLY | CMD_ROLLBACK},
    {"--sql", false, CMD_PLAN},
    {"--ack", true, CMD_APPLY},
    {"--ack-all", false, CMD_APPLY},
    {"--atomic", false, CMD_APPLY | CMD_ROLLBACK},
    {"--backup", true, CMD_APPLY},
    {"--allow-drift", false, CMD_PLAN | CMD_APPLY | CMD_ROLLBACK},
    {"--allow-data-loss", false, CMD_PLAN | CMD_ROLLBACK},
    {"--version", true, CMD_BASELINE}, /* without a command: uprun's version */
    {"--force", false, CMD_BASELINE},
    {"--allow-expired", false, CMD_ALL},
    {"--online", true, CMD_PLAN | CMD_APPLY | CMD_ROLLBACK},
    {"--online-threshold", true, CMD_PLAN | CMD_APPLY | CMD_ROLLBACK},
    {"--batch-size", true, CMD_APPLY | CMD_ROLLBACK},
    {"--batch-pause", true, CMD_APPLY | CMD_ROLLBACK},
};

struct cli {
    const char *bundle, *pubkey, *db;
    const char *more_pubkeys[SIG_MAX_KEYS - 1]; /* --pubkey given again: more key files */
    size_t nmore_pubkeys;
    bool pubkey_given;
    double lock_timeout, db_lock_timeout, statement_timeout, batch_pause;
    unsigned retries, batch_size;
    enum uprun_online online;
    unsigned long long online_threshold;
    bool json, quiet, tty;
    const struct command *cmd;
    unsigned given; /* the options given, by index in options[] (a bit each) */
    /* command options */
    const char *to, *version, *backup;
    const char **acks;
    size_t nacks;
    bool ack_all, atomic, sql, allow_data_loss, allow_drift, force, allow_expired;
    bool progress_shown;
    bool failure_shown; /* a failed step was reported: the result adds only the hint */
};

/* --- the signal handler's state (see the file comment) ---------------------- */

static volatile sig_atomic_t signals_seen;
static _Atomic(uprun *) running;
static volatile sig_atomic_t quiet_signals;

static void
on_signal(int signo)
{
    static const char msg[] = "\nuprun: interrupted: cancelling the running statement and rolling "
                              "its step back (a second signal exits at once)\n";
    uprun *u;

    if (signals_seen++)
        _exit(128 + signo);
    if (!quiet_signals)
        (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
    u = atomic_load(&running);
    if (u)
        uprun_interrupt(u); /* async-signal-safe: PQcancel, sqlite3_interrupt */
}

static void
install_signals(bool quiet)
{
    struct sigaction sa;

    quiet_signals = quiet;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sa.sa_flags = 0; /* no SA_RESTART: a prompt waiting on the terminal gives up */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* --- output ------------------------------------------------------------------ */

static void
print_json(json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

    if (!o) /* json_pack() could not build it: out of memory */
        fputs("{\"event\":\"info\",\"message\":\"out of memory\"}\n", stdout);

    if (s)
        printf("%s\n", s);
    free(s);
    json_decref(o);
    fflush(stdout);
}

/* The result line of --json: the last line of every invocation. */
static void
json_result(int code, const char *message, const char *hint)
{
    print_json(json_pack("{s:s, s:i, s:s, s:s}", "event", "result", "code", code, "message",
                         message ? message : "", "hint", hint ? hint : ""));
}

/*
 * A usage error: the message, with any password in what it quotes masked;
 * with --json, as the result line.
 */
static int
usage_error(const struct cli *c, const char *fmt, const char *arg)
{
    char msg[1024];
    char *shown = arg ? secret_redact(arg) : NULL;
    char hint[128];

    snprintf(msg, sizeof msg, fmt, shown ? shown : arg ? "?" : "");
    free(shown);
    if (c && c->cmd)
        snprintf(hint, sizeof hint, "Try \"uprun %s --help\".", c->cmd->name);
    else
        snprintf(hint, sizeof hint, "Try \"uprun --help\".");
    if (c && c->json) {
        json_result(UPRUN_USAGE, msg, hint);
        return UPRUN_USAGE;
    }
    fprintf(stderr, "uprun: error: %s\n%s\n", msg, hint);
    return UPRUN_USAGE;
}

static const char *
vname(const char *v)
{
    return v ? v : "empty";
}

static void
clear_progress(struct cli *c)
{
    if (c->progress_shown) {
        fputs("\r\033[K", stderr);
        c->progress_shown = false;
    }
}

static json_t *
str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* A value given as JSON text (drift's expected and found), parsed back; null when none. */
static json_t *
json_value(const char *text)
{
    json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;

    return v ? v : json_null();
}

static json_t *
json_status(const struct uprun_status *st)
{
    json_t *targets = json_array(), *history = json_array(), *way = json_array();
    size_t i;

    for (i = 0; i < st->ntargets; i++)
        json_array_append_new(targets, json_pack("{s:s}", "version", st->targets[i].version));
    for (i = 0; i < st->nway; i++)
        json_array_append_new(way, json_pack("{s:i, s:o, s:o}", "step", (json_int_t)st->way[i].step,
                                             "from", str_or_null(st->way[i].from), "to",
                                             str_or_null(st->way[i].to)));
    for (i = 0; i < st->nhistory; i++) {
        const struct uprun_history_entry *h = &st->history[i];
        json_array_append_new(
            history, json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:o}", "step",
                               (json_int_t)h->step, "from", str_or_null(h->from), "to",
                               str_or_null(h->to), "direction", str_or_null(h->direction), "status",
                               str_or_null(h->status), "started_at", str_or_null(h->started_at),
                               "finished_at", str_or_null(h->finished_at), "duration_ms",
                               (json_int_t)h->duration_ms, "applied_by", str_or_null(h->applied_by),
                               "message", str_or_null(h->message)));
    }
    return json_pack(
        "{s:s, s:o, s:s, s:s, s:b, s:b, s:o, s:o, s:s, s:o, s:o, s:o}", "plan", st->plan, "title",
        str_or_null(st->title), "database", st->database, "dialect", st->dialect, "exists",
        st->exists, "has_history", st->has_history, "current_version", str_or_null(st->current),
        "targets", targets, "last_version", st->last, "way",
        st->way_exists ? way : (json_decref(way), json_null()), "in_progress",
        st->in_progress
            ? json_pack("{s:i, s:o, s:o, s:i, s:i}", "step", (json_int_t)st->in_progress->step,
                        "from", str_or_null(st->in_progress->from), "to",
                        str_or_null(st->in_progress->to), "units_done", (json_int_t)st->units_done,
                        "units", (json_int_t)st->units)
            : json_null(),
        "history", history);
}

static void
json_event(const struct uprun_event *ev)
{
    static const char *const kinds[] = {
        [UPRUN_EV_INFO] = "info",         [UPRUN_EV_NOTICE] = "notice",
        [UPRUN_EV_BREAKING] = "breaking", [UPRUN_EV_FINDING] = "finding",
        [UPRUN_EV_STEP_BEGIN] = "step",   [UPRUN_EV_STEP_DONE] = "step",
        [UPRUN_EV_STEP_SKIPPED] = "step", [UPRUN_EV_STEP_FAILED] = "step",
        [UPRUN_EV_PROGRESS] = "progress", [UPRUN_EV_SQL] = "sql",
        [UPRUN_EV_STATUS] = "status",     [UPRUN_EV_DRIFT] = "drift",
        [UPRUN_EV_RETRY] = "retry",       [UPRUN_EV_CARRIED] = "carried",
        [UPRUN_EV_UNIT] = "unit",
    };
    static const char *const states[] = {
        [UPRUN_EV_STEP_BEGIN] = "begin",     [UPRUN_EV_STEP_DONE] = "done",
        [UPRUN_EV_STEP_SKIPPED] = "skipped", [UPRUN_EV_STEP_FAILED] = "failed",
        [UPRUN_EV_CARRIED] = NULL,           [UPRUN_EV_UNIT] = "done",
    };
    json_t *o = json_object();

    json_object_set_new(o, "event", json_string(kinds[ev->kind]));
    if (states[ev->kind])
        json_object_set_new(o, "state", json_string(states[ev->kind]));
    json_object_set_new(o, "message", json_string(ev->message ? ev->message : ""));
    if (ev->direction) {
        json_object_set_new(o, "step", json_integer(ev->step));
        json_object_set_new(o, "from", str_or_null(ev->from));
        json_object_set_new(o, "to", str_or_null(ev->to));
        json_object_set_new(o, "direction", json_string(ev->direction));
    }
    if (ev->count) {
        json_object_set_new(o, "position", json_integer((json_int_t)ev->position));
        json_object_set_new(o, "count", json_integer((json_int_t)ev->count));
    }
    switch (ev->kind) {
    case UPRUN_EV_STEP_DONE:
    case UPRUN_EV_STEP_FAILED:
        json_object_set_new(o, "atomic", json_boolean(ev->atomic));
        /* fall through */
    case UPRUN_EV_PROGRESS:
        json_object_set_new(o, "elapsed", json_real(ev->elapsed));
        break;
    default:
        break;
    }
    if (ev->lowering) {
        json_object_set_new(o, "lowering", json_string(ev->lowering));
        json_object_set_new(o, "reason", json_string(ev->reason ? ev->reason : ""));
    }
    if (ev->has_rows) {
        json_object_set_new(o, "rows", json_integer((json_int_t)ev->rows));
        json_object_set_new(o, "rows_estimated",
                            ev->rows_total >= 0 ? json_integer((json_int_t)ev->rows_total)
                                                : json_null());
        json_object_set_new(o, "unit", json_integer((json_int_t)ev->unit));
        json_object_set_new(o, "units", json_integer((json_int_t)ev->units));
    }
    if (ev->level)
        json_object_set_new(o, "level", json_string(ev->level));
    if (ev->id)
        json_object_set_new(o, "id", json_string(ev->id));
    if (ev->kind == UPRUN_EV_BREAKING)
        json_object_set_new(o, "acknowledged", json_boolean(ev->acknowledged));
    if (ev->kind == UPRUN_EV_STEP_FAILED) {
        json_object_set_new(o, "file", str_or_null(ev->file));
        json_object_set_new(o, "line", json_integer((json_int_t)ev->line));
        json_object_set_new(o, "statement", json_integer((json_int_t)ev->statement));
        json_object_set_new(o, "statements", json_integer((json_int_t)ev->statements));
        json_object_set_new(o, "origin", str_or_null(ev->origin));
        json_object_set_new(o, "version_now", str_or_null(ev->at));
        json_object_set_new(o, "interrupted", json_boolean(ev->interrupted));
        json_object_set_new(o, "outcome",
                            json_string(ev->outcome == UPRUN_PARTIAL       ? "partial"
                                        : ev->outcome == UPRUN_UNKNOWN     ? "unknown"
                                        : ev->outcome == UPRUN_IN_PROGRESS ? "in_progress"
                                                                           : "rolled_back"));
        if (ev->units) {
            json_object_set_new(o, "unit", json_integer(ev->unit));
            json_object_set_new(o, "units", json_integer(ev->units));
        }
        json_object_set_new(o, "code", json_integer(ev->code));
        json_object_set_new(o, "sqlstate", json_string(ev->db_error ? ev->db_error->sqlstate : ""));
        json_object_set_new(o, "detail", json_string(ev->db_error ? ev->db_error->detail : ""));
        json_object_set_new(o, "hint", json_string(ev->db_error ? ev->db_error->hint : ""));
    }
    if (ev->kind == UPRUN_EV_UNIT) {
        json_object_set_new(o, "unit", json_integer(ev->unit));
        json_object_set_new(o, "units", json_integer(ev->units));
        json_object_set_new(o, "first_statement", json_integer((json_int_t)ev->statement));
        json_object_set_new(o, "last_statement", json_integer((json_int_t)ev->statements));
        json_object_set_new(o, "origin", str_or_null(ev->origin));
        json_object_set_new(o, "how", json_string(ev->how ? ev->how : ""));
    }
    if (ev->kind == UPRUN_EV_SQL) {
        json_object_set_new(o, "file", json_string(ev->file ? ev->file : ""));
        json_object_set_new(o, "sql", json_string(ev->text ? ev->text : ""));
    }
    if (ev->kind == UPRUN_EV_STATUS && ev->status)
        json_object_update_new(o, json_status(ev->status));
    if (ev->kind == UPRUN_EV_DRIFT || ev->kind == UPRUN_EV_CARRIED) {
        json_object_set_new(o, "table", str_or_null(ev->table));
        json_object_set_new(o, "object", str_or_null(ev->object));
        json_object_set_new(o, "name", str_or_null(ev->name));
    }
    if (ev->kind == UPRUN_EV_DRIFT) {
        json_object_set_new(o, "change", str_or_null(ev->change));
        json_object_set_new(o, "field", str_or_null(ev->field));
        json_object_set_new(o, "expected", json_value(ev->expected));
        json_object_set_new(o, "found", json_value(ev->found));
    }
    if (ev->kind == UPRUN_EV_RETRY) {
        json_object_set_new(o, "attempt", json_integer(ev->attempt));
        json_object_set_new(o, "attempts", json_integer(ev->attempts));
        json_object_set_new(o, "wait", json_real(ev->wait));
        json_object_set_new(o, "atomic", json_boolean(ev->atomic));
        json_object_set_new(o, "sqlstate", json_string(ev->db_error ? ev->db_error->sqlstate : ""));
    }
    print_json(o);
}

/*
 * The failing statement, with a caret under the database's position when it
 * gave one: the line that holds the error, or the statement's first line.
 */
static void
show_statement(const struct uprun_event *ev)
{
    const char *p = ev->sql, *line = p;
    long pos = ev->sql_position, c = 1;
    size_t shown = 0;

    if (!p)
        return;
    for (; pos > 0 && *p && c < pos; p++) {
        if (((unsigned char)*p & 0xC0) != 0x80)
            c++;
        if (*p == '\n')
            line = p + 1;
    }
    fputs("    | ", stderr);
    for (p = line; *p && *p != '\n' && shown < 200; p++, shown++)
        fputc(*p == '\t' ? ' ' : *p, stderr);
    fputc('\n', stderr);
    if (pos > 0) {
        const char *q;
        long col = 0;
        for (q = line; q < line + (size_t)(p - line) && *q; q++) {
            const char *stop = ev->sql;
            long cc = 1;
            for (; stop < q; stop++)
                if (((unsigned char)*stop & 0xC0) != 0x80)
                    cc++;
            if (cc >= pos)
                break;
            if (((unsigned char)*q & 0xC0) != 0x80)
                col++;
        }
        fprintf(stderr, "    | %*s^\n", (int)col, "");
    }
}

static void
human_status(const struct uprun_status *st)
{
    char line[1024] = "";
    size_t len = 0, i, more = 0;

    printf("uprun: plan: %s%s%s%s\n", st->plan, st->title ? " (" : "", st->title ? st->title : "",
           st->title ? ")" : "");
    printf("uprun: database: %s (%s)%s\n", st->database, st->dialect,
           st->exists ? "" : ", which does not exist yet: uprun apply creates it");
    printf("uprun: current version: %s%s\n", st->current ? st->current : "none",
           st->has_history ? ""
           : st->exists    ? " (no history: an empty database, or one to baseline)"
                           : " (a new database)");
    for (i = 0; i < st->ntargets; i++) {
        const char *v = st->targets[i].version;
        if (len + strlen(v) + 3 < sizeof line - 32)
            len += (size_t)snprintf(line + len, sizeof line - len, "%s%s", i ? ", " : "", v);
        else
            more++;
    }
    if (more)
        snprintf(line + len, sizeof line - len, " and %zu more", more);
    printf("uprun: upgrade targets: %s\n",
           line[0] ? line
           : st->current && st->last && strcmp(st->current, st->last) == 0
               ? "none (at the last version)"
               : "none");
    if (st->nway) {
        len = 0;
        for (i = 0; i < st->nway && len < sizeof line - 64; i++)
            len += (size_t)snprintf(line + len, sizeof line - len, "%sstep %u (%s -> %s)",
                                    i ? ", " : "", st->way[i].step, vname(st->way[i].from),
                                    vname(st->way[i].to));
        if (i < st->nway)
            snprintf(line + len, sizeof line - len, " and %zu more", st->nway - i);
        printf("uprun: the way to %s: %s\n", st->last, line);
    } else if (!st->way_exists) {
        printf("uprun: the way to %s: none; no step leads on from %s to the bundle's last version "
               "(its line ends there: ask the plan's maintainers for a version that merges it)\n",
               st->last, vname(st->current));
    }
    if (st->nhistory)
        printf("uprun: history (%zu entr%s, oldest first):\n", st->nhistory,
               st->nhistory == 1 ? "y" : "ies");
    else
        printf("uprun: history: none yet\n");
    for (i = 0; i < st->nhistory; i++) {
        const struct uprun_history_entry *h = &st->history[i];
        printf("  %s  step %u  %-4s %s -> %s  %s  %lld ms  %s%s%s\n", h->started_at, h->step,
               h->direction, vname(h->from), vname(h->to), h->status, h->duration_ms, h->applied_by,
               h->message ? "  " : "", h->message ? h->message : "");
    }
    if (st->in_progress)
        printf("uprun: step %u (%s -> %s) is in progress: %u of %u units done; uprun apply "
               "resumes it\n",
               st->in_progress->step, vname(st->in_progress->from), vname(st->in_progress->to),
               st->units_done, st->units);
    else
        printf("uprun: no step is half done: a step runs in one transaction with its history "
               "row, or in units that uprun journals and resumes\n");
}

static void
human_event(struct cli *c, const struct uprun_event *ev)
{
    if (ev->kind == UPRUN_EV_PROGRESS) {
        if (c->tty && !c->quiet) {
            fprintf(stderr, "\r\033[K  %s", ev->message);
            c->progress_shown = true;
        }
        return;
    }
    clear_progress(c);
    switch (ev->kind) {
    case UPRUN_EV_INFO:
        if (!c->quiet)
            printf("uprun: %s\n", ev->message);
        break;
    case UPRUN_EV_NOTICE:
        if (!c->quiet)
            printf("notice (%s) [%s -> %s]: %s\n", ev->level, vname(ev->from), vname(ev->to),
                   ev->text);
        break;
    case UPRUN_EV_BREAKING:
        if (!c->quiet || !ev->acknowledged)
            printf("breaking change \"%s\" [%s -> %s]: %s%s\n", ev->id, vname(ev->from),
                   vname(ev->to), ev->text,
                   c->cmd->bit == CMD_APPLY
                       ? (ev->acknowledged ? " (acknowledged)" : " (not acknowledged)")
                       : "");
        break;
    case UPRUN_EV_FINDING:
        if (!c->quiet)
            printf("finding (%s) [%s -> %s]: %s\n", ev->id, vname(ev->from), vname(ev->to),
                   ev->text);
        break;
    case UPRUN_EV_STEP_BEGIN:
        break;
    case UPRUN_EV_STEP_DONE:
        if (!c->quiet)
            printf("  step %u (%zu of %zu): %s -> %s %s (%.2f s)\n", ev->step, ev->position,
                   ev->count, vname(ev->from), vname(ev->to),
                   ev->atomic                           ? "done, to commit with the whole path"
                   : strcmp(ev->direction, "down") == 0 ? "rolled back"
                                                        : "applied",
                   ev->elapsed);
        break;
    case UPRUN_EV_UNIT:
        if (!c->quiet)
            printf("    unit %u of %u of step %u: statement%s %zu%s%.0zu%s%s done (%s)\n", ev->unit,
                   ev->units, ev->step, ev->statement == ev->statements ? "" : "s", ev->statement,
                   ev->statement == ev->statements ? "" : " to ",
                   ev->statement == ev->statements ? (size_t)0 : ev->statements,
                   ev->origin ? ", from " : "", ev->origin ? ev->origin : "", ev->how);
        break;
    case UPRUN_EV_STEP_SKIPPED:
        if (!c->quiet)
            printf("  step %u (%zu of %zu): %s -> %s: %s\n", ev->step, ev->position, ev->count,
                   vname(ev->from), vname(ev->to), ev->message);
        break;
    case UPRUN_EV_STEP_FAILED:
        if (ev->code == UPRUN_LOCKED) /* the message names the step */
            fprintf(stderr, "uprun: error: %s", ev->message);
        else
            fprintf(stderr, "uprun: error: step %u (%s -> %s, %s) %s: %s", ev->step,
                    vname(ev->from), vname(ev->to), ev->direction,
                    ev->interrupted ? "was interrupted" : "failed", ev->message);
        if (ev->db_error && ev->db_error->sqlstate[0])
            fprintf(stderr, " [SQLSTATE %s]", ev->db_error->sqlstate);
        else if (ev->db_error && ev->db_error->code && ev->db_error->from_db)
            fprintf(stderr, " [SQLite error %d]", ev->db_error->code);
        fputc('\n', stderr);
        if (ev->file && ev->statement) {
            fprintf(stderr, "  --> %s:%zu (statement %zu of %zu)", ev->file, ev->line,
                    ev->statement, ev->statements);
            if (ev->origin)
                fprintf(stderr, ", from %s", ev->origin);
            fputc('\n', stderr);
            show_statement(ev);
        }
        if (ev->db_error && ev->db_error->detail[0])
            fprintf(stderr, "    = detail: %s\n", ev->db_error->detail);
        if (ev->db_error && ev->db_error->hint[0] && ev->db_error->from_db)
            fprintf(stderr, "    = hint: %s\n", ev->db_error->hint);
        if (ev->outcome == UPRUN_PARTIAL)
            fprintf(stderr,
                    "uprun: step %u may be partly committed and is not recorded: the database may "
                    "be between versions %s and %s\n",
                    ev->step, vname(ev->from), vname(ev->to));
        else if (ev->outcome == UPRUN_IN_PROGRESS)
            fprintf(stderr,
                    "uprun: step %u is in progress: %u of %u units are done; the database is "
                    "between versions %s and %s until uprun apply finishes it\n",
                    ev->step, ev->unit ? ev->unit - 1 : 0, ev->units, vname(ev->from),
                    vname(ev->to));
        else if (ev->outcome == UPRUN_UNKNOWN)
            fprintf(stderr,
                    "uprun: whether step %u committed is unknown: the connection was lost at "
                    "COMMIT; uprun status says, from the history, once the server answers\n",
                    ev->step);
        else if (ev->atomic)
            fprintf(stderr,
                    "uprun: the whole path was rolled back (--atomic); the database is %s%s\n",
                    ev->at ? "at version " : "empty", ev->at ? ev->at : "");
        else
            fprintf(stderr, "uprun: step %u was rolled back; the database is %s%s\n", ev->step,
                    ev->at ? "at version " : "empty", ev->at ? ev->at : "");
        c->failure_shown = true;
        break;
    case UPRUN_EV_SQL:
        printf("-- %s\n%s\n", ev->file, ev->text);
        break;
    case UPRUN_EV_STATUS:
        if (!c->quiet && ev->status)
            human_status(ev->status);
        break;
    case UPRUN_EV_DRIFT:
        printf("drift: %s\n", ev->message);
        break;
    case UPRUN_EV_RETRY:
        fprintf(stderr, "uprun: %s\n", ev->message);
        break;
    case UPRUN_EV_CARRIED:
        if (!c->quiet)
            printf("uprun: %s\n", ev->message);
        break;
    case UPRUN_EV_PROGRESS:
        break;
    }
    fflush(stdout);
}

static void
on_event(void *arg, const struct uprun_event *ev)
{
    struct cli *c = arg;

    if (c->json)
        json_event(ev);
    else
        human_event(c, ev);
}

/* Asks on the terminal to acknowledge a breaking change by typing its id. */
static bool
confirm(void *arg, const char *id, const char *text)
{
    char line[512];
    size_t n;

    (void)arg;
    fprintf(stderr,
            "\nBreaking change \"%s\":\n  %s\nType \"%s\" to acknowledge it and go on, or "
            "press Enter to stop: ",
            id, text, id);
    fflush(stderr);
    if (signals_seen || !fgets(line, sizeof line, stdin))
        return false;
    n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
        line[--n] = '\0';
    return strcmp(line, id) == 0;
}

static int
finish(struct cli *c, int rc, const struct rt_error *err)
{
    clear_progress(c);
    if (c->json) {
        json_result(rc, rc ? err->message : "ok", rc ? err->hint : "");
        return rc;
    }
    if (rc && !c->failure_shown)
        fprintf(stderr, "uprun: error: %s\n", err->message);
    if (rc && err->hint[0])
        fprintf(stderr, "uprun: hint: %s\n", err->hint);
    return rc;
}

static int
cmd_verify_bundle(struct cli *c)
{
    struct sig_keyring keys;
    struct rt_error err;
    struct bundle *b = NULL;
    int rc;

    rt_error_clear(&err);
    keys.n = 0;
    if (!c->pubkey) {
        rt_fail(&err, "verify-bundle needs the release's public key");
        snprintf(err.hint, sizeof err.hint, "Give it with --pubkey FILE (or $UPRUN_PUBKEY).");
        return finish(c, UPRUN_USAGE, &err);
    }
    if (sig_init(&err) || sig_keyring_add_file(&keys, c->pubkey, &err))
        return finish(c, UPRUN_USAGE, &err);
    for (size_t i = 0; i < c->nmore_pubkeys; i++)
        if (sig_keyring_add_file(&keys, c->more_pubkeys[i], &err))
            return finish(c, UPRUN_USAGE, &err);
    rc = bundle_open(c->bundle, &keys, &b, &err);
    if (rc)
        return finish(c, rc == -1 ? UPRUN_BUNDLE_REFUSED : UPRUN_USAGE, &err);
    {
        const struct manifest *m = &b->manifest;
        char msg[1280], expiry[96];
        size_t i;
        if (manifest_expired(m, (long long)time(NULL), expiry, sizeof expiry) &&
            !c->allow_expired) {
            rt_fail(&err, "the bundle %s: sequence %llu of channel %s of plan %s is no longer run",
                    expiry, m->sequence, m->channel, m->plan_name);
            snprintf(err.hint, sizeof err.hint,
                     "Get the current release (or, in an emergency without one, "
                     "--allow-expired).");
            bundle_free(b);
            return finish(c, UPRUN_BUNDLE_REFUSED, &err);
        }
        snprintf(msg, sizeof msg,
                 "bundle %s verified: plan \"%s\"%s%s%s, %zu version%s (%s to %s), %zu step%s, "
                 "%zu file%s (%zu bytes), signed by key %s; channel %s, sequence %llu, %s",
                 c->bundle, m->plan_name, m->plan_title ? " (" : "",
                 m->plan_title ? m->plan_title : "", m->plan_title ? ")" : "", m->nversions,
                 m->nversions == 1 ? "" : "s", m->versions[0].name,
                 m->versions[m->nversions - 1].name, m->nsteps, m->nsteps == 1 ? "" : "s",
                 b->nfiles, b->nfiles == 1 ? "" : "s", b->bytes, b->key_id, m->channel, m->sequence,
                 expiry);
        if (c->json) {
            json_t *versions = json_array(), *dialects = json_array();
            for (i = 0; i < m->nversions; i++)
                json_array_append_new(versions, json_string(m->versions[i].name));
            for (i = 0; i < m->ndialects; i++)
                json_array_append_new(dialects, json_string(m->dialects[i]));
            json_t *o = json_pack(
                "{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:i, s:i, s:I, s:s, s:s, s:s}", "event",
                "bundle", "message", msg, "plan", m->plan_name, "title", str_or_null(m->plan_title),
                "versions", versions, "dialects", dialects, "compiler", str_or_null(m->compiler),
                "steps", (json_int_t)m->nsteps, "files", (json_int_t)b->nfiles, "bytes",
                (json_int_t)b->bytes, "key_id", b->key_id, "trusted_comment",
                b->trusted_comment ? b->trusted_comment : "", "manifest_sha256",
                b->manifest_sha256);
            json_object_set_new(o, "channel", json_string(m->channel));
            json_object_set_new(o, "sequence", json_integer((json_int_t)m->sequence));
            json_object_set_new(o, "expires",
                                m->expires >= 0 ? json_integer(m->expires) : json_null());
            print_json(o);
        } else if (!c->quiet) {
            printf("uprun: %s\n", msg);
            printf("uprun: trusted comment: %s\n", b->trusted_comment);
        }
    }
    bundle_free(b);
    return finish(c, UPRUN_OK, &err);
}

static int
run(struct cli *c)
{
    struct uprun_config cfg;
    struct rt_error err;
    uprun *u = NULL;
    int rc;

    rt_error_clear(&err);
    if (c->cmd->bit == CMD_VERIFY_BUNDLE)
        return cmd_verify_bundle(c);
    if (!c->db) {
        rt_fail(&err, "%s needs a database", c->cmd->name);
        snprintf(err.hint, sizeof err.hint,
                 "Give it with --db URL (or $UPRUN_DB): sqlite:path/to.db, or a PostgreSQL "
                 "connection string.");
        return finish(c, UPRUN_USAGE, &err);
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.bundle_dir = c->bundle;
    cfg.pubkey_path = c->pubkey;
    cfg.pubkey_paths = c->more_pubkeys;
    cfg.npubkey_paths = c->nmore_pubkeys;
    cfg.db_url = c->db;
    cfg.lock_timeout = c->lock_timeout;
    cfg.db_lock_timeout = c->db_lock_timeout;
    cfg.retries = c->retries;
    cfg.allow_expired = c->allow_expired;
    cfg.statement_timeout = c->statement_timeout;
    cfg.online = c->online;
    cfg.online_threshold = c->online_threshold;
    cfg.batch_size = c->batch_size;
    cfg.batch_pause = c->batch_pause;
    cfg.event = on_event;
    cfg.event_arg = c;
    rc = uprun_open(&cfg, &u, &err);
    if (rc)
        return finish(c, rc, &err);
    atomic_store(&running, u);
    if (signals_seen) /* one came while the bundle was verified */
        uprun_interrupt(u);
    switch (c->cmd->bit) {
    case CMD_STATUS:
        rc = uprun_status(u, &err);
        break;
    case CMD_PLAN: {
        struct uprun_plan_opts o = {c->to, c->sql, c->allow_data_loss, c->allow_drift};
        rc = uprun_plan(u, &o, &err);
        break;
    }
    case CMD_APPLY: {
        struct uprun_apply_opts o;
        memset(&o, 0, sizeof o);
        o.target = c->to;
        o.acks = c->acks;
        o.nacks = c->nacks;
        o.ack_all = c->ack_all;
        o.atomic = c->atomic;
        o.allow_drift = c->allow_drift;
        o.backup = c->backup;
        if (c->tty && !c->json && isatty(STDIN_FILENO))
            o.confirm = confirm;
        rc = uprun_apply(u, &o, &err);
        break;
    }
    case CMD_ROLLBACK: {
        struct uprun_rollback_opts o = {c->to, c->allow_data_loss, c->atomic, c->allow_drift};
        rc = uprun_rollback(u, &o, &err);
        break;
    }
    case CMD_VERIFY:
        rc = uprun_verify(u, &err);
        break;
    default:
        rc = uprun_baseline(u, c->version, c->force, &err);
        break;
    }
    atomic_store(&running, NULL);
    uprun_close(u);
    return finish(c, rc, &err);
}

/* --- options ------------------------------------------------------------------ */

/* A duration: "500ms", "5s", "2m", "1.5" (seconds). Negative or malformed: false. */
static bool
parse_duration(const char *v, double *out)
{
    char *end;
    double x = strtod(v, &end);

    if (end == v || x < 0 || x != x)
        return false;
    if (strcmp(end, "ms") == 0)
        x /= 1000;
    else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
        x *= 60;
    else if (strcmp(end, "h") == 0)
        x *= 3600;
    else if (*end && strcmp(end, "s") != 0)
        return false;
    if (x > 86400 * 365)
        return false;
    *out = x;
    return true;
}

static const struct command *
find_command(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static const struct option *
find_option(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof options / sizeof options[0]; i++)
        if (strcmp(options[i].name, name) == 0)
            return &options[i];
    return NULL;
}

/* Stores an option's value. */
static int
set_option(struct cli *c, const char *name, const char *v)
{
    if (strcmp(name, "--bundle") == 0) {
        c->bundle = v;
    } else if (strcmp(name, "--pubkey") == 0) {
        if (!c->pubkey_given) { /* the first one replaces $UPRUN_PUBKEY */
            c->pubkey = v;
            c->pubkey_given = true;
        } else if (c->nmore_pubkeys < SIG_MAX_KEYS - 1) {
            c->more_pubkeys[c->nmore_pubkeys++] = v;
        } else {
            return usage_error(c, "--pubkey is given more than 32 times%s", "");
        }
    } else if (strcmp(name, "--db") == 0) {
        c->db = v;
    } else if (strcmp(name, "--to") == 0) {
        c->to = v;
    } else if (strcmp(name, "--version") == 0) {
        c->version = v;
    } else if (strcmp(name, "--ack") == 0) {
        c->acks[c->nacks++] = v;
    } else if (strcmp(name, "--backup") == 0) {
        c->backup = v;
    } else if (strcmp(name, "--lock-timeout") == 0) {
        if (!parse_duration(v, &c->lock_timeout))
            return usage_error(c, "--lock-timeout takes a duration (30, 30s, 1m), not \"%s\"", v);
    } else if (strcmp(name, "--db-lock-timeout") == 0) {
        if (!parse_duration(v, &c->db_lock_timeout) || c->db_lock_timeout < 0.001)
            return usage_error(c,
                               "--db-lock-timeout takes a duration of at least 1ms (500ms, 5s, "
                               "1m), not \"%s\"",
                               v);
    } else if (strcmp(name, "--statement-timeout") == 0) {
        if (!parse_duration(v, &c->statement_timeout))
            return usage_error(c,
                               "--statement-timeout takes a duration (30s, 10m; 0 for no limit), "
                               "not \"%s\"",
                               v);
    } else if (strcmp(name, "--online") == 0) {
        if (strcmp(v, "auto") == 0)
            c->online = UPRUN_ONLINE_AUTO;
        else if (strcmp(v, "always") == 0)
            c->online = UPRUN_ONLINE_ALWAYS;
        else if (strcmp(v, "never") == 0)
            c->online = UPRUN_ONLINE_NEVER;
        else
            return usage_error(c, "--online takes auto, always or never, not \"%s\"", v);
    } else if (strcmp(name, "--online-threshold") == 0) {
        char *end;
        unsigned long long n = strtoull(v, &end, 10);
        if (end == v || *end || *v == '-' || n < 1 || n > 1000000000000ULL)
            return usage_error(c,
                               "--online-threshold takes a number of rows from 1 to 10^12, not "
                               "\"%s\"",
                               v);
        c->online_threshold = n;
    } else if (strcmp(name, "--batch-size") == 0) {
        char *end;
        long n = strtol(v, &end, 10);
        if (end == v || *end || n < 1 || n > 1000000)
            return usage_error(c,
                               "--batch-size takes a number of rows from 1 to 1000000, not "
                               "\"%s\"",
                               v);
        c->batch_size = (unsigned)n;
    } else if (strcmp(name, "--batch-pause") == 0) {
        if (!parse_duration(v, &c->batch_pause) || c->batch_pause > 3600)
            return usage_error(c,
                               "--batch-pause takes a duration of at most 1h (100ms, 1s; 0 for "
                               "none), not \"%s\"",
                               v);
    } else if (strcmp(name, "--retries") == 0) {
        char *end;
        long n = strtol(v, &end, 10);
        if (end == v || *end || n < 0 || n > 100)
            return usage_error(c, "--retries takes a number from 0 to 100, not \"%s\"", v);
        c->retries = (unsigned)n;
    }
    return UPRUN_OK;
}

int
main(int argc, char **argv)
{
    struct cli c;
    bool help = false;
    int i, rc;

    memset(&c, 0, sizeof c);
    c.bundle = getenv("UPRUN_BUNDLE") ? getenv("UPRUN_BUNDLE") : ".";
    c.pubkey = getenv("UPRUN_PUBKEY");
    c.db = getenv("UPRUN_DB");
    if (c.db && !*c.db) /* set but empty: as good as unset (--db "" still means libpq's defaults) */
        c.db = NULL;
    c.lock_timeout = 30;
    c.db_lock_timeout = UPRUN_DB_LOCK_TIMEOUT_DEFAULT;
    c.retries = UPRUN_RETRIES_DEFAULT;
    /* --json first: every line then is JSON, a usage error's included */
    for (i = 1; i < argc; i++)
        c.json = c.json || strcmp(argv[i], "--json") == 0;
    c.acks = calloc((size_t)argc + 1, sizeof *c.acks);
    if (!c.acks) {
        fputs("uprun: error: out of memory\n", stderr);
        return UPRUN_USAGE;
    }
    rc = UPRUN_OK;
    for (i = 1; i < argc && rc == UPRUN_OK; i++) {
        const char *a = argv[i], *eq = strchr(a, '='), *v = NULL;
        const struct option *opt;
        char name[64];
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        snprintf(name, sizeof name, "%.*s", (int)(nl < 63 ? nl : 63), a);
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            help = true;
            continue;
        }
        if (strcmp(a, "--version") == 0 && !(c.cmd && c.cmd->bit == CMD_BASELINE)) {
            /* (after "baseline", --version V names the version to record) */
            if (c.json) {
                print_json(json_pack("{s:s, s:s, s:s}", "event", "version", "message",
                                     "uprun " UPG_VERSION, "version", UPG_VERSION));
                json_result(UPRUN_OK, "ok", "");
            } else {
                printf("uprun %s\n", UPG_VERSION);
            }
            free(c.acks);
            return UPRUN_OK;
        }
        if (a[0] != '-') {
            if (c.cmd) {
                rc = usage_error(&c, "unexpected argument \"%s\"", a);
            } else if (strcmp(a, "help") == 0) {
                help = true;
            } else if (!(c.cmd = find_command(a))) {
                rc = usage_error(&c, "unknown command \"%s\"", a);
            }
            continue;
        }
        if (!(opt = find_option(name)) || (!opt->value && eq)) {
            rc = usage_error(&c, "unknown option \"%s\"", a);
            continue;
        }
        c.given |= 1u << (opt - options);
        if (!opt->value) {
            if (strcmp(name, "--json") == 0)
                c.json = true;
            else if (strcmp(name, "-q") == 0 || strcmp(name, "--quiet") == 0)
                c.quiet = true;
            else if (strcmp(name, "--ack-all") == 0)
                c.ack_all = true;
            else if (strcmp(name, "--atomic") == 0)
                c.atomic = true;
            else if (strcmp(name, "--sql") == 0)
                c.sql = true;
            else if (strcmp(name, "--allow-data-loss") == 0)
                c.allow_data_loss = true;
            else if (strcmp(name, "--allow-drift") == 0)
                c.allow_drift = true;
            else if (strcmp(name, "--force") == 0)
                c.force = true;
            else if (strcmp(name, "--allow-expired") == 0)
                c.allow_expired = true;
            continue;
        }
        if (eq) {
            v = eq + 1;
        } else if (i + 1 < argc) {
            v = argv[++i];
        } else {
            rc = usage_error(&c, "option %s needs a value", name);
            continue;
        }
        rc = set_option(&c, name, v);
    }
    if (rc != UPRUN_OK) {
        free(c.acks);
        return rc;
    }
    if (help) {
        if (c.json) {
            print_json(json_pack("{s:s, s:s+}", "event", "help", "message",
                                 c.cmd ? c.cmd->usage : usage_text, c.cmd ? "" : usage_tail));
            json_result(UPRUN_OK, "ok", "");
        } else {
            fputs(c.cmd ? c.cmd->usage : usage_text, stdout);
            if (!c.cmd)
                fputs(usage_tail, stdout);
        }
        free(c.acks);
        return UPRUN_OK;
    }
    c.tty = isatty(STDERR_FILENO);
    if (!c.cmd) {
        if (c.json) {
            rc = usage_error(&c, "no command was given%s", "");
        } else {
            fputs(usage_text, stderr);
            fputs(usage_tail, stderr);
            rc = UPRUN_USAGE;
        }
        free(c.acks);
        return rc;
    }
    /* every option given must be one of this command's */
    for (i = 0; i < (int)(sizeof options / sizeof options[0]); i++) {
        if ((c.given & (1u << i)) && !(options[i].cmds & c.cmd->bit)) {
            char msg[160];
            snprintf(msg, sizeof msg, "option %s does not apply to %s", options[i].name,
                     c.cmd->name);
            rc = usage_error(&c, "%s", msg);
            free(c.acks);
            return rc;
        }
    }
    if (c.cmd->bit == CMD_ROLLBACK && !c.to)
        rc = usage_error(&c, "%s needs --to V (the version to go back to, or \"empty\")",
                         "rollback");
    else if (c.cmd->bit == CMD_BASELINE && !c.version)
        rc = usage_error(&c, "%s needs --version V", "baseline");
    if (rc == UPRUN_OK) {
        install_signals(c.json || c.quiet);
        rc = run(&c);
    }
    free(c.acks);
    return rc;
}
