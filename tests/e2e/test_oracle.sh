#!/bin/bash
# Oracle: GDAL's own tools on the same pair. gdal_calc.py computes the loss
# mask from the same formula; gdal_sieve.py (with -nomask: without it the sieve
# silently keeps small blobs surrounded by nodata) then gdal_polygonize.py give
# the alerts. Canopy must agree: same loss pixels, same components, same
# polygons with the same areas.
source "$(dirname "$0")/lib.sh"

P="$TMP/pair"
synth "$P" --size 400x400 --seed 3 --scenario sample || { fail "oracle: generator"; exit 0; }
# gdal_sieve.py also fills holes below the threshold (it merges every small
# region into its neighbour) while canopy keeps a forest island as a hole, so
# the minimum area here (35 px) is set below this pair's smallest island (45 px)
# and above its small clearings (28 px).
detect_pair "$P" "$TMP/out" --min-area 0.35 --normalize off
[ "$RC" -eq 0 ] || { fail "oracle: canopy detect ($RC: $ERR_TXT)"; exit 0; }

# The raw rule (--normalize off; normalisation has its own test): nodata 0, saturation at 65535, mask classes 0,1,3,8,9,10
# invalid, reflectance = DN * 1e-4, forest NDVI >= 0.65, loss dNDVI <= -0.25.
valid='(R!=0)&(N!=0)&(R<65535)&(N<65535)&~isin(M,[0,1,3,8,9,10])'
vb=${valid//R/A}; vb=${vb//N/B}; vb=${vb//M/E}
va=${valid//R/C}; va=${va//N/D}; va=${va//M/F}
calc="((vb:=$vb)&(va:=$va)&((nb:=(B*1e-4-A*1e-4)/where(vb,B*1e-4+A*1e-4,1))>=0.65)&(((D*1e-4-C*1e-4)/where(va,D*1e-4+C*1e-4,1))-nb<=-0.25))"
gdal_calc.py --quiet -A "$P/before.tif" --A_band=3 -B "$P/before.tif" --B_band=4 \
    -C "$P/after.tif" --C_band=3 -D "$P/after.tif" --D_band=4 -E "$P/before_mask.tif" -F "$P/after_mask.tif" \
    --calc="$calc" --type=Byte --NoDataValue=255 --outfile="$TMP/loss.tif" >/dev/null 2>"$TMP/calc.err" \
    || { fail "oracle: gdal_calc.py failed: $(cat "$TMP/calc.err")"; exit 0; }

min_px=$($PY -c "import json;print(json.load(open('$TMP/out/run.json'))['grid']['min_alert_pixels'])")
gdal_sieve.py -q -nomask -8 -st "$min_px" "$TMP/loss.tif" "$TMP/sieved.tif"
gdal_polygonize.py -q -8 "$TMP/loss.tif" -f GPKG "$TMP/loss_poly.gpkg" loss DN
gdal_polygonize.py -q -8 "$TMP/sieved.tif" -f GPKG "$TMP/sieved_poly.gpkg" alerts DN

check "oracle: loss pixel count equals gdal_calc.py" $PY - "$TMP/loss.tif" "$TMP/out/run.json" <<'PY'
import sys, json
from osgeo import gdal
a = gdal.Open(sys.argv[1]).ReadAsArray()
n = int((a == 1).sum()); r = json.load(open(sys.argv[2]))["counts"]["loss_pixels"]
print("gdal_calc", n, "canopy", r); sys.exit(n != r or n == 0)
PY

check "oracle: loss components equal gdal_polygonize.py -8 of the loss mask" $PY - "$TMP/loss_poly.gpkg" "$TMP/out/run.json" <<'PY'
import sys, json
from osgeo import ogr
ds = ogr.Open(sys.argv[1]); lyr = ds.GetLayer(0)
n = sum(1 for f in lyr if f.GetField("DN") == 1)
r = json.load(open(sys.argv[2]))["counts"]["loss_components"]
print("polygonize", n, "canopy", r); sys.exit(n != r)
PY

check "oracle: alerts equal gdal_sieve.py -nomask + gdal_polygonize.py (count, pixels, planar areas)" \
    $PY - "$TMP/sieved_poly.gpkg" "$TMP/out/alerts.gpkg" <<'PY'
import sys
from osgeo import ogr
ds1 = ogr.Open(sys.argv[1]); ds2 = ogr.Open(sys.argv[2])
ref = sorted(round(f.GetGeometryRef().GetArea(), 3) for f in ds1.GetLayer(0) if f.GetField("DN") == 1)
got = sorted(round(f.GetGeometryRef().GetArea(), 3) for f in ds2.GetLayer("alerts"))
print("gdal", len(ref), ref[:5], "canopy", len(got), got[:5])
sys.exit(ref != got or not ref)
PY

# Pixel for pixel: canopy's alerts rasterized equal the sieved mask.
gdal_translate -q -scale 0 255 0 0 -ot Byte -a_nodata none "$TMP/loss.tif" "$TMP/zero.tif"
gdal_rasterize -q -burn 1 -l alerts "$TMP/out/alerts.gpkg" "$TMP/zero.tif"
check "oracle: rasterized alerts equal the sieved loss mask pixel for pixel" $PY - "$TMP/zero.tif" "$TMP/sieved.tif" <<'PY'
import sys
from osgeo import gdal
a = gdal.Open(sys.argv[1]).ReadAsArray(); b = gdal.Open(sys.argv[2]).ReadAsArray()
d = int(((a == 1) != (b == 1)).sum()); print("differing pixels", d); sys.exit(d != 0)
PY
