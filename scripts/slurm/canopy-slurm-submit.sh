#!/bin/bash
# scripts/slurm/canopy-slurm-submit.sh - run `canopy batch` on a Slurm cluster.
#
# Usage: canopy-slurm-submit.sh -o OUTROOT [options] -- INPUT... [canopy batch options]
#
#   1. plans on this machine:  canopy batch --plan-only --shards N -o OUTROOT ...
#                              (writes OUTROOT/plan.json; whole footprints per
#                              shard, balanced by pixels)
#   2. submits one job array:  sbatch --array=0-(N-1), one shard per task:
#                              canopy batch --shard $SLURM_ARRAY_TASK_ID --plan ...
#   3. and a merge job:        sbatch --dependency=afterany:<array job>:
#                              canopy batch --merge --plan ...
#                              (OUTROOT/summary.csv and summary.json)
#                              It runs once the array has ended in any state
#                              (a task that failed, timed out or was cancelled
#                              included), names the shards that did not report
#                              or had failed pairs with the command to rerun
#                              them, and exits 1 then.
# Prints the two job ids ("array JOBID" and "merge JOBID" lines) and writes the
# batch scripts and logs to OUTROOT/slurm/. Each task writes only inside its own
# footprints' folders and OUTROOT/shards/shard-K.json; a pair already complete
# is skipped, so submitting again after a failure or a time-out redoes only
# what is missing.
#
# Options:
#   -o, --output DIR     OUTROOT, on a file system every node sees (required)
#   -n, --shards N       array tasks (default 4; more than footprints is no use)
#   -c, --cpus N         CPUs per task (default 4): the task's --threads
#   -m, --mem MB         memory per task in MB (default 8000); canopy plans for
#                        90% of it (--max-memory)
#   -j, --jobs N         pairs at once within a task (default: canopy's choice)
#   -t, --time T         time limit per task (sbatch --time)
#   -p, --partition P    partition (sbatch --partition)
#   -A, --account A      account (sbatch --account)
#       --canopy PATH    the canopy binary (default: bin/canopy of this checkout,
#                        else canopy on PATH); must be visible on the nodes
#       --plan FILE      use this plan as it is instead of planning again
#       --sbatch-arg ARG one more sbatch argument for both jobs (repeatable)
#       --dry-run        write the plan and the batch scripts, submit nothing
#   -h, --help
# Everything after "--" goes to `canopy batch --plan-only` (INPUTs, detect
# settings, pairing rules).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

outroot="" shards=4 cpus=4 mem=8000 jobs="" time_limit="" partition="" account=""
canopy="" plan="" dry=0
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
    -o|--output) outroot=$2; shift 2;;
    -n|--shards) shards=$2; shift 2;;
    -c|--cpus) cpus=$2; shift 2;;
    -m|--mem) mem=$2; shift 2;;
    -j|--jobs) jobs=$2; shift 2;;
    -t|--time) time_limit=$2; shift 2;;
    -p|--partition) partition=$2; shift 2;;
    -A|--account) account=$2; shift 2;;
    --canopy) canopy=$2; shift 2;;
    --plan) plan=$2; shift 2;;
    --sbatch-arg) extra+=("$2"); shift 2;;
    --dry-run) dry=1; shift;;
    -h|--help) usage; exit 0;;
    --) shift; break;;
    *) echo "canopy-slurm-submit: unknown option '$1' (INPUTs go after --)" >&2; exit 2;;
    esac
done
for v in shards cpus mem; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "canopy-slurm-submit: --$v: expected a count" >&2; exit 2; }
done
[ -n "$outroot" ] || { echo "canopy-slurm-submit: missing -o OUTROOT" >&2; exit 2; }
[ -n "$plan" ] || [ $# -gt 0 ] || { echo "canopy-slurm-submit: no INPUT after --" >&2; exit 2; }
if [ -z "$canopy" ]; then
    if [ -x "$here/../../bin/canopy" ]; then canopy="$here/../../bin/canopy"
    else canopy=$(command -v canopy) || { echo "canopy-slurm-submit: no canopy binary" >&2; exit 2; }
    fi
fi
canopy=$(cd "$(dirname "$canopy")" && pwd)/$(basename "$canopy")
mkdir -p "$outroot" && outroot=$(cd "$outroot" && pwd)
mkdir -p "$outroot/slurm"

# 1. The plan.
if [ -z "$plan" ]; then
    plan="$outroot/plan.json"
    "$canopy" batch --plan-only --shards "$shards" --plan "$plan" -o "$outroot" "$@"
else
    plan=$(cd "$(dirname "$plan")" && pwd)/$(basename "$plan")
    shards=$(/usr/bin/env python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["shard_count"])' "$plan")
fi

q() { printf '%q' "$1"; }
opts=()
[ -n "$time_limit" ] && opts+=("--time=$time_limit")
[ -n "$partition" ] && opts+=("--partition=$partition")
[ -n "$account" ] && opts+=("--account=$account")
opts+=("${extra[@]+"${extra[@]}"}")

# 2. One task per shard.
cat >"$outroot/slurm/shard.sbatch" <<EOF
#!/bin/bash
#SBATCH --job-name=canopy-batch
#SBATCH --array=0-$((shards - 1))
#SBATCH --cpus-per-task=$cpus
#SBATCH --mem=${mem}M
#SBATCH --output=$outroot/slurm/shard-%a.out
# canopy exits 0 when its shard ran to the end (failed pairs are in its
# summary and make the merge exit 1), non-zero when it could not finish.
exec $(q "$canopy") batch --shard "\$SLURM_ARRAY_TASK_ID" --plan $(q "$plan") \\
    --threads $cpus --max-memory $((mem * 9 / 10))${jobs:+ --jobs $jobs}
EOF
# 3. The merge, once every task has ended, however it ended: with afterok a
#    task that timed out would leave the merge pending for ever, and nobody
#    would hear which shard to run again.
cat >"$outroot/slurm/merge.sbatch" <<EOF
#!/bin/bash
#SBATCH --job-name=canopy-merge
#SBATCH --cpus-per-task=1
#SBATCH --mem=1000M
#SBATCH --output=$outroot/slurm/merge.out
exec $(q "$canopy") batch --merge --plan $(q "$plan")
EOF

if [ "$dry" -eq 1 ]; then
    echo "dry run: $outroot/slurm/shard.sbatch and merge.sbatch written, nothing submitted"
    exit 0
fi
array=$(sbatch --parsable "${opts[@]+"${opts[@]}"}" "$outroot/slurm/shard.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable --dependency="afterany:$array" "${opts[@]+"${opts[@]}"}" \
    "$outroot/slurm/merge.sbatch")
merge=${merge%%;*}
printf 'array %s\nmerge %s\n' "$array" "$merge" | tee "$outroot/slurm/jobs.txt"
