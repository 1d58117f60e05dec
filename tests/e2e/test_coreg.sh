#!/bin/bash
# Co-registration ([coreg], docs/method.md 3.2): AFTER shifted against
# BEFORE lights up every forest edge as loss. detect measures the shift by
# phase correlation, records it in run.json, resamples AFTER onto BEFORE up to
# [coreg] max_shift (2 px) and refuses beyond it (exit 1, nothing written);
# an unshifted pair is left exactly as it was.
source "$(dirname "$0")/lib.sh"

EVAL="$ROOT/scripts/eval-truth.py"
field() { $PY -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
# coreg RUN_JSON KEY: a field of run.json's "coregistration".
coreg() { $PY -c "import json,sys; print(json.load(open(sys.argv[1]))['coregistration'][sys.argv[2]])" "$1" "$2"; }
# near A B [TOL]: |A - B| <= TOL (0.1 px)
near() { $PY -c "import sys; sys.exit(not abs(float(sys.argv[1]) - float(sys.argv[2])) <= float(sys.argv[3]))" "$1" "$2" "${3:-0.1}"; }

# shifted NAME SYNTH_SHIFT ROLL_DX ROLL_DY DX DY GAIN: the misregistration
# scene with AFTER shifted by (DX, DY): canopy-synth's shift, then whole
# pixels. GAIN: what the correction must show, "false" (false alerts on
# edges mostly gone) or "recall" (clearings cut by the shift found whole).
shifted() {
    local name=$1 sh=$2 rx=$3 ry=$4 dx=$5 dy=$6 gain=$7 d="$TMP/$1"
    synth "$d" --size 400x400 --seed 1 --scenario misregistration --shift "$sh" ||
        { fail "coreg $name: generator"; return 1; }
    if [ "$rx" != 0 ] || [ "$ry" != 0 ]; then
        $PY "$ROOT/tests/e2e/roll_after.py" "$d" "$rx" "$ry" || { fail "coreg $name: roll"; return 1; }
    fi
    detect_pair "$d" "$TMP/$name-off" --coreg off --no-evidence
    [ "$RC" -eq 0 ] || { fail "coreg $name: --coreg off ($RC: $ERR_TXT)"; return 1; }
    detect_pair "$d" "$TMP/$name-on" --no-evidence
    [ "$RC" -eq 0 ] || { fail "coreg $name: default ($RC: $ERR_TXT)"; return 1; }
    local j="$TMP/$name-on/run.json"
    near "$(coreg "$j" dx)" "$dx" && near "$(coreg "$j" dy)" "$dy" &&
        [ "$(coreg "$j" ok)" = True ] && [ "$(coreg "$j" applied)" = True ] &&
        pass "coreg $name: measured $(coreg "$j" dx), $(coreg "$j" dy) (within 0.1 px) and corrected" ||
        fail "coreg $name: run.json $($PY -c "import json,sys; print(json.load(open(sys.argv[1]))['coregistration'])" "$j")"
    local a b
    a=$($PY "$EVAL" "$TMP/$name-off" "$d" --json) && b=$($PY "$EVAL" "$TMP/$name-on" "$d" --json) ||
        { fail "coreg $name: scoring"; return 1; }
    $PY - "$a" "$b" "$gain" <<'PY' && pass "coreg $name: false alerts on edges $(field "$a" false_ha) ha -> $(field "$b" false_ha) ha, recall $(field "$a" recall_area) -> $(field "$b" recall_area)" || fail "coreg $name: off $a, on $b"
import json, sys
off, on = (json.loads(x) for x in sys.argv[1:3])
assert on["false_ha"] <= off["false_ha"], (off, on)
assert on["recall_area"] >= off["recall_area"] - 0.01, (off, on)
if sys.argv[3] == "false":     # the raw rule fails on edges, the corrected one not
    assert off["false_ha"] > 0.5 and on["false_ha"] < 0.25 * off["false_ha"], (off, on)
else:                          # clearings cut by the shift come back whole
    assert on["recall_area"] >= off["recall_area"] + 0.05, (off, on)
PY
}

shifted s10 1,0 0 0 1 0 false
# canopy-synth shifts by 0..2 px: 0.5,1.5 moved up two rows is 0.5,-0.5.
shifted s05 0.5,1.5 0 -2 0.5 -0.5 recall

# Any thread count, and another tiling of the same pixels: the same alerts.
detect_pair "$TMP/s10" "$TMP/s10-t1" --threads 1 --no-evidence
[ "$RC" -eq 0 ] && cmp -s "$TMP/s10-t1/alerts.geojson" "$TMP/s10-on/alerts.geojson" &&
    pass "coreg: a corrected pair gives byte-identical alerts with 1 and all threads" ||
    fail "coreg: threads differ ($RC: $ERR_TXT)"
synth "$TMP/s10-tile64" --size 400x400 --seed 1 --scenario misregistration --shift 1,0 --tile 64 &&
    detect_pair "$TMP/s10-tile64" "$TMP/s10-t64" --no-evidence
[ "$RC" -eq 0 ] && cmp -s "$TMP/s10-t64/alerts.geojson" "$TMP/s10-on/alerts.geojson" &&
    pass "coreg: the same alerts from 64 px and 128 px tiles" ||
    fail "coreg: tiling changes the alerts ($RC: $ERR_TXT)"

# Unshifted: ~0 measured, nothing resampled, alerts as without co-registration.
Z="$TMP/zero"
synth "$Z" --size 400x400 --seed 1 --scenario misregistration --shift 0,0 || fail "coreg: generator (0,0)"
detect_pair "$Z" "$TMP/zero-on" --no-evidence
r1=$RC
detect_pair "$Z" "$TMP/zero-off" --coreg off --no-evidence
[ "$r1" -eq 0 ] && [ "$RC" -eq 0 ] && near "$(coreg "$TMP/zero-on/run.json" dx)" 0 &&
    near "$(coreg "$TMP/zero-on/run.json" dy)" 0 &&
    [ "$(coreg "$TMP/zero-on/run.json" applied)" = False ] &&
    cmp -s "$TMP/zero-on/alerts.geojson" "$TMP/zero-off/alerts.geojson" &&
    cmp -s "$TMP/zero-on/alerts.gpkg" "$TMP/zero-off/alerts.gpkg" &&
    pass "coreg: an unshifted pair measures ~0, is not resampled, alerts byte-identical" ||
    fail "coreg: unshifted pair ($r1/$RC)"
[ "$(coreg "$TMP/zero-off/run.json" measured)" = False ] &&
    [ "$($PY -c "import json,sys; print(json.load(open(sys.argv[1]))['settings']['coreg'])" "$TMP/zero-off/run.json")" = off ] &&
    pass "coreg: --coreg off measures nothing, and run.json says so" ||
    fail "coreg: --coreg off in run.json"

# 5 px: beyond the limit. Refused, exit 1, one clear message, no OUTDIR.
F="$TMP/five"
synth "$F" --size 400x400 --seed 1 --scenario misregistration --shift 0,0 &&
    $PY "$ROOT/tests/e2e/roll_after.py" "$F" 5 0 || fail "coreg: generator (5,0)"
detect_pair "$F" "$TMP/five-out"
[ "$RC" -eq 1 ] && [ ! -e "$TMP/five-out" ] && [[ "$ERR_TXT" == *"shifted by "[45].*"max_shift"* ]] &&
    [ "$(printf '%s\n' "$ERR_TXT" | grep -c .)" -eq 1 ] &&
    pass "coreg: a 5 px shift is refused (exit 1, nothing written): $ERR_TXT" ||
    fail "coreg: 5 px shift: exit $RC, $(ls "$TMP" | grep five-out), $ERR_TXT"
detect_pair "$F" "$TMP/five-check" --coreg check --no-evidence
[ "$RC" -eq 0 ] && [ "$(coreg "$TMP/five-check/run.json" applied)" = False ] &&
    [[ "$ERR_TXT" == *"more than [coreg] max_shift"* ]] &&
    pass "coreg: --coreg check runs it anyway, with a warning, uncorrected" ||
    fail "coreg: --coreg check ($RC: $ERR_TXT)"
detect_pair "$F" "$TMP/five-max" --coreg-max-shift 6 --no-evidence
[ "$RC" -eq 0 ] && near "$(coreg "$TMP/five-max/run.json" dx)" 5 0.25 &&
    [ "$(coreg "$TMP/five-max/run.json" applied)" = True ] &&
    pass "coreg: --coreg-max-shift 6 corrects it" || fail "coreg: --coreg-max-shift 6 ($RC: $ERR_TXT)"

# --json and the report say what was measured and done.
run_canopy detect "$TMP/s10/before.tif" "$TMP/s10/after.tif" --before-mask "$TMP/s10/before_mask.tif" \
    --after-mask "$TMP/s10/after_mask.tif" -o "$TMP/s10-json" --json
[ "$RC" -eq 0 ] && $PY -c "
import json, sys
c = json.loads(sys.argv[1])['coregistration']
sys.exit(not (c['applied'] is True and abs(c['dx'] - 1) <= 0.1))" "$OUT_TXT" &&
    grep -q "AFTER was shifted against BEFORE by 0.99, 0.00 pixels" "$TMP/s10-json/report.html" &&
    pass "coreg: --json and report.html give the shift and the correction" ||
    fail "coreg: --json / report ($RC: $ERR_TXT)"

# 40 px: beyond what 64 px blocks can find; the blocks disagree, the estimate
# is not ok: a warning, run.json says why, nothing is corrected or refused.
X="$TMP/forty"
synth "$X" --size 400x400 --seed 1 --scenario misregistration --shift 0,0 &&
    $PY "$ROOT/tests/e2e/roll_after.py" "$X" 40 0 || fail "coreg: generator (40,0)"
detect_pair "$X" "$TMP/forty-out" --no-evidence
[ "$RC" -eq 0 ] && [ "$(coreg "$TMP/forty-out/run.json" ok)" = False ] &&
    [ "$(coreg "$TMP/forty-out/run.json" applied)" = False ] &&
    [[ "$(coreg "$TMP/forty-out/run.json" why_not)" == "too few textured blocks agree"* ]] &&
    [[ "$ERR_TXT" == *"co-registration: the shift between the dates could not be measured"* ]] &&
    pass "coreg: an estimate that is not ok gives a warning and no correction" ||
    fail "coreg: 40 px ($RC: $ERR_TXT; $(coreg "$TMP/forty-out/run.json" used 2>&1))"

# Baselines are put on BEFORE too: the change is measured from them. A copy
# of BEFORE moved by (1, 1) px as the baseline: measured, corrected, and the
# alerts are those of the unmoved copy; without correction they are not. A
# baseline moved beyond the limit is refused as AFTER would be.
BL="$TMP/bl"
mkdir -p "$BL/b0" "$BL/b1" "$BL/b4"
for k in b0 b1 b4; do
    cp "$Z/before.tif" "$BL/$k/after.tif" && cp "$Z/before_mask.tif" "$BL/$k/after_mask.tif" ||
        fail "coreg baseline: copy $k"
done
$PY "$ROOT/tests/e2e/roll_after.py" "$BL/b1" 1 1 && $PY "$ROOT/tests/e2e/roll_after.py" "$BL/b4" 4 -3 ||
    fail "coreg baseline: roll"
bl_run() {   # BASELINE_DIR OUTDIR [ARGS...]
    local b=$1 o=$2
    shift 2
    detect_pair "$Z" "$o" --baseline "$b/after.tif" --baseline-mask "$b/after_mask.tif" \
        --no-evidence "$@"
}
blc() { $PY -c "import json,sys; print(json.load(open(sys.argv[1]))['coregistration']['baselines'][0][sys.argv[2]])" "$1" "$2"; }
bl_run "$BL/b0" "$TMP/bl-zero"
r0=$RC
bl_run "$BL/b1" "$TMP/bl-on"
r1=$RC
bl_run "$BL/b1" "$TMP/bl-off" --coreg off
[ "$r0" -eq 0 ] && [ "$r1" -eq 0 ] && [ "$RC" -eq 0 ] &&
    near "$(blc "$TMP/bl-on/run.json" dx)" 1 && near "$(blc "$TMP/bl-on/run.json" dy)" 1 &&
    [ "$(blc "$TMP/bl-on/run.json" applied)" = True ] &&
    [ "$(blc "$TMP/bl-on/run.json" role)" = "BASELINE 1" ] &&
    [ "$(coreg "$TMP/bl-on/run.json" applied)" = False ] &&
    cmp -s "$TMP/bl-on/alerts.geojson" "$TMP/bl-zero/alerts.geojson" &&
    ! cmp -s "$TMP/bl-off/alerts.geojson" "$TMP/bl-zero/alerts.geojson" &&
    pass "coreg: a baseline moved by 1, 1 px is measured and corrected: the alerts of the unmoved one" ||
    fail "coreg: baseline (1, 1): $r0/$r1/$RC, $($PY -c "import json,sys; print(json.load(open(sys.argv[1]))['coregistration'])" "$TMP/bl-on/run.json" 2>&1)"
bl_run "$BL/b4" "$TMP/bl-far"
[ "$RC" -eq 1 ] && [ ! -e "$TMP/bl-far" ] && [[ "$ERR_TXT" == "canopy: BASELINE 1 is shifted by 4.00, -3.00"*"max_shift"* ]] &&
    pass "coreg: a baseline moved by 4, -3 px is refused (exit 1, nothing written)" ||
    fail "coreg: baseline (4, -3): exit $RC, $ERR_TXT"
bl_run "$BL/b4" "$TMP/bl-check" --coreg check
[ "$RC" -eq 0 ] && [ "$(blc "$TMP/bl-check/run.json" applied)" = False ] &&
    [[ "$ERR_TXT" == *"BASELINE 1 is shifted by 4.00, -3.00 pixels against BEFORE, more than"* ]] &&
    pass "coreg: --coreg check runs with a baseline beyond the limit, with a warning" ||
    fail "coreg: baseline --coreg check ($RC: $ERR_TXT)"
