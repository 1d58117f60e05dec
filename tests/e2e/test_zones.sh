#!/bin/bash
# --zones: each alert gets the zones it overlaps with the overlap in hectares
# (geodesic, as the alerts' areas), in alerts.gpkg (a zones field and the
# alert_zones table), alerts.geojson, alerts.csv, and zones.csv per zone.
# Zones of known overlap (tests/e2e/zones_fixture.py) in the scene's CRS and in
# EPSG:4326; the overlaps are checked against OGR's intersections; bad layers
# stop the run before anything is written.
source "$(dirname "$0")/lib.sh"

P="$TMP/pair"
synth "$P" || { fail "zones: canopy-synth"; exit 0; }
$PY "$ROOT/tests/e2e/zones_fixture.py" "$TMP/z.gpkg" 32721 GPKG
$PY "$ROOT/tests/e2e/zones_fixture.py" "$TMP/z4326.shp" 4326 "ESRI Shapefile"
# The attributes' encoding: GDAL reads it but does not list it among the files.
[ -f "$TMP/z4326.cpg" ] || printf 'UTF-8' > "$TMP/z4326.cpg"

detect_pair "$P" "$TMP/plain" --no-evidence
check "zones: without --zones the outputs are as before (no zones column, no zones.csv)" \
    bash -c "[ $RC -eq 0 ] && [ ! -e '$TMP/plain/zones.csv' ] && ! head -1 '$TMP/plain/alerts.csv' | grep -q zones"

detect_pair "$P" "$TMP/utm" --zones "$TMP/z.gpkg" --zone-field name
if [ "$RC" -ne 0 ]; then
    fail "zones: detect --zones (exit $RC: $ERR_TXT)"
    exit 0
fi
check "zones: overlaps in alerts.gpkg, alerts.geojson, alerts.csv and zones.csv are OGR's" \
    $PY "$ROOT/tests/e2e/check_zones.py" "$TMP/utm" "$TMP/z.gpkg"
check "zones: an alert inside a zone overlaps it by exactly its own area" $PY - "$TMP/utm" <<'PY'
import sys
from osgeo import ogr
ds = ogr.Open(sys.argv[1] + "/alerts.gpkg")
area = {f["id"]: f["area_ha"] for f in ds.GetLayer("alerts")}
whole = {f["alert_id"]: f["overlap_ha"] for f in ds.GetLayer("alert_zones") if f["zone"] == "all"}
assert area and whole == area, (whole, area)
PY
check "zones: zones.csv lists a zone without alerts, and the date" \
    grep -qx 'zones,empty,2024-08-20,0,0' "$TMP/utm/zones.csv"
check "zones: the repaired polygon is said in a warning" \
    grep -q "zones: 1 invalid polygon repaired with OGR's MakeValid" <<<"$ERR_TXT"
check "zones: report.html (with alerts by zone) and alerts.kmz carry them (evidence run)" bash -c "
    '$CANOPY' detect '$P/before.tif' '$P/after.tif' --before-mask '$P/before_mask.tif' \
        --after-mask '$P/after_mask.tif' -o '$TMP/ev' -q --zones '$TMP/z.gpkg' 2>/dev/null &&
    grep -q 'cut\\\\; x:' '$TMP/ev/report.html' &&
    grep -q '<td class=\"l\">cut; x</td><td>1</td>' '$TMP/ev/report.html' && unzip -p '$TMP/ev/alerts.kmz' doc.kml | grep -q '<SimpleData name=\"zones\">'"
if command -v pdftotext >/dev/null; then
    check "zones: report.pdf lists the alerts by zone, as report.html" $PY - "$TMP/ev" <<'PY'
import re, subprocess, sys
from osgeo import ogr
out = sys.argv[1]
text = subprocess.run(["pdftotext", out + "/report.pdf", "-"], capture_output=True, text=True,
                      check=True).stdout
flat = re.sub(r"\s+", "", text)
assert "Alertsbyzone" in flat, "no 'Alerts by zone' in report.pdf"
section = flat[flat.index("Alertsbyzone"):]
ds = ogr.Open(out + "/alerts.gpkg")
hits = [(f["zone"], f["alert_id"]) for f in ds.GetLayer("alert_zones")]
assert hits
for zone, aid in hits:
    z = re.sub(r"\s+", "", zone)
    assert z in section and aid in section[section.index(z):], (zone, aid)
