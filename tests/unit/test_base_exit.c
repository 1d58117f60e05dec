/* tests/unit/test_base_exit.c - base/cnp_exit: the one exit-code table.
 *
 * Linked with base/'s objects and libkernels.a only (no GDAL library).
 */
#include <string.h>

#include "cnp_exit.h"
#include "cnp_test.h"

/* Each code once, in order, with a name and a one-line meaning. */
static void table_is_well_formed(void)
{
    CHECK(cnp_exit_count >= 4);
    for (size_t i = 0; i < cnp_exit_count; i++) {
        const cnp_exit_info *e = &cnp_exit_table[i];
        CHECK(e->code == (int)i);
        CHECK(e->name && *e->name && !strchr(e->name, ' '));
        CHECK(e->meaning && *e->meaning && !strchr(e->meaning, '\n'));
        /* The README's Markdown table holds them. */
        CHECK(!strchr(e->meaning, '|'));
        for (size_t k = 0; k < i; k++)
            CHECK(strcmp(cnp_exit_table[k].name, e->name) != 0);
    }
}

/* What every command maps a status to. */
static void status_mapping(void)
{
    CHECK(cnp_exit_for_status(CNP_OK) == CNP_EXIT_OK);
    CHECK(cnp_exit_for_status(CNP_E_ARG) == CNP_EXIT_USAGE);
    CHECK(cnp_exit_for_status(CNP_E_CONFIG) == CNP_EXIT_USAGE);
    CHECK(cnp_exit_for_status(CNP_E_IO) == CNP_EXIT_RUNTIME);
    CHECK(cnp_exit_for_status(CNP_E_DATA) == CNP_EXIT_RUNTIME);
    CHECK(cnp_exit_for_status(CNP_E_NOMEM) == CNP_EXIT_RUNTIME);
    CHECK(cnp_exit_for_status(CNP_E_CANCELLED) == CNP_EXIT_RUNTIME);
    CHECK(CNP_EXIT_OK == 0 && CNP_EXIT_RUNTIME == 1 && CNP_EXIT_USAGE == 2 &&
          CNP_EXIT_LOCKED == 3);
}

int main(void)
{
    static const cnp_test_case cases[] = {
        TEST_CASE(table_is_well_formed),
        TEST_CASE(status_mapping),
    };
    return cnp_test_run_all("base_exit", cases, sizeof cases / sizeof cases[0]);
}
