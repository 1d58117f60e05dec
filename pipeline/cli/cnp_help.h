/* pipeline/cli/cnp_help.h - what each command says about itself: --help, the
 * man pages and the bash completion, all made from the option table
 * (cnp_options.h) and the exit-code table (cnp_exit.h), so they cannot drift.
 */
#ifndef CNP_HELP_H
#define CNP_HELP_H

#include <stdio.h>

/* The command named `name` ("detect", ...): its CNP_CMD_* bit, or 0. */
unsigned cnp_help_command(const char *name);

/* canopy --help, and `cmd`'s --help (usage, description, options, notes,
 * exit status). */
void cnp_help_main(FILE *f);
void cnp_help_print(FILE *f, unsigned cmd);

/* The "Exit status:" section of `cmd`'s --help (0: of canopy itself, every
 * code). */
void cnp_help_exit_status(FILE *f, unsigned cmd);

/* canopy(1) for cmd 0, canopy-<cmd>(1) otherwise, in man(7) roff. */
void cnp_help_man(FILE *f, unsigned cmd);

/* A bash completion script for canopy and every command's options. */
void cnp_help_bash(FILE *f);

/* The README's exit-code table (Markdown), as the README holds it. */
void cnp_help_readme_exit(FILE *f);

#endif /* CNP_HELP_H */