print(len(hits), "zone hits in report.pdf")
PY
else
    skip "zones: report.pdf by zone (pdftotext not installed)"
fi
check "zones: run.json lists zones.csv with its hash" \
    $PY -c "import json,sys; r=json.load(open('$TMP/utm/run.json')); assert any(o['path']=='zones.csv' for o in r['outputs'])"

# The same zones in EPSG:4326 (a Shapefile, its first text field): the same overlaps.
detect_pair "$P" "$TMP/geo" --zones "$TMP/z4326.shp" --no-evidence
check "zones: zones in EPSG:4326 give the overlaps OGR finds" \
    $PY "$ROOT/tests/e2e/check_zones.py" "$TMP/geo" "$TMP/z4326.shp"
check "zones: and the same hectares as in the scene's CRS (within 0.001 ha)" $PY - "$TMP" <<'PY'
import csv, sys
def rows(d):
    return {r["zone"]: float(r["area_ha"]) for r in csv.DictReader(open(f"{sys.argv[1]}/{d}/zones.csv"))}
a, b = rows("utm"), rows("geo")
assert a.keys() == b.keys() and all(abs(a[k] - b[k]) <= 1e-3 for k in a), (a, b)
PY

# A Shapefile is several files: its .shx, .dbf, .prj (and .cpg) are hashed
# as inputs with the .shp, listed in SHA256SUMS and checked by verify.
check "zones: a Shapefile's side files are inputs in run.json and SHA256SUMS" $PY - "$TMP/geo" "$TMP/z4326.shp" <<'PY'
import glob, hashlib, json, os, sys
out, shp = sys.argv[1], sys.argv[2]
run = json.load(open(out + "/run.json"))
got = {os.path.abspath(i["path"]): (i["role"], i["sha256"]) for i in run["inputs"]}
sums = open(out + "/SHA256SUMS").read()
side = [f for f in glob.glob(shp[:-4] + ".*") if f != shp]
assert {os.path.splitext(f)[1] for f in side} >= {".shx", ".dbf", ".prj", ".cpg"}, side
for f in side:
    role, sha = got[os.path.abspath(f)]
    assert role == "zones:" + os.path.splitext(f)[1][1:], role
    assert sha == hashlib.sha256(open(f, "rb").read()).hexdigest(), f
    assert sha in sums and os.path.basename(f) in sums, f
print(len(side), "side files")
PY
cp "$TMP/z4326.dbf" "$TMP/z4326.dbf.kept"
$PY - "$TMP/z4326.dbf" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[-2] ^= 1; open(sys.argv[1], "wb").write(b)
PY
run_canopy verify "$TMP/geo"
check "zones: verify names a changed .dbf of a Shapefile, exit 1" \
    bash -c "[ $RC -eq 1 ] && grep -q '^changed  .*z4326.dbf' <<<'$OUT_TXT'"
mv "$TMP/z4326.dbf.kept" "$TMP/z4326.dbf"

# Two layers: the list names each zone's layer.
detect_pair "$P" "$TMP/two" --zones "$TMP/z.gpkg" --zones "$TMP/z4326.shp" --no-evidence
check "zones: with two layers the list says layer/name" \
    bash -c "[ $RC -eq 0 ] && grep -q 'zones/all:.*z4326/all:' '$TMP/two/alerts.csv'"

