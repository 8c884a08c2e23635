/* SPDX-License-Identifier: MIT */
/*
 * diag.h: the diagnostic sink.
 *
 * Passes report into a sink; nothing is printed half-way through a pass.
 * At the end the driver renders every record in source order (stable by
 * insertion) as clang-style headers with a rustc-style gutter:
 *
 *   plans/shop.upg:22:27: error: table "Orders" has no column "CreatedAt" [E0312]
 *      22 |   create index IX on Orders (CreatedAt);
 *         |                              ^~~~~~~~~
 *         = help: Did you mean "Created"?
 *
 * or as JSON, one object per line. Codes are E/W plus four digits; each has an
 * entry in docs/diagnostics.md and a golden test in tests/diag/.
 */
#ifndef UPG_CORE_DIAG_H
#define UPG_CORE_DIAG_H

#include <stdbool.h>
#include <stdio.h>

#include "core/arena.h"
#include "core/source.h"
#include "core/vec.h"

enum diag_severity { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE };

enum diag_child_kind {
    DIAG_CHILD_NOTE_AT, /* a note with its own location and snippet */
    DIAG_CHILD_NOTE,    /* "= note: ..." */
    DIAG_CHILD_HELP,    /* "= help: ..." */
};

struct diag_child {
    enum diag_child_kind kind;
    struct src_span span;
    const char *msg;
    struct diag_child *next;
};

struct diag {
    enum diag_severity severity;
    const char *code; /* "E0312", or NULL */
    struct src_span span;
    const char *msg;
    struct diag_child *children, *last_child;
    size_t seq;
};

struct diag_sink {
    struct arena *arena;
    const struct source_set *sources;
    VEC(struct diag *) records;
    size_t n_errors;
    size_t n_warnings;
    size_t error_limit; /* 0: no limit */
    bool werror;        /* warnings count as errors */
    bool limit_hit;     /* an error was dropped because of the limit */
    struct diag *last;  /* the record children attach to; NULL if it was dropped */
};

void diag_init(struct diag_sink *sink, struct arena *a, const struct source_set *sources);

/* Reports an error; returns false once the error limit stops recording. */
bool diag_error(struct diag_sink *sink, struct src_span span, const char *code, const char *fmt,
                ...) PRINTF(4, 5);
bool diag_warning(struct diag_sink *sink, struct src_span span, const char *code, const char *fmt,
                  ...) PRINTF(4, 5);
/* Children of the last error or warning (dropped with it). */
void diag_note_at(struct diag_sink *sink, struct src_span span, const char *fmt, ...) PRINTF(3, 4);
void diag_note(struct diag_sink *sink, const char *fmt, ...) PRINTF(2, 3);
void diag_help(struct diag_sink *sink, const char *fmt, ...) PRINTF(2, 3);

/* True once the error limit is reached: passes and the parser stop early. */
bool diag_should_stop(const struct diag_sink *sink);
/* Errors so far (warnings included under -Werror). */
size_t diag_errors(const struct diag_sink *sink);

struct diag_render_opts {
    bool color;
    bool quiet; /* errors only */
};

/* Prints every record, sorted by location, to out. */
void diag_render(struct diag_sink *sink, FILE *out, const struct diag_render_opts *opts);
/* Prints every record as one JSON object per line. */
void diag_render_json(struct diag_sink *sink, FILE *out, bool quiet);

#endif
