#!/bin/bash
# --forest-mask and --exclude: external forest and exclusion rasters, in any
# CRS and pixel size, warped onto the scene's grid; forest is the mask AND the
# NDVI rule, and no loss is reported where the exclusion mask says cleared
# already. Every alert pixel must pass the mask (warped the same way by
# GDAL in Python), and a run without the mask must have some that do not.
# Then the real Hansen and PRODES crops of ../shared/data (skipped when absent).
source "$(dirname "$0")/lib.sh"

P="$TMP/pair"
synth "$P" || { fail "masks: canopy-synth"; exit 0; }
detect_pair "$P" "$TMP/base" --no-evidence

# A 30 m "tree cover" raster in EPSG:4326: 80 % west of x = 602000, 10 % east;
# and a class raster (Int16, nodata -1) with class 5 over a band of rows.
$PY "$ROOT/tests/e2e/context_fixture.py" "$TMP"

detect_pair "$P" "$TMP/forest" --no-evidence --forest-mask "$TMP/treecover.tif" --forest-min 30
check "masks: --forest-mask --forest-min 30: every alert pixel is forest in the mask (and not all were)" \
    $PY "$ROOT/tests/e2e/check_masks.py" "$P/before.tif" "$TMP/forest" "$TMP/treecover.tif" min:30 "$TMP/base"
check "masks: run.json says what the forest mask took out (its forest pixels fewer by that many)" $PY - "$TMP" <<'PY'
import json, sys
a = json.load(open(sys.argv[1] + "/base/run.json")); b = json.load(open(sys.argv[1] + "/forest/run.json"))
n = b["context"]["forest_mask"]["pixels_not_forest"]
assert n > 0 and a["counts"]["forest_pixels"] - b["counts"]["forest_pixels"] == n, (n, a["counts"], b["counts"])
PY
detect_pair "$P" "$TMP/excl" --no-evidence --exclude "$TMP/classes.tif" --exclude-classes 5
check "masks: --exclude --exclude-classes 5: no alert pixel on class 5 (and some were)" \
    $PY "$ROOT/tests/e2e/check_masks.py" "$P/before.tif" "$TMP/excl" "$TMP/classes.tif" notin:5 "$TMP/base"
OMP_NUM_THREADS=1 detect_pair "$P" "$TMP/excl1" --no-evidence --exclude "$TMP/classes.tif" --exclude-classes 5 --threads 1
check "masks: the same alerts on 1 thread as on all" cmp "$TMP/excl/alerts.csv" "$TMP/excl1/alerts.csv"

bad() {
    local name=$1 want=$2 pattern=$3; shift 3
    detect_pair "$P" "$TMP/bad" --no-evidence "$@"
    if [ "$RC" -eq "$want" ] && [ ! -e "$TMP/bad" ] && grep -q -- "$pattern" "$TMP/stderr"; then
        pass "masks: $name: exit $want, nothing written"
    else
        fail "masks: $name: exit $RC (want $want), stderr: $ERR_TXT"
    fi
}
bad "a forest mask that does not open" 1 "--forest-mask '$TMP/none.tif': cannot open" --forest-mask "$TMP/none.tif"
bad "a rule without its mask" 2 "need --forest-mask" --forest-min 30
bad "two rules for one mask" 2 "one rule, not both" --exclude "$TMP/classes.tif" --exclude-classes 5 --exclude-before 2020-12-31
bad "a bad cut-off date" 2 "expected a date" --exclude "$TMP/classes.tif" --exclude-before 2020-13-45
bad "a bad class list" 2 "whole numbers" --exclude "$TMP/classes.tif" --exclude-classes 1,x
$PY -c "
from osgeo import gdal
r = gdal.GetDriverByName('GTiff').Create('$TMP/far.tif', 10, 10, 1, gdal.GDT_Byte)
r.SetGeoTransform([10, 0.01, 0, 10, 0, -0.01]); r.SetProjection('EPSG:4326')"
bad "a mask that does not overlap the scene" 1 "does not overlap the scene" --forest-mask "$TMP/far.tif"

# canopy info on the pair with the layers: what each makes of its grid.
$PY -c "
from osgeo import ogr, osr
s = osr.SpatialReference(); s.ImportFromEPSG(32721)
ds = ogr.GetDriverByName('GeoJSON').CreateDataSource('$TMP/aoi.geojson')
l = ds.CreateLayer('aoi', s, ogr.wkbPolygon); f = ogr.Feature(l.GetLayerDefn())
f.SetGeometry(ogr.CreateGeometryFromWkt('POLYGON((600000 8900000,601000 8900000,601000 8899000,600000 8899000,600000 8900000))'))
l.CreateFeature(f)"
run_canopy info "$P/before.tif" --json --forest-mask "$TMP/treecover.tif" \
    --exclude "$TMP/classes.tif" --exclude-classes 5 --aoi "$TMP/aoi.geojson" --zones "$TMP/aoi.geojson"
