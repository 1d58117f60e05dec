#!/bin/bash
# tests/e2e/test_monitor_context.sh - canopy monitor with detect's context
# layers: --forest-mask, --exclude and --aoi (io/cnp_ctxmask.h, the same code).
# On a generated pair (two dates: a baseline, then the loss), every alert
# pixel of the database passes the mask, as check_masks.py checks detect's,
# and a state without the mask has some that do not; the area of interest
# holds every alert and nothing outside it is read. A state refuses a run
# with other layers; bad layers are refused before the run (nothing
# written) or, when they miss a scene, make it one failed input.
source "$(dirname "$0")/lib.sh"

P="$TMP/pair"
synth "$P" || { fail "monitor context: canopy-synth"; exit 0; }
mon() { local state=$1; shift; run_canopy monitor --state "$state" --confirm 1 -q "$@"; }
inputs=("$P/before.tif" "$P/after.tif")

# The same rasters as test_context_masks.sh (context_fixture.py): 30 m tree
# cover in EPSG:4326 (80 % west of x = 602000, 10 % east) and classes (5 over
# a band of rows); then areas of interest of its own.
$PY "$ROOT/tests/e2e/context_fixture.py" "$TMP"
$PY - "$TMP" <<'PY'
import sys
import numpy as np
from osgeo import gdal, ogr, osr
d = sys.argv[1]
utm = osr.SpatialReference(); utm.ImportFromEPSG(32721)
def poly(path, wkt):
    ds = ogr.GetDriverByName("GeoJSON").CreateDataSource(path)
    l = ds.CreateLayer("aoi", utm, ogr.wkbPolygon); f = ogr.Feature(l.GetLayerDefn())
    f.SetGeometry(ogr.CreateGeometryFromWkt(wkt)); l.CreateFeature(f)
# The scene's west half, and an area far from it.
poly(d + "/aoi.geojson", "POLYGON((600000 8900000,602000 8900000,602000 8896000,600000 8896000,600000 8900000))")
poly(d + "/far.geojson", "POLYGON((700000 8800000,701000 8800000,701000 8799000,700000 8799000,700000 8800000))")
# The area as pixels of the scene's grid (10 m from 600000, 8900000): 1 inside.
a = np.zeros((400, 400), np.uint8); a[:, :200] = 1
m = gdal.GetDriverByName("GTiff").Create(d + "/aoi_pixels.tif", 400, 400, 1, gdal.GDT_Byte)
m.SetGeoTransform([600000, 10, 0, 8900000, 0, -10]); m.SetProjection(utm.ExportToWkt())
m.GetRasterBand(1).WriteArray(a); m = None
r = gdal.GetDriverByName("GTiff").Create(d + "/far.tif", 10, 10, 1, gdal.GDT_Byte)
r.SetGeoTransform([10, 0.01, 0, 10, 0, -0.01]); r.SetProjection("EPSG:4326")
PY

mon "$TMP/base" "${inputs[@]}"
if [ "$RC" -ne 0 ]; then
    fail "monitor context: a run without layers (exit $RC): $ERR_TXT"
    exit 0
fi

mon "$TMP/forest" --forest-mask "$TMP/treecover.tif" --forest-min 30 "${inputs[@]}"
check "monitor context: --forest-mask --forest-min 30: every alert pixel is forest in the mask (and not all were)" \
    $PY "$ROOT/tests/e2e/check_masks.py" "$P/before.tif" "$TMP/forest" "$TMP/treecover.tif" min:30 "$TMP/base"
check "monitor context: the log line and the state say which layers were used" $PY - "$TMP/stdout" "$TMP/forest" <<'PY'
import glob, json, sys
line = json.loads(open(sys.argv[1]).read())
assert "forest_mask = " in line["context"] and "forest_min = 30" in line["context"], line
st = json.load(open(glob.glob(sys.argv[2] + "/state/g*/state.json")[0]))
assert "\n[context]\nforest_mask = /" in st["settings_ini"], st["settings_ini"]
PY

mon "$TMP/excl" --exclude "$TMP/classes.tif" --exclude-classes 5 "${inputs[@]}"
check "monitor context: --exclude --exclude-classes 5: no alert pixel on class 5 (and some were)" \
    $PY "$ROOT/tests/e2e/check_masks.py" "$P/before.tif" "$TMP/excl" "$TMP/classes.tif" notin:5 "$TMP/base"
OMP_NUM_THREADS=1 mon "$TMP/excl1" --threads 1 --exclude "$TMP/classes.tif" --exclude-classes 5 "${inputs[@]}"
check "monitor context: the same alerts on 1 thread as on all" \
    cmp <($PY "$ROOT/tests/e2e/monitor_db.py" dump "$TMP/excl/alerts.gpkg") \
        <($PY "$ROOT/tests/e2e/monitor_db.py" dump "$TMP/excl1/alerts.gpkg")

# detect on the same pair with the same mask: the same rule, so neither
# has an alert pixel on class 5 (check_masks.py above for both).
detect_pair "$P" "$TMP/dexcl" --no-evidence --exclude "$TMP/classes.tif" --exclude-classes 5
check "monitor context: detect with the same --exclude: no alert pixel on class 5 either" \
    $PY "$ROOT/tests/e2e/check_masks.py" "$P/before.tif" "$TMP/dexcl" "$TMP/classes.tif" notin:5

