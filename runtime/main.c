/* SPDX-License-Identifier: MIT */
/*
 * main.c: uprun, a thin command line over libuprun (uprun.h). It parses
 * options, renders the library's events (lines for people, or one JSON
 * object per event with --json), asks for acknowledgements on a terminal,
 * and turns the library's outcome into the exit status (enum uprun_code).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/bundle.h"
#include "runtime/sig.h"
#include "runtime/uprun.h"

static const char usage_text[] =
    "usage: uprun [--bundle DIR] [--pubkey FILE] [--db URL] [options] COMMAND [options]\n"
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
    "      --atomic           the whole path in one transaction\n"
    "      --backup FILE      SQLite: an online backup to FILE before the first change\n"
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
    "  --pubkey FILE          the release's public key, minisign format (default: $UPRUN_PUBKEY)\n"
    "  --db URL               sqlite:path/to.db, or a PostgreSQL connection string\n"
    "                         (postgresql://... or host=... dbname=...; libpq's PG* variables\n"
    "                         apply) (default: $UPRUN_DB)\n"
    "  --lock-timeout SECONDS how long to wait for another runner (default 30)\n"
    "  --json                 one JSON object per event on stdout, for CI\n"
    "  -q, --quiet            errors only\n"
    "  -h, --help             show this help\n"
    "      --version          show the version\n"
    "\n"
    "The bundle is verified before any database is opened. The history table is\n"
    "upgrade_plan_history (created by the first apply or baseline).\n"
    "\n"
    "Exit status:\n"
    "  0  done\n"
    "  1  a step failed and was rolled back: the database is at the last good version\n"
    "  2  usage, configuration or I/O error: nothing was changed\n"
    "  3  the bundle did not verify: nothing was run, no database was opened\n"
    "  4  the database's history does not fit the bundle (another plan, an unknown version,\n"
    "     a step applied from other SQL): nothing was changed\n"
    "  5  another runner held the lock longer than --lock-timeout\n"
    "  6  a breaking change on the path was not acknowledged: nothing was changed\n"
    "  7  drift: the live schema differs from the plan's (verify, baseline)\n"
    "  8  no such path: an unknown or unreachable version, an irreversible step, or a lossy\n"
    "     one without --allow-data-loss\n";

struct cli {
    const char *bundle, *pubkey, *db;
    double lock_timeout;
    bool json, quiet, tty;
    const char *cmd;
    /* command options */
    const char *to, *version, *backup;
    const char **acks;
    size_t nacks;
    bool ack_all, atomic, sql, allow_data_loss, force;
    bool progress_shown;
    const char *last_failed_from; /* where a failed step left the database */
};

