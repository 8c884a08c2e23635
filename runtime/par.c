/* SPDX-License-Identifier: MIT */
/* par.c: the parallel loop of par.h, on up to four POSIX threads. */
#include "runtime/par.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

enum { PAR_MAX_THREADS = 4 };

struct par_pool {
    size_t n;
    par_fn fn;
    void *arg;
    atomic_size_t next;   /* the next i to take */
    atomic_size_t failed; /* the lowest i that failed, or SIZE_MAX */
};

struct par_worker {
    struct par_pool *pool;
    pthread_t thread;
    bool started;
    size_t failed_at; /* the lowest i this worker saw fail, or SIZE_MAX */
    int rc;
    struct rt_error err;
};

static void *
par_work(void *arg)
{
    struct par_worker *w = arg;
    struct par_pool *p = w->pool;

    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1), lowest;
        struct rt_error err;
        int rc;
        if (i >= p->n || i > atomic_load(&p->failed))
            break;
        rt_error_clear(&err);
        if ((rc = p->fn(p->arg, i, &err)) == 0)
            continue;
        if (i < w->failed_at) {
            w->failed_at = i;
            w->rc = rc;
            w->err = err;
        }
        lowest = atomic_load(&p->failed);
        while (i < lowest && !atomic_compare_exchange_weak(&p->failed, &lowest, i))
            ;
    }
    return NULL;
}

int
par_for(size_t n, size_t min_n, par_fn fn, void *arg, struct rt_error *err)
{
    struct par_worker w[PAR_MAX_THREADS];
    struct par_pool p;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nw = ncpu > 1 ? (size_t)ncpu : 1, i, best = SIZE_MAX;
    int rc = 0;

    if (nw > PAR_MAX_THREADS)
        nw = PAR_MAX_THREADS;
    if (n < min_n)
        nw = 1;
    p.n = n;
    p.fn = fn;
    p.arg = arg;
    atomic_init(&p.next, 0);
    atomic_init(&p.failed, SIZE_MAX);
    memset(w, 0, sizeof w);
    for (i = 0; i < nw; i++) {
        w[i].pool = &p;
        w[i].failed_at = SIZE_MAX;
    }
    /* worker 0 is this thread; the others run beside it (a thread that cannot start is not
     * needed: the loop finishes without it) */
    for (i = 1; i < nw; i++)
        w[i].started = pthread_create(&w[i].thread, NULL, par_work, &w[i]) == 0;
    par_work(&w[0]);
    for (i = 1; i < nw; i++)
        if (w[i].started)
            pthread_join(w[i].thread, NULL);
    for (i = 0; i < nw; i++) {
        if (w[i].failed_at < best) {
            best = w[i].failed_at;
            rc = w[i].rc;
            *err = w[i].err;
        }
    }
    return rc;
}
