#!/bin/bash
# canopy batch on a real (single-node) Slurm cluster: start munged, slurmctld
# and slurmd in a temporary folder (scripts/slurm/local-slurm.sh), submit an
# archive of three footprints (Landsat path/row, Sentinel-2 tile, plain rasters)
# as a job array of three shards plus a dependent merge job
# (scripts/slurm/canopy-slurm-submit.sh), wait for it, and check that the result
# equals a single-machine `canopy batch` of the same archive; resubmitting skips
# everything. Stops exactly the daemons it started. SKIPs only when Slurm or
# MUNGE cannot be installed or the daemons cannot start.
source "$(dirname "$0")/lib.sh"
export CANOPY_CONFIG_DIR="$ROOT/configs"

if ! "$ROOT/scripts/slurm/setup-slurm.sh" >"$TMP/setup.log" 2>&1; then
    skip "slurm: the slurm-wlm/munge packages cannot be installed ($(tail -1 "$TMP/setup.log"))"
    exit 0
fi
S="$TMP/slurm"
chmod 711 "$TMP"         # munged runs as the munge user and must reach $S
export CANOPY_SLURM_PORT=$((20000 + ($$ % 500) * 2))
trap '"$ROOT/scripts/slurm/local-slurm.sh" stop "$S"; [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"' EXIT
if ! start=$("$ROOT/scripts/slurm/local-slurm.sh" start "$S" 2>"$TMP/start.log"); then
    skip "slurm: the local slurmctld/slurmd/munged did not start ($(tail -1 "$TMP/start.log"))"
    exit 0
fi
eval "$start"            # export SLURM_CONF=...
pass "slurm: a single-node cluster is up (munged, slurmctld, slurmd)"

A="$TMP/archive"
$PY "$ROOT/tests/e2e/batch_archive.py" "$SYNTH" "$A" --size 256 || { fail "slurm: archive"; exit 0; }

# One machine.
t0=$EPOCHREALTIME
run_canopy batch "$A" -o "$TMP/local" -q
t_local=$(echo "$EPOCHREALTIME - $t0" | bc)
[ "$RC" -eq 0 ] || { fail "slurm: single-machine batch ($RC: $ERR_TXT)"; exit 0; }
npairs=$(($(wc -l <"$TMP/local/summary.csv") - 1))

# wait_job ID: until the job ends; prints its final state.
wait_job() {
    local state=""
    for _ in $(seq 1200); do
        state=$(scontrol show job "$1" -o 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -1)
        case "$state" in
        *COMPLETED|*FAILED|*CANCELLED|*TIMEOUT|*NODE_FAIL|*OUT_OF_MEMORY) break;;
        esac
        # A merge whose dependency can never be met stays pending for ever.
        scontrol show job "$1" -o 2>/dev/null | grep -q 'Reason=DependencyNeverSatisfied' &&
            { state=JobState=DEPENDENCY_NEVER_SATISFIED; break; }
        sleep 0.25
    done
    echo "${state#JobState=}"
}

# The cluster: three shards, one CPU each, and the merge.
t0=$EPOCHREALTIME
if ! jobs=$("$ROOT/scripts/slurm/canopy-slurm-submit.sh" --canopy "$CANOPY" -o "$TMP/cluster" \
        --shards 3 --cpus 1 --mem 1500 -- "$A" 2>"$TMP/submit.err"); then
    fail "slurm: submit ($(cat "$TMP/submit.err"))"
    exit 0
fi
array=$(awk '$1 == "array" { print $2 }' <<<"$jobs")
merge=$(awk '$1 == "merge" { print $2 }' <<<"$jobs")
[ -n "$array" ] && [ -n "$merge" ] && grep -q "^#SBATCH --array=0-2" "$TMP/cluster/slurm/shard.sbatch" &&
    scontrol show job "$merge" -o | grep -q "Dependency=afterany:${array}" &&
    pass "slurm: one job array of 3 shards and a merge job depending on it (afterany)" ||
    fail "slurm: submission ($jobs; $(scontrol show job "$merge" -o | grep -o 'Dependency=[^ ]*'))"
