/* SPDX-License-Identifier: MIT */
/* driver.c: the pipeline, parse -> resolve -> check -> lint -> lower (driver.h). */
#include "compiler/driver.h"

#include <stdlib.h>
#include <string.h>

#include "compiler/check.h"
#include "compiler/lint.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "grammar/parse.h"

void
compilation_init(struct compilation *c, const struct compile_opts *opts)
{
    memset(c, 0, sizeof *c);
    arena_init(&c->arena);
    source_set_init(&c->sources, &c->arena);
    diag_init(&c->diag, &c->arena, &c->sources);
    c->diag.werror = opts->werror;
    c->diag.error_limit = opts->error_limit;
}

void
compilation_free(struct compilation *c)
{
    if (c->plan_resolved)
        plan_free(&c->plan);
    source_set_free(&c->sources);
    arena_free(&c->arena);
}

const char *
compilation_file_name(const struct compilation *c)
{
    return c->file_name ? c->file_name : "";
}

/*
 * The plan's file name as everything upc writes names it (origin comments in
 * SQL, the manifest, the guide): its last component, with control characters
 * (a newline would end a SQL comment and let the rest of the name run as a
 * statement) and bytes that are not UTF-8 (the manifest is JSON) shown as '?'.
 */
static void
set_file_name(struct compilation *c)
{
    const char *path = c->sources.files[c->file]->path, *slash = strrchr(path, '/');
    char *name = arena_strdup(&c->arena, slash ? slash + 1 : path);
    size_t n = strlen(name), i = 0, k;

    while (i < n) {
        int32_t cp;
        size_t len = utf8_decode((const unsigned char *)name + i, n - i, &cp);
        if (cp < 0) {
            for (k = 0; k < len; k++)
                name[i + k] = '?';
        } else if (cp < 0x20 || cp == 0x7F) {
            name[i] = '?';
        }
        i += len ? len : 1;
    }
    c->file_name = name;
}

static void
dump_versions(const struct plan *p, FILE *out)
{
    size_t i;

    fprintf(out, "plan \"%s\" dialects", p->name ? p->name : "?");
    for (i = 0; i < p->ndialects; i++)
        fprintf(out, " %s", dialect_name(p->dialect_order[i]));
    fputc('\n', out);
    for (i = 0; i < p->nversions; i++) {
        const struct plan_version *v = p->versions[i];
        fprintf(out, "version \"%s\" from %s%s%s%s\n", v->name, v->parent ? "\"" : "",
                v->parent ? v->parent->name : "(empty)", v->parent ? "\"" : "",
                v->ok ? "" : " (unchecked)");
    }
}

/* The pass list. */
static int
run_passes(struct compilation *c, const struct compile_opts *opts)
{
    size_t syntax_errors = 0;

    /* parse */
    c->ast = parse_file(&c->arena, &c->diag, &c->sources, c->file, &syntax_errors);
    if (opts->dump == DUMP_AST) {
        struct strbuf sb = STRBUF_INIT;
        ast_dump(c->ast, &sb);
        fputs(strbuf_str(&sb), opts->dump_out);
        strbuf_free(&sb);
    }
    if (syntax_errors || diag_errors(&c->diag))
        return 1;
    /* resolve */
    pass_resolve(&c->plan, c->ast, &c->arena, &c->diag);
    c->plan_resolved = true;
    if (opts->dump == DUMP_VERSIONS)
        dump_versions(&c->plan, opts->dump_out);
    /* check: runs after resolve errors too, over the versions that resolved; records the IR */
    pass_check(&c->plan, &c->arena, &c->diag);
    ir_check(&c->plan);
    /* lint: over the IR */
    pass_lint(&c->plan, &c->arena, &c->diag);
    /* merges: the composite and derived steps, from the checked and linted versions */
    ir_merge_steps(&c->plan, &c->arena);
    if (opts->dump == DUMP_IR) {
        struct strbuf sb = STRBUF_INIT;
        ir_dump(&c->plan, &c->sources, &sb);
        fputs(strbuf_str(&sb), opts->dump_out);
        strbuf_free(&sb);
    }
    /* lower: on demand, by compile_lower(), once the plan is clean */
    return diag_errors(&c->diag) ? 1 : 0;
}

int
compile_front(struct compilation *c, const char *path, const struct compile_opts *opts)
{
    c->file = source_load(&c->sources, path, &c->io_error);
    if (!c->file)
        return 2;
    set_file_name(c);
    return run_passes(c, opts);
}

int
compile_front_buffer(struct compilation *c, const char *name, const char *text, size_t len,
                     const struct compile_opts *opts)
{
    c->file = source_add(&c->sources, name, text, len);
    if (!c->file) {
        c->io_error = "the plan is larger than the limit of 1 GiB";
        return 2;
    }
    set_file_name(c);
    return run_passes(c, opts);
}

int
compile_lower(const struct compilation *c, struct plan_version *const *versions, size_t n,
              unsigned dialects, unsigned want, enum step_frame frame, lower_emit_fn emit,
              void *arg)
{
    struct lower_ctx lctx;
    size_t i, k;
    int rc = 0;

    assert(diag_errors(&c->diag) == 0);
    memset(&lctx, 0, sizeof lctx);
    lctx.plan = &c->plan;
    lctx.origin_file = compilation_file_name(c);
    lctx.sources = &c->sources;
    for (i = 0; i < n && rc == 0; i++) {
        for (k = 0; k < c->plan.ndialects && rc == 0; k++) {
            enum dialect_id d = c->plan.dialect_order[k];
            struct lowered_step s;
            if (!((dialects >> d) & 1u))
                continue;
            memset(&s, 0, sizeof s);
            s.v = versions[i];
            s.index = versions[i]->index + 1;
            s.dialect = lctx.dialect = dialect_get(d);
            lctx.offline = (want & LOWER_AS_OFFLINE) != 0;
            if (want & LOWER_UP)
                s.has_up = step_script(&lctx, s.v, s.index, false, frame, &s.up, &s.up_info);
            if (want & LOWER_DOWN)
                s.has_down = step_script(&lctx, s.v, s.index, true, frame, &s.down, &s.down_info);
            if ((want & LOWER_OFFLINE) && (s.up_info.estimate || s.down_info.estimate)) {
                struct lowered_step *o = s.offline = xcalloc(1, sizeof *s.offline);
                o->v = s.v;
                o->index = s.index;
                o->dialect = s.dialect;
                lctx.offline = true;
                o->has_up = step_script(&lctx, s.v, s.index, false, frame, &o->up, &o->up_info);
                if (want & LOWER_DOWN)
                    o->has_down =
                        step_script(&lctx, s.v, s.index, true, frame, &o->down, &o->down_info);
                lctx.offline = false;
            }
            rc = emit(arg, &s);
            if (s.offline) {
                strbuf_free(&s.offline->up);
                strbuf_free(&s.offline->down);
                step_sql_free(&s.offline->up_info);
                step_sql_free(&s.offline->down_info);
                free(s.offline);
            }
            strbuf_free(&s.up);
            strbuf_free(&s.down);
            step_sql_free(&s.up_info);
            step_sql_free(&s.down_info);
        }
    }
    return rc;
}
