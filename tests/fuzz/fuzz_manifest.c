/* SPDX-License-Identifier: MIT */
/*
 * fuzz_manifest.c: libFuzzer target for the manifest reader. The signature
 * check is bypassed (bundle_open_unverified_for_fuzzing), so that the fuzzer
 * reaches the parser; in uprun the parser only ever sees signed bytes.
 * Expected: no crash, no leak, no hang, whatever the bytes.
 */
#include <stddef.h>
#include <stdint.h>

#include "runtime/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bundle *b = NULL;
    struct rt_error err;

    if (bundle_open_unverified_for_fuzzing((const char *)data, size, &b, &err) == 0) {
        /* walk what was read, as the runtime does */
        size_t i;
        for (i = 0; i < b->manifest.nsteps; i++)
            (void)manifest_step_to(&b->manifest, b->manifest.steps[i].to);
    }
    bundle_free(b);
    return 0;
}
