#!/bin/bash
# Unattended monitoring: what cron and an operator reading its mail get.
#  - a scene that fails gives exit 4 while the other scenes are applied;
#  - a failed --on-new hook is called again by the next run until it succeeds,
#    once per announcement, also after a run killed while the hook ran;
#  - the cron wrapper writes each run's log to its own file and its mail
#    (stderr) holds exactly that run's log and exit status;
#  - a batch pair with nothing observed in both dates is "skipped: not
#    observed", not failed, and not run again by the next batch.
source "$(dirname "$0")/lib.sh"
export CANOPY_CONFIG_DIR="$ROOT/configs"

SER="$TMP/series"
if ! "$PY" "$ROOT/scripts/make-series.py" --synth "$SYNTH" -o "$SER" >"$TMP/gen.log" 2>&1; then
    fail "unattended: series generator ($(tail -2 "$TMP/gen.log"))"
    exit 0
fi
mapfile -t D < <(ls -d "$SER"/S2A_* | sort)
field() { "$PY" -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2]))' "$OUT_TXT" "$1"; }

# ---- a corrupt scene: exit 4, the others applied ------------------------------
IN="$TMP/in-bad"
mkdir -p "$IN"
cp -r "${D[0]}" "${D[1]}" "${D[2]}" "$IN/"
bad="$IN/$(basename "${D[1]}")"
head -c 2000 "${D[1]}/B04.tif" >"$bad/B04.tif"
run_canopy monitor --state "$TMP/st-bad" -q "$IN"
if [ "$RC" -eq 4 ] && [ "$(field scenes_failed)" = 1 ] && [ "$(field scenes_processed)" = 2 ] &&
   [ "$(field exit_status)" = 4 ] && [[ "$ERR_TXT" == *"1 input failed"* ]]; then
    pass "unattended: a failed scene gives exit 4, the other scenes are applied"
else
    fail "unattended: failed scene: exit $RC, $OUT_TXT $ERR_TXT"
fi
run_canopy monitor --state "$TMP/st-bad" -q "$IN"
[ "$RC" -eq 0 ] && [ "$(field scenes_failed)" = 0 ] &&
    pass "unattended: the unchanged failed scene is not retried, the next run exits 0" ||
    fail "unattended: rerun after a failed scene: exit $RC $OUT_TXT"
check "unattended: monitor --help documents exit 4" sh -c \
    '"$1" monitor --help | tr "\n" " " | grep -Eq "4 +some inputs failed"' sh "$CANOPY"

# ---- --on-new: retried until it succeeds -----------------------------------
# Dates 1-4 make the first alerts (probable at date 4); the hook fails twice.
IN="$TMP/in-hook"
mkdir -p "$IN"
cp -r "${D[0]}" "${D[1]}" "${D[2]}" "${D[3]}" "$IN/"
cat >"$TMP/hook.sh" <<'EOF'
#!/bin/sh
# Fails while $HOOK_FAILS says so; logs every call.
echo "$1" >>"$HOOK_LOG"
[ -f "$1" ] || exit 9
n=$(cat "$HOOK_FAILS" 2>/dev/null || echo 0)
if [ "$n" -gt 0 ]; then echo $((n - 1)) >"$HOOK_FAILS"; exit 1; fi
exit 0
EOF
chmod +x "$TMP/hook.sh"
export HOOK_LOG="$TMP/hook.log" HOOK_FAILS="$TMP/hook.fails"
echo 2 >"$HOOK_FAILS"
H="$TMP/st-hook"
run_canopy monitor --state "$H" -q --on-new "$TMP/hook.sh" "$IN"
rc1=$RC out1=$OUT_TXT
run_canopy monitor --state "$H" -q --on-new "$TMP/hook.sh" "$IN"
rc2=$RC
run_canopy monitor --state "$H" -q --on-new "$TMP/hook.sh" "$IN"
rc3=$RC out3=$OUT_TXT
run_canopy monitor --state "$H" -q --on-new "$TMP/hook.sh" "$IN"
rc4=$RC
calls=$(wc -l <"$HOOK_LOG")
distinct=$(sort -u "$HOOK_LOG" | wc -l)
if [ "$rc1" -eq 1 ] && [ "$rc2" -eq 1 ] && [ "$rc3" -eq 0 ] && [ "$rc4" -eq 0 ] &&
   [ "$calls" -eq 3 ] && [ "$distinct" -eq 1 ] && [[ "$out1" == *'"on_new_pending":1'* ]] &&
   [[ "$out3" == *'"on_new_delivered":1'* ]] && [[ "$out3" == *'"on_new_pending":0'* ]]; then
    pass "unattended: a failed --on-new is called again by the next runs until it succeeds, then never"
