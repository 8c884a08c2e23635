/* SPDX-License-Identifier: MIT */
/*
 * main.c: the upc command line. It parses options, runs the pipeline of
 * driver.h for each plan, renders the diagnostics and sets the exit status:
 *
 *   0  success (warnings allowed unless -Werror)
 *   1  the plan has errors, or asks for something it cannot give (no down-step)
 *   2  usage, I/O or internal error
 */
#define _XOPEN_SOURCE 700 /* realpath() */
#include <errno.h>
#include <sys/stat.h>
#include <stdio.h>
#include <termios.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compiler/build.h"
#include "compiler/driver.h"
#include "compiler/expect.h"
#include "compiler/guide.h"
#include "core/util.h"
#include "runtime/canon.h"
#include "runtime/manifest.h"

enum color_mode { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

struct cli {
    struct compile_opts copts;
    bool quiet;
    bool verbose;
    bool json;
    enum color_mode color;
    /* upc sql */
    const char *dialect;
    const char *from;
    const char *to;
    bool down;
    bool online; /* the online lowering of changes marked online, not the one psql can run */
    /* upc schema */
    const char *at;
    /* upc build, upc keygen */
    const char *output;
    const char *key;
    const char *channel, *expires; /* upc build: the release's channel, its expiry as given */
    const char *previous;          /* upc build --previous: the last release's bundle */
    unsigned long long sequence;   /* 0: not given */
    unsigned dialect_mask;         /* every --dialect given */
    bool bad_dialect;
    bool force;
    unsigned seen; /* the command-specific options given (enum opt bits) */
    bool help;     /* -h/--help: the help of the command, if one is given */
};

/* The options that belong to some commands only. */
enum opt {
    OPT_DIALECT = 1u << 0,
    OPT_FROM = 1u << 1,
    OPT_TO = 1u << 2,
    OPT_DOWN = 1u << 3,
    OPT_AT = 1u << 4,
    OPT_OUTPUT = 1u << 5,
    OPT_KEY = 1u << 6,
    OPT_FORCE = 1u << 7,
    OPT_COMPILE = 1u << 8, /* -Werror, -q, -v, --json, --color, --error-limit, --dump */
    OPT_RELEASE = 1u << 9, /* --channel, --sequence, --expires */
    OPT_ONLINE = 1u << 10, /* upc sql --online */
};

static const char compile_options[] =
    "  -Werror, --werror      treat warnings as errors\n"
    "  -q, --quiet            print errors only, and no summary\n"
    "  -v, --verbose          print a summary line for each plan\n"
    "      --json             print diagnostics as JSON, one object per line, on stdout\n"
    "      --color=WHEN       colour diagnostics: auto (default), always, never\n"
    "      --error-limit=N    stop after N errors (default 20, 0 for no limit)\n"
    "      --dump=PASS        print the result of a pass: ast, versions, ir (the checked model)\n";

/* One command: its synopsis, what it does, its own options, and the options it takes. */
struct command {
    const char *name, *synopsis, *what, *options;
    unsigned takes;
};

static const struct command commands[] = {
    {"check", "upc check [options] PLAN...",
     "Checks plans and reports every problem found (errors and warnings, with help), in source\n"
     "order. Exit status 1 when a plan has errors (or warnings, with -Werror).",
     "", OPT_COMPILE},
    {"sql", "upc sql [options] PLAN",
     "Prints the SQL of an upgrade (or rollback) path, ready for psql -1 -v ON_ERROR_STOP=1 -f -\n"
     "or sqlite3 -bail.",
     "      --dialect=D        postgres or sqlite (needed when the plan declares both)\n"
     "      --from=V           the version the database is at (default: an empty database;\n"
     "                         with --down, the last version)\n"
     "      --to=V             the version to reach (default: the last version; with --down,\n"
     "                         an empty database)\n"
     "      --down             the rollback path: the down-steps from --from back to --to\n"
     "      --online           a change marked online as uprun runs it online (in units; its\n"
     "                         backfill runs only under uprun), not the plain way psql can run\n",
     OPT_COMPILE | OPT_DIALECT | OPT_FROM | OPT_TO | OPT_DOWN | OPT_ONLINE},
    {"schema", "upc schema [options] PLAN",
     "Prints the schema a database has at a version, as canonical JSON (what uprun verify\n"
     "compares a live database with).",
     "      --dialect=D        postgres or sqlite (needed when the plan declares both)\n"
     "      --at=V             the version (default: the last version)\n",
     OPT_COMPILE | OPT_DIALECT | OPT_AT},
    {"build", "upc build [options] PLAN -o DIR",
     "Writes the bundle: per-dialect SQL of every step, the manifest, the guide (guide.md), and\n"
     "the signature when --key is given.",
     "  -o, --output=DIR       the bundle folder\n"
     "      --key=FILE         sign the bundle with this secret key (minisign format; for an\n"
     "                         encrypted key the password comes from UPG_KEY_PASSWORD or the\n"
     "                         terminal)\n"
     "      --dialect=D        build only these dialects (repeat it; default: all declared)\n"
     "      --channel=NAME     the release channel (default: stable)\n"
     "      --sequence=N       the bundle's number on its channel, from 1 (default: 1); uprun\n"
     "                         refuses a bundle lower than one a database has seen\n"
     "      --expires=WHEN     when uprun stops accepting it: a duration from the build (90d,\n"
     "                         12h, 30m, 2w; from SOURCE_DATE_EPOCH when set) or a UTC date\n"
     "                         (2027-03-01, 2027-03-01T12:00:00Z); default: never\n"
     "      --previous=DIR     the bundle of the release before: refuse a change to any version\n"
     "                         it released; its channel, and its sequence + 1, are the defaults\n",
     OPT_COMPILE | OPT_OUTPUT | OPT_KEY | OPT_DIALECT | OPT_RELEASE},
    {"keygen", "upc keygen -o PREFIX [--force]",
     "Makes a signing key pair: PREFIX.key (secret, unencrypted) and PREFIX.pub (public), in\n"
     "minisign's formats.",
     "  -o, --output=PREFIX    the key files' prefix\n"
     "      --force            overwrite existing key files\n",
     OPT_OUTPUT | OPT_FORCE},
    {"guide", "upc guide [options] PLAN",
     "Writes the upgrade guide (Markdown): the path, the way from every version, each step's\n"
     "schema changes in words, notices, breaking changes and the uprun commands.",
     "      --from=V           start at version V (default: the first version; \"empty\" adds\n"
     "                         the step that creates it)\n"
     "      --to=V             the last version covered (default: the last version)\n"
     "      --dialect=D        only these dialects' SQL and costs (repeat it; default: all)\n"
     "  -o, --output=FILE      write to FILE instead of standard output\n",
     OPT_COMPILE | OPT_FROM | OPT_TO | OPT_DIALECT | OPT_OUTPUT},
    {"graph", "upc graph [options] PLAN",
     "Writes the versions and steps as a Graphviz graph (DOT): upc graph plan.upg | dot -Tsvg\n"
     "-o paths.svg. Derived steps of merges are drawn dashed.",
     "  -o, --output=FILE      write to FILE instead of standard output\n",
     OPT_COMPILE | OPT_OUTPUT},
    {"help", "upc help [COMMAND]", "Shows the help of upc, or of one command.", "", 0},
};

static const struct command *
find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* The help of one command, on stdout. */
static void
command_help(const struct command *c)
{
    printf("usage: %s\n\n%s\n", c->synopsis, c->what);
    if (c->options[0] || (c->takes & OPT_COMPILE))
        printf("\nOptions:\n%s%s", c->options, c->takes & OPT_COMPILE ? compile_options : "");
    printf(
        "  -h, --help             show this help\n\n"
        "Exit status: 0 success, 1 a plan has errors (or the path asked for has an irreversible\n"
        "step), 2 usage, I/O or internal error. \"upc --help\" lists every command.\n");
}

/* The first option given that cmd does not take, as the user would write it; NULL if none. */
static const char *
foreign_option(const struct cli *cli, const struct command *cmd)
{
    static const char *const names[] = {"--dialect", "--from",   "--to",  "--down",
                                        "--at",      "--output", "--key", "--force"};
    unsigned extra = cli->seen & ~cmd->takes;

    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (extra & (1u << i))
            return names[i];
    if (extra & OPT_RELEASE)
        return "--channel, --sequence, --expires or --previous";
    if (extra & OPT_ONLINE)
        return "--online";
    return extra & OPT_COMPILE ? "-Werror, -q, -v, --json, --color, --error-limit or --dump" : NULL;
}

static const char usage_text[] =
    "usage: upc <command> [options] PLAN...\n"
    "\n"
    "Commands:\n"
    "  check PLAN...          check plans and report every problem found\n"
    "  sql PLAN               print the SQL of an upgrade (or rollback) path, ready for\n"
    "                         psql -1 -v ON_ERROR_STOP=1 -f - or sqlite3 -bail\n"
    "  schema PLAN            print the schema a database has at a version, as canonical\n"
    "                         JSON (what uprun verify compares a live database with)\n"
    "  build PLAN -o DIR      write the bundle: per-dialect SQL of every step, the manifest,\n"
    "                         the guide (guide.md), and the signature when --key is given\n"
    "  keygen -o PREFIX       make a signing key pair: PREFIX.key (secret, unencrypted)\n"
    "                         and PREFIX.pub (public), in minisign's formats\n"
    "  guide PLAN             write the upgrade guide (Markdown): the path, each step's schema\n"
    "                         changes in words, notices, breaking changes, uprun commands\n"
    "  graph PLAN             write the versions and steps as a Graphviz graph (DOT):\n"
    "                         upc graph plan.upg | dot -Tsvg -o paths.svg\n"
    "  help [COMMAND]         show this help, or a command's (upc COMMAND --help too)\n"
    "\n"
    "Options:\n"
    "  -Werror, --werror      treat warnings as errors\n"
    "  -q, --quiet            print errors only, and no summary\n"
    "  -v, --verbose          print a summary line for each plan\n"
    "      --json             print diagnostics as JSON, one object per line, on stdout\n"
    "      --color=WHEN       colour diagnostics: auto (default), always, never\n"
    "      --error-limit=N    stop after N errors (default 20, 0 for no limit)\n"
    "      --dump=PASS        print the result of a pass: ast, versions, ir (the checked model)\n"
    "  -h, --help             show this help\n"
    "      --version          show the version\n"
    "\n"
    "Options of upc sql:\n"
    "      --dialect=D        postgres or sqlite (needed when the plan declares both)\n"
    "      --from=V           the version the database is at (default: an empty database;\n"
    "                         with --down, the last version)\n"
    "      --to=V             the version to reach (default: the last version; with --down,\n"
    "                         an empty database)\n"
    "      --down             the rollback path: the down-steps from --from back to --to\n"
    "\n"
    "Options of upc schema:\n"
    "      --dialect=D        postgres or sqlite (needed when the plan declares both)\n"
    "      --at=V             the version (default: the last version)\n"
    "\n"
    "Options of upc guide and upc graph:\n"
    "      --from=V           guide: start at version V (default: the first version;\n"
    "                         \"empty\" adds the step that creates it)\n"
    "      --to=V             guide: the last version covered (default: the last version)\n"
    "  -o, --output=FILE      write to FILE instead of standard output\n"
    "\n"
    "Options of upc build and upc keygen:\n"
    "  -o, --output=PATH      the bundle folder (build), the key files' prefix (keygen)\n"
    "      --key=FILE         sign the bundle with this secret key (minisign format; for an\n"
    "                         encrypted key the password comes from UPG_KEY_PASSWORD or the\n"
    "                         terminal)\n"
    "      --dialect=D        build only these dialects (repeat it; default: all declared)\n"
    "      --force            keygen: overwrite existing key files\n"
    "\n"
    "Environment:\n"
    "  SOURCE_DATE_EPOCH      the date written into a bundle (none without it)\n"
    "  UPG_KEY_PASSWORD       the password of an encrypted secret key\n"
    "  NO_COLOR               no colours in diagnostics\n"
    "\n"
    "PLAN is a .upg file, or - for standard input.\n"
    "\n"
    "Exit status:\n"
    "  0  success (warnings do not fail unless -Werror is given)\n"
    "  1  a plan has errors, or the path asked for has an irreversible step\n"
    "  2  usage, I/O or internal error\n";

static int
usage_error(const char *fmt, const char *arg)
{
    fputs("upc: error: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nTry \"upc --help\".\n", stderr);
    return 2;
}

/* "--name=value" or "--name value": the value, or NULL when arg is not --name. */
static const char *
option_value(const char *arg, const char *name, int *i, int argc, char **argv, int *err)
{
    size_t n = strlen(name);

    if (strncmp(arg, name, n) != 0)
        return NULL;
    if (arg[n] == '=')
        return arg + n + 1;
    if (arg[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *err = usage_error("option %s needs a value", name);
        return NULL;
    }
    return argv[++*i];
}

/* Parses the option at argv[*i]; returns 0, or 2 after a usage error. */
static int
parse_option(struct cli *cli, int *i, int argc, char **argv)
{
    const char *arg = argv[*i], *v;
    int err = 0;

    if (strcmp(arg, "-Werror") == 0 || strcmp(arg, "--werror") == 0 || strcmp(arg, "-q") == 0 ||
        strcmp(arg, "--quiet") == 0 || strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0 ||
        strcmp(arg, "--json") == 0 || strncmp(arg, "--color", 7) == 0 ||
        strncmp(arg, "--error-limit", 13) == 0 || strncmp(arg, "--dump", 6) == 0)
        cli->seen |= OPT_COMPILE;
    if (strcmp(arg, "-Werror") == 0 || strcmp(arg, "--werror") == 0) {
        cli->copts.werror = true;
    } else if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0) {
        cli->quiet = true;
    } else if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0) {
        cli->verbose = true;
    } else if (strcmp(arg, "--json") == 0) {
        cli->json = true;
    } else if (strcmp(arg, "--down") == 0) {
        cli->down = true;
        cli->seen |= OPT_DOWN;
    } else if (strcmp(arg, "--online") == 0) {
        cli->online = true;
        cli->seen |= OPT_ONLINE;
    } else if ((v = option_value(arg, "--color", i, argc, argv, &err))) {
        if (strcmp(v, "auto") == 0)
            cli->color = COLOR_AUTO;
        else if (strcmp(v, "always") == 0)
            cli->color = COLOR_ALWAYS;
        else if (strcmp(v, "never") == 0)
            cli->color = COLOR_NEVER;
        else
            return usage_error("--color takes auto, always or never, not \"%s\"", v);
    } else if ((v = option_value(arg, "--error-limit", i, argc, argv, &err))) {
        char *end;
        long n;
        errno = 0;
        n = strtol(v, &end, 10);
        if (errno || *end || end == v || n < 0)
            return usage_error("--error-limit takes a number, not \"%s\"", v);
        cli->copts.error_limit = (size_t)n;
    } else if ((v = option_value(arg, "--dump", i, argc, argv, &err))) {
        if (strcmp(v, "ast") == 0)
            cli->copts.dump = DUMP_AST;
        else if (strcmp(v, "versions") == 0)
            cli->copts.dump = DUMP_VERSIONS;
        else if (strcmp(v, "ir") == 0)
            cli->copts.dump = DUMP_IR;
        else
            return usage_error("--dump takes ast, versions or ir, not \"%s\"", v);
    } else if ((v = option_value(arg, "--dialect", i, argc, argv, &err))) {
        enum dialect_id d;
        cli->seen |= OPT_DIALECT;
        cli->dialect = v;
        if (dialect_lookup(v, &d))
            cli->dialect_mask |= 1u << d;
        else
            cli->bad_dialect = true;
    } else if ((v = option_value(arg, "--output", i, argc, argv, &err)) ||
               (v = option_value(arg, "-o", i, argc, argv, &err))) {
        cli->output = v;
        cli->seen |= OPT_OUTPUT;
    } else if ((v = option_value(arg, "--key", i, argc, argv, &err))) {
        cli->key = v;
        cli->seen |= OPT_KEY;
    } else if ((v = option_value(arg, "--channel", i, argc, argv, &err))) {
        if (!manifest_channel_ok(v))
            return usage_error("--channel takes 1 to 64 letters, digits, '-', '_' and '.', not "
                               "\"%s\"",
                               v);
        cli->channel = v;
        cli->seen |= OPT_RELEASE;
    } else if ((v = option_value(arg, "--sequence", i, argc, argv, &err))) {
        char *end;
        errno = 0;
        cli->sequence = strtoull(v, &end, 10);
        if (errno || *end || end == v || cli->sequence == 0 || *v == '-' ||
            cli->sequence >= (1ULL << 62))
            return usage_error("--sequence takes a number from 1, not \"%s\"", v);
        cli->seen |= OPT_RELEASE;
    } else if ((v = option_value(arg, "--expires", i, argc, argv, &err))) {
        cli->expires = v;
        cli->seen |= OPT_RELEASE;
    } else if ((v = option_value(arg, "--previous", i, argc, argv, &err))) {
        cli->previous = v;
        cli->seen |= OPT_RELEASE;
    } else if (strcmp(arg, "--force") == 0) {
        cli->force = true;
        cli->seen |= OPT_FORCE;
    } else if ((v = option_value(arg, "--from", i, argc, argv, &err))) {
        cli->from = v;
        cli->seen |= OPT_FROM;
    } else if ((v = option_value(arg, "--to", i, argc, argv, &err))) {
        cli->to = v;
        cli->seen |= OPT_TO;
    } else if ((v = option_value(arg, "--at", i, argc, argv, &err))) {
        cli->at = v;
        cli->seen |= OPT_AT;
    } else {
        return err ? err : usage_error("unknown option \"%s\"", arg);
    }
    return err;
}

