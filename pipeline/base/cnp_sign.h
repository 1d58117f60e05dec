/* pipeline/base/cnp_sign.h - Ed25519 detached signatures (OpenSSL libcrypto).
 *
 * A run's SHA256SUMS is signed with a private key the user gives
 * (--sign-key FILE, PEM); the signature is the 64 raw bytes of Ed25519 over
 * the file's bytes, exactly what `openssl pkeyutl -sign -rawin` writes and
 * `openssl pkeyutl -verify -pubin -inkey PUB -rawin -in FILE -sigfile SIG`
 * checks. No key is ever asked for on a terminal: an encrypted key is refused.
 */
#ifndef CNP_SIGN_H
#define CNP_SIGN_H

#include <stddef.h>

#include "cnp_status.h"

typedef struct cnp_sign_key cnp_sign_key;   /* opaque: an EVP_PKEY */

enum { CNP_SIG_LEN = 64 };                    /* an Ed25519 signature */

/* cnp_sign_key_load() : the Ed25519 private key in PEM at `path`.
 * @return CNP_OK; CNP_E_IO when the file cannot be read; CNP_E_CONFIG when it
 * is not an unencrypted Ed25519 private key (an RSA key, a public key, a key
 * with a passphrase, anything else). The message names the file. */
cnp_status cnp_sign_key_load(const char *path, cnp_sign_key **out);

/* cnp_sign_pub_load() : a public key from a PEM file (a private key's PEM is
 * accepted too: its public half is used). Errors as cnp_sign_key_load(). */
cnp_status cnp_sign_pub_load(const char *path, cnp_sign_key **out);

/* cnp_sign_pub_from_pem() : a public key from PEM text (run.json records the
 * signer's). @return CNP_OK, or CNP_E_DATA when it is not an Ed25519 key. */
cnp_status cnp_sign_pub_from_pem(const char *pem, cnp_sign_key **out);

void cnp_sign_key_free(cnp_sign_key **k);

/* cnp_sign_key_public() : the public half as PEM (malloc'd, NUL-terminated)
 * and the SHA-256 of its DER form (SubjectPublicKeyInfo), the key's
 * fingerprint: `openssl pkey -pubin -in PUB -outform DER | sha256sum`. */
cnp_status cnp_sign_key_public(const cnp_sign_key *k, char **pem, char fingerprint[65]);

/* cnp_sign_file() : sign the bytes of `path` (at most 64 MiB) and write the
 * 64-byte signature to `sig_path`. @return CNP_OK or CNP_E_IO. */
cnp_status cnp_sign_file(const cnp_sign_key *k, const char *path, const char *sig_path);

/* cnp_sign_check() : 1 when `sig` is `key`'s valid signature of `data`, else 0. */
int cnp_sign_check(const cnp_sign_key *key, const void *data, size_t len, const void *sig,
                   size_t siglen);

#endif /* CNP_SIGN_H */
