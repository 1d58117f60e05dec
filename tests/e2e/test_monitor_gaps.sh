#!/bin/bash
# tests/e2e/test_monitor_gaps.sh - canopy monitor joins alert pieces across
# unobserved gaps by detect's rule ([detect] bridge_gap_m, kernels/cnp_gaps.h,
# pipeline/monitor/cnp_monitor_gaps.c). On the SLC-off pair (stripes cut
# clearings into pieces each under the minimum area), a two-scene monitor run
# (baseline, then the loss, --confirm 1) gives the alerts detect gives on the
# same pair, with and without the bridge: the same areas, the same
# partially_observed, in the database, new_alerts.geojson and the state.
source "$(dirname "$0")/lib.sh"

G="$TMP/gaps"
synth "$G" --size 400x400 --seed 1 --scenario slc_gaps || { fail "monitor gaps: generator"; exit 0; }
mon() { local state=$1; shift; run_canopy monitor --state "$state" --confirm 1 -q "$@" "$G/before.tif" "$G/after.tif"; }

for gap in 0 150; do
    mon "$TMP/m$gap" --bridge-gap $gap
    [ "$RC" -eq 0 ] || { fail "monitor gaps: --bridge-gap $gap (exit $RC: $ERR_TXT)"; continue; }
    detect_pair "$G" "$TMP/d$gap" --no-evidence --bridge-gap $gap
    [ "$RC" -eq 0 ] || { fail "monitor gaps: detect --bridge-gap $gap (exit $RC: $ERR_TXT)"; continue; }
    check "monitor gaps: --bridge-gap $gap: the alerts detect finds on the pair (areas, partially_observed)" \
        $PY - "$TMP/m$gap" "$TMP/d$gap" "$gap" <<'PY'
import glob, json, sys
from osgeo import ogr
m, d, gap = sys.argv[1], sys.argv[2], int(sys.argv[3])
def rows(path):
    ds = ogr.Open(path)   # kept open while its features are read
    return sorted((round(f["area_ha"], 4), int(f["partially_observed"]), f.GetGeometryRef().GetGeometryCount())
                  for f in ds.GetLayer("alerts"))
mine, theirs = rows(m + "/alerts.gpkg"), rows(d + "/alerts.gpkg")
assert mine == theirs, (mine, theirs)
partial = sum(r[1] for r in mine)
if gap:
    assert partial >= 8 and sum(1 for r in mine if r[2] > 1) >= 8, mine
gj = json.load(open(glob.glob(m + "/runs/*/new_alerts.geojson")[0]))
assert sum(f["properties"]["partially_observed"] for f in gj["features"]) == partial, gj["features"][0]
st = json.load(open(glob.glob(m + "/state/g*/state.json")[0]))
assert sum(a["partially_observed"] for fp in st["footprints"] for a in fp["alerts"]) == partial
print(len(mine), partial)
PY
done
check "monitor gaps: the bridge finds the clearings the stripes cut (more alerts than without)" \
    test "$(ogrinfo -ro -q -sql 'select count(*) as n from alerts' "$TMP/m150/alerts.gpkg" | sed -n 's/.*n (Integer) = //p')" \
    -gt "$(ogrinfo -ro -q -sql 'select count(*) as n from alerts' "$TMP/m0/alerts.gpkg" | sed -n 's/.*n (Integer) = //p')"

OMP_NUM_THREADS=1 mon "$TMP/m1" --threads 1
check "monitor gaps: the same database on 1 thread as on all" \
    cmp <($PY "$ROOT/tests/e2e/monitor_db.py" dump "$TMP/m150/alerts.gpkg") \
        <($PY "$ROOT/tests/e2e/monitor_db.py" dump "$TMP/m1/alerts.gpkg")
