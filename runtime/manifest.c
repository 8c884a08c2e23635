/* SPDX-License-Identifier: MIT */
/*
 * manifest.c: the manifest's writer and its strict reader (manifest.h).
 * Both go through jansson; the writer's flags (sorted keys, fixed indent,
 * ASCII) make its bytes canonical. Every reader error names the member at
 * fault, as "steps[2].dialects.sqlite.up.sha256".
 */
#include "runtime/manifest.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- writing ------------------------------------------------------------- */

static json_t *
str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *
file_json(const struct mf_file *f)
{
    json_t *o = json_object();

    json_object_set_new(o, "path", json_string(f->path));
    json_object_set_new(o, "sha256", json_string(f->sha256));
    json_object_set_new(o, "size", json_integer((json_int_t)f->size));
    return o;
}

static json_t *
step_json(const struct mf_step *s)
{
    json_t *o = json_object(), *arr, *dia = json_object();
    size_t i;

    json_object_set_new(o, "index", json_integer(s->index));
    json_object_set_new(o, "from", str_or_null(s->from));
    json_object_set_new(o, "to", json_string(s->to));
    arr = json_array();
    for (i = 0; i < s->nnotices; i++) {
        json_t *n = json_object();
        json_object_set_new(n, "level", json_string(s->notices[i].level));
        json_object_set_new(n, "text", json_string(s->notices[i].text));
        json_array_append_new(arr, n);
    }
    json_object_set_new(o, "notices", arr);
    arr = json_array();
    for (i = 0; i < s->nbreaking; i++) {
        json_t *n = json_object();
        json_object_set_new(n, "id", json_string(s->breaking[i].id));
        json_object_set_new(n, "text", json_string(s->breaking[i].text));
        json_array_append_new(arr, n);
    }
    json_object_set_new(o, "breaking", arr);
    arr = json_array();
    for (i = 0; i < s->nfindings; i++) {
        json_t *n = json_object();
        json_object_set_new(n, "lint", json_string(s->findings[i].lint));
        json_object_set_new(n, "dialect", str_or_null(s->findings[i].dialect));
        json_object_set_new(n, "message", json_string(s->findings[i].message));
        json_array_append_new(arr, n);
    }
    json_object_set_new(o, "findings", arr);
    for (i = 0; i < s->ndialects; i++) {
        const struct mf_dialect_step *d = &s->dialects[i];
        json_t *x = json_object();
        json_object_set_new(x, "up", file_json(&d->up));
        json_object_set_new(x, "down", d->has_down ? file_json(&d->down) : json_null());
        json_object_set_new(x, "up_statements", json_integer(d->up_statements));
        json_object_set_new(x, "down_statements", json_integer(d->down_statements));
        json_object_set_new(x, "transactional", json_boolean(d->transactional));
        json_object_set_new(x, "foreign_keys_off", json_boolean(d->foreign_keys_off));
        json_object_set_new(x, "down_lossy", json_boolean(d->down_lossy));
        json_object_set_new(x, "irreversible", str_or_null(d->irreversible));
        json_object_set_new(x, "schema", file_json(&d->schema));
        json_object_set_new(dia, d->dialect, x);
    }
    json_object_set_new(o, "dialects", dia);
    return o;
}

