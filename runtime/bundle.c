/* SPDX-License-Identifier: MIT */
/*
 * bundle.c: verifying a bundle (bundle.h). Files are opened relative to the
 * bundle's directory, one path component at a time with O_NOFOLLOW, so a
 * symbolic link anywhere is refused rather than followed; the directory is
 * then listed to refuse anything the manifest does not name. Files are
 * hashed as they are read, a buffer at a time.
 */
#define _DEFAULT_SOURCE /* DT_REG and friends of struct dirent */
#include "runtime/bundle.h"

#include <dirent.h>
#include <stdatomic.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/par.h"

/* An I/O failure (the bundle could not be read, as opposed to refused): returns -2. */
static int
io_fail(struct rt_error *err, const char *fmt, const char *a, const char *b)
{
    rt_fail(err, fmt, a, b);
    return -2;
}

/*
 * Opens path (relative to dirfd) for reading, one component at a time,
 * refusing symbolic links, anything but a regular file, and more than max
 * bytes. Returns 0 with *fd and *size, -1 (refused: err), or -2 (I/O: err).
 */
static int
open_in(int dirfd, const char *path, size_t max, int *out, size_t *size, struct rt_error *err)
{
    char comp[256];
    const char *p = path, *slash;
    int fd = dup(dirfd), next;
    struct stat st;

    *out = -1;
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
                return rt_fail(err,
                               "bundle folder \"%s\" of \"%s\" is not a real folder (a "
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
    *out = fd;
    *size = (size_t)st.st_size;
    return 0;
}

/*
 * Reads path whole (open_in()'s checks), and hashes what it read when sha256
 * is not NULL. With keep false the bytes are only hashed, a buffer at a time,
 * and *data is NULL. Returns 0, -1 (refused: err), or -2 (I/O: err).
 */
/*
 * The fd to open path's last component from, and that component: a folder
 * of the bundle is opened once (without following a link) and kept, so that
 * reading 60,000 files does not open their folder 60,000 times.
 */
static int
folder_of(struct bundle *b, const char **path)
{
    const char *slash = strchr(*path, '/');
    size_t n, i;
    int fd;

    if (!b || !slash || strchr(slash + 1, '/'))
        return -1;
    if (b->sealed) {
        /* shared by the verifying threads: only lookups now */
        n = (size_t)(slash - *path);
        for (i = 0; i < b->nfolders; i++)
            if (strlen(b->folders[i].name) == n && memcmp(b->folders[i].name, *path, n) == 0) {
                *path = slash + 1;
                return b->folders[i].fd;
            }
        return -1;
    }
    n = (size_t)(slash - *path);
    for (i = 0; i < b->nfolders; i++)
        if (strlen(b->folders[i].name) == n && memcmp(b->folders[i].name, *path, n) == 0)
            break;
    if (i == b->nfolders) {
        char name[64];
        if (n >= sizeof name || b->nfolders == sizeof b->folders / sizeof b->folders[0])
            return -1;
        memcpy(name, *path, n);
        name[n] = '\0';
        fd = openat(b->dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return -1; /* the general path reports why */
        memcpy(b->folders[i].name, name, n + 1);
        b->folders[i].fd = fd;
        b->nfolders++;
    }
    *path = slash + 1;
    return b->folders[i].fd;
}

static int
read_file(int dirfd, const char *path, size_t max, bool keep, unsigned char **data, size_t *len,
          char sha256[65], struct rt_error *err)
{
    unsigned char chunk[65536], h[crypto_hash_sha256_BYTES], *buf = NULL;
    crypto_hash_sha256_state hs;
    size_t size = 0, got = 0;
    int fd, rc;

    *data = NULL;
    *len = 0;
    if ((rc = open_in(dirfd, path, max, &fd, &size, err)))
        return rc;
    if (keep && !(buf = malloc(size + 1))) {
        close(fd);
        return io_fail(err, "out of memory reading \"%s\"%s", path, "");
    }
    /* the size fstat() gave: a file that changes meanwhile fails its digest (or its size) */
    crypto_hash_sha256_init(&hs);
    while (got < size) {
        unsigned char *at = keep ? buf + got : chunk;
        size_t want = keep ? size - got : (size - got < sizeof chunk ? size - got : sizeof chunk);
        ssize_t n = read(fd, at, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            free(buf);
            close(fd);
            return io_fail(err, "could not read bundle file \"%s\"%s", path, "");
        }
        if (n == 0)
            break; /* it shrank: the size check says so */
        crypto_hash_sha256_update(&hs, at, (size_t)n);
        got += (size_t)n;
    }
    close(fd);
    crypto_hash_sha256_final(&hs, h);
    if (sha256)
        sodium_bin2hex(sha256, 65, h, sizeof h);
    if (buf)
        buf[got] = '\0';
    *data = buf;
    *len = got;
    return 0;
}

/* Reads a small file whole (the envelope). */
static int
read_in(int dirfd, const char *path, size_t max, unsigned char **data, size_t *len,
        struct rt_error *err)
{
    return read_file(dirfd, path, max, true, data, len, NULL, err);
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
    int fd = sub ? openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : dup(dirfd);
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
        /* the entry's type as the listing gives it; asked for only when it does not */
        memset(&st, 0, sizeof st);
        if (e->d_type == DT_REG)
            st.st_mode = S_IFREG;
        else if (e->d_type == DT_DIR)
            st.st_mode = S_IFDIR;
        else if (e->d_type == DT_LNK)
            st.st_mode = S_IFLNK;
        else if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            rc = rt_fail(err, "could not examine bundle entry \"%s\"", path);
            break;
        }
        if (S_ISLNK(st.st_mode)) {
            rc = rt_fail(err,
                         "bundle entry \"%s\" is a symbolic link; a bundle holds only "
                         "regular files",
                         path);
            break;
        }
        if (!sub &&
            (strcmp(e->d_name, MANIFEST_FILE) == 0 || strcmp(e->d_name, MANIFEST_SIG_FILE) == 0))
            continue;
        if (S_ISDIR(st.st_mode)) {
            for (i = 0; !sub && i < b->manifest.ndialects; i++)
                dialect_dir = dialect_dir || strcmp(b->manifest.dialects[i], e->d_name) == 0;
            if (!dialect_dir) {
                rc = rt_fail(err,
                             "the bundle holds a folder the manifest does not account for: "
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

/* The largest file a bundle may list. */
#define BUNDLE_MAX_FILE_BYTES ((size_t)1 << 30)

/* Checks that the bytes read have the manifest's size and digest. */
static int
check_digest(const char *path, size_t got_size, const char *got, uint64_t size, const char *sha256,
             const char *when, struct rt_error *err)
{
    if (got_size != size)
        return rt_fail(err,
                       "bundle file \"%s\" has %zu bytes, but the manifest says %llu: it was "
                       "changed %s",
                       path, got_size, (unsigned long long)size, when);
    if (sodium_memcmp(got, sha256, 64) != 0)
        return rt_fail(err,
                       "bundle file \"%s\" does not match the manifest: its SHA-256 is %s, the "
                       "manifest says %s (changed %s)",
                       path, got, sha256, when);
    return 0;
}

/* Reads a file of the bundle, through its folder's kept fd when it has one. */
static int
read_listed(struct bundle *b, const char *path, bool keep, unsigned char **data, size_t *len,
            char sha256[65], struct rt_error *err)
{
    const char *last = path;
    int fd = folder_of(b, &last);
    int rc;

    if (fd < 0)
        return read_file(b->dirfd, path, BUNDLE_MAX_FILE_BYTES, keep, data, len, sha256, err);
    rc = read_file(fd, last, BUNDLE_MAX_FILE_BYTES, keep, data, len, sha256, err);
    if (rc && strstr(err->message, "\"") && !strstr(err->message, path)) {
        /* name the file by its bundle path, not by its name in its folder */
        char msg[sizeof err->message];
        const char *at = strstr(err->message, last);
        if (at) {
            snprintf(msg, sizeof msg, "%.*s%s%s", (int)(at - err->message), err->message, path,
                     at + strlen(last));
            snprintf(err->message, sizeof err->message, "%s", msg);
        }
    }
    return rc;
}

/* Lists a file of the manifest (verified later, by verify_files()). */
static void
add_file(struct bundle *b, const struct mf_file *f)
{
    b->files[b->nfiles].path = f->path;
    b->files[b->nfiles].sha256 = f->sha256;
    b->files[b->nfiles].size = (size_t)f->size;
    b->nfiles++;
}

/* Verifies file i; 0, or -1/-2 with err. */
static int
verify_one(struct bundle *b, size_t i, size_t *bytes, struct rt_error *err)
{
    const struct bundle_file *f = &b->files[i];
    unsigned char *none;
    size_t got;
    char digest[65];
    int rc = read_listed(b, f->path, false, &none, &got, digest, err);

    if (rc)
        return rc;
    *bytes += got;
    return check_digest(f->path, got, digest, f->size, f->sha256, "after the bundle was built",
                        err);
}

/* The files are verified by a few threads at once (hashing is what a big bundle's verification
 * spends its time on); the first failure in the manifest's order is the one reported. */
struct verify_job {
    struct bundle *b;
    atomic_size_t bytes;
};

static int
verify_at(void *arg, size_t i, struct rt_error *err)
{
    struct verify_job *job = arg;
    size_t bytes = 0;
    int rc = verify_one(job->b, i, &bytes, err);

    atomic_fetch_add(&job->bytes, bytes);
    return rc;
}

static int
verify_files(struct bundle *b, struct rt_error *err)
{
    struct verify_job job;
    int rc;

    job.b = b;
    atomic_init(&job.bytes, 0);
    rc = par_for(b->nfiles, 64, verify_at, &job, err);
    b->bytes = atomic_load(&job.bytes);
    return rc;
}

int
bundle_read(struct bundle *b, const char *path, unsigned char **data, size_t *size,
            struct rt_error *err)
{
    const struct bundle_file *f = bundle_file(b, path);
    char digest[65];
    int rc;

    *data = NULL;
    *size = 0;
    if (!f)
        return rt_fail(err, "the bundle lists no file \"%s\"", path);
    if (b->dirfd < 0)
        return rt_fail(err, "the bundle's folder is not open (a fuzzing bundle)");
    rc = read_listed(b, path, true, data, size, digest, err);
    if (rc == 0 && (rc = check_digest(path, *size, digest, f->size, f->sha256,
                                      "after uprun verified the bundle", err))) {
        free(*data);
        *data = NULL;
        *size = 0;
    }
    if (rc == -1)
        snprintf(err->hint, sizeof err->hint,
                 "Someone changed the bundle while uprun was running: nothing of that file ran. "
                 "Get the bundle again from its release and run uprun again.");
    return rc;
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
        for (k = 0; k < m->steps[i].ndialects; k++) {
            const struct mf_dialect_step *d = &m->steps[i].dialects[k];
            n += 2 + (d->has_down ? 1 : 0) + (d->offline ? 1 + (d->offline->has_down ? 1 : 0) : 0);
        }
    return n;
}

int
bundle_open(const char *dir, const struct sig_keyring *keys, struct bundle **out,
            struct rt_error *err)
{
    struct bundle *b = calloc(1, sizeof *b);
    unsigned char *man = NULL, *sig = NULL;
    size_t mlen = 0, slen = 0, i, k, used = 0;
    char *plan = NULL, *version = NULL;
    int dirfd = -1, rc;

    *out = NULL;
    rt_error_clear(err);
    if (!b)
        return io_fail(err, "out of memory%s%s", "", "");
    b->dirfd = -1;
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
    if ((rc = sig_verify_ring(keys, man, mlen, (const char *)sig, slen, &b->trusted_comment, &used,
                              err)))
        goto done;
    sig_sha256_hex(man, mlen, b->manifest_sha256);
    sig_key_id(keys->keys[used].keynum, b->key_id);
    /* only now is the manifest read */
    if ((rc = manifest_read((const char *)man, mlen, &b->manifest, err)))
        goto done;
    plan = comment_field(b->trusted_comment, "plan");
    version = comment_field(b->trusted_comment, "version");
    if (!plan || strcmp(plan, b->manifest.plan_name) != 0) {
        rc = rt_fail(err,
                     "the signature's trusted comment names plan \"%s\", but the manifest "
                     "plan \"%s\"",
                     plan ? plan : "(none)", b->manifest.plan_name);
        goto done;
    }
    if (!version || b->manifest.nversions == 0 ||
        strcmp(version, b->manifest.versions[b->manifest.nversions - 1].name) != 0) {
        rc = rt_fail(err,
                     "the signature's trusted comment names version \"%s\", which is not the "
                     "manifest's last version",
                     version ? version : "(none)");
        goto done;
    }
    b->dirfd = dirfd; /* the bundle's now; closed by bundle_free() */
    dirfd = -1;
    b->files = calloc(count_files(&b->manifest) + 1, sizeof *b->files);
    if (!b->files) {
        rc = -2;
        rt_fail(err, "out of memory");
        goto done;
    }
    for (i = 0; i < b->manifest.nsteps; i++) {
        for (k = 0; k < b->manifest.steps[i].ndialects; k++) {
            const struct mf_dialect_step *d = &b->manifest.steps[i].dialects[k];
            add_file(b, &d->up);
            if (d->has_down)
                add_file(b, &d->down);
            add_file(b, &d->schema);
            if (d->offline) {
                add_file(b, &d->offline->up);
                if (d->offline->has_down)
                    add_file(b, &d->offline->down);
            }
        }
    }
    for (i = 0; i < b->manifest.nfiles; i++)
        add_file(b, &b->manifest.files[i]);
    /* the dialects' folders, opened once before the workers share them */
    for (i = 0; i < b->manifest.ndialects; i++) {
        char probe[80];
        const char *last = probe;
        snprintf(probe, sizeof probe, "%s/x", b->manifest.dialects[i]);
        folder_of(b, &last);
    }
    b->sealed = true;
    if ((rc = verify_files(b, err)))
        goto done;
    qsort(b->files, b->nfiles, sizeof *b->files, cmp_file);
    if ((rc = check_extras(b, b->dirfd, NULL, err)))
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
    b->dirfd = -1;
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
    if (!b)
        return;
    if (b->dirfd >= 0)
        close(b->dirfd);
    for (size_t i = 0; i < b->nfolders; i++)
        close(b->folders[i].fd);
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
