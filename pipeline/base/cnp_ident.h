/* pipeline/base/cnp_ident.h - identifiers and text that come from inputs.
 *
 * Batch and monitor read whatever lands in a folder or an archive, so every
 * string taken from an input (a file name, a product id, a footprint code, a
 * metadata value) is untrusted. Two rules, both kept in this one module:
 *
 *  - Identifiers. A product or scene id, or a footprint key, names folders,
 *    files, alert ids and database rows. It passes cnp_ident_check() first:
 *    letters, digits, '.', '_' and '-', starting with a letter or a digit,
 *    1 to CNP_IDENT_ID_MAX characters (CNP_IDENT_KEY_MAX for a monitor
 *    footprint key). Nothing is repaired: a bad identifier is refused, with
 *    the input named, and that input is then one failed input.
 *
 *  - Text. A name, a path or a message is written through the function of its
 *    target language: a terminal, CSV, XML (KML), HTML or JSON. Each writes
 *    valid UTF-8 only (an invalid byte becomes U+FFFD, or "\xNN" on a
 *    terminal) and neutralises what its target would interpret: escape
 *    sequences, formulas, markup, quotes.
 *
 * No GDAL: plain C, unit-tested by tests/unit/test_base_ident.c.
 */
#ifndef CNP_IDENT_H
#define CNP_IDENT_H

#include <stddef.h>
#include <stdio.h>

#include "cnp_status.h"

enum {
    CNP_IDENT_ID_MAX = 120,   /* product, scene or item id; a batch footprint folder */
    CNP_IDENT_KEY_MAX = 48    /* a monitor footprint key: a state folder, the prefix of
                                 its alert ids ("<key>-000001") and a 64-wide column */
};

typedef enum cnp_ident_kind {
    CNP_IDENT_ID,             /* 1 to CNP_IDENT_ID_MAX characters  */
    CNP_IDENT_KEY             /* 1 to CNP_IDENT_KEY_MAX characters */
} cnp_ident_kind;

/* ---- identifiers ------------------------------------------------------------ */

/* cnp_ident_valid() :
 * @return 1 when `s` is an identifier of `kind`, else 0 with *why (when not
 *         NULL) set to a static phrase ("is empty", "is longer than 120
 *         characters", "has a character other than ...", ...). */
int cnp_ident_valid(cnp_ident_kind kind, const char *s, const char **why);

/* cnp_ident_check() :
 * The one validator. `what` says what the value is ("product id", "footprint
 * key"), `input` which input it came from (a path; NULL when the caller names
 * it). @return CNP_OK, or CNP_E_DATA with "<input>: <what> '<s>' is refused:
 * it <why>; an identifier has ..." as the message. */
cnp_status cnp_ident_check(cnp_ident_kind kind, const char *s, const char *what,
                           const char *input);

/* cnp_ident_from_name() :
 * An identifier made from a free-form name (a file stem, a footprint label):
 * letters, digits, '.' and '-' are kept; every run of other characters, '_'
 * included, becomes one '_' (none at either end); '.' and '-' are dropped
 * before the first letter or digit. At most min(size - 1, CNP_IDENT_ID_MAX)
 * characters; "unnamed" when nothing is left. The result always passes
 * cnp_ident_check(CNP_IDENT_ID) (size > 1). */
void cnp_ident_from_name(const char *name, char *out, size_t size);

/* cnp_ident_footprint_key() :
 * The monitor's key of a product footprint: "MGRS tile 21LXK" -> "mgrs-21LXK",
 * "WRS-2 path/row 001/062" -> "wrs2-001-062", any other name lowercased with
 * runs of other characters as '-'. The whole tile (or path/row) is kept, so
 * a crafted code is refused, not cut short. @return CNP_OK with the key in
 * `key`, or CNP_E_DATA from cnp_ident_check(CNP_IDENT_KEY, ...) naming `input`. */
cnp_status cnp_ident_footprint_key(const char *name, char *key, size_t size, const char *input);

/* ---- text ------------------------------------------------------------------- */

