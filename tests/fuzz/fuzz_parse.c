/* SPDX-License-Identifier: MIT */
/*
 * fuzz_parse.c: libFuzzer target for the whole compiler. Any input goes
 * through parse, resolve and check (with the step IR recorded), and the
 * diagnostics are rendered both ways; a plan that checks clean is then
 * lowered, every step up and down for both dialects, and written as the
 * upgrade guide and the graph. Expected: no crash, no leak, no hang, no
 * sanitizer report.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "compiler/driver.h"
#include "compiler/guide.h"
#include "compiler/lower.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
backend(struct compilation *c)
{
    struct strbuf out = STRBUF_INIT;
    struct guide_opts go = {NULL, plan_last(&c->plan), "fuzz.upg", 0};
    struct lower_ctx lctx;
    size_t i;

    memset(&lctx, 0, sizeof lctx);
    lctx.plan = &c->plan;
    lctx.origin_file = "fuzz.upg";
    lctx.sources = &c->sources;
    for (i = 0; i < c->plan.nversions; i++) {
        for (int d = 0; d < DIALECT_COUNT; d++) {
            if (!plan_has_dialect(&c->plan, (enum dialect_id)d))
                continue;
            lctx.dialect = (enum dialect_id)d;
            for (int down = 0; down < 2; down++) {
                struct step_sql s;
                lower_step(&lctx, c->plan.versions[i], down, &s);
                strbuf_free(&s.body);
            }
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
    opts.record_ir = true;
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
