/* SPDX-License-Identifier: MIT */
/*
 * diag.c: recording, sorting and rendering diagnostics (see diag.h and
 * STYLE §2.8 for the format).
 *
 * Snippets echo the source line with tabs as single spaces and anything
 * unprintable (control bytes, invalid UTF-8) as '?', so that columns, carets
 * and golden files stay aligned and deterministic. Lines longer than a
 * screen are shown through a window around the caret.
 */
#include "core/diag.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"

enum { SNIPPET_MAX_COLS = 120, SNIPPET_LEAD_COLS = 40 };

void
diag_init(struct diag_sink *sink, struct arena *a, const struct source_set *sources)
{
    memset(sink, 0, sizeof *sink);
    sink->arena = a;
    sink->sources = sources;
    sink->error_limit = 20;
}

static char *
vfmt(struct arena *a, const char *fmt, va_list ap)
{
    struct strbuf sb = STRBUF_INIT;
    char *s;

    strbuf_vprintf(&sb, fmt, ap);
    s = arena_strndup(a, strbuf_str(&sb), sb.len);
    strbuf_free(&sb);
    return s;
}

static bool
record(struct diag_sink *sink, enum diag_severity sev, struct src_span span, const char *code,
       const char *fmt, va_list ap)
{
    struct diag *d;

    if (sev == DIAG_WARNING && sink->werror)
        sev = DIAG_ERROR;
    if (sev == DIAG_ERROR && sink->error_limit && sink->n_errors >= sink->error_limit) {
        sink->limit_hit = true;
        sink->last = NULL;
        return false;
    }
    d = ARENA_NEW(sink->arena, struct diag);
    d->severity = sev;
    d->code = code;
    d->span = span;
    d->msg = vfmt(sink->arena, fmt, ap);
    d->seq = sink->records.len;
    VEC_PUSH(sink->arena, &sink->records, d);
    if (sev == DIAG_ERROR)
        sink->n_errors++;
    else if (sev == DIAG_WARNING)
        sink->n_warnings++;
    sink->last = d;
    return true;
}

bool
diag_error(struct diag_sink *sink, struct src_span span, const char *code, const char *fmt, ...)
{
    va_list ap;
    bool ok;

    va_start(ap, fmt);
    ok = record(sink, DIAG_ERROR, span, code, fmt, ap);
    va_end(ap);
    return ok;
}

bool
diag_warning(struct diag_sink *sink, struct src_span span, const char *code, const char *fmt, ...)
{
    va_list ap;
    bool ok;

    va_start(ap, fmt);
    ok = record(sink, DIAG_WARNING, span, code, fmt, ap);
    va_end(ap);
    return ok;
}

static void
add_child(struct diag_sink *sink, enum diag_child_kind kind, struct src_span span, const char *fmt,
          va_list ap)
{
    struct diag_child *c;

    if (!sink->last)
        return;
    c = ARENA_NEW(sink->arena, struct diag_child);
    c->kind = kind;
    c->span = span;
    c->msg = vfmt(sink->arena, fmt, ap);
    if (sink->last->last_child)
        sink->last->last_child->next = c;
    else
        sink->last->children = c;
    sink->last->last_child = c;
}

void
diag_note_at(struct diag_sink *sink, struct src_span span, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    add_child(sink, span.file ? DIAG_CHILD_NOTE_AT : DIAG_CHILD_NOTE, span, fmt, ap);
    va_end(ap);
}

void
diag_note(struct diag_sink *sink, const char *fmt, ...)
{
    va_list ap;
    struct src_span none = {0, 0, 0};

    va_start(ap, fmt);
    add_child(sink, DIAG_CHILD_NOTE, none, fmt, ap);
    va_end(ap);
}

void
diag_help(struct diag_sink *sink, const char *fmt, ...)
{
    va_list ap;
    struct src_span none = {0, 0, 0};

    va_start(ap, fmt);
    add_child(sink, DIAG_CHILD_HELP, none, fmt, ap);
    va_end(ap);
}

bool
diag_should_stop(const struct diag_sink *sink)
{
    return sink->error_limit && sink->n_errors >= sink->error_limit;
}

size_t
diag_errors(const struct diag_sink *sink)
{
    return sink->n_errors;
}

