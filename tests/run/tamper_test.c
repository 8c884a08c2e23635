/* SPDX-License-Identifier: MIT */
/*
 * tamper_test.c: a bundle that was changed in any way after it was signed
 * must be refused, with a message that names what is wrong.
 *
 *     tamper_test BUNDLE PUBKEY SECKEY
 *
 * BUNDLE is a freshly built, signed bundle (it is copied, never changed).
 * The test checks, each on a fresh copy:
 *   - every single-byte change over the whole of manifest.json;
 *   - every single-byte change of the signature file after its untrusted
 *     comment line (which minisign does not sign: changing its text is
 *     accepted, as minisign accepts it, and the test checks that too);
 *   - at least 200 positions spread over the SQL and schema files;
 *   - a file added (in a dialect folder and at the top), removed, renamed;
 *     a file and a folder replaced by symbolic links;
 *   - manifests re-signed with the right key but listing a path with "..",
 *     an absolute path, or a file of the wrong size.
 * UPG_TAMPER_STRIDE=N tries every Nth byte of the manifest (for slow
 * sanitizer builds); the default is every byte.
 */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/bundle.h"
#include "runtime/manifest.h"
#include "runtime/sig.h"

static struct sig_keyring pubkey;
static struct sig_seckey *seckey;
static char work[4096];
static size_t failures, checks;

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void
rm_rf(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static unsigned char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;

    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void
spit(const char *path, const unsigned char *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    if (!f || fwrite(data, 1, len, f) != len) {
        perror(path);
        exit(2);
    }
    fclose(f);
}

/* cp -r src dst (regular files and folders only). */
static void
copy_tree(const char *src, const char *dst)
{
    DIR *d = opendir(src);
    struct dirent *e;

    mkdir(dst, 0755);
    while ((e = readdir(d))) {
        char s[4096], t[4096];
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        snprintf(s, sizeof s, "%s/%s", src, e->d_name);
        snprintf(t, sizeof t, "%s/%s", dst, e->d_name);
        lstat(s, &st);
        if (S_ISDIR(st.st_mode)) {
            copy_tree(s, t);
        } else {
            size_t n;
            unsigned char *data = slurp(s, &n);
            spit(t, data, n);
            free(data);
        }
    }
    closedir(d);
}

/* Expects the bundle at dir to be refused, with `want` in the message. */
static void
expect_refused(const char *dir, const char *what, const char *want)
{
    struct bundle *b = NULL;
    struct rt_error err;
    int rc = bundle_open(dir, &pubkey, &b, &err);

    checks++;
    if (rc != -1) {
        failures++;
        printf("FAIL: %s: %s\n", what,
               rc == 0 ? "the bundle was accepted" : "an I/O error instead of a refusal");
        if (rc == -2)
            printf("      (%s)\n", err.message);
        bundle_free(b);
        return;
    }
    if (want && !strstr(err.message, want)) {
        failures++;
        printf("FAIL: %s: refused, but the message does not say \"%s\": %s\n", what, want,
               err.message);
    }
}

static void
expect_accepted(const char *dir, const char *what)
{
    struct bundle *b = NULL;
    struct rt_error err;

    checks++;
    if (bundle_open(dir, &pubkey, &b, &err) != 0) {
        failures++;
        printf("FAIL: %s: refused: %s\n", what, err.message);
    }
    bundle_free(b);
}

/* A fresh copy of the original bundle at work/b; returns its path. */
static const char *
fresh(const char *orig)
{
    static char dir[4200];

    snprintf(dir, sizeof dir, "%s/b", work);
    rm_rf(dir);
    copy_tree(orig, dir);
    return dir;
}

/* Flips one byte of file `rel` in a bundle copy dir at offset pos (the copy is restored after). */
static void
flip_and_check(const char *dir, const char *rel, unsigned char *data, size_t len, size_t pos,
               const char *want)
{
    char path[4400], what[600];

    snprintf(path, sizeof path, "%s/%s", dir, rel);
    data[pos] ^= 0x01;
    spit(path, data, len);
    snprintf(what, sizeof what, "byte %zu of %s changed", pos, rel);
    expect_refused(dir, what, want);
    data[pos] ^= 0x01;
    spit(path, data, len);
}

static void
sign_manifest(const char *dir, const char *text)
{
    char path[4400], *sig = NULL;
    struct rt_error err;
    char tc[512];
    struct manifest m;

    if (manifest_read(text, strlen(text), &m, &err) == 0) {
        snprintf(tc, sizeof tc, "file:manifest.json\tplan:%s\tversion:%s\thashed", m.plan_name,
                 m.versions[m.nversions - 1].name);
        manifest_free(&m);
    } else {
        /* an invalid manifest: sign it anyway, with the original's comment */
        manifest_free(&m);
        snprintf(tc, sizeof tc, "file:manifest.json\tplan:?\tversion:?\thashed");
    }
    snprintf(path, sizeof path, "%s/%s", dir, MANIFEST_FILE);
    spit(path, (const unsigned char *)text, strlen(text));
    if (sig_sign(seckey, (const unsigned char *)text, strlen(text), tc, &sig, &err)) {
        printf("cannot sign: %s\n", err.message);
        exit(2);
    }
    snprintf(path, sizeof path, "%s/%s", dir, MANIFEST_SIG_FILE);
    spit(path, (const unsigned char *)sig, strlen(sig));
    free(sig);
}

/* Replaces the first occurrence of `from` in the manifest by `to`, re-signs, checks refusal. */
static void
resigned(const char *orig, const char *from, const char *to, const char *what, const char *want)
{
    const char *dir = fresh(orig);
    char path[4400], *text, *hit, *out;
    size_t len;

    snprintf(path, sizeof path, "%s/%s", dir, MANIFEST_FILE);
    text = (char *)slurp(path, &len);
    text[len] = '\0';
    hit = strstr(text, from);
    if (!hit) {
        printf("FAIL: %s: \"%s\" is not in the manifest\n", what, from);
        failures++;
        free(text);
        return;
    }
    out = malloc(len + strlen(to) + 1);
    memcpy(out, text, (size_t)(hit - text));
    strcpy(out + (hit - text), to);
    strcat(out, hit + strlen(from));
    sign_manifest(dir, out);
    expect_refused(dir, what, want);
    free(out);
    free(text);
}

int
main(int argc, char **argv)
{
    const char *orig, *dir, *stride_env = getenv("UPG_TAMPER_STRIDE");
    struct rt_error err;
    struct bundle *b = NULL;
    unsigned char *data;
    size_t len, pos, i, stride = stride_env ? strtoul(stride_env, NULL, 10) : 1, sampled = 0;
    bool encrypted;
    char path[4400], path2[4400];

    if (argc != 4) {
        fputs("usage: tamper_test BUNDLE PUBKEY SECKEY\n", stderr);
        return 2;
    }
    if (stride == 0)
        stride = 1;
    orig = argv[1];
    if (sig_init(&err) || sig_keyring_add_file(&pubkey, argv[2], &err) ||
        sig_seckey_load(argv[3], NULL, &seckey, &encrypted, &err)) {
        fprintf(stderr, "tamper_test: %s\n", err.message);
        return 2;
    }
    snprintf(work, sizeof work, "%s/upg-tamper-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(work)) {
        perror("mkdtemp");
        return 2;
    }
    dir = fresh(orig);
    expect_accepted(dir, "the untouched bundle");
    if (bundle_open(dir, &pubkey, &b, &err) != 0)
        return 1;

    /* every byte of the manifest */
    snprintf(path, sizeof path, "%s/%s", dir, MANIFEST_FILE);
    data = slurp(path, &len);
    for (pos = 0; pos < len; pos += stride)
        flip_and_check(dir, MANIFEST_FILE, data, len, pos, "manifest");
    printf("manifest.json: %zu of %zu bytes changed one at a time, each refused\n",
           (len + stride - 1) / stride, len);
    free(data);

    /* every byte of the signature after the untrusted comment line */
    snprintf(path, sizeof path, "%s/%s", dir, MANIFEST_SIG_FILE);
    data = slurp(path, &len);
    {
        size_t start = (size_t)((unsigned char *)memchr(data, '\n', len) - data) + 1;
        for (pos = start; pos < len; pos++)
            flip_and_check(dir, MANIFEST_SIG_FILE, data, len, pos, NULL);
        printf("manifest.json.minisig: %zu bytes after the untrusted comment changed one at a "
               "time, each refused\n",
               len - start);
        /* the untrusted comment is not signed: a changed text there is accepted (minisign too) */
        data[start - 2] ^= 0x01;
        spit(path, data, len);
        expect_accepted(dir, "a changed character in the signature's untrusted comment");
        data[start - 2] ^= 0x01;
        spit(path, data, len);
    }
    free(data);

    /* a sample of positions in every SQL and schema file: at least 200 in all */
    for (i = 0; i < b->nfiles; i++) {
        const struct bundle_file *f = &b->files[i];
        size_t per = b->nfiles >= 200 ? 1 : 200 / b->nfiles + 1;
        for (pos = 0; pos < per && f->size; pos++) {
            size_t at = f->size > 1 ? (f->size - 1) * pos / (per > 1 ? per - 1 : 1) : 0;
            unsigned char *copy;
            size_t size;
            struct rt_error rerr;
            if (bundle_read(b, f->path, &copy, &size, &rerr)) {
                printf("FAIL: could not read %s: %s\n", f->path, rerr.message);
                failures++;
                break;
            }
            flip_and_check(dir, f->path, copy, size, at, f->path);
            free(copy);
            sampled++;
        }
    }
    printf("SQL and schema files: %zu positions in %zu files changed one at a time, each refused\n",
           sampled, b->nfiles);

    /* files added, removed, renamed; symbolic links */
    dir = fresh(orig);
    snprintf(path, sizeof path, "%s/%s/9999-extra.up.sql", dir, b->manifest.dialects[0]);
    spit(path, (const unsigned char *)"DROP TABLE x;\n", 14);
    expect_refused(dir, "a SQL file added", "does not list");
    dir = fresh(orig);
    snprintf(path, sizeof path, "%s/README", dir);
    spit(path, (const unsigned char *)"hello\n", 6);
    expect_refused(dir, "a file added at the top", "does not list");
    dir = fresh(orig);
    snprintf(path, sizeof path, "%s/extra", dir);
    mkdir(path, 0755);
    expect_refused(dir, "a folder added", "folder");
    dir = fresh(orig);
    snprintf(path, sizeof path, "%s/%s", dir, b->files[0].path);
    unlink(path);
    expect_refused(dir, "a file removed", "missing");
    dir = fresh(orig);
    snprintf(path, sizeof path, "%s/%s", dir, b->files[1].path);
    snprintf(path2, sizeof path2, "%s/%s.renamed", dir, b->files[1].path);
    rename(path, path2);
    expect_refused(dir, "a file renamed", "missing");
    dir = fresh(orig);
    snprintf(path, sizeof path, "%s/%s", dir, b->files[2].path);
    snprintf(path2, sizeof path2, "%s/same-content", work);
    rename(path, path2); /* the identical bytes, reached through a link */
    if (symlink(path2, path) != 0)
        perror("symlink");
    expect_refused(dir, "a file replaced by a symbolic link to identical bytes", "symbolic link");
    dir = fresh(orig);
    snprintf(path, sizeof path, "%s/%s", dir, b->manifest.dialects[0]);
    snprintf(path2, sizeof path2, "%s/real-folder", work);
    rm_rf(path2);
    rename(path, path2);
    if (symlink(path2, path) != 0)
        perror("symlink");
    expect_refused(dir, "a dialect folder replaced by a symbolic link", "symbolic link");
    dir = fresh(orig);
    snprintf(path, sizeof path, "%s/%s", dir, MANIFEST_SIG_FILE);
    unlink(path);
    expect_refused(dir, "the signature removed", "not signed");

    /* manifests signed with the right key but pointing outside the bundle */
    {
        char from[600], to[600];
        snprintf(from, sizeof from, "\"path\": \"%s\"", b->manifest.steps[0].dialects[0].up.path);
        snprintf(to, sizeof to, "\"path\": \"%s/../../etc/passwd\"", b->manifest.dialects[0]);
        resigned(orig, from, to, "a path with \"..\", re-signed", "not a path inside the bundle");
        snprintf(to, sizeof to, "\"path\": \"/etc/passwd\"");
        resigned(orig, from, to, "an absolute path, re-signed", "not a path inside the bundle");
        snprintf(from, sizeof from, "\"size\": %llu",
                 (unsigned long long)b->manifest.steps[0].dialects[0].up.size);
        snprintf(to, sizeof to, "\"size\": %llu",
                 (unsigned long long)b->manifest.steps[0].dialects[0].up.size + 1);
        resigned(orig, from, to, "a wrong size, re-signed", "bytes");
        resigned(orig, "\"format_version\": 5", "\"format_version\": 6",
                 "a newer format, re-signed", "version 6 of the format");
        resigned(orig, "\"format_version\": 5", "\"format_version\": 4",
                 "an older format (no units in batches), re-signed", "older than this uprun reads");
    }

    bundle_free(b);
    sig_seckey_free(seckey);
    rm_rf(work);
    printf("%zu checks, %zu failures\n", checks, failures);
    return failures ? 1 : 0;
}
