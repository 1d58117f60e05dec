/* pipeline/cli/cnp_doc_main.c - build/canopy-doc: the man pages, the bash
 * completion and the README's exit-code table, written from the same tables
 * as canopy's --help (cnp_help.h), so they cannot drift. Used by `make man`
 * and the tests; not installed.
 *
 *   canopy-doc man [COMMAND]    canopy(1), or canopy-COMMAND(1)
 *   canopy-doc bash             the bash completion script
 *   canopy-doc readme-exit      the README's exit-code table
 */
#include <stdio.h>
#include <string.h>

#include "cnp_exit.h"
#include "cnp_help.h"

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "bash") == 0) {
        cnp_help_bash(stdout);
        return CNP_EXIT_OK;
    }
    if (argc == 2 && strcmp(argv[1], "readme-exit") == 0) {
        cnp_help_readme_exit(stdout);
        return CNP_EXIT_OK;
    }
    if ((argc == 2 || argc == 3) && strcmp(argv[1], "man") == 0) {
        const unsigned cmd = argc == 3 ? cnp_help_command(argv[2]) : 0;
        if (argc == 3 && !cmd) {
            fprintf(stderr, "canopy-doc: no command '%s'\n", argv[2]);
            return CNP_EXIT_USAGE;
        }
        cnp_help_man(stdout, cmd);
        return CNP_EXIT_OK;
    }
    fputs("Usage: canopy-doc man [COMMAND] | bash | readme-exit\n", stderr);
    return CNP_EXIT_USAGE;
}
