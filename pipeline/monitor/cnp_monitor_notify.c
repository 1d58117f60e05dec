/* pipeline/monitor/cnp_monitor_notify.c - the --on-new hook, delivered at
 * least once.
 *
 * A run that announces new alerts leaves DIR/runs/<UTC>-g<gen>/on_new.pending
 * beside that run's new_alerts.geojson before it calls the hook, and removes
 * it only when the hook exits 0. Every run delivers what is pending, oldest
 * first, so a hook that failed (mail server down, a full disk) or a run killed
 * while it ran is retried by the next run until it succeeds. The marker is
 * the whole queue: no separate list to keep consistent with the folders.
 */
#include "cnp_monitor_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cnp_err.h"
#include "cnp_fs.h"

#define PENDING "on_new.pending"

static int run_hook(const char *cmd, const char *path)
{
    fflush(NULL);
    const pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* Our stdout carries the log line: the hook's goes to stderr. */
        dup2(STDERR_FILENO, STDOUT_FILENO);
        char script[8192];
        snprintf(script, sizeof script, "%s \"$1\"", cmd);
        execl("/bin/sh", "sh", "-c", script, "sh", path, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of DIR/runs/ entries holding a marker, sorted (oldest first: the
 * names start with their UTC time). `gen_suffix`, when set, keeps only the
 * entries of that generation. */
static cnp_status pending_list(const char *state_dir, const char *gen_suffix, char ***out,
                               size_t *n)
{
    char runs[4200], p[4600];
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    snprintf(runs, sizeof runs, "%s/runs", state_dir);
    DIR *d = opendir(runs);
    if (!d)
        return errno == ENOENT ? CNP_OK : cnp_err(CNP_E_IO, "cannot read '%s': %s", runs,
                                                  strerror(errno));
    struct dirent *e;
    cnp_status st = CNP_OK;
    while (st == CNP_OK && (e = readdir(d)) != NULL) {
        struct stat sb;
        const size_t len = strlen(e->d_name), sl = gen_suffix ? strlen(gen_suffix) : 0;
        if (e->d_name[0] == '.' || (gen_suffix && (len < sl ||
                                                   strcmp(e->d_name + len - sl, gen_suffix))))
            continue;
        snprintf(p, sizeof p, "%s/%s/" PENDING, runs, e->d_name);
        if (lstat(p, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        char *name = strdup(e->d_name);
        if (!name || (st = cnp_grow((void **)out, &cap, *n + 1, sizeof **out, "pending")) != CNP_OK) {
            free(name);
            st = st != CNP_OK ? st : cnp_err(CNP_E_NOMEM, "out of memory");
            break;
        }
        (*out)[(*n)++] = name;
    }
    closedir(d);
    if (*n > 1)
        qsort(*out, *n, sizeof **out, cmp_name);
    return st;
}

static void list_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Remove run_dir's marker and make that stick. */
static cnp_status unqueue(const char *run_dir)
{
    char p[4600];
    snprintf(p, sizeof p, "%s/" PENDING, run_dir);
    if (unlink(p) != 0 && errno != ENOENT)
        return cnp_err(CNP_E_IO, "cannot remove '%s': %s", p, strerror(errno));
    return cnp_fs_fsync_path(run_dir);
}

cnp_status mon_notify_queue(const char *state_dir, const char *run_dir, int64_t gen)
{
    /* An announcement of this generation that a crash interrupted (before
     * CURRENT's notified mark) is replaced by this one: one delivery each. */
    char suffix[32], p[4600];
    char **old = NULL;
    size_t n = 0;
    snprintf(suffix, sizeof suffix, "-g%06lld", (long long)gen);
    cnp_status st = pending_list(state_dir, suffix, &old, &n);
    for (size_t i = 0; i < n && st == CNP_OK; i++) {
        snprintf(p, sizeof p, "%s/runs/%s", state_dir, old[i]);
        st = unqueue(p);
    }
    list_free(old, n);
    if (st != CNP_OK)
        return st;
    snprintf(p, sizeof p, "%s/" PENDING, run_dir);
    const int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return cnp_err(CNP_E_IO, "cannot create '%s': %s", p, strerror(errno));
    static const char text[] = "the --on-new command has not yet succeeded for this folder's "
                               "new_alerts.geojson\n";
    const ssize_t w = write(fd, text, sizeof text - 1);
    const int bad = w != (ssize_t)(sizeof text - 1) || fsync(fd) != 0;
    close(fd);
    if (bad)
        return cnp_err(CNP_E_IO, "cannot write '%s'", p);
    return cnp_fs_fsync_path(run_dir);
}

cnp_status mon_notify_deliver(const char *state_dir, const char *cmd, mon_log *l, int *failed)
{
    char **v = NULL;
    size_t n = 0, done = 0;
    cnp_status st = pending_list(state_dir, NULL, &v, &n);
    int rc = 0;
    for (size_t i = 0; i < n && st == CNP_OK; i++) {
        char dir[4400], file[4500];
        snprintf(dir, sizeof dir, "%s/runs/%s", state_dir, v[i]);
        snprintf(file, sizeof file, "%s/new_alerts.geojson", dir);
        if ((rc = run_hook(cmd, file)) != 0) {
            *failed = 1;       /* the rest keep their order: the next run goes on */
            break;
        }
        st = unqueue(dir);
        done++;
    }
    list_free(v, n);
    if (n > 0) {
        mon_log_int(l, "on_new_status", rc);
        mon_log_int(l, "on_new_delivered", (int64_t)done);
        mon_log_int(l, "on_new_pending", (int64_t)(n - done));
    }
    return st;
}
