/* tests/unit/test_base_ident.c - base/cnp_ident: the identifier validator and the
 * escapers of text from inputs (terminal, CSV, XML, HTML, JSON).
 *
 * Linked with base/'s objects and libkernels.a only (no GDAL library).
 */
#include <stdlib.h>
#include <string.h>

#include "cnp_err.h"
#include "cnp_ident.h"
#include "cnp_json.h"
#include "cnp_test.h"

typedef void (*writer)(FILE *, const char *);

/* What `w` writes for `s` (static buffer: one result at a time). */
static const char *out_of(writer w, const char *s)
{
    static char result[4096];
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return "(open_memstream failed)";
    w(m, s);
    fclose(m);
    snprintf(result, sizeof result, "%s", buf ? buf : "");
    free(buf);
    return result;
}

static int str_is(const char *got, const char *want)
{
    if (strcmp(got, want) == 0)
        return 1;
    fprintf(stderr, "  got  [%s]\n  want [%s]\n", got, want);
    return 0;
}

static void repeat(char *out, char c, size_t n)
{
    memset(out, c, n);
    out[n] = '\0';
}

#define FFFD "\xEF\xBF\xBD"

static void test_valid_identifiers(void)
{
    char id120[CNP_IDENT_ID_MAX + 2], key48[CNP_IDENT_KEY_MAX + 2];
    repeat(id120, 'a', CNP_IDENT_ID_MAX);
    repeat(key48, 'k', CNP_IDENT_KEY_MAX);
    CHECK(cnp_ident_valid(CNP_IDENT_ID,
                          "S2A_MSIL2A_20200219T112121_N0214_R037_T29RKH_20200219T123437", NULL));
    CHECK(cnp_ident_valid(CNP_IDENT_ID, "LC08_L2SP_001062_20201031_20201106_02_T1", NULL));
    CHECK(cnp_ident_valid(CNP_IDENT_ID, "a", NULL));
    CHECK(cnp_ident_valid(CNP_IDENT_ID, "9.x-y_z", NULL));
    CHECK(cnp_ident_valid(CNP_IDENT_ID, id120, NULL));
    CHECK(cnp_ident_valid(CNP_IDENT_KEY, "mgrs-21LXK", NULL));
    CHECK(cnp_ident_valid(CNP_IDENT_KEY, "grid-1a2b3c4d", NULL));
    CHECK(cnp_ident_valid(CNP_IDENT_KEY, key48, NULL));
}

static void test_refused_identifiers(void)
{
    static const char *const bad[] = {
        "", "-a", ".a", "_a", "..", ".", "a/b", "../x", "a b", "a'b", "a\"b", "a;b", "a\\b",
        "a\x1b[31m", "a\nb", "a\xff", "caf\xC3\xA9", "mgrs-Z'OR'x'<'y", "x/../../../../e", "a%b",
    };
    char id121[CNP_IDENT_ID_MAX + 3], key49[CNP_IDENT_KEY_MAX + 3];
    const char *why = NULL;
    repeat(id121, 'a', CNP_IDENT_ID_MAX + 1);
    repeat(key49, 'k', CNP_IDENT_KEY_MAX + 1);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why = NULL;
        CHECK(!cnp_ident_valid(CNP_IDENT_ID, bad[i], &why));
        CHECK(why != NULL);
    }
    CHECK(!cnp_ident_valid(CNP_IDENT_ID, NULL, &why));
    CHECK(!cnp_ident_valid(CNP_IDENT_ID, id121, &why) && strstr(why, "too long"));
    CHECK(!cnp_ident_valid(CNP_IDENT_KEY, key49, &why) && strstr(why, "too long"));
    CHECK(cnp_ident_valid(CNP_IDENT_ID, key49, NULL));
}