int
manifest_write(const struct manifest *m, char **out, size_t *len, struct rt_error *err)
{
    json_t *o = json_object(), *plan = json_object(), *arr;
    char *text;
    size_t i, n;

    *out = NULL;
    json_object_set_new(o, "format", json_string(MANIFEST_FORMAT));
    json_object_set_new(o, "format_version", json_integer(m->format_version));
    json_object_set_new(o, "compiler", json_string(m->compiler));
    json_object_set_new(o, "created", m->created >= 0 ? json_integer(m->created) : json_null());
    json_object_set_new(plan, "name", json_string(m->plan_name));
    json_object_set_new(plan, "title", str_or_null(m->plan_title));
    json_object_set_new(plan, "description", str_or_null(m->plan_description));
    json_object_set_new(plan, "source", json_pack("{s:s, s:s}", "file", m->source_file, "sha256",
                                                  m->source_sha256));
    json_object_set_new(o, "plan", plan);
    arr = json_array();
    for (i = 0; i < m->ndialects; i++)
        json_array_append_new(arr, json_string(m->dialects[i]));
    json_object_set_new(o, "dialects", arr);
    arr = json_array();
    for (i = 0; i < m->nversions; i++)
        json_array_append_new(arr, json_pack("{s:s, s:o}", "name", m->versions[i].name, "from",
                                             str_or_null(m->versions[i].from)));
    json_object_set_new(o, "versions", arr);
    arr = json_array();
    for (i = 0; i < m->nsteps; i++)
        json_array_append_new(arr, step_json(&m->steps[i]));
    json_object_set_new(o, "steps", arr);
    arr = json_array();
    for (i = 0; i < m->nfiles; i++)
        json_array_append_new(arr, file_json(&m->files[i]));
    json_object_set_new(o, "files", arr);
    text = json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(2) | JSON_ENSURE_ASCII);
    json_decref(o);
    if (!text)
        return rt_fail(err, "could not serialise the manifest (a string is not valid UTF-8?)");
    n = strlen(text);
    *out = malloc(n + 2);
    if (!*out) {
        free(text);
        return rt_fail(err, "out of memory");
    }
    memcpy(*out, text, n);
    (*out)[n] = '\n';
    (*out)[n + 1] = '\0';
    *len = n + 1;
    free(text);
    return 0;
}

/* --- reading ------------------------------------------------------------- */

struct reader {
    struct rt_error *err;
    bool failed;
    char where[256]; /* the member being read, for messages */
};

