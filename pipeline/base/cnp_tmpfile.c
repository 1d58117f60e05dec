/* pipeline/base/cnp_tmpfile.c - temporary names for files written, then renamed
 * into place (see cnp_tmpfile.h). */
#include "cnp_tmpfile.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* This host's name, cut at the first dot and kept to characters that are
 * safe in a file name. */
static void host_name(char *out, size_t size)
{
    char h[256] = "";
    if (gethostname(h, sizeof h - 1) != 0 || !h[0])
        snprintf(h, sizeof h, "localhost");
    size_t n = 0;
    for (const char *c = h; *c && *c != '.' && n + 1 < size; c++)
        out[n++] = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                   (*c >= '0' && *c <= '9') || *c == '_' ? *c : '_';
    out[n] = '\0';
}

/* Folder and file name of path ("." when it has no folder). */
static void split_path(const char *path, char *dir, size_t dsize, const char **name)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, dsize, ".");
        *name = path;
        return;
    }
    const size_t n = slash == path ? 1 : (size_t)(slash - path);
    snprintf(dir, dsize, "%.*s", (int)n, path);
    *name = slash + 1;
}

void cnp_tmp_path(const char *path, char *out, size_t size)
{
    char dir[4096], host[128];
    const char *name;
    split_path(path, dir, sizeof dir, &name);
    host_name(host, sizeof host);
    snprintf(out, size, "%s/.%s.tmp-%s-%ld", dir, name, host, (long)getpid());
}

void cnp_tmp_remove_dead(const char *path)
{
    char dir[4096], host[128], prefix[600];
    const char *name;
    split_path(path, dir, sizeof dir, &name);
    host_name(host, sizeof host);
    const int plen = snprintf(prefix, sizeof prefix, ".%s.tmp-%s-", name, host);
    if (plen <= 0 || (size_t)plen >= sizeof prefix)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, (size_t)plen) != 0)
            continue;
        char *end;
        errno = 0;
        const long pid = strtol(e->d_name + plen, &end, 10);
        if (errno || end == e->d_name + plen || pid <= 0 || (*end && *end != '-'))
            continue;
        /* Still running (or not ours to signal): not a leftover. */
        if (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char p[4700];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
}
