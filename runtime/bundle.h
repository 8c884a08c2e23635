/* SPDX-License-Identifier: MIT */
/*
 * bundle.h: opening a bundle the way uprun must: verify first, then trust.
 *
 * bundle_open() reads the manifest and its signature with bounded sizes,
 * verifies the signature against the given public key, and only then
 * parses the manifest. It then streams every file the manifest lists
 * through SHA-256 (a buffer at a time: memory does not grow with the
 * bundle) and checks its size and digest. It refuses a file that is
 * missing, changed, a symbolic link, or not listed; a path that leaves the
 * bundle; and a trusted comment that does not name the manifest's plan.
 * The first problem stops it: nothing else is read.
 *
 * The bundle keeps its folder open. bundle_read() reads a file again when
 * it is needed (a step's SQL, a schema file) and checks its size and digest
 * against the signed manifest once more, on the very bytes it returns: what
 * runs is what was signed, even if the folder changes after bundle_open().
 */
#ifndef UPG_RUNTIME_BUNDLE_H
#define UPG_RUNTIME_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/manifest.h"
#include "runtime/rt_error.h"
#include "runtime/sig.h"

struct bundle_file {
    const char *path;   /* borrowed from the manifest */
    const char *sha256; /* borrowed from the manifest */
    size_t size;
};

struct bundle {
    struct manifest manifest;
    char manifest_sha256[65]; /* of manifest.json's bytes, recorded in the history */
    char *trusted_comment;
    char key_id[17];
    struct bundle_file *files; /* sorted by path */
    size_t nfiles;
    size_t bytes; /* verified bytes, for the report */
    int dirfd;    /* the bundle's folder, kept open for bundle_read(); -1 when none */
    struct {
        char name[64];
        int fd;
    } folders[8]; /* its folders (one per dialect), opened once */
    size_t nfolders;
    bool sealed; /* no folder is added any more (threads share the list) */
};

/*
 * Opens and verifies the bundle in dir with key. The bundle is the caller's
 * (bundle_free). Returns 0; -1 when the bundle is not to be trusted (err
 * says why); -2 when it could not be read at all (err says why).
 */
int bundle_open(const char *dir, const struct sig_keyring *keys, struct bundle **out,
                struct rt_error *err);

/*
 * The same without the signature: for the manifest fuzzer only. Never use it
 * for a bundle that will be applied.
 */
int bundle_open_unverified_for_fuzzing(const char *manifest, size_t len, struct bundle **out,
                                       struct rt_error *err);

void bundle_free(struct bundle *b);

/* A listed file by path, or NULL. */
const struct bundle_file *bundle_file(const struct bundle *b, const char *path);

/*
 * Reads a listed file again and checks it against the manifest: *data is
 * malloc'd (size bytes, then a NUL) and the caller's. Returns 0; -1 when the
 * file is not listed or no longer matches (err says which: the bundle
 * changed after it was verified); -2 when it could not be read.
 */
int bundle_read(struct bundle *b, const char *path, unsigned char **data, size_t *size,
                struct rt_error *err);

#endif
