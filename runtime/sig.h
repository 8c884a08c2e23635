/* SPDX-License-Identifier: MIT */
/*
 * sig.h: Ed25519 keys and signatures in minisign's file formats, on
 * libsodium, so that `minisign -V` verifies what upc signs and a key made by
 * `minisign -G` signs what uprun accepts.
 *
 *   public key   untrusted comment: minisign public key <KEY ID>
 *                base64("Ed" | keynum[8] | pk[32])
 *   secret key   untrusted comment: ...
 *                base64("Ed" | kdf[2] | "B2" | salt[32] | opslimit[8] | memlimit[8] |
 *                       keynum[8] | sk[64] | chk[32])
 *                kdf "Sc": keynum|sk|chk are XORed with a scrypt stream of the password;
 *                kdf "\0\0": unencrypted (minisign -W, upc keygen)
 *   signature    untrusted comment: ...
 *                base64("ED" | keynum[8] | Ed25519(BLAKE2b-512(file)))
 *                trusted comment: <text>
 *                base64(Ed25519(signature | text))
 *
 * The key id is the key number read as a little-endian 64-bit integer,
 * printed as 16 upper-case hex digits. Secret keys live in sodium_malloc
 * memory and are wiped when freed.
 */
#ifndef UPG_RUNTIME_SIG_H
#define UPG_RUNTIME_SIG_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/rt_error.h"

#define SIG_KEYNUM_BYTES 8
#define SIG_MAX_FILE_BYTES 16384 /* no key or signature file is larger */

struct sig_pubkey {
    unsigned char keynum[SIG_KEYNUM_BYTES];
    unsigned char pk[32];
};

struct sig_seckey {
    unsigned char keynum[SIG_KEYNUM_BYTES];
    unsigned char sk[64]; /* the Ed25519 secret key; its last 32 bytes are the public key */
};

/* Must be called (successfully) before anything else here: sodium_init(). */
int sig_init(struct rt_error *err);

/* "1A2B3C4D5E6F7081": the key id of a key number, into out[17]. */
void sig_key_id(const unsigned char keynum[SIG_KEYNUM_BYTES], char out[17]);

/*
 * Makes a key pair and writes PREFIX.pub and PREFIX.key (mode 0600,
 * unencrypted). Refuses to overwrite either unless force. 0, or -1 with err.
 */
int sig_keygen(const char *pub_path, const char *key_path, bool force, struct rt_error *err);

/*
 * The keys a runtime trusts (more than one while a release key is rotated):
 * a bundle signed by any of them verifies. Fixed size; no allocation.
 */
#define SIG_MAX_KEYS 32 /* main.c's --pubkey limit too */
struct sig_keyring {
    struct sig_pubkey keys[SIG_MAX_KEYS];
    size_t n;
};

/*
 * Adds the keys of a public key file to ring: one key (minisign's two lines,
 * or a bare base64 key), or several such one after another (a file of keys),
 * blank lines and #-comments between them allowed. 0, or -1 with err.
 */
int sig_keyring_add_file(struct sig_keyring *ring, const char *path, struct rt_error *err);

/* Parses a public key file's text (or a bare base64 key). */
int sig_pubkey_parse(const char *text, size_t len, struct sig_pubkey *out, struct rt_error *err);
int sig_pubkey_load(const char *path, struct sig_pubkey *out, struct rt_error *err);

/*
 * Loads a secret key file. An encrypted key needs password (NULL: the key
 * must be unencrypted; *encrypted tells the caller to ask for one). The key
 * is the caller's, freed with sig_seckey_free().
 */
int sig_seckey_load(const char *path, const char *password, struct sig_seckey **out,
                    bool *encrypted, struct rt_error *err);
/* The same, from a secret key file's text (path names it in messages). */
int sig_seckey_parse(const char *text, size_t len, const char *path, const char *password,
                     struct sig_seckey **out, bool *encrypted, struct rt_error *err);
void sig_seckey_free(struct sig_seckey *key);
void sig_seckey_pubkey(const struct sig_seckey *key, struct sig_pubkey *out);

/*
 * Signs msg (prehashed, "ED") with a trusted comment (one line) and returns
 * the text of the .minisig file in *out (malloc'd).
 */
int sig_sign(const struct sig_seckey *key, const unsigned char *msg, size_t len,
             const char *trusted_comment, char **out, struct rt_error *err);

/*
 * Verifies the .minisig text sigtext over msg with key: the format, the key
 * id, the signature, then the trusted comment's signature. On success, a
 * copy of the trusted comment goes to *trusted (malloc'd; may be NULL).
 */
int sig_verify(const struct sig_pubkey *key, const unsigned char *msg, size_t len,
               const char *sigtext, size_t siglen, char **trusted, struct rt_error *err);
/* The same with the key of ring that has the signature's key id; *used: its index. */
int sig_verify_ring(const struct sig_keyring *ring, const unsigned char *msg, size_t len,
                    const char *sigtext, size_t siglen, char **trusted, size_t *used,
                    struct rt_error *err);

/* SHA-256 of data as 64 lower-case hex digits into out[65]. */
void sig_sha256_hex(const unsigned char *data, size_t len, char out[65]);

#endif
