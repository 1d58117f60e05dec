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
# Found by tests/fuzz/fuzz_settings_ini.c: 't_srs =;x' read as ';x', written
# back as 't_srs = ;x', which reads as a comment: run.json's settings changed.
printf '[grid]\nt_srs =;x\n' >"$TMP/semi.ini"
run_canopy detect --print-config -c "$TMP/semi.ini"
one_line_error "settings INI: a value its INI form cannot carry" 2 \
    "semi.ini:2: t_srs: ';x' cannot be written back to an INI file"
# ---- deep XML: info, detect ---------------------------------------------------
run_canopy info "$DM"
one_line_error "info: MTL.xml nested 1200 deep" 1 \
    "_MTL.xml: refused: XML elements nested deeper than 32 levels.*\[limits\] metadata_depth"
run_canopy info "$DS"
one_line_error "info: MTD_MSIL2A.xml nested 1200 deep" 1 \
    "MTD_MSIL2A.xml: refused: XML elements nested deeper than 32 levels.*metadata_depth"
run_canopy detect "$DM" "$L9" -o "$TMP/d1" -q --no-evidence
one_line_error "detect: BEFORE's MTL.xml nested 1200 deep" 1 "^canopy: BEFORE product .*metadata_depth"
[ ! -e "$TMP/d1" ] && pass "hostile: detect: nothing written for a refused input" ||
    fail "hostile: detect left $TMP/d1"
run_canopy detect "$L8" "$DS" -o "$TMP/d2" -q --no-evidence
one_line_error "detect: AFTER's MTD_MSIL2A.xml nested 1200 deep" 1 "^canopy: AFTER product .*metadata_depth"
# Raising the limit is the user's choice; the depth then stops being the reason.
printf '[limits]\nmetadata_depth = 256\n' >"$TMP/deep.ini"
run_canopy info -c "$TMP/deep.ini" "$DM"
[ "$RC" -eq 1 ] && grep -q "deeper than 256 levels" <<<"$ERR_TXT" &&
    pass "hostile: [limits] metadata_depth raises the depth limit" ||
    fail "hostile: metadata_depth = 256 ($RC: $ERR_TXT)"

