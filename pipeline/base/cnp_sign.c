/* pipeline/base/cnp_sign.c - Ed25519 detached signatures (see cnp_sign.h). */
#include "cnp_sign.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cnp_err.h"
#include "cnp_hash.h"

/* The handle is the EVP_PKEY itself; the type only hides OpenSSL's headers. */
static EVP_PKEY *pkey(const cnp_sign_key *k) { return (EVP_PKEY *)(uintptr_t)k; }

/* PEM callback: never ask for a passphrase (PEM's default reads the terminal). */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf; (void)size; (void)rwflag; (void)u;
    return -1;
}

/* The whole file, for keys and for what is signed (at most `max` bytes). */
static cnp_status read_all(const char *path, size_t max, unsigned char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return cnp_err(CNP_E_IO, "cannot read '%s': %s", path, strerror(errno));
    unsigned char *buf = malloc(max + 1);
    const size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    const int bad = ferror(f);
    fclose(f);
    if (!buf)
        return cnp_err(CNP_E_NOMEM, "out of memory reading '%s'", path);
    if (bad || n > max) {
        free(buf);
        return cnp_err(bad ? CNP_E_IO : CNP_E_CONFIG, "'%s': %s", path,
                       bad ? "read error" : "too large for a key or a checksum file");
    }
    *out = buf;
    *len = n;
    return CNP_OK;
}

static cnp_status load(const char *path, int want_private, cnp_sign_key **out)
{
    unsigned char *pem = NULL;
    size_t len = 0;
    *out = NULL;
    cnp_status st = read_all(path, 65536, &pem, &len);
    if (st != CNP_OK)
        return st;
    int encrypted = memmem(pem, len, "ENCRYPTED", 9) != NULL;
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL) : NULL;
    if (!k && !want_private && b) {
        BIO_free(b);
        b = BIO_new_mem_buf(pem, (int)len);
        k = b ? PEM_read_bio_PUBKEY(b, NULL, no_passphrase, NULL) : NULL;
    }
    BIO_free(b);
    free(pem);
    if (k && EVP_PKEY_id(k) == EVP_PKEY_ED25519) {
        *out = (cnp_sign_key *)(void *)k;
        return CNP_OK;
    }
    const int other = k != NULL;
    EVP_PKEY_free(k);
    if (encrypted)
        return cnp_err(CNP_E_CONFIG, "'%s': an encrypted key (a passphrase cannot be asked "
                       "for): give the key without a passphrase (openssl pkey -in KEY -out "
                       "PLAIN)", path);
    return cnp_err(CNP_E_CONFIG, "'%s': %s", path,
                   other ? "not an Ed25519 key" : want_private
                   ? "not an Ed25519 private key in PEM (make one: openssl genpkey -algorithm "
                     "ed25519 -out key.pem)" : "not an Ed25519 public key in PEM");
}

cnp_status cnp_sign_key_load(const char *path, cnp_sign_key **out)
{
    return load(path, 1, out);
}

cnp_status cnp_sign_pub_load(const char *path, cnp_sign_key **out)
{
    return load(path, 0, out);
}

cnp_status cnp_sign_pub_from_pem(const char *pem, cnp_sign_key **out)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PUBKEY(b, NULL, no_passphrase, NULL) : NULL;
    BIO_free(b);
    *out = NULL;
    if (!k || EVP_PKEY_id(k) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(k);
        return cnp_err(CNP_E_DATA, "not an Ed25519 public key in PEM");
    }
    *out = (cnp_sign_key *)(void *)k;
    return CNP_OK;
}

void cnp_sign_key_free(cnp_sign_key **k)
{
    if (!k || !*k)
        return;
    EVP_PKEY_free(pkey(*k));
    *k = NULL;
}

cnp_status cnp_sign_key_public(const cnp_sign_key *k, char **pem, char fingerprint[65])
{
    unsigned char *der = NULL;
    const int dlen = i2d_PUBKEY(pkey(k), &der);
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL;
    *pem = NULL;
    if (dlen <= 0 || !b || !PEM_write_bio_PUBKEY(b, pkey(k))) {
        OPENSSL_free(der);
        BIO_free(b);
        return cnp_err(CNP_E_NOMEM, "cannot write the public key");
    }
    cnp_sha256_hex(der, (size_t)dlen, fingerprint);
    OPENSSL_free(der);
    const long n = BIO_get_mem_data(b, &data);
    *pem = malloc((size_t)n + 1);
    if (*pem) {
        memcpy(*pem, data, (size_t)n);
        (*pem)[n] = '\0';
    }
    BIO_free(b);
    return *pem ? CNP_OK : cnp_err(CNP_E_NOMEM, "out of memory");
}

cnp_status cnp_sign_file(const cnp_sign_key *k, const char *path, const char *sig_path)
{
    unsigned char *data = NULL, sig[CNP_SIG_LEN];
    size_t len = 0, slen = sizeof sig;
    cnp_status st = read_all(path, (size_t)64 << 20, &data, &len);
    if (st != CNP_OK)
        return st;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    /* Ed25519 is "pure": no digest of our own, the one-shot call over the bytes. */
    const int ok = md && EVP_DigestSignInit(md, NULL, NULL, NULL, pkey(k)) == 1 &&
                   EVP_DigestSign(md, sig, &slen, data, len) == 1 && slen == sizeof sig;
    EVP_MD_CTX_free(md);
    free(data);
    if (!ok)
        return cnp_err(CNP_E_IO, "cannot sign '%s'", path);
    FILE *f = fopen(sig_path, "wb");
    if (!f)
        return cnp_err(CNP_E_IO, "cannot write '%s': %s", sig_path, strerror(errno));
    const int bad = fwrite(sig, 1, slen, f) != slen;
    if (fclose(f) != 0 || bad)
        return cnp_err(CNP_E_IO, "cannot write '%s': %s", sig_path, strerror(errno));
    return CNP_OK;
}

int cnp_sign_check(const cnp_sign_key *key, const void *data, size_t len, const void *sig,
                   size_t siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    const int ok = md && siglen == CNP_SIG_LEN &&
                   EVP_DigestVerifyInit(md, NULL, NULL, NULL, pkey(key)) == 1 &&
                   EVP_DigestVerify(md, sig, siglen, data, len) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}
