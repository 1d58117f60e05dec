/* pipeline/base/cnp_tmpfile.c - temporary names for files written, then renamed
 * into place; their removal after a signal or a death (see cnp_tmpfile.h). */
#include "cnp_tmpfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cnp_fs.h"

void cnp_tmp_host(char *out, size_t size)
{
    char h[256] = "";
    if (gethostname(h, sizeof h - 1) != 0 || !h[0])
        snprintf(h, sizeof h, "localhost");
    size_t n = 0;
    for (const char *c = h; *c && *c != '.' && n + 1 < size; c++)
        out[n++] = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                   (*c >= '0' && *c <= '9') || *c == '_' ? *c : '_';
    out[n] = '\0';
}

/* Folder and file name of path ("." when it has no folder). */
static void split_path(const char *path, char *dir, size_t dsize, const char **name)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, dsize, ".");
        *name = path;
        return;
    }
    const size_t n = slash == path ? 1 : (size_t)(slash - path);
    snprintf(dir, dsize, "%.*s", (int)n, path);
    *name = slash + 1;
}

void cnp_tmp_path(const char *path, char *out, size_t size)
{
    char dir[4096], host[128];
    const char *name;
    split_path(path, dir, sizeof dir, &name);
    cnp_tmp_host(host, sizeof host);
    snprintf(out, size, "%s/.%s.tmp-%s-%ld", dir, name, host, (long)getpid());
}

/* What /proc/PID/stat says of process `pid`: its state letter, its number
 * of threads and when it started, in clock ticks after boot. @return 0, or
 * -1 when it cannot be read (no such process, no /proc). */
static int proc_stat(long pid, char *state, long *threads, unsigned long long *ticks)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    const size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields 3 (state), 20 (num_threads) and 22 (starttime) count from after
     * the command name, which may hold spaces and parentheses: from the last ')'. */
    const char *p = strrchr(buf, ')');
    if (!p || sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
                     "%*d %ld %*d %llu", state, threads, ticks) != 3)
        return -1;
    return 0;
}

/* A zombie: the process has ended and waits for its parent to collect its
 * exit status. Its pid stays taken (kill(pid, 0) succeeds) until then, and a
 * child orphaned by a kill -9 of its parent waits on whichever process
 * adopts it (init, or a subreaper), which may take its time or never
 * collect it. A zombie runs no more code: its files are leftovers. A group
 * leader that ended before its other threads also shows as a zombie; the
 * process still runs while those threads do (num_threads counts the leader
 * until it is collected). */
static int zombie(long pid)
{
    char state = 0;
    long threads = 0;
    unsigned long long ticks = 0;
    return proc_stat(pid, &state, &threads, &ticks) == 0 && (state == 'Z' || state == 'X') &&
           threads <= 1;
}

int cnp_tmp_pid_gone(long pid)
{
    /* Still running (or not ours to signal): not a leftover. */
    if (pid <= 0 || pid > INT_MAX || pid == (long)getpid())
        return 0;
    if (kill((pid_t)pid, 0) != 0)
        return errno == ESRCH;
    return zombie(pid);
}

/* When process `pid` started, in seconds since the epoch (0: unknown). */
static double process_start(long pid)
{
    char state = 0, line[256];
    long threads = 0;
    unsigned long long ticks = 0;
    if (proc_stat(pid, &state, &threads, &ticks) != 0)
        return 0;
    FILE *f = fopen("/proc/stat", "re");
    if (!f)
        return 0;
    unsigned long long btime = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "btime %llu", &btime) == 1)
            break;
    fclose(f);
    const long hz = sysconf(_SC_CLK_TCK);
    return btime && hz > 0 ? (double)btime + (double)ticks / (double)hz : 0;
}

int cnp_tmp_owner_gone(long pid, time_t changed)
{
    if (cnp_tmp_pid_gone(pid))
        return 1;
    if (pid <= 0 || pid == (long)getpid())
        return 0;
    /* The pid is taken, but by a process started after its folder last
     * changed: the pid was reused (they wrap within minutes on a busy host),
     * and the owner is gone. */
    const double start = process_start(pid);
    return start > 0 && start > (double)changed + 1.0;
}

void cnp_tmp_remove_dead(const char *path)
{
    char dir[4096], host[128], prefix[600];
    const char *name;
    split_path(path, dir, sizeof dir, &name);
    cnp_tmp_host(host, sizeof host);
    const int plen = snprintf(prefix, sizeof prefix, ".%s.tmp-%s-", name, host);
    if (plen <= 0 || (size_t)plen >= sizeof prefix)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, (size_t)plen) != 0)
            continue;
        char *end;
        errno = 0;
        const long pid = strtol(e->d_name + plen, &end, 10);
        if (errno || end == e->d_name + plen || (*end && *end != '-'))
            continue;
        char p[4700];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (lstat(p, &sb) != 0 || !cnp_tmp_owner_gone(pid, sb.st_mtime))
            continue;
        cnp_fs_remove_tree(p);
    }
    closedir(d);
}

/* ---- signals ---------------------------------------------------------------------- */

/* Process-wide by nature (a signal ends the whole process), and safe for
 * runs on several threads: a slot is claimed atomically (0 free, 2 being
 * filled, 1 guarded: the handler reads only whole paths), and holds nest. */
