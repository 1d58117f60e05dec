/* pipeline/base/cnp_fs.h - the file-system steps every command shares:
 * removing a tree, creating folders, syncing, listing a folder's files, and
 * clocks.
 *
 * No GDAL: plain POSIX. Paths are used as given (the caller has validated
 * every part that came from an input; base/cnp_ident.h).
 */
#ifndef CNP_FS_H
#define CNP_FS_H

#include <stddef.h>

#include "cnp_status.h"

/* cnp_fs_remove_tree() : remove `path` and, when it is a folder, everything in
 * it (symbolic links are removed, never followed). A missing path is not an
 * error. @return 0, or -1 when something could not be removed (errno). */
int cnp_fs_remove_tree(const char *path);

/* cnp_fs_mkdirs() : mkdir -p. @return CNP_OK, CNP_E_ARG (path too long) or
 * CNP_E_IO, with the folder that could not be made in the message. */
cnp_status cnp_fs_mkdirs(const char *path);

/* cnp_fs_fsync_path() : fsync a file or a folder (folders a file system cannot
 * sync are not an error). @return CNP_OK or CNP_E_IO. */
cnp_status cnp_fs_fsync_path(const char *path);

/* cnp_fs_list_files() :
 * Every regular file under `dir` (recursively, links not followed), as paths
 * relative to `dir`, sorted bytewise (so the order does not depend on the file
 * system). *out is a malloc'd array of malloc'd strings; free it with
 * cnp_fs_free_list(). @return CNP_OK, CNP_E_IO or CNP_E_NOMEM. */
cnp_status cnp_fs_list_files(const char *dir, char ***out, size_t *n);
void cnp_fs_free_list(char **list, size_t n);

/* cnp_fs_relpath_ok() : 1 when `rel` is a plain relative path that stays
 * inside the folder it is taken from: not empty, not absolute, no empty, "."
 * or ".." component, no control character; else 0. Paths read from a file
 * (run.json) pass this before they are joined to a folder. */
int cnp_fs_relpath_ok(const char *rel);

/* cnp_fs_open_inside() :
 * Open DIR/REL for reading when REL passes cnp_fs_relpath_ok(), no component
 * of it is a symbolic link and it names a regular file. Never blocks (a FIFO
 * is refused, not opened for reading).
 * @return a file descriptor, or -1 with *why set to a static reason:
 *         "missing", "not a relative path inside the folder",
 *         "a symbolic link", "not a regular file", or strerror(errno). */
int cnp_fs_open_inside(const char *dir, const char *rel, const char **why);

/* cnp_fs_open_regular() : open PATH for reading (links followed) when it is a
 * regular file; never blocks. @return an fd, or -1 with *why as above. */
int cnp_fs_open_regular(const char *path, const char **why);

/* Seconds on the monotonic clock (for timings). */
double cnp_now_s(void);

/* The UTC time now as "2024-06-15T12:00:00Z" (out holds 32 bytes). */
void cnp_utc_now(char out[32]);

#endif /* CNP_FS_H */