static bool
use_color(const struct cli *cli)
{
    const char *no = getenv("NO_COLOR");

    if (cli->color != COLOR_AUTO)
        return cli->color == COLOR_ALWAYS;
    return isatty(STDERR_FILENO) && !(no && *no);
}

static void
render(const struct cli *cli, struct compilation *c)
{
    struct diag_render_opts ropts = {use_color(cli), cli->quiet};

    if (cli->json)
        diag_render_json(&c->diag, stdout, cli->quiet);
    else
        diag_render(&c->diag, stderr, &ropts);
}

static void
summary(const struct cli *cli, size_t errors, size_t warnings)
{
    if (!cli->quiet && !cli->json && (errors || warnings))
        fprintf(stderr, "upc: %zu error%s, %zu warning%s generated\n", errors,
                errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
}

static int
cmd_check(struct cli *cli, char **plans, int nplans)
{
    size_t errors = 0, warnings = 0;
    int status = 0, i;

    for (i = 0; i < nplans; i++) {
        struct compilation c;
        int rc;

        compilation_init(&c, &cli->copts);
        rc = compile_front(&c, plans[i], &cli->copts);
        if (rc == 2) {
            fprintf(stderr, "upc: error: %s\n", c.io_error);
            compilation_free(&c);
            status = 2;
            continue;
        }
        render(cli, &c);
        errors += c.diag.n_errors;
        warnings += c.diag.n_warnings;
        if (cli->verbose && !cli->json)
            fprintf(stderr,
                    "upc: %s: plan \"%s\", %zu version%s, %zu statement%s: %zu error%s, %zu "
                    "warning%s, %zu finding%s allowed\n",
                    plans[i], c.plan.name ? c.plan.name : "?", c.plan.nversions,
                    c.plan.nversions == 1 ? "" : "s", c.plan.nstatements,
                    c.plan.nstatements == 1 ? "" : "s", c.diag.n_errors,
                    c.diag.n_errors == 1 ? "" : "s", c.diag.n_warnings,
                    c.diag.n_warnings == 1 ? "" : "s", c.plan.nallowed,
                    c.plan.nallowed == 1 ? "" : "s");
        if (rc == 1 && status == 0)
            status = 1;
        compilation_free(&c);
    }
    summary(cli, errors, warnings);
    return status;
}

/* "postgres and sqlite", for usage errors. */
static int
unknown_dialect(const char *name)
{
    struct strbuf names = STRBUF_INIT;
    int rc;

    dialect_names_text(&names);
    fprintf(stderr, "upc: error: unknown dialect \"%s\"; the dialects are %s\n", name,
            strbuf_str(&names));
    fputs("Try \"upc --help\".\n", stderr);
    strbuf_free(&names);
    rc = 2;
    return rc;
}

/* Compiles one plan into the checked model (no dialect chosen). 0, or the exit status. */
static int
compile_checked(struct cli *cli, struct compilation *c, const char *path)
{
    int rc;

    rc = compile_front(c, path, &cli->copts);
    if (rc == 2) {
        fprintf(stderr, "upc: error: %s\n", c->io_error);
        return 2;
    }
    render(cli, c);
    summary(cli, c->diag.n_errors, c->diag.n_warnings);
    return rc;
}

/*
 * Compiles one plan with the IR recorded and picks its dialect. Returns 0,
 * or the exit status after reporting (1: the plan has errors, 2: usage).
 */
static int
compile_for_sql(struct cli *cli, struct compilation *c, const char *path, enum dialect_id *d)
{
    int rc;

    if ((rc = compile_checked(cli, c, path)))
        return rc;
    if (cli->dialect) {
        if (!dialect_lookup(cli->dialect, d))
            return unknown_dialect(cli->dialect);
        if (!plan_has_dialect(&c->plan, *d))
            return usage_error("the plan does not declare dialect \"%s\"", cli->dialect);
    } else if (c->plan.ndialects == 1) {
        *d = c->plan.dialect_order[0];
    } else {
        return usage_error("%s: the plan declares several dialects; choose one with --dialect",
                           path);
    }
    return 0;
}

/* A version named on the command line; NULL with *bad set when it is unknown. */
static struct plan_version *
cli_version(struct compilation *c, const char *text, bool *bad)
{
    struct plan_version *v = plan_find_version(&c->plan, &c->arena, text);

    if (!v) {
        usage_error("the plan has no version \"%s\"", text);
        *bad = true;
    }
    return v;
}

static void
comment_lines(FILE *out, const char *prefix, const char *text)
{
    fprintf(out, "-- %s", prefix);
    for (; *text; text++) {
        if (*text == '\n')
            fputs("\n--   ", out);
        else if (*text != '\r')
            fputc(*text, out);
    }
    fputc('\n', out);
}

/* The notices and breaking changes of a step, as comments. */
static void
step_notes(FILE *out, const struct plan_version *v)
{
    size_t i;

    for (i = 0; i < v->nnotices; i++)
        comment_lines(out, v->notices[i].warning ? "notice (warning): " : "notice (info): ",
                      v->notices[i].text);
    for (i = 0; i < v->nbreaking; i++) {
        char prefix[160];
        snprintf(prefix, sizeof prefix, "breaking change \"%.100s\": ", v->breaking[i].id);
        comment_lines(out, prefix, v->breaking[i].text);
    }
}

/* upc sql prints each lowered step of the path. */
static int
print_step(void *arg, const struct lowered_step *s)
{
    const bool *down = arg;
    const struct plan_version *v = s->v;
    const char *vf = v->parent ? v->parent->name : "empty";
    const struct step_sql *info = *down ? &s->down_info : &s->up_info;
    const struct strbuf *text = *down ? &s->down : &s->up;

    printf("\n-- step %s %s -> %s%s\n", *down ? "down" : "up", *down ? v->name : vf,
           *down ? vf : v->name, info->nstatements == 0 ? ": no schema change" : "");
    if (!*down)
        step_notes(stdout, v);
    if (*down && info->lossy)
        puts("-- This down-step restores the structure, not the data: what the step dropped is "
             "gone.");
    fputs(strbuf_str(text), stdout);
    return 0;
}

static int
cmd_sql(struct cli *cli, char **plans, int nplans)
{
    struct compilation c;
    struct plan_version *from = NULL, *to = NULL, **path = NULL;
    enum dialect_id d = DIALECT_POSTGRES;
    bool bad = false;
    size_t n, i;
    int rc;

    if (nplans != 1)
        return usage_error("%s takes exactly one plan", "sql");
    compilation_init(&c, &cli->copts);
    if ((rc = compile_for_sql(cli, &c, plans[0], &d)))
        goto done;
    /* the path: up from --from to --to, or down from --from to --to */
    if (cli->from)
        from = cli_version(&c, cli->from, &bad);
    if (cli->to)
        to = cli_version(&c, cli->to, &bad);
    if (bad) {
        rc = 2;
        goto done;
    }
    if (cli->down) {
        if (!cli->from)
            from = plan_last(&c.plan);
        n = plan_path(&c.plan, to, from, &path);
    } else {
        if (!cli->to)
            to = plan_last(&c.plan);
        n = plan_path(&c.plan, from, to, &path);
    }
    if (n == SIZE_MAX) {
        const char *a = cli->down ? (from ? from->name : "empty") : (from ? from->name : "empty");
        const char *b = cli->down ? (to ? to->name : "an empty database") : to->name;
        fprintf(stderr, "upc: error: there is no %s path from %s%s%s to %s%s%s\n",
                cli->down ? "rollback" : "upgrade", from ? "version \"" : "",
                from ? a : "an empty database", from ? "\"" : "", to ? "version \"" : "", b,
                to ? "\"" : "");
        fputs("upc: a path follows the versions' from relations; see upc check --dump=versions\n",
              stderr);
        rc = 2;
        goto done;
    }
    /* refuse a rollback through an irreversible step before printing anything */
    for (i = 0; cli->down && i < n; i++) {
        const struct plan_version *v = path[n - 1 - i];
        const char *why = ir_irreversible(v->ir, d);
        if (why) {
            fprintf(stderr,
                    "upc: error: step %s -> %s cannot be rolled back on %s: its sql block is "
                    "irreversible%s%s%s\n",
                    v->parent ? v->parent->name : "empty", v->name, dialect_name(d),
                    *why ? " (" : "", why, *why ? ")" : "");
            rc = 1;
            goto done;
        }
    }
    printf("-- upgrade-plan: plan \"%s\", %s, %s %s -> %s, %zu step%s\n", c.plan.name,
           dialect_name(d), cli->down ? "rollback" : "upgrade",
           cli->down ? from->name : (from ? from->name : "empty"),
           cli->down ? (to ? to->name : "empty") : to->name, n, n == 1 ? "" : "s");
    printf("-- Generated by upc %s from %s. Each step runs in its own transaction:\n", UPG_VERSION,
           compilation_file_name(&c));
    printf("-- %s\n", dialect_get(d)->sql_run_hint);
    if (cli->down) /* the down-steps from the top of the path */
        for (i = 0; i < n / 2; i++) {
            struct plan_version *t = path[i];
            path[i] = path[n - 1 - i];
            path[n - 1 - i] = t;
        }
    compile_lower(&c, path, n, 1u << d,
                  (cli->down ? LOWER_DOWN : LOWER_UP) | (cli->online ? 0 : LOWER_AS_OFFLINE),
                  FRAME_SQL, print_step, &cli->down);
    rc = 0;
done:
    free(path);
    compilation_free(&c);
    return rc;
}

static int
cmd_schema(struct cli *cli, char **plans, int nplans)
{
    struct compilation c;
    struct plan_version *at;
    enum dialect_id d = DIALECT_POSTGRES;
    bool bad = false;
    json_t *schema;
    char *text;
    int rc;

    if (nplans != 1)
        return usage_error("%s takes exactly one plan", "schema");
    compilation_init(&c, &cli->copts);
    if ((rc = compile_for_sql(cli, &c, plans[0], &d)))
        goto done;
    at = cli->at ? cli_version(&c, cli->at, &bad) : plan_last(&c.plan);
    if (bad) {
        rc = 2;
        goto done;
    }
    schema = expect_schema(at, d);
    text = canon_dump(schema);
    if (text)
        printf("%s\n", text);
    free(text);
    json_decref(schema);
    rc = 0;
done:
    compilation_free(&c);
    return rc;
}

static int
cmd_keygen(struct cli *cli, int nplans)
{
    struct rt_error err;
    char *pub, *key;
    int rc;

    if (nplans)
        return usage_error("%s takes no plan", "keygen");
    if (!cli->output)
        return usage_error("%s needs -o PREFIX (it writes PREFIX.key and PREFIX.pub)", "keygen");
    pub = xmalloc(strlen(cli->output) + 8);
    key = xmalloc(strlen(cli->output) + 8);
    sprintf(pub, "%s.pub", cli->output);
    sprintf(key, "%s.key", cli->output);
    if (sig_init(&err) || sig_keygen(pub, key, cli->force, &err)) {
        fprintf(stderr, "upc: error: %s\n", err.message);
        rc = 2;
    } else {
        struct sig_pubkey pk;
        char id[17];
        sig_pubkey_load(pub, &pk, &err);
        sig_key_id(pk.keynum, id);
        printf("upc: key %s: secret key %s (unencrypted: keep it secret, and safe), public key "
               "%s\n",
               id, key, pub);
        rc = 0;
    }
    free(pub);
    free(key);
    return rc;
}

/* A password from UPG_KEY_PASSWORD, or read from the terminal without echo; malloc'd. */
static char *
read_password(const char *keyfile)
{
    const char *env = getenv("UPG_KEY_PASSWORD");
    struct termios old, quiet;
    char buf[1024];
    FILE *tty;
    size_t n;

    if (env)
        return xstrdup(env);
    if (!(tty = fopen("/dev/tty", "r+")))
        return NULL;
    fprintf(tty, "Password for %s: ", keyfile);
    fflush(tty);
    tcgetattr(fileno(tty), &old);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
    if (!fgets(buf, sizeof buf, tty))
        buf[0] = '\0';
    tcsetattr(fileno(tty), TCSAFLUSH, &old);
    fputc('\n', tty);
    fclose(tty);
    n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return xstrdup(buf);
}

/*
 * The guide's default start: the baseline (the first version) of the path
 * to `to`, or an empty database when `to` is the baseline itself.
 */
static struct plan_version *
guide_baseline(struct plan_version *to)
{
    if (!to || !to->parent)
        return NULL;
    while (to->parent)
        to = to->parent;
    return to;
}

/* Reads DIR/manifest.json of the previous release's bundle (what it released). */
static int
load_previous(const char *dir, struct manifest *m, struct rt_error *err)
{
    char path[4200], *data;
    size_t len;
    int rc;

    snprintf(path, sizeof path, "%s/%s", dir, MANIFEST_FILE);
    if (!(data = read_file_whole(path, MANIFEST_MAX_BYTES, &len)))
        return rt_fail(err, "could not read the previous bundle's manifest \"%s\": %s", path,
                       strerror(errno));
    rc = manifest_read(data, len, m, err);
    free(data);
    if (rc) {
        char why[RT_ERROR_MSG_MAX];
        snprintf(why, sizeof why, "%s", err->message);
        rt_fail(err, "the previous bundle's manifest \"%s\" cannot be read: %s", path, why);
        snprintf(err->hint, sizeof err->hint,
                 "Give --previous the folder of the last release's bundle, as upc build of this "
                 "release wrote it (a bundle of an older format: rebuild it from its plan).");
    }
    return rc ? -1 : 0;
}

/*
 * --expires: a duration counted from the build (SOURCE_DATE_EPOCH when set,
 * so that a reproducible build stays reproducible, else now), or a UTC date
 * or date and time. Seconds since the epoch into *out.
 */
static bool
parse_expiry(const char *v, long long *out)
{
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    long long base = sde && *sde ? strtoll(sde, NULL, 10) : (long long)time(NULL);
    int y, mo, d, h = 0, mi = 0, sec = 0;
    size_t len = strlen(v);
    char unit, *end;
    long long n;

    errno = 0;
    n = strtoll(v, &end, 10);
    if (!errno && end != v && *v >= '0' && *v <= '9' && n > 0 && n < 100000 && end[0] && !end[1]) {
        unit = end[0];
        n *= unit == 's'   ? 1
             : unit == 'm' ? 60
             : unit == 'h' ? 3600
             : unit == 'd' ? 86400
             : unit == 'w' ? 604800
                           : 0;
        if (!n || base < 0 || base > (1LL << 61))
            return false;
        *out = base + n;
        return true;
    }
    /* YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, with digits where digits go */
    if (len != 10 && len != 20)
        return false;
    for (size_t i = 0; i < len; i++) {
        char want = "0000-00-00T00:00:00Z"[i];
        if (want == '0' ? !(v[i] >= '0' && v[i] <= '9') : v[i] != want)
            return false;
    }
    y = atoi(v);
    mo = atoi(v + 5);
    d = atoi(v + 8);
    if (len == 20) {
        h = atoi(v + 11);
        mi = atoi(v + 14);
        sec = atoi(v + 17);
    }
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59)
        return false;
    {
        static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if (d > mdays[mo - 1] + (mo == 2 && leap))
            return false;
    }
    {
        /* days from the civil date (Howard Hinnant's algorithm): no timegm in C17 */
        int yy = mo <= 2 ? y - 1 : y, era = yy / 400;
        unsigned yoe = (unsigned)(yy - era * 400);
        unsigned doy = (unsigned)((153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1);
        unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        *out = ((long long)era * 146097 + doe - 719468) * 86400 + h * 3600 + mi * 60 + sec;
    }
    return true;
}

static int
cmd_build(struct cli *cli, char **plans, int nplans)
{
    struct compilation c;
    struct build_opts o;
    struct build_result res;
    struct build_extra extra;
    struct strbuf guide = STRBUF_INIT;
    struct sig_seckey *key = NULL;
    struct manifest previous;
    struct rt_error err;
    enum dialect_id d;
    size_t k;
    int rc;

    memset(&previous, 0, sizeof previous);
    if (nplans != 1)
        return usage_error("%s takes exactly one plan", "build");
    if (!cli->output)
        return usage_error("%s needs -o DIR, the bundle folder", "build");
    if (cli->bad_dialect)
        return unknown_dialect(cli->dialect);
    if (sig_init(&err)) {
        fprintf(stderr, "upc: error: %s\n", err.message);
        return 2;
    }
    memset(&o, 0, sizeof o);
    compilation_init(&c, &cli->copts);
    if ((rc = compile_checked(cli, &c, plans[0])))
        goto done;
    for (k = 0; k < DIALECT_COUNT; k++) {
        d = (enum dialect_id)k;
        if ((cli->dialect_mask >> d) & 1u && !plan_has_dialect(&c.plan, d)) {
            rc = usage_error("the plan does not declare dialect \"%s\"", dialect_name(d));
            goto done;
        }
    }
    o.out_dir = cli->output;
    o.dialects = cli->dialect_mask ? cli->dialect_mask : c.plan.dialects;
    if (cli->previous) {
        if (load_previous(cli->previous, &previous, &err)) {
            fprintf(stderr, "upc: error: %s\n", err.message);
            if (err.hint[0])
                fprintf(stderr, "upc: hint: %s\n", err.hint);
            rc = 2;
            goto done;
        }
        o.previous = &previous;
        o.previous_dir = cli->previous;
        if (strcmp(previous.plan_name, c.plan.name) != 0) {
            fprintf(stderr,
                    "upc: error: the previous bundle %s is of plan \"%s\", not \"%s\"\nupc: "
                    "hint: Give --previous the last release's bundle of this plan.\n",
                    cli->previous, previous.plan_name, c.plan.name);
            rc = 2;
            goto done;
        }
        if (cli->sequence && cli->sequence <= previous.sequence &&
            (!cli->channel || strcmp(cli->channel, previous.channel) == 0)) {
            fprintf(stderr,
                    "upc: error: --sequence %llu is not above the previous bundle's (%llu, "
                    "channel %s)\n",
                    cli->sequence, previous.sequence, previous.channel);
            rc = 2;
            goto done;
        }
    }
    o.channel = cli->channel ? cli->channel : o.previous ? previous.channel : "stable";
    o.sequence = cli->sequence                                            ? cli->sequence
                 : o.previous && strcmp(o.channel, previous.channel) == 0 ? previous.sequence + 1
                                                                          : 1;
    o.expires = -1;
    if (cli->expires && !parse_expiry(cli->expires, &o.expires)) {
        rc = usage_error("--expires takes a duration (90d, 12h, 30m, 2w) or a UTC date "
                         "(2027-03-01, 2027-03-01T12:00:00Z), not \"%s\"",
                         cli->expires);
        goto done;
    }
    if (cli->expires && o.expires <= (long long)time(NULL)) {
        /* every uprun would refuse it: an old SOURCE_DATE_EPOCH, or a date past */
        fprintf(stderr,
                "upc: error: --expires %s gives a time already past%s: every uprun would refuse "
                "the bundle\nupc: hint: Give a later date, or a duration long enough from "
                "SOURCE_DATE_EPOCH (or unset it).\n",
                cli->expires,
                getenv("SOURCE_DATE_EPOCH") && *getenv("SOURCE_DATE_EPOCH")
                    ? " (a duration counts from SOURCE_DATE_EPOCH)"
                    : "");
        rc = 2;
        goto done;
    }
    {
        struct guide_opts go = {guide_baseline(plan_last(&c.plan)), plan_last(&c.plan),
                                compilation_file_name(&c), o.dialects};
        guide_write(&c.plan, &go, &guide);
        extra.path = "guide.md";
        extra.data = strbuf_str(&guide);
        extra.len = guide.len;
        o.extra = &extra;
        o.nextra = 1;
    }
    if (cli->key) {
        bool encrypted = false;
        if (sig_seckey_load(cli->key, NULL, &key, &encrypted, &err) && encrypted) {
            char *pw = read_password(cli->key);
            if (!pw) {
                fprintf(stderr,
                        "upc: error: the secret key %s is encrypted: set UPG_KEY_PASSWORD "
                        "or run on a terminal\n",
                        cli->key);
                rc = 2;
                goto done;
            }
            rc = sig_seckey_load(cli->key, pw, &key, &encrypted, &err);
            free(pw);
        }
        if (!key) {
            fprintf(stderr, "upc: error: %s\n", err.message);
            rc = 2;
            goto done;
        }
        o.key = key;
    }
    memset(&res, 0, sizeof res);
    if (build_bundle(&c, &o, &res, &err)) {
        fprintf(stderr, "upc: error: %s\n", err.message);
        if (err.hint[0])
            fprintf(stderr, "upc: hint: %s\n", err.hint);
        rc = res.previous_differs ? 1 : 2;
        goto done;
    }
    if (!cli->quiet) {
        if (res.signed_)
            printf("upc: bundle %s: plan \"%s\", %zu step%s, %zu dialect%s, signed with key %s\n",
                   cli->output, c.plan.name, res.nsteps, res.nsteps == 1 ? "" : "s", res.ndialects,
                   res.ndialects == 1 ? "" : "s", res.key_id);
        else
            printf("upc: bundle %s: plan \"%s\", %zu step%s, %zu dialect%s, not signed (uprun "
                   "refuses unsigned bundles; use --key)\n",
                   cli->output, c.plan.name, res.nsteps, res.nsteps == 1 ? "" : "s", res.ndialects,
                   res.ndialects == 1 ? "" : "s");
    }
    rc = 0;
done:
    sig_seckey_free(key);
    strbuf_free(&guide);
    compilation_free(&c);
    manifest_free(&previous);
    return rc;
}

/*
 * Writes text to path ("-" or NULL: standard output). A file is written
 * beside its final name and renamed into place, so that a failure never
 * leaves half a file. 0, or 2 after a message.
 */
static int
write_output(const char *path, const char *text, size_t len)
{
    char *tmp, *real = NULL;
    mode_t mode, mask;
    struct stat st;
    FILE *f;
    int fd, rc = 2;

    if (!path || strcmp(path, "-") == 0) {
        if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
            fprintf(stderr, "upc: error: could not write to standard output: %s\n",
                    strerror(errno));
            return 2;
        }
        return 0;
    }
    /* through a symbolic link to its file, as an editor would */
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && (real = realpath(path, NULL)))
        path = real;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        /* a device, a pipe: written in place (a rename would replace it) */
        bool ok;
        if (S_ISDIR(st.st_mode)) {
            fprintf(stderr, "upc: error: %s is a folder: -o takes a file name\n", path);
            goto out;
        }
        if (!(f = fopen(path, "w"))) {
            fprintf(stderr, "upc: error: could not open %s: %s\n", path, strerror(errno));
            goto out;
        }
        ok = fwrite(text, 1, len, f) == len;
        ok = (fclose(f) == 0) && ok;
        if (!ok)
            fprintf(stderr, "upc: error: could not write %s: %s\n", path, strerror(errno));
        rc = ok ? 0 : 2;
        goto out;
    }
    /* a new file gets the mode the umask allows; an existing one keeps its own */
    mask = umask(0);
    umask(mask);
    mode = stat(path, &st) == 0 ? (st.st_mode & 07777) : (0666 & ~mask);
    tmp = xmalloc(strlen(path) + 16);
    sprintf(tmp, "%s.tmp-XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0 || !(f = fdopen(fd, "w"))) {
        fprintf(stderr, "upc: error: could not create %s: %s\n", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        free(tmp);
        goto out;
    }
    if (fwrite(text, 1, len, f) != len || fflush(f) != 0 || fsync(fileno(f)) != 0 ||
        fchmod(fileno(f), mode) != 0) {
        fprintf(stderr, "upc: error: could not write %s: %s\n", path, strerror(errno));
        fclose(f);
        unlink(tmp);
        free(tmp);
        goto out;
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "upc: error: could not write %s: %s\n", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        goto out;
    }
    free(tmp);
    rc = 0;
out:
    free(real);
    return rc;
}

