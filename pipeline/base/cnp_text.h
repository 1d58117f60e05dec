/* pipeline/base/cnp_text.h - free text a person gives for the record (a case
 * id, an operator's name): checked once, where it comes in, before it reaches
 * a report, a KML balloon, a PDF or a terminal.
 */
#ifndef CNP_TEXT_H
#define CNP_TEXT_H

#include <stddef.h>

#include "cnp_status.h"

/* cnp_text_check() :
 * `s` must be 1..max_bytes bytes of printable UTF-8: well-formed (no
 * overlong forms, surrogates or code points above U+10FFFF), without control
 * characters (U+0000-U+001F, U+007F-U+009F), line or paragraph separators
 * (U+2028, U+2029), characters that reorder what a reader sees (U+061C,
 * U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), or leading or trailing
 * white space. `what` names the text in the message ("--case-id").
 * @return CNP_OK, or CNP_E_ARG with "<what>: <why>" in cnp_err_msg(). */
cnp_status cnp_text_check(const char *what, const char *s, size_t max_bytes);

/* cnp_text_printable() :
 * `s` copied into out (size bytes, NUL-terminated) as printable UTF-8: every
 * malformed byte and every character cnp_text_check() refuses becomes U+FFFD
 * (the replacement character), so a file name in Latin-1 or with an escape
 * sequence can still be shown in a PDF, a PNG text or an XML file. Cut at a
 * character boundary when out is too small. @return out. */
char *cnp_text_printable(const char *s, char *out, size_t size);

#endif /* CNP_TEXT_H */
