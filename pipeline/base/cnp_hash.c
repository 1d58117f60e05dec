/* pipeline/base/cnp_hash.c - SHA-256 of input and output files (OpenSSL libcrypto). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cnp_err.h"
#include "cnp_hash.h"

static void to_hex(const unsigned char *md, unsigned int len, char hex[65])
{
    for (unsigned int i = 0; i < len && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

void cnp_sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    hex[0] = '\0';
    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL))
        to_hex(md, mdlen, hex);
}

cnp_status cnp_sha256_fd(int fd, int64_t limit, const char *label, char hex[65], int64_t *size)
{
    enum { CHUNK = 1 << 20 };
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char *buf = malloc(CHUNK), digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    cnp_status st = CNP_OK;
    int64_t total = 0;

    if (!md || !buf || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        st = cnp_err(CNP_E_NOMEM, "cannot set up SHA-256");
        goto done;
    }
    for (;;) {
        size_t want = CHUNK;
        if (limit >= 0 && (int64_t)want > limit + 1 - total)
            want = (size_t)(limit + 1 - total);
        if (want == 0)
            break;                     /* past the limit: the size tells */
        const ssize_t n = read(fd, buf, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            st = cnp_err(CNP_E_IO, "cannot read '%s' to hash it: %s", label, strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        if (!EVP_DigestUpdate(md, buf, (size_t)n)) {
            st = cnp_err(CNP_E_IO, "SHA-256 failed on '%s'", label);
            goto done;
        }
        total += n;
    }
    EVP_DigestFinal_ex(md, digest, &len);
    to_hex(digest, len, hex);
    if (size)
        *size = total;

done:
    EVP_MD_CTX_free(md);
    free(buf);
    return st;
}

cnp_status cnp_sha256_file(const char *path, char hex[65], int64_t *size)
{
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cnp_err(CNP_E_IO, "cannot read '%s' to hash it: %s", path, strerror(errno));
    const cnp_status st = cnp_sha256_fd(fd, -1, path, hex, size);
    close(fd);
    return st;
}