static int
cmd_guide(struct cli *cli, char **plans, int nplans)
{
    struct compilation c;
    struct plan_version *from = NULL, *to = NULL, **path = NULL;
    struct strbuf out = STRBUF_INIT;
    struct guide_opts go;
    bool bad = false;
    int rc;

    if (nplans != 1)
        return usage_error("%s takes exactly one plan", "guide");
    if (cli->bad_dialect)
        return unknown_dialect(cli->dialect);
    compilation_init(&c, &cli->copts);
    if ((rc = compile_checked(cli, &c, plans[0])))
        goto done;
    for (size_t k = 0; k < DIALECT_COUNT; k++) {
        if ((cli->dialect_mask >> k) & 1u && !plan_has_dialect(&c.plan, (enum dialect_id)k)) {
            rc = usage_error("the plan does not declare dialect \"%s\"",
                             dialect_name((enum dialect_id)k));
            goto done;
        }
    }
    to = cli->to ? cli_version(&c, cli->to, &bad) : plan_last(&c.plan);
    if (cli->from && strcmp(cli->from, "empty") != 0)
        from = cli_version(&c, cli->from, &bad);
    else if (!cli->from && to)
        from = guide_baseline(to);
    if (bad) {
        rc = 2;
        goto done;
    }
    if (plan_path(&c.plan, from, to, &path) == SIZE_MAX) {
        fprintf(
            stderr,
            "upc: error: version \"%s\" does not follow version \"%s\": there is no upgrade path "
            "between them\n",
            to->name, from ? from->name : "empty");
        fputs("upc: the versions' from relations make the paths; see upc graph\n", stderr);
        rc = 2;
        goto done;
    }
    memset(&go, 0, sizeof go);
    go.from = from;
    go.to = to;
    go.plan_file = compilation_file_name(&c);
    go.dialects = cli->dialect_mask;
    guide_write(&c.plan, &go, &out);
    rc = write_output(cli->output, strbuf_str(&out), out.len);
done:
    free(path);
    strbuf_free(&out);
    compilation_free(&c);
    return rc;
}