/* cnp_ident_utf8_valid() : 1 when `s` is well-formed UTF-8 (RFC 3629: no
 * overlongs, surrogates or code points above U+10FFFF). */
int cnp_ident_utf8_valid(const char *s);

/* cnp_ident_utf8_str() :
 * `s` as valid UTF-8 into out (size > 0 bytes): each invalid byte becomes
 * U+FFFD; cut at a character boundary when it does not fit. `out` may not
 * overlap `s`. @return out. */
char *cnp_ident_utf8_str(char *out, size_t size, const char *s);

/* cnp_ident_utf8_dup() : the same, malloc'd (NULL: out of memory; s NULL -> ""). */
char *cnp_ident_utf8_dup(const char *s);

/* cnp_ident_text_check() :
 * Free text a person gives for the record (--case-id, --operator): `s` must
 * be 1..max_bytes bytes of well-formed UTF-8 without control characters (C0,
 * DEL, C1), line or paragraph separators (U+2028, U+2029), characters that
 * reorder what a reader sees (U+061C, U+200E, U+200F, U+202A-U+202E,
 * U+2066-U+2069), or leading or trailing spaces. `what` names the text in the
 * message. @return CNP_OK, or CNP_E_ARG with "<what>: <why>". */
cnp_status cnp_ident_text_check(const char *what, const char *s, size_t max_bytes);

/* cnp_ident_printable() :
 * `s` into out (size > 0 bytes) as printable UTF-8 for a picture or a PDF:
 * each invalid byte and each character cnp_ident_text_check() refuses
 * becomes U+FFFD; cut at a character boundary. @return out. */
char *cnp_ident_printable(char *out, size_t size, const char *s);

/* cnp_ident_term_str() :
 * `s` safe to print on a terminal, into out (size > 0 bytes): control
 * characters (C0, DEL, C1) and the bidirectional overrides are written as
 * "\n", "\t", "\r", "\xNN" or "\uNNNN", each invalid UTF-8 byte as "\xNN";
 * cut before an escape or a character that does not fit. Printable text,
 * backslashes included, is unchanged, so applying it twice changes nothing.
 * `out` may not overlap `s`. @return out. */
char *cnp_ident_term_str(char *out, size_t size, const char *s);

/* cnp_ident_write_term() : the same, to a stream. */
void cnp_ident_write_term(FILE *f, const char *s);

/* cnp_ident_term_line() :
 * printf into a line made safe for a terminal as above, then '\n': a value
 * cannot end the line early or start an escape sequence. */
void cnp_ident_term_line(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* cnp_ident_write_csv() :
 * One text cell of a CSV file (RFC 4180), without its separator. A cell that
 * starts with '=', '+', '-', '@', a tab or a carriage return, which a
 * spreadsheet would take for a formula, gets a leading "'" and quotes (the
 * OWASP rule); a cell with a comma, a quote or a line break is quoted, its
 * quotes doubled. Controls other than tab, CR and LF become U+FFFD. */
void cnp_ident_write_csv(FILE *f, const char *s);

/* cnp_ident_write_xml() :
 * Text for XML 1.0 (KML) element content and attribute values, CDATA
 * included: &, <, >, " and ' as entities; characters XML 1.0 cannot carry
 * (C0 but tab, LF and CR; DEL, C1, U+FFFE, U+FFFF) and the bidirectional
 * controls, which would reorder what a reader sees, become U+FFFD. */
void cnp_ident_write_xml(FILE *f, const char *s);

/* cnp_ident_write_html() :
 * Text for HTML element content and quoted attribute values: as for XML
 * (the controls HTML calls parse errors become U+FFFD). */
void cnp_ident_write_html(FILE *f, const char *s);

/* cnp_ident_write_json() :
 * A JSON string (RFC 8259) with its quotes: '"', '\' and controls escaped
 * (\n, \t, ..., \u00NN), C1, U+2028, U+2029 and the bidirectional overrides as
 * \uNNNN (harmless on a terminal and in JavaScript), invalid bytes as U+FFFD. */
void cnp_ident_write_json(FILE *f, const char *s);

#endif /* CNP_IDENT_H */
