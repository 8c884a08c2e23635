/* SPDX-License-Identifier: MIT */
/*
 * manifest.c: the manifest's writer and its strict reader (manifest.h).
 * Both go through jansson; the writer's flags (sorted keys, fixed indent,
 * ASCII) make its bytes canonical. Every reader error names the member at
 * fault, as "steps[2].dialects.sqlite.up.sha256".
 */
#include "runtime/manifest.h"

#include "runtime/canon.h"

#include "runtime/par.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --- writing ------------------------------------------------------------- */

/*
 * The writer emits the canonical form directly, without building a JSON
 * tree (a manifest of 10,000 steps would otherwise need hundreds of
 * megabytes). The form (docs/bundle-format.md): the top-level object has one
 * member a line, indented by two spaces; the arrays "files", "steps" and
 * "versions" have one element a line, indented by four; everything else is
 * on the line of its member, with ", " between items and ": " after keys.
 * Keys are in sorted order (written so below); strings are escaped as
 * jansson's JSON_ENSURE_ASCII does (\uXXXX, surrogate pairs above U+FFFF);
 * integers are decimal. Each element line is byte for byte what
 * json_dumps(JSON_SORT_KEYS | JSON_ENSURE_ASCII) gives for it
 * (tests/unit/test_manifest.c checks it).
 */
#define JW_MAX_DEPTH 16

struct jw {
    char *buf;
    size_t len, cap;
    int depth;
    bool first;                   /* no member written yet in the current object or array */
    bool lines[JW_MAX_DEPTH + 1]; /* at each depth: one item a line (else inline) */
    bool failed;                  /* out of memory, or a string that is not UTF-8 */
};

