/* SPDX-License-Identifier: MIT */
/*
 * build.c: writing a bundle (docs/bundle-format.md).
 *
 *     DIR/manifest.json            the manifest (runtime/manifest.c writes its bytes)
 *     DIR/manifest.json.minisig    its signature, when a key is given
 *     DIR/<dialect>/NNNN-<from>-to-<to>.up.sql     one per step and dialect
 *     DIR/<dialect>/NNNN-<from>-to-<to>.down.sql   unless the step is irreversible
 *     DIR/<dialect>/NNNN-<from>-to-<to>.schema.json  the canonical schema after the step
 *
 * Reproducible: everything written derives from the plan, the options and
 * the key; no clock (SOURCE_DATE_EPOCH, when set, is the only date), no
 * absolute path (origins name the plan's file name), no order that a hash
 * map decides. The bundle is written into a fresh folder next to DIR and
 * renamed into place, so a failed build leaves no half bundle behind.
 */
#include "compiler/build.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compiler/expect.h"
#include "compiler/lower.h"
#include "runtime/canon.h"
#include "runtime/manifest.h"
#include "runtime/sqlsplit.h"

/*
 * Writes len bytes to name in the folder dirfd (mode 0644), creating the
 * file; dir is the folder's path, for messages. 0 or -1 with err.
 */
static int
write_at(int dirfd, const char *dir, const char *name, const char *data, size_t len,
         struct rt_error *err)
{
    bool here = strcmp(dir, ".") == 0;
    char full[4096];
    int fd;

    if ((size_t)snprintf(full, sizeof full, "%s%s%s", here ? "" : dir, here ? "" : "/", name) >=
        sizeof full)
        return rt_fail(err, "the path of \"%s\" is too long", name);
    fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return rt_fail(err, "could not create \"%s\": %s", full, strerror(errno));
    if (write(fd, data, len) != (ssize_t)len) {
        int e = errno;
        close(fd);
        return rt_fail(err, "could not write \"%s\": %s", full, strerror(e));
    }
    if (close(fd) != 0)
        return rt_fail(err, "could not write \"%s\": %s", full, strerror(errno));
    return 0;
}

/* Writes len bytes to dir/path; 0 or -1 with err. */
static int
write_file(const char *dir, const char *path, const char *data, size_t len, struct rt_error *err)
{
    char full[4096];

    if ((size_t)snprintf(full, sizeof full, "%s/%s", dir, path) >= sizeof full)
        return rt_fail(err, "the path \"%s/%s\" is too long", dir, path);
    return write_at(AT_FDCWD, ".", full, data, len, err);
}

/* Removes a folder and what is in it, never following a symbolic link. */
static int
remove_tree(int parent, const char *name)
{
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d;
    struct dirent *e;
    int rc = 0;

    if (fd < 0)
        return unlinkat(parent, name, 0);
    if (!(d = fdopendir(fd))) {
        close(fd);
        return -1;
    }
    while ((e = readdir(d))) {
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            rc = -1;
        else if (S_ISDIR(st.st_mode))
            rc |= remove_tree(fd, e->d_name);
        else
            rc |= unlinkat(fd, e->d_name, 0);
    }
    closedir(d);
    return rc | unlinkat(parent, name, AT_REMOVEDIR);
}

/* Whether dir is missing, empty, or an earlier bundle (it has a manifest.json). */
static int
replaceable(const char *dir, bool *exists, struct rt_error *err)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    bool empty = true, bundle = false;
    struct stat st;

    *exists = false;
    if (!d) {
        if (errno == ENOENT)
            return 0;
        if (lstat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
            return rt_fail(err, "\"%s\" exists and is not a folder", dir);
        return rt_fail(err, "could not open \"%s\": %s", dir, strerror(errno));
    }
    *exists = true;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        empty = false;
        bundle = bundle || strcmp(e->d_name, MANIFEST_FILE) == 0;
    }
    closedir(d);
    if (!empty && !bundle)
        return rt_fail(err, "\"%s\" is not empty and holds no bundle: choose another folder", dir);
    return 0;
}

static char *
xstrdup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/* Fills an mf_file for data written at path. */
static void
file_entry(struct mf_file *f, const char *path, const char *data, size_t len)
{
    f->path = xstrdup(path);
    sig_sha256_hex((const unsigned char *)data, len, f->sha256);
    f->size = len;
}

