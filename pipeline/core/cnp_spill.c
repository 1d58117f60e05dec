/* pipeline/core/cnp_spill.c - planes of a tiling in one unlinked file. */
#include "cnp_spill.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cnp_err.h"

struct cnp_spill {
    int        fd;
    cnp_tiling t;
    int        nplanes;
    size_t     esize[CNP_SPILL_MAX_PLANES];
    uint64_t   plane_at[CNP_SPILL_MAX_PLANES];
    uint64_t   bytes;
};

/* An unlinked file in dir: O_TMPFILE where the file system has it, else a
 * named file removed at once. */
static int open_anonymous(const char *dir)
{
#ifdef O_TMPFILE
    const int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
        return fd;
#endif
    char path[4096];
    if (snprintf(path, sizeof path, "%s/.canopy-spill-XXXXXX", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    const int fd2 = mkostemp(path, O_CLOEXEC);
    if (fd2 >= 0)
        unlink(path);
    return fd2;
}

cnp_status cnp_spill_create(const char *dir, const cnp_tiling *t, int nplanes,
                            const size_t *esize, cnp_spill **out)
{
    *out = NULL;
    if (!dir || !t || nplanes < 1 || nplanes > CNP_SPILL_MAX_PLANES || t->win[2] < 1 ||
        t->win[3] < 1)
        return cnp_err(CNP_E_ARG, "spill: bad layout");
    cnp_spill *s = calloc(1, sizeof *s);
    if (!s)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    s->t = *t;
    s->nplanes = nplanes;
    const uint64_t npx = (uint64_t)t->win[2] * (uint64_t)t->win[3];
    for (int p = 0; p < nplanes; p++) {
        if (esize[p] < 1 || esize[p] > 8) {
            free(s);
            return cnp_err(CNP_E_ARG, "spill: bad element size");
        }
        s->esize[p] = esize[p];
        s->plane_at[p] = s->bytes;
        s->bytes += npx * esize[p];
    }
    s->fd = open_anonymous(dir);
    if (s->fd < 0) {
        const int e = errno;
        free(s);
        return cnp_err(CNP_E_IO, "cannot create a spill file in '%s': %s (set TMPDIR to a "
                       "folder with room for it)", dir, strerror(e));
    }
    *out = s;
    return CNP_OK;
}

uint64_t cnp_spill_bytes(const cnp_spill *s) { return s ? s->bytes : 0; }

/* Where tile k of strip s of plane p starts, and its size. */
static int locate(const cnp_spill *sp, int s, int k, int p, uint64_t *at, size_t *len)
{
    if (p < 0 || p >= sp->nplanes || s < 0 || s >= sp->t.nstrips || k < 0 || k >= sp->t.ntiles)
        return 0;
    int x0, w, y0, h;
    cnp_tiling_tile(&sp->t, k, &x0, &w);
    cnp_tiling_strip(&sp->t, s, &y0, &h);
    const uint64_t W = (uint64_t)sp->t.win[2];
    const uint64_t px = (uint64_t)(y0 - sp->t.win[1]) * W + (uint64_t)(x0 - sp->t.win[0]) * (uint64_t)h;
    *at = sp->plane_at[p] + px * sp->esize[p];
    *len = (size_t)w * (size_t)h * sp->esize[p];
    return 1;
}

cnp_status cnp_spill_write(cnp_spill *sp, int s, int k, int p, const void *buf)
{
    uint64_t at;
    size_t len;
    if (!sp || !buf || !locate(sp, s, k, p, &at, &len))
        return cnp_err(CNP_E_ARG, "spill: bad tile");
    for (size_t done = 0; done < len;) {
        const ssize_t n = pwrite(sp->fd, (const char *)buf + done, len - done, (off_t)(at + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return cnp_err(CNP_E_IO, "writing the spill file failed: %s (TMPDIR full?)",
                           n < 0 ? strerror(errno) : "no progress");
        done += (size_t)n;
    }
    return CNP_OK;
}

cnp_status cnp_spill_read(const cnp_spill *sp, int s, int k, int p, void *buf)
{
    uint64_t at;
    size_t len;
    if (!sp || !buf || !locate(sp, s, k, p, &at, &len))
        return cnp_err(CNP_E_ARG, "spill: bad tile");
    for (size_t done = 0; done < len;) {
        const ssize_t n = pread(sp->fd, (char *)buf + done, len - done, (off_t)(at + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return cnp_err(CNP_E_IO, "reading the spill file failed: %s",
                           n < 0 ? strerror(errno) : "short file");
        done += (size_t)n;
    }
    return CNP_OK;
}

void cnp_spill_close(cnp_spill **s)
{
    if (!s || !*s)
        return;
    if ((*s)->fd >= 0)
        close((*s)->fd);
    free(*s);
    *s = NULL;
}
