/* pipeline/base/cnp_tilestore.c - planes of a grid, tile by tile, in one file. */
#include "cnp_tilestore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cnp_err.h"

/* What a (tile, plane) holds: its bytes in the file, or one value. */
typedef struct slot {
    uint8_t  in_file;
    uint64_t value;             /* the element, when !in_file */
} slot;

struct cnp_tilestore {
    int     fd;
    char   *path;
    int     width, height, tile, ntx, nty, nplanes;
    size_t  esize[CNP_TILESTORE_MAX_PLANES];
    off_t   plane_at[CNP_TILESTORE_MAX_PLANES];   /* where plane p's tiles start */
    slot   *slots;                                /* [tile][plane]              */
};

cnp_status cnp_tilestore_create(const char *path, int width, int height, int tile, int nplanes,
                                const size_t *esize, cnp_tilestore **out)
{
    *out = NULL;
    if (width < 1 || height < 1 || tile < 1 || nplanes < 1 ||
        nplanes > CNP_TILESTORE_MAX_PLANES)
        return cnp_err(CNP_E_ARG, "tile store: bad layout");
    cnp_tilestore *s = calloc(1, sizeof *s);
    if (!s)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    s->fd = -1;
    s->width = width;
    s->height = height;
    s->tile = tile;
    s->ntx = (width + tile - 1) / tile;
    s->nty = (height + tile - 1) / tile;
    s->nplanes = nplanes;
    const size_t ntiles = (size_t)s->ntx * (size_t)s->nty;
    off_t at = 0;
    for (int p = 0; p < nplanes; p++) {
        if (esize[p] != 1 && esize[p] != 2 && esize[p] != 4 && esize[p] != 8) {
            free(s);
            return cnp_err(CNP_E_ARG, "tile store: bad element size");
        }
        s->esize[p] = esize[p];
        s->plane_at[p] = at;
        at += (off_t)(ntiles * (size_t)tile * (size_t)tile * esize[p]);
    }
    s->slots = calloc(ntiles * (size_t)nplanes, sizeof *s->slots);
    s->path = strdup(path);
    if (!s->slots || !s->path) {
        cnp_tilestore_close(&s, 0);
        return cnp_err(CNP_E_NOMEM, "out of memory");
    }
    s->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (s->fd < 0) {
        const int e = errno;
        cnp_tilestore_close(&s, 0);
        return cnp_err(CNP_E_IO, "cannot create '%s': %s", path, strerror(e));
    }
    *out = s;
    return CNP_OK;
}

int cnp_tilestore_tiles_x(const cnp_tilestore *s) { return s->ntx; }
int cnp_tilestore_tiles_y(const cnp_tilestore *s) { return s->nty; }

/* The tile's size, its slot and where its bytes go. */
static int locate(const cnp_tilestore *s, int tx, int ty, int p, size_t *n, slot **sl,
                  off_t *at)
{
    if (tx < 0 || ty < 0 || tx >= s->ntx || ty >= s->nty || p < 0 || p >= s->nplanes)
        return 0;
    const int tw = s->width - tx * s->tile < s->tile ? s->width - tx * s->tile : s->tile;
    const int th = s->height - ty * s->tile < s->tile ? s->height - ty * s->tile : s->tile;
    const size_t t = (size_t)ty * (size_t)s->ntx + (size_t)tx;
    *n = (size_t)tw * (size_t)th;
    *sl = &s->slots[t * (size_t)s->nplanes + (size_t)p];
    *at = s->plane_at[p] + (off_t)(t * (size_t)s->tile * (size_t)s->tile * s->esize[p]);
    return 1;
}

static cnp_status io_all(int write, int fd, void *buf, size_t len, off_t at, const char *path)
{
    unsigned char *b = buf;
    while (len > 0) {
        const ssize_t k = write ? pwrite(fd, b, len, at) : pread(fd, b, len, at);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return cnp_err(CNP_E_IO, "%s '%s': %s", write ? "writing" : "reading", path,
                           k < 0 ? strerror(errno) : "unexpected end of file");
        b += k;
        len -= (size_t)k;
        at += k;
    }
    return CNP_OK;
}

cnp_status cnp_tilestore_write(cnp_tilestore *s, int tx, int ty, int p, const void *buf)
{
    size_t n;
    slot *sl;
    off_t at;
    if (!locate(s, tx, ty, p, &n, &sl, &at))
        return cnp_err(CNP_E_ARG, "tile store: no tile %d,%d plane %d", tx, ty, p);
    const size_t es = s->esize[p], len = n * es;
    /* One value everywhere (memcmp against itself one element on): keep the
     * value, write nothing. */
    if (n == 1 || memcmp(buf, (const unsigned char *)buf + es, len - es) == 0) {
        sl->in_file = 0;
        sl->value = 0;
        memcpy(&sl->value, buf, es);
        return CNP_OK;
    }
    sl->in_file = 1;
    return io_all(1, s->fd, (void *)(uintptr_t)buf, len, at, s->path);
}

cnp_status cnp_tilestore_read(cnp_tilestore *s, int tx, int ty, int p, void *buf)
{
    size_t n;
    slot *sl;
    off_t at;
    if (!locate(s, tx, ty, p, &n, &sl, &at))
        return cnp_err(CNP_E_ARG, "tile store: no tile %d,%d plane %d", tx, ty, p);
    const size_t es = s->esize[p];
    if (sl->in_file)
        return io_all(0, s->fd, buf, n * es, at, s->path);
    unsigned char *b = buf;
    if (sl->value == 0) {
        memset(b, 0, n * es);
        return CNP_OK;
    }
    for (size_t i = 0; i < n; i++)
        memcpy(b + i * es, &sl->value, es);
    return CNP_OK;
}

void cnp_tilestore_close(cnp_tilestore **ps, int remove_file)
{
    if (!ps || !*ps)
        return;
    cnp_tilestore *s = *ps;
    if (s->fd >= 0)
        close(s->fd);
    if (remove_file && s->path)
        unlink(s->path);
    free(s->path);
    free(s->slots);
    free(s);
    *ps = NULL;
}
