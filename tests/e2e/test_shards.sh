#!/bin/bash
# Sharded batches when a shard does not finish, without a Slurm cluster
# (tests/e2e/test_slurm.sh runs a real one where it can be installed):
#  - the merge job is submitted with --dependency=afterany, so it runs after
#    the array ends in any state (a timed-out task included) instead of
#    waiting for ever (checked with a stand-in sbatch that records its calls);
#  - --merge names each shard that did not report, with the command to run it
#    again, records it in summary.json and exits 1; once the shard has run, the
#    merge exits 0 and lists nothing.
source "$(dirname "$0")/lib.sh"
export CANOPY_CONFIG_DIR="$ROOT/configs"

A="$TMP/archive"
"$PY" "$ROOT/tests/e2e/batch_archive.py" "$SYNTH" "$A" --size 128 >"$TMP/arch.log" 2>&1 ||
    { fail "shards: archive generator ($(tail -2 "$TMP/arch.log"))"; exit 0; }

# ---- the submit script's dependency ----------------------------------------
mkdir -p "$TMP/fakebin"
cat >"$TMP/fakebin/sbatch" <<'SH'
#!/bin/sh
# Records its arguments; answers as `sbatch --parsable` does.
n=$(($(wc -l <"$SBATCH_LOG" 2>/dev/null || echo 0) + 1))
echo "$*" >>"$SBATCH_LOG"
echo "$((4700 + n))"
SH
chmod +x "$TMP/fakebin/sbatch"
export SBATCH_LOG="$TMP/sbatch.log"
PATH="$TMP/fakebin:$PATH" "$ROOT/scripts/slurm/canopy-slurm-submit.sh" --canopy "$CANOPY" \
    -o "$TMP/sub" --shards 2 --cpus 1 --mem 1000 -- "$A" >"$TMP/sub.out" 2>"$TMP/sub.err"
src=$?
if [ $src -eq 0 ] && [ "$(wc -l <"$SBATCH_LOG")" -eq 2 ] &&
   grep -q -- '--dependency=afterany:4701 ' "$SBATCH_LOG" && ! grep -q afterok "$SBATCH_LOG" &&
   grep -q '^merge 4702$' "$TMP/sub.out"; then
    pass "shards: the merge job depends on the array with afterany (runs after it in any state)"
else
    fail "shards: submit (exit $src): $(cat "$SBATCH_LOG" "$TMP/sub.err" 2>/dev/null | tr '\n' ' ')"
fi

# ---- a shard that never reported -------------------------------------------
O="$TMP/out"
mkdir -p "$O"
run_canopy batch --plan-only --shards 2 --plan "$O/plan.json" -o "$O" "$A"
[ "$RC" -eq 0 ] || { fail "shards: plan ($RC: $ERR_TXT)"; exit 0; }
check "shards: the plan records the default chip cap (max_chips 100)" "$PY" -c 'import json,sys
assert json.load(open(sys.argv[1]))["settings"]["max_chips"] == 100' "$O/plan.json"
# The default cap is no --max-chips given: only a given one clashes with the plan's.
run_canopy batch --shard 0 --plan "$O/plan.json" -q --max-chips 100
check "shards: --max-chips with --plan is refused (exit 2), even at the default's value" \
    test "$RC" -eq 2
run_canopy batch --shard 0 --plan "$O/plan.json" -q
[ "$RC" -eq 0 ] || fail "shards: shard 0 ($RC: $ERR_TXT)"
# Shard 1 "timed out": it never wrote its summary.
run_canopy batch --merge --plan "$O/plan.json"
if [ "$RC" -eq 1 ] &&
   grep -q "shard 1: [0-9]* pairs not reported .*rerun it with: canopy batch --shard 1 --plan $O/plan.json" <<<"$ERR_TXT" &&
   ! grep -q "shard 0:" <<<"$ERR_TXT" &&
   "$PY" -c 'import json,sys
d = json.load(open(sys.argv[1]))
r = d["shards_to_rerun"]
assert [x["shard"] for x in r] == [1] and r[0]["pairs_not_reported"] > 0, r' "$O/summary.json"; then
    pass "shards: --merge names the shard that did not report and how to rerun it (exit 1)"
else
    fail "shards: merge with a missing shard: exit $RC: $ERR_TXT"
fi
run_canopy batch --shard 1 --plan "$O/plan.json" -q
run_canopy batch --merge --plan "$O/plan.json" -q
if [ "$RC" -eq 0 ] && "$PY" -c 'import json,sys
assert json.load(open(sys.argv[1]))["shards_to_rerun"] == []' "$O/summary.json"; then
    pass "shards: once the shard has run, the merge exits 0 with nothing to rerun"
else
    fail "shards: merge after the rerun: exit $RC: $ERR_TXT"
fi
exit 0
