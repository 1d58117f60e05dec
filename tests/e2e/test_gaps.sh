#!/bin/bash
# The minimum area across unobserved gaps ([detect] bridge_gap_m,
# kernels/cnp_gaps.h): Landsat 7 SLC-off stripes cut clearings into pieces
# each below 0.5 ha. Pieces apart by a short straight gap are one alert,
# marked partially_observed; without the bridge each piece is dropped.
source "$(dirname "$0")/lib.sh"

EVAL="$ROOT/scripts/eval-truth.py"
field() { $PY -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

G="$TMP/gaps"
synth "$G" --size 400x400 --seed 1 --scenario slc_gaps || { fail "gaps: generator"; exit 0; }
detect_pair "$G" "$TMP/off" --bridge-gap 0
[ "$RC" -eq 0 ] || { fail "gaps: --bridge-gap 0 ($RC: $ERR_TXT)"; exit 0; }
detect_pair "$G" "$TMP/on"
[ "$RC" -eq 0 ] || { fail "gaps: default ($RC: $ERR_TXT)"; exit 0; }
a=$($PY "$EVAL" "$TMP/off" "$G" --json) && b=$($PY "$EVAL" "$TMP/on" "$G" --json) ||
    { fail "gaps: scoring"; exit 0; }
ra=$(field "$a" recall_count) rb=$(field "$b" recall_count)
[ "${ra%/*}" -lt "${ra#*/}" ] &&
    pass "gaps: without the bridge the cut clearings are lost ($ra found)" ||
    fail "gaps: the stripes should defeat the plain minimum area ($a)"
[ "${rb%/*}" = "${rb#*/}" ] && [ "$(field "$b" false_ha)" = "0.0" ] &&
    pass "gaps: bridged, every clearing is found ($rb) and nothing false" ||
    fail "gaps: bridged: $b"

check "gaps: cut clearings are one alert each, partially observed; run.json says so" \
    $PY - "$TMP/on" "$TMP/off" <<'PY'
import csv, json, sys
from osgeo import ogr
on, off = sys.argv[1:3]
j = json.load(open(on + "/run.json"))
g = j["gaps"]
assert g["bridge_gap_m"] == 150 and g["bridge_gap_px"] == 15 and g["bridges"] > 0, g
assert j["settings"]["bridge_gap_m"] == 150
assert json.load(open(off + "/run.json"))["gaps"]["bridges"] == 0
ds = ogr.Open(on + "/alerts.gpkg")
lyr = ds.GetLayer(0)
parts, partial = [], 0
for f in lyr:
    parts.append(f.GetGeometryRef().GetGeometryCount())
    partial += f.GetField("partially_observed")
# every alert that was cut is a multipolygon of its observed pieces
assert sum(1 for p in parts if p > 1) >= 8, parts
assert partial == g["partially_observed_alerts"] >= 8, (partial, g)
rows = list(csv.DictReader(open(on + "/alerts.csv")))
assert sum(int(r["partially_observed"]) for r in rows) == partial
gj = json.load(open(on + "/alerts.geojson"))
assert sum(f["properties"]["partially_observed"] for f in gj["features"]) == partial
# the area of a bridged alert is its loss pixels' only: no gap counted
for r in rows:
    assert float(r["area_ha"]) < int(r["pixels"]) * 0.0101, r
PY

# Any thread count and any tiling: the same alerts.
detect_pair "$G" "$TMP/t1" --threads 1
[ "$RC" -eq 0 ] && cmp -s "$TMP/t1/alerts.gpkg" "$TMP/on/alerts.gpkg" &&
    pass "gaps: byte-identical alerts with 1 and all threads" || fail "gaps: threads differ"
G64="$TMP/gaps64"
synth "$G64" --size 400x400 --seed 1 --scenario slc_gaps --tile 48 ||
    fail "gaps: generator (tile 48)"
detect_pair "$G64" "$TMP/t48"
[ "$RC" -eq 0 ] && cmp -s "$TMP/t48/alerts.csv" "$TMP/on/alerts.csv" &&
    pass "gaps: the same alerts on 48-pixel tiles (strip seams across the stripes)" ||
    fail "gaps: tiling changes the alerts"

# Bad value: a usage error naming the option.
run_canopy detect "$G/before.tif" "$G/after.tif" -o "$TMP/bad" --bridge-gap -5
[ "$RC" -eq 2 ] && grep -q "bridge_gap_m" <<< "$ERR_TXT" && [ ! -e "$TMP/bad" ] &&
    pass "gaps: --bridge-gap -5 is a usage error" || fail "gaps: --bridge-gap -5 ($RC: $ERR_TXT)"
