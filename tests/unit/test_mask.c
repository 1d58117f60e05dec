/* tests/unit/test_mask.c - quality-layer decoding and buffer dilation. */
#include <stdint.h>
#include <stdlib.h>

#include "cnp_mask.h"
#include "cnp_test.h"

/* Landsat Collection 2 QA_PIXEL flags Canopy uses by default
 * (configs/landsat_c2l2.ini): fill 0, dilated cloud 1, cirrus 2, cloud 3,
 * cloud shadow 4, snow 5; all but fill and snow spread. */
static cnp_mask_rule landsat_rule(void)
{
    cnp_mask_rule r;
    memset(&r, 0, sizeof r);
    r.kind = CNP_MASK_RULE_BITS;
    r.invalid_bits = 0x3f;
    r.spread_bits = (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4);
    return r;
}

/* Sentinel-2 SCL classes (configs/sentinel2_l2a.ini): nodata 0, saturated 1,
 * cloud shadow 3, cloud medium 8, cloud high 9, cirrus 10, snow 11. */
static cnp_mask_rule scl_rule(void)
{
    cnp_mask_rule r;
    memset(&r, 0, sizeof r);
    r.kind = CNP_MASK_RULE_VALUES;
    const int inv[] = { 0, 1, 3, 8, 9, 10, 11 }, spr[] = { 3, 8, 9, 10 };
    for (size_t i = 0; i < sizeof inv / sizeof inv[0]; i++)
        r.invalid[inv[i]] = 1;
    for (size_t i = 0; i < sizeof spr / sizeof spr[0]; i++)
        r.spread[spr[i]] = 1;
    return r;
}

static void test_decode_qa_pixel_real_values(void)
{
    /* Values seen in the real LC08_L2SP_001062_20201031 QA_PIXEL layer, and
     * the codes worked out by hand from the bit table:
     *     1 = fill (bit 0)                           -> unobserved
     * 21824 = clear (6), low confidences (8,10,12,14) -> clear
     * 22280 = cloud (3), high cloud confidence        -> spreads
     * 23888 = cloud shadow (4) with clear (6) set     -> spreads
     * 55052 = cirrus (2) + cloud (3)                  -> spreads
     * 21952 = clear + water (7)                       -> clear
     * 13600 = snow (5) + low confidences              -> unobserved
     * 21826 = dilated cloud (1)                       -> spreads */
    const uint16_t qa[] = { 1, 21824, 22280, 23888, 55052, 21952, 13600, 21826 };
    const uint8_t want[] = { CNP_MASK_UNOBSERVED, CNP_MASK_CLEAR, CNP_MASK_SPREADS,
                             CNP_MASK_SPREADS, CNP_MASK_SPREADS, CNP_MASK_CLEAR,
                             CNP_MASK_UNOBSERVED, CNP_MASK_SPREADS };
    uint8_t got[8];
    const cnp_mask_rule r = landsat_rule();
    CHECK(cnp_mask_decode(&r, qa, 8, got) == CNP_OK);
    for (int i = 0; i < 8; i++)
        CHECK(got[i] == want[i]);

    /* Snow made observed: only the flags configured count. */
    cnp_mask_rule r2 = r;
    r2.invalid_bits &= ~(1u << 5);
    CHECK(cnp_mask_decode(&r2, qa, 8, got) == CNP_OK);
    CHECK(got[6] == CNP_MASK_CLEAR);
    CHECK(got[0] == CNP_MASK_UNOBSERVED);
}

static void test_decode_scl_classes(void)
{
    /* Every SCL class 0..11 plus values out of the class range. */
    const uint16_t scl[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 255, 300 };
    const uint8_t want[] = { 1, 1, 0, 2, 0, 0, 0, 0, 2, 2, 2, 1, 0, 0, 0 };
    uint8_t got[15];
    const cnp_mask_rule r = scl_rule();
    CHECK(cnp_mask_decode(&r, scl, 15, got) == CNP_OK);
    for (int i = 0; i < 15; i++)
        CHECK(got[i] == want[i]);
}

