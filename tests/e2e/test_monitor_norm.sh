#!/bin/bash
# tests/e2e/test_monitor_norm.sh - canopy monitor applies detect's relative
# normalisation ([detect] normalize) and haze test ([mask] haze) to each new
# scene, by detect's code (core/cnp_corrections.h,
# pipeline/monitor/cnp_monitor_norm.c). On the sample, radiometry (another
# sensor's gains on AFTER) and haze (unflagged haze on AFTER) pairs, a
# two-scene monitor run (baseline, then the loss, --confirm 1) gives the
# alerts detect gives on the pair, with the corrections and without them
# (--normalize off --haze off, the raw results); the log line says what was
# applied. A state made before the monitor applied them (its settings have
# no record of them) goes on raw, not refused; a state's corrections are
# part of its settings.
source "$(dirname "$0")/lib.sh"

mon() {
    local state=$1 dir=$2; shift 2
    run_canopy monitor --state "$state" --confirm 1 -q "$@" "$dir/before.tif" \
        "$dir/before_mask.tif" "$dir/after.tif" "$dir/after_mask.tif"
}
rows() { $PY - "$1" <<'PY'
import sys
from osgeo import ogr
ds = ogr.Open(sys.argv[1])   # kept open while its features are read
r = sorted(round(f["area_ha"], 4) for f in ds.GetLayer("alerts"))
print(len(r), round(sum(r), 4), r)
PY
}
count() { rows "$1" | cut -d' ' -f1; }

for sc in sample radiometry haze; do
    G="$TMP/$sc"
    synth "$G" --size 400x400 --seed 1 --scenario $sc || { fail "monitor norm: generator $sc"; continue; }
    for mode in on off; do
        args=()
        [ $mode = off ] && args=(--normalize off --haze off)
        mon "$TMP/m-$sc-$mode" "$G" "${args[@]}"
        [ "$RC" -eq 0 ] || { fail "monitor norm: $sc, corrections $mode (exit $RC: $ERR_TXT)"; continue; }
        cp "$TMP/stdout" "$TMP/log-$sc-$mode"
        detect_pair "$G" "$TMP/d-$sc-$mode" --no-evidence "${args[@]}"
        [ "$RC" -eq 0 ] || { fail "monitor norm: detect $sc $mode (exit $RC: $ERR_TXT)"; continue; }
        check "monitor norm: $sc, corrections $mode: the alerts detect finds on the pair (count, areas)" \
            test "$(rows "$TMP/m-$sc-$mode/alerts.gpkg")" = "$(rows "$TMP/d-$sc-$mode/alerts.gpkg")"
    done
done

# The corrections change something there: raw, the radiometric shift and the
# haze raise alerts that corrected they do not.
for sc in radiometry haze; do
    check "monitor norm: $sc: fewer alerts corrected than raw" \
        test "$(count "$TMP/m-$sc-on/alerts.gpkg")" -lt "$(count "$TMP/m-$sc-off/alerts.gpkg")"
done

check "monitor norm: the log line says what was applied to each scene" \
    $PY - "$TMP/log-haze-on" "$TMP/log-haze-off" "$TMP/d-haze-on/run.json" <<'PY'
import json, re, sys
line, raw, run = (json.load(open(p)) for p in sys.argv[1:])
e = {x["input"]: x["corrections"] for x in line["corrections"]}
# the first scene has no baseline to normalise against: the haze test only
assert e["before"].startswith("haze: "), e
assert e["after"].startswith("normalised (local): correction median -0."), e
hazy = int(re.search(r"haze: (\d+) pixels taken out", e["after"]).group(1))
assert hazy == run["haze"]["hazy_pixels"], (hazy, run["haze"])
assert raw["corrections"] == [], raw["corrections"]
PY

# A state keeps its corrections: another setting is refused (exit 2).
G="$TMP/radiometry"
run_canopy monitor --state "$TMP/m-radiometry-on" -q --normalize off "$G/after.tif"
check "monitor norm: a state made with the corrections refuses --normalize off (exit 2)" \
    test "$RC" -eq 2 -a -n "$(echo "$ERR_TXT" | grep 'other settings')"

# A state made before: the first scene, then its settings as the earlier
# version wrote them (no normalize or haze line in [monitor]).
S="$TMP/m-old"
run_canopy monitor --state "$S" --confirm 1 -q "$G/before.tif" "$G/before_mask.tif"
[ "$RC" -eq 0 ] || fail "monitor norm: old state's first scene (exit $RC: $ERR_TXT)"
$PY - "$S" <<'PY'
import glob, json, sys
[p] = glob.glob(sys.argv[1] + "/state/g*/state.json")
st = json.load(open(p))
head, mon = st["settings_ini"].split("\n[monitor]\n")
lines = [l for l in mon.split("\n") if not l.startswith(("normalize = ", "haze = "))]
assert len(lines) < len(mon.split("\n")), mon
st["settings_ini"] = head + "\n[monitor]\n" + "\n".join(lines)
json.dump(st, open(p, "w"))
PY
run_canopy monitor --state "$S" --confirm 1 -q "$G/after.tif" "$G/after_mask.tif"
if [ "$RC" -eq 0 ] && [[ "$OUT_TXT" == *'"corrections_off":'* ]]; then
    pass "monitor norm: a state made before the corrections still runs, and says so"
else
    fail "monitor norm: old state: exit $RC $ERR_TXT $OUT_TXT"
fi
check "monitor norm: ... raw, as it ran: the alerts of --normalize off --haze off" \
    test "$(rows "$S/alerts.gpkg")" = "$(rows "$TMP/m-radiometry-off/alerts.gpkg")"
