#!/bin/bash
# --aoi: the run is limited to an area of interest. Only the blocks of its
# envelope are read (run.json's grid.window), alerts and the unobserved area
# lie inside it, its part outside the scenes' overlap is reported unobserved,
# and observed + unobserved = its (geodesic) area.
source "$(dirname "$0")/lib.sh"

P="$TMP/pair"
synth "$P" || { fail "aoi: canopy-synth"; exit 0; }
# A triangle over the west of the scene, sticking out of it to the west, in
# EPSG:4326 (reprojected like any zones layer).
$PY - "$TMP" <<'PY'
import sys
from osgeo import ogr, osr
utm = osr.SpatialReference(); utm.ImportFromEPSG(32721)
ll = osr.SpatialReference(); ll.ImportFromEPSG(4326)
for s in (utm, ll):
    s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
g = ogr.CreateGeometryFromWkt("POLYGON((599000 8899500,602500 8899500,599000 8896500,599000 8899500))")
g.Segmentize(10)
g.Transform(osr.CoordinateTransformation(utm, ll))
ds = ogr.GetDriverByName("GeoJSON").CreateDataSource(sys.argv[1] + "/aoi.geojson")
l = ds.CreateLayer("aoi", ll, ogr.wkbPolygon)
f = ogr.Feature(l.GetLayerDefn()); f.SetGeometry(g); l.CreateFeature(f)
PY
detect_pair "$P" "$TMP/base" --no-evidence
detect_pair "$P" "$TMP/aoi" --no-evidence --aoi "$TMP/aoi.geojson"
if [ "$RC" -ne 0 ]; then
    fail "aoi: detect --aoi (exit $RC: $ERR_TXT)"
    exit 0
fi
check "aoi: only the blocks of its envelope are read (grid.window)" $PY - "$TMP/aoi" <<'PY'
import json, sys
w = json.load(open(sys.argv[1] + "/run.json"))["grid"]["window"]
assert w == [0, 50, 250, 300], w
PY
check "aoi: every alert and unobserved pixel lies inside it (and the run without it had alerts outside)" \
    $PY - "$P/before.tif" "$TMP" <<'PY'
import sys
import numpy as np
from osgeo import gdal, ogr
grid, d = gdal.Open(sys.argv[1]), sys.argv[2]
def raster(path, layer, where=None):
    r = gdal.GetDriverByName("MEM").Create("", grid.RasterXSize, grid.RasterYSize, 1, gdal.GDT_Byte)
    r.SetGeoTransform(grid.GetGeoTransform()); r.SetProjection(grid.GetProjection())
    ds = ogr.Open(path)           # kept: a layer dies with its dataset
    lyr = ds.GetLayer(layer)
    if where:
        lyr.SetAttributeFilter(where)
    gdal.RasterizeLayer(r, [1], lyr, burn_values=[1])
    return r.ReadAsArray().astype(bool)
inside = raster(d + "/aoi.geojson", 0)
alerts = raster(d + "/aoi/alerts.gpkg", "alerts")
unobs = raster(d + "/aoi/alerts.gpkg", "unobserved", "reason = 'not observed'")
base = raster(d + "/base/alerts.gpkg", "alerts")
assert alerts.any() and not (alerts & ~inside).any(), "alert pixels outside the AOI"
assert unobs.any() and not (unobs & ~inside).any(), "unobserved pixels outside the AOI"
assert (base & ~inside).any(), "the run without --aoi had no alert outside it: the test proves nothing"
PY
check "aoi: observed + unobserved = its area; its part outside the overlap is unobserved" \
    $PY - "$TMP/aoi" <<'PY'
import json, sys
from osgeo import ogr
d = sys.argv[1]
r = json.load(open(d + "/run.json"))
a = r["context"]["aoi"]
assert abs(r["observed_area_ha"] + r["unobserved_area_ha"] - a["area_ha"]) < 2e-3, (r["observed_area_ha"], r["unobserved_area_ha"], a)
# 3500 m x 3000 m / 2 on the map, a little less on the ground (UTM scale < 1 here).
assert 520 < a["area_ha"] < 526, a
ds = ogr.Open(d + "/alerts.gpkg")
out = [f["area_ha"] for f in ds.GetLayer("unobserved") if f["reason"] == "outside the overlap"]
assert len(out) == 1 and abs(out[0] - a["area_outside_the_overlap_ha"]) < 1e-4 and out[0] > 250, (out, a)
PY
detect_pair "$P" "$TMP/bad" --no-evidence --aoi "$TMP/none.gpkg"
check "aoi: a file that does not open: exit 1, nothing written" \
    bash -c "[ $RC -eq 1 ] && [ ! -e '$TMP/bad' ] && grep -q \"^canopy: --aoi '$TMP/none.gpkg': cannot open\" '$TMP/stderr'"