static void test_decode_none_and_args(void)
{
    const uint16_t v[] = { 0, 9, 65535 };
    uint8_t got[3] = { 7, 7, 7 };
    cnp_mask_rule r;
    memset(&r, 0, sizeof r);
    CHECK(cnp_mask_decode(&r, v, 3, got) == CNP_OK);
    CHECK(got[0] == 0 && got[1] == 0 && got[2] == 0);
    r.kind = 9;
    got[0] = 7;
    CHECK(cnp_mask_decode(&r, v, 3, got) == CNP_E_ARG);
    CHECK(got[0] == 7);
    CHECK(cnp_mask_decode(NULL, v, 3, got) == CNP_E_ARG);
    CHECK(cnp_mask_decode(&r, NULL, 0, NULL) == CNP_E_ARG);   /* bad kind */
    r.kind = CNP_MASK_RULE_BITS;
    CHECK(cnp_mask_decode(&r, NULL, 0, NULL) == CNP_OK);
}

/* Byte masks decode through a table: the same codes as the UInt16 decoder for
 * every byte value and every rule kind, also in place. */
static void test_decode_u8_matches_u16(void)
{
    cnp_mask_rule rules[3];
    rules[0] = scl_rule();
    rules[1] = landsat_rule();
    memset(&rules[2], 0, sizeof rules[2]);
    for (int k = 0; k < 3; k++) {
        uint16_t v16[256];
        uint8_t v8[256], want[256], got[256], table[256];
        for (int v = 0; v < 256; v++) {
            v16[v] = (uint16_t)v;
            v8[v] = (uint8_t)(255 - v);
        }
        CHECK(cnp_mask_decode(&rules[k], v16, 256, want) == CNP_OK);
        CHECK(cnp_mask_table(&rules[k], table) == CNP_OK);
        CHECK(cnp_mask_decode_u8(table, v8, 256, got) == CNP_OK);
        int diff = 0;
        for (int v = 0; v < 256; v++)
            diff += got[v] != want[255 - v];
        CHECK(diff == 0);
        CHECK(cnp_mask_decode_u8(table, v8, 256, v8) == CNP_OK);   /* in place */
        CHECK(memcmp(got, v8, 256) == 0);
    }
    uint8_t table[256] = { 0 }, one = 3;
    CHECK(cnp_mask_decode_u8(NULL, &one, 1, &one) == CNP_E_ARG && one == 3);
    rules[2].kind = 9;
    table[0] = 7;
    CHECK(cnp_mask_table(&rules[2], table) == CNP_E_ARG && table[0] == 7);
}

/* Reference: brute-force dilation over the whole raster. */
static void reference(const uint8_t *codes, int w, int h, int r, cnp_mask_shape shape,
                      uint8_t *obs)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int o = codes[y * w + x] == CNP_MASK_CLEAR;
            for (int dy = -r; dy <= r && o; dy++)
                for (int dx = -r; dx <= r && o; dx++) {
                    const int sx = x + dx, sy = y + dy;
                    if (sx < 0 || sy < 0 || sx >= w || sy >= h)
                        continue;
                    const int inside = shape == CNP_MASK_SQUARE || dx * dx + dy * dy <= r * r;
                    if (inside && codes[sy * w + sx] == CNP_MASK_SPREADS)
                        o = 0;
                }
            obs[y * w + x] = (uint8_t)o;
        }
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void test_single_pixel_disk_and_square(void)
{
    enum { W = 11, H = 11 };
    uint8_t codes[W * H], obs[W * H];
    uint16_t scratch[W * H];
    memset(codes, 0, sizeof codes);
    codes[5 * W + 5] = CNP_MASK_SPREADS;
    const cnp_mask_window win = { codes, W, H, W, 0, 0, W, H };

    memset(obs, 1, sizeof obs);
    CHECK(cnp_mask_apply(&win, 3, CNP_MASK_DISK, scratch, obs, W) == CNP_OK);
    int n = 0;
    for (int i = 0; i < W * H; i++)
        n += !obs[i];
    CHECK(n == 29);                 /* lattice points with dx^2 + dy^2 <= 9 */
    CHECK(obs[5 * W + 8] == 0 && obs[5 * W + 9] == 1);
    CHECK(obs[2 * W + 5] == 0 && obs[1 * W + 5] == 1);
    CHECK(obs[3 * W + 3] == 0);     /* (2,2): 8 <= 9 */
    CHECK(obs[2 * W + 3] == 1);     /* (2,3): 13 > 9 */

    memset(obs, 1, sizeof obs);
    CHECK(cnp_mask_apply(&win, 3, CNP_MASK_SQUARE, scratch, obs, W) == CNP_OK);
    n = 0;
    for (int i = 0; i < W * H; i++)
        n += !obs[i];
    CHECK(n == 49);
    CHECK(obs[2 * W + 2] == 0 && obs[1 * W + 1] == 1);
}