/* The plan's legacy forms for the bundle's dialects, as the manifest lists them. */
static void
legacy_entries(const struct plan *p, unsigned dialects, struct manifest *m)
{
    static const char *const kinds[] = {"nullable", "default", "type", "no_foreign_key"};

    m->legacy = xcalloc(p->nlegacy + 1, sizeof *m->legacy);
    for (size_t i = 0; i < p->nlegacy; i++) {
        const struct plan_legacy *l = &p->legacy[i];
        struct mf_legacy *g;
        if (!((dialects >> l->dialect->id) & 1u))
            continue;
        g = &m->legacy[m->nlegacy++];
        g->dialect = xstrdup(l->dialect->name);
        g->table = xstrdup(l->table);
        g->column = xstrdup_or_null(l->column);
        g->kind = xstrdup(kinds[l->kind]);
        if (l->kind == PLAN_LEGACY_TYPE)
            g->value = xstrdup(l->declared);
        if (l->kind == PLAN_LEGACY_DEFAULT) {
            /* the default as the runtime reads it back (canon.h): a value, or an expression */
            struct strbuf b = STRBUF_INIT;
            if (l->dflt->kind == VAL_NULL) {
                strbuf_puts(&b, "null");
            } else if (l->dflt->kind == VAL_EXPR) {
                strbuf_puts(&b, "{\"expr\":");
                strbuf_json_string(&b, l->dflt->text);
                strbuf_putc(&b, '}');
            } else {
                strbuf_json_string(&b, l->dialect->default_text(l->dflt));
            }
            g->value = strbuf_detach(&b);
        }
        if (l->kind == PLAN_LEGACY_NO_FK) {
            g->ncolumns = l->ncols;
            g->columns = xcalloc(l->ncols + 1, sizeof *g->columns);
            for (size_t k = 0; k < l->ncols; k++)
                g->columns[k] = xstrdup(l->cols[k]);
        }
    }
}

/* The manifest's entry of a step, but its dialects (filled as compile_lower() emits them). */
static void
step_entry(const struct build_opts *o, const struct compilation *c, const struct plan_version *v,
           struct mf_step *ms)
{
    size_t i, k, n = 0;

    ms->index = (unsigned)(v->index + 1);
    ms->from = xstrdup_or_null(v->parent ? v->parent->name : NULL);
    ms->to = xstrdup(v->name);
    ms->notices = xcalloc(v->nnotices + 1, sizeof *ms->notices);
    for (i = 0; i < v->nnotices; i++) {
        ms->notices[i].level = xstrdup(v->notices[i].warning ? "warning" : "info");
        ms->notices[i].text = xstrdup(v->notices[i].text);
    }
    ms->nnotices = v->nnotices;
    ms->breaking = xcalloc(v->nbreaking + 1, sizeof *ms->breaking);
    for (i = 0; i < v->nbreaking; i++) {
        ms->breaking[i].id = xstrdup(v->breaking[i].id);
        ms->breaking[i].text = xstrdup(v->breaking[i].text);
    }
    ms->nbreaking = v->nbreaking;
    ms->findings = xcalloc(v->findings.len + 1, sizeof *ms->findings);
    for (i = 0; i < v->findings.len; i++) {
        const struct plan_finding *f = v->findings.items[i];
        if (f->dialect && !((o->dialects >> f->dialect->id) & 1u))
            continue; /* about a dialect this bundle leaves out */
        ms->findings[ms->nfindings].lint = xstrdup(f->lint);
        ms->findings[ms->nfindings].dialect = xstrdup_or_null(f->dialect ? f->dialect->name : NULL);
        ms->findings[ms->nfindings++].message = xstrdup(f->message);
    }
    for (k = 0; k < c->plan.ndialects; k++)
        n += (o->dialects >> c->plan.dialect_order[k]) & 1u;
    ms->dialects = xcalloc(n + 1, sizeof *ms->dialects);
}

struct step_writer {
    const char *tmp;
    int dirfd[DIALECT_COUNT]; /* each dialect's folder under tmp, opened once */
    struct manifest *m;
    struct rt_error *err;
};

/*
 * Writes text as the file `name` of a dialect's folder and fills the
 * manifest's entry for it (its path in the bundle). 0, or -1 with err.
 */
static int
put_file(const struct step_writer *w, const struct dialect *d, const char *name, const char *text,
         size_t len, struct mf_file *f)
{
    char dir[4096], path[512];
    int rc;

    if ((size_t)snprintf(dir, sizeof dir, "%s/%s", w->tmp, d->name) >= sizeof dir ||
        (size_t)snprintf(path, sizeof path, "%s/%s", d->name, name) >= sizeof path ||
        !manifest_path_ok(path))
        return rt_fail(w->err, "the path \"%.80s\" is not one a bundle may hold (too long?)", path);
    rc = write_at(w->dirfd[d->id], dir, name, text, len, w->err);
    file_entry(f, path, text, len);
    return rc;
}