static void
jw_put(struct jw *w, const char *s, size_t n)
{
    if (w->failed)
        return;
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap ? w->cap : 65536;
        char *b;
        while (cap < w->len + n + 1)
            cap *= 2;
        if (!(b = realloc(w->buf, cap))) {
            w->failed = true;
            return;
        }
        w->buf = b;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void
jw_puts(struct jw *w, const char *s)
{
    jw_put(w, s, strlen(s));
}

/* A new line at the current depth. */
static void
jw_newline(struct jw *w)
{
    static const char spaces[] = "                                ";
    int n = w->depth * 2;

    jw_put(w, "\n", 1);
    while (n > 0) {
        int k = n < (int)sizeof spaces - 1 ? n : (int)sizeof spaces - 1;
        jw_put(w, spaces, (size_t)k);
        n -= k;
    }
}

/* Before a value inside an array, or a key inside an object. */
static void
jw_item(struct jw *w)
{
    bool lines = w->lines[w->depth];

    if (!w->first)
        jw_put(w, lines ? "," : ", ", lines ? 1 : 2);
    w->first = false;
    if (lines)
        jw_newline(w);
}

static void
jw_string(struct jw *w, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    jw_put(w, "\"", 1);
    while (*p) {
        unsigned cp;
        size_t n;
        char seq[16];
        if (*p < 0x80) {
            cp = *p;
            n = 1;
        } else if ((*p & 0xE0) == 0xC0 && (p[1] & 0xC0) == 0x80) {
            cp = ((unsigned)(*p & 0x1F) << 6) | (p[1] & 0x3F);
            n = 2;
        } else if ((*p & 0xF0) == 0xE0 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80) {
            cp = ((unsigned)(*p & 0x0F) << 12) | ((unsigned)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
            n = 3;
        } else if ((*p & 0xF8) == 0xF0 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80 &&
                   (p[3] & 0xC0) == 0x80) {
            cp = ((unsigned)(*p & 0x07) << 18) | ((unsigned)(p[1] & 0x3F) << 12) |
                 ((unsigned)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
            n = 4;
        } else {
            w->failed = true; /* not UTF-8 */
            return;
        }
        if ((n == 2 && cp < 0x80) || (n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
            w->failed = true; /* overlong, a surrogate, or out of range */
            return;
        }
        p += n;
        switch (cp) {
        case '"':
            jw_put(w, "\\\"", 2);
            continue;
        case '\\':
            jw_put(w, "\\\\", 2);
            continue;
        case '\b':
            jw_put(w, "\\b", 2);
            continue;
        case '\f':
            jw_put(w, "\\f", 2);
            continue;
        case '\n':
            jw_put(w, "\\n", 2);
            continue;
        case '\r':
            jw_put(w, "\\r", 2);
            continue;
        case '\t':
            jw_put(w, "\\t", 2);
            continue;
        default:
            break;
        }
        if (cp < 0x20 || cp > 0x7F) {
            if (cp < 0x10000) {
                snprintf(seq, sizeof seq, "\\u%04X", cp);
            } else {
                unsigned v = cp - 0x10000;
                snprintf(seq, sizeof seq, "\\u%04X\\u%04X", 0xD800 | (v >> 10),
                         0xDC00 | (v & 0x3FF));
            }
            jw_puts(w, seq);
        } else {
            char c = (char)cp;
            jw_put(w, &c, 1);
        }
    }
    jw_put(w, "\"", 1);
}

static void
jw_key(struct jw *w, const char *key)
{
    jw_item(w);
    jw_string(w, key);
    jw_put(w, ": ", 2);
}

/* Opens an object or array whose items go one a line (lines) or inline. */
static void
jw_open_as(struct jw *w, char c, bool lines)
{
    jw_put(w, &c, 1);
    if (w->depth >= JW_MAX_DEPTH) {
        w->failed = true;
        return;
    }
    w->depth++;
    w->lines[w->depth] = lines;
    w->first = true;
}

static void
jw_open(struct jw *w, char c)
{
    jw_open_as(w, c, false);
}

static void
jw_close(struct jw *w, char c)
{
    bool empty = w->first, lines = w->lines[w->depth];

    w->depth--;
    if (!empty && lines)
        jw_newline(w);
    jw_put(w, &c, 1);
    w->first = false;
}

static void
jw_str_or_null(struct jw *w, const char *s)
{
    if (s)
        jw_string(w, s);
    else
        jw_puts(w, "null");
}

static void
jw_uint(struct jw *w, unsigned long long v)
{
    char num[32];

    snprintf(num, sizeof num, "%llu", v);
    jw_puts(w, num);
}

static void
jw_bool(struct jw *w, bool v)
{
    jw_puts(w, v ? "true" : "false");
}

/* Members are written in the sorted order of their keys. */
/* "key": [{"fix": ..., "fix_when": ..., "post": ..., "pre": ..., "statement": N}, ...] */
static void
units_json(struct jw *w, const char *key, const struct mf_unit *u, size_t n)
{
    jw_key(w, key);
    jw_open(w, '[');
    for (size_t i = 0; i < n; i++) {
        jw_item(w);
        jw_open(w, '{');
        if (u[i].kind != MF_UNIT_TRANSACTION) {
            jw_key(w, "fix");
            jw_str_or_null(w, u[i].fix);
            jw_key(w, "fix_when");
            jw_str_or_null(w, u[i].fix_when);
        }
        if (u[i].kind != MF_UNIT_ALONE) {
            jw_key(w, "kind");
            jw_string(w, u[i].kind == MF_UNIT_BATCHES ? "batches" : "transaction");
        }
        if (u[i].kind != MF_UNIT_TRANSACTION) {
            jw_key(w, "post");
            jw_string(w, u[i].post);
            jw_key(w, "pre");
            jw_string(w, u[i].pre);
        }
        jw_key(w, "statement");
        jw_uint(w, u[i].statement);
        jw_close(w, '}');
    }
    jw_close(w, ']');
}

static void
file_json(struct jw *w, const struct mf_file *f)
{
    jw_open(w, '{');
    jw_key(w, "path");
    jw_string(w, f->path);
    jw_key(w, "sha256");
    jw_string(w, f->sha256);
    jw_key(w, "size");
    jw_uint(w, (unsigned long long)f->size);
    jw_close(w, '}');
}

/* "key": {"down": ..., "down_statements": N, "down_units": ..., "transactional": B, "up": ...,
 * "up_statements": N, "up_units": ...}: a step's other lowering (struct mf_dialect_step). */
static void
lowering_json(struct jw *w, const char *key, const struct mf_dialect_step *d)
{
    jw_key(w, key);
    jw_open(w, '{');
    jw_key(w, "down");
    if (d->has_down)
        file_json(w, &d->down);
    else
        jw_puts(w, "null");
    jw_key(w, "down_statements");
    jw_uint(w, d->down_statements);
    if (d->ndown_units)
        units_json(w, "down_units", d->down_units, d->ndown_units);
    jw_key(w, "transactional");
    jw_bool(w, d->transactional);
    jw_key(w, "up");
    file_json(w, &d->up);
    jw_key(w, "up_statements");
    jw_uint(w, d->up_statements);
    if (d->nup_units)
        units_json(w, "up_units", d->up_units, d->nup_units);
    jw_close(w, '}');
}

static int
cmp_dialect_step(const void *a, const void *b)
{
    return strcmp((*(const struct mf_dialect_step *const *)a)->dialect,
                  (*(const struct mf_dialect_step *const *)b)->dialect);
}

static void
step_json(struct jw *w, const struct mf_step *s)
{
    const struct mf_dialect_step **sorted = malloc((s->ndialects + 1) * sizeof *sorted);
    size_t i, n = sorted ? s->ndialects : 0;

    if (!sorted)
        w->failed = true; /* out of memory: the writer says it could not serialise */

    jw_open(w, '{');
    jw_key(w, "breaking");
    jw_open(w, '[');
    for (i = 0; i < s->nbreaking; i++) {
        jw_item(w);
        jw_open(w, '{');
        jw_key(w, "id");
        jw_string(w, s->breaking[i].id);
        jw_key(w, "text");
        jw_string(w, s->breaking[i].text);
        jw_close(w, '}');
    }
    jw_close(w, ']');
    jw_key(w, "dialects");
    jw_open(w, '{');
    for (i = 0; i < n; i++)
        sorted[i] = &s->dialects[i];
    qsort(sorted, n, sizeof *sorted, cmp_dialect_step);
    for (i = 0; i < n; i++) {
        const struct mf_dialect_step *d = sorted[i];
        jw_key(w, d->dialect);
        jw_open(w, '{');
        jw_key(w, "down");
        if (d->has_down)
            file_json(w, &d->down);
        else
            jw_puts(w, "null");
        jw_key(w, "down_lossy");
        jw_bool(w, d->down_lossy);
        jw_key(w, "down_statements");
        jw_uint(w, d->down_statements);
        if (d->ndown_units)
            units_json(w, "down_units", d->down_units, d->ndown_units);
        if (d->estimate) {
            jw_key(w, "estimate");
            jw_string(w, d->estimate);
        }
        jw_key(w, "foreign_keys_off");
        jw_bool(w, d->foreign_keys_off);
        jw_key(w, "irreversible");
        jw_str_or_null(w, d->irreversible);
        if (d->offline)
            lowering_json(w, "offline", d->offline);
        jw_key(w, "schema");
        file_json(w, &d->schema);
        jw_key(w, "transactional");
        jw_bool(w, d->transactional);
        jw_key(w, "up");
        file_json(w, &d->up);
        jw_key(w, "up_statements");
        jw_uint(w, d->up_statements);
        if (d->nup_units)
            units_json(w, "up_units", d->up_units, d->nup_units);
        jw_close(w, '}');
    }
    jw_close(w, '}');
    jw_key(w, "findings");
    jw_open(w, '[');
    for (i = 0; i < s->nfindings; i++) {
        jw_item(w);
        jw_open(w, '{');
        jw_key(w, "dialect");
        jw_str_or_null(w, s->findings[i].dialect);
        jw_key(w, "lint");
        jw_string(w, s->findings[i].lint);
        jw_key(w, "message");
        jw_string(w, s->findings[i].message);
        jw_close(w, '}');
    }
    jw_close(w, ']');
    jw_key(w, "from");
    jw_str_or_null(w, s->from);
    jw_key(w, "index");
    jw_uint(w, s->index);
    jw_key(w, "notices");
    jw_open(w, '[');
    for (i = 0; i < s->nnotices; i++) {
        jw_item(w);
        jw_open(w, '{');
        jw_key(w, "level");
        jw_string(w, s->notices[i].level);
        jw_key(w, "text");
        jw_string(w, s->notices[i].text);
        jw_close(w, '}');
    }
    jw_close(w, ']');
    jw_key(w, "to");
    jw_string(w, s->to);
    jw_close(w, '}');
    free(sorted);
}

bool
manifest_expired(const struct manifest *m, long long now, char *text, size_t size)
{
    bool past = m->expires >= 0 && now > m->expires;
    time_t t = (time_t)m->expires;
    struct tm tm;
    char when[48];

    if (m->expires < 0) {
        snprintf(text, size, "never expires");
        return false;
    }
    if (!gmtime_r(&t, &tm) || !strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm))
        snprintf(when, sizeof when, "%lld", m->expires);
    snprintf(text, size, "%s at %s", past ? "expired" : "expires", when);
    return past;
}

bool
manifest_channel_ok(const char *c)
{
    size_t n = 0;

    for (; c[n]; n++)
        if (!((c[n] >= 'a' && c[n] <= 'z') || (c[n] >= 'A' && c[n] <= 'Z') ||
              (c[n] >= '0' && c[n] <= '9') || c[n] == '-' || c[n] == '_' || c[n] == '.'))
            return false;
    return n >= 1 && n <= 64;
}

int
manifest_write(const struct manifest *m, char **out, size_t *len, struct rt_error *err)
{
    struct jw w = {0};
    size_t i;

    *out = NULL;
    jw_open_as(&w, '{', true);
    jw_key(&w, "channel");
    jw_string(&w, m->channel ? m->channel : "stable");
    jw_key(&w, "compiler");
    jw_string(&w, m->compiler);
    jw_key(&w, "created");
    if (m->created >= 0)
        jw_uint(&w, (unsigned long long)m->created);
    else
        jw_puts(&w, "null");
    jw_key(&w, "dialects");
    jw_open(&w, '[');
    for (i = 0; i < m->ndialects; i++) {
        jw_item(&w);
        jw_string(&w, m->dialects[i]);
    }
    jw_close(&w, ']');
    jw_key(&w, "expires");
    if (m->expires >= 0)
        jw_uint(&w, (unsigned long long)m->expires);
    else
        jw_puts(&w, "null");
    jw_key(&w, "files");
    jw_open_as(&w, '[', true);
    for (i = 0; i < m->nfiles; i++) {
        jw_item(&w);
        file_json(&w, &m->files[i]);
    }
    jw_close(&w, ']');
    jw_key(&w, "format");
    jw_string(&w, MANIFEST_FORMAT);
    jw_key(&w, "format_version");
    jw_uint(&w, m->format_version);
    if (m->nlegacy) { /* only when the plan declares any: older readers know none */
        jw_key(&w, "legacy");
        jw_open(&w, '[');
        for (i = 0; i < m->nlegacy; i++) {
            const struct mf_legacy *g = &m->legacy[i];
            jw_item(&w);
            jw_open(&w, '{');
            if (g->column) {
                jw_key(&w, "column");
                jw_string(&w, g->column);
            }
            if (g->ncolumns) {
                jw_key(&w, "columns");
                jw_open(&w, '[');
                for (size_t k = 0; k < g->ncolumns; k++) {
                    jw_item(&w);
                    jw_string(&w, g->columns[k]);
                }
                jw_close(&w, ']');
            }
            jw_key(&w, "dialect");
            jw_string(&w, g->dialect);
            jw_key(&w, "kind");
            jw_string(&w, g->kind);
            jw_key(&w, "table");
            jw_string(&w, g->table);
            if (g->value) {
                jw_key(&w, "value");
                jw_string(&w, g->value);
            }
            jw_close(&w, '}');
        }
        jw_close(&w, ']');
    }
    jw_key(&w, "plan");
    jw_open(&w, '{');
    jw_key(&w, "description");
    jw_str_or_null(&w, m->plan_description);
    jw_key(&w, "name");
    jw_string(&w, m->plan_name);
    jw_key(&w, "source");
    jw_open(&w, '{');
    jw_key(&w, "file");
    jw_string(&w, m->source_file);
    jw_key(&w, "sha256");
    jw_string(&w, m->source_sha256);
    jw_close(&w, '}');
    jw_key(&w, "title");
    jw_str_or_null(&w, m->plan_title);
    jw_close(&w, '}');
    jw_key(&w, "sequence");
    jw_uint(&w, m->sequence);
    jw_key(&w, "steps");
    jw_open_as(&w, '[', true);
    for (i = 0; i < m->nsteps; i++) {
        jw_item(&w);
        step_json(&w, &m->steps[i]);
    }
    jw_close(&w, ']');
    jw_key(&w, "versions");
    jw_open_as(&w, '[', true);
    for (i = 0; i < m->nversions; i++) {
        jw_item(&w);
        jw_open(&w, '{');
        jw_key(&w, "from");
        jw_str_or_null(&w, m->versions[i].from);
        if (m->versions[i].merges) { /* only when there is one: older readers know no merges */
            jw_key(&w, "merges");
            jw_string(&w, m->versions[i].merges);
        }
        jw_key(&w, "name");
        jw_string(&w, m->versions[i].name);
        jw_close(&w, '}');
    }
    jw_close(&w, ']');
    jw_close(&w, '}');
    jw_put(&w, "\n", 1);
    if (w.failed) {
        free(w.buf);
        return rt_fail(err, "could not serialise the manifest (out of memory, or a string is not "
                            "valid UTF-8)");
    }
    w.buf[w.len] = '\0';
    *out = w.buf;
    *len = w.len;
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
static void at(struct reader *r, const char *fmt, ...)
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
            if (len == 0 || (len == 1 && seg[0] == '.') ||
                (len == 2 && seg[0] == '.' && seg[1] == '.'))
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

/* A step's units (absent: none), each checked: statements in order within the file. */
static void
read_units(struct reader *r, const json_t *j, const char *base, const char *key,
           unsigned nstatements, struct mf_unit **out, size_t *n)
{
    size_t i, count;
    unsigned last = 0;
    json_t *x;

    *out = NULL;
    *n = 0;
    if (!j || r->failed)
        return;
    at(r, "%s.%s", base, key);
    if (!json_is_array(j) || json_array_size(j) == 0) {
        bad(r, "expected an array of units (left out when there are none)");
        return;
    }
    count = json_array_size(j);
    if (!(*out = calloc(count, sizeof **out))) {
        bad(r, "out of memory");
        return;
    }
    *n = count;
    json_array_foreach(j, i, x)
    {
        struct mf_unit *u = &(*out)[i];
        at(r, "%s.%s[%zu]", base, key, i);
        if (!json_is_object(x)) {
            bad(r, "expected an object");
            return;
        }
        at(r, "%s.%s[%zu].kind", base, key, i);
        {
            const json_t *kind = json_object_get(x, "kind");
            const char *ks = json_string_value(kind);
            if (!kind || (ks && strcmp(ks, "alone") == 0))
                u->kind = MF_UNIT_ALONE;
            else if (ks && strcmp(ks, "batches") == 0)
                u->kind = MF_UNIT_BATCHES;
            else if (ks && strcmp(ks, "transaction") == 0)
                u->kind = MF_UNIT_TRANSACTION;
            else
                bad(r, "expected \"alone\", \"batches\" or \"transaction\"");
        }
        at(r, "%s.%s[%zu].statement", base, key, i);
        u->statement = (unsigned)get_uint(r, json_object_get(x, "statement"), 100000000u);
        if (!r->failed && (u->statement <= last || u->statement > nstatements))
            bad(r, "expected a statement of the file (1 to %u), after the unit before",
                nstatements);
        last = u->statement;
        if (u->kind == MF_UNIT_TRANSACTION) {
            if (!r->failed && (json_object_get(x, "pre") || json_object_get(x, "post") ||
                               json_object_get(x, "fix") || json_object_get(x, "fix_when")))
                bad(r, "a unit of kind \"transaction\" has no checks");
            continue;
        }
        at(r, "%s.%s[%zu].pre", base, key, i);
        u->pre = dup_str(r, json_object_get(x, "pre"), false);
        at(r, "%s.%s[%zu].post", base, key, i);
        u->post = dup_str(r, json_object_get(x, "post"), false);
        at(r, "%s.%s[%zu].fix_when", base, key, i);
        u->fix_when = dup_str(r, json_object_get(x, "fix_when"), true);
        at(r, "%s.%s[%zu].fix", base, key, i);
        u->fix = dup_str(r, json_object_get(x, "fix"), true);
        if (!r->failed && (!u->fix_when) != (!u->fix))
            bad(r, "a unit has a fix exactly when it has a fix_when");
    }
}

/* The up_units and down_units of a lowering, and its transactional flag checked against them. */
static void
read_lowering_units(struct reader *r, const json_t *x, const char *base, struct mf_dialect_step *d)
{
    read_units(r, json_object_get(x, "up_units"), base, "up_units", d->up_statements, &d->up_units,
               &d->nup_units);
    read_units(r, json_object_get(x, "down_units"), base, "down_units", d->down_statements,
               &d->down_units, &d->ndown_units);
    if (!r->failed && d->transactional == (d->nup_units || d->ndown_units)) {
        at(r, "%s.transactional", base);
        bad(r, "a step is transactional exactly when it has no units of their own");
    }
}

static void
free_units(struct mf_unit *u, size_t n)
{
    for (size_t i = 0; i < n && u; i++) {
        free(u[i].pre);
        free(u[i].post);
        free(u[i].fix_when);
        free(u[i].fix);
    }
    free(u);
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
        json_array_foreach(arr, k, x)
        {
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
        json_array_foreach(arr, k, x)
        {
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
        json_array_foreach(arr, k, x)
        {
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
    json_object_foreach(dia, dname, x)
    {
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
        d->down_statements =
            (unsigned)get_uint(r, json_object_get(x, "down_statements"), 100000000u);
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
        read_lowering_units(r, x, base, d);
        at(r, "%s.estimate", base);
        d->estimate = dup_str(r, json_object_get(x, "estimate"), true);
        at(r, "%s.offline", base);
        if (json_object_get(x, "offline")) {
            const json_t *o = json_object_get(x, "offline");
            struct mf_dialect_step *od = d->offline = calloc(1, sizeof *d->offline);
            if (!od) {
                bad(r, "out of memory");
                return;
            }
            if (!json_is_object(o)) {
                bad(r, "expected an object (the step's offline lowering)");
                return;
            }
            if (!r->failed && !d->estimate) {
                bad(r, "a step has an offline lowering exactly when it has an estimate");
                return;
            }
            snprintf(base, sizeof base, "steps[%zu].dialects.%.40s.offline", i, dname);
            snprintf(sub, sizeof sub, "%s.up", base);
            read_file_entry(r, json_object_get(o, "up"), &od->up, sub);
            at(r, "%s.down", base);
            if (!json_is_null(json_object_get(o, "down"))) {
                od->has_down = true;
                snprintf(sub, sizeof sub, "%s.down", base);
                read_file_entry(r, json_object_get(o, "down"), &od->down, sub);
            }
            if (!r->failed && od->has_down != d->has_down) {
                at(r, "%s.down", base);
                bad(r, "the offline lowering has a down file exactly when the step has");
            }
            at(r, "%s.up_statements", base);
            od->up_statements =
                (unsigned)get_uint(r, json_object_get(o, "up_statements"), 100000000u);
            at(r, "%s.down_statements", base);
            od->down_statements =
                (unsigned)get_uint(r, json_object_get(o, "down_statements"), 100000000u);
            at(r, "%s.transactional", base);
            od->transactional = get_bool(r, json_object_get(o, "transactional"));
            read_lowering_units(r, o, base, od);
        } else if (!r->failed && d->estimate) {
            bad(r, "a step with an estimate has an offline lowering");
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

    for (i = 0; i < m->nlegacy && m->legacy; i++) {
        struct mf_legacy *g = &m->legacy[i];
        free(g->dialect);
        free(g->table);
        free(g->column);
        free(g->kind);
        free(g->value);
        for (k = 0; k < g->ncolumns && g->columns; k++)
            free(g->columns[k]);
        free(g->columns);
    }
    free(m->legacy);

    free(m->compiler);
    free(m->channel);
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
        free(m->versions[i].merges);
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
            free_units(d->up_units, d->nup_units);
            free_units(d->down_units, d->ndown_units);
            free(d->estimate);
            if (d->offline) {
                free_file(&d->offline->up);
                free_file(&d->offline->down);
                free_units(d->offline->up_units, d->offline->nup_units);
                free_units(d->offline->down_units, d->offline->ndown_units);
                free(d->offline);
            }
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
    return strcmp((*(const struct mf_version *const *)a)->name,
                  (*(const struct mf_version *const *)b)->name);
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
        m->versions[i].merged = SIZE_MAX;
        m->versions[i].merge_step = SIZE_MAX;
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
        if (v->merges && !r->failed) {
            const struct mf_version *g = manifest_version(m, v->merges);
            size_t up;
            if (!g || (size_t)(g - m->versions) >= i || !v->from)
                bad(r, "version \"%.40s\" merges \"%.40s\", which is not listed before it", v->name,
                    v->merges);
            else
                v->merged = (size_t)(g - m->versions);
            /* a hotfix on a line that parts from `from`: `from` is one of the versions it follows */
            for (up = v->merged; !r->failed && up != SIZE_MAX && up != v->parent;)
                up = m->versions[up].parent;
            if (!r->failed && (up == SIZE_MAX || v->merged == v->parent))
                bad(r, "version \"%.40s\" merges \"%.40s\", which does not part from \"%.40s\"",
                    v->name, v->merges, v->from);
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
        else if (i < m->nversions) {
            /* the versions' own steps first, in the versions' order */
            if (v != &m->versions[i])
                bad(r, "step %zu leads to \"%.40s\", not to version %zu", i + 1, s->to, i + 1);
            else if ((s->from == NULL) != (v->from == NULL) ||
                     (s->from && strcmp(s->from, v->from)))
                bad(r, "the step to \"%.40s\" does not start where the version follows", v->name);
            else
                m->versions[i].step = i;
        } else if (!v->merges || !s->from || strcmp(s->from, v->merges) != 0) {
            /* then the derived steps of merges */
            bad(r,
                "the step from \"%.40s\" to \"%.40s\" is neither the version's own nor "
                "the step from the version it merges",
                s->from ? s->from : "empty", s->to);
        } else if (v->merge_step != SIZE_MAX) {
            bad(r, "a second step leads from \"%.40s\" to \"%.40s\"", s->from, s->to);
        } else {
            m->versions[v - m->versions].merge_step = i;
        }
    }
    for (i = 0; i < m->nversions && !r->failed; i++) {
        at(r, "versions[%zu]", i);
        if (m->versions[i].step == SIZE_MAX)
            bad(r, "version \"%.40s\" has no step", m->versions[i].name);
        else if (m->versions[i].merges && m->versions[i].merge_step == SIZE_MAX)
            bad(r, "version \"%.40s\" merges \"%.40s\" but no step leads from it",
                m->versions[i].name, m->versions[i].merges);
    }
    for (i = 0; i < m->nsteps && !r->failed; i++) {
        const struct mf_step *s = &m->steps[i];
        at(r, "steps[%zu]", i);
        if (s->ndialects != m->ndialects)
            bad(r, "the step has %zu dialects but the bundle %zu", s->ndialects, m->ndialects);
        for (k = 0; k < s->ndialects; k++) {
            const struct mf_dialect_step *d = &s->dialects[k];
            size_t dl = strlen(d->dialect);
            const struct mf_file *files[3] = {&d->up, d->has_down ? &d->down : NULL, &d->schema};
            for (size_t q = 0; q < 3; q++) {
                const char *path = files[q] ? files[q]->path : NULL;
                /* a step's files, up, down and schema, are in its dialect's folder */
                if (path && (strncmp(path, d->dialect, dl) != 0 || path[dl] != '/'))
                    bad(r, "the file \"%.60s\" is not in the folder of dialect \"%s\"", path,
                        d->dialect);
            }
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

/*
 * The manifest is read in its canonical layout (the writer's): the members
 * of the top-level object one a line, and the elements of "files", "steps"
 * and "versions" one a line. Each line is parsed on its own, so a manifest
 * of 10,000 steps never becomes one JSON tree of hundreds of megabytes: the
 * steps are read one at a time into the model. Anything else (another
 * layout, keys out of order or twice, a line that is not JSON) is refused.
 */
struct line {
    const char *p;
    size_t n;
};

/* The big arrays, read element by element. */
enum { ARR_FILES, ARR_STEPS, ARR_VERSIONS, ARR_COUNT };
static const char *const array_keys[ARR_COUNT] = {"files", "steps", "versions"};

struct layout {
    json_t *root;                  /* the other members, parsed */
    struct line *elems[ARR_COUNT]; /* the elements of the big arrays, as text */
    size_t nelems[ARR_COUNT];
    bool present[ARR_COUNT];
};

static void
layout_free(struct layout *l)
{
    json_decref(l->root);
    for (int k = 0; k < ARR_COUNT; k++)
        free(l->elems[k]);
}

/* The next line of [*pos, end) without its newline; false at the end. */
static bool
next_line(const char **pos, const char *end, struct line *out)
{
    const char *nl;

    if (*pos >= end)
        return false;
    nl = memchr(*pos, '\n', (size_t)(end - *pos));
    out->p = *pos;
    out->n = nl ? (size_t)(nl - *pos) : (size_t)(end - *pos);
    *pos = nl ? nl + 1 : end;
    return true;
}

static int
layout_fail(struct rt_error *err, size_t line, const char *what)
{
    return rt_fail(err, "the manifest is not in its canonical layout at line %zu: %s", line, what);
}

/* Splits the manifest into its members (see above). 0, or -1 with err. */
static int
read_layout(const char *bytes, size_t len, struct layout *l, struct rt_error *err)
{
    const char *pos = bytes, *end = bytes + len;
    struct line ln;
    size_t lineno = 1;
    char prev_key[64] = "";
    bool last = false;

    memset(l, 0, sizeof *l);
    if (memchr(bytes, '\0', len))
        return rt_fail(err, "the manifest contains a NUL byte");
    if (len == 0 || bytes[len - 1] != '\n')
        return layout_fail(err, 1, "it must end with a newline");
    if (!next_line(&pos, end, &ln) || ln.n != 1 || ln.p[0] != '{')
        return layout_fail(err, 1, "expected \"{\"");
    l->root = json_object();
    while (next_line(&pos, end, &ln)) {
        const char *colon, *rest;
        char key[64];
        size_t klen, rlen;
        int arr = -1, k;
        json_t *v;
        json_error_t jerr;
        lineno++;
        if (ln.n == 1 && ln.p[0] == '}') {
            if (pos != end)
                return layout_fail(err, lineno, "text after the closing \"}\"");
            if (!last)
                return layout_fail(err, lineno, "a comma after the last member");
            return 0;
        }
        if (last)
            return layout_fail(err, lineno, "a member after the last one (no comma before it)");
        if (ln.n < 6 || memcmp(ln.p, "  \"", 3) != 0 ||
            !(colon = memchr(ln.p + 3, '"', ln.n - 3)) || (size_t)(colon - ln.p) + 3 > ln.n ||
            memcmp(colon, "\": ", 3) != 0)
            return layout_fail(err, lineno, "expected a member, as   \"key\": value");
        klen = (size_t)(colon - (ln.p + 3));
        if (klen == 0 || klen >= sizeof key)
            return layout_fail(err, lineno, "a key that is empty or too long");
        memcpy(key, ln.p + 3, klen);
        key[klen] = '\0';
        if (strcmp(key, prev_key) <= 0)
            return layout_fail(err, lineno, "keys out of order, or a key twice");
        snprintf(prev_key, sizeof prev_key, "%s", key);
        rest = colon + 3;
        rlen = ln.n - (size_t)(rest - ln.p);
        for (k = 0; k < ARR_COUNT; k++)
            if (strcmp(key, array_keys[k]) == 0)
                arr = k;
        if (arr >= 0 && rlen == 1 && rest[0] == '[') {
            /* the elements, one a line, up to "  ]" */
            size_t cap = 0;
            bool closed = false, elem_last = false;
            l->present[arr] = true;
            while (next_line(&pos, end, &ln)) {
                lineno++;
                if ((ln.n == 3 || ln.n == 4) && memcmp(ln.p, "  ]", 3) == 0) {
                    if (ln.n == 4 && ln.p[3] != ',')
                        return layout_fail(err, lineno, "expected \"  ]\" or \"  ],\"");
                    last = ln.n == 3;
                    if (l->nelems[arr] == 0)
                        return layout_fail(err, lineno, "an empty array is written []");
                    if (!elem_last)
                        return layout_fail(err, lineno, "a comma after the last element");
                    closed = true;
                    break;
                }
                if (elem_last)
                    return layout_fail(err, lineno,
                                       "an element after the last one (no comma before it)");
                if (ln.n < 6 || memcmp(ln.p, "    ", 4) != 0 || ln.p[4] == ' ')
                    return layout_fail(err, lineno, "expected an element, indented by four spaces");
                if (l->nelems[arr] == cap) {
                    struct line *grown;
                    cap = cap ? cap * 2 : 256;
                    if (!(grown = realloc(l->elems[arr], cap * sizeof *grown)))
                        return rt_fail(err, "out of memory");
                    l->elems[arr] = grown;
                }
                l->elems[arr][l->nelems[arr]].p = ln.p + 4;
                l->elems[arr][l->nelems[arr]].n = ln.n - 4;
                if (ln.p[ln.n - 1] == ',')
                    l->elems[arr][l->nelems[arr]].n--;
                else
                    elem_last = true;
                l->nelems[arr]++;
            }
            if (!closed)
                return layout_fail(err, lineno, "the array does not end with \"  ]\"");
            continue;
        }
        if (rlen && rest[rlen - 1] == ',')
            rlen--;
        else
            last = true;
        v = json_loadb(rest, rlen, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
        if (!v)
            return rt_fail(err, "the manifest is not valid JSON at line %zu: %s", lineno,
                           jerr.text);
        if (arr >= 0) {
            /* an empty big array */
            if (!json_is_array(v) || json_array_size(v) != 0) {
                json_decref(v);
                return layout_fail(err, lineno, "a non-empty array must have one element a line");
            }
            l->present[arr] = true;
        }
        json_object_set_new(l->root, key, v);
    }
    return layout_fail(err, lineno, "the closing \"}\" is missing");
}

/* Parses element i of array k; a new reference, or NULL after bad(). */
static json_t *
element(struct reader *r, const struct layout *l, int k, size_t i)
{
    json_error_t jerr;
    json_t *j = json_loadb(l->elems[k][i].p, l->elems[k][i].n, JSON_REJECT_DUPLICATES, &jerr);

    if (!j)
        bad(r, "not valid JSON: %s", jerr.text);
    return j;
}

/* One step of the manifest, read from its line (par_for()'s function; see read_step()). */
struct steps_job {
    const struct layout *l;
    struct manifest *m;
};

static int
read_step_at(void *arg, size_t i, struct rt_error *err)
{
    struct steps_job *job = arg;
    struct reader r = {err, false, ""};
    json_t *x;

    at(&r, "steps[%zu]", i);
    if ((x = element(&r, job->l, ARR_STEPS, i))) {
        read_step(&r, x, &job->m->steps[i], i, job->m);
        json_decref(x);
    }
    return r.failed ? -1 : 0;
}

/* Whether the big array k is there (it is required). */
static bool
has_array(struct reader *r, const struct layout *l, int k)
{
    at(r, "%s", array_keys[k]);
    if (!l->present[k])
        bad(r, "expected an array");
    return l->present[k];
}

/* The refusal of a manifest of another format version than this uprun reads. */
static void
format_version_refused(struct reader *r, unsigned v)
{
    if (v < MANIFEST_FORMAT_VERSION)
        bad(r,
            "version %u of the format is older than this uprun reads (version %d, whose "
            "schema files patch the tables they change); rebuild the bundle with this release's upc, or use the "
            "uprun of the bundle's release",
            v, MANIFEST_FORMAT_VERSION);
    else
        bad(r,
            "version %u of the format is not known to this uprun (it reads version %d); "
            "use a uprun as recent as the upc that made the bundle",
            v, MANIFEST_FORMAT_VERSION);
}

/*
 * The format version of a manifest whose layout this reader does not know:
 * the value of the line '  "format_version": N,' (as every version writes
 * it, two spaces in) within its first 64 KiB; 0 when there is none.
 */
static unsigned
sniff_format_version(const char *bytes, size_t len)
{
    static const char key[] = "\n  \"format_version\": ";
    size_t n = len < 65536 ? len : 65536, k = sizeof key - 1, i;

    for (i = 0; i + k < n; i++)
        if (memcmp(bytes + i, key, k) == 0) {
            unsigned v = 0;
            size_t j = i + k;
            for (; j < n && bytes[j] >= '0' && bytes[j] <= '9' && v < 100000; j++)
                v = v * 10 + (unsigned)(bytes[j] - '0');
            return j < n && (bytes[j] == ',' || bytes[j] == '\n') ? v : 0;
        }
    return 0;
}

/* The optional "legacy" member: the plan's legacy forms (struct mf_legacy). */
static void
read_legacy(struct reader *r, const json_t *arr, struct manifest *m)
{
    static const char *const kinds[] = {"nullable", "default", "type", "no_foreign_key"};
    const json_t *x;
    size_t i, k;

    at(r, "legacy");
    if (!json_is_array(arr)) {
        bad(r, "expected an array");
        return;
    }
    m->nlegacy = json_array_size(arr);
    if (!(m->legacy = calloc(m->nlegacy + 1, sizeof *m->legacy))) {
        bad(r, "out of memory");
        return;
    }
    json_array_foreach(arr, i, x)
    {
        struct mf_legacy *g = &m->legacy[i];
        const json_t *cols = json_object_get(x, "columns");
        bool known = false;
        at(r, "legacy[%zu]", i);
        if (!json_is_object(x)) {
            bad(r, "expected an object");
            return;
        }
        g->dialect = dup_str(r, json_object_get(x, "dialect"), false);
        g->table = dup_str(r, json_object_get(x, "table"), false);
        g->kind = dup_str(r, json_object_get(x, "kind"), false);
        g->column = dup_str(r, json_object_get(x, "column"), true);
        g->value = dup_str(r, json_object_get(x, "value"), true);
        if (r->failed)
            return;
        for (k = 0; k < 4; k++)
            known = known || strcmp(g->kind, kinds[k]) == 0;
        if (!known)
            bad(r, "unknown kind \"%.40s\"", g->kind);
        else if ((strcmp(g->kind, "no_foreign_key") == 0) != (g->column == NULL) ||
                 ((strcmp(g->kind, "default") == 0 || strcmp(g->kind, "type") == 0) != !!g->value))
            bad(r, "a %s form with the wrong members", g->kind);
        else if (!g->column && (!json_is_array(cols) || json_array_size(cols) == 0))
            bad(r, "a no_foreign_key form needs its columns");
        if (r->failed)
            return;
        if (!g->column) {
            g->ncolumns = json_array_size(cols);
            if (!(g->columns = calloc(g->ncolumns + 1, sizeof *g->columns))) {
                bad(r, "out of memory");
                return;
            }
            for (k = 0; k < g->ncolumns && !r->failed; k++)
                g->columns[k] = dup_str(r, json_array_get(cols, k), false);
        }
    }
}

int
manifest_read(const char *bytes, size_t len, struct manifest *m, struct rt_error *err)
{
    struct reader r = {err, false, ""};
    struct layout l;
    json_t *root, *j, *x, *arr;
    size_t i;

    memset(m, 0, sizeof *m);
    if (read_layout(bytes, len, &l, err)) {
        /* a manifest of another format version has another layout: say that, not where its
         * layout differs */
        unsigned v = sniff_format_version(bytes, len);
        layout_free(&l);
        if (v && v != MANIFEST_FORMAT_VERSION) {
            at(&r, "format_version");
            format_version_refused(&r, v);
        }
        return -1;
    }
    root = l.root;
    at(&r, "format");
    j = json_object_get(root, "format");
    if (!json_is_string(j) || strcmp(json_string_value(j), MANIFEST_FORMAT) != 0)
        bad(&r, "expected \"%s\"", MANIFEST_FORMAT);
    at(&r, "format_version");
    m->format_version = (unsigned)get_uint(&r, json_object_get(root, "format_version"), 1000);
    if (!r.failed && m->format_version != MANIFEST_FORMAT_VERSION)
        format_version_refused(&r, m->format_version);
    at(&r, "compiler");
    m->compiler = dup_str(&r, json_object_get(root, "compiler"), false);
    at(&r, "created");
    j = json_object_get(root, "created");
    m->created = json_is_null(j) ? -1 : (long long)get_uint(&r, j, (1ULL << 62));
    at(&r, "channel");
    m->channel = dup_str(&r, json_object_get(root, "channel"), false);
    if (m->channel && !manifest_channel_ok(m->channel))
        bad(&r, "a channel is 1 to 64 letters, digits, '-', '_' and '.'");
    at(&r, "sequence");
    m->sequence = get_uint(&r, json_object_get(root, "sequence"), (1ULL << 62));
    if (!r.failed && m->sequence == 0)
        bad(&r, "a sequence starts at 1");
    at(&r, "expires");
    j = json_object_get(root, "expires");
    m->expires = json_is_null(j) ? -1 : (long long)get_uint(&r, j, (1ULL << 62));
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
        json_array_foreach(arr, i, x)
        {
            at(&r, "dialects[%zu]", i);
            m->dialects[i] = dup_str(&r, x, false);
            /* a name as the compiler's dialect table spells them; whether this uprun has a
             * driver for it is asked when it connects */
            if (m->dialects[i] && (!m->dialects[i][0] || strlen(m->dialects[i]) > 32 ||
                                   strspn(m->dialects[i], "abcdefghijklmnopqrstuvwxyz0123456789") !=
                                       strlen(m->dialects[i])))
                bad(&r, "\"%.40s\" is not a dialect name", m->dialects[i]);
        }
        if (m->ndialects == 0)
            bad(&r, "the bundle has no dialect");
    }
    if (has_array(&r, &l, ARR_VERSIONS)) {
        m->nversions = l.nelems[ARR_VERSIONS];
        m->versions = calloc(m->nversions + 1, sizeof *m->versions);
        for (i = 0; i < m->nversions && !r.failed; i++) {
            at(&r, "versions[%zu]", i);
            if (!(x = element(&r, &l, ARR_VERSIONS, i)))
                break;
            at(&r, "versions[%zu].name", i);
            m->versions[i].name = dup_str(&r, json_object_get(x, "name"), false);
            at(&r, "versions[%zu].from", i);
            m->versions[i].from = dup_str(&r, json_object_get(x, "from"), true);
            at(&r, "versions[%zu].merges", i);
            if (json_object_get(x, "merges"))
                m->versions[i].merges = dup_str(&r, json_object_get(x, "merges"), false);
            json_decref(x);
        }
    }
    if (!r.failed && has_array(&r, &l, ARR_STEPS)) {
        /* the steps, each on its own line, are read by a few threads at once */
        struct steps_job job = {&l, m};
        m->nsteps = l.nelems[ARR_STEPS];
        m->steps = calloc(m->nsteps + 1, sizeof *m->steps);
        if (!m->steps)
            bad(&r, "out of memory");
        else if (par_for(m->nsteps, 256, read_step_at, &job, err))
            r.failed = true;
    }
    if (has_array(&r, &l, ARR_FILES)) {
        m->nfiles = l.nelems[ARR_FILES];
        m->files = calloc(m->nfiles + 1, sizeof *m->files);
        for (i = 0; i < m->nfiles && !r.failed; i++) {
            char base[32];
            at(&r, "files[%zu]", i);
            if (!(x = element(&r, &l, ARR_FILES, i)))
                break;
            snprintf(base, sizeof base, "files[%zu]", i);
            read_file_entry(&r, x, &m->files[i], base);
            json_decref(x);
        }
    }
    if (!r.failed && (arr = json_object_get(root, "legacy")))
        read_legacy(&r, arr, m);
    if (!r.failed)
        check_consistency(&r, m);
    layout_free(&l);
    return r.failed ? -1 : 0;
}

bool
manifest_legacy_accepts(const struct manifest *m, const char *dialect,
                        const struct canon_drift *item)
{
    for (size_t i = 0; i < m->nlegacy; i++) {
        const struct mf_legacy *g = &m->legacy[i];
        if (strcmp(g->dialect, dialect) != 0 || !item->table || strcmp(g->table, item->table) != 0)
            continue;
        if (g->column) {
            const char *found = NULL;
            if (item->change != CANON_DIFFERS || strcmp(item->object, "column") != 0 ||
                !item->name || strcmp(item->name, g->column) != 0 || !item->field)
                continue;
            if (strcmp(g->kind, "nullable") == 0 && strcmp(item->field, "not_null") == 0 &&
                json_is_false(item->found))
                return true;
            if (strcmp(g->kind, "type") == 0 && strcmp(item->field, "type") == 0 &&
                (found = json_string_value(item->found)) && strcmp(found, g->value) == 0)
                return true;
            if (strcmp(g->kind, "default") == 0 && strcmp(item->field, "default") == 0) {
                json_t *v = json_loads(g->value, JSON_DECODE_ANY, NULL);
                bool same = v && item->found && json_equal(v, item->found);
                json_decref(v);
                if (same)
                    return true;
            }
        } else if (item->change == CANON_MISSING && strcmp(item->object, "foreign key") == 0 &&
                   item->expected) {
            const json_t *cols = json_object_get(item->expected, "columns");
            bool same = json_array_size(cols) == g->ncolumns;
            for (size_t k = 0; same && k < g->ncolumns; k++)
                same = json_is_string(json_array_get(cols, k)) &&
                       strcmp(json_string_value(json_array_get(cols, k)), g->columns[k]) == 0;
            if (same)
                return true;
        }
    }
    return false;
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

int
manifest_route(const struct manifest *m, const char *from, const char *to, size_t **steps,
               size_t *n)
{
    const struct mf_version *f = from ? manifest_version(m, from) : NULL;
    const struct mf_version *t = manifest_version(m, to);
    size_t nv = m->nversions, *dist, *next, i, at, k;

    *steps = NULL;
    *n = 0;
    if (!t || (from && !f))
        return -1;
    if (f == t)
        return (*steps = calloc(1, sizeof **steps)) ? 0 : (*n = SIZE_MAX, -1);
    dist = malloc((nv + 1) * sizeof *dist);
    next = malloc((nv + 1) * sizeof *next); /* the first step from each version, index nv: empty */
    if (!dist || !next) {
        free(dist);
        free(next);
        *n = SIZE_MAX;
        return -1;
    }
    for (i = 0; i <= nv; i++)
        dist[i] = next[i] = SIZE_MAX;
    dist[t - m->versions] = 0;
    /* every step leads to a later version than it starts from: in decreasing order, a
     * version's distance is final before the steps into it are relaxed */
    for (i = (size_t)(t - m->versions) + 1; i-- > 0;) {
        const struct mf_version *v = &m->versions[i];
        size_t into[2] = {v->step, v->merge_step}, start[2] = {v->parent, v->merged};
        if (dist[i] == SIZE_MAX)
            continue;
        for (k = 0; k < 2; k++) {
            size_t s = start[k] == SIZE_MAX ? nv : start[k];
            if (into[k] == SIZE_MAX || (k == 1 && start[k] == SIZE_MAX))
                continue;
            if (dist[i] + 1 < dist[s]) { /* ties keep the version's own step */
                dist[s] = dist[i] + 1;
                next[s] = into[k];
            }
        }
    }
    at = f ? (size_t)(f - m->versions) : nv;
    if (dist[at] == SIZE_MAX || !(*steps = malloc((dist[at] + 1) * sizeof **steps))) {
        *n = dist[at] == SIZE_MAX ? 0 : SIZE_MAX;
        free(dist);
        free(next);
        return -1;
    }
    while (at != (size_t)(t - m->versions)) {
        const struct mf_step *s = &m->steps[next[at]];
        (*steps)[(*n)++] = next[at];
        at = (size_t)(manifest_version(m, s->to) - m->versions);
    }
    free(dist);
    free(next);
    return 0;
}