# ---- oversize metadata ----------------------------------------------------------
# A valid MTL with 9 MiB of blank lines before its END: larger than any real one.
BIG="$H/big/$L8ID"
mkdir -p "$H/big" && cp -r "$L8" "$BIG" && rm -f "$BIG"/*_MTL.xml "$BIG"/*_MTL.json
$PY - "$BIG/${L8ID}_MTL.txt" <<'PY'
import sys
p = sys.argv[1]
t = open(p).read()
i = t.rindex("END")
open(p, "w").write(t[:i] + "\n" * (9 << 20) + t[i:])
PY
run_canopy info "$BIG"
one_line_error "info: a 9 MiB _MTL.txt" 1 \
    "_MTL.txt: refused: larger than 8388608 bytes.*\[limits\] metadata_bytes"
printf '[limits]\nmetadata_bytes = 16777216\n' >"$TMP/big.ini"
run_canopy info -c "$TMP/big.ini" "$BIG"
[ "$RC" -eq 0 ] && grep -q "landsat_c2l2" <<<"$OUT_TXT" &&
    pass "hostile: [limits] metadata_bytes = 16 MiB reads it" ||
    fail "hostile: metadata_bytes = 16 MiB ($RC: $ERR_TXT)"
# Too many items: 200 000 KEY = VALUE lines (2.4 MB).
MANY="$H/many/$L8ID"
mkdir -p "$H/many" && cp -r "$L8" "$MANY" && rm -f "$MANY"/*_MTL.xml "$MANY"/*_MTL.json
$PY - "$MANY/${L8ID}_MTL.txt" <<'PY'
import sys
p = sys.argv[1]
t = open(p).read()
i = t.rindex("END")
open(p, "w").write(t[:i] + "".join("K%d = 1\n" % k for k in range(200000)) + t[i:])
PY
run_canopy info "$MANY"
one_line_error "info: an MTL of 200 000 items" 1 "refused: more than 100000 items.*metadata_items"

# ---- STAC item nested 100 000 deep ------------------------------------------------
mkdir -p "$H/stac"
$PY -c 'n = 100000
print("{\"type\": \"Feature\", \"stac_version\": \"1.0.0\", \"assets\": {}, \"x\": " + "[" * n + "1" + "]" * n + "}")' \
    >"$H/stac/S2A_21LXH_20240901_0_L2A.json"
run_canopy info "$H/stac/S2A_21LXH_20240901_0_L2A.json"
one_line_error "info: a STAC item nested 100 000 deep" 1 \
    "S2A_21LXH_20240901_0_L2A.json: refused: JSON nested deeper than 32 levels.*metadata_depth"

# ---- batch: the hostile inputs fail, the good pair runs, a summary is written ----
A="$TMP/archive"
mkdir -p "$A/good" "$A/bad"
cp -r "$L8" "$L9" "$A/good/"
cp -r "$DM" "$DS" "$A/bad/"
cp -r "$H/stac" "$A/bad/stac"
run_canopy batch "$A" -o "$TMP/bout" --no-evidence --threads 2 -q
if [ ! -f "$TMP/bout/summary.csv" ]; then
    fail "hostile: batch wrote no summary (exit $RC: $(tail -c 300 <<<"$ERR_TXT"))"
else
    $PY - "$TMP/bout/summary.csv" <<'PY' && pass "hostile: batch: the 3 hostile inputs failed with the limit, the good pair ran" ||
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
ok = [r for r in rows if r["pair"] and r["status"] == "ok"]
bad = [r for r in rows if not r["pair"] and r["status"] == "failed"]
assert len(ok) == 1, rows
reasons = " ".join(str(r) for r in bad)
assert len(bad) == 3 and reasons.count("metadata_depth") == 3, bad
PY
        fail "hostile: batch summary: $(cat "$TMP/bout/summary.csv")"
fi

# ---- monitor: the hostile scenes are recorded as failed, the others processed ----
run_canopy monitor --state "$TMP/mstate" -q "$L8" "$L9" "$DM" "$DS"
$PY - "$OUT_TXT" <<'PY' && pass "hostile: monitor: 2 scenes processed, the 2 hostile ones failed with the limit" ||
import json, sys
d = json.loads(sys.argv[1])
assert d["exit_status"] == 4 and d["scenes_processed"] == 2 and d["scenes_failed"] == 2, d
assert all("metadata_depth" in json.dumps(f) for f in d["failures"]), d["failures"]
PY
    fail "hostile: monitor (exit $RC): $(head -c 600 <<<"$OUT_TXT$ERR_TXT")"

# ---- absurd product profiles -----------------------------------------------------------
P="$TMP/profiles"
cp -r "$ROOT/configs" "$P"
$PY -c 'import sys; sys.stdout.write("[product]\n" + "".join("k%d = 1\n" % i for i in range(5000)))' >"$P/zz_many.ini"
run_canopy info --profiles "$P" "$L8"
one_line_error "profile INI: 5000 keys" 2 "zz_many.ini:4098: more than 4096 keys"
rm -f "$P/zz_many.ini"
# Mask flags found by tests/fuzz/fuzz_profile_ini.c: a value no int holds,
# and a fill bit past 15 (1u << 40 was undefined; x86 took it as bit 8).
sed -i 's/^cloud = 3$/cloud = 8888888888/' "$P/landsat_c2l2.ini"
run_canopy info --profiles "$P" "$L8"
one_line_error "profile: a mask flag of 8888888888" 2 \
    "landsat_c2l2.ini:[0-9]+: \[mask\] flag 'cloud': '8888888888' is not a list of integers 0-255"
sed -i 's/^cloud = 8888888888$/cloud = 3/; s/^fill = 0$/fill = 40/
        s/^invalid = fill, /invalid = /' "$P/landsat_c2l2.ini"
run_canopy info --profiles "$P" "$L8"
one_line_error "profile: fill_flag bit 40" 2 \
    "landsat_c2l2.ini:[0-9]+: \[mask\] flag 'fill' = 40 is out of range \(bits 0-15\)"

# ---- a profile priority no int holds ----------------------------------------------
P="$TMP/profiles-priority"
cp -r "$ROOT/configs" "$P"
sed -i 's/^priority = 10$/priority = 1e300/' "$P/landsat_c2l2.ini"
run_canopy info --profiles "$P" "$L8"
one_line_error "profile priority 1e300" 2 "landsat_c2l2.ini:[0-9]+: priority: '1e300' is not an integer"

# ---- a tiny VRT claiming 10^6 x 10^6 pixels -----------------------------------------
cat >"$TMP/huge.vrt" <<'EOF'
<VRTDataset rasterXSize="1000000" rasterYSize="1000000">
  <SRS>EPSG:32721</SRS>
  <GeoTransform>500000, 10, 0, 8800000, 0, -10</GeoTransform>
  <VRTRasterBand dataType="UInt16" band="1"/>
  <VRTRasterBand dataType="UInt16" band="2"/>
  <VRTRasterBand dataType="UInt16" band="3"/>
  <VRTRasterBand dataType="UInt16" band="4"/>
</VRTDataset>
EOF
run_timed 60 info "$TMP/huge.vrt"
one_line_error "info: a VRT of 10^12 pixels" 1 \
    "huge.vrt': 1000000 x 1000000 pixels: more than 2000000000.*\[limits\] scene_pixels"
run_timed 60 detect "$TMP/huge.vrt" "$TMP/huge.vrt" -o "$TMP/d3" -q --no-evidence --outputs gpkg
one_line_error "detect --no-evidence: a VRT of 10^12 pixels" 1 "BEFORE scene .*scene_pixels"
run_canopy info --max-scene-pixels 1000 "$L8"
one_line_error "info --max-scene-pixels 1000 refuses a 240 x 240 scene" 1 \
    "240 x 240 pixels: more than 1000,.*--max-scene-pixels"
