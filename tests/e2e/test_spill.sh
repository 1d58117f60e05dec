#!/bin/bash
# The spill file between the two halves of detect's pass (README, Method step
# 5): how many bytes a pixel it keeps for each set of options, and that the
# haze test, which keeps AFTER's DNs and recomputes its reflectances from
# them, decides the same from UInt16 and from Float32 copies of the scenes.
# A 1024 x 1024 window: normalization.spill_mb is then bytes a pixel.
source "$(dirname "$0")/lib.sh"

P="$TMP/haze"
synth "$P" --size 1024x1024 --seed 5 --scenario haze || fail "spill: generator"

spill_mb() {   # OUTDIR -> normalization.spill_mb
    $PY -c "import json,sys; print(json.load(open(sys.argv[1]))['normalization'].get('spill_mb'))" \
        "$1/run.json"
}

# options | bytes a pixel: BEFORE's NDVI and the classes 5, AFTER's red and
# NIR DNs 4 (the quicklook's and the haze test's; AFTER's NDVI is computed
# again from them, and kept, 4, only without both), blue DN 2, SWIR2 8.
while IFS='|' read -r opts want; do
    out="$TMP/o$(echo "$opts" | tr -c 'a-z0-9' _)"
    # shellcheck disable=SC2086
    detect_pair "$P" "$out" --no-hash --no-evidence $opts
    [ "$RC" -eq 0 ] || { fail "spill: $opts ($RC: $ERR_TXT)"; continue; }
    got=$(spill_mb "$out")
    [ "$got" = "$want" ] && pass "spill: ${opts:-default}: $got bytes a pixel" ||
        fail "spill: ${opts:-default}: $got bytes a pixel, want $want"
done <<'LIST'
|11
--outputs gpkg|11
--haze off|9
--haze off --outputs gpkg|9
--swir 6|19
LIST

# The same scenes as Float32: 4-byte DNs (5 + 8 + 4), and the same decisions.
F="$TMP/float"
mkdir -p "$F"
for f in before after; do
    gdal_translate -q -ot Float32 "$P/$f.tif" "$F/$f.tif" && cp "$P/${f}_mask.tif" "$F/" ||
        fail "spill: gdal_translate $f"
done
detect_pair "$F" "$TMP/of" --no-hash --no-evidence --outputs csv
[ "$RC" -eq 0 ] || fail "spill: Float32 ($RC: $ERR_TXT)"
detect_pair "$P" "$TMP/ou" --no-hash --no-evidence --outputs csv
check "spill: Float32 scenes keep 17 bytes a pixel" test "$(spill_mb "$TMP/of")" = 17
check "spill: the haze test flags the same pixels from Float32 and UInt16 DNs" \
    $PY - "$TMP/of/run.json" "$TMP/ou/run.json" <<'PY'
import json, sys
f, u = (json.load(open(p)) for p in sys.argv[1:3])
assert f["haze"]["hazy_pixels"] == u["haze"]["hazy_pixels"] > 1000, (f["haze"], u["haze"])
assert f["counts"] == u["counts"], (f["counts"], u["counts"])
PY
cmp -s "$TMP/of/alerts.csv" "$TMP/ou/alerts.csv" &&
    pass "spill: the same alerts from Float32 and UInt16 scenes" ||
    fail "spill: Float32 and UInt16 scenes give different alerts"

rm -rf "$TMP"
