/* pipeline/base/cnp_config.h - every setting of `canopy detect`, from defaults, an
 * INI file and the command line, validated in one place.
 *
 * Precedence: built-in defaults (identical to configs/default.ini) < the
 * --config file < command-line options. Both the file and the options go
 * through cnp_settings_set(), so a value is checked the same way wherever it
 * comes from, and a bad one is reported with its origin ("file:line" or
 * "--option").
 */
#ifndef CNP_CONFIG_H
#define CNP_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "cnp_status.h"

#define CNP_DATE_LEN 11 /* "YYYY-MM-DD" + NUL */

/* [limits]: how large an input may be before it is refused as one failed
 * input (README "Limits"). They guard against hostile or broken files in an
 * incoming folder; none of them changes a result. */
typedef struct cnp_limits {
    int64_t metadata_bytes;   /* largest metadata file: MTL, MTD_MSIL2A.xml, STAC item */
    int     metadata_depth;   /* deepest nesting of XML elements, JSON or ODL groups   */
    int64_t metadata_items;   /* most items (elements, values, KEY = VALUE lines)      */
    int64_t scene_pixels;     /* largest scene, and overlap of the common grid          */
} cnp_limits;

#define CNP_LIMIT_METADATA_BYTES  (8 << 20)
#define CNP_LIMIT_METADATA_DEPTH  32
#define CNP_LIMIT_METADATA_ITEMS  100000
#define CNP_LIMIT_SCENE_PIXELS    2000000000

/* Which grid both scenes are compared on ([grid] align, --grid). */
enum { CNP_GRID_BEFORE = 0, CNP_GRID_AFTER = 1, CNP_GRID_FINEST = 2 };
/* [detect] normalize: how dNDVI is made relative to stable forest (docs/method.md). */
enum { CNP_NORMALIZE_LOCAL = 0, CNP_NORMALIZE_SCENE = 1, CNP_NORMALIZE_OFF = 2 };
/* [coreg] mode: co-registration of AFTER on BEFORE (docs/method.md 3.2):
 * measure and correct (refusing a shift beyond max_shift), measure only, or
 * neither. */
enum { CNP_COREG_AUTO = 0, CNP_COREG_CHECK = 1, CNP_COREG_OFF = 2 };

typedef struct cnp_settings {
    /* [bands] */
    int    red_band, nir_band;              /* 1-based                              */
    int    green_band, blue_band;           /* for pictures only; 0 = none          */
    int    swir2_band;                      /* SWIR 2.2 um, second index; 0 = none  */
    int    have_scale, have_offset;         /* 0: from band metadata, else default */
    double scale, offset;
    double saturated_dn;                    /* 0 = the data type's maximum         */
    /* [mask] */
    unsigned char mask_invalid[256];        /* 1 = this mask value means "not observed" */
    double mask_buffer_m;                   /* clouds and shadows grow by this, metres */
    int    mask_buffer_square;              /* 0: disk, 1: square                  */
    int    haze;                            /* 1: AFTER's unflagged haze unobserved */
    /* [grid] */
    int    grid_mode;                       /* CNP_GRID_*                          */
    char   grid_t_srs[512];                 /* "" = the chosen scene's CRS         */
    double grid_tr;                         /* 0 = the chosen scene's pixel size   */
    /* [products] */
    char   profiles_dir[1024];              /* "" = $CANOPY_CONFIG_DIR or bin/../configs */
    /* [detect] */
    double forest_ndvi, ndvi_drop, high_confidence_drop, min_area_ha;
    int    connectivity;
    double bridge_gap_m;                    /* loss pieces join across unobserved gaps
                                               up to this wide (kernels/cnp_gaps.h)  */
    int    normalize;                       /* CNP_NORMALIZE_*                     */
    /* [coreg] */
    int    coreg;                           /* CNP_COREG_*                         */
    double coreg_max_shift;                 /* px: larger shifts are refused (auto) */
    double coreg_min_shift;                 /* px: smaller ones are left alone     */
    /* [dates] */
    char   date_before[CNP_DATE_LEN], date_after[CNP_DATE_LEN];
    /* [output] */
    int    overview_size;                   /* longest side of overview.png, px    */
    /* [run] */
    int    threads;                         /* 0 = all cores                       */
    /* [monitor] (monitor only: not written by cnp_settings_write_ini, the
     * monitor records it with its own settings) */
    int    baseline_obs;                    /* clear observations in the baseline  */
    /* [limits] */
    cnp_limits limits;
} cnp_settings;

/* Built-in defaults; they equal configs/default.ini (a test checks it). */
void cnp_settings_defaults(cnp_settings *s);

/* cnp_settings_set() :
 * Set `section`.`key` from its text `value`. `origin` names where it came from
 * for messages. @return CNP_OK, or CNP_E_CONFIG with "origin: reason". */
cnp_status cnp_settings_set(cnp_settings *s, const char *section, const char *key,
                            const char *value, const char *origin);

/* cnp_settings_load() : apply every key of an INI file (at most
 * CNP_INI_MAX_BYTES, base/cnp_ini.h). */
cnp_status cnp_settings_load(cnp_settings *s, const char *path);

/* cnp_settings_load_text() : the same on `len` bytes of INI text; `name`
 * stands for the file in messages ("name:line: ..."). */
cnp_status cnp_settings_load_text(cnp_settings *s, const char *text, size_t len,
                                  const char *name);

/* Cross-field checks once everything is set (e.g. red != nir). */
cnp_status cnp_settings_validate(const cnp_settings *s);

/* A command-line option that sets one [section] key (e.g. --ndvi-drop). */
typedef struct cnp_setting_opt {
    int         opt;                        /* its getopt_long value               */
    const char *section, *key, *name;       /* name: "--ndvi-drop", for messages   */
} cnp_setting_opt;

/* One such option as given on a command line. */
typedef struct cnp_setting_override {
    const char *section, *key, *value, *option;
} cnp_setting_override;

/* The entry of table[0..n-1] for getopt value `opt`, or NULL. */
const cnp_setting_opt *cnp_setting_opt_find(const cnp_setting_opt *table, size_t n, int opt);

/* cnp_settings_resolve() :
 * A run's settings: the defaults, then the INI file config_path (NULL: none),
 * then the command line's overrides in order, then cnp_settings_validate().
 * @return CNP_OK, or the first failure's status, with cnp_err_msg() saying why. */
cnp_status cnp_settings_resolve(cnp_settings *s, const char *config_path,
                                const cnp_setting_override *cli, size_t ncli);

/* Write the settings in INI form (what --print-config shows). [limits] keys
 * are written only where they differ from the defaults: they change no
 * result, so run ids and monitor states of runs with default limits stay
 * what they were before [limits] existed. */
void cnp_settings_write_ini(const cnp_settings *s, FILE *f);

/* Write what monitor records of the scene corrections it applies, as the
 * [monitor] section's lines "normalize = " and "haze = " (the values of
 * [detect] normalize and [mask] haze). */
void cnp_settings_write_monitor_corrections(const cnp_settings *s, FILE *f);

/* The mask_invalid list as text ("0,3,8,9,10"), into buf. */
void cnp_settings_mask_list(const cnp_settings *s, char *buf, size_t size);

#endif /* CNP_CONFIG_H */
