/* SPDX-License-Identifier: MIT */
/*
 * driver.h: one compilation of one plan file, and the visible pass list
 * (QBE's main.c:func()):
 *
 *     parse -> resolve -> check            (compile_front)
 *
 * After a syntax error no semantic pass runs at all. check runs after
 * resolve errors too, over the versions whose base is known, so that one
 * run reports every error; later passes (lowering) run only on a clean plan. The compilation owns the arena
 * that holds the source, the tree, the model and the diagnostics.
 */
#ifndef UPG_COMPILER_DRIVER_H
#define UPG_COMPILER_DRIVER_H

#include <stdbool.h>
#include <stdio.h>

#include "core/arena.h"
#include "core/diag.h"
#include "core/source.h"
#include "compiler/plan.h"
#include "grammar/ast.h"

enum dump_pass { DUMP_NONE, DUMP_AST, DUMP_VERSIONS };

struct compile_opts {
    bool werror;
    bool record_ir; /* record the step IR for the lowerings (compiler/ir.h) */
    size_t error_limit; /* 0: none */
    enum dump_pass dump;
    FILE *dump_out;
};

struct compilation {
    struct arena arena;
    struct source_set sources;
    struct diag_sink diag;
    struct ast_file *ast;
    struct plan plan;
    bool plan_resolved;
    uint32_t file;
    const char *io_error; /* set when the file could not be read */
};

void compilation_init(struct compilation *c, const struct compile_opts *opts);
void compilation_free(struct compilation *c);

/*
 * Loads path ("-" for standard input) and runs parse, resolve and check.
 * Returns 0 when the plan is clean, 1 when it has errors, 2 when it could
 * not be read (c->io_error says why).
 */
int compile_front(struct compilation *c, const char *path, const struct compile_opts *opts);

/* The same for a plan held in memory (tests, fuzzing); name is shown in diagnostics. */
int compile_front_buffer(struct compilation *c, const char *name, const char *text, size_t len,
                         const struct compile_opts *opts);

#endif
