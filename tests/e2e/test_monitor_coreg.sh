#!/bin/bash
# tests/e2e/test_monitor_coreg.sh - canopy monitor co-registers each new
# scene on its footprint's baseline by detect's code ([coreg],
# core/cnp_coreg_scene.h, pipeline/monitor/cnp_monitor_coreg.c). On the
# misregistration pair (AFTER shifted by one pixel), a two-scene monitor run
# measures the shift detect measures and, corrected or not, gives detect's
# alerts; a shift beyond max_shift makes the scene one failed input (exit 4)
# and leaves its footprint's state as it was; mode check only records it.
source "$(dirname "$0")/lib.sh"

M="$TMP/mis"
synth "$M" --size 400x400 --seed 1 --scenario misregistration --shift 1,0 ||
    { fail "monitor coreg: generator"; exit 0; }
mon() { local state=$1; shift; run_canopy monitor --state "$state" --confirm 1 -q "$@" "$M/before.tif" "$M/after.tif"; }
rows() { $PY - "$1" <<'PY'
import sys
from osgeo import ogr
ds = ogr.Open(sys.argv[1])   # kept open while its features are read
print(sorted(round(f["area_ha"], 4) for f in ds.GetLayer("alerts")))
PY
}

for mode in auto off; do
    mon "$TMP/m-$mode" --coreg $mode
    [ "$RC" -eq 0 ] || { fail "monitor coreg: --coreg $mode (exit $RC: $ERR_TXT)"; continue; }
    cp "$TMP/stdout" "$TMP/log-$mode"
    detect_pair "$M" "$TMP/d-$mode" --no-evidence --coreg $mode
    [ "$RC" -eq 0 ] || { fail "monitor coreg: detect --coreg $mode (exit $RC)"; continue; }
    check "monitor coreg: --coreg $mode: the alerts detect finds on the pair" \
        test "$(rows "$TMP/m-$mode/alerts.gpkg")" = "$(rows "$TMP/d-$mode/alerts.gpkg")"
done
check "monitor coreg: the shift detect measures, corrected, in the log line (and fewer alerts than uncorrected)" \
    $PY - "$TMP/log-auto" "$TMP/d-auto/run.json" "$TMP/m-auto/alerts.gpkg" "$TMP/m-off/alerts.gpkg" <<'PY'
import json, re, sys
from osgeo import ogr
line = json.load(open(sys.argv[1]))
c = json.load(open(sys.argv[2]))["coregistration"]
[e] = line["coregistration"]
assert e["input"] == "after" and e["coregistration"].endswith(": corrected"), e
dx, dy = map(float, re.match(r"shifted by (-?[0-9.]+), (-?[0-9.]+) px", e["coregistration"]).groups())
assert abs(dx - c["dx"]) < 0.006 and abs(dy - c["dy"]) < 0.006 and abs(dx - 1) < 0.1, (e, c)
ds = [ogr.Open(p) for p in sys.argv[3:5]]   # kept open while their layers are read
n = [d.GetLayer("alerts").GetFeatureCount() for d in ds]
assert n[0] < n[1], n
PY

# Beyond max_shift: refused in mode auto, the footprint keeps its first scene.
mon "$TMP/m-far" --coreg-max-shift 0.5
if [ "$RC" -eq 4 ] && $PY - "$TMP/stdout" "$TMP/m-far" <<'PY'
import glob, json, sys
line = json.load(open(sys.argv[1]))
[f] = line["failures"]
assert f["input"] == "after" and "the scene is shifted by" in f["reason"] and "max_shift" in f["reason"], f
st = json.load(open(glob.glob(sys.argv[2] + "/state/g*/state.json")[0]))
[fp] = st["footprints"]
assert fp["last_scene"] == "before" and not fp["alerts"], fp
PY
then
    pass "monitor coreg: a shift beyond max_shift: the scene failed (exit 4), its footprint as it was"
else
    fail "monitor coreg: beyond max_shift: exit $RC, $OUT_TXT $ERR_TXT"
fi
mon "$TMP/m-check" --coreg check --coreg-max-shift 0.5
check "monitor coreg: --coreg check: the shift is recorded, not corrected, the alerts are uncorrected ones" \
    $PY - "$TMP/stdout" "$RC" "$(rows "$TMP/m-check/alerts.gpkg")" "$(rows "$TMP/m-off/alerts.gpkg")" <<'PY'
import json, sys
line = json.load(open(sys.argv[1]))
assert sys.argv[2] == "0" and sys.argv[3] == sys.argv[4], sys.argv[2:]
[e] = line["coregistration"]
assert "beyond max_shift, not corrected" in e["coregistration"], e
PY

# An unshifted pair measures a few thousandths of a pixel, either sign: the
# log says 0.00, never -0.00.
Z="$TMP/zero"
synth "$Z" --size 400x400 --seed 1 --scenario misregistration --shift 0,0 ||
    fail "monitor coreg: generator (0,0)"
run_canopy monitor --state "$TMP/m-zero" --confirm 1 -q "$Z/before.tif" "$Z/after.tif"
[ "$RC" -eq 0 ] && $PY - "$TMP/stdout" <<'PY' &&
import json, sys
[e] = json.load(open(sys.argv[1]))["coregistration"]
assert e["coregistration"].startswith("shifted by 0.00, 0.00 px") and "left as it is" in e["coregistration"], e
PY
    pass "monitor coreg: an unshifted pair is logged as shifted by 0.00, 0.00 px, left as it is" ||
    fail "monitor coreg: unshifted pair ($RC: $(cat "$TMP/stdout"))"
