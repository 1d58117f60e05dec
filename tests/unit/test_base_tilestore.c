/* tests/unit/test_base_tilestore.c - base/cnp_tilestore: planes of a grid kept
 * tile by tile.
 *
 * Edge tiles, constant tiles kept as one value (and so leaving holes in the
 * file), tiles written again, and many threads writing and reading their own
 * tiles at once, which must read back exactly what each wrote.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cnp_test.h"
#include "cnp_tilestore.h"

static char dir[64];

static void make_dir(void)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/cnp-tilestore-XXXXXX");
        CHECK(mkdtemp(dir) != NULL);
    }
}

static cnp_tilestore *open_store(int w, int h, int tile, const char *name)
{
    static const size_t es[3] = { 4, 1, 8 };
    char path[128];
    cnp_tilestore *s = NULL;
    make_dir();
    snprintf(path, sizeof path, "%s/%s", dir, name);
    CHECK(cnp_tilestore_create(path, w, h, tile, 3, es, &s) == CNP_OK);
    return s;
}

static void test_edges_and_values(void)
{
    cnp_tilestore *s = open_store(10, 7, 4, "a");   /* tiles 3 x 2, edge tiles 2 and 3 wide/high */
    CHECK(s && cnp_tilestore_tiles_x(s) == 3 && cnp_tilestore_tiles_y(s) == 2);
    float f[16], g[16];
    for (int ty = 0; ty < 2; ty++)
        for (int tx = 0; tx < 3; tx++) {
            const int tw = tx < 2 ? 4 : 2, th = ty < 1 ? 4 : 3;
            for (int i = 0; i < tw * th; i++)
                f[i] = (float)(100 * ty + 10 * tx + i);
            CHECK(cnp_tilestore_write(s, tx, ty, 0, f) == CNP_OK);
        }
    for (int ty = 0; ty < 2; ty++)
        for (int tx = 0; tx < 3; tx++) {
            const int tw = tx < 2 ? 4 : 2, th = ty < 1 ? 4 : 3;
            CHECK(cnp_tilestore_read(s, tx, ty, 0, g) == CNP_OK);
            for (int i = 0; i < tw * th; i++)
                CHECK(g[i] == (float)(100 * ty + 10 * tx + i));
        }
    /* Never written: zero. */
    uint8_t b[16];
    memset(b, 7, sizeof b);
    CHECK(cnp_tilestore_read(s, 1, 1, 1, b) == CNP_OK);
    for (int i = 0; i < 12; i++)
        CHECK(b[i] == 0);
    /* Outside the grid or a plane it does not have. */
    CHECK(cnp_tilestore_read(s, 3, 0, 0, g) == CNP_E_ARG);
    CHECK(cnp_tilestore_write(s, 0, 0, 3, f) == CNP_E_ARG);
    cnp_tilestore_close(&s, 1);
    CHECK(s == NULL);
}

static void test_constant_tiles_leave_holes(void)
{
    cnp_tilestore *s = open_store(512, 512, 256, "b");
    double v[256 * 256];
    for (size_t i = 0; i < 256 * 256; i++)
        v[i] = -2.5;
    for (int t = 0; t < 4; t++)
        CHECK(cnp_tilestore_write(s, t % 2, t / 2, 2, v) == CNP_OK);
    char path[128];
    snprintf(path, sizeof path, "%s/b", dir);
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_blocks == 0);    /* nothing stored but the values */
    double r[256 * 256];
    CHECK(cnp_tilestore_read(s, 1, 1, 2, r) == CNP_OK);
    CHECK(r[0] == -2.5 && r[256 * 256 - 1] == -2.5);
    /* Written again, no longer constant: now in the file. */
    v[1000] = 3.0;
    CHECK(cnp_tilestore_write(s, 1, 1, 2, v) == CNP_OK);
    CHECK(cnp_tilestore_read(s, 1, 1, 2, r) == CNP_OK);
    CHECK(r[999] == -2.5 && r[1000] == 3.0);
    /* And constant again. */
    v[1000] = -2.5;
    CHECK(cnp_tilestore_write(s, 1, 1, 2, v) == CNP_OK);
    CHECK(cnp_tilestore_read(s, 1, 1, 2, r) == CNP_OK);
    CHECK(r[1000] == -2.5);
    cnp_tilestore_close(&s, 1);
    CHECK(stat(path, &st) != 0);                           /* removed */
}

static void test_threads_own_tiles(void)
{
    enum { W = 1000, H = 900, T = 64 };
    cnp_tilestore *s = open_store(W, H, T, "c");
    const int ntx = cnp_tilestore_tiles_x(s), nty = cnp_tilestore_tiles_y(s);
    int bad = 0;
    #pragma omp parallel for schedule(dynamic, 1) reduction(+:bad)
    for (int t = 0; t < ntx * nty; t++) {
        float f[T * T];
        for (int i = 0; i < T * T; i++)
            f[i] = (float)(t * 7 + i % 13);
        bad += cnp_tilestore_write(s, t % ntx, t / ntx, 0, f) != CNP_OK;
    }
    #pragma omp parallel for schedule(dynamic, 1) reduction(+:bad)
    for (int t = 0; t < ntx * nty; t++) {
        float g[T * T];
        const int tx = t % ntx, ty = t / ntx;
        const int tw = W - tx * T < T ? W - tx * T : T, th = H - ty * T < T ? H - ty * T : T;
        bad += cnp_tilestore_read(s, tx, ty, 0, g) != CNP_OK;
        for (int i = 0; i < tw * th; i++)
            bad += g[i] != (float)(t * 7 + i % 13);
    }
    CHECK(bad == 0);
    cnp_tilestore_close(&s, 1);
}

static void test_bad_layout(void)
{
    static const size_t es[2] = { 4, 3 };
    cnp_tilestore *s = NULL;
    make_dir();
    char path[128];
    snprintf(path, sizeof path, "%s/d", dir);
    CHECK(cnp_tilestore_create(path, 10, 10, 4, 2, es, &s) == CNP_E_ARG && !s);
    CHECK(cnp_tilestore_create(path, 0, 10, 4, 1, es, &s) == CNP_E_ARG && !s);
    CHECK(cnp_tilestore_create("/nonexistent-dir/x", 10, 10, 4, 1, es, &s) == CNP_E_IO && !s);
    rmdir(dir);
}

CNP_TEST_MAIN("tilestore",
    TEST_CASE(test_edges_and_values),
    TEST_CASE(test_constant_tiles_leave_holes),
    TEST_CASE(test_threads_own_tiles),
    TEST_CASE(test_bad_layout))
