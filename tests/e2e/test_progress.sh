#!/bin/bash
# Progress covers the whole run: the detection pass, the alerts, the four
# products, the chips, alerts.kmz, report.html, report.pdf and the record
# (hashing, run.json, commit), growing only, and reaching 100 % once OUTDIR
# is committed. --progress prints it as lines; a terminal gets GDAL's bar.
source "$(dirname "$0")/lib.sh"

P="$TMP/pair"
synth "$P" --size 300x300 --seed 9 --scenario sample --tile 64 || { fail "progress: generator"; exit 0; }

# check_lines FILE STAGES...: the "progress N% STAGE" lines of FILE grow, end
# at 100 % after the commit ("record"), and name STAGES in this order.
check_lines() {
    $PY - "$@" <<'PY'
import re, sys
path, want = sys.argv[1], sys.argv[2:]
rows = [re.match(r"canopy: progress (\d+)% (\S+)$", l) for l in open(path) if "progress" in l]
assert rows and all(rows), "not every progress line is 'canopy: progress N% STAGE'"
pct = [int(m.group(1)) for m in rows]
stages = [m.group(2) for m in rows]
assert pct == sorted(pct), "progress went back: %s" % pct
assert pct[-1] == 100 and stages[-1] == "record", "ends at %d%% %s" % (pct[-1], stages[-1])
assert pct.count(100) == 1, "100%% more than once"
order = [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s]
assert order == want, "stages %s, expected %s" % (order, want)
# Every stage moves the bar: none is left at the end.
ends = {}
for p, s in zip(pct, stages):
    ends[s] = p
assert len(set(ends.values())) == len(ends), "two stages end at the same place: %s" % ends
PY
}

detect_pair "$P" "$TMP/ev" --progress
[ "$RC" -eq 0 ] || fail "progress: detect --progress ($RC: $ERR_TXT)"
cp "$TMP/stderr" "$TMP/ev.err"
check "progress: with evidence it grows through every stage to 100 % at the commit" \
    check_lines "$TMP/ev.err" detect alerts write chips alerts.kmz report.html report.pdf record
# The chips and report.pdf tick as they go (one tick a chip, a page).
n_chips=$(grep -c "% chips$" "$TMP/ev.err")
n_pdf=$(grep -c "% report.pdf$" "$TMP/ev.err")
[ "$n_chips" -ge 3 ] && [ "$n_pdf" -ge 3 ] \
    && pass "progress: the chips and report.pdf advance it as they are made ($n_chips, $n_pdf lines)" \
    || fail "progress: chips $n_chips lines, report.pdf $n_pdf lines"

detect_pair "$P" "$TMP/noev" --progress --no-evidence
[ "$RC" -eq 0 ] || fail "progress: detect --progress --no-evidence ($RC: $ERR_TXT)"
cp "$TMP/stderr" "$TMP/noev.err"
check "progress: without evidence it grows through detect, alerts, write and record to 100 %" \
    check_lines "$TMP/noev.err" detect alerts write record

# A terminal: GDAL's bar, 0 to 100 on one line, once (a bar that restarted
# would print a second line of ticks).
if command -v script >/dev/null; then
    script -qec "'$CANOPY' detect '$P/before.tif' '$P/after.tif' --before-mask '$P/before_mask.tif' --after-mask '$P/after_mask.tif' -o '$TMP/tty'" \
        /dev/null >"$TMP/tty.out" 2>&1
    bars=$(tr -d '\r' <"$TMP/tty.out" | grep -c '^0\.\.\.10\.\.\.20\.\.\.30\.\.\.40\.\.\.50\.\.\.60\.\.\.70\.\.\.80\.\.\.90\.\.\.100 - done\.')
    ticks=$(tr -d '\r' <"$TMP/tty.out" | grep -c '\.\.\.')
    [ "$bars" -eq 1 ] && [ "$ticks" -eq 1 ] \
        && pass "progress: a terminal gets one bar from 0 to 100" \
        || fail "progress: terminal bar ($bars full bars, $ticks lines: $(tr -d '\r' <"$TMP/tty.out" | head -5))"
else
    skip "progress: no 'script' command to run canopy on a terminal"
fi
