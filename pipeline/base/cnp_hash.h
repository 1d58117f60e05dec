/* pipeline/base/cnp_hash.h - SHA-256 of files (OpenSSL libcrypto). */
#ifndef CNP_HASH_H
#define CNP_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_status.h"

/* SHA-256 of a file as 64 hex digits + NUL. */
cnp_status cnp_sha256_file(const char *path, char hex[65], int64_t *size);

/* cnp_sha256_fd() : SHA-256 of what is left to read from `fd` (not closed).
 * With limit >= 0 it reads no more than limit + 1 bytes, so that a file
 * larger than expected shows as a size (*size > limit) instead of being
 * hashed to its end. `label` names the file in messages. */
cnp_status cnp_sha256_fd(int fd, int64_t limit, const char *label, char hex[65], int64_t *size);

/* SHA-256 of a buffer as 64 hex digits + NUL. */
void cnp_sha256_hex(const void *data, size_t len, char hex[65]);

#endif /* CNP_HASH_H */
