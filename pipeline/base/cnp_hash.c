/* pipeline/base/cnp_hash.c - SHA-256 of input and output files (OpenSSL libcrypto). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cnp_err.h"
#include "cnp_hash.h"

cnp_status cnp_sha256_file(const char *path, char hex[65], int64_t *size)
{
    enum { CHUNK = 1 << 20 };
    FILE *f = fopen(path, "rb");
    EVP_MD_CTX *md = NULL;
    unsigned char *buf = NULL, digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    cnp_status st = CNP_OK;
    int64_t total = 0;

    if (!f)
        return cnp_err(CNP_E_IO, "cannot read '%s' to hash it: %s", path, strerror(errno));
    md = EVP_MD_CTX_new();
    buf = malloc(CHUNK);
    if (!md || !buf || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        st = cnp_err(CNP_E_NOMEM, "cannot set up SHA-256");
        goto done;
    }
    for (;;) {
        const size_t n = fread(buf, 1, CHUNK, f);
        if (n > 0 && !EVP_DigestUpdate(md, buf, n)) {
            st = cnp_err(CNP_E_IO, "SHA-256 failed on '%s'", path);
            goto done;
        }
        total += (int64_t)n;
        if (n < CHUNK)
            break;
    }
    if (ferror(f)) {
        st = cnp_err(CNP_E_IO, "cannot read '%s' to hash it: %s", path, strerror(errno));
        goto done;
    }
    EVP_DigestFinal_ex(md, digest, &len);
    for (unsigned int i = 0; i < len && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    if (size)
        *size = total;

done:
    EVP_MD_CTX_free(md);
    free(buf);
    fclose(f);
    return st;
}
