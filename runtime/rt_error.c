/* SPDX-License-Identifier: MIT */
/* rt_error.c: filling struct rt_error. */
#include "runtime/rt_error.h"

#include <stdio.h>
#include <string.h>

void
rt_error_clear(struct rt_error *e)
{
    memset(e, 0, sizeof *e);
}

int
rt_fail(struct rt_error *e, const char *fmt, ...)
{
    va_list ap;

    rt_error_clear(e);
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return -1;
}
