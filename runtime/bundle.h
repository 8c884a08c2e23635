/* SPDX-License-Identifier: MIT */
/*
 * bundle.h: opening a bundle the way uprun must: verify first, then trust.
 *
 * bundle_open() reads the manifest and its signature with bounded sizes,
 * verifies the signature against the given public key, and only then
 * parses the manifest. It then reads every file the manifest lists, checks
 * its size and SHA-256, and keeps its bytes in memory, so that what is
 * later executed is exactly what was verified. It refuses a file that is
 * missing, changed, a symbolic link, or not listed; a path that leaves the
 * bundle; and a trusted comment that does not name the manifest's plan.
 * The first problem stops it: nothing else is read.
 */
#ifndef UPG_RUNTIME_BUNDLE_H
#define UPG_RUNTIME_BUNDLE_H

#include <stddef.h>

#include "runtime/manifest.h"
#include "runtime/rt_error.h"
#include "runtime/sig.h"

struct bundle_file {
    const char *path; /* borrowed from the manifest */
    unsigned char *data; /* size bytes, then a NUL */
    size_t size;
};

struct bundle {
    struct manifest manifest;
    char manifest_sha256[65]; /* of manifest.json's bytes, recorded in the history */
    char *trusted_comment;
    char key_id[17];
    struct bundle_file *files;
    size_t nfiles;
    size_t bytes; /* verified bytes, for the report */
};

/*
 * Opens and verifies the bundle in dir with key. The bundle is the caller's
 * (bundle_free). Returns 0; -1 when the bundle is not to be trusted (err
 * says why); -2 when it could not be read at all (err says why).
 */
int bundle_open(const char *dir, const struct sig_pubkey *key, struct bundle **out,
                struct rt_error *err);

/*
 * The same without the signature: for the manifest fuzzer only. Never use it
 * for a bundle that will be applied.
 */
int bundle_open_unverified_for_fuzzing(const char *manifest, size_t len, struct bundle **out,
                                       struct rt_error *err);

void bundle_free(struct bundle *b);

/* A verified file by path, or NULL. */
const struct bundle_file *bundle_file(const struct bundle *b, const char *path);

#endif
