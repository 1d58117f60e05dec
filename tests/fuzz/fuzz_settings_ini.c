/* tests/fuzz/fuzz_settings_ini.c - the settings file (--config): the bounded
 * INI parser and the one validator. Settings it accepts must come back the
 * same through their INI form (what --print-config, run.json and the batch
 * plan write, and verify --rerun and batch shards read back). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnp_err.h"
#include "cnp_fuzz.h"

static char *ini_of(const cnp_settings *s, size_t *len)
{
    char *buf = NULL;
    FILE *m = open_memstream(&buf, len);
    if (!m)
        abort();
    cnp_settings_write_ini(s, m);
    fclose(m);
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cnp_settings s, back;
    cnp_settings_defaults(&s);
    if (cnp_settings_load_text(&s, (const char *)data, size, "fuzz.ini") != CNP_OK)
        return 0;
    cnp_settings_validate(&s);
    size_t len = 0, len2 = 0;
    char *ini = ini_of(&s, &len);
    cnp_settings_defaults(&back);
    if (cnp_settings_load_text(&back, ini, len, "written.ini") != CNP_OK) {
        fprintf(stderr, "settings written as INI do not read back: %s\n%s", cnp_err_msg(), ini);
        abort();
    }
    char *again = ini_of(&back, &len2);
    if (len != len2 || memcmp(ini, again, len) != 0) {
        fprintf(stderr, "settings change through their INI form:\n%s---\n%s", ini, again);
        abort();
    }
    free(ini);
    free(again);
    return 0;
}
