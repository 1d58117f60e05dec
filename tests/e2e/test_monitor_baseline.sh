#!/bin/bash
# tests/e2e/test_monitor_baseline.sh - the monitor's per-pixel baseline: the
# median of the last K clear observations ([monitor] baseline_obs,
# --baseline-obs), and states written before it existed.
#
# A generated series of 8 plain rasters (64 x 64 px, 10 m) of dry-season
# forest (NDVI ~0.72) with one greener wet-season date (4: NDVI ~0.96) and a
# real clearing (12 x 12 px = 1.44 ha, NDVI 0.2) from date 7 on. With K = 1
# (the baseline is the last clear observation, the state has no history.tif,
# as before histories) date 5 reads as a loss of
# ~0.28 over the whole scene, confirmed at 6: a false alert of ~41 ha. With
# K = 3 the median ignores date 4: the only alert is the clearing, probable
# at 7 and confirmed at 8. A state without histories (as earlier versions
# wrote it) goes on as a history of one observation and says so once.
. "$(dirname "$0")/lib.sh"

SERIES=$TMP/series
if ! $PY - "$SERIES" >"$TMP/gen.log" 2>&1 <<'EOF'
import os, sys
import numpy as np
from osgeo import gdal, osr
out = sys.argv[1]
os.makedirs(out)
n = 64
srs = osr.SpatialReference()
srs.ImportFromEPSG(32721)
gt = (500000.0, 10.0, 0.0, 8800000.0, 0.0, -10.0)
nir = 3000.0
ndvi = {1: .72, 2: .72, 3: .74, 4: .96, 5: .68, 6: .69, 7: .70, 8: .71}
for d in range(1, 9):
    noise = np.random.RandomState(100 + d).uniform(-0.006, 0.006, (n, n))
    v = ndvi[d] + noise
    if d >= 7:
        v[20:32, 30:42] = 0.20
    red = nir * (1 - v) / (1 + v)
    bands = [np.full((n, n), 250.0), np.full((n, n), 500.0), red, np.full((n, n), nir)]
    ymd = "2024%02d%02d" % (1 + (d - 1) // 2, 1 + 14 * ((d - 1) % 2))
    ds = gdal.GetDriverByName("GTiff").Create(os.path.join(out, "scene_%s.tif" % ymd), n, n, 4,
                                               gdal.GDT_UInt16)
    ds.SetGeoTransform(gt)
    ds.SetProjection(srs.ExportToWkt())
    ds.SetMetadata({"ACQUISITION_DATE": "%s-%s-%s" % (ymd[:4], ymd[4:6], ymd[6:])})
    for b, a in enumerate(bands):
        ds.GetRasterBand(b + 1).SetNoDataValue(0)
        ds.GetRasterBand(b + 1).WriteArray(np.rint(a).astype(np.uint16))
    ds = None
    m = gdal.GetDriverByName("GTiff").Create(os.path.join(out, "scene_%s_mask.tif" % ymd), n, n,
                                              1, gdal.GDT_Byte)
    m.SetGeoTransform(gt)
    m.SetProjection(srs.ExportToWkt())
    m.GetRasterBand(1).WriteArray(np.full((n, n), 4, np.uint8))   # SCL 4: vegetation
    m = None
EOF
then
    fail "monitor baseline: series generator"
    sed 's/^/    /' "$TMP/gen.log" | head -20
    exit 0
fi
SCENES=($(ls "$SERIES"/scene_2024????.tif | sort))

# The raw rule (--normalize off --haze off): normalised, a drop as uniform as
# the wet-to-dry one is taken out before the history is asked; this test is
# about the history.
mon() {
    local state=$1; shift
    run_canopy monitor --state "$state" -q --normalize off --haze off "$@"
}
field() { $PY -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print(v)' "$OUT_TXT" "$1"; }
# alerts STATE: "status pixels" per alert, by id.
alerts() {
    $PY - "$1/alerts.gpkg" <<'EOF'
import sys
from osgeo import ogr
ds = ogr.Open(sys.argv[1])
for f in sorted(ds.GetLayerByName("alerts"), key=lambda f: f["id"]):
    print(f["status"], f["pixels"], f["first_detected"], f["confirmed_at"])
EOF
}
# rasters_equal A B: every state raster of two states, pixel by pixel.
rasters_equal() {
    $PY - "$1" "$2" <<'EOF'
import glob, os, sys
from osgeo import gdal
fa = sorted(glob.glob(sys.argv[1] + "/state/g*/*/*.tif"))
fb = sorted(glob.glob(sys.argv[2] + "/state/g*/*/*.tif"))
assert [os.path.basename(x) for x in fa] == [os.path.basename(x) for x in fb], (fa, fb)
assert any(x.endswith("/history.tif") for x in fa), fa
for x, y in zip(fa, fb):
    assert gdal.Open(x).ReadRaster() == gdal.Open(y).ReadRaster(), (x, y)
EOF
}

# --- K = 1: the wet date makes the next dry one a loss -----------------------
mon "$TMP/k1" --baseline-obs 1 "${SCENES[@]}"
got=$(alerts "$TMP/k1")
if [ "$RC" -eq 0 ] && [ "$(echo "$got" | head -1 | cut -d' ' -f1,2)" = "confirmed 4096" ] &&
   [ "$(cd "$TMP"/k1/state/g*/*/ && ls | tr '\n' ' ')" = "alert_id.tif date.tif ndvi.tif pixel.tif " ]; then
    pass "monitor baseline: --baseline-obs 1 confirms the wet-to-dry drop over all 4096 px"
else
    fail "monitor baseline: --baseline-obs 1 (exit $RC): $got $ERR_TXT"
fi

# The same from the config file's [monitor] baseline_obs; out of range: exit 2.
printf '[monitor]\nbaseline_obs = 1\n' >"$TMP/k1.ini"
mon "$TMP/k1c" -c "$TMP/k1.ini" "${SCENES[@]}"
if [ "$RC" -eq 0 ] && [ "$(alerts "$TMP/k1c")" = "$got" ]; then
    pass "monitor baseline: [monitor] baseline_obs = 1 in --config does the same"
else
    fail "monitor baseline: [monitor] baseline_obs = 1 (exit $RC): $(alerts "$TMP/k1c")"
fi
mon "$TMP/k17" --baseline-obs 17 "${SCENES[@]}"
if [ "$RC" -eq 2 ] && echo "$ERR_TXT" | grep -q "baseline_obs: 17 is out of range" &&
   [ ! -e "$TMP/k17" ]; then
    pass "monitor baseline: --baseline-obs 17: exit 2, no state made"
else
    fail "monitor baseline: --baseline-obs 17 (exit $RC): $ERR_TXT"
fi

# --- K = 3 (the default): only the clearing ---------------------------------
mon "$TMP/k3" "${SCENES[@]}"
got=$(alerts "$TMP/k3")
want="confirmed 144 2024/04/01 2024/04/15"
if [ "$RC" -eq 0 ] && [ "$got" = "$want" ]; then
    pass "monitor baseline: the median of 3 raises no false alert and confirms the clearing"
else
    fail "monitor baseline: default baseline_obs (exit $RC): '$got', want '$want' $ERR_TXT"
fi
check "monitor baseline: history.tif has 3 bands, state.json records them" $PY - "$TMP/k3" <<'EOF'
import glob, json, sys
from osgeo import gdal
g = sorted(glob.glob(sys.argv[1] + "/state/g*"))[-1]
st = json.load(open(g + "/state.json"))
assert "\nbaseline_obs = 3\n" in st["settings_ini"], st["settings_ini"]
fp = st["footprints"][0]
assert fp["baseline_history"] == 3, fp
h = gdal.Open(glob.glob(g + "/*/history.tif")[0])
assert h.RasterCount == 3
EOF

# --- any thread count: the same state, history included ----------------------
mon "$TMP/k3t1" --threads 1 "${SCENES[@]}"
rc1=$RC
mon "$TMP/k3t3" --threads 3 "${SCENES[@]}"
if [ "$rc1" -eq 0 ] && [ "$RC" -eq 0 ] && rasters_equal "$TMP/k3" "$TMP/k3t1" &&
   rasters_equal "$TMP/k3" "$TMP/k3t3" && [ "$(alerts "$TMP/k3t3")" = "$want" ]; then
    pass "monitor baseline: --threads 1 and 3 give the same state rasters"
else
    fail "monitor baseline: threads differ (exit $rc1/$RC)"
fi

# --- a state written before histories ----------------------------------------
# Dates 1-3 with one baseline per pixel, then made into what earlier versions
# wrote: no history.tif, no baseline_history, no baseline_obs in its settings
# (the same state.json content and raster pixels as the previous release
# writes for these dates).
OLD=$TMP/old
mon "$OLD" --baseline-obs 1 "${SCENES[@]:0:3}"
$PY - "$OLD" <<'EOF'
import glob, json, os, re, sys
for g in glob.glob(sys.argv[1] + "/state/g*"):
    for h in glob.glob(g + "/*/history.tif"):
        os.unlink(h)
    p = g + "/state.json"
    st = json.load(open(p))
    st["settings_ini"] = re.sub(r"baseline_obs = \d+\n", "", st["settings_ini"])
    for fp in st["footprints"]:
        del fp["baseline_history"]
    json.dump(st, open(p, "w"))
EOF
cp -a "$OLD" "$TMP/old-bad-settings"
cp -a "$OLD" "$TMP/old-corrupt"
mon "$OLD" "${SCENES[@]}"
log1=$OUT_TXT
got=$(alerts "$OLD")
if [ "$RC" -eq 0 ] && [ "$got" = "$want" ] && [ "$(field scenes_processed)" = 5 ] &&
   [ "$(echo "$log1" | grep -o '"state_upgraded"' | wc -l)" = 1 ] &&
   echo "$log1" | grep -q 'history of one observation'; then
    pass "monitor baseline: an earlier version's state goes on (a history of one, said once)"
else
    fail "monitor baseline: old state (exit $RC): '$got' $ERR_TXT $log1"
fi
check "monitor baseline: the upgraded state records its history" $PY - "$OLD" <<'EOF'
import glob, json, sys
g = sorted(glob.glob(sys.argv[1] + "/state/g*"))[-1]
st = json.load(open(g + "/state.json"))
assert "\nbaseline_obs = 3\n" in st["settings_ini"]
assert st["footprints"][0]["baseline_history"] == 3
assert glob.glob(g + "/*/history.tif")
EOF
mon "$OLD" "${SCENES[@]}"
if [ "$RC" -eq 0 ] && [ "$(field inputs_already_seen)" = 8 ] &&
   ! echo "$OUT_TXT" | grep -q state_upgraded; then
    pass "monitor baseline: the next run does not say it again"
else
    fail "monitor baseline: second run on the upgraded state (exit $RC): $OUT_TXT"
fi
# Other settings than the old state's are still refused.
mon "$TMP/old-bad-settings" --confirm 3 "${SCENES[@]}"
if [ "$RC" -eq 2 ] && echo "$ERR_TXT" | grep -q "other settings"; then
    pass "monitor baseline: an earlier version's state with other settings is refused (exit 2)"
else
    fail "monitor baseline: old state, other settings (exit $RC): $ERR_TXT"
fi
# A state that says it has a history but lost the file: an error, not a reset.
C=$TMP/old-corrupt
mon "$C" "${SCENES[3]}"
cur=$(cat "$C/CURRENT")
rm -f "$C"/state/g*/*/history.tif
mon "$C" "${SCENES[@]:4}"
if [ "$RC" -ne 0 ] && [ "$(cat "$C/CURRENT")" = "$cur" ] && [ -z "$(alerts "$C")" ]; then
    pass "monitor baseline: a missing history.tif fails the run and leaves the state"
else
    fail "monitor baseline: missing history.tif (exit $RC): $ERR_TXT $OUT_TXT"
fi
