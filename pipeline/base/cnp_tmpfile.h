/* pipeline/base/cnp_tmpfile.h - temporary names for files written, then renamed
 * into place.
 *
 * An output is written under a hidden temporary name in its own folder and
 * renamed when complete, so nobody sees it half-written. The name says which
 * process on which host wrote it, so that a later run can tell the leftovers
 * of a killed process from a file another process (on this host, or on
 * another host of a cluster sharing the folder) is still writing.
 */
#ifndef CNP_TMPFILE_H
#define CNP_TMPFILE_H
#include <stddef.h>

/* "DIR/.NAME.tmp-HOST-PID" for path "DIR/NAME", into out. */
void cnp_tmp_path(const char *path, char *out, size_t size);

/* Remove what processes of this host that no longer run left for `path`:
 * their "DIR/.NAME.tmp-HOST-PID" and the files whose names continue it
 * (SQLite's -journal, -wal and -shm). Other hosts' files are left alone. */
void cnp_tmp_remove_dead(const char *path);

#endif /* CNP_TMPFILE_H */