static int
cmp_diag(const void *a, const void *b)
{
    const struct diag *x = *(const struct diag *const *)a, *y = *(const struct diag *const *)b;

    if (x->span.file != y->span.file)
        return x->span.file < y->span.file ? -1 : 1;
    if (x->span.start != y->span.start)
        return x->span.start < y->span.start ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ANSI colours, used only when the caller says the output is a terminal. */
#define C_BOLD "\033[1m"
#define C_RED "\033[1;31m"
#define C_MAGENTA "\033[1;35m"
#define C_CYAN "\033[1;36m"
#define C_GREEN "\033[1;32m"
#define C_RESET "\033[0m"

static const char *
sev_name(enum diag_severity s)
{
    switch (s) {
    case DIAG_ERROR:
        return "error";
    case DIAG_WARNING:
        return "warning";
    case DIAG_NOTE:
        return "note";
    }
    return "error";
}

static const char *
sev_color(enum diag_severity s)
{
    return s == DIAG_ERROR ? C_RED : s == DIAG_WARNING ? C_MAGENTA : C_CYAN;
}

/*
 * One display cell per code point: printable ones as themselves, tabs as a
 * space, control characters and invalid bytes as '?'.
 */
struct cell {
    const char *bytes;
    size_t n;
};

/*
 * The cells of a long line's window: from the cell at 0-based index `from`,
 * at most max of them, starting the decode at byte `at` whose cell index is
 * `at_cell` (a character boundary at or before `from`). *more says whether
 * the line goes on after them.
 */
static size_t
window_cells(const char *text, size_t len, size_t at, size_t at_cell, size_t from, size_t max,
             struct cell **out, bool *more)
{
    struct cell *cells = xmalloc((max + 1) * sizeof *cells);
    size_t n = 0, i = at, c = at_cell;
    int32_t cp;

    while (i < len && n < max) {
        size_t k = utf8_decode((const unsigned char *)text + i, len - i, &cp);
        if (c >= from) {
            if (cp == '\t') {
                cells[n].bytes = " ";
                cells[n].n = 1;
            } else if (cp < 0 || cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
                cells[n].bytes = "?";
                cells[n].n = 1;
            } else {
                cells[n].bytes = text + i;
                cells[n].n = k;
            }
            n++;
        }
        c++;
        i += k;
    }
    *more = i < len;
    *out = cells;
    return n;
}

/* Every cell of a line. */
static size_t
line_cells(const char *text, size_t len, struct cell **out)
{
    bool more;

    return window_cells(text, len, 0, 0, 0, len, out, &more);
}

static void
render_snippet(struct strbuf *sb, const struct source *src, struct src_span span, bool color,
               size_t gutter)
{
    size_t line = source_line_of(src, span.start);
    size_t col = source_col_of(src, span.start); /* 1-based */
    size_t end_line = source_line_of(src, span.end > span.start ? span.end - 1 : span.start);
    size_t len, ncells, from, to, i, width;
    const char *text = source_line_text(src, line, &len);
    struct cell *cells;
    bool clip_left, clip_right;

    if (len > 4 * SNIPPET_MAX_COLS) {
        /* a long line (more cells than the window, since a cell is at most 4 bytes): decode only
         * around the caret, from a column checkpoint, so that thousands of diagnostics on one
         * line of a megabyte cost what the window costs */
        /* the line's text starts after a byte order mark on line 1: offsets count from it */
        size_t line_start = (size_t)(text - src->text), caret = span.start - line_start;
        size_t back = caret > 4 * SNIPPET_LEAD_COLS + 4 ? caret - 4 * SNIPPET_LEAD_COLS - 4 : 0;
        size_t at = back, at_cell;
        bool more;
        /* a character boundary at or before `back`: the checkpoint-aided column of it */
        while (at > 0 && ((unsigned char)text[at] & 0xC0) == 0x80)
            at--;
        at_cell = source_col_of(src, (uint32_t)(line_start + at)) - 1;
        from = col > SNIPPET_LEAD_COLS ? col - SNIPPET_LEAD_COLS : 0;
        if (at_cell > from) { /* a stray continuation byte made the boundary late: from the start */
            at = 0;
            at_cell = 0;
        }
        ncells = window_cells(text, len, at, at_cell, from, SNIPPET_MAX_COLS, &cells, &more);
        to = from + ncells;
        clip_left = from > 0;
        clip_right = more;
        if (end_line == line)
            width = span.end > span.start ? source_col_of(src, span.end) - col : 0;
        else
            width = to + 1 > col ? to + 1 - col : 1; /* to the end of the window */
        if (width == 0)
            width = 1;
        strbuf_printf(sb, "%*zu | ", (int)gutter, line);
        if (clip_left)
            strbuf_puts(sb, "...");
        for (i = 0; i < ncells; i++)
            strbuf_append(sb, cells[i].bytes, cells[i].n);
        if (clip_right)
            strbuf_puts(sb, "...");
        strbuf_putc(sb, '\n');
        goto caret;
    }
    ncells = line_cells(text, len, &cells);
    /* Underline width: to the span's end, or to the end of the first line. */
    if (end_line == line)
        width = span.end > span.start ? source_col_of(src, span.end) - col : 0;
    else
        width = ncells >= col ? ncells - col + 1 : 0;
    if (width == 0)
        width = 1;
    /* A window of SNIPPET_MAX_COLS cells around the caret for long lines. */
    from = 0;
    to = ncells;
    if (ncells > SNIPPET_MAX_COLS) {
        from = col > SNIPPET_LEAD_COLS ? col - SNIPPET_LEAD_COLS : 0;
        to = from + SNIPPET_MAX_COLS < ncells ? from + SNIPPET_MAX_COLS : ncells;
    }
    clip_left = from > 0;
    clip_right = to < ncells;

    strbuf_printf(sb, "%*zu | ", (int)gutter, line);
    if (clip_left)
        strbuf_puts(sb, "...");
    for (i = from; i < to; i++)
        strbuf_append(sb, cells[i].bytes, cells[i].n);
    if (clip_right)
        strbuf_puts(sb, "...");
    strbuf_putc(sb, '\n');

caret:
    strbuf_printf(sb, "%*s | ", (int)gutter, "");
    if (clip_left)
        strbuf_puts(sb, "   ");
    strbuf_repeat(sb, ' ', col - 1 - from);
    if (color)
        strbuf_puts(sb, C_GREEN);
    strbuf_putc(sb, '^');
    if (width > 1) {
        size_t max = to + 1 > col ? to + 1 - col : 1; /* stay inside the window */
        strbuf_repeat(sb, '~', (width < max ? width : max) - 1);
    }
    if (color)
        strbuf_puts(sb, C_RESET);
    strbuf_putc(sb, '\n');
    if (end_line != line)
        strbuf_printf(sb, "%*s = note: span continues to line %zu\n", (int)gutter, "", end_line);
    free(cells);
}

static size_t
digits(size_t n)
{
    size_t d = 1;

    while (n >= 10) {
        n /= 10;
        d++;
    }
    return d;
}

static void
render_header(struct strbuf *sb, const struct source_set *set, struct src_span span,
              enum diag_severity sev, const char *msg, const char *code, bool color)
{
    const struct source *src = source_get(set, span.file);

    if (color)
        strbuf_puts(sb, C_BOLD);
    if (src)
        strbuf_printf(sb, "%s:%zu:%zu: ", src->path, source_line_of(src, span.start),
                      source_col_of(src, span.start));
    else
        strbuf_puts(sb, "upc: ");
    if (color)
        strbuf_puts(sb, sev_color(sev));
    strbuf_printf(sb, "%s:", sev_name(sev));
    if (color)
        strbuf_puts(sb, C_RESET C_BOLD);
    strbuf_printf(sb, " %s", msg);
    if (code)
        strbuf_printf(sb, " [%s]", code);
    if (color)
        strbuf_puts(sb, C_RESET);
    strbuf_putc(sb, '\n');
}

static void
sort_records(struct diag_sink *sink)
{
    if (sink->records.len > 1)
        qsort(sink->records.items, sink->records.len, sizeof *sink->records.items, cmp_diag);
}

void
diag_render(struct diag_sink *sink, FILE *out, const struct diag_render_opts *opts)
{
    struct strbuf sb = STRBUF_INIT;
    size_t i;

    sort_records(sink);
    for (i = 0; i < sink->records.len; i++) {
        const struct diag *d = sink->records.items[i];
        const struct source *src = source_get(sink->sources, d->span.file);
        const struct diag_child *c;
        size_t gutter = 5;

        if (opts->quiet && d->severity != DIAG_ERROR)
            continue;
        if (src && digits(src->nlines) + 1 > gutter)
            gutter = digits(src->nlines) + 1;
        strbuf_reset(&sb);
        render_header(&sb, sink->sources, d->span, d->severity, d->msg, d->code, opts->color);
        if (src)
            render_snippet(&sb, src, d->span, opts->color, gutter);
        for (c = d->children; c; c = c->next) {
            const struct source *csrc = source_get(sink->sources, c->span.file);
            if (c->kind == DIAG_CHILD_NOTE_AT && csrc) {
                render_header(&sb, sink->sources, c->span, DIAG_NOTE, c->msg, NULL, opts->color);
                render_snippet(&sb, csrc, c->span, opts->color, gutter);
            } else {
                strbuf_printf(&sb, "%*s = %s: %s\n", (int)gutter, "",
                              c->kind == DIAG_CHILD_HELP ? "help" : "note", c->msg);
            }
        }
        fputs(strbuf_str(&sb), out);
    }
    if (sink->limit_hit)
        fprintf(
            out,
            "upc: error: too many errors; stopped after %zu (raise --error-limit to see more)\n",
            sink->error_limit);
    strbuf_free(&sb);
}

/* A JSON string even when s holds invalid UTF-8 (bad bytes become '?'). */
static json_t *
jstr(const char *s)
{
    json_t *j = json_string(s);
    char *copy;
    size_t i, n;
    int32_t cp;

    if (j)
        return j;
    n = strlen(s);
    copy = xmalloc(n + 1);
    for (i = 0; i < n;) {
        size_t k = utf8_decode((const unsigned char *)s + i, n - i, &cp);
        memcpy(copy + i, s + i, k);
        if (cp < 0)
            copy[i] = '?';
        i += k;
    }
    copy[n] = '\0';
    j = json_string(copy);
    free(copy);
    return j;
}

static json_t *
json_loc(const struct source_set *set, struct src_span span)
{
    const struct source *src = source_get(set, span.file);
    json_t *o = json_object();

    if (!src)
        return o;
    json_object_set_new(o, "file", jstr(src->path));
    json_object_set_new(o, "line", json_integer((json_int_t)source_line_of(src, span.start)));
    json_object_set_new(o, "col", json_integer((json_int_t)source_col_of(src, span.start)));
    json_object_set_new(o, "end_line", json_integer((json_int_t)source_line_of(src, span.end)));
    json_object_set_new(o, "end_col", json_integer((json_int_t)source_col_of(src, span.end)));
    return o;
}

void
diag_render_json(struct diag_sink *sink, FILE *out, bool quiet)
{
    size_t i;

    sort_records(sink);
    for (i = 0; i < sink->records.len; i++) {
        const struct diag *d = sink->records.items[i];
        const struct diag_child *c;
        json_t *o, *notes;
        char *s;

        if (quiet && d->severity != DIAG_ERROR)
            continue;
        o = json_loc(sink->sources, d->span);
        notes = json_array();
        json_object_set_new(o, "severity", json_string(sev_name(d->severity)));
        json_object_set_new(o, "code", d->code ? json_string(d->code) : json_null());
        json_object_set_new(o, "message", jstr(d->msg));
        for (c = d->children; c; c = c->next) {
            json_t *n =
                c->kind == DIAG_CHILD_NOTE_AT ? json_loc(sink->sources, c->span) : json_object();
            json_object_set_new(n, "kind",
                                json_string(c->kind == DIAG_CHILD_HELP ? "help" : "note"));
            json_object_set_new(n, "message", jstr(c->msg));
            json_array_append_new(notes, n);
        }
        json_object_set_new(o, "notes", notes);
        s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
        if (s) {
            fputs(s, out);
            fputc('\n', out);
            free(s);
        }
        json_decref(o);
    }
}
