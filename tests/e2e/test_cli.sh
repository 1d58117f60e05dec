#!/bin/bash
# Command-line behaviour: help, version, usage errors and the exit-code table.
source "$(dirname "$0")/lib.sh"

run_canopy --help
[ $RC -eq 0 ] && grep -q "detect BEFORE AFTER" <<<"$OUT_TXT" && pass "cli: --help exits 0" || fail "cli: --help ($RC)"

run_canopy detect --help
[ $RC -eq 0 ] && grep -q -- "--min-area" <<<"$OUT_TXT" && grep -q "Exit status" <<<"$OUT_TXT" \
    && pass "cli: detect --help lists options and exit codes" || fail "cli: detect --help"

run_canopy --version
[ $RC -eq 0 ] && grep -q "^canopy " <<<"$OUT_TXT" && pass "cli: --version" || fail "cli: --version"

run_canopy detect --bogus a b -o x
[ $RC -eq 2 ] && grep -q "Try 'canopy detect --help'" <<<"$ERR_TXT" && pass "cli: unknown option exits 2" \
    || fail "cli: unknown option ($RC: $ERR_TXT)"

run_canopy frobnicate
[ $RC -eq 2 ] && pass "cli: unknown command exits 2" || fail "cli: unknown command ($RC)"

run_canopy detect onlyone.tif -o "$TMP/o"
[ $RC -eq 2 ] && grep -q "two scenes" <<<"$ERR_TXT" && pass "cli: one scene is a usage error" \
    || fail "cli: one scene ($RC: $ERR_TXT)"

run_canopy detect a.tif b.tif
[ $RC -eq 2 ] && grep -q "OUTDIR" <<<"$ERR_TXT" && pass "cli: missing -o is a usage error" \
    || fail "cli: missing -o ($RC: $ERR_TXT)"

run_canopy detect a.tif b.tif -o "$TMP/o" --connectivity 6
[ $RC -eq 2 ] && grep -q -- "--connectivity" <<<"$ERR_TXT" && [ ! -e "$TMP/o" ] \
    && pass "cli: bad option value names the option, exit 2" || fail "cli: bad option value ($RC: $ERR_TXT)"

run_canopy detect a.tif b.tif -o "$TMP/o" --ndvi-drop abc
[ $RC -eq 2 ] && grep -q "not a number" <<<"$ERR_TXT" && pass "cli: non-numeric value exits 2" \
    || fail "cli: non-numeric value ($RC: $ERR_TXT)"

# The built-in defaults are exactly configs/default.ini.
"$CANOPY" detect --print-config >"$TMP/builtin.ini"
"$CANOPY" detect --config "$ROOT/configs/default.ini" --print-config >"$TMP/file.ini"
check "config: built-in defaults equal configs/default.ini" cmp "$TMP/builtin.ini" "$TMP/file.ini"

# Command line overrides the file; the printed config round-trips.
printf '[detect]\nmin_area = 2\nconnectivity = 4\n' >"$TMP/c.ini"
"$CANOPY" detect --config "$TMP/c.ini" --min-area 3 --print-config >"$TMP/o1.ini"
grep -q "^min_area = 3$" "$TMP/o1.ini" && grep -q "^connectivity = 4$" "$TMP/o1.ini" \
    && pass "config: options override the file" || fail "config: options override the file"
"$CANOPY" detect --config "$TMP/o1.ini" --print-config >"$TMP/o2.ini"
check "config: --print-config output loads back unchanged" cmp "$TMP/o1.ini" "$TMP/o2.ini"

printf '[detect]\nforest_ndvi = 0.7\nbogus_key = 1\n' >"$TMP/bad.ini"
run_canopy detect a.tif b.tif -o "$TMP/o" --config "$TMP/bad.ini"
[ $RC -eq 2 ] && grep -q "bad.ini:3: unknown key 'bogus_key'" <<<"$ERR_TXT" && [ ! -e "$TMP/o" ] \
    && pass "config: unknown key reported with file:line, exit 2" || fail "config: unknown key ($RC: $ERR_TXT)"

printf '; comment\n[detect]\n\nndvi_drop = 3\n' >"$TMP/range.ini"
run_canopy detect a.tif b.tif -o "$TMP/o" --config "$TMP/range.ini"
[ $RC -eq 2 ] && grep -q "range.ini:4: ndvi_drop: 3 is out of range" <<<"$ERR_TXT" \
    && pass "config: out-of-range value reported with file:line, exit 2" || fail "config: out-of-range ($RC: $ERR_TXT)"

printf '[nonsense]\nx = 1\n' >"$TMP/sec.ini"
run_canopy detect a.tif b.tif -o "$TMP/o" --config "$TMP/sec.ini"
[ $RC -eq 2 ] && grep -q "sec.ini:2: unknown section \[nonsense\]" <<<"$ERR_TXT" \
    && pass "config: unknown section, exit 2" || fail "config: unknown section ($RC: $ERR_TXT)"

printf '[detect\nx = 1\n' >"$TMP/syn.ini"
run_canopy detect a.tif b.tif -o "$TMP/o" --config "$TMP/syn.ini"
[ $RC -eq 2 ] && grep -q "syn.ini:1: syntax error" <<<"$ERR_TXT" \
    && pass "config: syntax error, exit 2" || fail "config: syntax error ($RC: $ERR_TXT)"

run_canopy detect a.tif b.tif -o "$TMP/o" --config "$TMP/missing.ini"
[ $RC -eq 2 ] && grep -q "cannot open config file" <<<"$ERR_TXT" \
    && pass "config: missing config file, exit 2" || fail "config: missing config file ($RC: $ERR_TXT)"

run_canopy detect a.tif b.tif -o "$TMP/o" --red 4 --nir 4
[ $RC -eq 2 ] && grep -q "different bands" <<<"$ERR_TXT" && pass "config: red == nir refused" \
    || fail "config: red == nir ($RC: $ERR_TXT)"

run_canopy detect a.tif b.tif -o "$TMP/o" --mask-invalid 3,x
[ $RC -eq 2 ] && grep -q "mask_invalid" <<<"$ERR_TXT" && pass "config: bad mask list refused" \
    || fail "config: bad mask list ($RC: $ERR_TXT)"

run_canopy detect a.tif b.tif -o "$TMP/o" --date-before 2023-02-30
[ $RC -eq 2 ] && grep -q "not a date" <<<"$ERR_TXT" && pass "config: impossible date refused" \
    || fail "config: impossible date ($RC: $ERR_TXT)"
