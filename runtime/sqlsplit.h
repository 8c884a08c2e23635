/* SPDX-License-Identifier: MIT */
/*
 * sqlsplit.h: splitting a SQL script into statements, so that the runtime
 * can run them one at a time and say which one failed, and where.
 */
#ifndef UPG_RUNTIME_SQLSPLIT_H
#define UPG_RUNTIME_SQLSPLIT_H

#include <stddef.h>

struct sql_stmt {
    size_t start; /* byte offset of the statement's first character (after comments) */
    size_t end;   /* one past its terminating ';' (or the end of the text) */
};

/*
 * Splits text at the semicolons that end statements: outside '...' and
 * E'...' strings, "..." names, $tag$...$tag$ bodies, -- and (nested) block
 * comments. Comments and blanks between statements are skipped. Returns
 * the number of statements and a malloc'd array in *out (NULL when none).
 */
size_t sql_split(const char *text, size_t len, struct sql_stmt **out);

/* 1-based line of byte offset off in text. */
size_t sql_line_of(const char *text, size_t off);

/*
 * The origin comment ("-- file.upg:12:3") closest before offset off, copied
 * into out (at most size bytes, without "-- "); "" when there is none.
 */
void sql_origin_before(const char *text, size_t off, char *out, size_t size);

/*
 * The SHA-256 (64 hex digits) of the statements of a script alone, each
 * followed by a newline: comments and layout between them do not count, so
 * that a bundle rebuilt by another upc, whose comments differ, has the same
 * statements digest (the history's sql_sha256, upc build --previous). NULL
 * data: the digest of no statement.
 */
void sql_statements_sha256(const unsigned char *data, size_t size, char out[65]);

#endif
