#!/bin/bash
# The `unobserved` layer of alerts.gpkg: what could not be seen (cloud, shadow,
# nodata, outside the overlap), so "no alert here" can be told apart from "not
# observed here".
source "$(dirname "$0")/lib.sh"

P="$TMP/pair"
synth "$P" --size 400x400 --seed 1 --scenario sample --tile 128 || { fail "unobserved: generator"; exit 0; }
detect_pair "$P" "$TMP/out" --no-evidence
[ "$RC" -eq 0 ] || { fail "unobserved: detect ($RC: $ERR_TXT)"; exit 0; }
check "unobserved: valid polygons whose area equals the unobserved pixels, disjoint from alerts, covering the clouds" \
    $PY - "$TMP/out" "$P" <<'PY'
import sys, json, csv
from osgeo import ogr
out, truth = sys.argv[1:3]
ds = ogr.Open(out + "/alerts.gpkg")
run = json.load(open(out + "/run.json"))
un = [f.GetGeometryRef().Clone() for f in ds.GetLayer("unobserved")]
alerts = [f.GetGeometryRef().Clone() for f in ds.GetLayer("alerts")]
px = run["grid"]["pixel_area_m2"]
area = sum(g.GetArea() for g in un)
assert all(g.IsValid() for g in un)
assert abs(area / px - run["counts"]["unobserved_pixels"]) < 1e-6, (area / px, run["counts"]["unobserved_pixels"])
union = ogr.Geometry(ogr.wkbMultiPolygon)
for g in un:
    for i in range(g.GetGeometryCount()):
        union.AddGeometry(g.GetGeometryRef(i))
union = union.UnionCascaded()
for a in alerts:
    assert a.Intersection(union).GetArea() == 0
# The clearing under cloud is inside the unobserved area.
for t in csv.DictReader(open(truth + "/truth.csv")):
    if t["kind"] == "clearing_under_cloud":
        c = ogr.CreateGeometryFromWkt("POINT(%s %s)" % (t["centroid_x"], t["centroid_y"]))
        assert union.Contains(c), t
PY

# Partial overlap: the part of BEFORE's grid outside AFTER is one more feature.
gdal_translate -q -srcwin 0 0 250 400 "$P/after.tif" "$TMP/after_w.tif"
run_canopy detect "$P/before.tif" "$TMP/after_w.tif" -o "$TMP/w" -q --no-evidence
[ "$RC" -eq 0 ] || { fail "unobserved: partial overlap ($RC: $ERR_TXT)"; exit 0; }
check "unobserved: outside the overlap is reported" $PY - "$TMP/w" <<'PY'
import sys, json
from osgeo import ogr
ds = ogr.Open(sys.argv[1] + "/alerts.gpkg")
run = json.load(open(sys.argv[1] + "/run.json"))
feats = [(f.GetField("reason"), f.GetField("pixels"), f.GetGeometryRef().GetArea()) for f in ds.GetLayer("unobserved")]
outside = [f for f in feats if f[0] == "outside the overlap"]
assert len(outside) == 1 and outside[0][1] == 150 * 400, outside
assert abs(outside[0][2] - 150 * 400 * 100) < 1e-3
assert sum(f[1] for f in feats) == run["counts"]["unobserved_pixels"]
PY
