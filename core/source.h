/* SPDX-License-Identifier: MIT */
/*
 * source.h: loaded source files and spans.
 *
 * A span is a byte range in one file. Lines and columns are computed only for
 * display, from a table of line starts (jq's locfile.c, but the lookup is a
 * binary search). Columns count Unicode code points; a tab is one column.
 */
#ifndef UPG_CORE_SOURCE_H
#define UPG_CORE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/arena.h"

/* The largest file upc accepts; offsets are 32-bit. */
#define SOURCE_MAX_BYTES ((size_t)1 << 30)

struct src_span {
    uint32_t file;  /* index in the source set, starting at 1; 0 means "no location" */
    uint32_t start; /* byte offset of the first byte */
    uint32_t end;   /* byte offset one past the last byte */
};

struct source {
    const char *path; /* as the user gave it ("<stdin>" for -) */
    char *text;       /* the bytes, followed by two NULs (flex's yy_scan_buffer needs them) */
    size_t len;       /* without the two NULs */
    uint32_t *lines;  /* byte offset of each line start */
    size_t nlines;
    /* Columns on long lines: every SOURCE_COL_STEP bytes or so into a line, the column of a
     * character's first byte, so that a column is found without decoding the line from its
     * start (a plan written on one line of a megabyte). */
    uint32_t *ck_off, *ck_col;
    size_t nck;
    uint32_t bom; /* 3 when the file starts with a UTF-8 byte order mark (skipped), else 0 */
};

#define SOURCE_COL_STEP 1024

struct source_set {
    struct source **files; /* files[0] is unused so that file ids start at 1 */
    size_t nfiles;         /* including the unused slot */
    struct arena *arena;
};

void source_set_init(struct source_set *set, struct arena *a);
void source_set_free(struct source_set *set);

/*
 * Loads path ("-" reads standard input) into the set. Returns the new file id
 * (>= 1) or 0 on an I/O error, with a message in err (an arena string).
 */
uint32_t source_load(struct source_set *set, const char *path, const char **err);

/* Adds an in-memory buffer (copied) under the display name path. */
uint32_t source_add(struct source_set *set, const char *path, const char *text, size_t len);

const struct source *source_get(const struct source_set *set, uint32_t file);

/* 1-based line of a byte offset. */
size_t source_line_of(const struct source *src, uint32_t offset);
/* 1-based column (code points) of a byte offset on its line. */
size_t source_col_of(const struct source *src, uint32_t offset);
/* The bytes of line n (1-based), without its newline. */
const char *source_line_text(const struct source *src, size_t line, size_t *len);

#endif
