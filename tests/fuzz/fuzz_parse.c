/* SPDX-License-Identifier: MIT */
/*
 * fuzz_parse.c: libFuzzer target for the front end. Any input goes through
 * parse, resolve and check, and the diagnostics are rendered both ways.
 * Expected: no crash, no leak, no hang, no sanitizer report.
 */
#include <stdint.h>
#include <stdio.h>

#include "compiler/driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct compile_opts opts = {0};
    struct diag_render_opts ropts = {false, false};
    struct compilation c;
    FILE *null = fopen("/dev/null", "w");

    opts.error_limit = 20;
    compilation_init(&c, &opts);
    compile_front_buffer(&c, "fuzz.upg", (const char *)data, size, &opts);
    if (null) {
        diag_render(&c.diag, null, &ropts);
        diag_render_json(&c.diag, null, false);
        fclose(null);
    }
    compilation_free(&c);
    return 0;
}
