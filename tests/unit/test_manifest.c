/* SPDX-License-Identifier: MIT */
/*
 * test_manifest.c: the manifest's version graph as manifest_read() checks
 * and indexes it: versions found by name, parents and steps linked, and
 * every inconsistency (a version twice, one that follows a later one, two
 * steps to one version, a version without a step) refused with a message
 * that names the member; and the writer's canonical bytes, which it emits
 * without a JSON tree, equal jansson's canonical dump of the same document.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

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
    x->m.channel = "stable";
    x->m.sequence = 1;
    x->m.expires = -1;
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

/* Units of each kind and a step's offline lowering survive a round trip; a unit of kind
 * "transaction" with checks, and an offline lowering without an estimate, are refused. */
static void
test_units_kinds_and_offline_lowering_round_trip(void **state)
{
    struct model *x = malloc(sizeof *x);
    struct manifest m;
    struct rt_error err;
    struct mf_unit units[3] = {
        {MF_UNIT_ALONE, 2, "SELECT true", "SELECT false", NULL, NULL},
        {MF_UNIT_BATCHES, 3, "SELECT true", "SELECT false", NULL, NULL},
        {MF_UNIT_TRANSACTION, 5, NULL, NULL, NULL, NULL},
    };
    struct mf_dialect_step off;
    char *bytes, *at;
    size_t len;
    (void)state;

    model_init(x, 2);
    x->ds[1].up_units = units;
    x->ds[1].nup_units = 3;
    x->ds[1].up_statements = 6;
    x->ds[1].transactional = false;
    memset(&off, 0, sizeof off);
    off.up = x->ds[1].up;
    off.up.path = "sqlite/0002.offline.up.sql";
    off.has_down = true;
    off.down = x->ds[1].down;
    off.down.path = "sqlite/0002.offline.down.sql";
    off.up_statements = 1;
    off.down_statements = 1;
    off.transactional = true;
    x->ds[1].offline = &off;
    x->ds[1].estimate = "SELECT 42";
    assert_int_equal(round_trip(x, &m, &err), 0);
    {
        const struct mf_dialect_step *d = &m.steps[1].dialects[0];
        assert_int_equal(d->nup_units, 3);
        assert_int_equal(d->up_units[0].kind, MF_UNIT_ALONE);
        assert_int_equal(d->up_units[1].kind, MF_UNIT_BATCHES);
        assert_string_equal(d->up_units[1].pre, "SELECT true");
        assert_int_equal(d->up_units[2].kind, MF_UNIT_TRANSACTION);
        assert_null(d->up_units[2].pre);
        assert_int_equal(d->up_units[2].statement, 5);
        assert_string_equal(d->estimate, "SELECT 42");
        assert_non_null(d->offline);
        assert_string_equal(d->offline->up.path, "sqlite/0002.offline.up.sql");
        assert_true(d->offline->has_down && d->offline->transactional);
        assert_int_equal(d->offline->up_statements, 1);
    }
    manifest_free(&m);

    /* the same bytes with checks on the "transaction" unit: refused */
    assert_int_equal(manifest_write(&x->m, &bytes, &len, &err), 0);
    at = strstr(bytes, "\"kind\": \"transaction\"");
    assert_non_null(at);
    {
        const char *with = "\"pre\": \"SELECT 1\", \"kind\": \"transaction\"";
        size_t pre = (size_t)(at - bytes), w = strlen(with),
               k = strlen("\"kind\": \"transaction\"");
        char *edited = malloc(len - k + w + 1);
        memcpy(edited, bytes, pre);
        memcpy(edited + pre, with, w);
        memcpy(edited + pre + w, at + k, len - pre - k);
        edited[len - k + w] = '\0';
        assert_int_not_equal(manifest_read(edited, len - k + w, &m, &err), 0);
        assert_non_null(strstr(err.message, "has no checks"));
        manifest_free(&m);
        free(edited);
    }
    free(bytes);

    /* an offline lowering without an estimate: refused */
    x->ds[1].estimate = NULL;
    assert_int_not_equal(round_trip(x, &m, &err), 0);
    assert_non_null(strstr(err.message, "estimate"));
    manifest_free(&m);
    free(x);
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
    assert_non_null(strstr(err.message, "step 5 leads to \"v3\", not to version 5"));
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
    assert_non_null(
        strstr(err.message, "the step to \"v3\" does not start where the version follows"));
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

/* v0 -> v1 -> v2 (a hotfix), v1 -> v3 merging v2, v3 -> v4; step 6 is v2 -> v3. */
static void
model_merge(struct model *x)
{
    model_init(x, 5);
    x->versions[3].from = x->steps[3].from = x->names[1];
    x->versions[3].merges = x->names[2];
    x->m.nsteps = 6;
    x->steps[5] = x->steps[3];
    x->steps[5].index = 6;
    x->steps[5].from = x->names[2];
    x->steps[5].dialects = &x->ds[5];
    x->ds[5] = x->ds[3];
    for (int k = 0; k < 3; k++) {
        struct mf_file *f = k == 0 ? &x->ds[5].up : k == 1 ? &x->ds[5].down : &x->ds[5].schema;
        snprintf(x->paths[5][k], sizeof x->paths[5][k], "sqlite/0006.%d", k);
        f->path = x->paths[5][k];
    }
}

/* Trailing commas, after the last member or the last element, are not JSON: refused. */
static void
test_trailing_commas_are_refused(void **state)
{
    struct model *x = malloc(sizeof *x);
    struct manifest m;
    struct rt_error err;
    char *bytes, *p;
    size_t len;
    (void)state;

    model_init(x, 3);
    assert_int_equal(manifest_write(&x->m, &bytes, &len, &err), 0);
    /* "  ]\n}\n" at the end: the versions array closes the object */
    assert_true(len > 6 && memcmp(bytes + len - 6, "  ]\n}\n", 6) == 0);
    bytes = realloc(bytes, len + 2);
    memcpy(bytes + len - 6, "  ],\n}\n", 7);
    assert_int_equal(manifest_read(bytes, len + 1, &m, &err), -1);
    assert_non_null(strstr(err.message, "a comma after the last member"));
    manifest_free(&m);
    free(bytes);
    assert_int_equal(manifest_write(&x->m, &bytes, &len, &err), 0);
    /* the last version's line gets a comma */
    bytes = realloc(bytes, len + 2);
    p = bytes + len - 6;
    memmove(p, p - 1, 7);
    p[-1] = ',';
    assert_int_equal(manifest_read(bytes, len + 1, &m, &err), -1);
    assert_non_null(strstr(err.message, "a comma after the last element"));
    manifest_free(&m);
    free(bytes);
    free(x);
}

/* A merge: the derived step is read and linked, and the shortest way takes it. */
static void
test_a_merge_is_read_and_routed(void **state)
{
    struct model *x = malloc(sizeof *x);
    struct manifest m;
    struct rt_error err;
    size_t *steps, n;
    (void)state;

    model_merge(x);
    assert_int_equal(round_trip(x, &m, &err), 0);
    assert_string_equal(m.versions[3].merges, "v2");
    assert_int_equal(m.versions[3].merged, 2);
    assert_int_equal(m.versions[3].merge_step, 5);
    assert_int_equal(manifest_route(&m, "v2", "v4", &steps, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(steps[0], 5); /* v2 -> v3, derived */
    assert_int_equal(steps[1], 4);
    free(steps);
    assert_int_equal(manifest_route(&m, "v1", "v3", &steps, &n), 0);
    assert_int_equal(n, 1); /* the composite step, not v1 -> v2 -> v3 */
    assert_int_equal(steps[0], 3);
    free(steps);
    assert_int_equal(manifest_route(&m, NULL, "v4", &steps, &n), 0);
    assert_int_equal(n, 4);
    free(steps);
    assert_int_equal(manifest_route(&m, "v4", "v2", &steps, &n), -1); /* up only */
    free(steps);
    manifest_free(&m);

    /* the derived step missing, or a merge that does not part from `from` */
    model_merge(x);
    x->m.nsteps = 5;
    assert_int_equal(round_trip(x, &m, &err), -1);
    assert_non_null(strstr(err.message, "merges \"v2\" but no step leads from it"));
    manifest_free(&m);
    model_merge(x);
    x->versions[3].merges = x->names[0];
    x->steps[5].from = x->names[0];
    assert_int_equal(round_trip(x, &m, &err), -1);
    assert_non_null(strstr(err.message, "which does not part from \"v1\""));
    manifest_free(&m);
    free(x);
}

/*
 * A manifest of format version 1 (jansson's indented layout, not this
 * reader's) is refused as an older format, with the advice to rebuild, not
 * as JSON that does not parse.
 */
static void
test_a_format_1_manifest_is_refused_as_older(void **state)
{
    static const char v1[] = "{\n  \"compiler\": \"upc 0.1.0\",\n  \"format\": "
                             "\"upgrade-plan-bundle\",\n  \"format_version\": 1,\n  \"steps\": "
                             "[\n    {\n      \"index\": 1\n    }\n  ]\n}\n";
    struct manifest m;
    struct rt_error err;
    (void)state;

    assert_int_equal(manifest_read(v1, sizeof v1 - 1, &m, &err), -1);
    assert_non_null(strstr(err.message, "version 1 of the format is older than this uprun reads"));
    assert_non_null(strstr(err.message, "rebuild the bundle"));
    assert_string_equal(err.hint, "");
    manifest_free(&m);
}

/* Each of a step's files, up, down and schema, must be in its dialect's folder. */
static void
test_a_step_file_outside_its_dialect_folder_is_refused(void **state)
{
    static char elsewhere[3][40] = {"postgres/0002.up.sql", "postgres/0002.down.sql",
                                    "sqlite-other/0002.schema.json"};
    struct model *x = malloc(sizeof *x);
    struct manifest m;
    struct rt_error err;
    (void)state;

    for (int k = 0; k < 3; k++) {
        struct mf_file *f;
        model_init(x, 3);
        f = k == 0 ? &x->ds[1].up : k == 1 ? &x->ds[1].down : &x->ds[1].schema;
        f->path = elsewhere[k];
        assert_int_equal(round_trip(x, &m, &err), -1);
        assert_non_null(strstr(err.message, "is not in the folder of dialect \"sqlite\""));
        assert_non_null(strstr(err.message, elsewhere[k]));
        manifest_free(&m);
    }
    free(x);
}

/*
 * The canonical text of a manifest as jansson would print it: the top-level
 * members one a line, the elements of files, steps and versions one a line,
 * everything else inline (json_dumps with sorted keys and ASCII only).
 */
static char *
canonical_text(json_t *j)
{
    const char *keys[16];
    size_t n = 0, i, k, cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    const char *key;
    json_t *v;

#define PUT(s)                                                                                     \
    do {                                                                                           \
        const char *s_ = (s);                                                                      \
        size_t l_ = strlen(s_);                                                                    \
        while (len + l_ + 1 > cap)                                                                 \
            out = realloc(out, cap *= 2);                                                          \
        memcpy(out + len, s_, l_ + 1);                                                             \
        len += l_;                                                                                 \
    } while (0)
    json_object_foreach(j, key, v) keys[n++] = key;
    for (i = 0; i < n; i++) /* sorted, as the writer writes them */
        for (k = i + 1; k < n; k++)
            if (strcmp(keys[k], keys[i]) < 0) {
                const char *t = keys[i];
                keys[i] = keys[k];
                keys[k] = t;
            }
    PUT("{");
    for (i = 0; i < n; i++) {
        json_t *m = json_object_get(j, keys[i]), *e;
        bool lines = strcmp(keys[i], "files") == 0 || strcmp(keys[i], "steps") == 0 ||
                     strcmp(keys[i], "versions") == 0;
        PUT(i ? ",\n  \"" : "\n  \"");
        PUT(keys[i]);
        PUT("\": ");
        if (lines && json_array_size(m)) {
            PUT("[");
            json_array_foreach(m, k, e)
            {
                char *one = json_dumps(e, JSON_SORT_KEYS | JSON_ENSURE_ASCII);
                PUT(k ? ",\n    " : "\n    ");
                PUT(one);
                free(one);
            }
            PUT("\n  ]");
        } else {
            char *one = json_dumps(m, JSON_SORT_KEYS | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
            PUT(one);
            free(one);
        }
    }
    PUT("\n}\n");
#undef PUT
    return out;
}

static void
test_the_writer_is_canonical_json(void **state)
{
    struct model *x = malloc(sizeof *x);
    struct mf_notice notices[2] = {
        {"info", "Quotes \" and \\\\ backslashes, a tab\t, a bell \a, DEL \x7f"},
        {"warning", "UTF-8: caf\xc3\xa9, \xe2\x82\xac, an emoji \xf0\x9f\x98\x80"}};
    struct mf_breaking brk = {"v1-id", "line one\nline two\r\n"};
    struct mf_finding fnd[2] = {{"table_rewrite", "postgres", "rewrites \"T\""},
                                {"data_loss", NULL, "drops"}};
    struct mf_dialect_step two[2];
    struct mf_file extra = {"guide.md", "", 12};
    char *bytes, *canon;
    size_t len;
    json_t *j;
    struct rt_error err;
    (void)state;

    model_init(x, 3);
    x->m.plan_title = "T\xc3\xadtulo";
    x->m.created = 1700000000;
    memset(extra.sha256, 'c', 64);
    extra.sha256[64] = '\0';
    x->m.files = &extra;
    x->m.nfiles = 1;
    x->steps[1].notices = notices;
    x->steps[1].nnotices = 2;
    x->steps[1].breaking = &brk;
    x->steps[1].nbreaking = 1;
    x->steps[2].findings = fnd;
    x->steps[2].nfindings = 2;
    /* two dialects written out of order: the writer sorts them as keys */
    two[0] = x->ds[2];
    two[0].dialect = "sqlite";
    two[1] = x->ds[2];
    two[1].dialect = "postgres";
    two[1].has_down = false;
    two[1].irreversible = "no way back";
    x->steps[2].dialects = two;
    x->steps[2].ndialects = 2;
    assert_int_equal(manifest_write(&x->m, &bytes, &len, &err), 0);
    assert_int_equal(strlen(bytes), len);
    j = json_loadb(bytes, len, 0, NULL);
    assert_non_null(j);
    canon = canonical_text(j);
    assert_string_equal(bytes, canon);
    free(canon);
    json_decref(j);
    free(bytes);
    /* a string that is not UTF-8 is refused, not written */
    notices[0].text = "bad \xff byte";
    assert_int_equal(manifest_write(&x->m, &bytes, &len, &err), -1);
    assert_non_null(strstr(err.message, "UTF-8"));
    free(x);
}

/* Issue 15: the release members round-trip, and a sequence of 0 or a bad channel is refused; a
 * step that is not transactional without units too. */
static void
test_channel_sequence_and_expiry_are_read_and_checked(void **state)
{
    struct model *x = malloc(sizeof *x);
    struct manifest m;
    struct rt_error err;
    (void)state;

    model_init(x, 3);
    x->m.channel = "lts-2";
    x->m.sequence = 42;
    x->m.expires = 1893456000;
    assert_int_equal(round_trip(x, &m, &err), 0);
    assert_string_equal(m.channel, "lts-2");
    assert_int_equal(m.sequence, 42);
    assert_int_equal(m.expires, 1893456000);
    manifest_free(&m);
    x->m.expires = -1;
    assert_int_equal(round_trip(x, &m, &err), 0);
    assert_int_equal(m.expires, -1);
    manifest_free(&m);
    x->m.sequence = 0;
    assert_int_equal(round_trip(x, &m, &err), -1);
    assert_non_null(strstr(err.message, "a sequence starts at 1"));
    manifest_free(&m);
    x->m.sequence = 1;
    x->m.channel = "no spaces";
    assert_int_equal(round_trip(x, &m, &err), -1);
    assert_non_null(strstr(err.message, "a channel is 1 to 64 letters"));
    manifest_free(&m);
    /* a step that is not transactional must say which statements are units (review of issue
     * 12: one without units was run in one transaction) */
    x->m.channel = "stable";
    x->ds[1].transactional = false;
    assert_int_equal(round_trip(x, &m, &err), -1);
    assert_non_null(strstr(err.message, "transactional exactly when it has no units"));
    manifest_free(&m);
    free(x);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions_are_found_by_name_and_linked),
        cmocka_unit_test(test_units_kinds_and_offline_lowering_round_trip),
        cmocka_unit_test(test_a_version_listed_twice_is_refused),
        cmocka_unit_test(test_a_version_following_a_later_one_is_refused),
        cmocka_unit_test(test_two_steps_to_one_version_are_refused),
        cmocka_unit_test(test_a_step_that_starts_elsewhere_or_leads_nowhere_is_refused),
        cmocka_unit_test(test_a_version_without_a_step_is_refused),
        cmocka_unit_test(test_a_step_file_outside_its_dialect_folder_is_refused),
        cmocka_unit_test(test_a_format_1_manifest_is_refused_as_older),
        cmocka_unit_test(test_channel_sequence_and_expiry_are_read_and_checked),
        cmocka_unit_test(test_a_merge_is_read_and_routed),
        cmocka_unit_test(test_trailing_commas_are_refused),
        cmocka_unit_test(test_the_writer_is_canonical_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