check "masks: canopy info counts what each layer takes out of the grid" $PY - "$TMP/stdout" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["context"]
# The area: 1 km x 1 km (100 x 100 pixels of 10 m) in the scene's corner, all west
# of x = 602000 (80 % tree cover) and north of the class-5 band.
assert c["aoi"]["pixels_inside"] == 10000 and abs(c["aoi"]["area_inside_the_scene_ha"] - 100) < 0.5, c
assert c["aoi"]["area_outside_the_scene_ha"] == 0, c
assert c["forest_mask"]["pixels_forest"] == 10000 and c["forest_mask"]["pixels_not_forest"] == 0, c
assert c["exclude"]["pixels_excluded"] == 0, c
z = c["zones"][0]
assert z["features"] == 1 and z["features_meeting_the_scene"] == 1 and z["crs"].endswith("(EPSG:32721)"), z
PY
run_canopy info "$P/before.tif" --forest-mask "$TMP/treecover.tif"
check "masks: canopy info says the forest share of the grid" \
    grep -q "^forest: .*treecover.tif: 49\.[0-9][0-9]% of the grid forest by its rule" "$TMP/stdout"

# ---- real data: Hansen GFC and PRODES crops ----------------------------------------
H="$SHARED_DATA/mapme-gfc-lossyear-dr"
R="$SHARED_DATA/sits-rondonia-prodes"
if [ ! -f "$H/Hansen_GFC-2023-v1.11_treecover2000_20N_080W.tif" ]; then
    skip "masks: Hansen tree cover and loss year (no $H)"
else
    # A generated pair placed on the Hansen crop (UTM 19N, Dominican Republic).
    HP="$TMP/hansen"
    synth "$HP" --size 400x500 --epsg 32619 --origin 212000,2067500 --clearings 40
    detect_pair "$HP" "$TMP/h0" --no-evidence
    detect_pair "$HP" "$TMP/h1" --no-evidence \
        --forest-mask "$H/Hansen_GFC-2023-v1.11_treecover2000_20N_080W.tif" --forest-min 30
    check "masks: Hansen tree cover 2000 >= 30 %: every alert pixel in it" \
        $PY "$ROOT/tests/e2e/check_masks.py" "$HP/before.tif" "$TMP/h1" \
        "$H/Hansen_GFC-2023-v1.11_treecover2000_20N_080W.tif" min:30 "$TMP/h0"
    detect_pair "$HP" "$TMP/h2" --no-evidence \
        --exclude "$H/Hansen_GFC-2023-v1.11_lossyear_20N_080W.tif" --exclude-before 2020-12-31
    check "masks: Hansen loss year before 2020-12-31 excluded (years 1-20)" \
        $PY "$ROOT/tests/e2e/check_masks.py" "$HP/before.tif" "$TMP/h2" \
        "$H/Hansen_GFC-2023-v1.11_lossyear_20N_080W.tif" not:1-20 "$TMP/h0"
    # Both, with GFW's sample area of interest (no fields: zone "#1") as zones.
    detect_pair "$HP" "$TMP/h3" --no-evidence \
        --forest-mask "$H/Hansen_GFC-2023-v1.11_treecover2000_20N_080W.tif" --forest-min 30 \
        --exclude "$H/Hansen_GFC-2023-v1.11_lossyear_20N_080W.tif" --exclude-before 2020-12-31 \
        --zones "$H/gfw_sample_aoi.gpkg"
    check "masks: both Hansen masks and the GFW sample area as zones" $PY - "$TMP/h3" <<'PY'
import csv, json, sys
r = json.load(open(sys.argv[1] + "/run.json"))
rows = list(csv.DictReader(open(sys.argv[1] + "/zones.csv")))
assert len(rows) == 1 and rows[0]["zone"] == "#1", rows
assert 0 < int(rows[0]["alerts"]) <= r["counts"]["alerts"], rows
assert 0 < float(rows[0]["area_ha"]) <= r["total_alert_area_ha"], rows
print(r["counts"]["alerts"], r["total_alert_area_ha"], rows[0])
PY
fi
if [ ! -f "$R/PRODES_LANDSAT_AMZ_2000-08-01_2020-07-31_class_v20220606.tif" ]; then
    skip "masks: PRODES prior deforestation (no $R)"
else
    # A generated pair on the PRODES crop (UTM 20S, Rondônia).
    RP="$TMP/prodes"
    PRODES="$R/PRODES_LANDSAT_AMZ_2000-08-01_2020-07-31_class_v20220606.tif"
    synth "$RP" --size 600x450 --epsg 32720 --origin 538000,9037000 --clearings 60
    detect_pair "$RP" "$TMP/r0" --no-evidence
    detect_pair "$RP" "$TMP/r1" --no-evidence --exclude "$PRODES" --exclude-classes 11,16,17,27,29
    check "masks: PRODES deforestation 2012-2020 (classes 11,16,17,27,29) excluded" \
        $PY "$ROOT/tests/e2e/check_masks.py" "$RP/before.tif" "$TMP/r1" "$PRODES" \
        notin:11,16,17,27,29 "$TMP/r0"
    detect_pair "$RP" "$TMP/r2" --no-evidence --forest-mask "$PRODES" --forest-classes 1
    check "masks: PRODES forest (class 1) as the forest mask" \
        $PY "$ROOT/tests/e2e/check_masks.py" "$RP/before.tif" "$TMP/r2" "$PRODES" \
        notin:0,11,16,17,27,29,32,33,255 "$TMP/r0"
fi