state=$(wait_job "$merge")
t_slurm=$(echo "$EPOCHREALTIME - $t0" | bc)
[ "$state" = COMPLETED ] && pass "slurm: the array and the merge job completed" ||
    { fail "slurm: merge job $state"; tail -5 "$TMP"/cluster/slurm/*.out | sed 's/^/    /'; exit 0; }

# Three shards, each with whole footprints, each wrote only its own summary.
[ "$(ls "$TMP/cluster/shards")" = "$(printf 'shard-0.json\nshard-1.json\nshard-2.json')" ] &&
    $PY - "$TMP/cluster/plan.json" <<'PY' && pass "slurm: whole footprints per shard, one footprint each" || fail "slurm: shards"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["shard_count"] == 3 and sorted(len(s["footprints"]) for s in p["shards"]) == [1, 1, 1]
assert sorted(f["shard"] for f in p["footprints"]) == [0, 1, 2]
PY

# The same result as one machine: summary (but the seconds), merged alerts and
# every output of every pair (but run.json's times) byte for byte.
[ "$(cut -d, -f1-9,11- "$TMP/local/summary.csv")" = "$(cut -d, -f1-9,11- "$TMP/cluster/summary.csv")" ] &&
    pass "slurm: summary.csv equals the single-machine run's ($npairs pairs)" ||
    fail "slurm: summary differs: $(diff <(cut -d, -f1-9,11- "$TMP/local/summary.csv") <(cut -d, -f1-9,11- "$TMP/cluster/summary.csv") | head -5)"
bad=""
while IFS= read -r f; do
    cmp -s "$TMP/local/$f" "$TMP/cluster/$f" || bad="$bad $f"
done < <(cd "$TMP/local" && find . -type f ! -name run.json ! -name SHA256SUMS ! -name 'summary.*' | sort)
for r in $(cd "$TMP/local" && find . -name run.json); do
    [ "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$TMP/local/$r")" = \
      "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$TMP/cluster/$r")" ] || bad="$bad $r"
done
[ -z "$bad" ] && [ "$(ls "$TMP"/local/*/alerts.gpkg | wc -l)" -eq 3 ] &&
    pass "slurm: merged alerts.gpkg per footprint and every pair's outputs equal the single-machine run" ||
    fail "slurm: differs:$bad"

# Resubmitting skips what is done.
before=$(cd "$TMP/cluster" && find . -path ./slurm -prune -o -type f -printf '%p %T@\n' | sort)
jobs=$("$ROOT/scripts/slurm/canopy-slurm-submit.sh" --canopy "$CANOPY" -o "$TMP/cluster" \
        --shards 3 --cpus 1 --mem 1500 -- "$A" 2>/dev/null)
state=$(wait_job "$(awk '$1 == "merge" { print $2 }' <<<"$jobs")")
after=$(cd "$TMP/cluster" && find . -path ./slurm -prune -o -type f -printf '%p %T@\n' | sort)
[ "$state" = COMPLETED ] && [ "$before" = "$after" ] &&
    [ "$(cat "$TMP"/cluster/slurm/shard-*.out | grep -c 'nothing to do')" -eq 3 ] &&
    pass "slurm: a resubmitted array skips what is done and changes nothing" ||
    fail "slurm: resubmit ($state; $(diff <(echo "$before") <(echo "$after") | head -3))"

# A task that fails (as one that times out or is cancelled): the merge still
# runs once the array has ended (afterany), names the shard and exits 1.
cat >"$TMP/canopy-fails-shard-1" <<EOF
#!/bin/sh
case " \$* " in *" --shard 1 "*) echo "canopy-fails-shard-1: this task fails" >&2; exit 1;; esac
exec $(printf '%q' "$CANOPY") "\$@"
EOF
chmod 755 "$TMP/canopy-fails-shard-1"
jobs=$("$ROOT/scripts/slurm/canopy-slurm-submit.sh" --canopy "$TMP/canopy-fails-shard-1" \
        -o "$TMP/cluster-fail" --shards 3 --cpus 1 --mem 1500 -- "$A" 2>"$TMP/submit2.err")
state=$(wait_job "$(awk '$1 == "merge" { print $2 }' <<<"$jobs")")
if [ "$state" = FAILED ] &&
   grep -q "shard 1: .* not reported .*rerun it with: canopy batch --shard 1 --plan" \
       "$TMP/cluster-fail/slurm/merge.out" &&
   [ -f "$TMP/cluster-fail/summary.csv" ]; then
    pass "slurm: a failed task: the merge still runs, names the shard to rerun and fails"
else
    fail "slurm: failed task: merge $state: $(tail -3 "$TMP/cluster-fail/slurm/merge.out" 2>&1)"
fi

rate() { echo "scale=1; $npairs * 60 / $1" | bc; }
echo "INFO: slurm: $npairs pairs of 256x256 on $(nproc) CPUs: one machine ${t_local}s ($(rate "$t_local") pairs/min), local Slurm array of 3x1 CPU ${t_slurm}s ($(rate "$t_slurm") pairs/min, submit to merged)"

# Stop the daemons now and check that they are gone.
pids=$(cat "$S/slurmctld.pid" "$S/slurmd.pid" "$S/munge/munged.pid" 2>/dev/null)
"$ROOT/scripts/slurm/local-slurm.sh" stop "$S"
alive=""
for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
[ -n "$pids" ] && [ -z "$alive" ] && pass "slurm: exactly the daemons started are stopped (by their pid files)" ||
    fail "slurm: still running:$alive"