static void test_check_names_the_input(void)
{
    CHECK(cnp_ident_check(CNP_IDENT_ID, "LC08_x", "product id", "in/a.tar") == CNP_OK);
    CHECK(cnp_ident_check(CNP_IDENT_ID, "a'b", "product id", "in/b.json") == CNP_E_DATA);
    const char *m = cnp_err_msg();
    CHECK(strstr(m, "in/b.json: product id 'a'b' is refused") == m);
    CHECK(strstr(m, "letters") && strstr(m, "120"));
    CHECK(cnp_ident_check(CNP_IDENT_ID, "", "scene id", NULL) == CNP_E_DATA);
    CHECK(strstr(cnp_err_msg(), "scene id '' is refused: it is empty") == cnp_err_msg());
    /* A control character reaches the message escaped (cnp_err). */
    CHECK(cnp_ident_check(CNP_IDENT_ID, "a\x1b]0;x\x07", "scene id", "in/c.tif") == CNP_E_DATA);
    CHECK(strchr(cnp_err_msg(), 0x1b) == NULL && strstr(cnp_err_msg(), "a\\x1b]0;x\\x07"));
}

static void test_from_name(void)
{
    char out[CNP_IDENT_ID_MAX + 40], long_name[300];
    cnp_ident_from_name("My scene (1).tif", out, sizeof out);
    CHECK(str_is(out, "My_scene_1_.tif"));
    cnp_ident_from_name("__a__b__", out, sizeof out);
    CHECK(str_is(out, "a_b"));
    cnp_ident_from_name("..", out, sizeof out);
    CHECK(str_is(out, "unnamed"));
    cnp_ident_from_name("-.x.y-", out, sizeof out);
    CHECK(str_is(out, "x.y-"));
    cnp_ident_from_name("caf\xC3\xA9 \x1b[1m", out, sizeof out);
    CHECK(str_is(out, "caf_1m"));
    repeat(long_name, 'b', sizeof long_name - 1);
    cnp_ident_from_name(long_name, out, sizeof out);
    CHECK(strlen(out) == CNP_IDENT_ID_MAX && cnp_ident_valid(CNP_IDENT_ID, out, NULL));
    cnp_ident_from_name("abcdef", out, 4);
    CHECK(str_is(out, "abc"));
    static const char *const any[] = { "", "'", "a//b", "x'; DROP TABLE alerts; --", "\xff\xfe" };
    for (size_t i = 0; i < sizeof any / sizeof any[0]; i++) {
        cnp_ident_from_name(any[i], out, sizeof out);
        CHECK(cnp_ident_valid(CNP_IDENT_ID, out, NULL));
    }
}

