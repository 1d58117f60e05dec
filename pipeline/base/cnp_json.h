/* pipeline/base/cnp_json.h - a small streaming JSON writer for run.json.
 *
 * Keeps track of commas and indentation; strings are escaped per RFC 8259 by
 * cnp_ident_write_json() (invalid UTF-8 becomes U+FFFD, controls are escaped).
 * Numbers are written with enough digits to round-trip.
 */
#ifndef CNP_JSON_H
#define CNP_JSON_H

#include <stdint.h>
#include <stdio.h>

typedef struct cnp_json {
    FILE *f;
    int   depth;
    int   need_comma[32];
} cnp_json;

void cnp_json_begin(cnp_json *j, FILE *f);              /* opens the root object */
void cnp_json_end(cnp_json *j);                         /* closes it, newline    */
void cnp_json_object(cnp_json *j, const char *key);     /* key NULL inside arrays */
void cnp_json_array(cnp_json *j, const char *key);
void cnp_json_close(cnp_json *j, char bracket);         /* '}' or ']'            */
void cnp_json_str(cnp_json *j, const char *key, const char *v);  /* v NULL -> null */
void cnp_json_int(cnp_json *j, const char *key, int64_t v);
void cnp_json_num(cnp_json *j, const char *key, double v);      /* non-finite -> null */
void cnp_json_bool(cnp_json *j, const char *key, int v);
void cnp_json_escape(FILE *f, const char *s);     /* a quoted JSON string */

#endif /* CNP_JSON_H */
