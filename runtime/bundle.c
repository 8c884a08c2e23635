/* SPDX-License-Identifier: MIT */
/*
 * bundle.c: verifying a bundle (bundle.h). Files are opened relative to the
 * bundle's directory, one path component at a time with O_NOFOLLOW, so a
 * symbolic link anywhere is refused rather than followed; the directory is
 * then listed to refuse anything the manifest does not name.
 */
#include "runtime/bundle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* An I/O failure (the bundle could not be read, as opposed to refused): returns -2. */
static int
io_fail(struct rt_error *err, const char *fmt, const char *a, const char *b)
{
    rt_fail(err, fmt, a, b);
    return -2;
}

/*
 * Reads path (relative to dirfd) whole, refusing symbolic links, anything
 * but a regular file, and more than max bytes. Returns 0, -1 (refused: err),
 * or -2 (I/O: err).
 */
static int
read_in(int dirfd, const char *path, size_t max, unsigned char **data, size_t *len,
        struct rt_error *err)
{
    char comp[256];
    const char *p = path, *slash;
    int fd = dup(dirfd), next;
    struct stat st;
    unsigned char *buf;
    size_t got = 0;

    *data = NULL;
    if (fd < 0)
        return io_fail(err, "could not read the bundle%s: %s", "", strerror(errno));
    while ((slash = strchr(p, '/'))) {
        size_t n = (size_t)(slash - p);
        if (n >= sizeof comp) {
            close(fd);
            return rt_fail(err, "bundle path \"%s\" is too long", path);
        }
        memcpy(comp, p, n);
        comp[n] = '\0';
        next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(fd);
        if (next < 0) {
            if (errno == ELOOP || errno == ENOTDIR)
                return rt_fail(err, "bundle folder \"%s\" of \"%s\" is not a real folder (a "
                                    "symbolic link?)",
                               comp, path);
            return rt_fail(err, "bundle file \"%s\" is missing (%s)", path, strerror(errno));
        }
        fd = next;
        p = slash + 1;
    }
    next = openat(fd, p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    close(fd);
    if (next < 0) {
        if (errno == ELOOP)
            return rt_fail(err, "bundle file \"%s\" is a symbolic link", path);
        if (errno == ENOENT)
            return rt_fail(err, "bundle file \"%s\" is missing", path);
        return io_fail(err, "could not open bundle file \"%s\": %s", path, strerror(errno));
    }
    fd = next;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return rt_fail(err, "bundle file \"%s\" is not a regular file", path);
    }
    if ((unsigned long long)st.st_size > max) {
        close(fd);
        return rt_fail(err, "bundle file \"%s\" is larger (%lld bytes) than allowed (%zu)", path,
                       (long long)st.st_size, max);
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        return io_fail(err, "out of memory reading \"%s\"%s", path, "");
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n <= 0) {
            free(buf);
            close(fd);
            return io_fail(err, "could not read bundle file \"%s\"%s", path, "");
        }
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    *data = buf;
    *len = got;
    return 0;
}

