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

/* Writes len bytes to dir/path (mode 0644), creating the file; 0 or -1 with err. */
static int
write_file(const char *dir, const char *path, const char *data, size_t len, struct rt_error *err)
{
    char full[4096];
    int fd;

    snprintf(full, sizeof full, "%s/%s", dir, path);
    fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
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

/* The header comment of a step file, for a reader who runs it by hand. */
static void
step_header(struct strbuf *out, const struct plan *p, size_t index, const char *from,
            const char *to, bool down, enum dialect_id d, const struct step_sql *s)
{
    strbuf_printf(out, "-- upgrade-plan: plan \"%s\", step %zu, %s -> %s (%s), %s\n", p->name,
                  index, down ? to : from, down ? from : to, down ? "down" : "up",
                  dialect_name(d));
    if (d == DIALECT_POSTGRES)
        strbuf_puts(out, "-- Runs in one transaction: uprun does it, or psql -1 -v ON_ERROR_STOP=1 "
                         "-f FILE.\n");
    else if (s->fk_off)
        strbuf_puts(out, "-- Runs in one transaction, with PRAGMA foreign_keys = OFF before BEGIN "
                         "and ON after COMMIT:\n-- uprun does it, or see upc sql.\n");
    else
        strbuf_puts(out, "-- Runs in one transaction: uprun does it, or sqlite3 -bail with "
                         "BEGIN; ... COMMIT; around it.\n");
    if (down && s->lossy)
        strbuf_puts(out, "-- Lossy: the structure comes back, the data dropped by the step does "
                         "not.\n");
    if (s->nstatements == 0)
        strbuf_puts(out, "-- Nothing to do: the step changes no schema.\n");
    strbuf_putc(out, '\n');
}

static const char *
base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

/* One step of the manifest, its SQL and schema files written under tmp. */
static int
build_step(struct compilation *c, const struct build_opts *o, const char *tmp, size_t index,
           const struct plan_version *v, struct mf_step *ms, struct rt_error *err)
{
    const char *from = v->parent ? v->parent->name : "empty";
    struct lower_ctx lctx;
    size_t i, k, n = 0;

    memset(&lctx, 0, sizeof lctx);
    lctx.plan = &c->plan;
    lctx.origin_file = base_name(c->sources.files[c->file]->path);
    lctx.sources = &c->sources;
    ms->index = (unsigned)index;
    ms->from = xstrdup_or_null(v->parent ? v->parent->name : NULL);
    ms->to = xstrdup(v->name);
    for (i = 0; i < v->ast->stmts.len; i++) {
        const struct ast_stmt *s = v->ast->stmts.items[i];
        if (s->kind == STMT_NOTICE)
            ms->nnotices++;
        else if (s->kind == STMT_BREAKING)
            ms->nbreaking++;
    }
    ms->notices = xcalloc(ms->nnotices + 1, sizeof *ms->notices);
    ms->breaking = xcalloc(ms->nbreaking + 1, sizeof *ms->breaking);
    ms->nnotices = ms->nbreaking = 0;
    for (i = 0; i < v->ast->stmts.len; i++) {
        const struct ast_stmt *s = v->ast->stmts.items[i];
        if (s->kind == STMT_NOTICE) {
            ms->notices[ms->nnotices].level = xstrdup(s->level == NOTICE_WARNING ? "warning"
                                                                                 : "info");
            ms->notices[ms->nnotices++].text = xstrdup(s->text.text);
        } else if (s->kind == STMT_BREAKING) {
            ms->breaking[ms->nbreaking].id = xstrdup(s->id.text);
            ms->breaking[ms->nbreaking++].text = xstrdup(s->text.text);
        }
    }
    ms->findings = xcalloc(v->findings.len + 1, sizeof *ms->findings);
    for (i = 0; i < v->findings.len; i++) {
        const struct plan_finding *f = v->findings.items[i];
        if (f->dialect && !((o->dialects >> (f->dialect[0] == 'p' ? DIALECT_POSTGRES
                                                                   : DIALECT_SQLITE)) & 1u))
            continue; /* about a dialect this bundle leaves out */
        ms->findings[ms->nfindings].lint = xstrdup(f->lint);
        ms->findings[ms->nfindings].dialect = xstrdup_or_null(f->dialect);
        ms->findings[ms->nfindings++].message = xstrdup(f->message);
    }
    for (k = 0; k < c->plan.ndialects; k++)
        n += (o->dialects >> c->plan.dialect_order[k]) & 1u;
    ms->dialects = xcalloc(n + 1, sizeof *ms->dialects);
    for (k = 0; k < c->plan.ndialects; k++) {
        enum dialect_id d = c->plan.dialect_order[k];
        struct mf_dialect_step *md;
        struct step_sql up, down;
        struct strbuf text = STRBUF_INIT;
        char path[512];
        json_t *schema;
        char *sj;
        int rc = 0;

        if (!((o->dialects >> d) & 1u))
            continue;
        md = &ms->dialects[ms->ndialects++];
        md->dialect = xstrdup(dialect_name(d));
        lctx.dialect = d;
        lower_step(&lctx, v, false, &up);
        lower_step(&lctx, v, true, &down);
        md->transactional = true;
        md->foreign_keys_off = up.fk_off || down.fk_off;
        md->down_lossy = down.lossy;
        md->up_statements = (unsigned)up.nstatements;
        /* up */
        step_header(&text, &c->plan, index, from, v->name, false, d, &up);
        strbuf_append(&text, strbuf_str(&up.body), up.body.len);
        snprintf(path, sizeof path, "%s/%04zu-%s-to-%s.up.sql", dialect_name(d), index, from,
                 v->name);
        rc = write_file(tmp, path, strbuf_str(&text), text.len, err);
        file_entry(&md->up, path, strbuf_str(&text), text.len);
        /* down */
        if (rc == 0 && down.irreversible) {
            md->irreversible = xstrdup(down.irreversible_reason ? down.irreversible_reason : "");
        } else if (rc == 0) {
            strbuf_reset(&text);
            step_header(&text, &c->plan, index, from, v->name, true, d, &down);
            strbuf_append(&text, strbuf_str(&down.body), down.body.len);
            snprintf(path, sizeof path, "%s/%04zu-%s-to-%s.down.sql", dialect_name(d), index,
                     from, v->name);
            rc = write_file(tmp, path, strbuf_str(&text), text.len, err);
            file_entry(&md->down, path, strbuf_str(&text), text.len);
            md->has_down = true;
            md->down_statements = (unsigned)down.nstatements;
        }
        /* the schema after the step */
        if (rc == 0) {
            schema = expect_schema(v, d);
            sj = canon_dump(schema);
            json_decref(schema);
            strbuf_reset(&text);
            strbuf_puts(&text, sj ? sj : "");
            strbuf_putc(&text, '\n');
            free(sj);
            snprintf(path, sizeof path, "%s/%04zu-%s-to-%s.schema.json", dialect_name(d), index,
                     from, v->name);
            rc = write_file(tmp, path, strbuf_str(&text), text.len, err);
            file_entry(&md->schema, path, strbuf_str(&text), text.len);
        }
        strbuf_free(&text);
        strbuf_free(&up.body);
        strbuf_free(&down.body);
        if (rc)
            return rc;
    }
    return 0;
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

int
build_bundle(struct compilation *c, const struct build_opts *o, struct build_result *res,
             struct rt_error *err)
{
    struct manifest m;
    char tmp[4096], *man = NULL, *sig = NULL, *tc = NULL;
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    const struct source *src = c->sources.files[c->file];
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
    m.plan_name = xstrdup(c->plan.name);
    m.plan_title = xstrdup_or_null(c->plan.title);
    m.plan_description = xstrdup_or_null(c->plan.description);
    m.source_file = xstrdup(base_name(src->path));
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
    m.steps = xcalloc(m.nversions + 1, sizeof *m.steps);
    for (i = 0; i < c->plan.nversions; i++) {
        const struct plan_version *v = c->plan.versions[i];
        m.versions[i].name = xstrdup(v->name);
        m.versions[i].from = xstrdup_or_null(v->parent ? v->parent->name : NULL);
        if (build_step(c, o, tmp, i + 1, v, &m.steps[i], err))
            goto done;
        m.nsteps++;
    }
    m.files = xcalloc(o->nextra + 1, sizeof *m.files);
    for (i = 0; i < o->nextra; i++) {
        if (write_file(tmp, o->extra[i].path, o->extra[i].data, o->extra[i].len, err))
            goto done;
        file_entry(&m.files[m.nfiles++], o->extra[i].path, o->extra[i].data, o->extra[i].len);
    }
    if (manifest_write(&m, &man, &mlen, err) ||
        write_file(tmp, MANIFEST_FILE, man, mlen, err))
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