else
    fail "unattended: --on-new retry: exits $rc1/$rc2/$rc3/$rc4, $calls calls ($distinct files): $out1 / $out3"
fi
[ -z "$(find "$H/runs" -name on_new.pending)" ] &&
    pass "unattended: nothing stays queued once the hook succeeded" ||
    fail "unattended: still queued: $(find "$H/runs" -name on_new.pending)"

# A run killed while its hook runs: the next run delivers it (at least once).
H2="$TMP/st-hook2"
: >"$HOOK_LOG"
cat >"$TMP/slow-hook.sh" <<'EOF'
#!/bin/sh
echo "$1" >>"$HOOK_LOG"
[ -n "$HOOK_SLOW" ] && exec sleep 30
exit 0
EOF
chmod +x "$TMP/slow-hook.sh"
HOOK_SLOW=1 setsid "$CANOPY" monitor --state "$H2" -q --on-new "$TMP/slow-hook.sh" "$IN" \
    >/dev/null 2>&1 &
kpid=$!
for _ in $(seq 1 200); do [ -s "$HOOK_LOG" ] && break; sleep 0.1; done
kill -KILL -- -"$kpid" 2>/dev/null
wait "$kpid" 2>/dev/null
run_canopy monitor --state "$H2" -q --on-new "$TMP/slow-hook.sh" "$IN"
if [ "$RC" -eq 0 ] && [ "$(wc -l <"$HOOK_LOG")" -eq 2 ] && [ "$(sort -u "$HOOK_LOG" | wc -l)" -eq 1 ] &&
   [[ "$OUT_TXT" == *'"on_new_delivered":1'* ]]; then
    pass "unattended: a run killed during --on-new: the next run calls it again"
else
    fail "unattended: killed hook: exit $RC, calls: $(tr '\n' ' ' <"$HOOK_LOG") $OUT_TXT"
fi

# ---- the cron wrapper: this run's log, this run's status ---------------------
C="$TMP/st-cron"
IN="$TMP/in-cron"
mkdir -p "$IN"
cp -r "${D[0]}" "${D[1]}" "$IN/"
head -c 2000 "${D[1]}/B04.tif" >"$IN/$(basename "${D[1]}")/B04.tif"
CANOPY="$CANOPY" "$ROOT/scripts/canopy-monitor-cron.sh" "$C" "$IN" >"$TMP/cron1.out" 2>"$TMP/cron1.err"
crc1=$?
sleep 1.1    # a new second: the runs' log names differ by time, not only by pid
cp -r "${D[2]}" "$IN/"
CANOPY="$CANOPY" "$ROOT/scripts/canopy-monitor-cron.sh" "$C" "$IN" >"$TMP/cron2.out" 2>"$TMP/cron2.err"
crc2=$?
# A third run fails in another way (a missing input: exit 1).
CANOPY="$CANOPY" "$ROOT/scripts/canopy-monitor-cron.sh" "$C" "$IN" "$TMP/no-such-input" \
    >"$TMP/cron3.out" 2>"$TMP/cron3.err"
crc3=$?
nlogs=$(find "$C/logs" -name 'monitor-*.log' | wc -l)
if [ "$crc1" -eq 4 ] && grep -q '"scenes_failed":1' "$TMP/cron1.err" &&
   grep -q 'exit status 4' "$TMP/cron1.err" && [ ! -s "$TMP/cron1.out" ]; then
    pass "unattended: cron wrapper passes exit 4 on with this run's log"
else
    fail "unattended: cron run 1: exit $crc1: $(head -c 600 "$TMP/cron1.err")"
fi
if [ "$crc2" -eq 0 ] && [ ! -s "$TMP/cron2.err" ] && [ ! -s "$TMP/cron2.out" ]; then
    pass "unattended: a successful cron run mails nothing"
else
    fail "unattended: cron run 2: exit $crc2: $(head -c 600 "$TMP/cron2.err")"