/* The value of "key:value" among the tab-separated fields of a trusted comment, or NULL. */
static char *
comment_field(const char *tc, const char *key)
{
    size_t kl = strlen(key);
    const char *p = tc;

    while (p && *p) {
        const char *end = strchr(p, '\t');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > kl && strncmp(p, key, kl) == 0 && p[kl] == ':')
            return strndup(p + kl + 1, n - kl - 1);
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

static int
cmp_file(const void *a, const void *b)
{
    return strcmp(((const struct bundle_file *)a)->path, ((const struct bundle_file *)b)->path);
}

static bool
listed(const struct bundle *b, const char *path)
{
    return bundle_file(b, path) != NULL;
}

/* Every entry of the bundle must be the manifest, its signature, or a listed file. */
static int
check_extras(struct bundle *b, int dirfd, const char *sub, struct rt_error *err)
{
    int fd = sub ? openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                 : dup(dirfd);
    DIR *d;
    struct dirent *e;
    int rc = 0;

    if (fd < 0)
        return io_fail(err, "could not list the bundle folder \"%s\": %s", sub ? sub : ".",
                       strerror(errno));
    if (!(d = fdopendir(fd))) {
        close(fd);
        return io_fail(err, "could not list the bundle%s: %s", "", strerror(errno));
    }
    while (rc == 0 && (e = readdir(d))) {
        char path[600];
        struct stat st;
        size_t i;
        bool dialect_dir = false;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s%s%s", sub ? sub : "", sub ? "/" : "", e->d_name);
        if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            rc = rt_fail(err, "could not examine bundle entry \"%s\"", path);
            break;
        }
        if (S_ISLNK(st.st_mode)) {
            rc = rt_fail(err, "bundle entry \"%s\" is a symbolic link; a bundle holds only "
                              "regular files",
                         path);
            break;
        }
        if (!sub && (strcmp(e->d_name, MANIFEST_FILE) == 0 ||
                     strcmp(e->d_name, MANIFEST_SIG_FILE) == 0))
            continue;
        if (S_ISDIR(st.st_mode)) {
            for (i = 0; !sub && i < b->manifest.ndialects; i++)
                dialect_dir = dialect_dir || strcmp(b->manifest.dialects[i], e->d_name) == 0;
            if (!dialect_dir) {
                rc = rt_fail(err, "the bundle holds a folder the manifest does not account for: "
                                  "\"%s\"",
                             path);
                break;
            }
            rc = check_extras(b, dirfd, path, err);
            continue;
        }
        if (!listed(b, path))
            rc = rt_fail(err, "the bundle holds a file the manifest does not list: \"%s\"", path);
    }
    closedir(d);
    return rc;
}

static int
add_file(struct bundle *b, const char *path, const char *sha256, uint64_t size, int dirfd,
         struct rt_error *err)
{
    struct bundle_file *f = &b->files[b->nfiles];
    char got[65];
    int rc;

    rc = read_in(dirfd, path, (size_t)1 << 30, &f->data, &f->size, err);
    if (rc)
        return rc;
    f->path = path;
    b->nfiles++;
    b->bytes += f->size;
    if (f->size != size)
        return rt_fail(err, "bundle file \"%s\" has %zu bytes, but the manifest says %llu: it was "
                            "changed after the bundle was built",
                       path, f->size, (unsigned long long)size);
    sig_sha256_hex(f->data, f->size, got);
    if (sodium_memcmp(got, sha256, 64) != 0)
        return rt_fail(err, "bundle file \"%s\" does not match the manifest: its SHA-256 is %s, the "
                            "manifest says %s",
                       path, got, sha256);
    return 0;
}

static void
fail_hint(struct rt_error *err)
{
    if (!err->hint[0])
        snprintf(err->hint, sizeof err->hint,
                 "Do not use this bundle: get it again from its release, and check it with uprun "
                 "verify-bundle.");
}

static size_t
count_files(const struct manifest *m)
{
    size_t n = m->nfiles, i, k;

    for (i = 0; i < m->nsteps; i++)
        for (k = 0; k < m->steps[i].ndialects; k++)
            n += 2 + (m->steps[i].dialects[k].has_down ? 1 : 0);
    return n;
}