# Every context layer at once is recorded (inputs with their hashes, rules in
# run.json's context) so that verify --rerun reproduces the run byte for byte.
$PY "$ROOT/tests/e2e/zones_fixture.py" "$TMP/z.gpkg" 4326 GPKG
$PY -c "
from osgeo import gdal
src = gdal.Open('$P/before.tif')
r = gdal.GetDriverByName('GTiff').Create('$TMP/excl.tif', 40, 40, 1, gdal.GDT_Byte)
gt = src.GetGeoTransform(); r.SetGeoTransform([gt[0], 100, 0, gt[3], 0, -100]); r.SetProjection(src.GetProjection())
import numpy as np; a = np.zeros((40, 40), np.uint8); a[20:30, :] = 3; r.GetRasterBand(1).WriteArray(a)"
detect_pair "$P" "$TMP/all" --no-evidence --aoi "$TMP/aoi.geojson" --zones "$TMP/z.gpkg" \
    --zone-field name --exclude "$TMP/excl.tif" --forest-mask "$TMP/excl.tif" --forest-classes 0
check "aoi: with zones and masks too, run.json records every layer" $PY - "$TMP/all/run.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
roles = {i["role"] for i in r["inputs"] if i["sha256"]}
assert {"zones", "forest_mask", "aoi"} <= roles, roles      # excl.tif twice: once
assert set(r["context"]) == {"aoi", "zones", "forest_mask", "exclude"}, r["context"]
PY
check "aoi: verify --rerun reproduces a run with every context layer" \
    "$CANOPY" verify "$TMP/all" --rerun -q

# A self-intersecting area (a bow tie): OGR's MakeValid repairs it; detect
# warns with the count, monitor's log line has it.
$PY - "$TMP" <<'PY'
import sys
from osgeo import ogr, osr
utm = osr.SpatialReference(); utm.ImportFromEPSG(32721)
ds = ogr.GetDriverByName("GeoJSON").CreateDataSource(sys.argv[1] + "/bowtie.geojson")
l = ds.CreateLayer("aoi", utm, ogr.wkbPolygon)
f = ogr.Feature(l.GetLayerDefn())
f.SetGeometry(ogr.CreateGeometryFromWkt(
    "POLYGON((599000 8899500,601000 8897000,601000 8899500,599000 8897000,599000 8899500))"))
l.CreateFeature(f)
PY
detect_pair "$P" "$TMP/bowtie" --no-evidence --aoi "$TMP/bowtie.geojson"
check "aoi: detect says an invalid area was repaired, and how many polygons" \
    bash -c "[ $RC -eq 0 ] && grep -q \"\\-\\-aoi: 1 invalid polygon repaired with OGR's MakeValid\" <<<\"\$1\"" _ "$ERR_TXT"
run_canopy monitor --state "$TMP/mon-bowtie" -q --confirm 1 --aoi "$TMP/bowtie.geojson" \
    "$P/before.tif" "$P/after.tif"
cp "$TMP/stdout" "$TMP/mon-bowtie.json"
run_canopy monitor --state "$TMP/mon-valid" -q --confirm 1 --aoi "$TMP/aoi.geojson" \
    "$P/before.tif" "$P/after.tif"
check "aoi: monitor's log line counts the repaired polygons (1 for the bow tie, 0 for a valid area)" \
    $PY - "$TMP/mon-bowtie.json" "$TMP/stdout" <<'PY'
import json, sys
bow, valid = (json.load(open(p)) for p in sys.argv[1:3])
assert bow["exit_status"] == 0 and bow["aoi_repaired_polygons"] == 1, bow
assert valid["exit_status"] == 0 and valid["aoi_repaired_polygons"] == 0, valid
PY
