/* SPDX-License-Identifier: MIT */
/*
 * test_manifest.c: the manifest's version graph as manifest_read() checks
 * and indexes it: versions found by name, parents and steps linked, and
 * every inconsistency (a version twice, one that follows a later one, two
 * steps to one version, a version without a step) refused with a message
 * that names the member.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/manifest.h"

#define MAXV 64

/* A manifest of n versions "v0".."v{n-1}", each following the one before, built as bytes. */
struct model {
    struct manifest m;
    struct mf_version versions[MAXV];
    struct mf_step steps[MAXV];
    struct mf_dialect_step ds[MAXV];
    char names[MAXV][24];
    char paths[MAXV][3][64];
    char *dialects[1];
};

static void
model_init(struct model *x, size_t n)
{
    memset(x, 0, sizeof *x);
    x->dialects[0] = "sqlite";
    x->m.format_version = MANIFEST_FORMAT_VERSION;
    x->m.compiler = "upc test";
    x->m.created = -1;
    x->m.plan_name = "p";
    x->m.source_file = "p.upg";
    memset(x->m.source_sha256, 'a', 64);
    x->m.dialects = x->dialects;
    x->m.ndialects = 1;
    x->m.versions = x->versions;
    x->m.nversions = n;
    x->m.steps = x->steps;
    x->m.nsteps = n;
    for (size_t i = 0; i < n; i++) {
        snprintf(x->names[i], sizeof x->names[i], "v%zu", i);
        x->versions[i].name = x->names[i];
        x->versions[i].from = i ? x->names[i - 1] : NULL;
        x->steps[i].index = (unsigned)i + 1;
        x->steps[i].from = x->versions[i].from;
        x->steps[i].to = x->names[i];
        x->steps[i].dialects = &x->ds[i];
        x->steps[i].ndialects = 1;
        x->ds[i].dialect = "sqlite";
        x->ds[i].transactional = true;
        x->ds[i].has_down = true;
        struct mf_file *f[3] = {&x->ds[i].up, &x->ds[i].down, &x->ds[i].schema};
        const char *kind[3] = {"up.sql", "down.sql", "schema.json"};
        for (int k = 0; k < 3; k++) {
            snprintf(x->paths[i][k], sizeof x->paths[i][k], "sqlite/%04zu.%s", i + 1, kind[k]);
            f[k]->path = x->paths[i][k];
            memset(f[k]->sha256, 'b', 64);
            f[k]->size = 1;
        }
    }
}

/* Writes the model and reads it back: 0, or -1 with the reader's message in err. */
static int
round_trip(const struct model *x, struct manifest *out, struct rt_error *err)
{
    char *bytes;
    size_t len;
    int rc;

    rt_error_clear(err);
    assert_int_equal(manifest_write(&x->m, &bytes, &len, err), 0);
    rc = manifest_read(bytes, len, out, err);
    free(bytes);
    return rc;
}

static void
test_versions_are_found_by_name_and_linked(void **state)
{
    struct model *x = malloc(sizeof *x);
    struct manifest m;
    struct rt_error err;
    (void)state;

    model_init(x, 40);
    /* names out of declaration order when sorted: v10 < v2 */
    assert_int_equal(round_trip(x, &m, &err), 0);
    for (size_t i = 0; i < 40; i++) {
        const struct mf_version *v = manifest_version(&m, x->names[i]);
        assert_non_null(v);
        assert_int_equal(v - m.versions, i);
        assert_int_equal(v->parent, i ? i - 1 : SIZE_MAX);
        assert_int_equal(v->step, i);
        assert_ptr_equal(manifest_step_to(&m, x->names[i]), &m.steps[i]);
    }
    assert_null(manifest_version(&m, "v40"));
    assert_null(manifest_version(&m, ""));
    assert_null(manifest_version(&m, NULL));
    assert_null(manifest_step_to(&m, "nope"));
    manifest_free(&m);
    free(x);
}

static void
test_a_version_listed_twice_is_refused(void **state)
{
    struct model *x = malloc(sizeof *x);
    struct manifest m;
    struct rt_error err;
    (void)state;

    model_init(x, 5);
    x->versions[3].name = "v1";
    x->steps[3].to = "v1";
    assert_int_equal(round_trip(x, &m, &err), -1);
    assert_non_null(strstr(err.message, "version \"v1\" is listed twice"));
    assert_non_null(strstr(err.message, "versions[3]"));
    manifest_free(&m);
    free(x);
}

static void
test_a_version_following_a_later_one_is_refused(void **state)
{
    struct model *x = malloc(sizeof *x);
    struct manifest m;
    struct rt_error err;
    (void)state;

    model_init(x, 5);
    x->versions[1].from = "v3";
    x->steps[1].from = "v3";
    assert_int_equal(round_trip(x, &m, &err), -1);
    assert_non_null(strstr(err.message, "\"v1\" follows \"v3\", which is not listed before it"));
    manifest_free(&m);

    model_init(x, 5);
    x->versions[2].from = "nowhere";
    x->steps[2].from = "nowhere";
    assert_int_equal(round_trip(x, &m, &err), -1);
    assert_non_null(strstr(err.message, "follows \"nowhere\""));
    manifest_free(&m);

    model_init(x, 5);
    x->versions[2].from = "v2"; /* itself */
    x->steps[2].from = "v2";
    assert_int_equal(round_trip(x, &m, &err), -1);
    assert_non_null(strstr(err.message, "\"v2\" follows \"v2\""));
    manifest_free(&m);
    free(x);
}

static void
test_two_steps_to_one_version_are_refused(void **state)
{
    struct model *x = malloc(sizeof *x);
    struct manifest m;
    struct rt_error err;
    (void)state;

    model_init(x, 5);
    x->steps[4].to = "v3";
    x->steps[4].from = "v2";
    assert_int_equal(round_trip(x, &m, &err), -1);
    assert_non_null(strstr(err.message, "a second step leads to \"v3\""));
    assert_non_null(strstr(err.message, "steps[4]"));
    manifest_free(&m);
    free(x);
}

static void
test_a_step_that_starts_elsewhere_or_leads_nowhere_is_refused(void **state)
{
    struct model *x = malloc(sizeof *x);
    struct manifest m;
    struct rt_error err;
    (void)state;

    model_init(x, 5);
    x->steps[3].from = "v0";
    assert_int_equal(round_trip(x, &m, &err), -1);
    assert_non_null(strstr(err.message, "the step to \"v3\" does not start where the version follows"));
    manifest_free(&m);

    model_init(x, 5);
    x->steps[3].to = "v9";
    assert_int_equal(round_trip(x, &m, &err), -1);
    assert_non_null(strstr(err.message, "the step leads to \"v9\", which is not a listed version"));
    manifest_free(&m);
    free(x);
}

static void
test_a_version_without_a_step_is_refused(void **state)
{
    struct model *x = malloc(sizeof *x);
    struct manifest m;
    struct rt_error err;
    (void)state;

    model_init(x, 5);
    x->m.nsteps = 4;
    assert_int_equal(round_trip(x, &m, &err), -1);
    assert_non_null(strstr(err.message, "version \"v4\" has no step"));
    manifest_free(&m);
    free(x);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions_are_found_by_name_and_linked),
        cmocka_unit_test(test_a_version_listed_twice_is_refused),
        cmocka_unit_test(test_a_version_following_a_later_one_is_refused),
        cmocka_unit_test(test_two_steps_to_one_version_are_refused),
        cmocka_unit_test(test_a_step_that_starts_elsewhere_or_leads_nowhere_is_refused),
        cmocka_unit_test(test_a_version_without_a_step_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
