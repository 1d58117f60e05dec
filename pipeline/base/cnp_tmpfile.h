/* pipeline/base/cnp_tmpfile.h - temporary names for files and folders written,
 * then renamed into place, and what is left of them when a process dies.
 *
 * An output is written under a hidden temporary name in its own folder and
 * renamed when complete, so nobody sees it half-written. The name says which
 * process on which host wrote it, so that a later run can tell the leftovers
 * of a killed process from a file another process (on this host, or on
 * another host of a cluster sharing the folder) is still writing.
 *
 * A process ended by SIGINT, SIGTERM or SIGHUP removes the temporary folders
 * it guards before it ends (cnp_tmp_signals_install); one killed outright
 * (SIGKILL, power loss) leaves them to the next run's cnp_tmp_remove_dead().
 */
#ifndef CNP_TMPFILE_H
#define CNP_TMPFILE_H
#include <stddef.h>
#include <time.h>

/* "DIR/.NAME.tmp-HOST-PID" for path "DIR/NAME", into out. */
void cnp_tmp_path(const char *path, char *out, size_t size);

/* Remove what processes of this host that no longer run left for `path`:
 * their "DIR/.NAME.tmp-HOST-PID" (a file, or a folder with everything in it)
 * and the files whose names continue it (SQLite's -journal, -wal and -shm).
 * Other hosts' files are left alone. */
void cnp_tmp_remove_dead(const char *path);

/* cnp_tmp_pid_gone() : 1 when no process `pid` runs on this host (so a
 * temporary name of this host carrying it is a leftover), else 0. A zombie
 * (ended, its exit status not yet collected: a child orphaned by a kill -9
 * of its parent may stay one for long) runs no more and counts as gone. */
int cnp_tmp_pid_gone(long pid);

/* cnp_tmp_owner_gone() : 1 when the process `pid` that made a temporary
 * file or folder last changed at `changed` is gone: no such process, or the
 * pid now belongs to a process started after that change (pids are reused). */
int cnp_tmp_owner_gone(long pid, time_t changed);

/* cnp_tmp_host() : this host's name as temporary names carry it (cut at the
 * first dot, characters other than [A-Za-z0-9_] made '_'). */
void cnp_tmp_host(char *out, size_t size);

/* ---- signals ------------------------------------------------------------------
 * cnp_tmp_signals_install() : from now on SIGINT, SIGTERM and SIGHUP remove
 * the guarded folders, then end the process as the signal would have (the
 * exit status says which signal). Called by main() or a forked child, once. */
void cnp_tmp_signals_install(void);

/* cnp_tmp_guard() / cnp_tmp_unguard() : add or drop a folder (an absolute
 * path, or relative to the current folder at the time of the call) to remove
 * when a signal ends the process. Any thread; up to 16 at a time (runs on
 * several threads each guard their own).
 * @return 0, or -1 when 16 are guarded already. */
int cnp_tmp_guard(const char *dir);
void cnp_tmp_unguard(const char *dir);

/* cnp_tmp_hold_signals() : with 1, a signal that arrives waits (a commit must
 * not be cut in half); with 0, one that arrived meanwhile runs its course once
 * no other thread holds it. Calls pair up: each 1 with one 0. */
void cnp_tmp_hold_signals(int hold);

/* ---- test hook -------------------------------------------------------------------
 * cnp_tmp_crash_point() : when $<PREFIX>_CRASH_AT is "name" or "name:K", the
 * process kills itself the K-th time (default 1st) it passes point `name`:
 * with SIGKILL, or with the signal $<PREFIX>_CRASH_SIGNAL names (INT, TERM,
 * HUP; STOP only stops it there, for a test to kill it, or its parent, when
 * it likes). Tests use it to stop a run at each step of a protocol. */
void cnp_tmp_crash_point(const char *prefix, const char *name);

#endif /* CNP_TMPFILE_H */
