#!/bin/bash
# AFTER on another grid: warped onto BEFORE's grid through GDAL (bilinear for
# reflectance, nearest for masks); only the overlap is processed.
source "$(dirname "$0")/lib.sh"

P="$TMP/pair"
synth "$P" --size 400x400 --seed 11 --scenario sample || { fail "grids: generator"; exit 0; }

# Cross-zone: AFTER delivered in the neighbouring UTM zone.
gdalwarp -q -t_srs EPSG:32720 -tr 10 10 -r bilinear "$P/after.tif" "$TMP/after_z20.tif"
gdalwarp -q -t_srs EPSG:32720 -tr 10 10 -r near "$P/after_mask.tif" "$TMP/after_mask_z20.tif"
run_canopy detect "$P/before.tif" "$TMP/after_z20.tif" --before-mask "$P/before_mask.tif" \
    --after-mask "$TMP/after_mask_z20.tif" -o "$TMP/z20" -q
[ "$RC" -eq 0 ] || { fail "grids: cross-zone pair ($RC: $ERR_TXT)"; exit 0; }
check "grids: cross-zone pair finds every clearing within a pixel, area within 5%" \
    $PY - "$TMP/z20" "$P" <<'PY'
import sys, csv, math, json
from osgeo import ogr
out, truth = sys.argv[1:3]
run = json.load(open(out + "/run.json"))
assert run["after"]["warped_to_before_grid"] is True
ds = ogr.Open(out + "/alerts.gpkg")
alerts = [(f.GetField("area_ha"), f.GetGeometryRef().Centroid()) for f in ds.GetLayer("alerts")]
exp = [t for t in csv.DictReader(open(truth + "/truth.csv")) if t["expect_alert"] == "1"]
used = set()
for t in exp:
    d, i = min((math.hypot(c.GetX() - float(t["centroid_x"]), c.GetY() - float(t["centroid_y"])), i)
               for i, (_, c) in enumerate(alerts))
    a = alerts[i][0] * 1e4; want = float(t["area_m2"])
    print(t["id"], "offset %.2f m" % d, "area %.0f vs %.0f" % (a, want))
    assert d <= 10.0, d
    if want >= 1e4:
        assert abs(a - want) <= 0.05 * want
    used.add(i)
assert len(used) == len(alerts), "alerts away from every clearing: %d" % (len(alerts) - len(used))
PY

# Partial overlap: AFTER covers only the western half; the rest is unobserved.
gdal_translate -q -srcwin 0 0 200 400 "$P/after.tif" "$TMP/after_west.tif"
gdal_translate -q -srcwin 0 0 200 400 "$P/after_mask.tif" "$TMP/after_mask_west.tif"
run_canopy detect "$P/before.tif" "$TMP/after_west.tif" --before-mask "$P/before_mask.tif" \
    --after-mask "$TMP/after_mask_west.tif" -o "$TMP/west" -q
[ "$RC" -eq 0 ] || { fail "grids: partial overlap ($RC: $ERR_TXT)"; exit 0; }
check "grids: partial overlap processes only the overlap" $PY - "$TMP/west" "$P" <<'PY'
import sys, csv, json
from osgeo import ogr, gdal
out, truth = sys.argv[1:3]
run = json.load(open(out + "/run.json"))
assert run["grid"]["window"] == [0, 0, 200, 400], run["grid"]["window"]
gt = gdal.Open(truth + "/before.tif").GetGeoTransform()
xmid = gt[0] + 200 * gt[1]
ds = ogr.Open(out + "/alerts.gpkg")
env = [f.GetGeometryRef().GetEnvelope() for f in ds.GetLayer("alerts")]
assert env and all(e[1] <= xmid for e in env), env
exp = [t for t in csv.DictReader(open(truth + "/truth.csv"))
       if t["expect_alert"] == "1" and float(t["xmax"]) <= xmid]
assert len(env) == len(exp), (len(env), len(exp))
PY