/* The manifest's copy of a lowering's units (struct step_unit -> struct mf_unit), or NULL. */
static struct mf_unit *
copy_units(const struct step_sql *s, size_t *n)
{
    struct mf_unit *u;

    *n = s->nunits;
    if (!s->nunits)
        return NULL;
    u = xcalloc(s->nunits, sizeof *u);
    for (size_t i = 0; i < s->nunits; i++) {
        u[i].kind = s->units[i].kind == UNIT_BATCHES       ? MF_UNIT_BATCHES
                    : s->units[i].kind == UNIT_TRANSACTION ? MF_UNIT_TRANSACTION
                                                           : MF_UNIT_ALONE;
        u[i].statement = (unsigned)s->units[i].statement;
        u[i].pre = xstrdup_or_null(s->units[i].pre);
        u[i].post = xstrdup_or_null(s->units[i].post);
        u[i].fix_when = s->units[i].fix_when ? xstrdup(s->units[i].fix_when) : NULL;
        u[i].fix = s->units[i].fix ? xstrdup(s->units[i].fix) : NULL;
    }
    return u;
}

/* compile_lower()'s writer: one step's files for one dialect, and their manifest entry. */
static int
write_step(void *arg, const struct lowered_step *s)
{
    struct step_writer *w = arg;
    const struct plan_version *v = s->v;
    const char *from = v->parent ? v->parent->name : "empty", *name = s->dialect->name;
    struct mf_step *ms = &w->m->steps[v->index];
    struct mf_dialect_step *md = &ms->dialects[ms->ndialects++];
    char path[512], *delta;
    int rc;

    md->dialect = xstrdup(name);
    md->up_units = copy_units(&s->up_info, &md->nup_units);
    if (s->has_down)
        md->down_units = copy_units(&s->down_info, &md->ndown_units);
    md->transactional = !md->nup_units && !md->ndown_units;
    md->up_statements = (unsigned)s->up_info.nstatements;
    md->foreign_keys_off = s->up_info.fk_off || s->down_info.fk_off;
    md->down_lossy = s->down_info.lossy;
    snprintf(path, sizeof path, "%04zu-%s-to-%s.up.sql", s->index, from, v->name);
    if ((rc = put_file(w, s->dialect, path, strbuf_str(&s->up), s->up.len, &md->up)))
        return rc;
    if (s->has_down) {
        snprintf(path, sizeof path, "%04zu-%s-to-%s.down.sql", s->index, from, v->name);
        if ((rc = put_file(w, s->dialect, path, strbuf_str(&s->down), s->down.len, &md->down)))
            return rc;
        md->has_down = true;
        md->down_statements = (unsigned)s->down_info.nstatements;
    } else {
        md->irreversible =
            xstrdup(s->down_info.irreversible_reason ? s->down_info.irreversible_reason : "");
    }
    if (s->offline) {
        /* the step's other lowering, which uprun apply --online never (or auto, for a table
         * estimated small) runs instead */
        const struct lowered_step *o = s->offline;
        struct mf_dialect_step *od = md->offline = xcalloc(1, sizeof *md->offline);
        md->estimate = xstrdup(s->up_info.estimate ? s->up_info.estimate : s->down_info.estimate);
        od->up_units = copy_units(&o->up_info, &od->nup_units);
        if (o->has_down)
            od->down_units = copy_units(&o->down_info, &od->ndown_units);
        od->transactional = !od->nup_units && !od->ndown_units;
        od->up_statements = (unsigned)o->up_info.nstatements;
        snprintf(path, sizeof path, "%04zu-%s-to-%s.offline.up.sql", s->index, from, v->name);
        if ((rc = put_file(w, s->dialect, path, strbuf_str(&o->up), o->up.len, &od->up)))
            return rc;
        if (o->has_down) {
            snprintf(path, sizeof path, "%04zu-%s-to-%s.offline.down.sql", s->index, from, v->name);
            if ((rc = put_file(w, s->dialect, path, strbuf_str(&o->down), o->down.len, &od->down)))
                return rc;
            od->has_down = true;
            od->down_statements = (unsigned)o->down_info.nstatements;
        }
    }
    /* what the step changes in the expected schema */
    delta = expect_delta_text(v, s->dialect->id);
    snprintf(path, sizeof path, "%04zu-%s-to-%s.schema.json", s->index, from, v->name);
    rc = put_file(w, s->dialect, path, delta, strlen(delta), &md->schema);
    free(delta);
    return rc;
}