static void test_footprint_key(void)
{
    char key[64];
    CHECK(cnp_ident_footprint_key("MGRS tile 21LXK", key, sizeof key, "x") == CNP_OK);
    CHECK(str_is(key, "mgrs-21LXK"));
    CHECK(cnp_ident_footprint_key("WRS-2 path/row 001/062", key, sizeof key, "x") == CNP_OK);
    CHECK(str_is(key, "wrs2-001-062"));
    CHECK(cnp_ident_footprint_key("Custom Grid, cell 7", key, sizeof key, "x") == CNP_OK);
    CHECK(str_is(key, "custom-grid-cell-7"));
    /* Not a full path/row: the generic rule, which only yields safe keys. */
    CHECK(cnp_ident_footprint_key("WRS-2 path/row 1/2'x", key, sizeof key, "x") == CNP_OK);
    CHECK(str_is(key, "wrs-2-path-row-1-2-x"));
    /* A crafted tile is refused whole, never cut to something valid. */
    strcpy(key, "unchanged");
    CHECK(cnp_ident_footprint_key("MGRS tile Z'OR'x'<'y", key, sizeof key, "in/i.json") ==
          CNP_E_DATA);
    CHECK(strstr(cnp_err_msg(), "in/i.json: footprint 'MGRS tile Z'OR'x'<'y', key "
                                "'mgrs-Z'OR'x'<'y' is refused"));
    CHECK(str_is(key, "unchanged"));
    CHECK(cnp_ident_footprint_key("MGRS tile x/../../../../e", key, sizeof key, "i") ==
          CNP_E_DATA);
    CHECK(cnp_ident_footprint_key("MGRS tile 21LXK extra", key, sizeof key, "i") == CNP_E_DATA);
    CHECK(cnp_ident_footprint_key("MGRS tile 21LXK\x1b", key, sizeof key, "i") == CNP_E_DATA);
    CHECK(cnp_ident_footprint_key("MGRS tile aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                                  key, sizeof key, "i") == CNP_E_DATA);
    CHECK(cnp_ident_footprint_key("", key, sizeof key, "i") == CNP_E_DATA);
    CHECK(cnp_ident_footprint_key("'; --", key, sizeof key, "i") == CNP_E_DATA);
    char tiny[4];
    CHECK(cnp_ident_footprint_key("MGRS tile 21LXK", tiny, sizeof tiny, "i") == CNP_E_ARG);
}

static void test_utf8(void)
{
    char out[64];
    CHECK(cnp_ident_utf8_valid("plain, caf\xC3\xA9, \xE2\x82\xAC, \xF0\x9F\x8C\xB3"));
    CHECK(!cnp_ident_utf8_valid("\xff"));
    CHECK(!cnp_ident_utf8_valid("\xC0\xAF"));           /* overlong '/' */
    CHECK(!cnp_ident_utf8_valid("\xED\xA0\x80"));       /* surrogate */
    CHECK(!cnp_ident_utf8_valid("\xF4\x90\x80\x80"));   /* past U+10FFFF */
    CHECK(!cnp_ident_utf8_valid("\xE2\x82"));           /* cut short */
    CHECK(str_is(cnp_ident_utf8_str(out, sizeof out, "a\xff" "b"), "a" FFFD "b"));
    CHECK(str_is(cnp_ident_utf8_str(out, sizeof out, "\xC0\xAF"), FFFD FFFD));
    CHECK(str_is(cnp_ident_utf8_str(out, sizeof out, "\xE2\x82"), FFFD FFFD));
    CHECK(str_is(cnp_ident_utf8_str(out, sizeof out, "caf\xC3\xA9"), "caf\xC3\xA9"));
    /* Cut at a character boundary, never inside one. */
    CHECK(str_is(cnp_ident_utf8_str(out, 3, "a\xC3\xA9"), "a"));
    CHECK(str_is(cnp_ident_utf8_str(out, 4, "a\xC3\xA9"), "a\xC3\xA9"));
    char *d = cnp_ident_utf8_dup("\xff\xfe");
    CHECK(d && str_is(d, FFFD FFFD) && cnp_ident_utf8_valid(d));
    free(d);
}

static void test_term(void)
{
    char out[128], twice[128];
    CHECK(str_is(cnp_ident_term_str(out, sizeof out, "id \x1b[31mred\x1b[0m"),
                 "id \\x1b[31mred\\x1b[0m"));
    CHECK(str_is(cnp_ident_term_str(out, sizeof out, "a\nb\tc\rd\x7f"), "a\\nb\\tc\\rd\\x7f"));
    CHECK(str_is(cnp_ident_term_str(out, sizeof out, "\xC2\x9B" "2J"), "\\u009b2J"));
    CHECK(str_is(cnp_ident_term_str(out, sizeof out, "x\xE2\x80\xAEy"), "x\\u202ey"));
    CHECK(str_is(cnp_ident_term_str(out, sizeof out, "bad\xff"), "bad\\xff"));
    CHECK(str_is(cnp_ident_term_str(out, sizeof out, "caf\xC3\xA9 C:\\x"), "caf\xC3\xA9 C:\\x"));
    /* Twice is once: messages are re-escaped when passed on. */
    cnp_ident_term_str(out, sizeof out, "\x1b]0;t\x07\xff\xC2\x85");
    cnp_ident_term_str(twice, sizeof twice, out);
    CHECK(str_is(twice, out));
    /* An escape is never cut in two. */
    CHECK(str_is(cnp_ident_term_str(out, 5, "ab\x1b"), "ab"));
    CHECK(str_is(cnp_ident_term_str(out, 7, "ab\x1b"), "ab\\x1b"));
    CHECK(str_is(out_of(cnp_ident_write_term, "\x1b" "c"), "\\x1bc"));
    /* A value cannot end the line early. */
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (m) {
        cnp_ident_term_line(m, "id: %s, %d", "a\nfootprint: forged\x1b[2J", 7);
        fclose(m);
        CHECK(buf && str_is(buf, "id: a\\nfootprint: forged\\x1b[2J, 7\n"));
        free(buf);
    }
}

static void test_csv(void)
{
    CHECK(str_is(out_of(cnp_ident_write_csv, "before.tif"), "before.tif"));
    CHECK(str_is(out_of(cnp_ident_write_csv, "=1+2.tif"), "\"'=1+2.tif\""));
    CHECK(str_is(out_of(cnp_ident_write_csv, "+1"), "\"'+1\""));
    CHECK(str_is(out_of(cnp_ident_write_csv, "-2+3"), "\"'-2+3\""));
    CHECK(str_is(out_of(cnp_ident_write_csv, "@SUM(A1)"), "\"'@SUM(A1)\""));
    CHECK(str_is(out_of(cnp_ident_write_csv, "\t=1"), "\"'\t=1\""));
    CHECK(str_is(out_of(cnp_ident_write_csv, "\r=1"), "\"'\r=1\""));
    CHECK(str_is(out_of(cnp_ident_write_csv, "=HYPERLINK(\"http://x\",\"y\")"),
                 "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""));
    CHECK(str_is(out_of(cnp_ident_write_csv, "a,b"), "\"a,b\""));
    CHECK(str_is(out_of(cnp_ident_write_csv, "a\"b"), "\"a\"\"b\""));
    CHECK(str_is(out_of(cnp_ident_write_csv, "a\nb"), "\"a\nb\""));
    CHECK(str_is(out_of(cnp_ident_write_csv, "a=1"), "a=1"));
    CHECK(str_is(out_of(cnp_ident_write_csv, "a\x01" "b\xff"), "a" FFFD "b" FFFD));
    CHECK(str_is(out_of(cnp_ident_write_csv, ""), ""));
}

static void test_xml_html(void)
{
    static const writer w[2] = { cnp_ident_write_xml, cnp_ident_write_html };
    for (int k = 0; k < 2; k++) {
        CHECK(str_is(out_of(w[k], "<a href='x'>&amp;\"</a>"),
                     "&lt;a href=&#39;x&#39;&gt;&amp;amp;&quot;&lt;/a&gt;"));
        CHECK(str_is(out_of(w[k], "]]>"), "]]&gt;"));
        CHECK(str_is(out_of(w[k], "t\tn\nr\r"), "t\tn\nr\r"));
        CHECK(str_is(out_of(w[k], "a\x01\x1b\x7f\xC2\x85\xEF\xBF\xBE\xff" "b"),
                     "a" FFFD FFFD FFFD FFFD FFFD FFFD "b"));
        CHECK(str_is(out_of(w[k], "caf\xC3\xA9 \xE2\x82\xAC"), "caf\xC3\xA9 \xE2\x82\xAC"));
        /* A right-to-left override would show "gnp.exe" as "exe.png". */
        CHECK(str_is(out_of(w[k], "a\xE2\x80\xAEgnp.exe"), "a" FFFD "gnp.exe"));
    }
}

/* Free text for the record: --case-id, --operator. */
static void test_text_check(void)
{
    char big[300];
    CHECK(cnp_ident_text_check("--case-id", "Caso 2026/041 \xC3\xA9t\xC3\xA9", 128) == CNP_OK);
    CHECK(cnp_ident_text_check("--case-id", "", 128) == CNP_E_ARG);
    CHECK(strstr(cnp_err_msg(), "--case-id: empty") != NULL);
    CHECK(cnp_ident_text_check("--case-id", NULL, 128) == CNP_E_ARG);
    CHECK(cnp_ident_text_check("--case-id", " x", 128) == CNP_E_ARG);
    CHECK(cnp_ident_text_check("--case-id", "x ", 128) == CNP_E_ARG);
    CHECK(cnp_ident_text_check("--case-id", "a\tb", 128) == CNP_E_ARG);
    CHECK(cnp_ident_text_check("--case-id", "a\x1b[2Jb", 128) == CNP_E_ARG);
    CHECK(strstr(cnp_err_msg(), "control character") != NULL);
    CHECK(cnp_ident_text_check("--case-id", "a\xC2\x9B" "b", 128) == CNP_E_ARG);
    CHECK(cnp_ident_text_check("--operator", "a\xE2\x80\xAE" "b", 128) == CNP_E_ARG);
    CHECK(strstr(cnp_err_msg(), "(U+202E) at byte 2") != NULL);
    CHECK(cnp_ident_text_check("--operator", "a\xE2\x80\xA8" "b", 128) == CNP_E_ARG);
    CHECK(cnp_ident_text_check("--operator", "a\xff", 128) == CNP_E_ARG);
    CHECK(strstr(cnp_err_msg(), "not valid UTF-8 at byte 2") != NULL);
    CHECK(cnp_ident_text_check("--operator", "\xC0\xAF", 128) == CNP_E_ARG);   /* overlong */
    repeat(big, 'x', 129);
    CHECK(cnp_ident_text_check("--case-id", big, 128) == CNP_E_ARG);
    big[128] = '\0';
    CHECK(cnp_ident_text_check("--case-id", big, 128) == CNP_OK);
}

static void test_printable(void)
{
    char out[16];
    CHECK(str_is(cnp_ident_printable(out, sizeof out, "a\x1b\xff\xE2\x80\xAE" "b"),
                 "a" FFFD FFFD FFFD "b"));
    CHECK(str_is(cnp_ident_printable(out, sizeof out, NULL), ""));
    /* Cut at a character boundary: 5 x "\xC3\xA9" is 10 bytes, 4 fit in 9. */
    char small[10];
    CHECK(str_is(cnp_ident_printable(small, sizeof small, "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"),
                 "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"));
}

static void test_json(void)
{
    CHECK(str_is(out_of(cnp_ident_write_json, "a\"b\\c/d"), "\"a\\\"b\\\\c/d\""));
    CHECK(str_is(out_of(cnp_ident_write_json, "\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\""));
    CHECK(str_is(out_of(cnp_ident_write_json, "\x01\x1b\x7f"), "\"\\u0001\\u001b\\u007f\""));
    CHECK(str_is(out_of(cnp_ident_write_json, "\xC2\x9B\xE2\x80\xA8\xE2\x80\xAE"),
                 "\"\\u009b\\u2028\\u202e\""));
    CHECK(str_is(out_of(cnp_ident_write_json, "x\xff\xC0\xAFy"), "\"x" FFFD FFFD FFFD "y\""));
    CHECK(str_is(out_of(cnp_ident_write_json, "caf\xC3\xA9"), "\"caf\xC3\xA9\""));
    /* base/cnp_json's writer escapes through it. */
    CHECK(str_is(out_of(cnp_json_escape, "id\xff\x1b"), "\"id" FFFD "\\u001b\""));
}

CNP_TEST_MAIN("base_ident",
              TEST_CASE(test_valid_identifiers),
              TEST_CASE(test_refused_identifiers),
              TEST_CASE(test_check_names_the_input),
              TEST_CASE(test_from_name),
              TEST_CASE(test_footprint_key),
              TEST_CASE(test_utf8),
              TEST_CASE(test_term),
              TEST_CASE(test_csv),
              TEST_CASE(test_xml_html),
              TEST_CASE(test_text_check),
              TEST_CASE(test_printable),
              TEST_CASE(test_json))
