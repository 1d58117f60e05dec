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
