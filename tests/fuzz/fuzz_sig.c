/* SPDX-License-Identifier: MIT */
/*
 * fuzz_sig.c: libFuzzer target for the minisign parsers (runtime/sig.h):
 * public key text, secret key text and signature files. The input is split
 * at its first two 0xFF bytes into a public key, a signature file and the
 * signed message; the secret key parser gets the whole input (without a
 * password: an encrypted key is refused before the costly key derivation).
 * Each parser must refuse what it cannot read, with a message, and never
 * crash, leak or read out of bounds; a signature is checked against the
 * parsed key when there is one, and against a fixed key otherwise.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the public key of the seeds (tests/fuzz/keys/: a key made for fuzzing, signing nothing) */
    static const char fixed[] = "untrusted comment: minisign public key AE04CF25B9FB77FF\n"
                                "RWT/d/u5Jc8Erj/oxr5axxZqjbZgd4UP2QSSKGQc3/5zPfK4o1D2kOx5\n";
    const uint8_t *a = memchr(data, 0xFF, size);
    const uint8_t *b = a ? memchr(a + 1, 0xFF, size - (size_t)(a + 1 - data)) : NULL;
    struct sig_pubkey pk;
    struct sig_seckey *sk = NULL;
    struct rt_error err;
    char *trusted = NULL;
    bool encrypted = false;

    if (sig_init(&err) != 0)
        return 0;
    (void)sig_seckey_parse((const char *)data, size, "fuzz", NULL, &sk, &encrypted, &err);
    sig_seckey_free(sk);
    if (!a || !b) {
        (void)sig_pubkey_parse((const char *)data, size, &pk, &err);
        return 0;
    }
    if (sig_pubkey_parse((const char *)data, (size_t)(a - data), &pk, &err) != 0 &&
        sig_pubkey_parse(fixed, sizeof fixed - 1, &pk, &err) != 0)
        return 0;
    if (sig_verify(&pk, b + 1, size - (size_t)(b + 1 - data), (const char *)a + 1,
                   (size_t)(b - (a + 1)), &trusted, &err) == 0)
        free(trusted);
    return 0;
}