static void test_unobserved_does_not_spread(void)
{
    enum { W = 7, H = 5 };
    uint8_t codes[W * H], obs[W * H];
    uint16_t scratch[W * H];
    memset(codes, 0, sizeof codes);
    codes[2 * W + 3] = CNP_MASK_UNOBSERVED;
    const cnp_mask_window win = { codes, W, H, W, 0, 0, W, H };
    memset(obs, 1, sizeof obs);
    CHECK(cnp_mask_apply(&win, 2, CNP_MASK_DISK, scratch, obs, W) == CNP_OK);
    for (int i = 0; i < W * H; i++)
        CHECK(obs[i] == (i != 2 * W + 3));
}

static void test_existing_flags_kept(void)
{
    enum { W = 4, H = 1 };
    const uint8_t codes[W] = { 0, 0, 0, 0 };
    uint8_t obs[W] = { 1, 0, 1, 0 };
    uint16_t scratch[W];
    const cnp_mask_window win = { codes, W, H, W, 0, 0, W, H };
    CHECK(cnp_mask_apply(&win, 1, CNP_MASK_DISK, scratch, obs, W) == CNP_OK);
    CHECK(obs[0] == 1 && obs[1] == 0 && obs[2] == 1 && obs[3] == 0);
}

/* Random layers: the whole-raster result equals the reference, and so does
 * the result assembled from strips of any height read with a halo. */
static void test_random_against_reference_and_strips(void)
{
    enum { W = 53, H = 47 };
    static uint8_t codes[W * H], ref[W * H], got[W * H];
    static uint16_t scratch[W * H];
    uint64_t seed = 12345;

    for (int trial = 0; trial < 24; trial++) {
        for (int i = 0; i < W * H; i++) {
            const uint64_t v = rng_next(&seed) % 100;
            codes[i] = v < 3 ? CNP_MASK_SPREADS : v < 6 ? CNP_MASK_UNOBSERVED : CNP_MASK_CLEAR;
        }
        const int r = trial % 8;
        const cnp_mask_shape shape = (trial / 8) % 2 ? CNP_MASK_SQUARE : CNP_MASK_DISK;
        reference(codes, W, H, r, shape, ref);

        const cnp_mask_window whole = { codes, W, H, W, 0, 0, W, H };
        memset(got, 1, sizeof got);
        CHECK(cnp_mask_apply(&whole, r, shape, scratch, got, W) == CNP_OK);
        CHECK(memcmp(got, ref, sizeof ref) == 0);

        /* Strips of height sh, columns [7, 40): as cnp_reader_read does it. */
        const int sh = 1 + trial % 9, x0 = 7, cw = 33;
        memset(got, 1, sizeof got);
        for (int y0 = 0; y0 < H; y0 += sh) {
            const int h = y0 + sh <= H ? sh : H - y0;
            const int hy0 = y0 - r > 0 ? y0 - r : 0, hy1 = y0 + h + r < H ? y0 + h + r : H;
            const int hx0 = x0 - r > 0 ? x0 - r : 0, hx1 = x0 + cw + r < W ? x0 + cw + r : W;
            static uint8_t halo[W * H];
            for (int y = hy0; y < hy1; y++)
                memcpy(halo + (y - hy0) * (hx1 - hx0), codes + y * W + hx0, (size_t)(hx1 - hx0));
            const cnp_mask_window sw = { halo, hx1 - hx0, hy1 - hy0, hx1 - hx0,
                                         x0 - hx0, y0 - hy0, cw, h };
            CHECK(cnp_mask_apply(&sw, r, shape, scratch, got + y0 * W + x0, W) == CNP_OK);
        }
        int same = 1;
        for (int y = 0; y < H; y++)
            for (int x = x0; x < x0 + cw; x++)
                same &= got[y * W + x] == ref[y * W + x];
        CHECK(same);
    }
}

