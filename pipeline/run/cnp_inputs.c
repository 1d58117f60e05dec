/* pipeline/run/cnp_inputs.c - the files a run read, hashed beside detection,
 * and the run id made from them. */
#include "cnp_inputs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal.h>
#include <openssl/evp.h>

#include "cnp_err.h"
#include "cnp_fs.h"
#include "cnp_hash.h"
#include "cnp_product.h"

static void *hash_files(void *arg)
{
    cnp_inputs *h = ((struct cnp_hasher *)arg)->h;
    const int id = ((struct cnp_hasher *)arg)->id;
    for (int i; (i = atomic_fetch_add(&h->next, 1)) < h->norder;) {
        const int k = h->order[i];
        h->in_st[k] = cnp_sha256_file(h->in[k].path, h->in[k].sha256, &h->in[k].size);
        if (h->in_st[k] != CNP_OK)
            snprintf(h->in_msg[k], sizeof h->in_msg[k], "%s", cnp_err_msg());
    }
    h->done_at[id] = cnp_now_s();
    return NULL;
}

/* Start up to `threads` hashers (at least one) on the hashable inputs. */
cnp_status cnp_inputs_start(cnp_inputs *h, int threads)
{
    for (int i = 0; i < h->n; i++)
        if (h->in[i].hashable) {
            int j = h->norder++;
            for (; j > 0 && h->in[h->order[j - 1]].size < h->in[i].size; j--)
                h->order[j] = h->order[j - 1];
            h->order[j] = i;
        }
    atomic_init(&h->next, 0);
    h->t0 = cnp_now_s();
    const int want = threads < h->norder ? threads : h->norder;
    for (int t = 0; t < want && t < CNP_MAX_HASHERS; t++) {
        h->hasher[t] = (struct cnp_hasher){ h, t };
        if (pthread_create(&h->thread[t], NULL, hash_files, &h->hasher[t]) != 0)
            break;   /* fewer hashers take the same files */
        h->nthreads++;
    }
    if (h->norder > 0 && h->nthreads == 0)
        return cnp_err(CNP_E_NOMEM, "cannot start the hashing thread");
    return CNP_OK;
}

/* Wait for the hashers; h->st and h->msg tell the first failure in input order. */
void cnp_inputs_finish(cnp_inputs *h)
{
    double end = h->t0;
    for (int t = 0; t < h->nthreads; t++) {
        pthread_join(h->thread[t], NULL);
        if (h->done_at[t] > end)
            end = h->done_at[t];
    }
    h->nthreads = 0;
    h->seconds = end - h->t0;
    h->st = CNP_OK;
    for (int i = 0; i < h->n && h->st == CNP_OK; i++)
        if (h->in_st[i] != CNP_OK) {
            h->st = h->in_st[i];
            snprintf(h->msg, sizeof h->msg, "%s", h->in_msg[i]);
        }
}

