/* pipeline/base/cnp_ini.h - INI text (the settings file, product profiles)
 * read within fixed bounds, then parsed by inih with the line of every key.
 *
 * These files configure the run, so their bounds cannot come from the
 * settings: they are constants (README "Limits"). A file over them is
 * refused with "file:line: why", never cut short or parsed in pieces (inih
 * splits a line longer than its buffer and parses the rest as a new line).
 */
#ifndef CNP_INI_H
#define CNP_INI_H

#include <stddef.h>

#include "cnp_status.h"

#define CNP_INI_MAX_BYTES (1 << 20)  /* largest settings or profile file          */
#define CNP_INI_MAX_KEYS  4096       /* most keys in one file                      */

/* Called for each key, `line` 1-based. Anything but CNP_OK stops the parse:
 * the callback has recorded the whole message with cnp_err() (with the file
 * and line: it knows both), and cnp_ini_parse() returns that status. */
typedef cnp_status (*cnp_ini_entry_fn)(void *user, const char *section, const char *key,
                                       const char *value, int line);

/* cnp_ini_read() :
 * The whole file `path` into *text (malloc'd, NUL-terminated, *len bytes
 * before the NUL). `what` names the kind of file in messages ("config file").
 * @return CNP_OK; CNP_E_CONFIG when it cannot be read or is larger than
 *         CNP_INI_MAX_BYTES (a device or FIFO is read up to that bound only);
 *         CNP_E_NOMEM. */
cnp_status cnp_ini_read(const char *path, const char *what, char **text, size_t *len);

/* cnp_ini_parse() :
 * Parse `len` bytes of INI text (no NUL terminator needed). `name` starts
 * every message of its own ("name:line: why"). Refused with CNP_E_CONFIG: a
 * NUL byte, a line longer than cnp_ini_max_line() characters, more than
 * CNP_INI_MAX_KEYS keys, and inih's syntax errors, each at its line; the
 * first problem in the file wins.
 * @return CNP_OK, CNP_E_CONFIG, CNP_E_NOMEM or the callback's status. */
cnp_status cnp_ini_parse(const char *text, size_t len, const char *name, cnp_ini_entry_fn entry,
                         void *user);

/* The longest line, in characters without its newline, that inih reads whole. */
int cnp_ini_max_line(void);

#endif /* CNP_INI_H */
