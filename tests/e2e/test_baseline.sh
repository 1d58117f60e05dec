#!/bin/bash
# The multi-date baseline (--baseline, kernels/cnp_baseline.h): a wet-season
# BEFORE against a dry-season AFTER turns deciduous forest into "loss". With
# earlier scenes of AFTER's season the change is measured from the median of
# their clear NDVI (forest still decided on BEFORE), and only the clearings
# stand out.
source "$(dirname "$0")/lib.sh"

EVAL="$ROOT/scripts/eval-truth.py"
field() { $PY -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

P="$TMP/pheno"
synth "$P" --size 400x400 --seed 1 --scenario phenology || { fail "baseline: generator"; exit 0; }
BASE=()
for k in 1 2 3; do BASE+=(--baseline "$P/baseline$k.tif" --baseline-mask "$P/baseline${k}_mask.tif"); done

# The raw change (no normalisation, which hides much of the season too).
detect_pair "$P" "$TMP/raw" --normalize off
[ "$RC" -eq 0 ] || { fail "baseline: without ($RC: $ERR_TXT)"; exit 0; }
detect_pair "$P" "$TMP/base" --normalize off "${BASE[@]}"
[ "$RC" -eq 0 ] || { fail "baseline: with ($RC: $ERR_TXT)"; exit 0; }
a=$($PY "$EVAL" "$TMP/raw" "$P" --json) && b=$($PY "$EVAL" "$TMP/base" "$P" --json) ||
    { fail "baseline: scoring"; exit 0; }
$PY -c "import sys; sys.exit(not float(sys.argv[1]) > 50)" "$(field "$a" false_ha)" &&
    pass "baseline: against BEFORE, the season is $(field "$a" false_ha) ha of false loss" ||
    fail "baseline: the scene should defeat two-date differencing ($a)"
rb=$(field "$b" recall_count)
[ "$(field "$b" false_ha)" = "0.0" ] && [ "${rb%/*}" = "${rb#*/}" ] &&
    pass "baseline: against the baselines, no false loss and every clearing ($rb)" ||
    fail "baseline: with baselines $b"
detect_pair "$P" "$TMP/default" "${BASE[@]}" --swir 6
s=$($PY "$EVAL" "$TMP/default" "$P" --json) && r=$(field "$s" recall_count) &&
    [ "${r%/*}" = "${r#*/}" ] && [ "$(field "$s" false_ha)" = "0.0" ] &&
    pass "baseline: with the default normalisation and SWIR too ($r, nothing false)" ||
    fail "baseline: default settings and --swir 6: $RC $ERR_TXT $s"

check "baseline: run.json records the reference, its scenes and their hashes" \
    $PY - "$TMP/base/run.json" "$TMP/raw/run.json" <<'PY'
import json, sys
j, raw = (json.load(open(p)) for p in sys.argv[1:3])
ref = j["reference"]
assert ref["forest_test_on"] == "BEFORE" and ref["ndvi"].startswith("median"), ref
assert [b["date"] for b in ref["baselines"]] == ["2021-08-20", "2022-08-20", "2023-08-20"], ref
assert ref["pixels_from_baselines"] > 100000 and ref["pixels_without_clear_baseline"] >= 0, ref
assert raw["reference"]["ndvi"] == "BEFORE" and raw["reference"]["baselines"] == []
roles = {i["role"]: i for i in j["inputs"]}
for k in (1, 2, 3):
    for r in ("baseline%d" % k, "baseline%d_mask" % k):
        assert len(roles[r]["sha256"]) == 64, roles.get(r)
PY

# One baseline: fewer pixels have a clear reference, and each alert rests on
# one observation instead of three: lower confidence.
detect_pair "$P" "$TMP/one" --normalize off --baseline "$P/baseline1.tif" \
    --baseline-mask "$P/baseline1_mask.tif"
check "baseline: three clear observations behind an alert raise its confidence" \
    $PY - "$TMP/base/alerts.csv" "$TMP/one/alerts.csv" <<'PY'
import csv, sys
three, one = ([float(r["confidence_score"]) for r in csv.DictReader(open(p))] for p in sys.argv[1:3])
assert one and sum(three) / len(three) > sum(one) / len(one) + 0.05, (three, one)
PY

detect_pair "$P" "$TMP/t1" --normalize off "${BASE[@]}" --threads 1
[ "$RC" -eq 0 ] && cmp -s "$TMP/t1/alerts.gpkg" "$TMP/base/alerts.gpkg" &&
    pass "baseline: byte-identical alerts with 1 and all threads" || fail "baseline: threads differ"

# The record: verify --rerun reads the baselines back from run.json's inputs
# and reproduces the run byte for byte.
run_canopy verify "$TMP/base" --rerun
[ "$RC" -eq 0 ] && pass "baseline: verify --rerun reproduces a run with baselines" ||
    fail "baseline: verify --rerun ($RC: $OUT_TXT $ERR_TXT)"

# Bad input: one clear line, nothing written.
run_canopy detect "$P/before.tif" "$P/after.tif" -o "$TMP/bad1" --baseline "$TMP/none.tif"
[ "$RC" -eq 1 ] && grep -q "BASELINE 1" <<< "$ERR_TXT" && [ ! -e "$TMP/bad1" ] &&
    pass "baseline: a missing baseline is named, exit 1, nothing written" ||
    fail "baseline: missing baseline ($RC: $ERR_TXT)"
run_canopy detect "$P/before.tif" "$P/after.tif" -o "$TMP/bad2" --baseline "$P/baseline1.tif" \
    --baseline-mask "$P/baseline1_mask.tif" --baseline-mask "$P/baseline2_mask.tif"
[ "$RC" -eq 2 ] && grep -q "baseline-mask" <<< "$ERR_TXT" && [ ! -e "$TMP/bad2" ] &&
    pass "baseline: more masks than baselines is a usage error" ||
    fail "baseline: mask count ($RC: $ERR_TXT)"
many=()
for k in 1 2 3 4 5 6 7 8 9; do many+=(--baseline "$P/baseline1.tif"); done
run_canopy detect "$P/before.tif" "$P/after.tif" -o "$TMP/bad3" "${many[@]}"
[ "$RC" -eq 2 ] && grep -q "at most 8" <<< "$ERR_TXT" && [ ! -e "$TMP/bad3" ] &&
    pass "baseline: nine baselines are refused" || fail "baseline: nine ($RC: $ERR_TXT)"
run_canopy detect "$P/before.tif" "$P/after.tif" -o "$TMP/late" --baseline "$P/after.tif" \
    --no-evidence -q
[ "$RC" -eq 0 ] && grep -q "not earlier than AFTER" "$TMP/late/run.json" &&
    pass "baseline: a baseline not earlier than AFTER is warned about" ||
    fail "baseline: late baseline ($RC: $ERR_TXT)"

# dNBR is measured from the baselines too (their median NBR), not from
# BEFORE. The green-pasture scene's clearings are found by the SWIR branch;
# with BEFORE itself as the baseline they still are, and with a baseline
# that is BEFORE except for AFTER's SWIR2 (no NBR change left to see) only
# those NDVI finds alone remain.
G="$TMP/gp"
synth "$G" --size 400x400 --seed 1 --scenario green_pasture || fail "baseline: generator (green_pasture)"
mkdir -p "$G/b" && cp "$G/before.tif" "$G/b/swir_after.tif" && cp "$G/before_mask.tif" "$G/b/mask.tif" &&
    $PY -c "
from osgeo import gdal
import sys
b, a = gdal.Open(sys.argv[1], gdal.GA_Update), gdal.Open(sys.argv[2])
b.GetRasterBand(6).WriteArray(a.GetRasterBand(6).ReadAsArray())
b = None
" "$G/b/swir_after.tif" "$G/after.tif" || fail "baseline: SWIR2 swap"
detect_pair "$G" "$TMP/gp-same" --swir 6 --no-evidence --baseline "$G/before.tif" \
    --baseline-mask "$G/before_mask.tif"
r1=$RC
detect_pair "$G" "$TMP/gp-swap" --swir 6 --no-evidence --baseline "$G/b/swir_after.tif" \
    --baseline-mask "$G/b/mask.tif"
a=$($PY "$EVAL" "$TMP/gp-same" "$G" --json) && b=$($PY "$EVAL" "$TMP/gp-swap" "$G" --json) &&
    [ "$r1" -eq 0 ] && [ "$RC" -eq 0 ] && [ "$(field "$a" recall_count)" = 12/12 ] &&
    [ "$(field "$b" recall_count)" = 4/12 ] &&
    pass "baseline: dNBR from the baselines' NBR: BEFORE as baseline 12/12, with AFTER's SWIR2 4/12" ||
    fail "baseline: dNBR from the baselines ($r1/$RC: $a / $b)"

# Real data: the CBERS-4 AWFI series (Cerrado, one grid) from a wet-season
# BEFORE (2018-03-06) to a dry-season AFTER (2018-08-29) has no known loss;
# measured from BEFORE the dry season is hundreds of hectares of "loss",
# measured from the previous dry season (2017-08-29 .. 09-30) it is none.
C="$SHARED_DATA/sits-cbers4-awfi-ts"
if [ ! -f "$C/CBERS-4_AWFI_B15_2018-08-29.tif" ]; then
    skip "baseline: real CBERS-4 wet/dry pair (../shared/data absent)"
    exit 0
fi
for d in 2017-08-29 2017-09-14 2017-09-30 2018-03-06 2018-08-29; do
    gdalbuildvrt -q -separate "$TMP/c$d.vrt" "$C/CBERS-4_AWFI_B13_$d.tif" \
        "$C/CBERS-4_AWFI_B14_$d.tif" "$C/CBERS-4_AWFI_B15_$d.tif" "$C/CBERS-4_AWFI_B16_$d.tif" ||
        { fail "baseline: gdalbuildvrt CBERS $d"; exit 0; }
done
alerts() { $PY -c "import json,sys; j=json.load(open(sys.argv[1])); print(j['counts']['alerts'], j['total_alert_area_ha'])" "$1/run.json"; }
run_canopy detect "$TMP/c2018-03-06.vrt" "$TMP/c2018-08-29.vrt" -o "$TMP/cb-raw" -q --no-evidence \
    --normalize off
raw=$(alerts "$TMP/cb-raw")
run_canopy detect "$TMP/c2018-03-06.vrt" "$TMP/c2018-08-29.vrt" -o "$TMP/cb-base" -q --no-evidence \
    --normalize off --baseline "$TMP/c2017-08-29.vrt" --baseline "$TMP/c2017-09-14.vrt" \
    --baseline "$TMP/c2017-09-30.vrt"
base=$(alerts "$TMP/cb-base")
[ "$RC" -eq 0 ] && [ "${raw%% *}" -gt 0 ] && [ "${base%% *}" = 0 ] &&
    pass "baseline: real CBERS-4 wet/dry pair: ${raw#* } ha of false loss from BEFORE, none from the dry-season baselines" ||
    fail "baseline: CBERS-4 ($RC: raw $raw, with baselines $base; $ERR_TXT)"
