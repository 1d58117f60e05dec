/* pipeline/base/cnp_config.c - settings: defaults, INI (inih), validation. */
#include "cnp_config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnp_err.h"
#include "cnp_ini.h"

static void limits_defaults(cnp_limits *l)
{
    l->metadata_bytes = CNP_LIMIT_METADATA_BYTES;
    l->metadata_depth = CNP_LIMIT_METADATA_DEPTH;
    l->metadata_items = CNP_LIMIT_METADATA_ITEMS;
    l->scene_pixels = CNP_LIMIT_SCENE_PIXELS;
}

void cnp_settings_defaults(cnp_settings *s)
{
    memset(s, 0, sizeof *s);
    s->red_band = 3;
    s->nir_band = 4;
    s->green_band = 2;
    s->blue_band = 1;
    s->scale = 1e-4;
    s->offset = 0.0;
    s->saturated_dn = 0.0;
    /* Sentinel-2 SCL: no data, saturated or defective, cloud shadow, cloud
     * medium and high probability, thin cirrus. */
    static const int scl_invalid[] = { 0, 1, 3, 8, 9, 10 };
    for (size_t i = 0; i < sizeof scl_invalid / sizeof scl_invalid[0]; i++)
        s->mask_invalid[scl_invalid[i]] = 1;
    s->mask_buffer_m = 60.0;
    s->mask_buffer_square = 0;
    s->haze = 1;
    s->grid_mode = CNP_GRID_BEFORE;
    s->forest_ndvi = 0.65;
    s->ndvi_drop = 0.25;
    s->high_confidence_drop = 0.40;
    s->min_area_ha = 0.5;
    s->connectivity = 8;
    s->bridge_gap_m = 150.0;
    s->normalize = CNP_NORMALIZE_LOCAL;
    s->coreg = CNP_COREG_AUTO;
    s->coreg_max_shift = 2.0;
    s->coreg_min_shift = 0.2;
    s->overview_size = 2048;
    s->threads = 0;
    s->baseline_obs = 3;
    limits_defaults(&s->limits);
}

static cnp_status parse_double(const char *v, double lo, double hi, double *out,
                               const char *origin, const char *key)
{
    char *end = NULL;
    errno = 0;
    const double d = strtod(v, &end);
    if (end == v || *end != '\0' || errno || !isfinite(d))
        return cnp_err(CNP_E_CONFIG, "%s: %s: '%s' is not a number", origin, key, v);
    if (d < lo || d > hi)
        return cnp_err(CNP_E_CONFIG, "%s: %s: %s is out of range [%g, %g]",
                       origin, key, v, lo, hi);
    *out = d;
    return CNP_OK;
}

static cnp_status parse_int(const char *v, long lo, long hi, int *out,
                            const char *origin, const char *key)
{
    char *end = NULL;
    errno = 0;
    const long n = strtol(v, &end, 10);
    if (end == v || *end != '\0' || errno)
        return cnp_err(CNP_E_CONFIG, "%s: %s: '%s' is not an integer", origin, key, v);
    if (n < lo || n > hi)
        return cnp_err(CNP_E_CONFIG, "%s: %s: %s is out of range [%ld, %ld]",
                       origin, key, v, lo, hi);
    *out = (int)n;
    return CNP_OK;
}

static cnp_status parse_int64(const char *v, int64_t lo, int64_t hi, int64_t *out,
                              const char *origin, const char *key)
{
    char *end = NULL;
    errno = 0;
    const long long n = strtoll(v, &end, 10);
    if (end == v || *end != '\0' || errno)
        return cnp_err(CNP_E_CONFIG, "%s: %s: '%s' is not an integer", origin, key, v);
    if (n < lo || n > hi)
        return cnp_err(CNP_E_CONFIG, "%s: %s: %s is out of range [%" PRId64 ", %" PRId64 "]",
                       origin, key, v, lo, hi);
    *out = (int64_t)n;
    return CNP_OK;
}

