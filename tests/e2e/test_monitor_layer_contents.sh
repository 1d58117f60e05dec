#!/bin/bash
# tests/e2e/test_monitor_layer_contents.sh - a monitor state records the
# contents of its context layers (the SHA-256 of each file GDAL reads for
# them, as detect's run.json lists them): a layer replaced under the same
# name is refused like another setting (exit 2, the state as it was); the
# same bytes touched are the same layer; a state written before the contents
# were recorded runs and records them.
source "$(dirname "$0")/lib.sh"

P="$TMP/pair"
synth "$P" || { fail "monitor layer contents: canopy-synth"; exit 0; }
$PY "$ROOT/tests/e2e/context_fixture.py" "$TMP"
# The scene's west half as a Shapefile (.shp, .shx, .dbf, .prj) with a name.
$PY - "$TMP" <<'PY'
import sys
from osgeo import ogr, osr
utm = osr.SpatialReference(); utm.ImportFromEPSG(32721)
ds = ogr.GetDriverByName("ESRI Shapefile").CreateDataSource(sys.argv[1] + "/aoi.shp")
l = ds.CreateLayer("aoi", utm, ogr.wkbPolygon)
l.CreateField(ogr.FieldDefn("name", ogr.OFTString))
f = ogr.Feature(l.GetLayerDefn()); f.SetField("name", "west")
f.SetGeometry(ogr.CreateGeometryFromWkt("POLYGON((600000 8900000,602000 8900000,602000 "
                                        "8896000,600000 8896000,600000 8900000))"))
l.CreateFeature(f)
PY
cp "$TMP/treecover.tif" "$TMP/treecover.orig"
S="$TMP/state"
mon() { run_canopy monitor --state "$S" --confirm 1 -q --forest-mask "$TMP/treecover.tif" \
            --forest-min 30 --aoi "$TMP/aoi.shp" "$@"; }
# Every file of the state folder but the lock (which names the last run).
snapshot() { (cd "$S" && find . -type f ! -name lock -print0 | sort -z | xargs -0 sha256sum); }
# recorded GEN ROLE: the SHA-256 state.json of generation GEN records for ROLE.
recorded() { $PY - "$S/state/g0000000$1/state.json" "$2" <<'PY'
import json, sys
for e in json.load(open(sys.argv[1])).get("context_layers", []):
    if e["role"] == sys.argv[2]:
        print(e["sha256"])
PY
}

# Generation 1 from the first scene; the second is left for later runs.
mon "$P/before.tif"
if [ "$RC" -ne 0 ]; then
    fail "monitor layer contents: the first run (exit $RC): $ERR_TXT"
    exit 0
fi

touch -d "2001-01-01" "$TMP/treecover.tif" "$TMP/aoi.dbf"
mon "$P/before.tif"
if [ "$RC" -eq 0 ] &&
   [ "$(recorded 1 forest_mask)" = "$(sha256sum < "$TMP/treecover.tif" | cut -d' ' -f1)" ] &&
   [ "$(recorded 1 aoi:dbf)" = "$(sha256sum < "$TMP/aoi.dbf" | cut -d' ' -f1)" ]; then
    pass "monitor layer contents: the same bytes with another time: runs; the state records their SHA-256"
else
    fail "monitor layer contents: touched layers: exit $RC, recorded '$(recorded 1 forest_mask)', $ERR_TXT"
fi

# replaced NAME PATTERN: the run with the second scene is refused, exit 2,
# one line naming the file, and the state folder is as it was.
replaced() {
    local name=$1 pattern=$2 before
    before=$(snapshot)
    mon "$P/before.tif" "$P/after.tif"
    if [ "$RC" -eq 2 ] && [ "$(wc -l < "$TMP/stderr")" -eq 1 ] &&
       grep -q -- "$pattern" "$TMP/stderr" && [ "$(snapshot)" = "$before" ]; then
        pass "monitor layer contents: $name: refused (exit 2), the state as it was"
    else
        fail "monitor layer contents: $name: exit $RC, stderr: $ERR_TXT"
    fi
}
$PY - "$TMP/treecover.tif" <<'PY'
import sys
from osgeo import gdal
ds = gdal.Open(sys.argv[1], gdal.GA_Update)
b = ds.GetRasterBand(1)
b.WriteArray(b.ReadAsArray() // 2)   # 80 -> 40, 10 -> 5: another rule's mask
PY
replaced "a forest mask replaced under the same name" \
    "other layer contents: --forest-mask '$TMP/treecover.tif' has other contents"
cp "$TMP/treecover.orig" "$TMP/treecover.tif"
cp "$TMP/aoi.dbf" "$TMP/aoi.dbf.orig"
sed -i 's/west/east/' "$TMP/aoi.dbf"
replaced "a Shapefile's .dbf replaced beside the same .shp" "--aoi's .dbf '$TMP/aoi.dbf' has other"
cp "$TMP/aoi.dbf.orig" "$TMP/aoi.dbf"
# GDAL's side file of the mask: 10 (most of the east) becomes nodata.
cat > "$TMP/treecover.tif.aux.xml" <<'XML'
<PAMDataset><PAMRasterBand band="1"><NoDataValue>10</NoDataValue></PAMRasterBand></PAMDataset>
XML
replaced "an .aux.xml put beside the forest mask" \
    "--forest-mask's .xml '$TMP/treecover.tif.aux.xml' was not there"
rm "$TMP/treecover.tif.aux.xml"

# A state from before: no context_layers in its state.json. It runs, says
# so once, and its next generation records them.
$PY - "$S"/state/g*/state.json <<'PY'
import json, sys
st = json.load(open(sys.argv[1])); del st["context_layers"]
json.dump(st, open(sys.argv[1], "w"))
PY
mon "$P/before.tif" "$P/after.tif"
if [ "$RC" -eq 0 ] && grep -q '"layers_recorded":' "$TMP/stdout" &&
   [ "$(recorded 2 forest_mask)" = "$(sha256sum < "$TMP/treecover.tif" | cut -d' ' -f1)" ] &&
   [ -n "$(recorded 2 aoi:shx)" ] && [ -n "$(recorded 2 aoi:prj)" ]; then
    pass "monitor layer contents: a state without recorded contents runs and records them"
else
    fail "monitor layer contents: a state from before: exit $RC, $ERR_TXT $OUT_TXT"
fi
