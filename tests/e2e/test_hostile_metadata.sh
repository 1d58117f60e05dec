#!/bin/bash
# Hostile or broken inputs as they could land in an incoming folder: metadata
# nested deeper than any real one (8 KB of XML is enough to reach a recursive
# parser's stack), files larger than metadata ever is, STAC items nested
# absurdly deep, absurd INI files, a profile priority no int holds, and a tiny
# VRT claiming 10^12 pixels. Each is refused as one failed input, with one
# line that names the file and the limit ([limits], README "Limits"):
# info and detect exit 1 (2 for configuration), batch lists it as failed and
# runs the rest, monitor records it as failed and processes the others.
source "$(dirname "$0")/lib.sh"
export CANOPY_CONFIG_DIR="$ROOT/configs"

FX="$TMP/fx"
if ! "$PY" "$ROOT/scripts/make-products.py" "$SYNTH" "$FX" >"$TMP/fx.log" 2>&1; then
    fail "hostile: fixtures (scripts/make-products.py: $(tail -3 "$TMP/fx.log"))"
    exit 0
fi
L8="$FX/LC08_L2SP_227065_20240615_20240622_02_T1"
L9="$FX/LC09_L2SP_227065_20240820_20240827_02_T1"
SAFE="$FX/S2B_MSIL2A_20240820T135219_N0510_R110_T21LXH_20240820T153012.SAFE"
L8ID=$(basename "$L8")

# deep_xml N: an XML element nested N levels, inside a root element.
deep_xml() { $PY -c 'import sys; n = int(sys.argv[1])
sys.stdout.write("<?xml version=\"1.0\"?>\n<LANDSAT_METADATA_FILE>" + "<a>" * n + "x" + "</a>" * n + "</LANDSAT_METADATA_FILE>\n")' "$1"; }

H="$TMP/hostile"
mkdir -p "$H"
# A Landsat product whose only MTL is 1200 nested elements (8 KB).
DM="$H/deep_mtl/LC08_L2SP_227065_20240703_20240710_02_T1"
mkdir -p "$DM"
deep_xml 1200 >"$DM/LC08_L2SP_227065_20240703_20240710_02_T1_MTL.xml"
for f in "$L8"/*.TIF; do cp "$f" "$DM/${f##*/}"; done
# A SAFE whose MTD_MSIL2A.xml has 1200 nested elements inside General_Info.
DS="$H/deep_mtd/$(basename "$SAFE")"
mkdir -p "$H/deep_mtd" && cp -r "$SAFE" "$DS"
$PY - "$DS/MTD_MSIL2A.xml" <<'PY'
import sys
p = sys.argv[1]
x = open(p).read()
i = x.index("</n1:General_Info>")
open(p, "w").write(x[:i] + "<a>" * 1200 + "</a>" * 1200 + x[i:])
PY

# run_timed SECS ARGS...: run_canopy with a time limit (exit 124 when over).
run_timed() {
    local secs=$1; shift
    RC=0
    timeout "$secs" "$CANOPY" "$@" >"$TMP/stdout" 2>"$TMP/stderr" || RC=$?
    OUT_TXT=$(cat "$TMP/stdout")
    ERR_TXT=$(cat "$TMP/stderr")
}

# one_line_error NAME CODE PATTERN: the last run_canopy exited CODE with one
# stderr line matching PATTERN.
one_line_error() {
    local name=$1 code=$2 pattern=$3 lines
    lines=$(printf '%s' "$ERR_TXT" | grep -c '')
    if [ "$RC" -ne "$code" ]; then
        fail "hostile: $name (exit $RC, want $code: $(head -c 300 <<<"$ERR_TXT"))"
    elif [ "$lines" -ne 1 ]; then
        fail "hostile: $name ($lines stderr lines: $(head -c 300 <<<"$ERR_TXT"))"
    elif ! grep -qE "$pattern" <<<"$ERR_TXT"; then
        fail "hostile: $name ('$ERR_TXT' does not match '$pattern')"
    else
        pass "hostile: $name"
    fi
}

# ---- absurd settings INI files -------------------------------------------------------
# A comment longer than inih's line buffer: its tail used to be read as a key.
{ printf '[detect]\n; %s' "$(printf 'x%.0s' $(seq 1 197))"; printf 'min_area = 99\n'; } >"$TMP/long.ini"
run_canopy detect --print-config -c "$TMP/long.ini"
one_line_error "settings INI: a comment of 212 characters" 2 "long.ini:2: line longer than 198 characters"
run_timed 20 detect --print-config -c /dev/zero
one_line_error "settings INI: /dev/zero" 2 "config file '/dev/zero' is larger than 1048576 bytes"
printf '[detect]\nmin_area = 1\n\0\nmin_area = 2\n' >"$TMP/nul.ini"
run_canopy detect --print-config -c "$TMP/nul.ini"
one_line_error "settings INI: a NUL byte" 2 "nul.ini:3: a NUL byte"