#!/bin/bash
# One area measure everywhere: the ellipsoid's. Far from a UTM zone's central
# meridian the grid's map metres are longer than true ones, so 50 pixels of
# 10 m hold 0.5 ha on the map but less on the ground: such a clearing is under
# --min-area 0.5 and gives no alert, while 51 pixels do; run.json's observed
# and unobserved areas are geodesic too and add up with the unobserved layer's.
source "$(dirname "$0")/lib.sh"

D="$TMP/far"
mkdir -p "$D"
$PY - "$D" <<'PY'
import sys
import numpy as np
from osgeo import gdal, osr
d = sys.argv[1]
def write(path, red, nir, date):
    h, w = red.shape
    ds = gdal.GetDriverByName("GTiff").Create(path, w, h, 4, gdal.GDT_UInt16, ["TILED=YES"])
    # 300 km east of the central meridian of UTM 21S: scale factor 1.0007.
    ds.SetGeoTransform([800000, 10, 0, 8900000, 0, -10])
    s = osr.SpatialReference(); s.ImportFromEPSG(32721)
    ds.SetProjection(s.ExportToWkt())
    for b, a in zip([1, 2, 3, 4], [red // 2, red, red, nir]):
        ds.GetRasterBand(b).WriteArray(a)
    ds.SetMetadataItem("ACQUISITION_DATE", date)
n = 200
red = np.full((n, n), 300, np.uint16); nir = np.full((n, n), 3000, np.uint16)
write(d + "/before.tif", red, nir, "2024-01-01")
red[20:25, 20:30] = 1500; nir[20:25, 20:30] = 1800          # 50 pixels
red[100:103, 100:117] = 1500; nir[100:103, 100:117] = 1800  # 51 pixels
write(d + "/after.tif", red, nir, "2024-06-01")
PY
run_canopy detect "$D/before.tif" "$D/after.tif" -o "$TMP/out" -q --no-evidence --min-area 0.5
if [ "$RC" -ne 0 ]; then
    fail "area: detect far from the central meridian (exit $RC: $ERR_TXT)"
    exit 0
fi
check "area: the minimum area is tested on the ellipsoid (50 px < 0.5 ha there, 51 px >= 0.5 ha)" \
    $PY - "$TMP/out" <<'PY'
import json, sys
from osgeo import ogr
out = sys.argv[1]
ds = ogr.Open(out + "/alerts.gpkg")
lyr = ds.GetLayerByName("alerts")
areas = sorted((f.GetField("pixels"), f.GetField("area_ha")) for f in lyr)
assert len(areas) == 1 and areas[0][0] == 51 and areas[0][1] >= 0.5, areas
r = json.load(open(out + "/run.json"))
assert r["counts"]["loss_components_below_min_area"] == 1, r["counts"]
PY
check "area: observed and unobserved areas are geodesic and match the unobserved layer" \
    $PY - "$TMP/out" <<'PY'
import json, sys
from osgeo import ogr
out = sys.argv[1]
r = json.load(open(out + "/run.json"))
flat_total = 200 * 200 * 100 / 1e4
total = r["observed_area_ha"] + r["unobserved_area_ha"]
# The map area overstates the ground's by the scale factor squared (~0.14 % here).
assert 0.997 * flat_total < total < 0.9995 * flat_total, (total, flat_total)
ds = ogr.Open(out + "/alerts.gpkg")
lyr = ds.GetLayerByName("unobserved")
s = sum(f.GetField("area_ha") for f in lyr)
assert abs(s - r["unobserved_area_ha"]) < 1e-3, (s, r["unobserved_area_ha"])
PY
