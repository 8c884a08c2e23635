/* SPDX-License-Identifier: MIT */
/*
 * source.c: reading plan files and mapping byte offsets to line:col.
 * A file is read whole (plans are small; the fuzzer's 100 MB line is the
 * outlier) so that the lexer can scan it in place without copying.
 */
#include "core/source.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "core/vec.h"

void
source_set_init(struct source_set *set, struct arena *a)
{
    set->arena = a;
    set->files = NULL;
    set->nfiles = 1;
}

void
source_set_free(struct source_set *set)
{
    size_t i;

    for (i = 1; i < set->nfiles; i++) {
        free(set->files[i]->text);
        free(set->files[i]->lines);
        free(set->files[i]->ck_off);
        free(set->files[i]->ck_col);
    }
    free(set->files);
    set->files = NULL;
    set->nfiles = 1;
}

/* The checkpoints of columns on lines longer than SOURCE_COL_STEP (source.h). */
static void
index_columns(struct source *src)
{
    size_t i = 0, col = 1, next = SOURCE_COL_STEP, cap = 0, k;
    int32_t cp;
    bool any = false;

    for (k = 0; k < src->nlines && !any; k++) {
        size_t end = k + 1 < src->nlines ? src->lines[k + 1] : src->len;
        any = end - src->lines[k] > SOURCE_COL_STEP;
    }
    if (!any)
        return;
    /* line 1 counts its columns from after a byte order mark, as source_col_of() does */
    i = src->bom;
    next = i + SOURCE_COL_STEP;
    while (i < src->len) {
        if (src->text[i] == '\n') {
            i++;
            col = 1;
            next = i + SOURCE_COL_STEP;
            continue;
        }
        if (i >= next) {
            if (src->nck == cap) {
                cap = cap ? cap * 2 : 64;
                src->ck_off = xrealloc(src->ck_off, cap * sizeof *src->ck_off);
                src->ck_col = xrealloc(src->ck_col, cap * sizeof *src->ck_col);
            }
            src->ck_off[src->nck] = (uint32_t)i;
            src->ck_col[src->nck++] = (uint32_t)col;
            next = i + SOURCE_COL_STEP;
        }
        i += utf8_decode((const unsigned char *)src->text + i, src->len - i, &cp);
        col++;
    }
}

static void
index_lines(struct source *src)
{
    size_t cap = 64, n = 0, i;

    src->lines = xmalloc(cap * sizeof *src->lines);
    src->lines[n++] = 0;
    for (i = 0; i < src->len; i++) {
        if (src->text[i] == '\n') {
            if (n == cap) {
                cap *= 2;
                src->lines = xrealloc(src->lines, cap * sizeof *src->lines);
            }
            src->lines[n++] = (uint32_t)(i + 1);
        }
    }
    src->nlines = n;
    index_columns(src);
}

static uint32_t
add_source(struct source_set *set, const char *path, char *text, size_t len)
{
    struct source *src = ARENA_NEW(set->arena, struct source);

    src->path = arena_strdup(set->arena, path);
    src->text = text;
    src->len = len;
    /* a UTF-8 byte order mark, as some editors write one: not part of the plan */
    src->bom = len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    index_lines(src);
    set->files = xrealloc(set->files, (set->nfiles + 1) * sizeof *set->files);
    set->files[set->nfiles] = src;
    return (uint32_t)set->nfiles++;
}

uint32_t
source_add(struct source_set *set, const char *path, const char *text, size_t len)
{
    char *copy;

    if (len > SOURCE_MAX_BYTES)
        return 0;
    copy = xmalloc(len + 2);
    memcpy(copy, text, len);
    copy[len] = copy[len + 1] = '\0';
    return add_source(set, path, copy, len);
}

uint32_t
source_load(struct source_set *set, const char *path, const char **err)
{
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    size_t cap = 64 * 1024, len = 0, n;
    char *buf;

    if (!f) {
        *err = arena_printf(set->arena, "could not open \"%s\": %s", path, strerror(errno));
        return 0;
    }
    buf = xmalloc(cap);
    for (;;) {
        /* keep room for the two NULs the scanner needs after the text */
        if (cap - len <= 2) {
            if (cap > SOURCE_MAX_BYTES) {
                *err = arena_printf(set->arena, "file \"%s\" is larger than the limit of %zu bytes",
                                    is_stdin ? "<stdin>" : path, SOURCE_MAX_BYTES);
                free(buf);
                if (!is_stdin)
                    fclose(f);
                return 0;
            }
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        n = fread(buf + len, 1, cap - len - 2, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        *err = arena_printf(set->arena, "could not read \"%s\": %s", is_stdin ? "<stdin>" : path,
                            strerror(errno));
        free(buf);
        if (!is_stdin)
            fclose(f);
        return 0;
    }
    if (!is_stdin)
        fclose(f);
    if (len > SOURCE_MAX_BYTES) {
        *err = arena_printf(set->arena, "file \"%s\" is larger than the limit of %zu bytes",
                            is_stdin ? "<stdin>" : path, SOURCE_MAX_BYTES);
        free(buf);
        return 0;
    }
    buf[len] = buf[len + 1] = '\0';
    return add_source(set, is_stdin ? "<stdin>" : path, buf, len);
}

const struct source *
source_get(const struct source_set *set, uint32_t file)
{
    if (file == 0 || file >= set->nfiles)
        return NULL;
    return set->files[file];
}

size_t
source_line_of(const struct source *src, uint32_t offset)
{
    size_t lo = 0, hi = src->nlines;

    /* Largest i with lines[i] <= offset. */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (src->lines[mid] <= offset)
            lo = mid;
        else
            hi = mid;
    }
    return lo + 1;
}

size_t
source_col_of(const struct source *src, uint32_t offset)
{
    size_t line = source_line_of(src, offset);
    size_t i = src->lines[line - 1], col = 1;
    int32_t cp;

    if (offset > src->len)
        offset = (uint32_t)src->len;
    if (line == 1 && offset >= src->bom)
        i = src->bom; /* columns count from after a byte order mark */
    if (src->nck && offset - i > SOURCE_COL_STEP) {
        /* from the last checkpoint on this line at least 4 bytes before offset: a character
         * decoded from there ends where it would from the line's start */
        size_t lo = 0, hi = src->nck;
        while (hi > lo) {
            size_t mid = lo + (hi - lo) / 2;
            if ((size_t)src->ck_off[mid] + 4 <= offset)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo && src->ck_off[lo - 1] >= i) {
            i = src->ck_off[lo - 1];
            col = src->ck_col[lo - 1];
        }
    }
    while (i < offset) {
        i += utf8_decode((const unsigned char *)src->text + i, offset - i, &cp);
        col++;
    }
    return col;
}

const char *
source_line_text(const struct source *src, size_t line, size_t *len)
{
    size_t start, end;

    if (line < 1 || line > src->nlines) {
        *len = 0;
        return "";
    }
    start = line == 1 ? src->bom : src->lines[line - 1];
    end = line < src->nlines ? src->lines[line] - 1 : src->len;
    if (end > start && src->text[end - 1] == '\r')
        end--;
    *len = end - start;
    return src->text + start;
}
