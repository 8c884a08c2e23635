/* SPDX-License-Identifier: MIT */
/*
 * version.h: semantic versions as plans write them: MAJOR.MINOR[.PATCH]
 * with an optional pre-release (-preview.1), ordered by the rules of
 * semver 2.0.0. A missing PATCH is 0, so "7.0" and "7.0.0" are the same
 * version. Build metadata (+sha) is refused: it does not order.
 */
#ifndef UPG_COMPILER_VERSION_H
#define UPG_COMPILER_VERSION_H

#include <stdbool.h>
#include <stdint.h>

struct semver {
    uint64_t major, minor, patch;
    const char *pre; /* points into the version text after '-', or NULL */
};

/*
 * Parses text. Returns NULL on success, or a static description of the
 * first problem ("a number has a leading zero").
 */
const char *semver_parse(const char *text, struct semver *out);

/* <0, 0, >0 as a orders before, equal to, after b. */
int semver_cmp(const struct semver *a, const struct semver *b);

#endif
