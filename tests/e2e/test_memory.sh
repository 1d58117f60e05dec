#!/bin/bash
# --max-memory: the run respects the cap (fewer workers, smaller GDAL cache),
# reports it in run.json, and refuses clearly when it cannot fit.
source "$(dirname "$0")/lib.sh"

P="$TMP/pair"
synth "$P" --size 1200x900 --seed 4 --scenario sample --tile 256 || { fail "memory: generator"; exit 0; }
detect_pair "$P" "$TMP/capped" --max-memory 120 --threads 2
# Sanitizer builds carry shadow memory the plan cannot know about: there only
# the plan is checked against the cap, elsewhere the measured peak too.
sanitized=0
case "${BIN:-bin}" in *asan*) sanitized=1;; esac
check "memory: --max-memory 120 is respected and recorded in run.json" $PY - "$TMP/capped/run.json" "$sanitized" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["memory"]
print(m)
assert m["max_memory_mb"] == 120 and m["planned_mb"] <= 120
assert sys.argv[2] == "1" or m["peak_rss_mb"] <= 120
PY
detect_pair "$P" "$TMP/free"
cmp -s "$TMP/capped/alerts.geojson" "$TMP/free/alerts.geojson" \
    && pass "memory: the cap does not change the alerts" || fail "memory: capped alerts differ"
detect_pair "$P" "$TMP/tiny" --max-memory 64 --overview-size 2048
[ "$RC" -eq 1 ] && grep -q "max-memory 64 MB is too small" <<<"$ERR_TXT" && [ ! -e "$TMP/tiny" ] \
    && pass "memory: an impossible cap is a clear error" || fail "memory: impossible cap ($RC: $ERR_TXT)"
run_canopy detect a.tif b.tif -o "$TMP/x" --max-memory lots
[ "$RC" -eq 2 ] && pass "memory: a bad --max-memory value is a usage error" || fail "memory: bad value ($RC)"

# ---- pathological loss: the cap holds, or the run stops early saying what to change ----
# A one-pixel checkerboard of loss is one alert of 80,000 parts (GDAL's GeoJSON
# writer would hold about 400 MB for it); a scene that is all loss is one alert
# whose outline is traced over the scene's whole box.
PATHO="$TMP/patho"
mkdir -p "$PATHO"
$PY - "$PATHO" <<'PY'
import sys
import numpy as np
from osgeo import gdal, osr
d = sys.argv[1]
def write(path, red, nir, date):
    h, w = red.shape
    ds = gdal.GetDriverByName("GTiff").Create(path, w, h, 4, gdal.GDT_UInt16,
                                              ["TILED=YES", "COMPRESS=DEFLATE"])
    ds.SetGeoTransform([600000, 10, 0, 8900000, 0, -10])
    s = osr.SpatialReference(); s.ImportFromEPSG(32721)
    ds.SetProjection(s.ExportToWkt())
    for b, a in zip([1, 2, 3, 4], [red // 2, red, red, nir]):
        ds.GetRasterBand(b).WriteArray(a)
    ds.SetMetadataItem("ACQUISITION_DATE", date)
for n, name in ((400, "chk"), (1500, "all")):
    red = np.full((n, n), 300, np.uint16); nir = np.full((n, n), 3000, np.uint16)
    write("%s/%s_before.tif" % (d, name), red, nir, "2024-01-01")
    loss = ((np.add.outer(np.arange(n), np.arange(n)) % 2) == 0) if name == "chk" else \
        np.ones((n, n), bool)
    red[loss] = 1500; nir[loss] = 1800
    write("%s/%s_after.tif" % (d, name), red, nir, "2024-06-01")
PY
peak_within() {   # OUTDIR CAP: run.json's peak RSS is within the cap
    [ "$sanitized" = 1 ] && return 0
    $PY -c 'import json,sys; m=json.load(open(sys.argv[1]))["memory"]; sys.exit(0 if m["peak_rss_mb"] <= float(sys.argv[2]) else 1)' "$1/run.json" "$2"
}
run_canopy detect "$PATHO/chk_before.tif" "$PATHO/chk_after.tif" -o "$TMP/chk-all" -q \
    --min-area 0.01 --max-memory 256
[ "$RC" -eq 1 ] && grep -q "GeoJSON writer needs about" <<<"$ERR_TXT" && grep -q -- "--outputs" <<<"$ERR_TXT" &&
    [ ! -e "$TMP/chk-all" ] \
    && pass "memory: a checkerboard of loss under --max-memory 256 stops before writing, saying what to change" \
    || fail "memory: checkerboard, all outputs (exit $RC: $ERR_TXT)"
run_canopy detect "$PATHO/chk_before.tif" "$PATHO/chk_after.tif" -o "$TMP/chk-gpkg" -q \
    --min-area 0.01 --max-memory 256 --outputs gpkg,csv,overview --no-evidence
[ "$RC" -eq 0 ] && peak_within "$TMP/chk-gpkg" 256 \
    && pass "memory: the checkerboard without GeoJSON runs within --max-memory 256" \
    || fail "memory: checkerboard without GeoJSON (exit $RC: $ERR_TXT)"
run_canopy detect "$PATHO/all_before.tif" "$PATHO/all_after.tif" -o "$TMP/all-small" -q \
    --no-evidence --max-memory 120
[ "$RC" -eq 1 ] && grep -q "tracing its outline needs" <<<"$ERR_TXT" && [ ! -e "$TMP/all-small" ] \
    && pass "memory: an alert whose outline cannot be traced within the cap is refused early" \
    || fail "memory: whole-scene alert under 120 MB (exit $RC: $ERR_TXT)"
run_canopy detect "$PATHO/all_before.tif" "$PATHO/all_after.tif" -o "$TMP/all-fit" -q \
    --no-evidence --max-memory 200
[ "$RC" -eq 0 ] && peak_within "$TMP/all-fit" 200 \
    && pass "memory: a whole-scene alert is traced within --max-memory 200" \
    || fail "memory: whole-scene alert under 200 MB (exit $RC: $ERR_TXT)"
