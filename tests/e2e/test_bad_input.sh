#!/bin/bash
# Bad input: one clear line on stderr, exit 2 for usage/config and 1 for
# runtime errors, and nothing left in OUTDIR.
source "$(dirname "$0")/lib.sh"

P="$TMP/pair"
synth "$P" --size 160x120 --seed 7 --scenario sample --tile 64 || { fail "bad input: generator"; exit 0; }
B="$P/before.tif"; A="$P/after.tif"

# expect NAME CODE PATTERN ARGS...: canopy detect ARGS must exit CODE with a
# single stderr line matching PATTERN and must not leave OUTDIR behind.
expect() {
    local name=$1 code=$2 pattern=$3; shift 3
    local out="$TMP/out-$RANDOM"
    run_canopy detect "$@" -o "$out" -q
    local lines
    lines=$(printf '%s' "$ERR_TXT" | grep -c '')
    if [ "$RC" -ne "$code" ]; then
        fail "bad input: $name (exit $RC, want $code: $ERR_TXT)"
    elif [ "$lines" -ne 1 ]; then
        fail "bad input: $name ($lines stderr lines: $ERR_TXT)"
    elif ! grep -qE "$pattern" <<<"$ERR_TXT"; then
        fail "bad input: $name (message '$ERR_TXT' does not match '$pattern')"
    elif [ -e "$out" ]; then
        fail "bad input: $name (left $out behind: $(ls -A "$out"))"
    else
        pass "bad input: $name"
    fi
}

expect "missing file" 1 "BEFORE scene '.*nope.tif': cannot open: .*No such file" "$TMP/nope.tif" "$A"
echo "not a raster" >"$TMP/text.tif"
expect "not a raster" 1 "AFTER scene '.*text.tif': cannot open" "$B" "$TMP/text.tif"
gdal_translate -q -b 1 "$A" "$TMP/oneband.tif"
expect "too few bands" 1 "has 1 band\(s\); red and NIR need at least 2" "$B" "$TMP/oneband.tif"
expect "band number out of range" 2 "band 7 out of range \(it has 4 bands\)" "$B" "$A" --nir 7
$PY - "$A" "$TMP/nocrs.tif" <<'PY'
import sys
from osgeo import gdal
ds = gdal.Translate(sys.argv[2], sys.argv[1])
ds.SetProjection("")
ds = None
PY
expect "no CRS" 1 "has no coordinate reference system" "$B" "$TMP/nocrs.tif"
gdal_translate -q -a_ullr 100000 200000 101600 198800 "$A" "$TMP/far.tif"
expect "scenes do not overlap" 1 "do not overlap" "$B" "$TMP/far.tif"
gdal_calc.py --quiet -A "$P/after_mask.tif" --outfile="$TMP/allcloud.tif" --calc="A*0+9" --type=Byte >/dev/null
expect "all pixels masked" 1 "no pixel is observed in both scenes" "$B" "$A" --after-mask "$TMP/allcloud.tif"
gdal_translate -q -a_nodata 0 -scale 0 65535 0 0 -ot UInt16 "$B" "$TMP/allnodata.tif"
expect "all pixels nodata" 1 "no pixel is observed in both scenes" "$TMP/allnodata.tif" "$A"
gdal_translate -q -outsize 50% 50% "$P/before_mask.tif" "$TMP/halfmask.tif"
expect "mask on another grid" 1 "BEFORE mask '.*halfmask.tif': not on the grid of" "$B" "$A" --before-mask "$TMP/halfmask.tif"
expect "missing mask" 1 "AFTER mask '.*nomask.tif': cannot open" "$B" "$A" --after-mask "$TMP/nomask.tif"

# Unwritable OUTDIR: a path below a regular file cannot be created.
touch "$TMP/afile"
run_canopy detect "$B" "$A" -o "$TMP/afile/out" -q
[ "$RC" -eq 1 ] && grep -q "cannot create output folder" <<<"$ERR_TXT" \
    && pass "bad input: unwritable OUTDIR" || fail "bad input: unwritable OUTDIR ($RC: $ERR_TXT)"

# An existing OUTDIR (a run, and a file of the user's) keeps exactly what it
# had when a run with --overwrite fails.
run_canopy detect "$B" "$A" -o "$TMP/keep" -q --no-evidence && echo precious >"$TMP/keep/notes.txt"
before=$(cd "$TMP/keep" && find . -printf '%p %s %T@\n' | sort)
run_canopy detect "$B" "$TMP/far.tif" -o "$TMP/keep" -q --overwrite
[ "$RC" -eq 1 ] && [ "$(cd "$TMP/keep" && find . -printf '%p %s %T@\n' | sort)" = "$before" ] &&
    [ -z "$(ls -A "$TMP" | grep '^\.keep\.tmp-')" ] \
    && pass "bad input: existing OUTDIR left untouched on failure" \
    || fail "bad input: existing OUTDIR touched ($(ls -A "$TMP/keep"))"