static void bad(struct reader *r, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void
bad(struct reader *r, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (r->failed)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rt_fail(r->err, "the manifest is not valid: %s%s%s", r->where, r->where[0] ? ": " : "", msg);
    r->failed = true;
}

/* Sets r->where to "<base>.<key>" (or "<base>[i]"). */
static void
at(struct reader *r, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void
at(struct reader *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->where, sizeof r->where, fmt, ap);
    va_end(ap);
}

static char *
dup_str(struct reader *r, const json_t *j, bool nullable)
{
    char *s;

    if (nullable && (!j || json_is_null(j)))
        return NULL;
    if (!json_is_string(j)) {
        bad(r, nullable ? "expected a string or null" : "expected a string");
        return NULL;
    }
    if (strlen(json_string_value(j)) != json_string_length(j)) {
        bad(r, "the string contains a NUL character");
        return NULL;
    }
    s = strdup(json_string_value(j));
    if (!s)
        bad(r, "out of memory");
    return s;
}

static bool
get_bool(struct reader *r, const json_t *j)
{
    if (!json_is_boolean(j)) {
        bad(r, "expected true or false");
        return false;
    }
    return json_is_true(j);
}

static unsigned long long
get_uint(struct reader *r, const json_t *j, unsigned long long max)
{
    json_int_t v;

    if (!json_is_integer(j)) {
        bad(r, "expected an integer");
        return 0;
    }
    v = json_integer_value(j);
    if (v < 0 || (unsigned long long)v > max) {
        bad(r, "the integer %lld is out of range", (long long)v);
        return 0;
    }
    return (unsigned long long)v;
}

static json_t *
get_array(struct reader *r, json_t *j)
{
    if (!json_is_array(j)) {
        bad(r, "expected an array");
        return NULL;
    }
    return j;
}

static bool
hex64(const char *s)
{
    size_t i;

    for (i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return s[64] == '\0';
}

bool
manifest_path_ok(const char *p)
{
    const char *c, *seg = p;
    size_t n = strlen(p);

    if (n == 0 || n > 255 || *p == '/' || p[n - 1] == '/')
        return false;
    for (c = p;; c++) {
        if (*c == '/' || *c == '\0') {
            size_t len = (size_t)(c - seg);
            if (len == 0 || (len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
                return false;
            if (*c == '\0')
                return true;
            seg = c + 1;
            continue;
        }
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '.' || *c == '_' || *c == '-'))
            return false;
    }
}

static void
read_file_entry(struct reader *r, const json_t *j, struct mf_file *f, const char *base)
{
    const json_t *sha;

    if (!json_is_object(j)) {
        at(r, "%s", base);
        bad(r, "expected an object with path, sha256 and size");
        return;
    }
    at(r, "%s.path", base);
    f->path = dup_str(r, json_object_get(j, "path"), false);
    if (f->path && !manifest_path_ok(f->path))
        bad(r, "\"%s\" is not a path inside the bundle", f->path);
    at(r, "%s.sha256", base);
    sha = json_object_get(j, "sha256");
    if (!json_is_string(sha) || json_string_length(sha) != 64 || !hex64(json_string_value(sha)))
        bad(r, "expected 64 lower-case hex digits");
    else
        memcpy(f->sha256, json_string_value(sha), 65);
    at(r, "%s.size", base);
    f->size = get_uint(r, json_object_get(j, "size"), (1ULL << 40));
}

static void
read_step(struct reader *r, json_t *j, struct mf_step *s, size_t i, const struct manifest *m)
{
    json_t *arr, *x, *dia;
    const char *dname;
    size_t k;

    if (!json_is_object(j)) {
        at(r, "steps[%zu]", i);
        bad(r, "expected an object");
        return;
    }
    at(r, "steps[%zu].index", i);
    s->index = (unsigned)get_uint(r, json_object_get(j, "index"), 1000000000u);
    at(r, "steps[%zu].from", i);
    s->from = dup_str(r, json_object_get(j, "from"), true);
    at(r, "steps[%zu].to", i);
    s->to = dup_str(r, json_object_get(j, "to"), false);
    at(r, "steps[%zu].notices", i);
    if ((arr = get_array(r, json_object_get(j, "notices")))) {
        s->nnotices = json_array_size(arr);
        s->notices = calloc(s->nnotices + 1, sizeof *s->notices);
        json_array_foreach(arr, k, x) {
            at(r, "steps[%zu].notices[%zu].level", i, k);
            s->notices[k].level = dup_str(r, json_object_get(x, "level"), false);
            if (s->notices[k].level && strcmp(s->notices[k].level, "info") &&
                strcmp(s->notices[k].level, "warning"))
                bad(r, "expected \"info\" or \"warning\"");
            at(r, "steps[%zu].notices[%zu].text", i, k);
            s->notices[k].text = dup_str(r, json_object_get(x, "text"), false);
        }
    }
    at(r, "steps[%zu].breaking", i);
    if ((arr = get_array(r, json_object_get(j, "breaking")))) {
        s->nbreaking = json_array_size(arr);
        s->breaking = calloc(s->nbreaking + 1, sizeof *s->breaking);
        json_array_foreach(arr, k, x) {
            at(r, "steps[%zu].breaking[%zu].id", i, k);
            s->breaking[k].id = dup_str(r, json_object_get(x, "id"), false);
            at(r, "steps[%zu].breaking[%zu].text", i, k);
            s->breaking[k].text = dup_str(r, json_object_get(x, "text"), false);
        }
    }
    at(r, "steps[%zu].findings", i);
    if ((arr = get_array(r, json_object_get(j, "findings")))) {
        s->nfindings = json_array_size(arr);
        s->findings = calloc(s->nfindings + 1, sizeof *s->findings);
        json_array_foreach(arr, k, x) {
            at(r, "steps[%zu].findings[%zu].lint", i, k);
            s->findings[k].lint = dup_str(r, json_object_get(x, "lint"), false);
            at(r, "steps[%zu].findings[%zu].dialect", i, k);
            s->findings[k].dialect = dup_str(r, json_object_get(x, "dialect"), true);
            at(r, "steps[%zu].findings[%zu].message", i, k);
            s->findings[k].message = dup_str(r, json_object_get(x, "message"), false);
        }
    }
    at(r, "steps[%zu].dialects", i);
    dia = json_object_get(j, "dialects");
    if (!json_is_object(dia)) {
        bad(r, "expected an object with one member per dialect");
        return;
    }
    s->ndialects = json_object_size(dia);
    s->dialects = calloc(s->ndialects + 1, sizeof *s->dialects);
    k = 0;
    json_object_foreach(dia, dname, x) {
        struct mf_dialect_step *d = &s->dialects[k++];
        char base[160], sub[200];
        size_t q;
        bool known = false;
        for (q = 0; q < m->ndialects; q++)
            known = known || strcmp(m->dialects[q], dname) == 0;
        at(r, "steps[%zu].dialects", i);
        if (!known)
            bad(r, "dialect \"%.40s\" is not one of the bundle's dialects", dname);
        d->dialect = strdup(dname);
        if (!json_is_object(x)) {
            at(r, "steps[%zu].dialects.%.40s", i, dname);
            bad(r, "expected an object");
            return;
        }
        snprintf(base, sizeof base, "steps[%zu].dialects.%.40s", i, dname);
        snprintf(sub, sizeof sub, "%s.up", base);
        read_file_entry(r, json_object_get(x, "up"), &d->up, sub);
        at(r, "%s.down", base);
        if (json_is_null(json_object_get(x, "down"))) {
            d->has_down = false;
        } else {
            d->has_down = true;
            snprintf(sub, sizeof sub, "%s.down", base);
            read_file_entry(r, json_object_get(x, "down"), &d->down, sub);
        }
        snprintf(sub, sizeof sub, "%s.schema", base);
        read_file_entry(r, json_object_get(x, "schema"), &d->schema, sub);
        at(r, "%s.up_statements", base);
        d->up_statements = (unsigned)get_uint(r, json_object_get(x, "up_statements"), 100000000u);
        at(r, "%s.down_statements", base);
        d->down_statements = (unsigned)get_uint(r, json_object_get(x, "down_statements"), 100000000u);
        at(r, "%s.transactional", base);
        d->transactional = get_bool(r, json_object_get(x, "transactional"));
        at(r, "%s.foreign_keys_off", base);
        d->foreign_keys_off = get_bool(r, json_object_get(x, "foreign_keys_off"));
        at(r, "%s.down_lossy", base);
        d->down_lossy = get_bool(r, json_object_get(x, "down_lossy"));
        at(r, "%s.irreversible", base);
        d->irreversible = dup_str(r, json_object_get(x, "irreversible"), true);
        if (!r->failed && d->has_down == (d->irreversible != NULL)) {
            at(r, "%s", base);
            bad(r, "a step has a down file exactly when it is not irreversible");
        }
    }
}

static void
free_file(struct mf_file *f)
{
    free(f->path);
}

void
manifest_free(struct manifest *m)
{
    size_t i, k;

    free(m->compiler);
    free(m->plan_name);
    free(m->plan_title);
    free(m->plan_description);
    free(m->source_file);
    for (i = 0; i < m->ndialects; i++)
        free(m->dialects[i]);
    free(m->dialects);
    for (i = 0; i < m->nversions; i++) {
        free(m->versions[i].name);
        free(m->versions[i].from);
    }
    free(m->versions);
    for (i = 0; i < m->nsteps; i++) {
        struct mf_step *s = &m->steps[i];
        free(s->from);
        free(s->to);
        for (k = 0; k < s->nnotices; k++) {
            free(s->notices[k].level);
            free(s->notices[k].text);
        }
        free(s->notices);
        for (k = 0; k < s->nbreaking; k++) {
            free(s->breaking[k].id);
            free(s->breaking[k].text);
        }
        free(s->breaking);
        for (k = 0; k < s->nfindings; k++) {
            free(s->findings[k].lint);
            free(s->findings[k].dialect);
            free(s->findings[k].message);
        }
        free(s->findings);
        for (k = 0; k < s->ndialects; k++) {
            struct mf_dialect_step *d = &s->dialects[k];
            free(d->dialect);
            free_file(&d->up);
            free_file(&d->down);
            free_file(&d->schema);
            free(d->irreversible);
        }
        free(s->dialects);
    }
    free(m->steps);
    for (i = 0; i < m->nfiles; i++)
        free_file(&m->files[i]);
    free(m->files);
    free(m->by_name);
    memset(m, 0, sizeof *m);
}

static int
cmp_version_name(const void *a, const void *b)
{
    return strcmp((*(const struct mf_version *const *)a)->name, (*(const struct mf_version *const *)b)->name);
}

/* Fills m->by_name with the version indices sorted by name. 0, or -1 out of memory. */
static int
index_versions(struct manifest *m)
{
    const struct mf_version **v = malloc((m->nversions + 1) * sizeof *v);
    size_t i;

    m->by_name = malloc((m->nversions + 1) * sizeof *m->by_name);
    if (!v || !m->by_name) {
        free(v);
        return -1;
    }
    for (i = 0; i < m->nversions; i++)
        v[i] = &m->versions[i];
    qsort(v, m->nversions, sizeof *v, cmp_version_name);
    for (i = 0; i < m->nversions; i++) {
        m->by_name[i] = (size_t)(v[i] - m->versions);
        m->versions[i].parent = SIZE_MAX;
        m->versions[i].step = SIZE_MAX;
    }
    free(v);
    m->sorted = true;
    return 0;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Cross-checks: versions known and linked, one step per version, paths unique. */
static void
check_consistency(struct reader *r, struct manifest *m)
{
    const char **paths;
    size_t n = 0, i, k, cap = m->nfiles + 1;

    r->where[0] = '\0';
    for (i = 0; i < m->nsteps; i++)
        cap += m->steps[i].ndialects * 3;
    paths = calloc(cap, sizeof *paths);
    if (!paths) {
        bad(r, "out of memory");
        return;
    }
    /* the versions, indexed by name: duplicates are neighbours once sorted */
    if (index_versions(m)) {
        free(paths);
        bad(r, "out of memory");
        return;
    }
    for (i = 1; i < m->nversions && !r->failed; i++) {
        size_t a = m->by_name[i - 1], b = m->by_name[i];
        if (strcmp(m->versions[a].name, m->versions[b].name) == 0) {
            at(r, "versions[%zu]", a > b ? a : b);
            bad(r, "version \"%.40s\" is listed twice", m->versions[b].name);
        }
    }
    for (i = 0; i < m->nversions && !r->failed; i++) {
        struct mf_version *v = &m->versions[i];
        at(r, "versions[%zu]", i);
        if (v->from) {
            const struct mf_version *f = manifest_version(m, v->from);
            if (!f || (size_t)(f - m->versions) >= i)
                bad(r, "version \"%.40s\" follows \"%.40s\", which is not listed before it",
                    v->name, v->from);
            else
                v->parent = (size_t)(f - m->versions);
        } else if (i > 0) {
            bad(r, "only the first version may follow nothing");
        }
    }
    for (i = 0; i < m->nsteps && !r->failed; i++) {
        const struct mf_step *s = &m->steps[i];
        const struct mf_version *v = manifest_version(m, s->to);
        at(r, "steps[%zu]", i);
        if (s->index != i + 1)
            bad(r, "steps are numbered from 1 in order; this one says %u", s->index);
        else if (!v)
            bad(r, "the step leads to \"%.40s\", which is not a listed version", s->to);
        else if (v->step != SIZE_MAX)
            bad(r, "a second step leads to \"%.40s\"", s->to);
        else if ((s->from == NULL) != (v->from == NULL) || (s->from && strcmp(s->from, v->from)))
            bad(r, "the step to \"%.40s\" does not start where the version follows", v->name);
        else
            m->versions[v - m->versions].step = i;
    }
    for (i = 0; i < m->nversions && !r->failed; i++) {
        at(r, "versions[%zu]", i);
        if (m->versions[i].step == SIZE_MAX)
            bad(r, "version \"%.40s\" has no step", m->versions[i].name);
    }
    for (i = 0; i < m->nsteps && !r->failed; i++) {
        const struct mf_step *s = &m->steps[i];
        at(r, "steps[%zu]", i);
        if (s->ndialects != m->ndialects)
            bad(r, "the step has %zu dialects but the bundle %zu", s->ndialects, m->ndialects);
        for (k = 0; k < s->ndialects; k++) {
            const struct mf_dialect_step *d = &s->dialects[k];
            size_t dl = strlen(d->dialect);
            if (d->up.path && (strncmp(d->up.path, d->dialect, dl) != 0 || d->up.path[dl] != '/'))
                bad(r, "the file \"%.60s\" is not in the folder of dialect \"%s\"", d->up.path,
                    d->dialect);
            if (d->up.path)
                paths[n++] = d->up.path;
            if (d->has_down && d->down.path)
                paths[n++] = d->down.path;
            if (d->schema.path)
                paths[n++] = d->schema.path;
        }
    }
    for (i = 0; i < m->nfiles; i++)
        if (m->files[i].path)
            paths[n++] = m->files[i].path;
    qsort(paths, n, sizeof *paths, cmp_str);
    r->where[0] = '\0';
    for (i = 1; i < n && !r->failed; i++)
        if (strcmp(paths[i - 1], paths[i]) == 0)
            bad(r, "the file \"%.60s\" is listed twice", paths[i]);
    for (i = 0; i < n && !r->failed; i++)
        if (strcmp(paths[i], MANIFEST_FILE) == 0 || strcmp(paths[i], MANIFEST_SIG_FILE) == 0)
            bad(r, "the manifest lists itself or its signature as a file");
    free(paths);
}

int
manifest_read(const char *bytes, size_t len, struct manifest *m, struct rt_error *err)
{
    struct reader r = {err, false, ""};
    json_error_t jerr;
    json_t *root, *j, *x, *arr;
    size_t i;

    memset(m, 0, sizeof *m);
    root = json_loadb(bytes, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return rt_fail(err, "the manifest is not valid JSON: %s (line %d, column %d)", jerr.text,
                       jerr.line, jerr.column);
    if (!json_is_object(root)) {
        json_decref(root);
        return rt_fail(err, "the manifest is not a JSON object");
    }
    at(&r, "format");
    j = json_object_get(root, "format");
    if (!json_is_string(j) || strcmp(json_string_value(j), MANIFEST_FORMAT) != 0)
        bad(&r, "expected \"%s\"", MANIFEST_FORMAT);
    at(&r, "format_version");
    m->format_version = (unsigned)get_uint(&r, json_object_get(root, "format_version"), 1000);
    if (!r.failed && m->format_version != MANIFEST_FORMAT_VERSION)
        bad(&r, "version %u of the format is not known to this uprun (it reads version %d); "
                "use a uprun as recent as the upc that made the bundle",
            m->format_version, MANIFEST_FORMAT_VERSION);
    at(&r, "compiler");
    m->compiler = dup_str(&r, json_object_get(root, "compiler"), false);
    at(&r, "created");
    j = json_object_get(root, "created");
    m->created = json_is_null(j) ? -1 : (long long)get_uint(&r, j, (1ULL << 62));
    j = json_object_get(root, "plan");
    at(&r, "plan");
    if (!json_is_object(j)) {
        bad(&r, "expected an object");
    } else {
        at(&r, "plan.name");
        m->plan_name = dup_str(&r, json_object_get(j, "name"), false);
        if (m->plan_name && !*m->plan_name)
            bad(&r, "the plan name is empty");
        at(&r, "plan.title");
        m->plan_title = dup_str(&r, json_object_get(j, "title"), true);
        at(&r, "plan.description");
        m->plan_description = dup_str(&r, json_object_get(j, "description"), true);
        x = json_object_get(j, "source");
        at(&r, "plan.source.file");
        m->source_file = dup_str(&r, json_object_get(x, "file"), false);
        at(&r, "plan.source.sha256");
        x = json_object_get(x, "sha256");
        if (!json_is_string(x) || json_string_length(x) != 64 || !hex64(json_string_value(x)))
            bad(&r, "expected 64 lower-case hex digits");
        else
            memcpy(m->source_sha256, json_string_value(x), 65);
    }
    at(&r, "dialects");
    if ((arr = get_array(&r, json_object_get(root, "dialects")))) {
        m->ndialects = json_array_size(arr);
        m->dialects = calloc(m->ndialects + 1, sizeof *m->dialects);
        json_array_foreach(arr, i, x) {
            at(&r, "dialects[%zu]", i);
            m->dialects[i] = dup_str(&r, x, false);
            if (m->dialects[i] && strcmp(m->dialects[i], "postgres") && strcmp(m->dialects[i], "sqlite"))
                bad(&r, "unknown dialect \"%.40s\"", m->dialects[i]);
        }
        if (m->ndialects == 0)
            bad(&r, "the bundle has no dialect");
    }
    at(&r, "versions");
    if ((arr = get_array(&r, json_object_get(root, "versions")))) {
        m->nversions = json_array_size(arr);
        m->versions = calloc(m->nversions + 1, sizeof *m->versions);
        json_array_foreach(arr, i, x) {
            at(&r, "versions[%zu].name", i);
            m->versions[i].name = dup_str(&r, json_object_get(x, "name"), false);
            at(&r, "versions[%zu].from", i);
            m->versions[i].from = dup_str(&r, json_object_get(x, "from"), true);
        }
    }
    at(&r, "steps");
    if ((arr = get_array(&r, json_object_get(root, "steps")))) {
        m->nsteps = json_array_size(arr);
        m->steps = calloc(m->nsteps + 1, sizeof *m->steps);
        json_array_foreach(arr, i, x) {
            if (r.failed)
                break;
            read_step(&r, x, &m->steps[i], i, m);
        }
    }
    at(&r, "files");
    if ((arr = get_array(&r, json_object_get(root, "files")))) {
        m->nfiles = json_array_size(arr);
        m->files = calloc(m->nfiles + 1, sizeof *m->files);
        json_array_foreach(arr, i, x) {
            char base[32];
            snprintf(base, sizeof base, "files[%zu]", i);
            read_file_entry(&r, x, &m->files[i], base);
        }
    }
    if (!r.failed)
        check_consistency(&r, m);
    json_decref(root);
    return r.failed ? -1 : 0;
}

const struct mf_version *
manifest_version(const struct manifest *m, const char *name)
{
    size_t lo = 0, hi = m->nversions, i;

    if (!name)
        return NULL;
    if (!m->by_name || !m->sorted) {
        for (i = 0; i < m->nversions; i++)
            if (m->versions[i].name && strcmp(m->versions[i].name, name) == 0)
                return &m->versions[i];
        return NULL;
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m->versions[m->by_name[mid]].name, name);
        if (c == 0)
            return &m->versions[m->by_name[mid]];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const struct mf_step *
manifest_step_to(const struct manifest *m, const char *name)
{
    const struct mf_version *v;
    size_t i;

    if (m->by_name && m->sorted && (v = manifest_version(m, name)) && v->step < m->nsteps)
        return &m->steps[v->step];
    for (i = 0; i < m->nsteps; i++)
        if (m->steps[i].to && strcmp(m->steps[i].to, name) == 0)
            return &m->steps[i];
    return NULL;
}

const struct mf_dialect_step *
manifest_step_dialect(const struct mf_step *s, const char *dialect)
{
    size_t i;

    for (i = 0; i < s->ndialects; i++)
        if (strcmp(s->dialects[i].dialect, dialect) == 0)
            return &s->dialects[i];
    return NULL;
}