static int
cmd_graph(struct cli *cli, char **plans, int nplans)
{
    struct compilation c;
    struct strbuf out = STRBUF_INIT;
    int rc;

    if (nplans != 1)
        return usage_error("%s takes exactly one plan", "graph");
    if (cli->from || cli->to)
        return usage_error("%s draws every version: it takes no --from or --to", "graph");
    compilation_init(&c, &cli->copts);
    if ((rc = compile_checked(cli, &c, plans[0])) == 0) {
        graph_write(&c.plan, &out);
        rc = write_output(cli->output, strbuf_str(&out), out.len);
    }
    strbuf_free(&out);
    compilation_free(&c);
    return rc;
}

int
main(int argc, char **argv)
{
    struct cli cli;
    char **plans;
    const char *cmd = NULL;
    int nplans = 0, i, rc;
    bool only_plans = false;

    memset(&cli, 0, sizeof cli);
    cli.copts.error_limit = 20;
    cli.copts.dump_out = stdout;
    plans = xcalloc((size_t)argc + 1, sizeof *plans);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_plans && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
            cli.help = true; /* the command's help, once the command is known */
            continue;
        }
        if (!only_plans && strcmp(a, "--version") == 0) {
            printf("upc %s\n", UPG_VERSION);
            free(plans);
            return 0;
        }
        if (!only_plans && strcmp(a, "--") == 0) {
            only_plans = true;
        } else if (!only_plans && a[0] == '-' && a[1] != '\0') {
            if ((rc = parse_option(&cli, &i, argc, argv))) {
                free(plans);
                return rc;
            }
        } else if (!cmd) {
            cmd = a;
        } else {
            plans[nplans++] = argv[i];
        }
    }
    if (!cmd) {
        fputs(usage_text, cli.help ? stdout : stderr);
        free(plans);
        return cli.help ? 0 : 2;
    }
    {
        const struct command *c = find_command(cmd);
        const char *bad;
        if (c && cli.help) {
            command_help(c);
            free(plans);
            return 0;
        }
        if (c && strcmp(cmd, "help") == 0) {
            const struct command *of = nplans ? find_command(plans[0]) : NULL;
            rc = 0;
            if (nplans && !of)
                rc = usage_error("unknown command \"%s\"", plans[0]);
            else if (of)
                command_help(of);
            else
                fputs(usage_text, stdout);
            free(plans);
            return rc;
        }
        if (c && (bad = foreign_option(&cli, c))) {
            fprintf(stderr, "upc: error: %s does not apply to upc %s\n", bad, cmd);
            fprintf(stderr, "Try \"upc help %s\".\n", cmd);
            free(plans);
            return 2;
        }
    }
    if (strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        rc = 0;
    } else if (strcmp(cmd, "check") == 0) {
        rc = nplans ? cmd_check(&cli, plans, nplans)
                    : usage_error("%s needs at least one plan file (or - for standard input)",
                                  "check");
    } else if (strcmp(cmd, "sql") == 0) {
        rc = cmd_sql(&cli, plans, nplans);
    } else if (strcmp(cmd, "schema") == 0) {
        rc = cmd_schema(&cli, plans, nplans);
    } else if (strcmp(cmd, "build") == 0) {
        rc = cmd_build(&cli, plans, nplans);
    } else if (strcmp(cmd, "keygen") == 0) {
        rc = cmd_keygen(&cli, nplans);
    } else if (strcmp(cmd, "guide") == 0) {
        rc = cmd_guide(&cli, plans, nplans);
    } else if (strcmp(cmd, "graph") == 0) {
        rc = cmd_graph(&cli, plans, nplans);
    } else {
        rc = usage_error("unknown command \"%s\"", cmd);
    }
    free(plans);
    return rc;
}