fi
if [ "$crc3" -eq 1 ] && grep -q 'no-such-input' "$TMP/cron3.err" &&
   grep -q 'exit status 1' "$TMP/cron3.err" && ! grep -q 'scenes_failed":1' "$TMP/cron3.err" &&
   [ "$(grep -c '"command":"monitor"' "$TMP/cron3.err")" -eq 1 ]; then
    pass "unattended: cron mail holds exactly this run's log, not the previous runs'"
else
    fail "unattended: cron run 3 mail: exit $crc3: $(head -c 800 "$TMP/cron3.err")"
fi
if [ "$nlogs" -eq 3 ] && [ "$(grep -c '"command":"monitor"' "$C/monitor.log")" -eq 3 ] &&
   [ "$(grep -l 'exit status 4' "$C"/logs/monitor-*.log | wc -l)" -eq 1 ]; then
    pass "unattended: each cron run has its own log file; monitor.log keeps the history"
else
    fail "unattended: cron logs: $nlogs files: $(ls "$C/logs" 2>&1 | tr '\n' ' ')"
fi

# ---- batch: a pair under clouds is skipped, not failed, not retried ---------
TS="$TMP/tif-series"
if ! "$PY" "$ROOT/scripts/make-series.py" --synth "$SYNTH" -o "$TS" --format tif \
        >"$TMP/gen2.log" 2>&1; then
    fail "unattended: tif series generator ($(tail -2 "$TMP/gen2.log"))"
    exit 0
fi
B="$TMP/batch-in"
mkdir -p "$B"
mapfile -t TIFS < <(ls "$TS"/scene_*.tif | grep -v _mask | sort | head -3)
for t in "${TIFS[@]}"; do cp "$t" "${t%.tif}_mask.tif" "$B/"; done
# The last date is cloud (class 9) everywhere: its pair sees nothing.
last=$(basename "${TIFS[2]}" .tif)
"$PY" - "$B/${last}_mask.tif" <<'PY'
import sys
from osgeo import gdal
ds = gdal.Open(sys.argv[1], gdal.GA_Update)
b = ds.GetRasterBand(1)
b.Fill(9)
ds = None
PY
run_canopy batch "$B" -o "$TMP/bout" --no-evidence
rc1=$RC out1=$OUT_TXT
st1=$("$PY" -c 'import csv,sys
for r in csv.DictReader(open(sys.argv[1])): print(r["pair"], r["status"], r["message"][:40])' \
    "$TMP/bout/summary.csv" 2>&1)
if [ "$rc1" -eq 0 ] && grep -q "__$last skipped not observed: no pixel is observed" <<<"$st1" &&
   grep -q " ok " <<<"$st1" && ! grep -q failed <<<"$st1" &&
   [[ "$out1" == *"1 skipped (1 not observed), 0 failed"* ]] &&
   "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["not_observed"] == 1 and d["failed"] == 0, d' \
       "$TMP/bout/summary.json"; then
    pass "unattended: batch: a pair with nothing observed is skipped: not observed (exit 0)"
else
    fail "unattended: batch not observed: exit $rc1: $out1 / $st1 / $ERR_TXT"
fi
run_canopy batch "$B" -o "$TMP/bout" --no-evidence
if [ "$RC" -eq 0 ] && [[ "$ERR_TXT" == *"nothing to do"* ]] &&
   [[ "$OUT_TXT" == *"1 skipped (1 not observed), 0 failed"* ]]; then
    pass "unattended: batch: the next batch does not run the not-observed pair again"
else
    fail "unattended: batch rerun: exit $RC: $OUT_TXT / $ERR_TXT"
fi
run_canopy batch "$B" -o "$TMP/bout" --no-evidence --list
grep -q "__$last  skip: not observed: no pixel is observed" <<<"$OUT_TXT" &&
    pass "unattended: batch --list shows the not-observed pair as skipped" ||
    fail "unattended: batch --list: $(grep "__$last" <<<"$OUT_TXT")"
# Its inputs change (the clouds clear): it runs again.
cp "${TIFS[2]%.tif}_mask.tif" "$B/${last}_mask.tif"
touch "$B/${last}_mask.tif"
run_canopy batch "$B" -o "$TMP/bout" --no-evidence
[ "$RC" -eq 0 ] && [[ "$OUT_TXT" == *"2 ok, 0 skipped"* ]] &&
    pass "unattended: batch: a not-observed pair whose inputs changed runs again" ||
    fail "unattended: batch after the clouds cleared: exit $RC: $OUT_TXT / $ERR_TXT"
exit 0
