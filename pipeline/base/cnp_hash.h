/* pipeline/base/cnp_hash.h - SHA-256 of files (OpenSSL libcrypto). */
#ifndef CNP_HASH_H
#define CNP_HASH_H

#include <stdint.h>

#include "cnp_status.h"

/* SHA-256 of a file as 64 hex digits + NUL. */
cnp_status cnp_sha256_file(const char *path, char hex[65], int64_t *size);

#endif /* CNP_HASH_H */
