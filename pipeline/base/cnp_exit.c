/* pipeline/base/cnp_exit.c - the exit-code table (cnp_exit.h). */
#include "cnp_exit.h"

const cnp_exit_info cnp_exit_table[] = {
    { CNP_EXIT_OK, "ok", "success (zero alerts is a success)" },
    { CNP_EXIT_RUNTIME, "runtime", "runtime error: unusable input, unwritable output, failed "
      "check" },
    { CNP_EXIT_USAGE, "usage", "usage or configuration error: bad option, value or config file" },
    { CNP_EXIT_LOCKED, "locked", "another run holds the lock: nothing was done" },
    { CNP_EXIT_PARTIAL, "partial", "some inputs failed; the others were processed" },
};
const size_t cnp_exit_count = sizeof cnp_exit_table / sizeof cnp_exit_table[0];

int cnp_exit_for_status(cnp_status st)
{
    switch (st) {
    case CNP_OK:       return CNP_EXIT_OK;
    case CNP_E_ARG:
    case CNP_E_CONFIG: return CNP_EXIT_USAGE;
    default:           return CNP_EXIT_RUNTIME;
    }
}