static void add_input(cnp_inputs *h, const char *role, const char *path)
{
    struct stat st;
    if (h->n >= CNP_MAX_INPUTS)
        return;
    for (int i = 0; i < h->n; i++)
        if (strcmp(h->in[i].path, path) == 0)
            return;
    cnp_input_file *f = &h->in[h->n++];
    snprintf(f->role, sizeof f->role, "%s", role);
    f->path = path;
    if (strncmp(path, "/vsi", 4) != 0 && stat(path, &st) == 0) {
        struct tm tm;
        f->hashable = S_ISREG(st.st_mode);
        f->size = f->hashable ? (int64_t)st.st_size : 0;
        gmtime_r(&st.st_mtime, &tm);
        strftime(f->mtime, sizeof f->mtime, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
}

/* GDAL 3.6 reads a Shapefile's .cpg (the encoding of its attributes, so of
 * zone names) but leaves it out of the dataset's file list: added here when
 * it is there, as .cpg or .CPG beside the .shp. */
static char **add_shapefile_cpg(GDALDatasetH ds, const char *path, char **files)
{
    GDALDriverH drv = GDALGetDatasetDriver(ds);
    const char *dot = strrchr(cnp_path_base(path), '.');
    if (!drv || strcmp(GDALGetDriverShortName(drv), "ESRI Shapefile") != 0 || !dot)
        return files;
    static const char *const ext[] = { ".cpg", ".CPG" };
    for (size_t e = 0; e < sizeof ext / sizeof *ext; e++) {
        char cpg[4096];
        struct stat st;
        if (snprintf(cpg, sizeof cpg, "%.*s%s", (int)(dot - path), path, ext[e]) >=
                (int)sizeof cpg || stat(cpg, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (CSLFindString(files, cpg) < 0)
            files = CSLAddString(files, cpg);
        break;
    }
    return files;
}

/* The other files GDAL reads with a context layer (a Shapefile's .shx,
 * .dbf, .prj, .cpg; a raster's .aux.xml or world file): a changed .dbf or
 * .prj changes the zones as much as the .shp, so each is an input of its
 * own, role "ROLE:EXT", right after the layer. */
static void add_side_files(cnp_inputs *h, const char *role, const char *path)
{
    struct stat st;
    if (!path || strncmp(path, "/vsi", 4) == 0 || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_READONLY | GDAL_OF_VECTOR | GDAL_OF_RASTER,
                                 NULL, NULL, NULL);
    CPLPopErrorHandler();
    if (!ds)
        return;                            /* the run's own opening says why */
    char **files = GDALGetFileList(ds);
    files = add_shapefile_cpg(ds, path, files);
    for (int i = 0; files && files[i] && h->nowned < CNP_MAX_INPUTS; i++) {
        if (strcmp(files[i], path) == 0)
            continue;
        const char *dot = strrchr(cnp_path_base(files[i]), '.');
        char r[40];
        snprintf(r, sizeof r, "%s:%s", role, dot && dot[1] ? dot + 1 : "file");
        if (!(h->owned[h->nowned] = strdup(files[i])))
            break;
        add_input(h, r, h->owned[h->nowned++]);
    }
    CSLDestroy(files);
    GDALClose(ds);
}

void cnp_inputs_add_layer(cnp_inputs *h, const char *role, const char *path)
{
    add_input(h, role, path);
    add_side_files(h, role, path);
}

void cnp_inputs_free(cnp_inputs *h)
{
    for (int i = 0; i < h->nowned; i++)
        free(h->owned[i]);
    h->nowned = 0;
}

/* The files of a product as inputs in their own right, role "ROLE:file". */
static void add_product_files(cnp_inputs *h, const char *role, const cnp_scene *sc)
{
    const cnp_product *p = sc->product;
    for (size_t i = 0; p && i < p->nfiles; i++) {
        char r[40];
        snprintf(r, sizeof r, "%s:%s", role, p->files[i].role);
        add_input(h, r, p->files[i].path);
    }
}

void cnp_inputs_init(cnp_inputs *h, const cnp_job *job, const cnp_scene sc[2],
                     const cnp_scene *base, int nbase)
{
    memset(h, 0, sizeof *h);
    const char *roles[4] = { "before", "after", "before_mask", "after_mask" };
    const char *paths[4] = { job->before, job->after, job->before_mask, job->after_mask };
    for (int i = 0; i < 4; i++)
        if (paths[i])
            add_input(h, roles[i], paths[i]);
    /* The context layers: evidence as much as the scenes (a FILE:LAYER is
     * recorded as given, not hashed). */
    const char *ctx_role[3] = { "forest_mask", "exclude", "aoi" };
    const char *ctx_path[3] = { job->ctx.forest, job->ctx.exclude, job->aoi };
    for (size_t i = 0; i < job->nzones; i++)
        cnp_inputs_add_layer(h, "zones", job->zones[i]);
    for (int i = 0; i < 3; i++)
        if (ctx_path[i])
            cnp_inputs_add_layer(h, ctx_role[i], ctx_path[i]);
    for (int d = 0; d < 2; d++)
        add_product_files(h, roles[d], &sc[d]);
    for (int k = 0; k < nbase && k < job->nbaseline; k++) {
        char role[40], mrole[48];
        snprintf(role, sizeof role, "baseline%d", k + 1);
        snprintf(mrole, sizeof mrole, "%s_mask", role);
        add_input(h, role, job->baseline[k]);
        if (k < job->nbaseline_mask)
            add_input(h, mrole, job->baseline_mask[k]);
        add_product_files(h, role, &base[k]);
    }
    h->enabled = !job->no_hash;
}

/* run id: SHA-256 over the inputs' hashes (or sizes and times when hashing
 * is off) and the settings in INI form: the same evidence, the same id. */
void cnp_inputs_run_id(const cnp_inputs *h, const cnp_job *job, char out[65])
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    out[0] = '\0';
    if (!m)
        return;
    for (int i = 0; i < h->n; i++)
        fprintf(m, "%s %s %lld %s\n", h->in[i].role, h->in[i].sha256, (long long)h->in[i].size,
                h->enabled ? "" : h->in[i].mtime);
    /* The thread count changes nothing in the outputs, so not the run id either. */
    cnp_settings s = job->settings;
    s.threads = 0;
    cnp_settings_write_ini(&s, m);
    /* The context layers' rules are settings too (a run without them keeps
     * the id it always had). */
    const cnp_ctxmask_spec *c = &job->ctx;
    if (job->nzones || c->forest || c->exclude || job->aoi)
        fprintf(m, "zone_field %s\nforest_min %.17g\nexclude_last_year %d\n",
            job->zone_field ? job->zone_field : "", c->forest ? c->forest_min : 0,
            c->exclude_last_year);
    for (int i = 0; i < c->nforest_classes; i++)
        fprintf(m, "forest_class %d\n", c->forest_classes[i]);
    for (int i = 0; i < c->nexclude_classes; i++)
        fprintf(m, "exclude_class %d\n", c->exclude_classes[i]);
    fclose(m);
    EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL);
    free(buf);
    for (unsigned int i = 0; i < mdlen && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