static int
usage_error(const char *fmt, const char *arg)
{
    fputs("uprun: error: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nTry \"uprun --help\".\n", stderr);
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

static void
json_event(const struct uprun_event *ev)
{
    static const char *const kinds[] = {"info",   "notice",  "breaking", "finding",
                                        "step",   "step",    "step",     "step",
                                        "progress", "sql",   "history",  "drift"};
    static const char *const states[] = {NULL, NULL, NULL, NULL, "begin", "done", "skipped",
                                         "failed", NULL, NULL, NULL, NULL};
    json_t *o = json_object();
    char *s;

    json_object_set_new(o, "event", json_string(kinds[ev->kind]));
    if (states[ev->kind])
        json_object_set_new(o, "state", json_string(states[ev->kind]));
    json_object_set_new(o, "message", json_string(ev->message ? ev->message : ""));
    if (ev->direction) {
        json_object_set_new(o, "step", json_integer(ev->step));
        json_object_set_new(o, "from", ev->from ? json_string(ev->from) : json_null());
        json_object_set_new(o, "to", ev->to ? json_string(ev->to) : json_null());
        json_object_set_new(o, "direction", json_string(ev->direction));
    }
    if (ev->count) {
        json_object_set_new(o, "position", json_integer((json_int_t)ev->position));
        json_object_set_new(o, "count", json_integer((json_int_t)ev->count));
    }
    if (ev->kind == UPRUN_EV_STEP_DONE || ev->kind == UPRUN_EV_STEP_FAILED ||
        ev->kind == UPRUN_EV_PROGRESS)
        json_object_set_new(o, "elapsed", json_real(ev->elapsed));
    if (ev->kind == UPRUN_EV_STEP_DONE || ev->kind == UPRUN_EV_STEP_FAILED)
        json_object_set_new(o, "atomic", json_boolean(ev->atomic));
    if (ev->level)
        json_object_set_new(o, "level", json_string(ev->level));
    if (ev->id)
        json_object_set_new(o, "id", json_string(ev->id));
    if (ev->kind == UPRUN_EV_BREAKING)
        json_object_set_new(o, "acknowledged", json_boolean(ev->acknowledged));
    if (ev->kind == UPRUN_EV_STEP_FAILED) {
        json_object_set_new(o, "file", ev->file ? json_string(ev->file) : json_null());
        json_object_set_new(o, "line", json_integer((json_int_t)ev->line));
        json_object_set_new(o, "statement", json_integer((json_int_t)ev->statement));
        json_object_set_new(o, "statements", json_integer((json_int_t)ev->statements));
        json_object_set_new(o, "origin", ev->origin ? json_string(ev->origin) : json_null());
        json_object_set_new(o, "version_now", ev->at ? json_string(ev->at) : json_null());
        if (ev->db_error) {
            json_object_set_new(o, "sqlstate", json_string(ev->db_error->sqlstate));
            json_object_set_new(o, "detail", json_string(ev->db_error->detail));
            json_object_set_new(o, "hint", json_string(ev->db_error->hint));
        }
    }
    if (ev->kind == UPRUN_EV_HISTORY) {
        json_object_set_new(o, "started_at", json_string(ev->started_at ? ev->started_at : ""));
        json_object_set_new(o, "status", json_string(ev->status ? ev->status : ""));
        json_object_set_new(o, "applied_by", json_string(ev->applied_by ? ev->applied_by : ""));
        json_object_set_new(o, "duration_ms", json_integer(ev->duration_ms));
    }
    if (ev->kind == UPRUN_EV_SQL) {
        json_object_set_new(o, "file", json_string(ev->file ? ev->file : ""));
        json_object_set_new(o, "sql", json_string(ev->text ? ev->text : ""));
    }
    s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    if (s)
        printf("%s\n", s);
    free(s);
    json_decref(o);
    fflush(stdout);
}

/* The failing statement, with a caret under the database's position when it gave one. */
static void
show_statement(const struct uprun_event *ev)
{
    const char *p = ev->sql, *line = p;
    long pos = ev->sql_position, c = 1;
    size_t shown = 0;

    if (!p)
        return;
    /* the line of the statement that holds the error (the first one otherwise) */
    for (; *p && (pos <= 0 || c < pos); p++) {
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
                   c->cmd && strcmp(c->cmd, "apply") == 0
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
            printf("  step %zu of %zu: %s -> %s %s (%.2f s)\n", ev->position, ev->count,
                   vname(ev->from), vname(ev->to),
                   ev->atomic ? "done, to commit with the whole path"
                   : strcmp(ev->direction, "down") == 0 ? "rolled back" : "applied", ev->elapsed);
        break;
    case UPRUN_EV_STEP_SKIPPED:
        if (!c->quiet)
            printf("  step %zu of %zu: %s -> %s: %s\n", ev->position, ev->count, vname(ev->from),
                   vname(ev->to), ev->message);
        break;
    case UPRUN_EV_STEP_FAILED:
        fprintf(stderr, "uprun: error: step %u (%s -> %s, %s) failed: %s", ev->step,
                vname(ev->from), vname(ev->to), ev->direction, ev->message);
        if (ev->db_error && ev->db_error->sqlstate[0])
            fprintf(stderr, " [SQLSTATE %s]", ev->db_error->sqlstate);
        else if (ev->db_error && ev->db_error->code)
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
        if (ev->db_error && ev->db_error->hint[0])
            fprintf(stderr, "    = hint: %s\n", ev->db_error->hint);
        if (ev->atomic)
            fprintf(stderr, "uprun: the whole path was rolled back (--atomic); the database is at "
                            "version %s\n", vname(ev->at));
        else
            fprintf(stderr, "uprun: step %u was rolled back; the database is at version %s\n",
                    ev->step, vname(ev->at));
        fprintf(stderr, "uprun: hint: Fix the cause (the data, the database, or, if the step's SQL is "
                        "wrong, a corrected bundle from the release), then run the same command "
                        "again: it %s.\n",
                ev->atomic ? "starts the whole path again" : "resumes at this step");
        c->last_failed_from = "";
        break;
    case UPRUN_EV_SQL:
        printf("-- %s\n%s\n", ev->file, ev->text);
        break;
    case UPRUN_EV_HISTORY:
        if (!c->quiet)
            printf("  %s\n", ev->message);
        break;
    case UPRUN_EV_DRIFT:
        printf("drift: %s\n", ev->message);
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

    if (c->json) {
        if (ev->kind != UPRUN_EV_PROGRESS)
            json_event(ev);
        return;
    }
    human_event(c, ev);
}

/* Asks on the terminal to acknowledge a breaking change by typing its id. */
static bool
confirm(void *arg, const char *id, const char *text)
{
    char line[512];
    size_t n;

    (void)arg;
    fprintf(stderr, "\nBreaking change \"%s\":\n  %s\nType \"%s\" to acknowledge it and go on, or "
                    "press Enter to stop: ",
            id, text, id);
    fflush(stderr);
    if (!fgets(line, sizeof line, stdin))
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
        json_t *o = json_pack("{s:s, s:i, s:s, s:s}", "event", "result", "code", rc, "message",
                              rc ? err->message : "ok", "hint", rc ? err->hint : "");
        char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(o);
        return rc;
    }
    if (rc && !(rc == UPRUN_STEP_FAILED && c->last_failed_from)) {
        fprintf(stderr, "uprun: error: %s\n", err->message);
        if (err->hint[0])
            fprintf(stderr, "uprun: hint: %s\n", err->hint);
    }
    return rc;
}

static int
cmd_verify_bundle(struct cli *c)
{
    struct sig_pubkey key;
    struct rt_error err;
    struct bundle *b = NULL;
    int rc;

    if (!c->pubkey)
        return usage_error("%s needs the release's public key: --pubkey FILE", "verify-bundle");
    if (sig_init(&err) || sig_pubkey_load(c->pubkey, &key, &err))
        return finish(c, UPRUN_USAGE, &err);
    rc = bundle_open(c->bundle, &key, &b, &err);
    if (rc)
        return finish(c, rc == -1 ? UPRUN_BUNDLE_REFUSED : UPRUN_USAGE, &err);
    if (!c->quiet && !c->json) {
        const struct manifest *m = &b->manifest;
        printf("uprun: bundle %s verified: plan \"%s\"%s%s%s, %zu versions (%s to %s), %zu steps, "
               "%zu files (%zu bytes), signed by key %s\n",
               c->bundle, m->plan_name, m->plan_title ? " (" : "", m->plan_title ? m->plan_title : "",
               m->plan_title ? ")" : "", m->nversions, m->versions[0].name,
               m->versions[m->nversions - 1].name, m->nsteps, b->nfiles, b->bytes, b->key_id);
        printf("uprun: trusted comment: %s\n", b->trusted_comment);
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

    if (strcmp(c->cmd, "verify-bundle") == 0)
        return cmd_verify_bundle(c);
    memset(&cfg, 0, sizeof cfg);
    cfg.bundle_dir = c->bundle;
    cfg.pubkey_path = c->pubkey;
    cfg.db_url = c->db;
    cfg.lock_timeout = c->lock_timeout;
    cfg.event = on_event;
    cfg.event_arg = c;
    if (!c->db)
        return usage_error("%s needs a database: --db URL (sqlite:path/to.db, or a PostgreSQL "
                           "connection string)",
                           c->cmd);
    rc = uprun_open(&cfg, &u, &err);
    if (rc)
        return finish(c, rc, &err);
    if (strcmp(c->cmd, "status") == 0) {
        rc = uprun_status(u, &err);
    } else if (strcmp(c->cmd, "plan") == 0) {
        rc = uprun_plan(u, c->to, c->sql, &err);
    } else if (strcmp(c->cmd, "apply") == 0) {
        struct uprun_apply_opts o;
        memset(&o, 0, sizeof o);
        o.target = c->to;
        o.acks = c->acks;
        o.nacks = c->nacks;
        o.ack_all = c->ack_all;
        o.atomic = c->atomic;
        o.backup = c->backup;
        if (c->tty && !c->json && isatty(STDIN_FILENO))
            o.confirm = confirm;
        rc = uprun_apply(u, &o, &err);
    } else if (strcmp(c->cmd, "rollback") == 0) {
        rc = uprun_rollback(u, c->to, c->allow_data_loss, &err);
    } else if (strcmp(c->cmd, "verify") == 0) {
        rc = uprun_verify(u, &err);
    } else {
        rc = uprun_baseline(u, c->version, c->force, &err);
    }
    uprun_close(u);
    return finish(c, rc, &err);
}

int
main(int argc, char **argv)
{
    struct cli c;
    int i;

    memset(&c, 0, sizeof c);
    c.bundle = getenv("UPRUN_BUNDLE") ? getenv("UPRUN_BUNDLE") : ".";
    c.pubkey = getenv("UPRUN_PUBKEY");
    c.db = getenv("UPRUN_DB");
    c.lock_timeout = 30;
    c.acks = calloc((size_t)argc + 1, sizeof *c.acks);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *eq = strchr(a, '='), *v = NULL;
        char name[64];
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        snprintf(name, sizeof name, "%.*s", (int)(nl < 63 ? nl : 63), a);
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            free(c.acks);
            return UPRUN_OK;
        }
        if (strcmp(a, "--version") == 0 && !(c.cmd && strcmp(c.cmd, "baseline") == 0)) {
            /* (after "baseline", --version V names the version to record) */
            printf("uprun %s\n", UPG_VERSION);
            free(c.acks);
            return UPRUN_OK;
        }
        if (a[0] != '-') {
            if (c.cmd) {
                free(c.acks);
                return usage_error("unexpected argument \"%s\"", a);
            }
            c.cmd = a;
            continue;
        }
        /* options without a value */
        if (strcmp(a, "--json") == 0) {
            c.json = true;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            c.quiet = true;
        } else if (strcmp(a, "--ack-all") == 0) {
            c.ack_all = true;
        } else if (strcmp(a, "--atomic") == 0) {
            c.atomic = true;
        } else if (strcmp(a, "--sql") == 0) {
            c.sql = true;
        } else if (strcmp(a, "--allow-data-loss") == 0) {
            c.allow_data_loss = true;
        } else if (strcmp(a, "--force") == 0) {
            c.force = true;
        } else if (strcmp(name, "--bundle") == 0 || strcmp(name, "--pubkey") == 0 ||
                   strcmp(name, "--db") == 0 || strcmp(name, "--to") == 0 ||
                   strcmp(name, "--version") == 0 || strcmp(name, "--ack") == 0 ||
                   strcmp(name, "--backup") == 0 || strcmp(name, "--lock-timeout") == 0) {
            if (eq) {
                v = eq + 1;
            } else if (i + 1 < argc) {
                v = argv[++i];
            } else {
                free(c.acks);
                return usage_error("option %s needs a value", name);
            }
            if (strcmp(name, "--bundle") == 0)
                c.bundle = v;
            else if (strcmp(name, "--pubkey") == 0)
                c.pubkey = v;
            else if (strcmp(name, "--db") == 0)
                c.db = v;
            else if (strcmp(name, "--to") == 0)
                c.to = v;
            else if (strcmp(name, "--version") == 0)
                c.version = v;
            else if (strcmp(name, "--ack") == 0)
                c.acks[c.nacks++] = v;
            else if (strcmp(name, "--backup") == 0)
                c.backup = v;
            else {
                char *end;
                c.lock_timeout = strtod(v, &end);
                if (*end || end == v || c.lock_timeout < 0) {
                    free(c.acks);
                    return usage_error("--lock-timeout takes a number of seconds, not \"%s\"", v);
                }
            }
        } else {
            free(c.acks);
            return usage_error("unknown option \"%s\"", a);
        }
    }
    c.tty = isatty(STDERR_FILENO);
    if (!c.cmd) {
        fputs(usage_text, stderr);
        free(c.acks);
        return UPRUN_USAGE;
    }
    if (strcmp(c.cmd, "status") && strcmp(c.cmd, "plan") && strcmp(c.cmd, "apply") &&
        strcmp(c.cmd, "rollback") && strcmp(c.cmd, "verify") && strcmp(c.cmd, "baseline") &&
        strcmp(c.cmd, "verify-bundle")) {
        free(c.acks);
        return usage_error("unknown command \"%s\"", c.cmd);
    }
    if (strcmp(c.cmd, "rollback") == 0 && !c.to) {
        free(c.acks);
        return usage_error("%s needs --to V (the version to go back to, or \"empty\")", "rollback");
    }
    if (strcmp(c.cmd, "baseline") == 0 && !c.version) {
        free(c.acks);
        return usage_error("%s needs --version V", "baseline");
    }
    i = run(&c);
    free(c.acks);
    return i;
}
