#!/bin/bash
# Haze, smoke and thin cloud the quality mask calls clear ([mask] haze,
# kernels/cnp_haze.h): in AFTER they lower NDVI like a clearing. The HOT test
# on blue and red (the clear line fitted on AFTER's clear land), checked
# against SWIR2, takes them out as unobserved - and must leave bright bare
# soil in a fresh clearing observed (the trap of a brightness test).
source "$(dirname "$0")/lib.sh"

EVAL="$ROOT/scripts/eval-truth.py"
field() { $PY -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

H="$TMP/haze"      # bands: blue, green, red, nir, swir1, swir2
synth "$H" --size 400x400 --seed 1 --scenario haze || { fail "haze: generator"; exit 0; }
detect_pair "$H" "$TMP/off" --haze off --swir 6
[ "$RC" -eq 0 ] || { fail "haze: --haze off ($RC: $ERR_TXT)"; exit 0; }
detect_pair "$H" "$TMP/on" --swir 6
[ "$RC" -eq 0 ] || { fail "haze: default ($RC: $ERR_TXT)"; exit 0; }
a=$($PY "$EVAL" "$TMP/off" "$H" --json) && b=$($PY "$EVAL" "$TMP/on" "$H" --json) ||
    { fail "haze: scoring"; exit 0; }
$PY -c "import sys; sys.exit(not float(sys.argv[1]) > 5)" "$(field "$a" false_ha)" &&
    pass "haze: without the test, unflagged haze is $(field "$a" false_ha) ha of false loss" ||
    fail "haze: the scene should defeat the mask alone ($a)"
rb=$(field "$b" recall_count)
[ "$(field "$b" false_ha)" = "0.0" ] && [ "${rb%/*}" = "${rb#*/}" ] &&
    pass "haze: with the test no false loss, every clearing found ($rb, under haze too)" ||
    fail "haze: with the test $b"

check "haze: run.json records the clear line and what the test took out" \
    $PY - "$TMP/on/run.json" "$TMP/off/run.json" <<'PY'
import json, sys
on, off = (json.load(open(p)) for p in sys.argv[1:3])
h = on["haze"]
assert h["used"] is True and h["clear_line"].startswith("fitted"), h
assert 0.5 <= h["slope"] <= 4 and h["hazy_pixels"] > 0, h
assert off["haze"]["used"] is False and off["settings"]["haze"] == "off"
assert on["counts"]["unobserved_pixels"] - off["counts"]["unobserved_pixels"] == h["hazy_pixels"]
PY

# Bright bare soil in fresh clearings (beside a haze patch): still observed,
# still found, with and without SWIR2 to check against.
B="$TMP/soil"
synth "$B" --size 400x400 --seed 1 --scenario bright_soil || fail "haze: generator (soil)"
for args in "--swir 6" ""; do
    rm -rf "$TMP/soil-out"
    # shellcheck disable=SC2086
    detect_pair "$B" "$TMP/soil-out" $args
    s=$($PY "$EVAL" "$TMP/soil-out" "$B" --json) && r=$(field "$s" recall_count) &&
        [ "${r%/*}" = "${r#*/}" ] && [ "$(field "$s" false_ha)" = "0.0" ] &&
        pass "haze: bright-soil clearings are all found (${args:-no SWIR}: $r)" ||
        fail "haze: bright soil (${args:-no SWIR}): $s"
done

# Any thread count: the same alerts; no blue band: the test does not run.
detect_pair "$H" "$TMP/t1" --swir 6 --threads 1
[ "$RC" -eq 0 ] && cmp -s "$TMP/t1/alerts.gpkg" "$TMP/on/alerts.gpkg" &&
    pass "haze: byte-identical alerts with 1 and all threads" || fail "haze: threads differ"
detect_pair "$H" "$TMP/noblue" --blue 0
[ "$RC" -eq 0 ] && $PY -c "
import json, sys
h = json.load(open(sys.argv[1]))['haze']
sys.exit(not (h['used'] is False and 'blue' in h['why_not']))" "$TMP/noblue/run.json" &&
    pass "haze: without a blue band the test is off, and run.json says why" ||
    fail "haze: --blue 0 ($RC: $ERR_TXT)"

# A scene too small to fit its own clear line: the default line was drawn from
# reference spectra, so without SWIR2 to check a pixel against it the test is
# not applied (and says so); with SWIR2 the default line stands.
S="$TMP/small"
synth "$S" --size 20x20 --seed 1 --scenario haze || { fail "haze: small generator"; exit 0; }
detect_pair "$S" "$TMP/small-nos" --no-evidence
check "haze: no line of its own and no SWIR2: not applied, run.json and a warning say why" \
    $PY - "$TMP/small-nos/run.json" "$ERR_TXT" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))["haze"]
assert h["used"] is False and "fit its clear line" in h["why_not"], h
assert "haze test not applied" in sys.argv[2], sys.argv[2]
PY
detect_pair "$S" "$TMP/small-swir" --no-evidence --swir 6
check "haze: no line of its own but SWIR2 to check it: the default line applies" \
    $PY - "$TMP/small-swir/run.json" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))["haze"]
assert h["used"] is True and h["clear_line"].startswith("default"), h
PY

run_canopy monitor --state "$TMP/small-state" --confirm 1 -q "$S/before.tif" "$S/after.tif"
check "haze: the monitor applies the same rule and logs it" \
    $PY -c 'import json, sys
log = json.loads(sys.argv[1].strip().splitlines()[-1])
notes = {c["input"]: c["corrections"] for c in log["corrections"]}
assert "haze: not tested" in notes.get("after", ""), notes' "$OUT_TXT"

# Real data: a 50 x 50 px crop of CBERS-4 AWFI (no SWIR). The default line
# called 1642 of its 2500 pixels hazy in the dry season, hiding them.
C="$SHARED_DATA/sits-cbers4-awfi-ts"
if [ -f "$C/CBERS-4_AWFI_B16_2018-08-29.tif" ]; then
    for d in 2018-03-06 2018-08-29; do
        gdalbuildvrt -q -separate "$TMP/c$d.vrt" "$C/CBERS-4_AWFI_B13_$d.tif" \
            "$C/CBERS-4_AWFI_B14_$d.tif" "$C/CBERS-4_AWFI_B15_$d.tif" "$C/CBERS-4_AWFI_B16_$d.tif"
    done
    run_canopy detect "$TMP/c2018-03-06.vrt" "$TMP/c2018-08-29.vrt" -o "$TMP/cbers" -q --no-evidence
    check "haze: real CBERS-4 crop without SWIR2: the default line is not applied" \
        $PY -c 'import json, sys; h = json.load(open(sys.argv[1]))["haze"]; sys.exit(h["used"])' \
        "$TMP/cbers/run.json"
else
    skip "haze: real CBERS-4 crop (../shared/data absent)"
fi
