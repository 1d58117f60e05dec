#!/bin/bash
# Evidence that stands up in court and travels: on the demo pair, every place
# an alert is pointed at lies inside it.
source "$(dirname "$0")/lib.sh"

S="$ROOT/samples/pair"
EV="$PY $ROOT/tests/e2e/check_evidence.py"
run_canopy detect "$S/before.tif" "$S/after.tif" --before-mask "$S/before_mask.tif" \
    --after-mask "$S/after_mask.tif" -o "$TMP/demo" -q
if [ "$RC" -ne 0 ]; then fail "evidence: demo run ($RC: $ERR_TXT)"; exit 0; fi

check "evidence: links, CSV points, balloons and chip captions lie inside every demo alert" \
    $EV points "$TMP/demo"

check "evidence: alerts.kmz stores its PNGs, not recompressed" $EV kmz-stored "$TMP/demo"

# The overview is a georeferenced raster: on the demo (one cell a pixel), on a
# coarse quicklook (4 pixels a cell) and on a pair whose AFTER covers only part
# of BEFORE (the processed window is the overlap).
check "evidence: overview.png lands on the processed window, outlines on the alerts (demo)" \
    $EV overview "$TMP/demo"
run_canopy detect "$S/before.tif" "$S/after.tif" --before-mask "$S/before_mask.tif" \
    --after-mask "$S/after_mask.tif" -o "$TMP/coarse" -q --overview-size 100 --no-evidence
[ "$RC" -eq 0 ] || fail "evidence: coarse overview run ($RC: $ERR_TXT)"
check "evidence: overview.png lands on the processed window, outlines on the alerts (4 px a cell)" \
    $EV overview "$TMP/coarse"
mkdir -p "$TMP/part"
gdal_translate -q -srcwin 40 20 360 380 "$S/after.tif" "$TMP/part/after.tif"
gdal_translate -q -srcwin 40 20 360 380 "$S/after_mask.tif" "$TMP/part/after_mask.tif"
run_canopy detect "$S/before.tif" "$TMP/part/after.tif" --before-mask "$S/before_mask.tif" \
    --after-mask "$TMP/part/after_mask.tif" -o "$TMP/partout" -q --overview-size 120 --no-evidence
[ "$RC" -eq 0 ] || fail "evidence: partial-overlap run ($RC: $ERR_TXT)"
check "evidence: overview.png lands on the processed window, outlines on the alerts (partial overlap, coarser cells)" \
    $EV overview "$TMP/partout"

# Alert numbers, scale bar, north arrow and legend on the overview: every demo
# alert is numbered as in the reports, beside its outline.
check "evidence: overview.png numbers the 8 demo alerts as the reports do, with scale bar, north arrow, legend" \
    $EV overview-labels "$TMP/demo" 8

check "evidence: chips open georeferenced on their windows, outlines on the alert edges" \
    $EV chips-georef "$TMP/demo"

check "evidence: alerts.kmz lays overview.png on the ground where its world file puts it" \
    $EV kmz-overlay "$TMP/demo"
