"""Kill a batch with SIGKILL while its first pair is at a given step, then resume it.

usage: batch_kill.py CANOPY POINT zombie|reap STDERR_FILE KILLED_ARGS... -- RESUME_ARGS...

Runs `CANOPY KILLED_ARGS` (give it --jobs 1) with its pair children stopped
(SIGSTOP) at commit step POINT ($CANOPY_DETECT_CRASH_AT, cnp_tmpfile.h), so
the kill lands at that step every time, not by luck of timing. Once a child
has stopped there, the batch is killed with SIGKILL, which kills the child
(PR_SET_PDEATHSIG). This process is a subreaper, so the orphaned child is
adopted by it: with `zombie` it is left uncollected, a zombie, until the
resume has ended (as an init that collects late leaves it); with `reap` it is
collected first. Then `CANOPY RESUME_ARGS` runs (its stderr into STDERR_FILE).

Prints "left: NAME..." (the temporary names under the batch folder after the
kill, before the resume; the folder is the argument after -o) and
"rc: N" (the resume's exit status). Exits 1 when the scenario could not be
set up.
"""
import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None, None
    rest = s[s.rindex(")") + 2:].split()
    return rest[0], int(rest[1])


def children_of(ppid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            st, pp = state(int(d))
            if pp == ppid:
                out.append((int(d), st))
    return out


def temp_names(root):
    names = []
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            if ".tmp-" in n or n.startswith(".canopy-"):
                names.append(os.path.relpath(os.path.join(dirpath, n), root))
    return sorted(names)


def main():
    canopy, point, keep, errfile = sys.argv[1:5]
    rest = sys.argv[5:]
    cut = rest.index("--")
    killed, resume = rest[:cut], rest[cut + 1:]
    root = killed[killed.index("-o") + 1]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("cannot become a subreaper", file=sys.stderr)
        return 1
    env = dict(os.environ, CANOPY_DETECT_CRASH_AT=point, CANOPY_DETECT_CRASH_SIGNAL="STOP")
    batch = subprocess.Popen([canopy] + killed, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    child = None
    deadline = time.time() + 300
    while child is None and time.time() < deadline and batch.poll() is None:
        child = next((p for p, st in children_of(batch.pid) if st == "T"), None)
        time.sleep(0.05)
    if child is None:
        batch.kill()
        batch.wait()
        print("no pair stopped at '%s'" % point, file=sys.stderr)
        return 1
    batch.kill()
    batch.wait()
    # The child, killed with the batch, is ours now: wait until it is a zombie.
    while time.time() < deadline and state(child)[0] not in ("Z", None):
        time.sleep(0.01)
    if state(child)[0] != "Z":
        print("the stopped pair did not end with the batch", file=sys.stderr)
        return 1
    if keep == "reap":
        os.waitpid(child, 0)
    print("left:", " ".join(temp_names(root)))
    with open(errfile, "w") as err:
        rc = subprocess.run([canopy] + resume, stdout=subprocess.DEVNULL, stderr=err).returncode
    print("rc:", rc)
    if keep == "zombie":
        os.waitpid(child, 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
