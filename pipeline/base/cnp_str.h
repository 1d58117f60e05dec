/* pipeline/base/cnp_str.h - the two string helpers every parser of
 * metadata, profiles and STAC items uses. */
#ifndef CNP_STR_H
#define CNP_STR_H

#include <stddef.h>

/* cnp_sfmt() : snprintf that truncates silently: names and messages from
 * metadata have buffers sized for real files, and a cut one is better than
 * a failure. @return what vsnprintf returned. */
int cnp_sfmt(char *dst, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* cnp_trim() : s without leading and trailing white space (the trailing
 * part is cut in place). */
char *cnp_trim(char *s);

#endif /* CNP_STR_H */