/* "plan:NAME\tversion:LAST\tfile:manifest.json\thashed", dated when SOURCE_DATE_EPOCH says. */
static char *
trusted_comment(const struct manifest *m)
{
    struct strbuf sb = STRBUF_INIT;

    if (m->created >= 0)
        strbuf_printf(&sb, "timestamp:%lld\t", m->created);
    strbuf_printf(&sb, "file:%s\tplan:%s\tversion:%s\thashed", MANIFEST_FILE, m->plan_name,
                  m->versions[m->nversions - 1].name);
    return strbuf_detach(&sb);
}

/* The statements digest (sqlsplit.h) of dir/path; false when it cannot be read. */
static bool
file_statements(const char *dir, const char *path, char out[65])
{
    char full[4200];
    size_t len;
    char *data;

    snprintf(full, sizeof full, "%s/%s", dir, path);
    if (!(data = read_file_whole(full, (size_t)1 << 30, &len)))
        return false;
    sql_statements_sha256((const unsigned char *)data, len, out);
    free(data);
    return true;
}

static const struct mf_step *
step_between(const struct manifest *m, const char *from, const char *to)
{
    for (size_t i = 0; i < m->nsteps; i++)
        if (((!from && !m->steps[i].from) ||
             (from && m->steps[i].from && strcmp(from, m->steps[i].from) == 0)) &&
            strcmp(to, m->steps[i].to) == 0)
            return &m->steps[i];
    return NULL;
}

/* What differs between the released step a and this bundle's b, into buf; NULL: nothing. */
static const char *
step_difference(const struct build_opts *o, const struct mf_step *a, const struct mf_step *b,
                const char *dir, char *buf, size_t size)
{
    for (size_t k = 0; k < a->ndialects; k++) {
        const struct mf_dialect_step *da = &a->dialects[k], *db = NULL;
        char sa[65], sb[65];
        for (size_t q = 0; q < b->ndialects; q++)
            if (strcmp(b->dialects[q].dialect, da->dialect) == 0)
                db = &b->dialects[q];
        if (!db) {
            snprintf(buf, size, "its %s scripts are gone", da->dialect);
            return buf;
        }
        if (!file_statements(o->previous_dir, da->up.path, sa) ||
            !file_statements(dir, db->up.path, sb)) {
            snprintf(buf, size, "its %s up-step could not be read (%s)", da->dialect, da->up.path);
            return buf;
        }
        if (strcmp(sa, sb) != 0) {
            snprintf(buf, size, "its %s up-step runs other statements (%s)", da->dialect,
                     db->up.path);
            return buf;
        }
        if (da->has_down != db->has_down) {
            snprintf(buf, size, "its %s down-step %s", da->dialect,
                     da->has_down ? "is gone" : "is new");
            return buf;
        }
        if (da->has_down && (!file_statements(o->previous_dir, da->down.path, sa) ||
                             !file_statements(dir, db->down.path, sb) || strcmp(sa, sb) != 0)) {
            snprintf(buf, size, "its %s down-step runs other statements (%s)", da->dialect,
                     db->down.path);
            return buf;
        }
        if (strcmp(da->schema.sha256, db->schema.sha256) != 0) {
            snprintf(buf, size, "what it does to the %s schema changed (%s)", da->dialect,
                     db->schema.path);
            return buf;
        }
    }
    if (a->nnotices != b->nnotices)
        return "its notices changed";
    for (size_t k = 0; k < a->nnotices; k++)
        if (strcmp(a->notices[k].text, b->notices[k].text) != 0 ||
            strcmp(a->notices[k].level, b->notices[k].level) != 0)
            return "its notices changed";
    if (a->nbreaking != b->nbreaking)
        return "its breaking changes changed";
    for (size_t k = 0; k < a->nbreaking; k++)
        if (strcmp(a->breaking[k].id, b->breaking[k].id) != 0 ||
            strcmp(a->breaking[k].text, b->breaking[k].text) != 0)
            return "its breaking changes changed";
    return NULL;
}

/*
 * --previous: every step of the previous release must be in this bundle,
 * the same: its statements up and down (their digest: comments may differ),
 * what it does to the expected schema, its notices and breaking changes.
 * Versions after it are new and free. -1 with err naming the first
 * difference.
 */
