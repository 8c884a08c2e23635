/* SPDX-License-Identifier: MIT */
/*
 * par.h: a parallel loop for the runtime's bulk work (parsing a big
 * manifest's steps, hashing a big bundle's files): fn(arg, i, err) for
 * every i below n, on a few threads, each taking the next i. The result is
 * the failure with the lowest i, exactly as a plain loop that stops at the
 * first failure would report it; once an i failed, no thread starts a
 * higher one. fn must be safe to call at the same time for different i.
 */
#ifndef UPG_RUNTIME_PAR_H
#define UPG_RUNTIME_PAR_H

#include <stddef.h>

#include "runtime/rt_error.h"

typedef int (*par_fn)(void *arg, size_t i, struct rt_error *err);

/* 0, or the lowest failing i's return value with its err. Fewer than min_n items run on this
 * thread alone. */
int par_for(size_t n, size_t min_n, par_fn fn, void *arg, struct rt_error *err);

#endif
