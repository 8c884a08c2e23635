/* SPDX-License-Identifier: MIT */
/*
 * build.h: `upc build`: a checked plan (compiled with the IR recorded) into
 * a bundle folder, signed when a key is given. See build.c for the layout.
 */
#ifndef UPG_COMPILER_BUILD_H
#define UPG_COMPILER_BUILD_H

#include <stdbool.h>
#include <stddef.h>

#include "compiler/driver.h"
#include "runtime/rt_error.h"
#include "runtime/manifest.h"
#include "runtime/sig.h"

/* A file of the bundle besides the steps (guide.md). */
struct build_extra {
    const char *path;
    const char *data;
    size_t len;
};

struct build_opts {
    const char *out_dir;
    unsigned dialects;            /* bit per enum dialect_id: the dialects to build */
    const struct sig_seckey *key; /* NULL: an unsigned bundle */
    const struct build_extra *extra;
    size_t nextra;
    const char *channel;         /* the release channel */
    unsigned long long sequence; /* from 1 */
    long long expires;           /* seconds since the epoch; -1: never */
    /* --previous: the bundle of the release before (its folder and manifest): every version it
     * released must be in this one unchanged (statements, schema, notices, breaking changes) */
    const char *previous_dir;
    const struct manifest *previous;
};

struct build_result {
    size_t nsteps, ndialects;
    bool previous_differs; /* the failure: a released version changed (a plan error) */
    bool signed_;
    char key_id[17];
};

/* Writes the bundle. 0, or -1 with err (and nothing left at out_dir but what was there). */
int build_bundle(struct compilation *c, const struct build_opts *o, struct build_result *res,
                 struct rt_error *err);

#endif
