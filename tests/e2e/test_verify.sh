#!/bin/bash
# canopy verify: intact outputs pass; one changed byte in an output or an input
# fails with that file named; --rerun reproduces byte-identical outputs with 1
# and with N threads.
source "$(dirname "$0")/lib.sh"

P="$TMP/pair"
synth "$P" --size 300x300 --seed 9 --scenario sample --tile 64 || { fail "verify: generator"; exit 0; }
cd "$TMP" || exit 1
run_canopy detect pair/before.tif pair/after.tif --before-mask pair/before_mask.tif \
    --after-mask pair/after_mask.tif -o out -q --threads 2
[ "$RC" -eq 0 ] || { fail "verify: detect ($RC: $ERR_TXT)"; exit 0; }

run_canopy verify out
[ "$RC" -eq 0 ] && grep -q "^intact" <<<"$OUT_TXT" && ! grep -q "^changed\|^missing" <<<"$OUT_TXT" \
    && pass "verify: intact outputs and inputs pass" || fail "verify: intact ($RC: $OUT_TXT $ERR_TXT)"

for t in 1 2; do
    run_canopy verify --rerun --threads $t out
    [ "$RC" -eq 0 ] && grep -q "reproduced byte for byte" <<<"$OUT_TXT" \
        && pass "verify: --rerun with $t thread(s) reproduces every output" \
        || fail "verify: --rerun $t threads ($RC: $(grep -v '^ok' <<<"$OUT_TXT") $ERR_TXT)"
done
[ -z "$(ls -A out | grep canopy-rerun)" ] && pass "verify: --rerun leaves nothing behind" \
    || fail "verify: rerun left $(ls -A out)"

# One changed byte in an output.
cp -a out out2
$PY - out2/alerts.geojson <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[len(b) // 2] ^= 1; open(sys.argv[1], "wb").write(b)
PY
run_canopy verify out2
[ "$RC" -eq 1 ] && grep -q "^changed  alerts.geojson" <<<"$OUT_TXT" && grep -q "NOT intact" <<<"$OUT_TXT" \
    && pass "verify: a changed output byte is named, exit 1" || fail "verify: changed output ($RC: $OUT_TXT)"

# A missing output.
cp -a out out3 && rm -f out3/overview.png
run_canopy verify out3
[ "$RC" -eq 1 ] && grep -q "^missing  overview.png" <<<"$OUT_TXT" \
    && pass "verify: a missing output is named, exit 1" || fail "verify: missing output ($RC: $OUT_TXT)"

# One changed byte in an input.
$PY - pair/after_mask.tif <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[-1] ^= 1; open(sys.argv[1], "wb").write(b)
PY
run_canopy verify out
[ "$RC" -eq 1 ] && grep -q "^changed  pair/after_mask.tif" <<<"$OUT_TXT" \
    && pass "verify: a changed input byte is named, exit 1" || fail "verify: changed input ($RC: $OUT_TXT)"

run_canopy verify "$TMP/nowhere"
[ "$RC" -eq 1 ] && grep -q "run.json" <<<"$ERR_TXT" && pass "verify: no run.json is a clear error" \
    || fail "verify: no run.json ($RC: $ERR_TXT)"
run_canopy verify
[ "$RC" -eq 2 ] && pass "verify: missing OUTDIR is a usage error" || fail "verify: usage ($RC)"