static int valid_date(const char *v)
{
    int y, m, d;
    char tail;
    if (strlen(v) != 10 || sscanf(v, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return 0;
    static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (y < 1950 || y > 2200 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    const int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

static cnp_status parse_date(const char *v, char *out, const char *origin, const char *key)
{
    if (*v == '\0') {
        out[0] = '\0';
        return CNP_OK;
    }
    if (!valid_date(v))
        return cnp_err(CNP_E_CONFIG, "%s: %s: '%s' is not a date YYYY-MM-DD", origin, key, v);
    memcpy(out, v, CNP_DATE_LEN);
    return CNP_OK;
}

static cnp_status parse_mask_list(const char *v, unsigned char *set, const char *origin)
{
    unsigned char tmp[256] = { 0 };
    const char *p = v;

    while (*p) {
        char *end = NULL;
        while (*p == ' ')
            p++;
        errno = 0;
        const long n = strtol(p, &end, 10);
        if (end == p || errno || n < 0 || n > 255)
            return cnp_err(CNP_E_CONFIG, "%s: mask_invalid: '%s' is not a list of "
                           "values 0-255 separated by commas", origin, v);
        tmp[n] = 1;
        p = end;
        while (*p == ' ')
            p++;
        if (*p == ',')
            p++;
        else if (*p != '\0')
            return cnp_err(CNP_E_CONFIG, "%s: mask_invalid: '%s' is not a list of "
                           "values 0-255 separated by commas", origin, v);
    }
    memcpy(set, tmp, sizeof tmp);
    return CNP_OK;
}

static int is(const char *a, const char *b) { return strcmp(a, b) == 0; }

static cnp_status parse_word(const char *v, const char *const *words, int *out,
                             const char *origin, const char *key)
{
    char list[128] = "";
    for (int i = 0; words[i]; i++) {
        if (is(v, words[i])) {
            *out = i;
            return CNP_OK;
        }
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", words[i]);
    }
    return cnp_err(CNP_E_CONFIG, "%s: %s: '%s' is not one of %s", origin, key, v, list);
}

/* Free text must come back the same through the settings' INI form (run.json,
 * batch plans, --print-config; verify --rerun and batch shards read it back):
 * no control characters, no leading or trailing space, no ';' that inih would
 * take for a comment, and "key = value" within one INI line. */
static cnp_status parse_text(const char *v, char *out, size_t size, const char *origin,
                             const char *key)
{
    const size_t len = strlen(v);
    if (len >= size)
        return cnp_err(CNP_E_CONFIG, "%s: %s: value longer than %zu characters", origin, key,
                       size - 1);
    const int fit = cnp_ini_max_line() - (int)strlen(key) - 3;
    if ((int)len > fit)
        return cnp_err(CNP_E_CONFIG, "%s: %s: value longer than %d characters, which the INI "
                       "form of the settings (run.json) cannot hold in one line", origin, key,
                       fit);
    for (size_t i = 0; i < len; i++) {
        const unsigned char c = (unsigned char)v[i];
        const int space = c == ' ' || c == '\t';
        if (c < 0x20 || c == 0x7f || ((i == 0 || i == len - 1) && space) ||
            (c == ';' && (i == 0 || v[i - 1] == ' ' || v[i - 1] == '\t')))
            return cnp_err(CNP_E_CONFIG, "%s: %s: '%s' cannot be written back to an INI file "
                           "(a control character, a space at either end, or a ';' starting "
                           "it or following a space)", origin, key, v);
    }
    memcpy(out, v, len + 1);
    return CNP_OK;
}

static const char *const grid_words[] = { "before", "after", "finest", NULL };
static const char *const shape_words[] = { "disk", "square", NULL };
static const char *const onoff_words[] = { "off", "on", NULL };
static const char *const normalize_words[] = { "local", "scene", "off", NULL };
static const char *const coreg_words[] = { "auto", "check", "off", NULL };

cnp_status cnp_settings_set(cnp_settings *s, const char *section, const char *key,
                            const char *v, const char *origin)
{
    if (is(section, "bands")) {
        if (is(key, "red"))   return parse_int(v, 1, 65535, &s->red_band, origin, key);
        if (is(key, "nir"))   return parse_int(v, 1, 65535, &s->nir_band, origin, key);
        if (is(key, "green")) return parse_int(v, 0, 65535, &s->green_band, origin, key);
        if (is(key, "blue"))  return parse_int(v, 0, 65535, &s->blue_band, origin, key);
        if (is(key, "swir2")) return parse_int(v, 0, 65535, &s->swir2_band, origin, key);
        if (is(key, "scale")) {
            if (*v == '\0') { s->have_scale = 0; return CNP_OK; }
            s->have_scale = 1;
            return parse_double(v, 1e-12, 1e12, &s->scale, origin, key);
        }
        if (is(key, "offset")) {
            if (*v == '\0') { s->have_offset = 0; return CNP_OK; }
            s->have_offset = 1;
            return parse_double(v, -1e12, 1e12, &s->offset, origin, key);
        }
        if (is(key, "saturated_dn"))
            return parse_double(v, 0, 1e38, &s->saturated_dn, origin, key);
    } else if (is(section, "mask")) {
        if (is(key, "invalid"))
            return parse_mask_list(v, s->mask_invalid, origin);
        if (is(key, "buffer_m"))
            return parse_double(v, 0, 100000, &s->mask_buffer_m, origin, key);
        if (is(key, "buffer_shape"))
            return parse_word(v, shape_words, &s->mask_buffer_square, origin, key);
        if (is(key, "haze"))
            return parse_word(v, onoff_words, &s->haze, origin, key);
    } else if (is(section, "grid")) {
        if (is(key, "align"))
            return parse_word(v, grid_words, &s->grid_mode, origin, key);
        if (is(key, "t_srs"))
            return parse_text(v, s->grid_t_srs, sizeof s->grid_t_srs, origin, key);
        if (is(key, "tr")) {
            if (*v == '\0') { s->grid_tr = 0; return CNP_OK; }
            return parse_double(v, 1e-9, 1e9, &s->grid_tr, origin, key);
        }
    } else if (is(section, "products")) {
        if (is(key, "profiles"))
            return parse_text(v, s->profiles_dir, sizeof s->profiles_dir, origin, key);
    } else if (is(section, "detect")) {
        if (is(key, "forest_ndvi"))  return parse_double(v, -1, 1, &s->forest_ndvi, origin, key);
        if (is(key, "ndvi_drop"))    return parse_double(v, 1e-6, 2, &s->ndvi_drop, origin, key);
        if (is(key, "high_confidence_drop"))
            return parse_double(v, 1e-6, 2, &s->high_confidence_drop, origin, key);
        if (is(key, "min_area"))     return parse_double(v, 0, 1e9, &s->min_area_ha, origin, key);
        if (is(key, "connectivity")) {
            cnp_status st = parse_int(v, 4, 8, &s->connectivity, origin, key);
            if (st == CNP_OK && s->connectivity != 4 && s->connectivity != 8)
                return cnp_err(CNP_E_CONFIG, "%s: connectivity: must be 4 or 8, not %s", origin, v);
            return st;
        }
        if (is(key, "bridge_gap_m"))
            return parse_double(v, 0, 100000, &s->bridge_gap_m, origin, key);
        if (is(key, "normalize"))
            return parse_word(v, normalize_words, &s->normalize, origin, key);
    } else if (is(section, "coreg")) {
        /* 8 px: phase correlation on 64 px blocks finds up to ~16 px. */
        if (is(key, "mode"))
            return parse_word(v, coreg_words, &s->coreg, origin, key);
        if (is(key, "max_shift"))
            return parse_double(v, 0, 8, &s->coreg_max_shift, origin, key);
        if (is(key, "min_shift"))
            return parse_double(v, 0, 8, &s->coreg_min_shift, origin, key);
    } else if (is(section, "dates")) {
        if (is(key, "before")) return parse_date(v, s->date_before, origin, "date_before");
        if (is(key, "after"))  return parse_date(v, s->date_after, origin, "date_after");
    } else if (is(section, "output")) {
        if (is(key, "overview_size"))
            return parse_int(v, 64, 16384, &s->overview_size, origin, key);
    } else if (is(section, "run")) {
        if (is(key, "threads")) return parse_int(v, 0, 4096, &s->threads, origin, key);
    } else if (is(section, "monitor")) {
        /* 16: CNP_MONITOR_HIST_MAX (kernels/cnp_monitor.h) */
        if (is(key, "baseline_obs"))
            return parse_int(v, 1, 16, &s->baseline_obs, origin, key);
    } else if (is(section, "limits")) {
        cnp_limits *l = &s->limits;
        /* Bounds: what a real file or scene could need, many times over, and
         * what the parsers stay safe with (the depth bounds their recursion). */
        if (is(key, "metadata_bytes"))
            return parse_int64(v, 1024, INT64_C(1) << 30, &l->metadata_bytes, origin, key);
        if (is(key, "metadata_depth"))
            return parse_int(v, 4, 256, &l->metadata_depth, origin, key);
        if (is(key, "metadata_items"))
            return parse_int64(v, 100, 100000000, &l->metadata_items, origin, key);
        if (is(key, "scene_pixels"))
            return parse_int64(v, 1, INT64_C(10000000000000), &l->scene_pixels, origin, key);
    } else {
        return cnp_err(CNP_E_CONFIG, "%s: unknown section [%s]", origin, section);
    }
    return cnp_err(CNP_E_CONFIG, "%s: unknown key '%s' in section [%s]", origin, key, section);
}

typedef struct ini_ctx {
    cnp_settings *s;
    const char   *name;
} ini_ctx;

static cnp_status on_ini_entry(void *user, const char *section, const char *key,
                               const char *value, int line)
{
    const ini_ctx *ctx = user;
    char origin[1100];
    snprintf(origin, sizeof origin, "%s:%d", ctx->name, line);
    return cnp_settings_set(ctx->s, section, key, value, origin);
}

cnp_status cnp_settings_load_text(cnp_settings *s, const char *text, size_t len,
                                  const char *name)
{
    ini_ctx ctx = { s, name };
    return cnp_ini_parse(text, len, name, on_ini_entry, &ctx);
}

cnp_status cnp_settings_load(cnp_settings *s, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    cnp_status st = cnp_ini_read(path, "config file", &text, &len);
    if (st == CNP_OK)
        st = cnp_settings_load_text(s, text, len, path);
    free(text);
    return st;
}

cnp_status cnp_settings_validate(const cnp_settings *s)
{
    if (s->red_band == s->nir_band)
        return cnp_err(CNP_E_CONFIG, "red and NIR must be different bands (both are %d)",
                       s->red_band);
    if (s->coreg_min_shift > s->coreg_max_shift)
        return cnp_err(CNP_E_CONFIG, "[coreg] min_shift (%g) must be <= max_shift (%g)",
                       s->coreg_min_shift, s->coreg_max_shift);
    if (s->high_confidence_drop < s->ndvi_drop)
        return cnp_err(CNP_E_CONFIG, "high_confidence_drop (%g) must be >= ndvi_drop (%g)",
                       s->high_confidence_drop, s->ndvi_drop);
    return CNP_OK;
}

void cnp_settings_mask_list(const cnp_settings *s, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int v = 0; v < 256 && used < size; v++) {
        if (!s->mask_invalid[v])
            continue;
        const int n = snprintf(buf + used, size - used, "%s%d", used ? "," : "", v);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

void cnp_settings_write_monitor_corrections(const cnp_settings *s, FILE *f)
{
    fprintf(f, "normalize = %s\nhaze = %s\n", normalize_words[s->normalize],
            onoff_words[s->haze]);
}

void cnp_settings_write_ini(const cnp_settings *s, FILE *f)
{
    char list[1024];
    cnp_settings_mask_list(s, list, sizeof list);

    fprintf(f, "[bands]\n");
    fprintf(f, "red = %d\nnir = %d\ngreen = %d\nblue = %d\n", s->red_band, s->nir_band,
            s->green_band, s->blue_band);
    fprintf(f, "swir2 = %d\n", s->swir2_band);
    if (s->have_scale)  fprintf(f, "scale = %.17g\n", s->scale);
    else                fprintf(f, "scale =\n");
    if (s->have_offset) fprintf(f, "offset = %.17g\n", s->offset);
    else                fprintf(f, "offset =\n");
    fprintf(f, "saturated_dn = %.17g\n", s->saturated_dn);
    fprintf(f, "\n[mask]\ninvalid = %s\n", list);
    fprintf(f, "buffer_m = %.17g\nbuffer_shape = %s\n", s->mask_buffer_m,
            shape_words[s->mask_buffer_square]);
    fprintf(f, "haze = %s\n", onoff_words[s->haze]);
    fprintf(f, "\n[grid]\nalign = %s\nt_srs = %s\n", grid_words[s->grid_mode], s->grid_t_srs);
    if (s->grid_tr > 0) fprintf(f, "tr = %.17g\n", s->grid_tr);
    else                fprintf(f, "tr =\n");
    fprintf(f, "\n[products]\nprofiles = %s\n", s->profiles_dir);
    fprintf(f, "\n[detect]\n");
    fprintf(f, "forest_ndvi = %.17g\nndvi_drop = %.17g\nhigh_confidence_drop = %.17g\n",
            s->forest_ndvi, s->ndvi_drop, s->high_confidence_drop);
    fprintf(f, "min_area = %.17g\nconnectivity = %d\n", s->min_area_ha, s->connectivity);
    fprintf(f, "bridge_gap_m = %.17g\n", s->bridge_gap_m);
    fprintf(f, "normalize = %s\n", normalize_words[s->normalize]);
    fprintf(f, "\n[coreg]\nmode = %s\nmax_shift = %.17g\nmin_shift = %.17g\n",
            coreg_words[s->coreg], s->coreg_max_shift, s->coreg_min_shift);
    fprintf(f, "\n[dates]\nbefore = %s\nafter = %s\n", s->date_before, s->date_after);
    fprintf(f, "\n[output]\noverview_size = %d\n", s->overview_size);
    fprintf(f, "\n[run]\nthreads = %d\n", s->threads);
    cnp_limits d;
    limits_defaults(&d);
    const cnp_limits *l = &s->limits;
    if (l->metadata_bytes == d.metadata_bytes && l->metadata_depth == d.metadata_depth &&
        l->metadata_items == d.metadata_items && l->scene_pixels == d.scene_pixels)
        return;
    fprintf(f, "\n[limits]\n");
    if (l->metadata_bytes != d.metadata_bytes)
        fprintf(f, "metadata_bytes = %" PRId64 "\n", l->metadata_bytes);
    if (l->metadata_depth != d.metadata_depth)
        fprintf(f, "metadata_depth = %d\n", l->metadata_depth);
    if (l->metadata_items != d.metadata_items)
        fprintf(f, "metadata_items = %" PRId64 "\n", l->metadata_items);
    if (l->scene_pixels != d.scene_pixels)
        fprintf(f, "scene_pixels = %" PRId64 "\n", l->scene_pixels);
}

const cnp_setting_opt *cnp_setting_opt_find(const cnp_setting_opt *table, size_t n, int opt)
{
    for (size_t i = 0; i < n; i++)
        if (table[i].opt == opt)
            return &table[i];
    return NULL;
}

cnp_status cnp_settings_resolve(cnp_settings *s, const char *config_path,
                                const cnp_setting_override *cli, size_t ncli)
{
    cnp_status st;
    cnp_settings_defaults(s);
    if (config_path && (st = cnp_settings_load(s, config_path)) != CNP_OK)
        return st;
    for (size_t i = 0; i < ncli; i++)
        if ((st = cnp_settings_set(s, cli[i].section, cli[i].key, cli[i].value,
                                   cli[i].option)) != CNP_OK)
            return st;
    return cnp_settings_validate(s);
}