/* "plan.upg:12:3: " where version `name` of the plan starts (its first statement), or "". */
static const char *
version_at(const struct compilation *c, const char *name, char *buf, size_t size)
{
    buf[0] = '\0';
    for (size_t i = 0; i < c->plan.nversions; i++) {
        const struct plan_version *v = c->plan.versions[i];
        const struct source *src;
        if (strcmp(v->name, name) != 0 || !v->ir || !v->ir->nops)
            continue;
        if ((src = source_get(&c->sources, v->ir->ops[0]->span.file)))
            snprintf(buf, size, "%s:%zu:%zu: ", compilation_file_name(c),
                     source_line_of(src, v->ir->ops[0]->span.start),
                     source_col_of(src, v->ir->ops[0]->span.start));
    }
    return buf;
}

static int
check_previous(const struct compilation *c, const struct build_opts *o, const struct manifest *m,
               const char *dir, struct rt_error *err)
{
    const struct manifest *p = o->previous;
    char buf[512], at[300];

    for (size_t i = 0; i < p->nsteps; i++) {
        const struct mf_step *a = &p->steps[i], *b = step_between(m, a->from, a->to);
        const char *what;
        if (!b) {
            rt_fail(err,
                    "version %s was released (the previous bundle, sequence %llu of channel "
                    "%s, has the step %s -> %s), and this plan has no such step",
                    a->to, p->sequence, p->channel, a->from ? a->from : "empty", a->to);
            goto hint;
        }
        if ((what = step_difference(o, a, b, dir, buf, sizeof buf))) {
            rt_fail(err,
                    "%sversion %s was released (the previous bundle, sequence %llu of "
                    "channel %s) and is edited here: the step %s -> %s: %s",
                    version_at(c, a->to, at, sizeof at), a->to, p->sequence, p->channel,
                    a->from ? a->from : "empty", a->to, what);
            goto hint;
        }
    }
    return 0;
hint:
    snprintf(err->hint, sizeof err->hint,
             "Databases at that version already ran what was released: put the released version "
             "back as it was, and make the change in a new version after it.");
    return -1;
}

int
build_bundle(struct compilation *c, const struct build_opts *o, struct build_result *res,
             struct rt_error *err)
{
    struct manifest m;
    char tmp[4096], *man = NULL, *sig = NULL, *tc = NULL;
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    const struct source *src = c->sources.files[c->file]; /* hashed into the manifest */
    size_t mlen = 0, i, k;
    bool exists;
    int rc = -1;

