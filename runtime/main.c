/* SPDX-License-Identifier: MIT */
/*
 * main.c: uprun, the runtime's command line: a thin front over libuprun.
 * For now it verifies bundles; applying them comes with the runtime issue.
 *
 * Exit status:
 *   0  done
 *   2  usage, configuration or I/O error (nothing was changed)
 *   3  the bundle did not verify (signature, key id, checksum, extra or missing file)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/bundle.h"
#include "runtime/sig.h"

enum {
    EXIT_OK = 0,
    EXIT_USAGE = 2,
    EXIT_VERIFY = 3,
};

static const char usage_text[] =
    "usage: uprun [--bundle DIR] [--pubkey FILE] COMMAND\n"
    "\n"
    "Commands:\n"
    "  verify-bundle          verify the bundle's signature and every file's checksum\n"
    "\n"
    "Options:\n"
    "  --bundle DIR           the bundle (default: .)\n"
    "  --pubkey FILE          the release's public key (minisign format); required\n"
    "  -q, --quiet            print nothing on success\n"
    "  -h, --help             show this help\n"
    "      --version          show the version\n"
    "\n"
    "Exit status:\n"
    "  0  done\n"
    "  2  usage, configuration or I/O error (nothing was changed)\n"
    "  3  the bundle did not verify: do not use it\n";

static int
usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "uprun: error: ");
    fprintf(stderr, msg, arg);
    fputs("\nTry \"uprun --help\".\n", stderr);
    return EXIT_USAGE;
}

static void
report(const char *what, const struct rt_error *err)
{
    fprintf(stderr, "uprun: error: %s: %s\n", what, err->message);
    if (err->hint[0])
        fprintf(stderr, "uprun: hint: %s\n", err->hint);
}

static int
cmd_verify_bundle(const char *dir, const char *pubkey, bool quiet)
{
    struct sig_pubkey key;
    struct rt_error err;
    struct bundle *b = NULL;
    int rc;

    if (!pubkey)
        return usage_error("%s needs the release's public key: --pubkey FILE", "verify-bundle");
    if (sig_pubkey_load(pubkey, &key, &err)) {
        report("could not load the public key", &err);
        return EXIT_USAGE;
    }
    rc = bundle_open(dir, &key, &b, &err);
    if (rc) {
        report(rc == -1 ? "the bundle did not verify" : "could not read the bundle", &err);
        return rc == -1 ? EXIT_VERIFY : EXIT_USAGE;
    }
    if (!quiet) {
        const struct manifest *m = &b->manifest;
        printf("uprun: bundle %s verified: plan \"%s\"%s%s%s, %zu versions (%s to %s), %zu steps, "
               "%zu files (%zu bytes), signed by key %s\n",
               dir, m->plan_name, m->plan_title ? " (" : "", m->plan_title ? m->plan_title : "",
               m->plan_title ? ")" : "", m->nversions, m->versions[0].name,
               m->versions[m->nversions - 1].name, m->nsteps, b->nfiles, b->bytes, b->key_id);
        printf("uprun: trusted comment: %s\n", b->trusted_comment);
    }
    bundle_free(b);
    return EXIT_OK;
}

int
main(int argc, char **argv)
{
    const char *bundle = ".", *pubkey = NULL, *cmd = NULL;
    struct rt_error err;
    bool quiet = false;
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            return EXIT_OK;
        } else if (strcmp(a, "--version") == 0) {
            printf("uprun %s\n", UPG_VERSION);
            return EXIT_OK;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = true;
        } else if (strcmp(a, "--bundle") == 0 || strcmp(a, "--pubkey") == 0) {
            if (i + 1 >= argc)
                return usage_error("option %s needs a value", a);
            *(a[2] == 'b' ? &bundle : &pubkey) = argv[++i];
        } else if (strncmp(a, "--bundle=", 9) == 0) {
            bundle = a + 9;
        } else if (strncmp(a, "--pubkey=", 9) == 0) {
            pubkey = a + 9;
        } else if (a[0] == '-') {
            return usage_error("unknown option \"%s\"", a);
        } else if (!cmd) {
            cmd = a;
        } else {
            return usage_error("unexpected argument \"%s\"", a);
        }
    }
    if (sig_init(&err)) {
        report("could not start", &err);
        return EXIT_USAGE;
    }
    if (!cmd) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    if (strcmp(cmd, "verify-bundle") == 0)
        return cmd_verify_bundle(bundle, pubkey, quiet);
    return usage_error("unknown command \"%s\"", cmd);
}
