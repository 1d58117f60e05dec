/* pipeline/base/cnp_fs.c - removing trees, creating and syncing folders,
 * listing files, clocks. */
#include "cnp_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cnp_err.h"

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

int cnp_fs_remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(sb.st_mode))
        return remove(path);
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

cnp_status cnp_fs_mkdirs(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return cnp_err(CNP_E_ARG, "path too long: '%s'", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return cnp_err(CNP_E_IO, "cannot create folder '%s': %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return cnp_err(CNP_E_IO, "cannot create folder '%s': %s", buf, strerror(errno));
    return CNP_OK;
}

cnp_status cnp_fs_fsync_path(const char *path)
{
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cnp_err(CNP_E_IO, "cannot open '%s' to sync it: %s", path, strerror(errno));
    const int rc = fsync(fd);
    const int e = errno;
    close(fd);
    /* Some file systems do not sync folders (EINVAL): nothing more to do. */
    if (rc != 0 && e != EINVAL)
        return cnp_err(CNP_E_IO, "cannot sync '%s': %s", path, strerror(e));
    return CNP_OK;
}

/* nftw has no user argument; the listing in progress is per thread. */
typedef struct listing { char **v; size_t n, cap, prefix; int nomem; } listing;
static _Thread_local listing *cur;

static int list_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)ftw;
    if (flag != FTW_F)
        return 0;
    if (cur->n == cur->cap) {
        const size_t cap = cur->cap ? 2 * cur->cap : 64;
        char **p = realloc(cur->v, cap * sizeof *p);
        if (!p)
            return cur->nomem = 1;
        cur->v = p;
        cur->cap = cap;
    }
    if (!(cur->v[cur->n] = strdup(path + cur->prefix)))
        return cur->nomem = 1;
    cur->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

cnp_status cnp_fs_list_files(const char *dir, char ***out, size_t *n)
{
    listing l = { NULL, 0, 0, strlen(dir) + 1, 0 };
    cur = &l;
    const int rc = nftw(dir, list_entry, 16, FTW_PHYS);
    cur = NULL;
    *out = NULL;
    *n = 0;
    if (rc != 0) {
        const int e = errno;
        cnp_fs_free_list(l.v, l.n);
        return l.nomem ? cnp_err(CNP_E_NOMEM, "out of memory listing '%s'", dir)
                       : cnp_err(CNP_E_IO, "cannot list '%s': %s", dir, strerror(e));
    }
    if (l.n)
        qsort(l.v, l.n, sizeof *l.v, cmp_str);
    *out = l.v;
    *n = l.n;
    return CNP_OK;
}

void cnp_fs_free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

int cnp_fs_relpath_ok(const char *rel)
{
    if (!rel || !*rel || *rel == '/' || strlen(rel) >= 4096)
        return 0;
    for (const char *c = rel; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return 0;
    for (const char *p = rel; *p;) {
        const char *end = strchr(p, '/');
        const size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        if (!end)
            break;
        p = end + 1;
        if (!*p)
            return 0;      /* a trailing '/' is an empty last component */
    }
    return 1;
}

/* Why an open failed, from its errno (O_NOFOLLOW gives ELOOP on a link). */
static const char *open_reason(int e)
{
    switch (e) {
    case ENOENT:  return "missing";
    case ELOOP:   return "a symbolic link";
    case ENOTDIR: return "not a regular file";
    default:      return strerror(e);
    }
}

/* The fd when it is a regular file, else close it and say why. */
static int only_regular(int fd, const char **why)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        *why = "not a regular file";
        close(fd);
        return -1;
    }
    /* Reads of a regular file never block: back to ordinary reads. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

int cnp_fs_open_inside(const char *dir, const char *rel, const char **why)
{
    char part[4096];
    if (!cnp_fs_relpath_ok(rel)) {
        *why = "not a relative path inside the folder";
        return -1;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        *why = open_reason(errno);
        return -1;
    }
    /* One component at a time, none of them followed if it is a link. */
    for (const char *p = rel;;) {
        const char *end = strchr(p, '/');
        const size_t n = end ? (size_t)(end - p) : strlen(p);
        memcpy(part, p, n);
        part[n] = '\0';
        const int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (end ? O_DIRECTORY : O_NONBLOCK);
        const int next = openat(fd, part, flags);
        const int e = errno;
        close(fd);
        if (next < 0) {
            *why = open_reason(e);
            return -1;
        }
        fd = next;
        if (!end)
            return only_regular(fd, why);
        p = end + 1;
    }
}

int cnp_fs_open_regular(const char *path, const char **why)
{
    const int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        *why = open_reason(errno);
        return -1;
    }
    return only_regular(fd, why);
}

double cnp_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cnp_utc_now(char out[32])
{
    const time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
