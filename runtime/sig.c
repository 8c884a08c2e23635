/* SPDX-License-Identifier: MIT */
/*
 * sig.c: minisign-compatible keys and signatures (see sig.h for the
 * layouts). Parsing is strict: exact line structure, exact lengths, and
 * base64 that re-encodes to itself (so that no two texts decode to the same
 * bytes and a changed character can never go unnoticed).
 */
#include "runtime/sig.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COMMENT_PREFIX "untrusted comment: "
#define TRUSTED_PREFIX "trusted comment: "
#define MAX_COMMENT 1024
#define MAX_TRUSTED 8192

enum {
    PUBKEY_BYTES = 2 + SIG_KEYNUM_BYTES + 32,
    SECKEY_BYTES = 2 + 2 + 2 + 32 + 8 + 8 + SIG_KEYNUM_BYTES + 64 + 32,
    SIGSTRUCT_BYTES = 2 + SIG_KEYNUM_BYTES + 64,
    KEYNUM_SK_BYTES = SIG_KEYNUM_BYTES + 64 + 32,
};

int
sig_init(struct rt_error *err)
{
    if (sodium_init() < 0)
        return rt_fail(err, "could not initialise libsodium");
    return 0;
}

static uint64_t
le64(const unsigned char *p)
{
    uint64_t v = 0;
    int i;

    for (i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

void
sig_key_id(const unsigned char keynum[SIG_KEYNUM_BYTES], char out[17])
{
    snprintf(out, 17, "%016llX", (unsigned long long)le64(keynum));
}

void
sig_sha256_hex(const unsigned char *data, size_t len, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(h, data, len);
    sodium_bin2hex(out, 65, h, sizeof h);
}

/* base64 (with padding) of len bytes, appended to f; returns 0 or -1. */
static int
put_b64(FILE *f, const unsigned char *bin, size_t len)
{
    size_t n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
    char *b = malloc(n);
    int rc;

    if (!b)
        return -1;
    sodium_bin2base64(b, n, bin, len, sodium_base64_VARIANT_ORIGINAL);
    rc = fprintf(f, "%s\n", b) < 0 ? -1 : 0;
    free(b);
    return rc;
}

/*
 * Decodes exactly `want` bytes from the base64 line s[0..n). Refuses any
 * other length and any text that does not re-encode to itself.
 */
static int
get_b64(unsigned char *out, size_t want, const char *s, size_t n)
{
    size_t got = 0, elen = sodium_base64_encoded_len(want, sodium_base64_VARIANT_ORIGINAL);
    char *again;
    int ok;

    if (n + 1 != elen)
        return -1;
    if (sodium_base642bin(out, want, s, n, NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        got != want)
        return -1;
    again = malloc(elen);
    if (!again)
        return -1;
    sodium_bin2base64(again, elen, out, want, sodium_base64_VARIANT_ORIGINAL);
    ok = memcmp(again, s, n) == 0;
    free(again);
    return ok ? 0 : -1;
}

/* Splits text into lines (without their \n); returns how many, at most max. */
static size_t
split_lines(const char *text, size_t len, const char **lines, size_t *lens, size_t max,
            bool *trailing_junk)
{
    size_t n = 0, i = 0;

    *trailing_junk = false;
    while (i < len) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t l = nl ? (size_t)(nl - (text + i)) : len - i;
        if (n == max) {
            *trailing_junk = true;
            return n;
        }
        lines[n] = text + i;
        lens[n] = l;
        n++;
        i += l + (nl ? 1 : 0);
    }
    return n;
}

/*
 * Reads a small file whole; refuses anything larger than SIG_MAX_FILE_BYTES,
 * and anything but a regular file. The keys are files the operator names
 * (the trusted public key, the release's secret key), so a symbolic link is
 * followed, as secret stores and Kubernetes mount them; a bundle's files are
 * read without following links (bundle.c).
 */
static char *
read_small(const char *path, size_t *len, const char *what, struct rt_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    char *buf;
    ssize_t got;

    if (fd < 0) {
        rt_fail(err, "could not open the %s \"%s\": %s", what, path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        rt_fail(err, "the %s \"%s\" is not a regular file", what, path);
        return NULL;
    }
    if (st.st_size > SIG_MAX_FILE_BYTES) {
        close(fd);
        rt_fail(err, "the %s \"%s\" is too large (%lld bytes) to be one", what, path,
                (long long)st.st_size);
        return NULL;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        rt_fail(err, "out of memory");
        return NULL;
    }
    got = read(fd, buf, (size_t)st.st_size);
    close(fd);
    if (got != st.st_size) {
        free(buf);
        rt_fail(err, "could not read the %s \"%s\"", what, path);
        return NULL;
    }
    buf[got] = '\0';
    *len = (size_t)got;
    return buf;
}

int
sig_pubkey_parse(const char *text, size_t len, struct sig_pubkey *out, struct rt_error *err)
{
    const char *lines[3];
    size_t lens[3], n;
    unsigned char raw[PUBKEY_BYTES];
    bool junk;

    n = split_lines(text, len, lines, lens, 2, &junk);
    if (n == 1 && !junk) { /* a bare base64 key, as minisign -P takes */
        lines[1] = lines[0];
        lens[1] = lens[0];
    } else if (n != 2 || junk || lens[0] < sizeof COMMENT_PREFIX - 1 ||
               memcmp(lines[0], COMMENT_PREFIX, sizeof COMMENT_PREFIX - 1) != 0) {
        return rt_fail(err, "not a minisign public key: expected an \"untrusted comment:\" line "
                            "and a base64 key");
    }
    if (lens[1] && lines[1][lens[1] - 1] == '\r')
        lens[1]--;
    if (get_b64(raw, sizeof raw, lines[1], lens[1]) != 0)
        return rt_fail(err, "the public key is not valid: its base64 line does not decode to "
                            "a minisign key");
    if (memcmp(raw, "Ed", 2) != 0)
        return rt_fail(err, "the public key is for an algorithm other than Ed25519");
    memcpy(out->keynum, raw + 2, SIG_KEYNUM_BYTES);
    memcpy(out->pk, raw + 2 + SIG_KEYNUM_BYTES, 32);
    return 0;
}

int
sig_pubkey_load(const char *path, struct sig_pubkey *out, struct rt_error *err)
{
    size_t len;
    char *text = read_small(path, &len, "public key", err);
    int rc;

    if (!text)
        return -1;
    rc = sig_pubkey_parse(text, len, out, err);
    if (rc)
        snprintf(err->hint, sizeof err->hint,
                 "The key file \"%s\" should be a minisign public "
                 "key, as upc keygen or minisign -G write them.",
                 path);
    free(text);
    return rc;
}

int
sig_keyring_add_file(struct sig_keyring *ring, const char *path, struct rt_error *err)
{
    size_t len, i = 0, before = ring->n, line = 0;
    char *text = read_small(path, &len, "public key", err);
    int rc = 0;

    if (!text)
        return -1;
    while (i < len && rc == 0) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t l = nl ? (size_t)(nl - (text + i)) : len - i, start = i, end;
        const char *p = text + i;
        line++;
        i += l + (nl ? 1 : 0);
        while (l && (p[l - 1] == '\r' || p[l - 1] == ' ' || p[l - 1] == '\t'))
            l--;
        if (l == 0 || p[0] == '#')
            continue;
        end = start + l;
        if (l >= sizeof COMMENT_PREFIX - 1 &&
            memcmp(p, COMMENT_PREFIX, sizeof COMMENT_PREFIX - 1) == 0) {
            /* a key's comment line: its base64 line follows */
            const char *nl2 = i < len ? memchr(text + i, '\n', len - i) : NULL;
            size_t l2 = i < len ? (nl2 ? (size_t)(nl2 - (text + i)) : len - i) : 0, next;
            next = i + l2 + (nl2 ? 1 : 0);
            while (l2 && (text[i + l2 - 1] == '\r' || text[i + l2 - 1] == ' ' ||
                          text[i + l2 - 1] == '\t'))
                l2--;
            end = i + l2;
            i = next;
            if (l2)
                line++;
        }
        if (ring->n == SIG_MAX_KEYS) {
            rc = rt_fail(err, "the public key file \"%s\" holds more than %d keys", path,
                         SIG_MAX_KEYS);
            break;
        }
        if (sig_pubkey_parse(text + start, end - start, &ring->keys[ring->n], err)) {
            char what[RT_ERROR_MSG_MAX];
            snprintf(what, sizeof what, "%s", err->message);
            rc = rt_fail(err, "the key ending on line %zu of \"%s\": %s", line, path, what);
            break;
        }
        ring->n++;
    }
    if (rc == 0 && ring->n == before)
        rc = rt_fail(err, "the public key file \"%s\" holds no key", path);
    if (rc) {
        ring->n = before;
        snprintf(err->hint, sizeof err->hint,
                 "The key file \"%s\" should hold minisign public keys, as upc keygen or "
                 "minisign -G write them (several one after another for a key rotation).",
                 path);
    }
    free(text);
    return rc;
}

/* BLAKE2b-256 of "Ed" | keynum | sk: minisign's checksum of a secret key. */
static void
seckey_chk(unsigned char chk[32], const unsigned char *keynum, const unsigned char *sk)
{
    crypto_generichash_state hs;

    crypto_generichash_init(&hs, NULL, 0, 32);
    crypto_generichash_update(&hs, (const unsigned char *)"Ed", 2);
    crypto_generichash_update(&hs, keynum, SIG_KEYNUM_BYTES);
    crypto_generichash_update(&hs, sk, 64);
    crypto_generichash_final(&hs, chk, 32);
}

static int
write_new_file(const char *path, const char *text, mode_t mode, bool force, struct rt_error *err)
{
    int fd =
        open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (force ? O_TRUNC : O_EXCL), mode);
    size_t n = strlen(text);

    if (fd < 0) {
        if (errno == EEXIST)
            return rt_fail(err, "\"%s\" already exists; keys are not overwritten without --force",
                           path);
        return rt_fail(err, "could not create \"%s\": %s", path, strerror(errno));
    }
    if (write(fd, text, n) != (ssize_t)n || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        return rt_fail(err, "could not write \"%s\": %s", path, strerror(e));
    }
    close(fd);
    return 0;
}

int
sig_keygen(const char *pub_path, const char *key_path, bool force, struct rt_error *err)
{
    unsigned char *sec = sodium_malloc(SECKEY_BYTES);
    unsigned char pub[PUBKEY_BYTES], *keynum, *sk;
    char id[17], *text = NULL;
    size_t n;
    FILE *f;
    int rc = -1;

    if (!sec)
        return rt_fail(err, "out of memory");
    memset(sec, 0, SECKEY_BYTES);
    keynum = sec + 2 + 2 + 2 + 32 + 8 + 8;
    sk = keynum + SIG_KEYNUM_BYTES;
    memcpy(sec, "Ed", 2);
    memcpy(sec + 2, "\0\0", 2); /* unencrypted, as minisign -W */
    memcpy(sec + 4, "B2", 2);
    randombytes_buf(keynum, SIG_KEYNUM_BYTES);
    memcpy(pub, "Ed", 2);
    memcpy(pub + 2, keynum, SIG_KEYNUM_BYTES);
    if (crypto_sign_keypair(pub + 2 + SIG_KEYNUM_BYTES, sk) != 0) {
        rt_fail(err, "could not make a key pair");
        goto done;
    }
    seckey_chk(sk + 64, keynum, sk);
    sig_key_id(keynum, id);
    /* the secret key first: a public key without its secret is useless */
    if (!(f = open_memstream(&text, &n))) {
        rt_fail(err, "out of memory");
        goto done;
    }
    fprintf(f, COMMENT_PREFIX "minisign secret key %s (unencrypted, made by upc keygen)\n", id);
    put_b64(f, sec, SECKEY_BYTES);
    fclose(f);
    if (write_new_file(key_path, text, 0600, force, err))
        goto done;
    sodium_memzero(text, n);
    free(text);
    text = NULL;
    if (!(f = open_memstream(&text, &n))) {
        rt_fail(err, "out of memory");
        goto done;
    }
    fprintf(f, COMMENT_PREFIX "minisign public key %s\n", id);
    put_b64(f, pub, PUBKEY_BYTES);
    fclose(f);
    if (write_new_file(pub_path, text, 0644, force, err)) {
        unlink(key_path);
        goto done;
    }
    rc = 0;
done:
    free(text);
    sodium_free(sec);
    return rc;
}

int
sig_seckey_load(const char *path, const char *password, struct sig_seckey **out, bool *encrypted,
                struct rt_error *err)
{
    size_t len = 0;
    char *text;
    int rc;

    *out = NULL;
    *encrypted = false;
    if (!(text = read_small(path, &len, "secret key", err)))
        return -1;
    rc = sig_seckey_parse(text, len, path, password, out, encrypted, err);
    sodium_memzero(text, len);
    free(text);
    return rc;
}

int
sig_seckey_parse(const char *text, size_t len, const char *path, const char *password,
                 struct sig_seckey **out, bool *encrypted, struct rt_error *err)
{
    unsigned char *raw = NULL, *keynum_sk, chk[32];
    struct sig_seckey *key = NULL;
    const char *lines[3];
    size_t lens[3], n;
    bool junk, zero_chk = true;
    int rc = -1, i;

    *out = NULL;
    *encrypted = false;
    n = split_lines(text, len, lines, lens, 2, &junk);
    if (n != 2 || junk || lens[0] < sizeof COMMENT_PREFIX - 1 ||
        memcmp(lines[0], COMMENT_PREFIX, sizeof COMMENT_PREFIX - 1) != 0) {
        rt_fail(err, "\"%s\" is not a minisign secret key", path);
        goto done;
    }
    if (lens[1] && lines[1][lens[1] - 1] == '\r')
        lens[1]--;
    if (!(raw = sodium_malloc(SECKEY_BYTES)) || !(key = sodium_malloc(sizeof *key))) {
        rt_fail(err, "out of memory");
        goto done;
    }
    if (get_b64(raw, SECKEY_BYTES, lines[1], lens[1]) != 0) {
        rt_fail(err, "\"%s\" is not a minisign secret key: its base64 line does not decode", path);
        goto done;
    }
    if (memcmp(raw, "Ed", 2) != 0 || memcmp(raw + 4, "B2", 2) != 0) {
        rt_fail(err, "\"%s\" is a key for an algorithm other than Ed25519 with BLAKE2b", path);
        goto done;
    }
    keynum_sk = raw + 2 + 2 + 2 + 32 + 8 + 8;
    if (memcmp(raw + 2, "Sc", 2) == 0) {
        unsigned char *stream;
        *encrypted = true;
        if (!password) {
            rt_fail(err, "the secret key \"%s\" is encrypted and no password was given", path);
            goto done;
        }
        if (!(stream = sodium_malloc(KEYNUM_SK_BYTES))) {
            rt_fail(err, "out of memory");
            goto done;
        }
        if (crypto_pwhash_scryptsalsa208sha256(stream, KEYNUM_SK_BYTES, password, strlen(password),
                                               raw + 6, le64(raw + 38),
                                               (size_t)le64(raw + 46)) != 0) {
            sodium_free(stream);
            rt_fail(err, "could not derive the key from the password (out of memory?)");
            goto done;
        }
        for (i = 0; i < KEYNUM_SK_BYTES; i++)
            keynum_sk[i] ^= stream[i];
        sodium_free(stream);
    } else if (memcmp(raw + 2, "\0\0", 2) != 0) {
        rt_fail(err, "\"%s\" uses a key derivation function other than scrypt", path);
        goto done;
    }
    /* minisign leaves the checksum of an unencrypted key at zero; check it when it is set */
    for (i = 0; i < 32; i++)
        zero_chk = zero_chk && keynum_sk[SIG_KEYNUM_BYTES + 64 + i] == 0;
    seckey_chk(chk, keynum_sk, keynum_sk + SIG_KEYNUM_BYTES);
    if ((*encrypted || !zero_chk) &&
        sodium_memcmp(chk, keynum_sk + SIG_KEYNUM_BYTES + 64, 32) != 0) {
        rt_fail(err,
                *encrypted ? "wrong password for the secret key \"%s\""
                           : "the secret key \"%s\" is damaged (its checksum does not match)",
                path);
        goto done;
    }
    memcpy(key->keynum, keynum_sk, SIG_KEYNUM_BYTES);
    memcpy(key->sk, keynum_sk + SIG_KEYNUM_BYTES, 64);
    *out = key;
    key = NULL;
    rc = 0;
done:
    sodium_memzero(chk, sizeof chk);
    if (raw)
        sodium_free(raw);
    if (key)
        sodium_free(key);
    return rc;
}

void
sig_seckey_free(struct sig_seckey *key)
{
    if (key)
        sodium_free(key);
}

void
sig_seckey_pubkey(const struct sig_seckey *key, struct sig_pubkey *out)
{
    memcpy(out->keynum, key->keynum, SIG_KEYNUM_BYTES);
    memcpy(out->pk, key->sk + 32, 32);
}

int
sig_sign(const struct sig_seckey *key, const unsigned char *msg, size_t len,
         const char *trusted_comment, char **out, struct rt_error *err)
{
    unsigned char hash[crypto_generichash_BYTES_MAX], sig[SIGSTRUCT_BYTES], global[64];
    size_t tlen = strlen(trusted_comment), n;
    unsigned char *both;
    FILE *f;

    *out = NULL;
    if (tlen >= MAX_TRUSTED - sizeof TRUSTED_PREFIX || strpbrk(trusted_comment, "\r\n"))
        return rt_fail(err, "the trusted comment must be one line of less than %d bytes",
                       MAX_TRUSTED);
    crypto_generichash(hash, sizeof hash, msg, len, NULL, 0);
    memcpy(sig, "ED", 2);
    memcpy(sig + 2, key->keynum, SIG_KEYNUM_BYTES);
    crypto_sign_detached(sig + 2 + SIG_KEYNUM_BYTES, NULL, hash, sizeof hash, key->sk);
    if (!(both = malloc(64 + tlen)))
        return rt_fail(err, "out of memory");
    memcpy(both, sig + 2 + SIG_KEYNUM_BYTES, 64);
    memcpy(both + 64, trusted_comment, tlen);
    crypto_sign_detached(global, NULL, both, 64 + tlen, key->sk);
    free(both);
    if (!(f = open_memstream(out, &n)))
        return rt_fail(err, "out of memory");
    fputs(COMMENT_PREFIX "signature from minisign secret key\n", f);
    put_b64(f, sig, sizeof sig);
    fprintf(f, TRUSTED_PREFIX "%s\n", trusted_comment);
    put_b64(f, global, sizeof global);
    if (fclose(f) != 0) {
        free(*out);
        *out = NULL;
        return rt_fail(err, "out of memory");
    }
    return 0;
}

int
sig_verify(const struct sig_pubkey *key, const unsigned char *msg, size_t len, const char *sigtext,
           size_t siglen, char **trusted, struct rt_error *err)
{
    unsigned char sig[SIGSTRUCT_BYTES], global[64], hash[crypto_generichash_BYTES_MAX];
    const char *lines[5];
    size_t lens[5], n, tlen;
    unsigned char *both;
    char want[17], got[17];
    bool junk;

    if (trusted)
        *trusted = NULL;
    n = split_lines(sigtext, siglen, lines, lens, 4, &junk);
    if (n != 4 || junk || siglen == 0 || sigtext[siglen - 1] != '\n')
        return rt_fail(err, "the signature file is not in minisign's format (four lines: an "
                            "untrusted comment, the signature, a trusted comment, its signature)");
    if (lens[0] >= MAX_COMMENT || lens[0] < sizeof COMMENT_PREFIX - 1 ||
        memcmp(lines[0], COMMENT_PREFIX, sizeof COMMENT_PREFIX - 1) != 0)
        return rt_fail(err, "the signature file's first line is not an \"untrusted comment:\"");
    if (lens[2] >= MAX_TRUSTED || lens[2] < sizeof TRUSTED_PREFIX - 1 ||
        memcmp(lines[2], TRUSTED_PREFIX, sizeof TRUSTED_PREFIX - 1) != 0)
        return rt_fail(err, "the signature file's third line is not a \"trusted comment:\"");
    if (get_b64(sig, sizeof sig, lines[1], lens[1]) != 0)
        return rt_fail(err, "the signature line of the signature file is not valid base64 of a "
                            "signature");
    if (get_b64(global, sizeof global, lines[3], lens[3]) != 0)
        return rt_fail(err, "the trusted comment's signature line is not valid base64 of a "
                            "signature");
    if (memcmp(sig, "ED", 2) != 0)
        return rt_fail(err, "the signature is not a prehashed Ed25519 signature (minisign -H); "
                            "legacy signatures are not accepted");
    if (sodium_memcmp(sig + 2, key->keynum, SIG_KEYNUM_BYTES) != 0) {
        sig_key_id(key->keynum, want);
        sig_key_id(sig + 2, got);
        rt_fail(err, "the bundle is signed with key %s, but the public key given is key %s", got,
                want);
        snprintf(err->hint, sizeof err->hint,
                 "Use the public key of the release key that signed the bundle.");
        return -1;
    }
    crypto_generichash(hash, sizeof hash, msg, len, NULL, 0);
    if (crypto_sign_verify_detached(sig + 2 + SIG_KEYNUM_BYTES, hash, sizeof hash, key->pk) != 0)
        return rt_fail(err, "the signature does not match the manifest: the manifest or the "
                            "signature was changed after signing");
    tlen = lens[2] - (sizeof TRUSTED_PREFIX - 1);
    if (!(both = malloc(64 + tlen + 1)))
        return rt_fail(err, "out of memory");
    memcpy(both, sig + 2 + SIG_KEYNUM_BYTES, 64);
    memcpy(both + 64, lines[2] + sizeof TRUSTED_PREFIX - 1, tlen);
    if (crypto_sign_verify_detached(global, both, 64 + tlen, key->pk) != 0) {
        free(both);
        return rt_fail(err, "the trusted comment's signature does not match: the trusted comment "
                            "was changed after signing");
    }
    if (trusted) {
        *trusted = (char *)both;
        memmove(both, both + 64, tlen);
        both[tlen] = '\0';
    } else {
        free(both);
    }
    return 0;
}

int
sig_verify_ring(const struct sig_keyring *ring, const unsigned char *msg, size_t len,
                const char *sigtext, size_t siglen, char **trusted, size_t *used,
                struct rt_error *err)
{
    unsigned char sig[SIGSTRUCT_BYTES];
    const char *lines[5];
    size_t lens[5], n, k;
    bool junk;

    *used = 0;
    if (trusted)
        *trusted = NULL;
    if (ring->n == 0)
        return rt_fail(err, "no public key is trusted: the bundle cannot be verified");
    if (ring->n == 1)
        return sig_verify(&ring->keys[0], msg, len, sigtext, siglen, trusted, err);
    /* the key the signature names; sig_verify() checks the rest of the format */
    n = split_lines(sigtext, siglen, lines, lens, 4, &junk);
    if (n >= 2 && get_b64(sig, sizeof sig, lines[1], lens[1]) == 0) {
        for (k = 0; k < ring->n; k++) {
            if (sodium_memcmp(sig + 2, ring->keys[k].keynum, SIG_KEYNUM_BYTES) == 0) {
                *used = k;
                return sig_verify(&ring->keys[k], msg, len, sigtext, siglen, trusted, err);
            }
        }
        {
            char got[17], ids[SIG_MAX_KEYS * 18 + 1] = "";
            size_t o = 0;
            sig_key_id(sig + 2, got);
            for (k = 0; k < ring->n && o + 18 < sizeof ids; k++) {
                char id[17];
                sig_key_id(ring->keys[k].keynum, id);
                o += (size_t)snprintf(ids + o, sizeof ids - o, "%s%s", k ? ", " : "", id);
            }
            rt_fail(err,
                    "the bundle is signed with key %s, which is none of the %zu trusted keys "
                    "(%s)",
                    got, ring->n, ids);
            snprintf(err->hint, sizeof err->hint,
                     "Add the public key of the release key that signed the bundle (--pubkey "
                     "again, or a line more in the key file).");
            return -1;
        }
    }
    return sig_verify(&ring->keys[0], msg, len, sigtext, siglen, trusted, err);
}
