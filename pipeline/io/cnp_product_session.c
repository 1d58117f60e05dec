/* pipeline/io/cnp_product_session.c - one run's products: the profiles loaded
 * once, each product recognised once (cnp_product.h explains the contract).
 *
 * The session is the calling thread's (_Thread_local), never the process's:
 * two runs on two threads each have their own, and a thread without one
 * resolves as before. It serves only settings that name the same profile
 * folder with the same [limits], the two settings recognition depends on.
 */
#include "cnp_product_int.h"

#include "cnp_err.h"

typedef struct kept {
    char       *path;
    cnp_product p;
} kept;

struct cnp_product_session {
    cnp_profile_set ps;
    int             loaded;         /* ps read (on first need: a run of plain
                                       rasters never reads the profiles)     */
    char            dir[sizeof ((cnp_profile_set *)0)->dir];
    cnp_limits      lim;
    kept           *k;
    size_t          nk, capk;
    size_t          recognised0, loads0;
    cnp_product_session *prev;      /* the thread's session before this one */
};

static _Thread_local cnp_product_session *g_current;
static _Thread_local size_t g_recognised, g_loads;

static int serves(const cnp_product_session *ss, const cnp_settings *s)
{
    char dir[sizeof ss->dir];
    if (!ss || !s)
        return 0;
    cnp_product_profiles_dir(s, dir, sizeof dir);
    const cnp_limits *a = &s->limits, *b = &ss->lim;
    return strcmp(dir, ss->dir) == 0 && a->metadata_bytes == b->metadata_bytes &&
           a->metadata_depth == b->metadata_depth && a->metadata_items == b->metadata_items &&
           a->scene_pixels == b->scene_pixels;
}

cnp_status cnp_product_session_begin(const cnp_settings *s, cnp_product_session **out)
{
    *out = NULL;
    cnp_product_session *ss = calloc(1, sizeof *ss);
    if (!ss)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    ss->recognised0 = g_recognised;
    ss->loads0 = g_loads;
    cnp_product_profiles_dir(s, ss->dir, sizeof ss->dir);
    ss->lim = s->limits;
    ss->prev = g_current;
    g_current = ss;
    *out = ss;
    return CNP_OK;
}

void cnp_product_session_end(cnp_product_session **ssp)
{
    cnp_product_session *ss = ssp ? *ssp : NULL;
    if (!ss)
        return;
    if (g_current == ss)
        g_current = ss->prev;
    for (size_t i = 0; i < ss->nk; i++) {
        free(ss->k[i].path);
        cnp_product_free(&ss->k[i].p);
    }
    free(ss->k);
    cnp_profiles_free(&ss->ps);
    free(ss);
    *ssp = NULL;
}

void cnp_product_session_counts(const cnp_product_session *ss, size_t *recognised,
                                size_t *profile_loads)
{
    *recognised = ss ? g_recognised - ss->recognised0 : 0;
    *profile_loads = ss ? g_loads - ss->loads0 : 0;
}

const cnp_profile_set *cnp_product_session_profiles(const cnp_settings *s)
{
    cnp_product_session *ss = g_current;
    if (!serves(ss, s))
        return NULL;
    /* A folder that cannot be read is not remembered: the caller loads it
     * itself and reports why, as without a session. */
    if (!ss->loaded && cnp_profiles_load(s, &ss->ps) == CNP_OK) {
        ss->loaded = 1;
        g_loads++;
    }
    return ss->loaded ? &ss->ps : NULL;
}

int cnp_product_session_find(const char *path, const cnp_settings *s, cnp_product *p)
{
    cnp_product_session *ss = g_current;
    if (!serves(ss, s))
        return 0;
    for (size_t i = 0; i < ss->nk; i++)
        if (strcmp(ss->k[i].path, path) == 0)
            return cnp_product_copy(p, &ss->k[i].p) == CNP_OK ? 1 : -1;
    return 0;
}

void cnp_product_session_keep(const char *path, const cnp_settings *s, const cnp_product *p)
{
    cnp_product_session *ss = g_current;
    g_recognised++;
    if (!serves(ss, s))
        return;
    /* Not kept when memory is short: it is then recognised again, no more. */
    if (ss->nk == ss->capk) {
        const size_t cap = ss->capk ? 2 * ss->capk : 32;
        kept *k = realloc(ss->k, cap * sizeof *k);
        if (!k)
            return;
        ss->k = k;
        ss->capk = cap;
    }
    kept *k = &ss->k[ss->nk];
    if (!(k->path = strdup(path)))
        return;
    if (cnp_product_copy(&k->p, p) != CNP_OK) {
        free(k->path);
        return;
    }
    ss->nk++;
}

void cnp_product_session_count_load(void)
{
    g_loads++;
}
