/* pipeline/outputs/cnp_evidence.h - evidence for investigators: per-alert chips,
 * report.html, alerts.kmz and alerts.csv.
 *
 * Every writer writes under a staging folder that cnp_detect renames into
 * OUTDIR once everything succeeded (never half-written outputs).
 */
#ifndef CNP_EVIDENCE_H
#define CNP_EVIDENCE_H

#include <stddef.h>

#include "cnp_config.h"
#include "cnp_engine.h"
#include "cnp_raster.h"
#include "cnp_result.h"

/* An input file as run.json records it, for the reports' chain of custody. */
typedef struct cnp_evidence_input {
    const char *role;        /* "before", "after:red", ...                    */
    const char *path;        /* as given                                      */
    const char *sha256;      /* 64 hex digits, or "" when not hashed          */
    long long   size;
} cnp_evidence_input;

/* What the evidence writers know about the run besides the alerts. */
typedef struct cnp_evidence_ctx {
    const cnp_settings *settings;    /* the run's settings                    */
    const char       *config_path;   /* the --config file, NULL = built-in       */
    int               user_masks;    /* a mask raster was given for a date       */
    const cnp_scene  *scene[2];      /* BEFORE, AFTER (AFTER readable on BEFORE's grid) */
    const cnp_scene  *baseline;      /* --baseline scenes, nbaseline of them     */
    int               nbaseline;
    const cnp_result *res;
    const char       *run_id;        /* hex, hash of the inputs' hashes and the settings */
    const char       *program_version;
    size_t            max_chips;     /* 0 = no limit */
    const char       *case_id;       /* --case-id, --operator (checked printable */
    const char       *operator_name; /* UTF-8); NULL = not given                 */
    const cnp_evidence_input *inputs;/* the files read, with their hashes       */
    size_t            ninputs;
    const char       *font_dir;      /* report.pdf's fonts; NULL = the default   */
    int               max_memory_mb; /* --max-memory (0: none): the chips then keep
                                      * the GDAL cache the run planned        */
    /* Progress of the chips, from progress_from to progress_to (NULL: none);
     * called from one thread at a time. */
    cnp_progress_fn   progress;
    void             *progress_arg;
    double            progress_from, progress_to;
    /* Filled by cnp_evidence_chips(): has_chip[i] != 0 when alert i has
     * evidence/<id>/{before,after}.png (caller allocates res->nalerts). */
    unsigned char    *has_chip;
    size_t            chips_written, chips_left_out;
} cnp_evidence_ctx;

/* evidence/<alert-id>/before.png and after.png under `dir` (the staging
 * OUTDIR). Chips go to the largest alerts first when max_chips caps them. */
cnp_status cnp_evidence_chips(const char *dir, cnp_evidence_ctx *ctx);

/* report.pdf (cnp_pdf.c): the printable case report, written from the chips
 * and overview.png under `dir` (the staging OUTDIR). Byte-identical for
 * identical inputs. Fonts: DejaVuSans.ttf, DejaVuSans-Bold.ttf and
 * DejaVuSansMono.ttf from ctx->font_dir (NULL: Debian's fonts-dejavu-core). */
cnp_status cnp_write_pdf(const char *path, const char *dir, const cnp_evidence_ctx *ctx);

/* cnp_pdf_check_fonts() : the fonts report.pdf needs are there (a run checks
 * before it starts, so that a missing font costs no work and writes nothing).
 * @return CNP_OK, or CNP_E_IO naming the file and how to get it. */
cnp_status cnp_pdf_check_fonts(const char *font_dir);

/* report.html (self-contained: images inline, no network), alerts.kmz, alerts.csv. */
cnp_status cnp_write_report(const char *path, const cnp_evidence_ctx *ctx);
cnp_status cnp_write_kmz(const char *path, const char *dir, const cnp_evidence_ctx *ctx);
cnp_status cnp_write_csv(const char *path, const cnp_evidence_ctx *ctx);

/* zones.csv (--zones): per zone its alerts and their overlap, by date. */
cnp_status cnp_write_zones_csv(const char *path, const cnp_evidence_ctx *ctx);

#endif /* CNP_EVIDENCE_H */
