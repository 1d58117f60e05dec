/* pipeline/base/cnp_exit.h - the exit codes of every canopy command, in one table.
 *
 * Library calls return a cnp_status; the CLI maps it to one of these codes
 * (cnp_exit_for_status) and prints. Monitor's log line records the code it
 * exits with, which is why the numbers live below cli/. The README's table
 * and each command's "Exit status" section are made from (or checked
 * against) cnp_exit_table: tests/e2e/test_options.sh compares them.
 */
#ifndef CNP_EXIT_H
#define CNP_EXIT_H

#include <stddef.h>

#include "cnp_status.h"

typedef enum cnp_exit {
    CNP_EXIT_OK = 0,        /* success (zero alerts is a success)                   */
    CNP_EXIT_RUNTIME = 1,   /* runtime error: an input, a write, a check that failed */
    CNP_EXIT_USAGE = 2,     /* usage or configuration error                          */
    CNP_EXIT_LOCKED = 3,    /* monitor: another run holds the state's lock           */
    CNP_EXIT_PARTIAL = 4,   /* some inputs failed, the others were processed         */
} cnp_exit;

typedef struct cnp_exit_info {
    int         code;
    const char *name;       /* one word, for the README and man pages     */
    const char *meaning;    /* one line, the same for every command        */
} cnp_exit_info;

extern const cnp_exit_info cnp_exit_table[];
extern const size_t cnp_exit_count;

/* The code a command exits with when its work ended in `st`: usage for a bad
 * argument or setting, runtime for anything else that failed. */
int cnp_exit_for_status(cnp_status st);

#endif /* CNP_EXIT_H */