# Bad layers: one line naming the file, exit 2 (usage) or 1, nothing written.
$PY - "$TMP" <<'PY'
import sys
from osgeo import ogr, osr
d = sys.argv[1]
s = osr.SpatialReference(); s.ImportFromEPSG(4326)
ds = ogr.GetDriverByName("GeoJSON").CreateDataSource(d + "/far.geojson")
l = ds.CreateLayer("far", s, ogr.wkbPolygon); l.CreateField(ogr.FieldDefn("n", ogr.OFTString))
f = ogr.Feature(l.GetLayerDefn()); f["n"] = "x"
f.SetGeometry(ogr.CreateGeometryFromWkt("POLYGON((10 10,11 10,11 11,10 11,10 10))")); l.CreateFeature(f)
ds = None
ds = ogr.GetDriverByName("ESRI Shapefile").CreateDataSource(d + "/nocrs.shp")
l = ds.CreateLayer("nocrs", None, ogr.wkbPolygon); l.CreateField(ogr.FieldDefn("n", ogr.OFTString))
f = ogr.Feature(l.GetLayerDefn()); f["n"] = "x"
f.SetGeometry(ogr.CreateGeometryFromWkt("POLYGON((600000 8897000,601000 8897000,601000 8898000,600000 8897000))"))
l.CreateFeature(f)
ds = ogr.GetDriverByName("GeoJSON").CreateDataSource(d + "/nofield.geojson")
l = ds.CreateLayer("nofield", s, ogr.wkbPolygon); l.CreateField(ogr.FieldDefn("n", ogr.OFTInteger))
f = ogr.Feature(l.GetLayerDefn()); f["n"] = 1
f.SetGeometry(ogr.CreateGeometryFromWkt("POLYGON((-56.2 -9.9,-56.0 -9.9,-56.0 -10.1,-56.2 -10.1,-56.2 -9.9))")); l.CreateFeature(f)
PY
bad() {
    local name=$1 want=$2 pattern=$3; shift 3
    detect_pair "$P" "$TMP/bad" --no-evidence "$@"
    if [ "$RC" -eq "$want" ] && [ ! -e "$TMP/bad" ] && [ "$(grep -vc "^Try 'canopy" "$TMP/stderr")" -eq 1 ] &&
       grep -q -- "$pattern" "$TMP/stderr"; then
        pass "zones: $name: exit $want, one line, nothing written"
    else
        fail "zones: $name: exit $RC (want $want), stderr: $ERR_TXT"
    fi
}
bad "a file that does not open" 1 "zones '$TMP/missing.gpkg': cannot open" --zones "$TMP/missing.gpkg"
bad "a layer it does not hold" 2 "no layer 'nope'" --zones "$TMP/z.gpkg:nope"
bad "a field it does not have" 2 "has no field 'owner'" --zones "$TMP/z.gpkg" --zone-field owner
detect_pair "$P" "$TMP/fid" --no-evidence --zones "$TMP/nofield.geojson"
check "zones: a layer without a text field names its zones by feature id" \
    bash -c "[ $RC -eq 0 ] && grep -q '^nofield,#0,' '$TMP/fid/zones.csv'"
bad "no overlap with the scene" 1 "does not overlap the scene" --zones "$TMP/far.geojson"
bad "no CRS" 1 "has no CRS" --zones "$TMP/nocrs.shp"
bad "--zone-field alone" 2 "needs --zones" --zone-field name

# ---- batch: the same options for every pair, in the plan, and in resuming ------------
B="$TMP/batch-in"
mkdir -p "$B" && cp "$P/before.tif" "$B/a.tif" && cp "$P/after.tif" "$B/b.tif"
run_canopy batch "$B" -o "$TMP/batch" --no-evidence -q --zones "$TMP/z.gpkg" --zone-field name
check "zones: batch gives each pair zones.csv and the footprint's alerts.gpkg the zones field" bash -c "
    [ $RC -eq 0 ] && grep -q '^zones,all,' '$TMP'/batch/*/a__b/zones.csv &&
    ogrinfo -so '$TMP'/batch/*/alerts.gpkg alerts | grep -q '^zones: String'"
run_canopy batch "$B" -o "$TMP/batch" --no-evidence --zones "$TMP/z.gpkg" --zone-field name
check "zones: batch again with the same zones: nothing to do" grep -q "nothing to do" <<<"$ERR_TXT$OUT_TXT"
run_canopy batch "$B" -o "$TMP/batch" --no-evidence -q --zones "$TMP/z.gpkg" --zone-field code
check "zones: batch with another zone field runs the pair again" \
    bash -c "[ $RC -eq 0 ] && grep -q '^zones,7,' '$TMP'/batch/*/a__b/zones.csv"
run_canopy batch "$B" -o "$TMP/shards" --no-evidence -q --zones "$TMP/z.gpkg" --zone-field name \
    --plan-only --plan "$TMP/plan.json"
run_canopy batch --plan "$TMP/plan.json" --shard 0 -q
check "zones: a plan file carries them to its shards" \
    bash -c "[ $RC -eq 0 ] && grep -q '^zones,all,' '$TMP'/shards/*/a__b/zones.csv"
run_canopy batch --plan "$TMP/plan.json" --shard 0 -q --zones "$TMP/z.gpkg"
check "zones: with --plan, --zones is the plan's: a usage error" test "$RC" -eq 2

# ---- monitor: each alert's zones in the database and in new_alerts.geojson --------
SERIES="$TMP/series"
if ! $PY "$ROOT/scripts/make-series.py" --synth "$SYNTH" -o "$SERIES" >"$TMP/gen.log" 2>&1; then
    fail "zones: monitor series generator"
else
    run_canopy monitor --state "$TMP/mon" -q --zones "$TMP/z.gpkg" --zone-field name \
        --on-new "cp -t '$TMP'" "$SERIES"
    check "zones: monitor stores each alert's zones (an alert inside 'all' by its whole area)" \
        $PY - "$TMP/mon/alerts.gpkg" "$TMP/z.gpkg" <<'PY'
import sys
from osgeo import ogr, osr
ds = ogr.Open(sys.argv[1])
zs = ogr.Open(sys.argv[2]); zl = zs.GetLayer(0)
wgs = osr.SpatialReference(); wgs.ImportFromEPSG(4326)
for s in (wgs, zl.GetSpatialRef()):
    s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
ct = osr.CoordinateTransformation(zl.GetSpatialRef(), wgs)
west = [f.GetGeometryRef().Clone() for f in zl if f["name"] == "west"][0]
west.Transform(ct)
rows = [(f["id"], f["area_ha"], f["zones"], f.GetGeometryRef().Clone()) for f in ds.GetLayer("alerts")]
assert rows, "no alerts"
for aid, ha, zones, g in rows:
    parts = dict(p.rsplit(":", 1) for p in zones.split(";"))
    assert parts["all"] == f"{ha:.4f}", (aid, ha, zones)
    assert ("west" in parts) == g.Intersects(west), (aid, zones)
PY
    check "zones: --on-new's new_alerts.geojson names the zones" $PY - "$TMP/new_alerts.geojson" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))["features"]
