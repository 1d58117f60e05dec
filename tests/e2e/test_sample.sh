#!/bin/bash
# End to end on generated pairs: every planted clearing above the minimum area
# found as one polygon (area within 1 %, centroid within half a pixel), nothing
# on ploughed pasture, slight degradation, cloud, shadow, small clearings or
# the seasonal shift; zero alerts still writes every file.
source "$(dirname "$0")/lib.sh"

P="$TMP/sample"
synth "$P" --size 400x400 --seed 1 --scenario sample || { fail "sample: generator"; exit 0; }
detect_pair "$P" "$TMP/out"
if [ "$RC" -ne 0 ]; then fail "sample: canopy detect ($RC: $ERR_TXT)"; exit 0; fi
pass "sample: canopy detect succeeds"
for f in alerts.gpkg alerts.geojson overview.png run.json; do
    [ -s "$TMP/out/$f" ] || fail "sample: $f written"
done
[ -z "$(ls -A "$TMP/out" | grep -v -x -e alerts.gpkg -e alerts.geojson -e alerts.csv -e alerts.kmz \
        -e overview.png -e overview.pgw -e overview.png.aux.xml -e report.html -e report.pdf \
        -e evidence -e run.json -e SHA256SUMS)" ] \
    && pass "sample: no temporary files left in OUTDIR" || fail "sample: stray files $(ls -A "$TMP/out")"
$PY "$ROOT/tests/e2e/check_alerts.py" "$TMP/out" "$P" sample

# Truth raster equality: alerts rasterized back equal truth_loss.tif pixel for pixel.
gdal_rasterize -q -burn 1 -ot Byte -init 0 -te $(gdalinfo "$P/before.tif" | $PY -c '
import sys,re
t=sys.stdin.read()
ul=re.search(r"Upper Left\s+\(\s*([-\d.]+),\s*([-\d.]+)\)",t); lr=re.search(r"Lower Right\s+\(\s*([-\d.]+),\s*([-\d.]+)\)",t)
print(ul.group(1), lr.group(2), lr.group(1), ul.group(2))') -ts 400 400 -l alerts "$TMP/out/alerts.gpkg" "$TMP/raster.tif"
check "sample: rasterized alerts equal the truth mask" $PY - "$TMP/raster.tif" "$P/truth_loss.tif" <<'PY'
import sys
from osgeo import gdal
a = gdal.Open(sys.argv[1]).ReadAsArray(); b = gdal.Open(sys.argv[2]).ReadAsArray()
d = int((a != b).sum())
print("differing pixels:", d); sys.exit(d != 0)
PY

# 4-connectivity splits corner-touching clearings; the run still succeeds.
detect_pair "$P" "$TMP/out4" --connectivity 4
[ "$RC" -eq 0 ] && n8=$($PY -c "import json;print(json.load(open('$TMP/out/run.json'))['counts']['loss_components'])") \
    && n4=$($PY -c "import json;print(json.load(open('$TMP/out4/run.json'))['counts']['loss_components'])") \
    && [ "$n4" -gt "$n8" ] && pass "sample: 4-connectivity gives more components ($n4 > $n8)" \
    || fail "sample: 4-connectivity ($RC $ERR_TXT)"

# A scene against itself: zero alerts, every file still written.
run_canopy detect "$P/before.tif" "$P/before.tif" -o "$TMP/self" -q
n=$($PY -c "import json;print(json.load(open('$TMP/self/run.json'))['counts']['alerts'])" 2>/dev/null)
[ "$RC" -eq 0 ] && [ "$n" = 0 ] && [ -s "$TMP/self/alerts.gpkg" ] && [ -s "$TMP/self/alerts.geojson" ] \
    && [ -s "$TMP/self/overview.png" ] && pass "sample: self-pair gives zero alerts and every file" \
    || fail "sample: self-pair ($RC, $n alerts: $ERR_TXT)"
check "sample: zero-alert geojson is a valid empty FeatureCollection" $PY -c "
import json; d=json.load(open('$TMP/self/alerts.geojson')); assert d['type']=='FeatureCollection' and d['features']==[]"

# Dates come from ACQUISITION_DATE; options fill in for rasters without one.
check "sample: dates from raster metadata" $PY -c "
import json; f=json.load(open('$TMP/out/alerts.geojson'))['features'][0]['properties']
assert f['date_before']=='2024-06-15' and f['date_after']=='2024-08-20', f"

# overview.png: a real PNG, longest side <= 2048, alerts drawn in yellow.
check "sample: overview.png is a PNG with alert outlines" $PY - "$TMP/out/overview.png" <<'PY'
import sys
from osgeo import gdal
ds = gdal.Open(sys.argv[1]); assert ds.GetDriver().ShortName == "PNG"
assert max(ds.RasterXSize, ds.RasterYSize) <= 2048 and ds.RasterCount == 3
r, g, b = (ds.GetRasterBand(i + 1).ReadAsArray() for i in range(3))
yellow = ((r == 255) & (g == 230) & (b == 0)).sum()
assert yellow > 50, yellow
PY

# The bundled sample is exactly what the generator makes (nothing hand-edited).
"$SYNTH" -o "$TMP/regen" --size 400x400 --seed 1 --scenario sample >/dev/null 2>&1
ok=1
for f in before.tif after.tif before_mask.tif after_mask.tif truth.csv truth_loss.tif; do
    cmp -s "$TMP/regen/$f" "$ROOT/samples/pair/$f" || { ok=0; echo "    differs: $f"; }
done
[ $ok = 1 ] && pass "sample: samples/pair is reproduced byte for byte by the generator" \
    || fail "sample: samples/pair differs from a fresh generator run"
