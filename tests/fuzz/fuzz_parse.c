/* SPDX-License-Identifier: MIT */
/*
 * fuzz_parse.c: libFuzzer target for the whole compiler. Any input goes
 * through parse, resolve, check and lint, and the diagnostics are rendered
 * both ways; a plan that checks clean is then lowered, every step up and
 * down for every dialect in both framings, its expected schema deltas
 * written, and written as the upgrade guide and the graph. Expected: no crash, no leak, no hang, no
 * sanitizer report.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/driver.h"
#include "compiler/expect.h"
#include "compiler/guide.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The lower pass's writer: nothing to keep. */
static int
drop_step(void *arg, const struct lowered_step *s)
{
    (void)arg;
    (void)s;
    return 0;
}

static void
backend(struct compilation *c)
{
    struct strbuf out = STRBUF_INIT;
    struct guide_opts go = {NULL, plan_last(&c->plan), "fuzz.upg", 0};
    size_t i;

    /* every step up and down for every dialect, both framings, and the expected schemas */
    compile_lower(c, c->plan.versions, c->plan.nversions, c->plan.dialects, LOWER_UP | LOWER_DOWN,
                  FRAME_BUNDLE, drop_step, NULL);
    compile_lower(c, c->plan.versions, c->plan.nversions, c->plan.dialects, LOWER_UP | LOWER_DOWN,
                  FRAME_SQL, drop_step, NULL);
    for (i = 0; i < c->plan.nversions; i++) {
        for (int d = 0; d < DIALECT_COUNT; d++) {
            char *delta;
            if (!plan_has_dialect(&c->plan, (enum dialect_id)d))
                continue;
            delta = expect_delta_text(c->plan.versions[i], (enum dialect_id)d);
            free(delta);
        }
    }
    if (go.to)
        guide_write(&c->plan, &go, &out);
    strbuf_reset(&out);
    graph_write(&c->plan, &out);
    strbuf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct compile_opts opts = {0};
    struct diag_render_opts ropts = {false, false};
    struct compilation c;
    FILE *null = fopen("/dev/null", "w");
    int rc;

    opts.error_limit = 20;
    compilation_init(&c, &opts);
    rc = compile_front_buffer(&c, "fuzz.upg", (const char *)data, size, &opts);
    if (null) {
        diag_render(&c.diag, null, &ropts);
        diag_render_json(&c.diag, null, false);
        fclose(null);
    }
    if (rc == 0)
        backend(&c);
    compilation_free(&c);
    return 0;
}