static void test_bad_arguments(void)
{
    uint8_t codes[4] = { 0 }, obs[4] = { 1, 1, 1, 1 };
    uint16_t scratch[4];
    cnp_mask_window win = { codes, 2, 2, 2, 0, 0, 2, 2 };
    CHECK(cnp_mask_apply(NULL, 1, CNP_MASK_DISK, scratch, obs, 2) == CNP_E_ARG);
    CHECK(cnp_mask_apply(&win, -1, CNP_MASK_DISK, scratch, obs, 2) == CNP_E_ARG);
    CHECK(cnp_mask_apply(&win, 4097, CNP_MASK_DISK, scratch, obs, 2) == CNP_E_ARG);
    CHECK(cnp_mask_apply(&win, 1, (cnp_mask_shape)7, scratch, obs, 2) == CNP_E_ARG);
    CHECK(cnp_mask_apply(&win, 1, CNP_MASK_DISK, NULL, obs, 2) == CNP_E_ARG);
    CHECK(cnp_mask_apply(&win, 0, CNP_MASK_DISK, NULL, obs, 2) == CNP_OK);
    CHECK(cnp_mask_apply(&win, 1, CNP_MASK_DISK, scratch, obs, 1) == CNP_E_ARG);
    win.core_x = 1;
    CHECK(cnp_mask_apply(&win, 1, CNP_MASK_DISK, scratch, obs, 2) == CNP_E_ARG);
    win.core_x = 0;
    win.stride = 1;
    CHECK(cnp_mask_apply(&win, 1, CNP_MASK_DISK, scratch, obs, 2) == CNP_E_ARG);
    CHECK(obs[0] == 1 && obs[3] == 1);
}

static void test_radius_px(void)
{
    CHECK(cnp_mask_radius_px(60, 10) == 6);
    CHECK(cnp_mask_radius_px(60, 30) == 2);
    CHECK(cnp_mask_radius_px(60, 20) == 3);
    CHECK(cnp_mask_radius_px(45, 30) == 2);      /* 1.5 rounds up */
    CHECK(cnp_mask_radius_px(60, 600) == 0);
    CHECK(cnp_mask_radius_px(0, 10) == 0);
    CHECK(cnp_mask_radius_px(60, 0) == 0);
    CHECK(cnp_mask_radius_px(1e9, 1) == 4096);
}

CNP_TEST_MAIN("mask",
              TEST_CASE(test_decode_qa_pixel_real_values),
              TEST_CASE(test_decode_scl_classes),
              TEST_CASE(test_decode_none_and_args),
              TEST_CASE(test_decode_u8_matches_u16),
              TEST_CASE(test_single_pixel_disk_and_square),
              TEST_CASE(test_unobserved_does_not_spread),
              TEST_CASE(test_existing_flags_kept),
              TEST_CASE(test_random_against_reference_and_strips),
              TEST_CASE(test_bad_arguments),
              TEST_CASE(test_radius_px))
