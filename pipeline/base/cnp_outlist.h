/* pipeline/base/cnp_outlist.h - which of the four products a run writes
 * (--outputs), as bits, words and the run.json / batch plan field.
 */
#ifndef CNP_OUTLIST_H
#define CNP_OUTLIST_H

#include "cnp_status.h"

/* The four products every run writes unless --outputs leaves some out; bits
 * of cnp_job.skip_outputs. In this order in OUTDIR, run.json and messages. */
enum {
    CNP_OUT_GPKG = 1 << 0,       /* alerts.gpkg    */
    CNP_OUT_GEOJSON = 1 << 1,    /* alerts.geojson */
    CNP_OUT_CSV = 1 << 2,        /* alerts.csv     */
    CNP_OUT_OVERVIEW = 1 << 3,   /* overview.png   */
    CNP_OUT_ALL = (1 << 4) - 1,
    CNP_OUT_COUNT = 4
};

/* Product k (0 .. CNP_OUT_COUNT-1): its file ("alerts.gpkg"). */
const char *cnp_output_file(int k);

/* cnp_outputs_parse() :
 * "gpkg,geojson" (gpkg, geojson, csv, overview; comma-separated, any order)
 * into CNP_OUT_* bits; `what` names the list in messages ("--outputs").
 * @return CNP_OK, or CNP_E_ARG with the reason in cnp_err_msg() (an unknown
 * or repeated name, or an empty list). */
cnp_status cnp_outputs_parse(const char *list, const char *what, unsigned *bits);

/* settings.outputs of run.json and of a batch plan: "outputs": [names of the
 * products `skip` (CNP_OUT_* bits) leaves in]. */
struct cnp_json;
void cnp_outputs_write_json(struct cnp_json *j, unsigned skip);

/* cnp_outputs_skip_from_settings() :
 * The CNP_OUT_* products NOT written, from the `outputs` array of run.json's
 * or a batch plan's settings object (no array, as in a run.json from before
 * --outputs existed: all four written, *skip = 0). @return CNP_OK, or
 * CNP_E_DATA with the reason in cnp_err_msg(). */
struct json_object;
cnp_status cnp_outputs_skip_from_settings(struct json_object *settings, unsigned *skip);

/* cnp_outputs_check() :
 * The evidence (report.html, alerts.kmz, chips) goes with all four products:
 * CNP_E_ARG, with a message naming --no-evidence, when some are skipped and
 * the evidence is not off; else CNP_OK. */
cnp_status cnp_outputs_check(unsigned skip, int no_evidence);

#endif /* CNP_OUTLIST_H */
