/* SPDX-License-Identifier: MIT */
/*
 * rt_error.h: how the runtime reports failure. Functions return an int
 * status (0 on success) and fill a struct rt_error; nothing below main()
 * exits. Text that comes from a database is kept verbatim in its own fields.
 */
#ifndef UPG_RUNTIME_RT_ERROR_H
#define UPG_RUNTIME_RT_ERROR_H

#include <stdarg.h>

#define RT_ERROR_MSG_MAX 1024

struct rt_error {
    char message[RT_ERROR_MSG_MAX]; /* what happened (ours, or the database's primary message) */
    char detail[RT_ERROR_MSG_MAX];  /* the database's detail, when it gave one */
    char hint[RT_ERROR_MSG_MAX];    /* the database's hint, or ours */
    char sqlstate[6];               /* PostgreSQL's SQLSTATE; "" for SQLite */
    int code;                       /* SQLite's extended result code; 0 for PostgreSQL */
    long position;                  /* 1-based character position of the error in the SQL text, or 0 */
    long stmt_position;             /* 1-based character position of the failing statement, or 0 */
    int from_db;                    /* 1 when message is the database's own text */
};

void rt_error_clear(struct rt_error *e);
/* Sets message (printf-style) and returns -1, for "return rt_fail(e, ...)". */
int rt_fail(struct rt_error *e, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
