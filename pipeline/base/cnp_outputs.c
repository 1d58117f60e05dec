/* pipeline/base/cnp_outputs.c - which of the four products a run writes (--outputs). */
#include <stdio.h>
#include <string.h>

#include <json.h>

#include "cnp_err.h"
#include "cnp_json.h"
#include "cnp_outlist.h"

static const struct { const char *word, *file; } products[CNP_OUT_COUNT] = {
    { "gpkg", "alerts.gpkg" },
    { "geojson", "alerts.geojson" },
    { "csv", "alerts.csv" },
    { "overview", "overview.png" },
};

const char *cnp_output_file(int k) { return products[k].file; }

cnp_status cnp_outputs_parse(const char *list, const char *what, unsigned *bits)
{
    unsigned got = 0;
    const char *p = list;

    for (;;) {
        const size_t len = strcspn(p, ",");
        int k = 0;
        while (k < CNP_OUT_COUNT &&
               !(strlen(products[k].word) == len && strncmp(p, products[k].word, len) == 0))
            k++;
        if (k == CNP_OUT_COUNT)
            return cnp_err(CNP_E_ARG, "%s: %s%.*s%s (expected a comma-separated list of "
                           "gpkg, geojson, csv, overview)", what, len ? "unknown product '" :
                           "an empty name", (int)len, p, len ? "'" : "");
        if (got & (1u << k))
            return cnp_err(CNP_E_ARG, "%s: '%s' is listed twice", what, products[k].word);
        got |= 1u << k;
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    *bits = got;
    return CNP_OK;
}

cnp_status cnp_outputs_skip_from_settings(struct json_object *settings, unsigned *skip)
{
    json_object *array = NULL;
    unsigned keep;
    if (!settings || !json_object_object_get_ex(settings, "outputs", &array) || !array) {
        *skip = 0;
        return CNP_OK;
    }
    char list[128] = "";
    const size_t n = json_object_is_type(array, json_type_array) ?
                     json_object_array_length(array) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *w = json_object_array_get_idx(array, i);
        const size_t len = strlen(list);
        if (!json_object_is_type(w, json_type_string) ||
            snprintf(list + len, sizeof list - len, "%s%s", i ? "," : "",
                     json_object_get_string(w)) >= (int)(sizeof list - len))
            return cnp_err(CNP_E_DATA, "settings.outputs: not a list of product names");
    }
    if (n == 0)
        return cnp_err(CNP_E_DATA, "settings.outputs: not a list of product names");
    if (cnp_outputs_parse(list, "settings.outputs", &keep) != CNP_OK)
        return CNP_E_DATA;
    *skip = CNP_OUT_ALL & ~keep;
    return CNP_OK;
}

cnp_status cnp_outputs_check(unsigned skip, int no_evidence)
{
    if (!no_evidence && (skip & CNP_OUT_ALL))
        return cnp_err(CNP_E_ARG, "--outputs: the evidence (report.html, alerts.kmz, chips) "
                       "goes with all four products: list them all, or add --no-evidence");
    return CNP_OK;
}

void cnp_outputs_write_json(cnp_json *j, unsigned skip)
{
    cnp_json_array(j, "outputs");
    for (int k = 0; k < CNP_OUT_COUNT; k++)
        if (!(skip & (1u << k)))
            cnp_json_str(j, NULL, products[k].word);
    cnp_json_close(j, ']');
}