assert f and all(x["properties"]["zones"].startswith("all:") for x in f), f
PY
    cp "$TMP/stdout" "$TMP/mon-log.json"
    check "zones: monitor's log line counts the new alerts per zone, as new_alerts.geojson has them" \
        $PY - "$TMP/mon-log.json" "$TMP/new_alerts.geojson" <<'PY'
import json, sys
line = json.load(open(sys.argv[1]))
feats = json.load(open(sys.argv[2]))["features"]
want = {}
for x in feats:
    if "new" not in x["properties"]["change"]:
        continue
    for part in x["properties"]["zones"].split(";"):
        name, ha = part.rsplit(":", 1)
        n, a = want.get(name, (0, 0.0))
        want[name] = (n + 1, a + float(ha))
got = {z["zone"]: (z["alerts"], z["overlap_ha"]) for z in line["new_alerts_by_zone"]}
assert [z["zone"] for z in line["new_alerts_by_zone"]] == sorted(got), line["new_alerts_by_zone"]
assert set(got) == set(want) and "all" in got, (got, want)
for k in want:
    assert got[k][0] == want[k][0] and abs(got[k][1] - want[k][1]) < 1e-3, (k, got[k], want[k])
PY
    run_canopy monitor --state "$TMP/mon2" -q --zones "$TMP/missing.gpkg" "$SERIES"
    check "zones: monitor with a zones file that does not open: exit 1, no state written" \
        bash -c "[ $RC -eq 1 ] && [ ! -e '$TMP/mon2' ] && grep -q \"zones '$TMP/missing.gpkg'\" '$TMP/stderr'"
fi
