/* pipeline/cnp_report.c - report.html, alerts.kmz, alerts.csv (placeholder, being written). */
#include <stdio.h>

#include "cnp_err.h"
#include "cnp_evidence.h"

static cnp_status touch(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return cnp_err(CNP_E_IO, "cannot write '%s'", path);
    fclose(f);
    return CNP_OK;
}

cnp_status cnp_write_report(const char *path, const cnp_evidence_ctx *ctx)
{
    (void)ctx;
    return touch(path);
}

cnp_status cnp_write_kmz(const char *path, const char *dir, const cnp_evidence_ctx *ctx)
{
    (void)ctx;
    (void)dir;
    return touch(path);
}

cnp_status cnp_write_csv(const char *path, const cnp_evidence_ctx *ctx)
{
    (void)ctx;
    return touch(path);
}