enum { N_GUARDS = 16 };
static char g_guard[N_GUARDS][PATH_MAX];
static volatile sig_atomic_t g_guard_on[N_GUARDS];
static volatile sig_atomic_t g_hold, g_held;

struct dirent64_raw {              /* the record getdents64 returns */
    uint64_t       d_ino;
    int64_t        d_off;
    unsigned short d_reclen;
    unsigned char  d_type;
    char           d_name[];
};

/* Remove parent/name and everything in it, with async-signal-safe calls only
 * (no malloc, no stdio: nftw is not allowed in a handler). Entries removed
 * while a folder is being read may be skipped by getdents, so a folder is
 * read again until a pass finds nothing left. */
static void remove_at(int parent, const char *name, int depth)
{
    if (unlinkat(parent, name, 0) == 0 || errno == ENOENT || depth > 16)
        return;
    const int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    _Alignas(8) char buf[1024];
    for (int pass = 0; pass < 8; pass++) {
        int seen = 0;
        long n;
        lseek(fd, 0, SEEK_SET);
        while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
            for (long off = 0; off < n;) {
                const struct dirent64_raw *d = (const struct dirent64_raw *)(void *)(buf + off);
                off += d->d_reclen;
                if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
                    continue;
                remove_at(fd, d->d_name, depth + 1);
                seen = 1;
            }
        }
        if (!seen)
            break;
    }
    close(fd);
    unlinkat(parent, name, AT_REMOVEDIR);
}

static void clean_up_and_end(int sig)
{
    for (int i = 0; i < N_GUARDS; i++)
        if (g_guard_on[i] == 1)
            remove_at(AT_FDCWD, g_guard[i], 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigaction(sig, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
}

static void on_signal(int sig)
{
    if (g_hold) {
        g_held = sig;
        return;
    }
    clean_up_and_end(sig);
}

void cnp_tmp_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaddset(&sa.sa_mask, SIGHUP);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* `dir` made absolute against the current folder: a guarded path must still
 * name the folder after a chdir (verify --rerun runs in another folder). */
static int absolute(const char *dir, char out[PATH_MAX])
{
    char cwd[PATH_MAX];
    if (dir[0] == '/')
        return snprintf(out, PATH_MAX, "%s", dir) < PATH_MAX ? 0 : -1;
    if (!getcwd(cwd, sizeof cwd))
        return -1;
    const size_t a = strlen(cwd), b = strlen(dir);
    if (a + 1 + b >= PATH_MAX)
        return -1;
    memcpy(out, cwd, a);
    out[a] = '/';
    memcpy(out + a + 1, dir, b + 1);
    return 0;
}

int cnp_tmp_guard(const char *dir)
{
    char abs[PATH_MAX];
    if (absolute(dir, abs) != 0)
        return -1;
    for (int i = 0; i < N_GUARDS; i++) {
        sig_atomic_t free_slot = 0;
        if (!__atomic_compare_exchange_n(&g_guard_on[i], &free_slot, 2, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_RELAXED))
            continue;
        memcpy(g_guard[i], abs, sizeof abs);
        __atomic_store_n(&g_guard_on[i], 1, __ATOMIC_RELEASE);   /* only once whole */
        return 0;
    }
    return -1;
}

void cnp_tmp_unguard(const char *dir)
{
    char abs[PATH_MAX];
    if (absolute(dir, abs) != 0)
        return;
    for (int i = 0; i < N_GUARDS; i++)
        if (__atomic_load_n(&g_guard_on[i], __ATOMIC_ACQUIRE) == 1 &&
            strcmp(g_guard[i], abs) == 0) {
            __atomic_store_n(&g_guard_on[i], 0, __ATOMIC_RELEASE);
            break;
        }
}

void cnp_tmp_hold_signals(int hold)
{
    /* Counted: a signal waits while any thread's commit holds it. */
    if (hold) {
        __atomic_add_fetch(&g_hold, 1, __ATOMIC_ACQ_REL);
        return;
    }
    if (__atomic_sub_fetch(&g_hold, 1, __ATOMIC_ACQ_REL) == 0 && g_held) {
        const int sig = g_held;
        g_held = 0;
        clean_up_and_end(sig);
    }
}

/* ---- test hook -------------------------------------------------------------------- */

void cnp_tmp_crash_point(const char *prefix, const char *name)
{
    static int hits;
    char var[64];
    snprintf(var, sizeof var, "%s_CRASH_AT", prefix);
    const char *env = getenv(var);
    if (!env || !*env)
        return;
    const char *colon = strchr(env, ':');
    const size_t len = colon ? (size_t)(colon - env) : strlen(env);
    if (strlen(name) != len || strncmp(env, name, len) != 0)
        return;
    const int k = colon ? atoi(colon + 1) : 1;
    if (++hits < (k > 0 ? k : 1))
        return;
    snprintf(var, sizeof var, "%s_CRASH_SIGNAL", prefix);
    const char *s = getenv(var);
    const int sig = !s ? SIGKILL : strcmp(s, "INT") == 0 ? SIGINT : strcmp(s, "TERM") == 0 ? SIGTERM
                  : strcmp(s, "HUP") == 0 ? SIGHUP : strcmp(s, "STOP") == 0 ? SIGSTOP : SIGKILL;
    fflush(NULL);
    raise(sig);
}