    memset(&m, 0, sizeof m);
    memset(res, 0, sizeof *res);
    if (replaceable(o->out_dir, &exists, err))
        return -1;
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", o->out_dir, (long)getpid());
    remove_tree(AT_FDCWD, tmp);
    if (mkdir(tmp, 0755) != 0)
        return rt_fail(err, "could not create \"%s\": %s", tmp, strerror(errno));
    m.format_version = MANIFEST_FORMAT_VERSION;
    m.compiler = xstrdup("upc " UPG_VERSION);
    m.created = -1;
    if (sde && *sde) {
        char *end;
        long long v = strtoll(sde, &end, 10);
        if (*end || v < 0) {
            rt_fail(err, "SOURCE_DATE_EPOCH must be a number of seconds, not \"%s\"", sde);
            goto done;
        }
        m.created = v;
    }
    m.channel = xstrdup(o->channel ? o->channel : "stable");
    m.sequence = o->sequence ? o->sequence : 1;
    m.expires = o->expires;
    m.plan_name = xstrdup(c->plan.name);
    m.plan_title = xstrdup_or_null(c->plan.title);
    m.plan_description = xstrdup_or_null(c->plan.description);
    m.source_file = xstrdup(compilation_file_name(c));
    sig_sha256_hex((const unsigned char *)src->text, src->len, m.source_sha256);
    m.dialects = xcalloc(DIALECT_COUNT + 1, sizeof *m.dialects);
    for (k = 0; k < c->plan.ndialects; k++) {
        enum dialect_id d = c->plan.dialect_order[k];
        char dir[4200];
        if (!((o->dialects >> d) & 1u))
            continue;
        m.dialects[m.ndialects++] = xstrdup(dialect_name(d));
        snprintf(dir, sizeof dir, "%s/%s", tmp, dialect_name(d));
        if (mkdir(dir, 0755) != 0) {
            rt_fail(err, "could not create \"%s\": %s", dir, strerror(errno));
            goto done;
        }
    }
    m.nversions = c->plan.nversions;
    m.versions = xcalloc(m.nversions + 1, sizeof *m.versions);
    m.steps = xcalloc(m.nversions + c->plan.nderived + 1, sizeof *m.steps);
    for (i = 0; i < c->plan.nversions; i++) {
        const struct plan_version *v = c->plan.versions[i];
        m.versions[i].name = xstrdup(v->name);
        m.versions[i].from = xstrdup_or_null(v->parent ? v->parent->name : NULL);
        m.versions[i].merges = xstrdup_or_null(v->merged ? v->merged->name : NULL);
        step_entry(o, c, v, &m.steps[i]);
        m.nsteps++;
    }
    /* the derived steps of merges, numbered after the versions' own */
    for (i = 0; i < c->plan.nderived; i++) {
        step_entry(o, c, c->plan.derived[i], &m.steps[m.nsteps]);
        m.nsteps++;
    }
    {
        /* the lower pass, each step's scripts written as they come */
        struct step_writer w = {tmp, {0}, &m, err};
        bool failed = false;
        for (k = 0; k < DIALECT_COUNT; k++) {
            char dir[4200];
            bool want = (o->dialects >> k) & 1u;
            snprintf(dir, sizeof dir, "%s/%s", tmp, dialect_name((enum dialect_id)k));
            w.dirfd[k] = want ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
            if (want && w.dirfd[k] < 0 && !failed) {
                rt_fail(err, "could not open \"%s\": %s", dir, strerror(errno));
                failed = true;
            }
        }
        failed = failed || compile_lower(c, c->plan.versions, c->plan.nversions, o->dialects,
                                         LOWER_UP | LOWER_DOWN | LOWER_OFFLINE, FRAME_BUNDLE,
                                         write_step, &w) != 0;
        failed = failed || compile_lower(c, c->plan.derived, c->plan.nderived, o->dialects,
                                         LOWER_UP | LOWER_DOWN | LOWER_OFFLINE, FRAME_BUNDLE,
                                         write_step, &w) != 0;
        for (k = 0; k < DIALECT_COUNT; k++)
            if (w.dirfd[k] >= 0)
                close(w.dirfd[k]);
        if (failed)
            goto done;
    }
    if (o->previous && check_previous(c, o, &m, tmp, err)) {
        res->previous_differs = true;
        goto done;
    }
    legacy_entries(&c->plan, o->dialects, &m);
    m.files = xcalloc(o->nextra + 1, sizeof *m.files);
    for (i = 0; i < o->nextra; i++) {
        if (write_file(tmp, o->extra[i].path, o->extra[i].data, o->extra[i].len, err))
            goto done;
        file_entry(&m.files[m.nfiles++], o->extra[i].path, o->extra[i].data, o->extra[i].len);
    }
    if (manifest_write(&m, &man, &mlen, err) || write_file(tmp, MANIFEST_FILE, man, mlen, err))
        goto done;
    if (o->key) {
        struct sig_pubkey pub;
        tc = trusted_comment(&m);
        if (sig_sign(o->key, (const unsigned char *)man, mlen, tc, &sig, err))
            goto done;
        /* verify what was just signed before anyone else relies on it (minisign's sign()) */
        sig_seckey_pubkey(o->key, &pub);
        if (sig_verify(&pub, (const unsigned char *)man, mlen, sig, strlen(sig), NULL, err)) {
            rt_fail(err, "internal error: the new signature does not verify (%s)", err->message);
            goto done;
        }
        if (write_file(tmp, MANIFEST_SIG_FILE, sig, strlen(sig), err))
            goto done;
        sig_key_id(o->key->keynum, res->key_id);
        res->signed_ = true;
    }
    /* into place */
    if (exists && remove_tree(AT_FDCWD, o->out_dir) != 0) {
        rt_fail(err, "could not remove the earlier bundle in \"%s\": %s", o->out_dir,
                strerror(errno));
        goto done;
    }
    if (rename(tmp, o->out_dir) != 0) {
        rt_fail(err, "could not move the bundle to \"%s\": %s", o->out_dir, strerror(errno));
        goto done;
    }
    res->nsteps = m.nsteps;
    res->ndialects = m.ndialects;
    rc = 0;
done:
    if (rc)
        remove_tree(AT_FDCWD, tmp);
    free(man);
    free(sig);
    free(tc);
    manifest_free(&m);
    return rc;
}
