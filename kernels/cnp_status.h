/* kernels/cnp_status.h - status codes shared by kernels/ and pipeline/.
 *
 * Every fallible function returns a cnp_status. Kernels only return codes;
 * pipeline/ attaches the human-readable message (cnp_err) and main() maps the
 * code to an exit status in one place.
 */
#ifndef CNP_STATUS_H
#define CNP_STATUS_H

typedef enum cnp_status {
    CNP_OK = 0,
    CNP_E_ARG,       /* caller passed inconsistent arguments            */
    CNP_E_NOMEM,     /* allocation failed                               */
    CNP_E_IO,        /* GDAL / OGR / libpng / filesystem failure         */
    CNP_E_CONFIG,    /* bad config file or command-line value            */
    CNP_E_DATA,      /* inputs readable but unusable (no overlap, ...)   */
    CNP_E_CANCELLED  /* progress callback asked us to stop               */
} cnp_status;

/* cnp_status_str() : short English name of a status, never NULL. */
const char *cnp_status_str(cnp_status st);

#endif /* CNP_STATUS_H */
