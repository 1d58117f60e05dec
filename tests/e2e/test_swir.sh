#!/bin/bash
# The second index (kernels/cnp_swir.h): forest cleared for pasture that is
# green again by the AFTER date barely changes NDVI; NBR = (NIR - SWIR2) /
# (NIR + SWIR2) drops. With a SWIR2 band ([bands] swir2, --swir N, or a
# product's profile) the combined rule must find those clearings, which the
# NDVI rule alone misses, without adding false loss.
source "$(dirname "$0")/lib.sh"

EVAL="$ROOT/scripts/eval-truth.py"
field() { $PY -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

P="$TMP/pasture"   # bands: blue, green, red, nir, swir1, swir2
synth "$P" --size 400x400 --seed 1 --scenario green_pasture || { fail "swir: generator"; exit 0; }
detect_pair "$P" "$TMP/ndvi"
[ "$RC" -eq 0 ] || { fail "swir: NDVI only ($RC: $ERR_TXT)"; exit 0; }
detect_pair "$P" "$TMP/both" --swir 6
[ "$RC" -eq 0 ] || { fail "swir: --swir 6 ($RC: $ERR_TXT)"; exit 0; }
a=$($PY "$EVAL" "$TMP/ndvi" "$P" --json) && b=$($PY "$EVAL" "$TMP/both" "$P" --json) ||
    { fail "swir: scoring"; exit 0; }
ra=$(field "$a" recall_count) rb=$(field "$b" recall_count) fb=$(field "$b" false_ha)
[ "${ra%/*}" -lt "${ra#*/}" ] &&
    pass "swir: NDVI alone misses green-pasture clearings ($ra)" ||
    fail "swir: the scene should defeat NDVI alone ($ra)"
[ "${rb%/*}" = "${rb#*/}" ] && $PY -c "import sys; sys.exit(float(sys.argv[1]) != 0)" "$fb" &&
    pass "swir: with SWIR2 every clearing is found ($rb), no false loss" ||
    fail "swir: with SWIR2 $rb found, $fb ha false"

check "swir: run.json says which rule ran and what SWIR alone added" \
    $PY - "$TMP/ndvi/run.json" "$TMP/both/run.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
sa, sb = a["second_index"], b["second_index"]
assert sa["used"] is False and "swir2" in sa["why_not"], sa
assert sb["used"] is True and sb["nbr_drop"] == 0.15 and sb["loss_pixels_swir_led"] > 0, sb
assert b["settings"]["swir2"] == 6 and a["settings"]["swir2"] == 0
assert b["counts"]["loss_pixels"] - a["counts"]["loss_pixels"] == sb["loss_pixels_swir_led"], \
    (a["counts"]["loss_pixels"], b["counts"]["loss_pixels"], sb)
PY

# A haze scene (no pasture): the SWIR branch adds nothing false.
H="$TMP/haze"
synth "$H" --size 400x400 --seed 1 --scenario haze || fail "swir: generator (haze)"
# (--haze off: the haze test itself gets better with SWIR2; test_haze.sh)
detect_pair "$H" "$TMP/haze-ndvi" --haze off
detect_pair "$H" "$TMP/haze-both" --swir 6 --haze off
fa=$($PY "$EVAL" "$TMP/haze-ndvi" "$H" --json) && fb=$($PY "$EVAL" "$TMP/haze-both" "$H" --json) &&
    [ "$(field "$fa" false_ha)" = "$(field "$fb" false_ha)" ] &&
    [ "$(field "$fa" recall_count)" = "$(field "$fb" recall_count)" ] &&
    pass "swir: under haze SWIR adds no false loss" ||
    fail "swir: haze scene: NDVI $fa, with SWIR $fb"

# Without normalisation too (the two halves still run), any thread count.
detect_pair "$P" "$TMP/off1" --swir 6 --normalize off --threads 1
r1=$RC
detect_pair "$P" "$TMP/off3" --swir 6 --normalize off --threads 3
[ "$r1" -eq 0 ] && [ "$RC" -eq 0 ] && cmp -s "$TMP/off1/alerts.gpkg" "$TMP/off3/alerts.gpkg" &&
    $PY -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not d['second_index']['used'])" \
        "$TMP/off1/run.json" &&
    pass "swir: --normalize off keeps the second index, same alerts for 1 and 3 threads" ||
    fail "swir: --normalize off ($RC: $ERR_TXT)"
detect_pair "$P" "$TMP/t1" --swir 6 --threads 1
[ "$RC" -eq 0 ] && cmp -s "$TMP/t1/alerts.gpkg" "$TMP/both/alerts.gpkg" &&
    pass "swir: byte-identical alerts with 1 and all threads" || fail "swir: threads differ"

run_canopy detect "$P/before.tif" "$P/after.tif" -o "$TMP/bad" --swir 7
[ "$RC" -eq 2 ] && grep -q "SWIR2 band 7 out of range" <<<"$ERR_TXT" && [ ! -e "$TMP/bad" ] &&
    pass "swir: a SWIR2 band the raster lacks is a configuration error" ||
    fail "swir: --swir 7 on 6 bands ($RC: $ERR_TXT)"

# Confidence (kernels/cnp_confidence.h) from the signals: a clearing NDVI and
# NBR both see strongly is high; one only the SWIR branch found (mean dNDVI
# above -ndvi_drop) is not.
check "swir: confidence follows the signals (strong clearings high, SWIR-led not)" \
    $PY - "$TMP/both/alerts.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert rows and all(r["confidence"] in ("high", "medium", "low") for r in rows)
for r in rows:
    s, d = float(r["confidence_score"]), float(r["mean_dndvi"])
    assert 0 <= s <= 1
    want = "high" if s >= 0.70 else "medium" if s >= 0.45 else "low"
    assert r["confidence"] == want, r
    if d > -0.25:
        assert r["confidence"] != "high", r
    if d <= -0.5:
        assert r["confidence"] == "high", r
assert any(float(r["mean_dndvi"]) > -0.25 for r in rows)
PY
