/* kernels/cnp_status.c - names of status codes. */
#include "cnp_status.h"

const char *cnp_status_str(cnp_status st)
{
    switch (st) {
    case CNP_OK:          return "ok";
    case CNP_E_ARG:       return "invalid argument";
    case CNP_E_NOMEM:     return "out of memory";
    case CNP_E_IO:        return "I/O error";
    case CNP_E_CONFIG:    return "configuration error";
    case CNP_E_DATA:      return "input data error";
    case CNP_E_CANCELLED: return "cancelled";
    }
    return "unknown error";
}
