#!/bin/bash
# Every GeoPackage Canopy writes passes GDAL's own validator (validate_gpkg.py):
# detect's alerts.gpkg, batch's per-pair and merged per-footprint alerts.gpkg,
# and monitor's database. Dates are typed Date alike in all three (monitor's
# always were), so a GIS filters them as dates, not as text.
source "$(dirname "$0")/lib.sh"
export CANOPY_CONFIG_DIR="$ROOT/configs"

# The validator ships with GDAL's sources and Debian's python3-gdal examples;
# nothing is fetched from the network.
VALIDATOR=$(find "$ROOT/../shared" -name validate_gpkg.py -print -quit 2>/dev/null)
[ -n "$VALIDATOR" ] || VALIDATOR=$(find /usr/share -name validate_gpkg.py -print -quit 2>/dev/null)
if [ -z "$VALIDATOR" ]; then
    skip "gpkg: validate_gpkg.py not found in ../shared or /usr/share (python3-gdal's examples)"
    exit 0
fi

# valid LABEL FILE: validate_gpkg.py accepts FILE.
valid() {
    local out
    if [ ! -s "$2" ]; then
        fail "gpkg: $1: $2 was not written"
    elif out=$("$PY" "$VALIDATOR" "$2" 2>&1); then
        pass "gpkg: $1 passes validate_gpkg.py"
    else
        fail "gpkg: $1 fails validate_gpkg.py: $(printf '%s' "$out" | tail -1)"
    fi
}

# types FILE LAYER FIELD=TYPE...: OGR field types (Date, DateTime, String ...).
cat >"$TMP/types.py" <<'PY'
import sys
from osgeo import ogr
ogr.UseExceptions()
ds = ogr.Open(sys.argv[1])
lyr = ds.GetLayerByName(sys.argv[2])
assert lyr is not None, "no layer " + sys.argv[2]
defn = lyr.GetLayerDefn()
for want in sys.argv[3:]:
    name, t = want.split("=")
    i = defn.GetFieldIndex(name)
    assert i >= 0, "no field " + name
    got = defn.GetFieldDefn(i).GetFieldTypeName(defn.GetFieldDefn(i).GetType())
    assert got == t, "%s.%s is %s, not %s" % (sys.argv[2], name, got, t)
# A value reads back as the date it was, not as text or null.
f = lyr.GetNextFeature()
if f is not None:
    for want in sys.argv[3:]:
        name, t = want.split("=")
        if t == "Date" and f.IsFieldSetAndNotNull(name):
            y, m, d = f.GetFieldAsDateTime(name)[:3]
            assert 1980 < y < 2100 and 1 <= m <= 12 and 1 <= d <= 31, (name, y, m, d)
PY
types() { "$PY" "$TMP/types.py" "$@"; }

# ---- detect ----------------------------------------------------------------
S="$ROOT/samples/pair"
run_canopy detect "$S/before.tif" "$S/after.tif" --before-mask "$S/before_mask.tif" \
    --after-mask "$S/after_mask.tif" -o "$TMP/detect" -q --no-evidence
[ "$RC" -eq 0 ] || fail "gpkg: detect on the sample (exit $RC: $ERR_TXT)"
valid "detect's alerts.gpkg" "$TMP/detect/alerts.gpkg"
check "gpkg: detect's date_before/date_after are Date" \
    types "$TMP/detect/alerts.gpkg" alerts date_before=Date date_after=Date
check "gpkg: gpkg_contents.last_change has fractional seconds (Requirement 15)" "$PY" -c "
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute('SELECT table_name, last_change FROM gpkg_contents').fetchall()
assert rows and all(r[1] == '2024-08-20T00:00:00.000Z' for r in rows), rows" "$TMP/detect/alerts.gpkg"

# ---- batch and monitor on one generated series -------------------------------
SER="$TMP/series"
if ! "$PY" "$ROOT/scripts/make-series.py" --synth "$SYNTH" -o "$SER" --format tif \
        >"$TMP/gen.log" 2>&1; then
    fail "gpkg: series generator ($(tail -2 "$TMP/gen.log"))"
    exit 0
fi
run_canopy batch "$SER" -o "$TMP/batch" -q
[ "$RC" -eq 0 ] || fail "gpkg: batch on the series (exit $RC: $ERR_TXT)"
merged=$(find "$TMP/batch" -mindepth 2 -maxdepth 2 -name alerts.gpkg | head -1)
pair=$(find "$TMP/batch" -mindepth 3 -maxdepth 3 -name alerts.gpkg | sort | head -1)
valid "batch's merged alerts.gpkg" "$merged"
valid "batch's per-pair alerts.gpkg" "$pair"
check "gpkg: batch's merged alerts carry Date fields" \
    types "$merged" alerts date_before=Date date_after=Date
check "gpkg: batch's pairs table carries Date fields" \
    types "$merged" pairs before_date=Date after_date=Date

run_canopy monitor --state "$TMP/mon" -q "$SER"
[ "$RC" -eq 0 ] || fail "gpkg: monitor on the series (exit $RC: $ERR_TXT)"
valid "monitor's database" "$TMP/mon/alerts.gpkg"
check "gpkg: monitor's dates are Date" \
    types "$TMP/mon/alerts.gpkg" alerts first_detected=Date last_observed=Date
check "gpkg: monitor's timestamps are DateTime" \
    types "$TMP/mon/alerts.gpkg" runs started=DateTime finished=DateTime
exit 0
