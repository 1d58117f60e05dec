/* pipeline/base/cnp_warn.h - the warnings of a run.
 *
 * A warning is something a user should hear of that does not stop the run
 * (dates in the wrong order, a mask that looks like reflectance): the run goes
 * on, exits 0, and records its warnings (run.json's `warnings`).
 */
#ifndef CNP_WARN_H
#define CNP_WARN_H

#include <stddef.h>

#define CNP_MAX_WARNINGS 8

typedef struct cnp_warnings {
    size_t n;
    char   text[CNP_MAX_WARNINGS][640];
} cnp_warnings;

/* cnp_warn() : add one (one line: newlines become spaces); beyond
 * CNP_MAX_WARNINGS they are dropped. @return the text added, or NULL. */
const char *cnp_warn(cnp_warnings *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* CNP_WARN_H */