mon "$TMP/aoi" --aoi "$TMP/aoi.geojson" "${inputs[@]}"
check "monitor context: --aoi: every alert pixel inside the area (and not all were)" \
    $PY "$ROOT/tests/e2e/check_masks.py" "$P/before.tif" "$TMP/aoi" "$TMP/aoi_pixels.tif" min:1 "$TMP/base"

# Monitor's alerts as detect's with the same layer: on the SLC-off pair (no
# haze, nothing for detect's normalisation to change: there a two-scene
# monitor run and detect find the same alerts, test_monitor_gaps.sh).
G="$TMP/gaps"
synth "$G" --size 400x400 --seed 1 --scenario slc_gaps || fail "monitor context: slc_gaps generator"
areas() { $PY - "$1" <<'PY'
import sys
from osgeo import ogr
ds = ogr.Open(sys.argv[1])   # kept open while its features are read
print(sorted((round(f["area_ha"], 4), f["partially_observed"]) for f in ds.GetLayer("alerts")))
PY
}
same_as_detect() {
    local name=$1; shift
    rm -rf "$TMP/gm" "$TMP/gd"
    run_canopy monitor --state "$TMP/gm" --confirm 1 -q "$@" "$G/before.tif" "$G/after.tif"
    local rm=$RC
    detect_pair "$G" "$TMP/gd" --no-evidence "$@"
    if [ "$rm" -eq 0 ] && [ "$RC" -eq 0 ] && [ -n "$(areas "$TMP/gm/alerts.gpkg")" ] &&
       [ "$(areas "$TMP/gm/alerts.gpkg")" = "$(areas "$TMP/gd/alerts.gpkg")" ]; then
        pass "monitor context: $name: the alerts detect finds with it"
    else
        fail "monitor context: $name: monitor (exit $rm) $(areas "$TMP/gm/alerts.gpkg"), detect (exit $RC) $(areas "$TMP/gd/alerts.gpkg")"
    fi
}
same_as_detect "--forest-mask --forest-min 30" --forest-mask "$TMP/treecover.tif" --forest-min 30
same_as_detect "--exclude --exclude-classes 5" --exclude "$TMP/classes.tif" --exclude-classes 5
same_as_detect "--aoi" --aoi "$TMP/aoi.geojson"

# A state keeps its layers: a run with others (or none) is refused, exit 2,
# and the state stays at its generation; the same layers named from another
# folder are the same.
cur=$(cat "$TMP/forest/CURRENT")
mon "$TMP/forest" --exclude "$TMP/classes.tif" "${inputs[@]}"
if [ "$RC" -eq 2 ] && grep -q "other settings.*\[context\]" "$TMP/stderr" &&
   [ "$(cat "$TMP/forest/CURRENT")" = "$cur" ]; then
    pass "monitor context: other layers than the state's are refused (exit 2), state as it was"
else
    fail "monitor context: other layers: exit $RC, $ERR_TXT"
fi
mon "$TMP/forest" "${inputs[@]}"
[ "$RC" -eq 2 ] && pass "monitor context: no layers on a state made with them: refused (exit 2)" ||
    fail "monitor context: no layers on a state with them: exit $RC, $ERR_TXT"
(cd "$TMP" && "$CANOPY" monitor --state forest --confirm 1 -q --forest-mask treecover.tif \
    --forest-min 30 "${inputs[@]}" >/dev/null 2>"$TMP/stderr")
check "monitor context: the same layers by relative names: accepted, nothing new" test $? -eq 0

# Bad layers: refused before the run, nothing written.
bad() {
    local name=$1 want=$2 pattern=$3; shift 3
    rm -rf "$TMP/bad"
    mon "$TMP/bad" "$@" "${inputs[@]}"
    if [ "$RC" -eq "$want" ] && [ ! -e "$TMP/bad" ] && grep -q -- "$pattern" "$TMP/stderr"; then
        pass "monitor context: $name: exit $want, nothing written"
    else
        fail "monitor context: $name: exit $RC (want $want), stderr: $ERR_TXT"
    fi
}
bad "a forest mask that does not open" 1 "--forest-mask '$TMP/none.tif': cannot open" --forest-mask "$TMP/none.tif"
bad "an area of interest that does not open" 1 "--aoi" --aoi "$TMP/none.geojson"
bad "a rule without its mask" 2 "need --forest-mask" --forest-min 30

# Layers that miss a scene: that scene is a failed input, its footprint is
# not made (and an existing one keeps its state).
missed() {
    local name=$1 pattern=$2; shift 2
    rm -rf "$TMP/miss"
    mon "$TMP/miss" "$@" "${inputs[@]}"
    if [ "$RC" -eq "$(exit_partial)" ] && grep -q -- "$pattern" "$TMP/stdout" &&
       $PY - "$TMP/miss" <<'PY'
import glob, json, sys
st = json.load(open(glob.glob(sys.argv[1] + "/state/g*/state.json")[0]))
assert not st.get("footprints"), st.get("footprints")
PY
    then
        pass "monitor context: $name: each scene failed (exit $RC), no footprint state"
    else
        fail "monitor context: $name: exit $RC, stderr: $ERR_TXT"
    fi
}
exit_partial() { sed -n 's/.*CNP_EXIT_PARTIAL *= *\([0-9]*\).*/\1/p' "$ROOT/pipeline/base/cnp_exit.h"; }
missed "a forest mask on another part of the world" "does not overlap the scene" --forest-mask "$TMP/far.tif"
missed "an area of interest that misses the scene" "--aoi .*does not overlap the scene" --aoi "$TMP/far.geojson"
