/* pipeline/outputs/cnp_staging.c - a run's files are written into a staging
 * folder inside OUTDIR and moved into place once all of them succeeded. */
#include "cnp_staging.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cnp_err.h"
#include "cnp_fs.h"
#include "cnp_hash.h"
#include "cnp_json.h"
#include "cnp_outlist.h"

/* Files of a run, in the order they are moved into OUTDIR; run.json last: its
 * presence says the set is complete. `evidence` marks the optional ones,
 * `product` the four that --outputs chooses from (0 for the others). */
static const struct { const char *name; int evidence; unsigned product; } outputs[] = {
    { "alerts.gpkg", 0, CNP_OUT_GPKG }, { "alerts.geojson", 0, CNP_OUT_GEOJSON },
    { "alerts.csv", 0, CNP_OUT_CSV },   { "overview.png", 0, CNP_OUT_OVERVIEW },
    { "alerts.kmz", 1, 0 },             { "report.html", 1, 0 },
    { "evidence", 1, 0 },               { "SHA256SUMS", 0, 0 },
    { "SHA256SUMS.sig", 0, 0 },         { "run.json", 0, 0 },
};
enum { N_OUTPUTS = sizeof outputs / sizeof outputs[0] };

static int staging_writes(const cnp_staging *sg, int i)
{
    return !(outputs[i].evidence && !sg->evidence) && !(outputs[i].product & sg->skip);
}

cnp_status cnp_staging_open(cnp_staging *sg, const char *outdir, int evidence, unsigned skip)
{
    struct stat stt;
    memset(sg, 0, sizeof *sg);
    sg->evidence = evidence;
    sg->skip = skip;
    if (stat(outdir, &stt) != 0) {
        if (mkdir(outdir, 0777) != 0)
            return cnp_err(CNP_E_IO, "cannot create output folder '%s': %s", outdir,
                           strerror(errno));
        sg->created_outdir = 1;
    } else if (!S_ISDIR(stt.st_mode)) {
        return cnp_err(CNP_E_IO, "output '%s' exists and is not a folder", outdir);
    }
    snprintf(sg->dir, sizeof sg->dir, "%s/.canopy-tmp-%ld", outdir, (long)getpid());
    if (mkdir(sg->dir, 0777) != 0) {
        const int e = errno;
        if (sg->created_outdir)
            rmdir(outdir);
        return cnp_err(CNP_E_IO, "cannot write in output folder '%s': %s", outdir, strerror(e));
    }
    return CNP_OK;
}

void cnp_staging_path(const cnp_staging *sg, const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", sg->dir, name);
}

/* Remove everything we staged, and OUTDIR if we made it. */
void cnp_staging_abort(cnp_staging *sg, const char *outdir)
{
    cnp_fs_remove_tree(sg->dir);
    if (sg->created_outdir)
        rmdir(outdir);
}

/* Move the run's files into OUTDIR. What an earlier run left there under the
 * name of an output this run does not write is removed: OUTDIR then holds
 * one run's outputs, all listed in its run.json. */
cnp_status cnp_staging_commit(cnp_staging *sg, const char *outdir)
{
    char from[4200], to[4200];
    for (int i = 0; i < N_OUTPUTS; i++) {
        snprintf(to, sizeof to, "%s/%s", outdir, outputs[i].name);
        if (!staging_writes(sg, i)) {
            cnp_fs_remove_tree(to);
            continue;
        }
        cnp_staging_path(sg, outputs[i].name, from, sizeof from);
        /* Only a signed run has a signature. */
        if (strcmp(outputs[i].name, "SHA256SUMS.sig") == 0 && access(from, F_OK) != 0) {
            cnp_fs_remove_tree(to);
            continue;
        }
        /* A folder cannot replace a non-empty folder: drop the old evidence. */
        if (strcmp(outputs[i].name, "evidence") == 0)
            cnp_fs_remove_tree(to);
        if (rename(from, to) != 0)
            return cnp_err(CNP_E_IO, "cannot move '%s' into '%s': %s", outputs[i].name, outdir,
                           strerror(errno));
    }
    rmdir(sg->dir);
    return CNP_OK;
}


cnp_status cnp_staging_json_outputs(cnp_json *j, const cnp_staging *sg)
{
    char **list = NULL, path[4200];
    size_t n = 0;
    cnp_status st = cnp_fs_list_files(sg->dir, &list, &n);
    if (st != CNP_OK)
        return st;
    cnp_json_array(j, "outputs");
    for (size_t i = 0; i < n && st == CNP_OK; i++) {
        /* Every staged output but run.json (which lists them); SHA256SUMS
         * and its signature come after it. */
        if (strcmp(list[i], "run.json") == 0 || strncmp(list[i], "SHA256SUMS", 10) == 0)
            continue;
        char hex[65];
        int64_t size = 0;
        cnp_staging_path(sg, list[i], path, sizeof path);
        if ((st = cnp_sha256_file(path, hex, &size)) != CNP_OK)
            break;
        cnp_json_object(j, NULL);
        cnp_json_str(j, "path", list[i]);
        cnp_json_int(j, "size", size);
        cnp_json_str(j, "sha256", hex);
        cnp_json_close(j, '}');
    }
    cnp_json_close(j, ']');
    cnp_fs_free_list(list, n);
    return st;
}
