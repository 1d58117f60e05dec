/* pipeline/run/cnp_inputs.h - the files a run read, for run.json's chain of
 * custody: the inputs as given and the files of products, each with its size,
 * time and SHA-256 (hashed on threads of their own while the scenes are
 * processed), and the run id derived from them and the settings.
 */
#ifndef CNP_INPUTS_H
#define CNP_INPUTS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "cnp_detect.h"
#include "cnp_raster.h"

/* the scenes and their products' files, up to 8 baselines and theirs, and
 * the context layers (16 zones layers, a forest mask, an exclusion mask, an
 * area of interest). */
enum { CNP_MAX_INPUTS = 120 };

typedef struct cnp_input_file {
    char        role[40];      /* before, after, before_mask, after_mask, or
                                * before:red, after:metadata, ... for the
                                * files of a product; zones, forest_mask,
                                * exclude, aoi for the context layers    */
    const char *path;
    char        sha256[65];    /* "" when hashing is off                 */
    int64_t     size;
    char        mtime[32];     /* UTC, ISO 8601                          */
    int         hashable;      /* a local regular file                   */
} cnp_input_file;

/* SHA-256 is sequential within a file, so the files are hashed side by side,
 * largest first, one thread each up to CNP_MAX_HASHERS (and the run's threads):
 * a scene pair is two large files, and one thread took 1.4 s for the 2 GB of
 * an uncompressed 10980² pair while detection took 0.6 s. */
enum { CNP_MAX_HASHERS = 8 };

typedef struct cnp_inputs {
    cnp_input_file  in[CNP_MAX_INPUTS];
    int         n, enabled;
    int         order[CNP_MAX_INPUTS];         /* hashable inputs, largest first */
    int         norder;
    atomic_int  next;                      /* into order, taken by the hashers */
    cnp_status  in_st[CNP_MAX_INPUTS];
    char        in_msg[CNP_MAX_INPUTS][512];
    pthread_t   thread[CNP_MAX_HASHERS];
    struct cnp_hasher { struct cnp_inputs *h; int id; } hasher[CNP_MAX_HASHERS];
    int         nthreads;
    double      t0, done_at[CNP_MAX_HASHERS];
    cnp_status  st;                        /* after cnp_inputs_finish: the first failure */
    char        msg[1024];                 /* in input order, and why            */
    double      seconds;                   /* until the last file was hashed     */
    char       *owned[CNP_MAX_INPUTS];     /* paths of side files, freed by      */
    int         nowned;                    /* cnp_inputs_free                    */
} cnp_inputs;

/* cnp_inputs_init() : the inputs of `job` as given, then the files its
 * products were read from (an archive stands for its members), and the side
 * files of its context layers (a Shapefile's .shx, .dbf, .prj, .cpg); the
 * same for its nbase baseline scenes `base`. */
void cnp_inputs_init(cnp_inputs *h, const cnp_job *job, const cnp_scene sc[2],
                     const cnp_scene *base, int nbase);

/* cnp_inputs_add_layer() : a context layer as an input of role `role` and
 * the other files GDAL reads with it (role "ROLE:EXT"), as cnp_inputs_init
 * adds them; `path` must outlive `h`. Also what `canopy monitor` records of
 * its layers. */
void cnp_inputs_add_layer(cnp_inputs *h, const char *role, const char *path);

/* cnp_inputs_free() : the side files' paths (after cnp_inputs_finish; a
 * zeroed cnp_inputs is fine). */
void cnp_inputs_free(cnp_inputs *h);

/* cnp_inputs_start() : start up to `threads` hashers (at least one) on the
 * hashable inputs, largest first. @return CNP_OK or CNP_E_NOMEM. */
cnp_status cnp_inputs_start(cnp_inputs *h, int threads);

/* cnp_inputs_finish() : wait for the hashers; h->st and h->msg tell the first
 * failure in input order. */
void cnp_inputs_finish(cnp_inputs *h);

/* cnp_inputs_run_id() : SHA-256 over the inputs' hashes (or sizes and times
 * when hashing is off) and the settings in INI form, as 64 hex digits. */
void cnp_inputs_run_id(const cnp_inputs *h, const cnp_job *job, char out[65]);

#endif /* CNP_INPUTS_H */
