/* SPDX-License-Identifier: MIT */
/*
 * main.c: the upc command line. It parses options, runs the pipeline of
 * driver.h for each plan, renders the diagnostics and sets the exit status:
 *
 *   0  success (warnings allowed unless -Werror)
 *   1  the plan has errors
 *   2  usage, I/O or internal error
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compiler/core/util.h"
#include "compiler/driver.h"

enum color_mode { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

struct cli {
    struct compile_opts copts;
    bool quiet;
    bool verbose;
    bool json;
    enum color_mode color;
};

static const char usage_text[] =
    "usage: upc <command> [options] PLAN...\n"
    "\n"
    "Commands:\n"
    "  check PLAN...          check plans and report every problem found\n"
    "  help                   show this help\n"
    "\n"
    "Options:\n"
    "  -Werror, --werror      treat warnings as errors\n"
    "  -q, --quiet            print errors only, and no summary\n"
    "  -v, --verbose          print a summary line for each plan\n"
    "      --json             print diagnostics as JSON, one object per line, on stdout\n"
    "      --color=WHEN       colour diagnostics: auto (default), always, never\n"
    "      --error-limit=N    stop after N errors (default 20, 0 for no limit)\n"
    "      --dump=PASS        print the result of a pass: ast, versions\n"
    "  -h, --help             show this help\n"
    "      --version          show the version\n"
    "\n"
    "PLAN is a .upg file, or - for standard input.\n"
    "\n"
    "Exit status:\n"
    "  0  success (warnings do not fail the check unless -Werror is given)\n"
    "  1  a plan has errors\n"
    "  2  usage, I/O or internal error\n";

static int
usage_error(const char *fmt, const char *arg)
{
    fputs("upc: error: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nTry \"upc --help\".\n", stderr);
    return 2;
}

/* Parses one option; returns 0, or 2 after a usage error. */
static int
parse_option(struct cli *cli, const char *arg)
{
    if (strcmp(arg, "-Werror") == 0 || strcmp(arg, "--werror") == 0) {
        cli->copts.werror = true;
    } else if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0) {
        cli->quiet = true;
    } else if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0) {
        cli->verbose = true;
    } else if (strcmp(arg, "--json") == 0) {
        cli->json = true;
    } else if (strncmp(arg, "--color=", 8) == 0) {
        const char *v = arg + 8;
        if (strcmp(v, "auto") == 0)
            cli->color = COLOR_AUTO;
        else if (strcmp(v, "always") == 0)
            cli->color = COLOR_ALWAYS;
        else if (strcmp(v, "never") == 0)
            cli->color = COLOR_NEVER;
        else
            return usage_error("--color takes auto, always or never, not \"%s\"", v);
    } else if (strncmp(arg, "--error-limit=", 14) == 0) {
        char *end;
        long n;
        errno = 0;
        n = strtol(arg + 14, &end, 10);
        if (errno || *end || end == arg + 14 || n < 0)
            return usage_error("--error-limit takes a number, not \"%s\"", arg + 14);
        cli->copts.error_limit = (size_t)n;
    } else if (strncmp(arg, "--dump=", 7) == 0) {
        const char *v = arg + 7;
        if (strcmp(v, "ast") == 0)
            cli->copts.dump = DUMP_AST;
        else if (strcmp(v, "versions") == 0)
            cli->copts.dump = DUMP_VERSIONS;
        else
            return usage_error("--dump takes ast or versions, not \"%s\"", v);
    } else {
        return usage_error("unknown option \"%s\"", arg);
    }
    return 0;
}

static bool
use_color(const struct cli *cli)
{
    const char *no = getenv("NO_COLOR");

    if (cli->color != COLOR_AUTO)
        return cli->color == COLOR_ALWAYS;
    return isatty(STDERR_FILENO) && !(no && *no);
}

static int
cmd_check(struct cli *cli, char **plans, int nplans)
{
    struct diag_render_opts ropts = {use_color(cli), cli->quiet};
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
        if (cli->json)
            diag_render_json(&c.diag, stdout, cli->quiet);
        else
            diag_render(&c.diag, stderr, &ropts);
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
    if (!cli->quiet && !cli->json && (errors || warnings))
        fprintf(stderr, "upc: %zu error%s, %zu warning%s generated\n", errors,
                errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
    return status;
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
            fputs(usage_text, stdout);
            free(plans);
            return 0;
        }
        if (!only_plans && strcmp(a, "--version") == 0) {
            printf("upc %s\n", UPG_VERSION);
            free(plans);
            return 0;
        }
        if (!only_plans && strcmp(a, "--") == 0) {
            only_plans = true;
        } else if (!only_plans && a[0] == '-' && a[1] != '\0') {
            if ((rc = parse_option(&cli, a))) {
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
        fputs(usage_text, stderr);
        free(plans);
        return 2;
    }
    if (strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        rc = 0;
    } else if (strcmp(cmd, "check") == 0) {
        rc = nplans ? cmd_check(&cli, plans, nplans)
                    : usage_error("%s needs at least one plan file (or - for standard input)",
                                  "check");
    } else {
        rc = usage_error("unknown command \"%s\"", cmd);
    }
    free(plans);
    return rc;
}
