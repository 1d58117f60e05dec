#!/bin/bash
# Real scenes from ../shared/data (skipped visibly when absent): a scene
# against itself gives zero alerts; a copy with clearings painted into forest
# gives exactly those clearings.
source "$(dirname "$0")/lib.sh"

L7="$SHARED_DATA/stars-l7etms/L7_ETMs.tif"
if [ ! -f "$L7" ]; then
    skip "real data: Landsat 7 stack self-pair (../shared/data absent)"
    skip "real data: Landsat 7 stack with painted clearings (../shared/data absent)"
    exit 0
fi

run_canopy detect "$L7" "$L7" --red 3 --nir 4 --date-before 2000-01-01 --date-after 2000-02-01 -o "$TMP/self" -q
n=$($PY -c "import json;print(json.load(open('$TMP/self/run.json'))['counts']['alerts'])" 2>/dev/null)
[ "$RC" -eq 0 ] && [ "$n" = 0 ] && pass "real data: Landsat 7 stack against itself gives zero alerts" \
    || fail "real data: Landsat 7 self-pair ($RC, $n alerts: $ERR_TXT)"

# This raw-DN (top-of-atmosphere, Byte) scene has NDVI below 0.5 everywhere, so
# forest is set at 0.35 here. Paint 6x6 clearings (and one 2x3 speck below the
# minimum area of 7 pixels) into solid forest.
$PY - "$L7" "$TMP/painted.tif" "$TMP/painted.csv" <<'PY'
import sys
import numpy as np
from osgeo import gdal
src, dst, csv = sys.argv[1:4]
ds = gdal.Translate(dst, src, creationOptions=["TILED=YES", "BLOCKXSIZE=64", "BLOCKYSIZE=64"])
red = ds.GetRasterBand(3).ReadAsArray().astype(float)
nir = ds.GetRasterBand(4).ReadAsArray().astype(float)
ndvi = (nir - red) / np.maximum(nir + red, 1)
forest = (ndvi >= 0.38) & (red < 250) & (nir < 250)
gt = ds.GetGeoTransform()
placed, rows = [], []
def free(y, x, h, w):
    return all(y + h + 4 <= py or py + ph + 4 <= y or x + w + 4 <= px or px + pw + 4 <= x for py, px, ph, pw in placed)
for (h, w, expect) in [(6, 6, 1)] * 4 + [(2, 3, 0)]:
    done = False
    for y in range(2, ds.RasterYSize - h - 2, 3):
        for x in range(2, ds.RasterXSize - w - 2, 3):
            if forest[y:y + h, x:x + w].all() and free(y, x, h, w):
                placed.append((y, x, h, w)); done = True; break
        if done: break
    assert done, "no room for a painted clearing"
    red[y:y + h, x:x + w] = 70; nir[y:y + h, x:x + w] = 50
    cx = gt[0] + (x + w / 2) * gt[1]; cy = gt[3] + (y + h / 2) * gt[5]
    rows.append("%d,%d,%f,%f,%d,%d" % (expect, h * w, cx, cy, x, y))
ds.GetRasterBand(3).WriteArray(red.astype(np.uint8)); ds.GetRasterBand(4).WriteArray(nir.astype(np.uint8))
ds = None
open(csv, "w").write("expect,pixels,cx,cy,x,y\n" + "\n".join(rows) + "\n")
PY
run_canopy detect "$L7" "$TMP/painted.tif" --red 3 --nir 4 --forest-ndvi 0.35 -o "$TMP/painted" -q --threads 2
if [ "$RC" -ne 0 ]; then fail "real data: painted pair ($RC: $ERR_TXT)"; exit 0; fi
check "real data: painted clearings found exactly (count, pixels, centroids)" $PY - "$TMP/painted" "$TMP/painted.csv" <<'PY'
import sys, csv, math
from osgeo import ogr
out, truth = sys.argv[1:3]
t = [r for r in csv.DictReader(open(truth)) if r["expect"] == "1"]
ds = ogr.Open(out + "/alerts.gpkg")
lyr = ds.GetLayer("alerts")
alerts = [(f.GetField("pixels"), f.GetGeometryRef().Centroid(), f.GetGeometryRef().IsValid()) for f in lyr]
assert len(alerts) == len(t), (len(alerts), len(t))
for r in t:
    d = min(math.hypot(c.GetX() - float(r["cx"]), c.GetY() - float(r["cy"])) for _, c, _ in alerts)
    assert d < 28.5 / 2, d
assert sorted(p for p, _, _ in alerts) == sorted(int(r["pixels"]) for r in t)
assert all(v for _, _, v in alerts)
PY
