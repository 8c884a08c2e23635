/* SPDX-License-Identifier: MIT */
/* driver.c: the front half of the pipeline, parse -> resolve -> check. */
#include "compiler/driver.h"

#include <string.h>

#include "core/strbuf.h"
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
    c->plan.record_ir = opts->record_ir;
    if (opts->dump == DUMP_VERSIONS)
        dump_versions(&c->plan, opts->dump_out);
    /* check: runs after resolve errors too, over the versions that resolved */
    pass_check(&c->plan, &c->arena, &c->diag);
    return diag_errors(&c->diag) ? 1 : 0;
}

int
compile_front(struct compilation *c, const char *path, const struct compile_opts *opts)
{
    c->file = source_load(&c->sources, path, &c->io_error);
    if (!c->file)
        return 2;
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
    return run_passes(c, opts);
}
