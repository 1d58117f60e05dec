/* tests/unit/test_base_tmpfile.c - base/cnp_tmpfile: whose temporary files
 * are leftovers.
 *
 * A process that ended is gone even while its pid is still taken by its
 * zombie (a child orphaned by a kill -9 of its parent waits for whoever
 * adopts it to collect it, which may take long); a running process, and one
 * whose main thread ended while another thread runs, are not.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cnp_test.h"
#include "cnp_tmpfile.h"

/* The state letter of process pid in /proc/PID/stat ('?' when unreadable). */
static char state_of(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return '?';
    const size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    return p && p[1] && p[2] ? p[2] : '?';
}

/* Wait (at most 10 s) until pid shows `state`. */
static int wait_state(pid_t pid, char state)
{
    for (int i = 0; i < 1000; i++) {
        if (state_of(pid) == state)
            return 1;
        const struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* A staging folder named for pid in a new folder; its path into out. */
static void make_leftover(char *dir, size_t dsize, char *out, size_t size, pid_t pid)
{
    char host[128];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, dsize, "%s/cnp-tmpfile-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    cnp_tmp_host(host, sizeof host);
    snprintf(out, size, "%s/.pair.tmp-%s-%ld", dir, host, (long)pid);
    CHECK(mkdir(out, 0700) == 0);
}

static void test_zombie_is_gone(void)
{
    char dir[4096], left[4400], outdir[4200];
    const pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        _exit(0);
    /* Wait until it has ended, without collecting it: it stays a zombie. */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    CHECK(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0);
    CHECK(state_of(pid) == 'Z');
    CHECK(kill(pid, 0) == 0);                    /* its pid is still taken */
    CHECK(cnp_tmp_pid_gone(pid) == 1);
    CHECK(cnp_tmp_owner_gone(pid, time(NULL)) == 1);
    make_leftover(dir, sizeof dir, left, sizeof left, pid);
    snprintf(outdir, sizeof outdir, "%s/pair", dir);
    cnp_tmp_remove_dead(outdir);
    struct stat sb;
    CHECK(lstat(left, &sb) != 0 && errno == ENOENT);
    rmdir(dir);
    CHECK(waitpid(pid, NULL, 0) == pid);
    CHECK(cnp_tmp_pid_gone(pid) == 1);
}

static void test_running_is_not_gone(void)
{
    char dir[4096], left[4400], outdir[4200];
    const pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        for (;;)
            pause();
    }
    CHECK(cnp_tmp_pid_gone(pid) == 0);
    CHECK(cnp_tmp_owner_gone(pid, time(NULL)) == 0);
    make_leftover(dir, sizeof dir, left, sizeof left, pid);
    snprintf(outdir, sizeof outdir, "%s/pair", dir);
    cnp_tmp_remove_dead(outdir);
    struct stat sb;
    CHECK(lstat(left, &sb) == 0);
    rmdir(left);
    rmdir(dir);
    kill(pid, SIGKILL);
    CHECK(waitpid(pid, NULL, 0) == pid);
}

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

/* The main thread ended, another runs: the process shows as a zombie in
 * /proc/PID/stat, yet it runs. */
static void test_leader_ended_threads_run(void)
{
    const pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        pthread_t t;
        if (pthread_create(&t, NULL, sleeper, NULL) != 0)
            _exit(1);
        pthread_exit(NULL);
    }
    CHECK(wait_state(pid, 'Z'));
    CHECK(cnp_tmp_pid_gone(pid) == 0);
    CHECK(cnp_tmp_owner_gone(pid, time(NULL)) == 0);
    kill(pid, SIGKILL);
    CHECK(waitpid(pid, NULL, 0) == pid);
}

CNP_TEST_MAIN("tmpfile",
    TEST_CASE(test_zombie_is_gone),
    TEST_CASE(test_running_is_not_gone),
    TEST_CASE(test_leader_ended_threads_run))
