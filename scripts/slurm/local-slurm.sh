#!/bin/bash
# scripts/slurm/local-slurm.sh - a throw-away single-node Slurm cluster on this
# machine, for tests (tests/e2e/test_slurm.sh) and for trying the submit script.
#
#   local-slurm.sh start DIR   start munged, slurmctld and slurmd with their
#                              config, keys, state, spool and logs in DIR; prints
#                              "export SLURM_CONF=DIR/slurm.conf" on success
#   local-slurm.sh stop DIR    stop exactly the daemons started in DIR (by the
#                              pid files there)
#
# Runs as root without systemd (Debian 12: slurmctld, slurmd, slurm-client,
# munge; scripts/slurm/setup-slurm.sh installs them). Its own munged (own key
# and socket, run as the munge user) and its own ports, so it leaves any
# system Slurm or MUNGE alone. One node with this machine's CPUs and memory;
# select/cons_tres, no accounting, jobcomp/filetxt. Exit 1 when a daemon does
# not come up (its log is printed).
set -u

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

stop_pidfile() {   # stop_pidfile FILE: TERM, then KILL, the process it names
    local f=$1 pid
    [ -f "$f" ] || return 0
    pid=$(cat "$f" 2>/dev/null)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    fi
    rm -f "$f"
}

if [ "$cmd" = stop ]; then
    stop_pidfile "$dir/slurmd.pid"
    stop_pidfile "$dir/slurmctld.pid"
    stop_pidfile "$dir/munge/munged.pid"
    exit 0
fi
[ "$cmd" = start ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

for b in munged slurmctld slurmd sbatch scontrol; do
    command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] ||
        { echo "local-slurm: $b is not installed (scripts/slurm/setup-slurm.sh)" >&2; exit 1; }
done
PATH=$PATH:/usr/sbin
[ "$(id -u)" -eq 0 ] || { echo "local-slurm: needs root (SlurmUser=root)" >&2; exit 1; }
id munge >/dev/null 2>&1 || { echo "local-slurm: no 'munge' user" >&2; exit 1; }

mkdir -p "$dir" && dir=$(cd "$dir" && pwd)
chmod 755 "$dir"
mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
chown munge: "$dir/munge" && chmod 700 "$dir/munge"
runuser -u munge -- test -x "$dir/munge" ||
    { echo "local-slurm: the munge user cannot reach $dir (a parent folder is private)" >&2; exit 1; }

# MUNGE: a key of our own, made by mungekey (or create-munge-key on older setups).
key="$dir/munge/munge.key"
if [ ! -f "$key" ]; then
    if command -v mungekey >/dev/null 2>&1; then
        runuser -u munge -- mungekey --create --keyfile="$key" || exit 1
    else
        dd if=/dev/urandom of="$key" bs=1 count=1024 2>/dev/null && chown munge: "$key"
    fi
    chmod 600 "$key"
fi
sock="$dir/munge/munge.socket"
runuser -u munge -- munged --key-file="$key" --socket="$sock" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
    --seed-file="$dir/munge/munged.seed" --force ||
    { echo "local-slurm: munged did not start" >&2; cat "$dir/munge/munged.log" >&2 2>/dev/null; exit 1; }

host=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
# Ports of our own, so a system Slurm on the defaults is left alone.
port=${CANOPY_SLURM_PORT:-16817}
cat >"$dir/slurm.conf" <<EOF
ClusterName=canopytest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=30
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=canopy Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$dir/slurm.conf"

slurmctld -f "$SLURM_CONF" -i ||
    { echo "local-slurm: slurmctld did not start" >&2; tail -20 "$dir/slurmctld.log" >&2; exit 1; }
slurmd -f "$SLURM_CONF" ||
    { echo "local-slurm: slurmd did not start" >&2; tail -20 "$dir/slurmd.log" >&2; exit 1; }

# The node is idle about a second after start.
for _ in $(seq 100); do
    state=$(sinfo -h -N -o '%t' 2>/dev/null | head -1)
    case "$state" in idle*) echo "export SLURM_CONF=$SLURM_CONF"; exit 0;; esac
    sleep 0.2
done
echo "local-slurm: the node did not become idle (state '${state:-none}')" >&2
tail -5 "$dir/slurmctld.log" "$dir/slurmd.log" >&2
exit 1