int
bundle_open(const char *dir, const struct sig_pubkey *key, struct bundle **out, struct rt_error *err)
{
    struct bundle *b = calloc(1, sizeof *b);
    unsigned char *man = NULL, *sig = NULL;
    size_t mlen = 0, slen = 0, i, k;
    char *plan = NULL, *version = NULL;
    int dirfd = -1, rc;

    *out = NULL;
    rt_error_clear(err);
    if (!b)
        return io_fail(err, "out of memory%s%s", "", "");
    dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        rc = -2;
        rt_fail(err, "could not open the bundle \"%s\": %s", dir, strerror(errno));
        goto done;
    }
    /* the envelope: bounded reads, nothing parsed yet */
    if ((rc = read_in(dirfd, MANIFEST_FILE, MANIFEST_MAX_BYTES, &man, &mlen, err)))
        goto done;
    if ((rc = read_in(dirfd, MANIFEST_SIG_FILE, SIG_MAX_FILE_BYTES, &sig, &slen, err))) {
        if (rc == -1 && strstr(err->message, "missing"))
            rt_fail(err, "the bundle is not signed: \"%s\" is missing", MANIFEST_SIG_FILE);
        goto done;
    }
    if ((rc = sig_verify(key, man, mlen, (const char *)sig, slen, &b->trusted_comment, err)))
        goto done;
    sig_sha256_hex(man, mlen, b->manifest_sha256);
    sig_key_id(key->keynum, b->key_id);
    /* only now is the manifest read */
    if ((rc = manifest_read((const char *)man, mlen, &b->manifest, err)))
        goto done;
    plan = comment_field(b->trusted_comment, "plan");
    version = comment_field(b->trusted_comment, "version");
    if (!plan || strcmp(plan, b->manifest.plan_name) != 0) {
        rc = rt_fail(err, "the signature's trusted comment names plan \"%s\", but the manifest "
                          "plan \"%s\"",
                     plan ? plan : "(none)", b->manifest.plan_name);
        goto done;
    }
    if (!version || b->manifest.nversions == 0 ||
        strcmp(version, b->manifest.versions[b->manifest.nversions - 1].name) != 0) {
        rc = rt_fail(err, "the signature's trusted comment names version \"%s\", which is not the "
                          "manifest's last version",
                     version ? version : "(none)");
        goto done;
    }
    b->files = calloc(count_files(&b->manifest) + 1, sizeof *b->files);
    if (!b->files) {
        rc = -2;
        rt_fail(err, "out of memory");
        goto done;
    }
    for (i = 0; i < b->manifest.nsteps; i++) {
        for (k = 0; k < b->manifest.steps[i].ndialects; k++) {
            const struct mf_dialect_step *d = &b->manifest.steps[i].dialects[k];
            if ((rc = add_file(b, d->up.path, d->up.sha256, d->up.size, dirfd, err)) ||
                (d->has_down &&
                 (rc = add_file(b, d->down.path, d->down.sha256, d->down.size, dirfd, err))) ||
                (rc = add_file(b, d->schema.path, d->schema.sha256, d->schema.size, dirfd, err)))
                goto done;
        }
    }
    for (i = 0; i < b->manifest.nfiles; i++)
        if ((rc = add_file(b, b->manifest.files[i].path, b->manifest.files[i].sha256,
                           b->manifest.files[i].size, dirfd, err)))
            goto done;
    qsort(b->files, b->nfiles, sizeof *b->files, cmp_file);
    if ((rc = check_extras(b, dirfd, NULL, err)))
        goto done;
    *out = b;
    b = NULL;
done:
    if (rc == -1)
        fail_hint(err);
    if (dirfd >= 0)
        close(dirfd);
    free(man);
    free(sig);
    free(plan);
    free(version);
    bundle_free(b);
    return rc;
}

int
bundle_open_unverified_for_fuzzing(const char *manifest, size_t len, struct bundle **out,
                                   struct rt_error *err)
{
    struct bundle *b = calloc(1, sizeof *b);

    *out = NULL;
    if (!b)
        return rt_fail(err, "out of memory");
    if (manifest_read(manifest, len, &b->manifest, err)) {
        bundle_free(b);
        return -1;
    }
    *out = b;
    return 0;
}

void
bundle_free(struct bundle *b)
{
    size_t i;

    if (!b)
        return;
    for (i = 0; i < b->nfiles; i++)
        free(b->files[i].data);
    free(b->files);
    free(b->trusted_comment);
    manifest_free(&b->manifest);
    free(b);
}

const struct bundle_file *
bundle_file(const struct bundle *b, const char *path)
{
    struct bundle_file key = {path, NULL, 0};

    return b->nfiles ? bsearch(&key, b->files, b->nfiles, sizeof *b->files, cmp_file) : NULL;
}
