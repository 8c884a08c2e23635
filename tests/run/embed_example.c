/* SPDX-License-Identifier: MIT */
/*
 * embed_example.c: a product that embeds libuprun to upgrade its own
 * database at start-up, using nothing but the public header. It is also a
 * test: built in the tree, and built again against an installed copy (with
 * pkg-config) by tests/tools/install_test.sh.
 *
 *     embed_example BUNDLE PUBKEY DBURL [TARGET]
 *
 * Prints one line per event, then "embed: at version V"; exits with the
 * uprun code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/uprun.h"

static void
on_event(void *arg, const struct uprun_event *ev)
{
    int *steps = arg;

    switch (ev->kind) {
    case UPRUN_EV_STEP_DONE:
        ++*steps;
        printf("embed: step %u (%s -> %s) done\n", ev->step, ev->from ? ev->from : "empty", ev->to);
        break;
    case UPRUN_EV_STEP_FAILED:
        printf("embed: step %u failed: %s (%s line %zu)\n", ev->step, ev->message,
               ev->file ? ev->file : "?", ev->line);
        break;
    case UPRUN_EV_BREAKING:
        printf("embed: breaking change %s%s\n", ev->id, ev->acknowledged ? " (acknowledged)" : "");
        break;
    default:
        break;
    }
}

int
main(int argc, char **argv)
{
    struct rt_error err;
    uprun *u = NULL;
    int steps = 0, rc;

    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: embed_example BUNDLE PUBKEY DBURL [TARGET]\n");
        return UPRUN_USAGE;
    }
    struct uprun_config cfg = {
        .bundle_dir = argv[1],
        .pubkey_path = argv[2],
        .db_url = argv[3],
        .lock_timeout = 10,
        .event = on_event,
        .event_arg = &steps,
    };
    /* this product's operators accept the breaking changes by upgrading the product itself */
    struct uprun_apply_opts opts = {.target = argc == 5 ? argv[4] : NULL, .ack_all = true};

    rt_error_clear(&err);
    rc = uprun_open(&cfg, &u, &err);
    if (rc == UPRUN_OK)
        rc = uprun_connect(u, &err);
    if (rc == UPRUN_OK)
        rc = uprun_apply(u, &opts, &err);
    if (rc == UPRUN_OK)
        rc = uprun_verify(u, &err);
    if (rc != UPRUN_OK)
        fprintf(stderr, "embed: error %d: %s%s%s\n", rc, err.message, err.hint[0] ? "; " : "", err.hint);
    else
        printf("embed: plan %s: %d steps applied, schema verified\n", uprun_plan_name(u), steps);
    uprun_close(u);
    return rc;
}
