#!/bin/bash
# Warnings, not silence: a BEFORE newer than AFTER, and a mask raster that
# holds image data (reflectance, NDVI), each give one line on stderr while the
# run goes on (exit 0) and are recorded in run.json's `warnings`. The mask
# rule is checked against the real QA/SCL/Fmask/cloud masks of ../shared/data
# (no warning) and real reflectance bands given as masks (a warning).
source "$(dirname "$0")/lib.sh"
export CANOPY_CONFIG_DIR="$ROOT/configs"
S="$ROOT/samples/pair"

# warnings_of OUTDIR: run.json's warnings, one a line.
warnings_of() { "$PY" -c 'import json,sys
for w in json.load(open(sys.argv[1]))["warnings"]: print(w)' "$1/run.json"; }

run_canopy detect "$S/before.tif" "$S/after.tif" --before-mask "$S/before_mask.tif" \
    --after-mask "$S/after_mask.tif" -o "$TMP/ok" -q --no-evidence
[ "$RC" -eq 0 ] && [ -z "$ERR_TXT" ] &&
    "$PY" -c 'import json,sys; assert json.load(open(sys.argv[1]))["warnings"] == []' "$TMP/ok/run.json" &&
    pass "warnings: none for a pair in order with real masks (run.json warnings = [])" ||
    fail "warnings: plain run: exit $RC, stderr '$ERR_TXT', $(warnings_of "$TMP/ok" 2>&1)"

# BEFORE is the later scene.
run_canopy detect "$S/after.tif" "$S/before.tif" --before-mask "$S/after_mask.tif" \
    --after-mask "$S/before_mask.tif" -o "$TMP/swapped" -q --no-evidence
if [ "$RC" -eq 0 ] && [ "$(grep -c '^canopy: warning: ' <<<"$ERR_TXT")" -eq 1 ] &&
   grep -q "BEFORE's date (2024-08-20) is later than AFTER's (2024-06-15)" <<<"$ERR_TXT" &&
   [ "$(warnings_of "$TMP/swapped" | wc -l)" -eq 1 ] &&
   warnings_of "$TMP/swapped" | grep -q "is later than AFTER's"; then
    pass "warnings: BEFORE later than AFTER: one line on stderr, exit 0, in run.json"
else
    fail "warnings: swapped dates: exit $RC, stderr '$ERR_TXT'"
fi

# A reflectance raster given as AFTER's mask.
run_canopy detect "$S/before.tif" "$S/after.tif" --before-mask "$S/before_mask.tif" \
    --after-mask "$S/after.tif" -o "$TMP/refl" -q --no-evidence
if [ "$RC" -eq 0 ] && [ "$(grep -c '^canopy: warning: ' <<<"$ERR_TXT")" -eq 1 ] &&
   grep -q "AFTER's mask 'after.tif' does not look like a mask" <<<"$ERR_TXT" &&
   warnings_of "$TMP/refl" | grep -q "does not look like a mask"; then
    pass "warnings: a reflectance raster as mask: one line on stderr, exit 0, in run.json"
else
    fail "warnings: reflectance mask: exit $RC, stderr '$ERR_TXT'"
fi

# ---- the rule on real masks and real bands ----------------------------------
D="$SHARED_DATA"
if [ ! -d "$D" ]; then
    skip "warnings: real masks (../shared/data is absent)"
    exit 0
fi
# scene_for MASK OUT: a constant 2-band (red, NIR) scene on MASK's grid.
scene_for() {
    "$PY" - "$1" "$2" <<'PY'
import sys
from osgeo import gdal
m = gdal.Open(sys.argv[1])
d = gdal.GetDriverByName("GTiff").Create(sys.argv[2], m.RasterXSize, m.RasterYSize, 2, gdal.GDT_Int16)
d.SetGeoTransform(m.GetGeoTransform())
d.SetProjection(m.GetProjection())
d.GetRasterBand(1).Fill(400)
d.GetRasterBand(2).Fill(3000)
d = None
PY
}
# mask_warns FILE: 0 when detect with FILE as both masks warns about it.
mask_warns() {
    local f=$1 n
    n=$(basename "$f")
    scene_for "$f" "$TMP/real-$n.tif" || return 2
    "$CANOPY" detect "$TMP/real-$n.tif" "$TMP/real-$n.tif" --before-mask "$f" --after-mask "$f" \
        --red 1 --nir 2 --date-before 2020-01-01 --date-after 2020-02-01 -o "$TMP/real-out-$n" -q \
        --no-evidence >/dev/null 2>"$TMP/real-$n.err"
    grep -q "does not look like a mask" "$TMP/real-$n.err"
}
bad=""
for f in "$D/riotilerpds-l8c2-amazon/"*_QA_PIXEL.TIF "$D/riotilerpds-s2l2a-29RKH/SCL.tif" \
         "$D/bfastspatial-espa-l7/"*_fmask.tif "$D/bfastspatial-espa-l7/"*_sr_cloud_qa.tif \
         "$D/sits-cbers4-awfi-ts/"CBERS-4_AWFI_CMASK_2017-08-29.tif; do
    [ -f "$f" ] || { bad="$bad missing:$(basename "$f")"; continue; }
    mask_warns "$f" && bad="$bad $(basename "$f")"
done
[ -z "$bad" ] && pass "warnings: no warning for the real QA_PIXEL, SCL, Fmask, cloud QA and CBERS masks" ||
    fail "warnings: real masks warned:$bad"
bad=""
for f in "$D/riotilerpds-s2l2a-29RKH/B04.tif" "$D/bfastspatial-espa-l7/"*_sr_band3.tif \
         "$D/bfastspatial-espa-l7/"*_ndvi.tif; do
    [ -f "$f" ] || { bad="$bad missing:$(basename "$f")"; continue; }
    mask_warns "$f" || bad="$bad $(basename "$f")"
done
[ -z "$bad" ] && pass "warnings: real reflectance and NDVI bands given as masks are warned about" ||
    fail "warnings: no warning for:$bad"
exit 0
