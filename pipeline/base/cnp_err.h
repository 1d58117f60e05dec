/* pipeline/base/cnp_err.h - the last error message, per thread.
 *
 * Functions return a cnp_status; the human-readable reason is recorded once
 * with cnp_err() (in the manner of CPLGetLastErrorMsg) and only main() prints
 * it. GDAL's own messages reach it through io/cnp_gdal.h.
 */
#ifndef CNP_ERR_H
#define CNP_ERR_H

#include <stddef.h>

#include "cnp_status.h"

/* cnp_err() : record a message and return `st`, so callers write
 *     return cnp_err(CNP_E_IO, "cannot open %s", path);
 * The message is kept safe for a terminal (cnp_ident_term_str): control
 * characters and invalid UTF-8 from inputs are escaped as \xNN, \n, ... */
cnp_status cnp_err(cnp_status st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* cnp_err_msg() : the calling thread's last message ("" if none). */
const char *cnp_err_msg(void);

/* cnp_path_base() : the file name part of a path (after the last '/'). */
const char *cnp_path_base(const char *path);

/* cnp_grow() :
 * Make the array *p of *cap elements of `elem` bytes hold at least `need`,
 * doubling; the new part is left uninitialised (large arrays touch only what
 * they use). @return CNP_OK, or CNP_E_NOMEM with "out of memory for <what>"
 * (*p and *cap untouched). */
cnp_status cnp_grow(void **p, size_t *cap, size_t need, size_t elem, const char *what);

/* cnp_grow_zeroed() : cnp_grow(), the new elements set to zero bytes (for
 * arrays of structs whose members start empty). */
cnp_status cnp_grow_zeroed(void **p, size_t *cap, size_t need, size_t elem, const char *what);

#endif /* CNP_ERR_H */
