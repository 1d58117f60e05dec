#!/bin/bash
# Relative normalisation ([detect] normalize, docs/method.md): dNDVI measured
# against the change of stable forest around each pixel. On generated scenes
# where the raw rule reports false loss (another sensor's gains and an aerosol
# gradient; a dry-season AFTER), the raw rule must fail and the normalised one
# must pass, with every clearing still found.
source "$(dirname "$0")/lib.sh"

EVAL="$ROOT/scripts/eval-truth.py"
score() {   # OUTDIR TRUTH_DIR -> one JSON line
    $PY "$EVAL" "$1" "$2" --json
}
field() {   # JSON KEY
    $PY -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"
}

for sc in radiometry phenology; do
    P="$TMP/$sc"
    synth "$P" --size 400x400 --seed 1 --scenario "$sc" || { fail "normalize: generator ($sc)"; continue; }
    detect_pair "$P" "$TMP/$sc-off" --normalize off
    [ "$RC" -eq 0 ] || { fail "normalize: $sc, off ($RC: $ERR_TXT)"; continue; }
    detect_pair "$P" "$TMP/$sc-local"
    [ "$RC" -eq 0 ] || { fail "normalize: $sc, default ($RC: $ERR_TXT)"; continue; }
    off=$(score "$TMP/$sc-off" "$P") && on=$(score "$TMP/$sc-local" "$P") ||
        { fail "normalize: scoring $sc"; continue; }
    foff=$(field "$off" false_ha) fon=$(field "$on" false_ha)
    roff=$(field "$off" recall_count) ron=$(field "$on" recall_count)
    # The raw rule's failure is part of the test: a scene that does not show
    # the phenomenon proves nothing.
    $PY -c "import sys; sys.exit(not float(sys.argv[1]) > 5)" "$foff" &&
        pass "normalize: $sc: the raw rule reports $foff ha of false loss" ||
        fail "normalize: $sc: the raw rule should fail here (false $foff ha)"
    $PY -c "import sys; sys.exit(not float(sys.argv[1]) == 0)" "$fon" &&
        [ "$ron" = "$roff" ] && [ "${ron%/*}" = "${ron#*/}" ] &&
        pass "normalize: $sc: normalised, no false loss and every clearing ($ron)" ||
        fail "normalize: $sc: normalised false $fon ha, clearings $ron (raw $roff)"
done

# run.json says what was subtracted where.
P="$TMP/radiometry"
check "normalize: run.json records the mode, the windows and the correction per block" \
    $PY - "$TMP/radiometry-local/run.json" "$TMP/radiometry-off/run.json" <<'PY'
import json, sys
on, off = (json.load(open(p)) for p in sys.argv[1:3])
n = on["normalization"]
assert on["settings"]["normalize"] == "local" and n["mode"] == "local", n["mode"]
assert n["cell_px"] == 32 and n["radius_cells"] >= 1 and n["wide_cells"] >= n["radius_cells"]
assert sum(n["cells_by_level"]) == n["cells"] > 0
blocks = n["blocks"]
assert blocks and sum(b["w"] * b["h"] for b in blocks) == on["grid"]["window"][2] * on["grid"]["window"][3]
assert all(n["min_correction"] - 1e-4 <= b["correction"] <= n["max_correction"] + 1e-4 for b in blocks)
# The scenario's AFTER has lower gains: forest NDVI drops, the correction is negative.
assert n["median_correction"] < -0.01, n["median_correction"]
assert off["normalization"] == {"mode": "off"}, off["normalization"]
PY

# Any thread count and any tiling of the files: the same alerts.
detect_pair "$P" "$TMP/t1" --threads 1
a1=$RC
detect_pair "$P" "$TMP/t3" --threads 3
[ "$a1" -eq 0 ] && [ "$RC" -eq 0 ] && cmp -s "$TMP/t1/alerts.gpkg" "$TMP/t3/alerts.gpkg" &&
    cmp -s "$TMP/t1/alerts.geojson" "$TMP/radiometry-local/alerts.geojson" &&
    pass "normalize: byte-identical alerts with 1, 3 and all threads" ||
    fail "normalize: alerts differ between thread counts"
synth "$TMP/tiled" --size 400x400 --seed 1 --scenario radiometry --tile 48 ||
    fail "normalize: generator (tile 48)"
detect_pair "$TMP/tiled" "$TMP/tiled-out"
[ "$RC" -eq 0 ] && cmp -s "$TMP/tiled-out/alerts.geojson" "$TMP/radiometry-local/alerts.geojson" &&
    pass "normalize: the same alerts from files cut into other blocks" ||
    fail "normalize: alerts depend on the files' blocks ($RC: $ERR_TXT)"

# Scene mode: one correction everywhere.
detect_pair "$P" "$TMP/scene" --normalize scene
check "normalize: scene mode applies one correction" $PY - "$TMP/scene/run.json" <<'PY'
import json, sys
n = json.load(open(sys.argv[1]))["normalization"]
assert n["mode"] == "scene" and n["min_correction"] == n["max_correction"], n
PY

# The spill file is gone after the run, and a TMPDIR that cannot take it is a
# clear error, not a crash.
mkdir -p "$TMP/spill"
TMPDIR="$TMP/spill" detect_pair "$P" "$TMP/spill-out"
[ "$RC" -eq 0 ] && [ -z "$(ls -A "$TMP/spill")" ] &&
    pass "normalize: nothing is left in TMPDIR" || fail "normalize: TMPDIR after the run: $(ls -A "$TMP/spill")"
TMPDIR="$TMP/no-such-folder" detect_pair "$P" "$TMP/nospill"
[ "$RC" -eq 1 ] && grep -q "spill file" <<<"$ERR_TXT" && [ ! -e "$TMP/nospill" ] &&
    pass "normalize: an unusable TMPDIR: one message, exit 1, no output" ||
    fail "normalize: unusable TMPDIR ($RC: $ERR_TXT)"

run_canopy detect "$P/before.tif" "$P/after.tif" -o "$TMP/bad" --normalize median
[ "$RC" -eq 2 ] && grep -q "normalize" <<<"$ERR_TXT" &&
    pass "normalize: an unknown mode is a usage error naming it" ||
    fail "normalize: --normalize median ($RC: $ERR_TXT)"

