/* tests/unit/test_base_config.c - base/cnp_config (settings: defaults, INI text,
 * checks, the INI form back) and base/cnp_outputs (the --outputs list).
 *
 * Linked with base/'s objects and libkernels.a only (no GDAL library).
 */
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "cnp_config.h"
#include "cnp_err.h"
#include "cnp_json.h"
#include "cnp_outlist.h"
#include "cnp_test.h"

static char *ini_of(const cnp_settings *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return NULL;
    cnp_settings_write_ini(s, m);
    fclose(m);
    return buf;
}

static cnp_status load(cnp_settings *s, const char *text)
{
    return cnp_settings_load_text(s, text, strlen(text), "test.ini");
}

static void defaults_are_valid(void)
{
    cnp_settings s;
    cnp_settings_defaults(&s);
    CHECK(cnp_settings_validate(&s) == CNP_OK);
    CHECK(s.red_band == 3 && s.nir_band == 4 && s.green_band == 2 && s.blue_band == 1);
    CHECK_NEAR(s.ndvi_drop, 0.25, 0);
    char list[64];
    cnp_settings_mask_list(&s, list, sizeof list);
    CHECK(strcmp(list, "0,1,3,8,9,10") == 0);
}

static void ini_text_sets_keys(void)
{
    cnp_settings s;
    cnp_settings_defaults(&s);
    CHECK(load(&s, "[detect]\nndvi_drop = 0.3\nhigh_confidence_drop = 0.5\n"
                   "[mask]\ninvalid = 2, 7\n") == CNP_OK);
    CHECK_NEAR(s.ndvi_drop, 0.3, 0);
    CHECK(s.mask_invalid[2] && s.mask_invalid[7] && !s.mask_invalid[0]);
    CHECK(cnp_settings_validate(&s) == CNP_OK);
}

static void bad_values_name_file_and_line(void)
{
    cnp_settings s;
    cnp_settings_defaults(&s);
    CHECK(load(&s, "[detect]\n\nndvi_drop = lots\n") == CNP_E_CONFIG);
    CHECK(strstr(cnp_err_msg(), "test.ini") != NULL && strstr(cnp_err_msg(), "3") != NULL);
    cnp_settings_defaults(&s);
    CHECK(load(&s, "[mask]\ninvalid = 1,x\n") == CNP_E_CONFIG);
    cnp_settings_defaults(&s);
    CHECK(cnp_settings_set(&s, "bands", "red", "0", "--red") == CNP_E_CONFIG);
    /* red and NIR the same band: each value fine, the pair is not. */
    cnp_settings_defaults(&s);
    CHECK(load(&s, "[bands]\nred = 4\nnir = 4\n") == CNP_OK);
    CHECK(cnp_settings_validate(&s) == CNP_E_CONFIG);
}

/* The INI form is what run.json and monitor states keep: read back, it
 * gives the same settings (and so the same text). */
static void ini_round_trip(void)
{
    cnp_settings a, b;
    cnp_settings_defaults(&a);
    CHECK(load(&a, "[detect]\nndvi_drop = 0.1\nmin_area = 0.7\n[bands]\nscale = 0.0001\n"
                   "[dates]\nbefore = 2024-06-15\n") == CNP_OK);
    char *ia = ini_of(&a);
    cnp_settings_defaults(&b);
    CHECK(ia && load(&b, ia) == CNP_OK);
    char *ib = ini_of(&b);
    CHECK(ia && ib && strcmp(ia, ib) == 0);
    CHECK(ib && strstr(ib, "2024-06-15") != NULL);
    free(ia);
    free(ib);
}

static void outputs_list(void)
{
    unsigned bits = 0;
    CHECK(cnp_outputs_parse("gpkg,csv", "--outputs", &bits) == CNP_OK);
    CHECK(bits == (CNP_OUT_GPKG | CNP_OUT_CSV));
    CHECK(cnp_outputs_parse("overview,geojson,gpkg,csv", "--outputs", &bits) == CNP_OK);
    CHECK(bits == CNP_OUT_ALL);
    CHECK(cnp_outputs_parse("gpkg,gpkg", "--outputs", &bits) == CNP_E_ARG);
    CHECK(cnp_outputs_parse("shp", "--outputs", &bits) == CNP_E_ARG);
    CHECK(strstr(cnp_err_msg(), "--outputs") != NULL);
    CHECK(cnp_outputs_parse("", "--outputs", &bits) == CNP_E_ARG);
    CHECK(strcmp(cnp_output_file(0), "alerts.gpkg") == 0);
    CHECK(strcmp(cnp_output_file(3), "overview.png") == 0);
    CHECK(cnp_outputs_check(0, 0) == CNP_OK);
    CHECK(cnp_outputs_check(CNP_OUT_CSV, 1) == CNP_OK);
    CHECK(cnp_outputs_check(CNP_OUT_CSV, 0) == CNP_E_ARG);
}

/* The list as run.json writes it, read back into the same skip bits. */
static void outputs_json_round_trip(void)
{
    const unsigned skips[] = { 0, CNP_OUT_CSV, CNP_OUT_GPKG | CNP_OUT_OVERVIEW };
    for (size_t i = 0; i < sizeof skips / sizeof skips[0]; i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        cnp_json j;
        cnp_json_begin(&j, m);
        cnp_outputs_write_json(&j, skips[i]);
        cnp_json_end(&j);
        fclose(m);
        json_object *o = json_tokener_parse(buf);
        unsigned skip = 99;
        CHECK(o && cnp_outputs_skip_from_settings(o, &skip) == CNP_OK && skip == skips[i]);
        json_object_put(o);
        free(buf);
    }
    json_object *old = json_tokener_parse("{\"ini\": \"\"}");
    unsigned skip = 99;
    CHECK(cnp_outputs_skip_from_settings(old, &skip) == CNP_OK && skip == 0);
    json_object_put(old);
    json_object *bad = json_tokener_parse("{\"outputs\": [\"gpkg\", \"nope\"]}");
    CHECK(cnp_outputs_skip_from_settings(bad, &skip) == CNP_E_DATA);
    json_object_put(bad);
}

int main(void)
{
    static const cnp_test_case cases[] = {
        TEST_CASE(defaults_are_valid),
        TEST_CASE(ini_text_sets_keys),
        TEST_CASE(bad_values_name_file_and_line),
        TEST_CASE(ini_round_trip),
        TEST_CASE(outputs_list),
        TEST_CASE(outputs_json_round_trip),
    };
    return cnp_test_run_all("config", cases, sizeof cases / sizeof cases[0]);
}
