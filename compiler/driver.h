/* SPDX-License-Identifier: MIT */
/*
 * driver.h: one compilation of one plan file, and the visible pass list
 * (QBE's main.c:func()), all in run_passes() (driver.c):
 *
 *     parse -> resolve -> check -> lint    (compile_front: the checked model)
 *     -> lower                             (compile_lower: each step's SQL, per dialect)
 *
 * After a syntax error no semantic pass runs at all. check runs after
 * resolve errors too, over the versions whose base is known, so that one
 * run reports every error; lint runs over what check recorded; lower runs
 * only on a clean plan. The compilation owns the arena that holds the
 * source, the tree, the model and the diagnostics.
 *
 * After check, nothing reads the AST: lint, lower, the bundle, the guide and
 * upc's commands read the model (plan.h, ir.h).
 */
#ifndef UPG_COMPILER_DRIVER_H
#define UPG_COMPILER_DRIVER_H

#include <stdbool.h>
#include <stdio.h>

#include "core/arena.h"
#include "core/diag.h"
#include "core/source.h"
#include "compiler/lower.h"
#include "compiler/plan.h"

enum dump_pass { DUMP_NONE, DUMP_AST, DUMP_VERSIONS, DUMP_IR };

struct compile_opts {
    bool werror;
    size_t error_limit; /* 0: none */
    enum dump_pass dump;
    FILE *dump_out;
};

struct ast_file;

struct compilation {
    struct arena arena;
    struct source_set sources;
    struct diag_sink diag;
    struct ast_file *ast;
    struct plan plan;
    bool plan_resolved;
    uint32_t file;
    const char *file_name; /* the plan's file name as upc writes it (compilation_file_name()) */
    const char *io_error;  /* set when the file could not be read */
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

/*
 * The lower pass, over a clean compilation: calls emit once per version of
 * `versions` (n of them, in that order) and per dialect of the mask that the
 * plan declares (in the plan's order), with the step's scripts framed for
 * the writer: up when `want` has LOWER_UP, down when it has LOWER_DOWN (and
 * the step has one). emit returns 0 to go on; a non-zero value stops the
 * pass and is returned. The texts are freed after emit returns: a writer
 * keeps what it needs, so memory stays that of one step.
 */
enum {
    LOWER_UP = 1,
    LOWER_DOWN = 2,
    LOWER_OFFLINE = 4,    /* and, for a step lowered online, its offline lowering too (offline) */
    LOWER_AS_OFFLINE = 8, /* lower what is marked online the plain way (upc sql, for psql) */
};
struct lowered_step {
    const struct plan_version *v;
    size_t index; /* the step's number in the bundle (the version's declaration order, from 1) */
    const struct dialect *dialect;
    struct strbuf up;
    struct step_sql up_info;
    bool has_up;   /* false: not asked for */
    bool has_down; /* false: irreversible, or not asked for */
    struct strbuf down;
    struct step_sql down_info;
    /* LOWER_OFFLINE, for a step with a change lowered online (up_info.estimate): the step lowered
     * with lower_ctx.offline, up and (when has_down) down */
    struct lowered_step *offline;
};
typedef int (*lower_emit_fn)(void *arg, const struct lowered_step *s);
int compile_lower(const struct compilation *c, struct plan_version *const *versions, size_t n,
                  unsigned dialects, unsigned want, enum step_frame frame, lower_emit_fn emit,
                  void *arg);

/* The plan's file name, as origin comments, the bundle and the guide name it: the path's last
 * component, control characters shown as '?' (nothing of it can leave a SQL comment). */
const char *compilation_file_name(const struct compilation *c);

#endif
